//! Pipeline files and the runner behind `ij run`.
//!
//! A pipeline file (TOML) names its inputs, its settings and the stages to
//! run, in order; each stage writes under `<out>/<stage>/` and later stages
//! read what earlier ones wrote there. Paths are relative to `root`, itself
//! relative to the pipeline file (`root = ".."` for files in `pipelines/`).
//!
//! ```toml
//! name = "sample"
//! root = ".."
//! out = "dist/sample"
//! stages = ["bcn", "continuum"]
//!
//! [inputs]
//! bcn = "fixtures/bcn"
//! ```
//!
//! Before any stage runs, `validate` checks every input (exists, not empty,
//! not an output folder) and that names are unique (issue 9).

mod file;
mod validate;

pub use file::{CatalogueEntry, Inputs, Paths, PipelineFile, Settings};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::output::record::Stage;
use crate::output::record::{FileHash, RUN_RECORD};
use crate::output::CsvOptions;
use crate::release::build::ReleaseOptions;
use crate::stages::coverage::CatalogueInput;
use crate::stages::indicators::{IndicatorsOptions, SourceFiles};
use crate::stages::{self, StageContext, StageReport};

/// `OUT/run.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub pipeline: String,
    pub pipeline_file: PathBuf,
    /// The pipeline file's SHA-256 and size, as the run read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_hash: Option<FileHash>,
    pub tool_version: String,
    pub settings: RunSettings,
    pub stages: Vec<StageReport>,
    /// Every input file the stages read (path as in `stages`), hashed when read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_files: BTreeMap<String, FileHash>,
    /// Stage → every file of its folder (relative path → SHA-256): what
    /// `ij release` checks the stage folders against.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

/// The hashes a run gathers as its stages end, for `run.json`.
#[derive(Debug, Default)]
pub struct RunHashes {
    pub inputs: BTreeMap<String, FileHash>,
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunSettings {
    pub csv_separator: String,
    pub seuil: i64,
    pub continuum_policy: String,
    pub date_reference: Option<String>,
}

/// A pipeline file, read and checked, with its paths resolved.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub path: PathBuf,
    pub name: String,
    pub out: PathBuf,
    pub stages: Vec<Stage>,
    pub bcn: Option<PathBuf>,
    pub sources: SourceFiles,
    pub catalogues: Vec<CatalogueInput>,
    /// The establishment directory files, in the order given.
    pub annuaire: Vec<PathBuf>,
    /// Every input as the pipeline file declared it (key, path), for `validate`.
    pub declared: Vec<(String, PathBuf)>,
    /// Source paths given as folders (each stands for its .csv and .json files).
    pub input_folders: Vec<PathBuf>,
    /// `[inputs.encodings]`, resolved: decoded as told (`input::encoding::declare`).
    pub encodings: Vec<(PathBuf, crate::input::encoding::Encoding)>,
    pub indicators: IndicatorsOptions,
    pub release: ReleaseOptions,
    pub csv: CsvOptions,
}

impl Pipeline {
    pub fn load(path: &Path) -> Result<Pipeline> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: PipelineFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].matches('\n').count() + 1)
                .unwrap_or(0);
            Error::usage(format!("{}:{line}: {}", path.display(), e.message().trim()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let root = base.join(&file.root);
        let resolve = |p: &PathBuf| normalize(&root.join(p));
        let csv = match file.settings.csv_separator.as_deref() {
            None => CsvOptions::default(),
            Some(value) => CsvOptions {
                separator: CsvOptions::parse_separator(value).map_err(|m| {
                    Error::usage(format!("{}: settings.csv_separator is {m}", path.display()))
                })?,
            },
        };
        let declared = file.inputs.declared(&resolve);
        let mut annuaire = Vec::new();
        for p in file.inputs.annuaire.list() {
            annuaire.extend(expand(&resolve(&p))?);
        }
        let (sources, input_folders) = file.inputs.sources(&resolve)?;
        let usage = |m: String| Error::usage(format!("{}: {m}", path.display()));
        let indicators = file.settings.indicators(annuaire.clone(), usage)?;
        let mut catalogues = Vec::new();
        for c in &file.inputs.catalogues {
            catalogues.push(c.input(resolve(&c.path), usage)?);
        }
        let mut encodings = Vec::new();
        for (p, name) in &file.inputs.encodings {
            let encoding = crate::input::encoding::Encoding::parse(name)
                .map_err(|m| usage(format!("inputs.encodings {}: {m}", p.display())))?;
            encodings.push((resolve(p), encoding));
        }
        if indicators.seuil < 0 {
            return Err(usage("settings.seuil must be 0 or more".into()));
        }
        let pipeline = Pipeline {
            path: path.to_path_buf(),
            name: file.name,
            out: resolve(&file.out),
            stages: file.stages,
            bcn: file.inputs.bcn.as_ref().map(resolve),
            sources,
            catalogues,
            annuaire,
            declared,
            input_folders,
            encodings,
            indicators,
            release: ReleaseOptions {
                version: file.settings.release_version.clone(),
                date: file.settings.release_date.clone(),
                csv_separator: csv.separator,
                previous: None,
            },
            csv,
        };
        pipeline.check()?;
        Ok(pipeline)
    }

    fn check(&self) -> Result<()> {
        let path = self.path.display();
        if self.stages.is_empty() {
            return Err(Error::usage(format!("{path}: `stages` lists no stage")));
        }
        if self.stages.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::usage(format!(
                "{path}: stages must be listed once each, in pipeline order: bcn, continuum, indicators, coverage, release"
            )));
        }
        if self.stages.contains(&Stage::Release) {
            for needed in [Stage::Bcn, Stage::Continuum, Stage::Indicators] {
                if !self.stages.contains(&needed) {
                    return Err(Error::usage(format!(
                        "{path}: the release publishes the tables of {}: list it before",
                        needed.name()
                    )));
                }
            }
        }
        if self.stages.contains(&Stage::Coverage) {
            if !self.stages.contains(&Stage::Indicators) {
                return Err(Error::usage(format!(
                    "{path}: the coverage stage reads the outputs of indicators: list it before"
                )));
            }
            if self.catalogues.is_empty() {
                return Err(Error::usage(format!(
                    "{path}: the coverage stage needs [[inputs.catalogues]] entries (name, path, optional format)"
                )));
            }
        }
        if self.stages.contains(&Stage::Indicators) {
            for needed in [Stage::Bcn, Stage::Continuum] {
                if !self.stages.contains(&needed) {
                    return Err(Error::usage(format!(
                        "{path}: the indicators stage reads the outputs of {}: list it before",
                        needed.name()
                    )));
                }
            }
            if self.sources.files.is_empty() {
                return Err(Error::usage(format!(
                    "{path}: the indicators stage needs statistical files: inputs.inserjeunes_regional, inserjeunes_national, inserjeunes_formations, inserjeunes_etablissements or insersup"
                )));
            }
        }
        if self.bcn.is_none() {
            return Err(Error::usage(format!(
                "{path}: stages {} need `inputs.bcn`, the folder of BCN tables",
                self.stages
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }

    /// The folder a stage writes into.
    pub fn stage_dir(&self, stage: Stage) -> PathBuf {
        self.out.join(stage.name())
    }

    /// Writes `OUT/run.json`: the pipeline file, its settings, what each
    /// stage read and wrote, and the SHA-256 of every input and of every file
    /// of each stage folder. The release stage builds its manifest from it
    /// and checks the stage folders against it.
    pub fn write_run_record(&self, reports: &[StageReport], hashes: &mut RunHashes) -> Result<()> {
        let relative = |p: &Path| p.strip_prefix(&self.out).map(Path::to_path_buf).ok();
        if let Some(last) = reports.last() {
            // The release is checked by its own manifest, not here.
            if last.stage != Stage::Release.name() {
                let dir = self.out.join(&last.stage);
                hashes.outputs.insert(
                    last.stage.clone(),
                    crate::output::record::folder_hashes(&dir)?,
                );
            }
            // The stage's own inputs (not an earlier stage's outputs), each
            // hashed once per run, in parallel.
            let new: Vec<(String, &Path)> = last
                .inputs
                .iter()
                .map(|i| (i.path.to_string_lossy().into_owned(), i.path.as_path()))
                .filter(|(key, path)| relative(path).is_none() && !hashes.inputs.contains_key(key))
                .collect();
            let hashed: Vec<(String, FileHash)> = {
                use rayon::prelude::*;
                new.into_par_iter()
                    .map(|(key, path)| Ok((key, FileHash::of(path)?)))
                    .collect::<Result<_>>()?
            };
            hashes.inputs.extend(hashed);
        }
        let record = RunRecord {
            pipeline: self.name.clone(),
            pipeline_file: self.path.clone(),
            pipeline_hash: Some(FileHash::of(&self.path)?),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            settings: RunSettings {
                csv_separator: (self.csv.separator as char).to_string(),
                seuil: self.indicators.seuil,
                continuum_policy: self.indicators.policy.as_str().to_string(),
                date_reference: self.indicators.date_reference.map(|d| d.to_string()),
            },
            // Outputs relative to `out`, so the record does not depend on where the run wrote.
            stages: reports
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    for o in &mut r.outputs {
                        if let Some(rel) = relative(&o.path) {
                            o.path = rel;
                        }
                    }
                    // A later stage's inputs may be an earlier stage's outputs.
                    for i in &mut r.inputs {
                        if let Some(rel) = relative(&i.path) {
                            i.path = rel;
                        }
                    }
                    r
                })
                .collect(),
            input_files: hashes.inputs.clone(),
            outputs: hashes.outputs.clone(),
        };
        let mut text = serde_json::to_string_pretty(&record).map_err(|e| Error::Output {
            path: self.out.join(RUN_RECORD),
            message: e.to_string(),
        })?;
        text.push('\n');
        crate::output::staged::write_file_atomic(&self.out.join(RUN_RECORD), text.as_bytes())
    }

    /// What can be checked before the first stage rewrites anything: the
    /// release's settings, the catalogues' paths, and that `out` and the
    /// inputs do not overlap (a run must not read its own outputs).
    pub fn preflight(&self) -> Result<()> {
        let path = self.path.display();
        if self.stages.contains(&Stage::Release) {
            crate::release::build::check_options(&self.release)
                .map_err(|e| Error::usage(format!("{path}: settings: {e}")))?;
        }
        if self.stages.contains(&Stage::Coverage) {
            for c in &self.catalogues {
                if !c.path.is_file() {
                    return Err(Error::usage(format!(
                        "{path}: inputs.catalogues {}: {}: no such file",
                        c.name,
                        c.path.display()
                    )));
                }
            }
        }
        let out = absolute(&self.out);
        let overlap = |input: &Path| {
            Error::usage(format!(
                "{path}: out {} and input {} overlap: a run would read its own outputs (or replace its inputs); write elsewhere (--out)",
                self.out.display(),
                input.display()
            ))
        };
        // A folder input is read whole: `out` must not be in it.
        for folder in self.bcn.iter().chain(&self.input_folders) {
            let folder_abs = absolute(folder);
            if out.starts_with(&folder_abs) {
                return Err(overlap(folder));
            }
        }
        // No input may sit in a folder a stage replaces as a whole.
        let files = self.sources.files.iter().map(|(_, f)| f.as_path());
        let catalogues = self.catalogues.iter().map(|c| c.path.as_path());
        for input in self
            .bcn
            .iter()
            .map(PathBuf::as_path)
            .chain(files)
            .chain(catalogues)
        {
            let input_abs = absolute(input);
            if self
                .stages
                .iter()
                .any(|s| input_abs.starts_with(out.join(s.name())))
            {
                return Err(overlap(input));
            }
        }
        Ok(())
    }

    /// Runs one stage of the pipeline.
    pub fn run_stage(&self, stage: Stage) -> Result<StageReport> {
        let report = self.run_stage_in_process(stage);
        // What a stage freed is the next stage's to reuse only where their
        // allocations have the same sizes; given back, it is not resident
        // through the next stage's peak (issue 13).
        crate::memory::return_free_memory();
        crate::memory::trace(&format!("stage {} done", stage.name()));
        report
    }

    fn run_stage_in_process(&self, stage: Stage) -> Result<StageReport> {
        let ctx = StageContext {
            out_dir: self.stage_dir(stage),
            csv: self.csv.clone(),
        };
        let bcn = self.bcn.as_deref().expect("checked on load");
        match stage {
            Stage::Bcn => stages::bcn::run(bcn, &ctx),
            Stage::Continuum => stages::continuum::run(bcn, &ctx),
            Stage::Indicators => stages::indicators::run(
                &self.sources,
                &self.stage_dir(Stage::Bcn),
                &self.stage_dir(Stage::Continuum),
                &self.indicators,
                &ctx,
            ),
            Stage::Coverage => {
                // Every catalogue's folder is written into one staged
                // `coverage/`, swapped in as a whole once all are done.
                let staged = crate::output::StagedDir::new(&ctx.out_dir)?;
                let start = std::time::Instant::now();
                let upstream = stages::coverage::Upstream::load(
                    &self.stage_dir(Stage::Bcn),
                    &self.stage_dir(Stage::Indicators),
                    &self.annuaire,
                )?;
                // The catalogues measured side by side, each on a thread of
                // its own (not a rayon task: each waits on its own reader and
                // writer threads, while its measuring asks rayon's), their
                // reports merged in the pipeline's order. One after the
                // other, each left part of the second core idle (issue 13).
                let reports: Vec<Result<StageReport>> = std::thread::scope(|scope| {
                    let runs: Vec<_> = self
                        .catalogues
                        .iter()
                        .map(|catalogue| {
                            let sub = StageContext {
                                out_dir: staged.dir().join(&catalogue.name),
                                csv: ctx.csv.clone(),
                            };
                            let upstream = &upstream;
                            scope.spawn(move || {
                                stages::coverage::run_with(catalogue, upstream, &sub)
                            })
                        })
                        .collect();
                    runs.into_iter()
                        .map(|run| {
                            run.join()
                                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                        })
                        .collect()
                });
                let mut merged: Option<StageReport> = None;
                for report in reports {
                    let report = report?;
                    merged = Some(match merged {
                        None => report,
                        Some(mut m) => {
                            m.inputs.extend(report.inputs);
                            m.outputs.extend(report.outputs);
                            m.rows_read += report.rows_read;
                            m.rows_written += report.rows_written;
                            m.details.extend(report.details);
                            m
                        }
                    });
                }
                let mut report = merged.expect("checked on load: at least one catalogue");
                report.elapsed = start.elapsed();
                for o in &mut report.outputs {
                    if let Ok(rel) = o.path.strip_prefix(staged.dir()) {
                        o.path = ctx.out_dir.join(rel);
                    }
                }
                staged.commit()?;
                Ok(report)
            }
            Stage::Release => {
                crate::release::build::run_release(&self.out, &self.release, &ctx.out_dir)
            }
        }
    }
}

/// A file stands for itself; a folder for its `.csv` and `.json` files, sorted.
pub fn expand(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        if !path.is_file() {
            return Err(Error::usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })? {
        let p = entry
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?
            .path();
        let ext = p
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_lowercase();
        if p.is_file() && (ext == "csv" || ext == "json") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The path from the root, lexically (the current folder joined in front).
fn absolute(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => normalize(&cwd.join(path)),
        _ => normalize(path),
    }
}

/// Removes `.` and `name/..` from a path without touching the file system,
/// so messages show `fixtures/bcn` rather than `pipelines/../fixtures/bcn`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Pipeline> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, text).unwrap();
        Pipeline::load(&path)
    }

    #[test]
    fn resolves_paths_against_root() {
        let p = load(
            "name='t'\nroot='..'\nout='dist/t'\nstages=['bcn','continuum']\n[inputs]\nbcn='fixtures/bcn'\n",
        )
        .unwrap();
        let dir = p.path.parent().unwrap().parent().unwrap();
        assert_eq!(p.bcn.unwrap(), dir.join("fixtures/bcn"));
        assert_eq!(p.out, dir.join("dist/t"));
    }

    #[test]
    fn normalizes_paths_lexically() {
        assert_eq!(
            normalize(Path::new("pipelines/../fixtures/bcn")),
            PathBuf::from("fixtures/bcn")
        );
        assert_eq!(
            normalize(Path::new("pipelines/../../shared")),
            PathBuf::from("../shared")
        );
        assert_eq!(normalize(Path::new("./a/./b")), PathBuf::from("a/b"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn rejects_unknown_keys_stages_and_order() {
        let e = load("name='t'\nout='o'\nstages=['bcn']\nbcm='x'\n").unwrap_err();
        assert!(
            e.to_string().contains("p.toml:4: unknown field `bcm`"),
            "{e}"
        );
        let e = load("name='t'\nout='o'\nstages=['bnc']\n[inputs]\nbcn='x'\n").unwrap_err();
        assert!(e.to_string().contains("unknown variant `bnc`"), "{e}");
        let e =
            load("name='t'\nout='o'\nstages=['continuum','bcn']\n[inputs]\nbcn='x'\n").unwrap_err();
        assert!(e.to_string().contains("pipeline order"), "{e}");
        let e = load("name='t'\nout='o'\nstages=['bcn']\n").unwrap_err();
        assert!(e.to_string().contains("inputs.bcn"), "{e}");
    }
}
