//! The release's descriptive files: `datapackage.json` (Frictionless Data
//! Package: one resource per CSV, with its Table Schema, SHA-256 and size)
//! and `manifest.json` (the tool, the pipeline and its settings, every input
//! file and every output file with its SHA-256 and rows, rows per stage).
//!
//! The run's record (`OUT/run.json`) is read loosely, field by field, so that
//! a release can be built from the run folder of an older `ij`. Nothing here
//! writes a time or a machine-dependent path: inputs are named by their file
//! name and SHA-256, as the run recorded them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::output::digest::sha256_file;
use crate::output::record::{FileHash, Stage, RUN_RECORD};
use crate::output::table::Written;
use crate::release::schema::{TableDoc, TableSchema};

/// The licence of every release.
pub const LICENCE_NAME: &str = "etalab-2.0";
pub const LICENCE_TITLE: &str = "Licence Ouverte / Open Licence version 2.0";
pub const LICENCE_PATH: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

/// The sources of the data, for `datapackage.json` and the README.
pub const SOURCES: &[(&str, &str)] = &[
    (
        "InserJeunes (DEPP, ministère de l'Éducation nationale, et DARES, ministère du Travail)",
        "https://www.education.gouv.fr/inserjeunes",
    ),
    (
        "InserSup (SIES, ministère de l'Enseignement supérieur et de la Recherche)",
        "https://data.enseignementsup-recherche.gouv.fr/",
    ),
    (
        "BCN, Banque centrale des nominations (ministère de l'Éducation nationale)",
        "https://infocentre.pleiade.education.fr/bcn/",
    ),
];

/// A table of the release.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its name in the release (`regionales`, `coverage_offers_affelnet2nde`).
    pub name: String,
    pub title: String,
    pub doc: TableDoc,
    /// The Parquet it was read from.
    pub source: PathBuf,
    /// The coverage catalogue it describes, for coverage tables.
    pub catalogue: Option<String>,
    pub rows: usize,
    /// Text cells written with a leading `'` in the CSV (`rules::spreadsheet`).
    pub formula_cells: usize,
    pub schema: TableSchema,
    /// The CSV and Parquet files' SHA-256 and sizes, taken as they were written.
    pub written: Written,
    /// Its rows were checked against its schema on their typed values, and
    /// found clear (`validate::TypedRows`): its CSV, which this process
    /// wrote from those rows, need not be read back to be checked.
    pub checked_typed: bool,
}

impl Published {
    pub fn csv(&self) -> String {
        format!("{}.csv", self.name)
    }
    pub fn parquet(&self) -> String {
        format!("{}.parquet", self.name)
    }
    pub fn schema_file(&self) -> String {
        format!("{}.schema.json", self.name)
    }
}

/// A coverage file copied as it is (`coverage_summary_<name>.json`…).
#[derive(Debug, Clone)]
pub struct Extra {
    pub file: String,
    pub source: PathBuf,
    pub catalogue: String,
}

/// A name usable in a file name and a Data Package resource name:
/// lowercase ASCII letters, digits, `_` and `-`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What `datapackage.json`, the README and the manifest are built from.
pub struct Context<'a> {
    pub version: &'a str,
    pub date: Option<&'a str>,
    pub csv_separator: u8,
    pub run: Option<&'a RunRecordView>,
    pub tables: &'a [Published],
    pub extras: &'a [Extra],
}

impl Context<'_> {
    /// The Data Package's name: lowercase, `-` separated.
    pub fn package_name(&self) -> String {
        let pipeline = self
            .run
            .map(|r| slug(&r.pipeline).replace('_', "-"))
            .filter(|p| !p.is_empty());
        match pipeline {
            Some(p) => format!("inserjeunes-insersup-{p}"),
            None => "inserjeunes-insersup".into(),
        }
    }
}

pub const PACKAGE_TITLE: &str =
    "Insertion professionnelle et poursuite d'études des sortants de formation (InserJeunes, InserSup)";
pub const PACKAGE_DESCRIPTION: &str = "Taux d'emploi salarié à 6, 12, 18 et 24 mois et taux de poursuite d'études des sortants de la voie professionnelle (lycées professionnels, apprentissage, enseignement agricole) et de l'enseignement supérieur, par certification, par région et par établissement, avec le référentiel des formations de la BCN et le continuum des formations rénovées.";

// ---- The run record, read loosely --------------------------------------------------

/// What the release uses of `OUT/run.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunRecordView {
    #[serde(default)]
    pub pipeline: String,
    #[serde(default)]
    pub pipeline_file: Option<String>,
    #[serde(default)]
    pub tool_version: Option<String>,
    #[serde(default)]
    pub settings: Value,
    #[serde(default)]
    pub stages: Vec<StageView>,
    /// The pipeline file's hash, as the run read it.
    #[serde(default)]
    pub pipeline_hash: Option<FileHash>,
    /// Input files (path as in `stages`) → hash, as the run read them.
    #[serde(default)]
    pub input_files: BTreeMap<String, FileHash>,
    /// Stage → its files' SHA-256 (`output::record`).
    #[serde(default)]
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StageView {
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub inputs: Vec<InputView>,
    #[serde(default)]
    pub rows_read: usize,
    #[serde(default)]
    pub rows_written: usize,
    #[serde(default)]
    pub rows_rejected: usize,
    #[serde(default)]
    pub rows_merged: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputView {
    #[serde(default)]
    pub table: String,
    pub path: String,
    #[serde(default)]
    pub rows: Option<usize>,
}

impl RunRecordView {
    /// Reads `<run_dir>/run.json`; `None` when there is none.
    pub fn load(run_dir: &Path) -> Result<Option<RunRecordView>> {
        let path = run_dir.join(RUN_RECORD);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut run: RunRecordView = serde_json::from_str(&text)
            .map_err(|e| Error::file(&path, format!("not a run record: {e}")))?;
        // A previous release stage of the same run is not an input of this one.
        run.stages
            .retain(|s| Stage::parse(&s.stage) != Some(Stage::Release));
        Ok(Some(run))
    }

    /// A setting as text (`seuil`, `continuum_policy`…), if the run recorded it.
    pub fn setting(&self, name: &str) -> Option<String> {
        match self.settings.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// Every input file, once, in the order the stages read them, with the
    /// stages that read it.
    pub fn inputs(&self) -> Vec<(InputView, Vec<String>)> {
        let mut out: Vec<(InputView, Vec<String>)> = Vec::new();
        for stage in &self.stages {
            for input in &stage.inputs {
                match out.iter_mut().find(|(i, _)| i.path == input.path) {
                    Some((_, stages)) => {
                        if !stages.contains(&stage.stage) {
                            stages.push(stage.stage.clone());
                        }
                    }
                    None => out.push((input.clone(), vec![stage.stage.clone()])),
                }
            }
        }
        out
    }
}

// ---- datapackage.json --------------------------------------------------------------

/// `datapackage.json`: a Tabular Data Package with one resource per CSV.
/// The Parquet twins and coverage files are listed in the manifest and the
/// README, not here: Validata and frictionless validate CSV resources.
pub fn datapackage(ctx: &Context) -> Result<Value> {
    let mut resources = Vec::with_capacity(ctx.tables.len());
    for t in ctx.tables {
        let mut r = json!({
            "name": t.name,
            "title": t.title,
            "description": t.doc.description,
            "profile": "tabular-data-resource",
            "path": t.csv(),
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": t.schema_file(),
            "hash": format!("sha256:{}", t.written.csv.sha256),
            "bytes": t.written.csv.bytes,
        });
        if ctx.csv_separator != b',' {
            r["dialect"] = json!({ "delimiter": (ctx.csv_separator as char).to_string() });
        }
        resources.push(r);
    }
    let mut package = json!({
        "profile": "tabular-data-package",
        "name": ctx.package_name(),
        "title": PACKAGE_TITLE,
        "description": PACKAGE_DESCRIPTION,
        "version": ctx.version,
    });
    if let Some(date) = ctx.date {
        package["created"] = json!(format!("{date}T00:00:00Z"));
    }
    package["keywords"] = json!([
        "inserjeunes",
        "insersup",
        "insertion professionnelle",
        "poursuite d'études",
        "voie professionnelle",
        "apprentissage",
        "enseignement supérieur",
    ]);
    package["licenses"] = json!([{
        "name": LICENCE_NAME,
        "title": LICENCE_TITLE,
        "path": LICENCE_PATH,
    }]);
    package["sources"] = Value::Array(
        SOURCES
            .iter()
            .map(|(title, path)| json!({ "title": title, "path": path }))
            .collect(),
    );
    package["resources"] = Value::Array(resources);
    Ok(package)
}

// ---- manifest.json -------------------------------------------------------------------

/// A file of the release, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// Rows of a table (CSV and Parquet); absent for other files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
}

/// `manifest.json`.
pub fn manifest(ctx: &Context, outputs: &[OutputEntry]) -> Result<Value> {
    let mut m = json!({
        "name": ctx.package_name(),
        "version": ctx.version,
    });
    if let Some(date) = ctx.date {
        m["date"] = json!(date);
    }
    m["tool"] = json!({ "name": "ij", "version": env!("CARGO_PKG_VERSION") });
    m["release_settings"] = json!({
        "csv_separator": (ctx.csv_separator as char).to_string(),
        "row_order": "primary key of each table (see its schema)",
    });
    match ctx.run {
        Some(run) => {
            m["pipeline"] = pipeline_entry(run)?;
            m["inputs"] = Value::Array(
                run.inputs()
                    .into_iter()
                    .map(|(input, stages)| input_entry(run, &input, &stages))
                    .collect::<Result<_>>()?,
            );
            m["stages"] = stages_entry(ctx, run);
        }
        None => {
            m["pipeline"] = Value::Null;
            m["inputs"] = json!([]);
            m["stages"] = json!([release_stage(ctx)]);
        }
    }
    m["tables"] = tables_entry(ctx);
    m["outputs"] = serde_json::to_value(outputs).map_err(|e| Error::Output {
        path: "manifest.json".into(),
        message: e.to_string(),
    })?;
    Ok(m)
}

/// The pipeline the release was made by: its name, its file and that
/// file's hash (taken at run time, or now if the run record has none), the
/// version of ij that ran it and its settings, so that the run can be
/// repeated.
fn pipeline_entry(run: &RunRecordView) -> Result<Value> {
    let mut pipeline = json!({ "name": run.pipeline });
    if let Some(file) = &run.pipeline_file {
        pipeline["file"] = json!(file_name(file));
        pipeline["sha256"] = json!(match &run.pipeline_hash {
            Some(h) => h.sha256.clone(),
            None => sha256_file(existing(Path::new(file))?)?,
        });
    }
    if let Some(v) = &run.tool_version {
        pipeline["tool_version"] = json!(v);
    }
    pipeline["settings"] = run.settings.clone();
    Ok(pipeline)
}

/// Each stage's row counts from the run record, then the release's own.
fn stages_entry(ctx: &Context, run: &RunRecordView) -> Value {
    let mut stages: Vec<Value> = run
        .stages
        .iter()
        .map(|s| {
            json!({
                "stage": s.stage,
                "rows_read": s.rows_read,
                "rows_written": s.rows_written,
                "rows_rejected": s.rows_rejected,
                "rows_merged": s.rows_merged,
            })
        })
        .collect();
    stages.push(release_stage(ctx));
    Value::Array(stages)
}

/// Each table of the release: its rows, its files, its schema and primary
/// key, and the catalogue it measures where it is a coverage table.
fn tables_entry(ctx: &Context) -> Value {
    Value::Array(
        ctx.tables
            .iter()
            .map(|t| {
                let mut v = json!({
                    "name": t.name,
                    "rows": t.rows,
                    "csv": t.csv(),
                    "parquet": t.parquet(),
                    "schema": t.schema_file(),
                    "primary_key": t.doc.primary_key,
                });
                if let Some(c) = &t.catalogue {
                    v["catalogue"] = json!(c);
                }
                v
            })
            .collect(),
    )
}

fn release_stage(ctx: &Context) -> Value {
    let rows: usize = ctx.tables.iter().map(|t| t.rows).sum();
    json!({
        "stage": "release",
        "rows_read": rows,
        "rows_written": rows,
        "rows_rejected": 0,
        "rows_merged": 0,
    })
}

/// An input file of the run, by its file name and SHA-256 (a local path
/// would make the release depend on where the run was started). The hash is
/// the one the run recorded; a run of an older `ij` is hashed now.
fn input_entry(run: &RunRecordView, input: &InputView, stages: &[String]) -> Result<Value> {
    let hash = input_hash(run, input)?;
    let mut v = json!({
        "file": file_name(&input.path),
        "table": input.table,
        "stages": stages,
        "sha256": hash.sha256,
        "bytes": hash.bytes,
    });
    if let Some(rows) = input.rows {
        v["rows"] = json!(rows);
    }
    Ok(v)
}

/// An input's hash: as the run recorded it, else (an older run) hashed now.
pub fn input_hash(run: &RunRecordView, input: &InputView) -> Result<FileHash> {
    match run.input_files.get(&input.path) {
        Some(h) => Ok(h.clone()),
        None => FileHash::of(existing(Path::new(&input.path))?),
    }
}

/// The last component of a recorded path (`../shared/data/real/bcn/nMef.csv` → `nMef.csv`).
pub fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// A file the run recorded, which must still be there to be hashed.
fn existing(path: &Path) -> Result<&Path> {
    if path.is_file() {
        return Ok(path);
    }
    Err(Error::file(
        path,
        "a file of the run is not found, so the manifest cannot give its SHA-256: build the release from the folder `ij run` was started in, with the run's pipeline file and inputs in place",
    ))
}

/// The coverage summaries of the release, by catalogue (parsed loosely).
pub fn coverage_summaries(ctx: &Context) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for e in ctx.extras {
        if !e.file.ends_with(".json") {
            continue;
        }
        let text = std::fs::read_to_string(&e.source).map_err(|source| Error::Read {
            path: e.source.clone(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|err| Error::file(&e.source, format!("not JSON: {err}")))?;
        out.insert(e.catalogue.clone(), value);
    }
    Ok(out)
}
