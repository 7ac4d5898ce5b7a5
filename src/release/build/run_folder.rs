//! The run folder a release is built from: its record (`run.json`), the
//! stage folders it vouches for, and the tables and coverage files to
//! publish, all checked before anything is written.

use std::path::{Path, PathBuf};

use super::{check_options, ReleaseOptions, DATAPACKAGE};
use crate::error::{Error, Result};
use crate::output::record::RUN_RECORD;
use crate::release::package::{slug, Extra, RunRecordView};
use crate::release::schema::{TableDoc, COVERAGE_TABLE, TABLES};
use crate::release::validate;

/// A table found in the run folder, to publish.
pub(super) struct Source {
    pub(super) doc: TableDoc,
    pub(super) name: String,
    pub(super) title: String,
    pub(super) parquet: PathBuf,
    pub(super) catalogue: Option<String>,
}

/// What a release is built from.
pub(super) struct RunInputs {
    pub(super) run: Option<RunRecordView>,
    /// The threshold the run used, for the texts that state it.
    pub(super) seuil: i64,
    pub(super) sources: Vec<Source>,
    pub(super) extras: Vec<Extra>,
    /// The first lines of the report.
    pub(super) details: Vec<String>,
}

/// Reads and checks what a release is built from, before anything is
/// written: the options, the dictionary, the run's record, the tables and
/// files to publish, the previous release.
pub(super) fn read_run(run_dir: &Path, options: &ReleaseOptions) -> Result<RunInputs> {
    check_options(options)?;
    validate::check_dictionary()
        .map_err(|m| Error::usage(format!("the release dictionary is inconsistent: {m}")))?;
    if !run_dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: no such run folder (the `out` of a pipeline, holding bcn/, continuum/, indicators/…)",
            run_dir.display()
        )));
    }
    let run = RunRecordView::load(run_dir)?;
    // The threshold the run used, for the texts that state it.
    let seuil = run
        .as_ref()
        .and_then(|r| r.setting("seuil"))
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(crate::rules::rates::SEUIL_DEFAUT);
    let mut details = Vec::new();
    let (sources, extras) = find_tables(run_dir, &mut details)?;
    if sources.is_empty() {
        return Err(Error::usage(format!(
            "{}: nothing to publish: no bcn/, continuum/, indicators/ or coverage/ folder; run the pipeline first",
            run_dir.display()
        )));
    }
    match &run {
        Some(run) => check_one_run(run_dir, run, &mut details)?,
        None => details.push(format!(
            "no {} in {}: the manifest lists no pipeline, input or stage",
            RUN_RECORD,
            run_dir.display()
        )),
    }
    if let Some(previous) = &options.previous {
        if !previous.join(DATAPACKAGE).is_file() {
            return Err(Error::usage(format!(
                "--previous {}: not a release folder (no {DATAPACKAGE}); give the folder of an earlier release, OUT/<version>",
                previous.display()
            )));
        }
    }
    Ok(RunInputs {
        run,
        seuil,
        sources,
        extras,
        details,
    })
}

/// Refuses stage folders that are not the ones the run record describes
/// (`output::record`): a release never mixes the tables of two runs.
fn check_one_run(run_dir: &Path, run: &RunRecordView, details: &mut Vec<String>) -> Result<()> {
    if run.outputs.is_empty() {
        details.push(format!(
            "{}: no SHA-256 of the stages' files (written by an older ij): that the stage folders belong to one run was not checked",
            run_dir.join(RUN_RECORD).display()
        ));
        return Ok(());
    }
    for stage in ["bcn", "continuum", "indicators", COVERAGE_TABLE.stage] {
        let dir = run_dir.join(stage);
        match run.outputs.get(stage) {
            Some(_) if !dir.is_dir() => {
                return Err(Error::file(
                    &dir,
                    "missing: run.json records this stage's files, so the folder does not belong to the run recorded in run.json; run the pipeline again, nothing was published",
                ))
            }
            Some(recorded) => crate::output::record::check_folder(&dir, recorded)?,
            None if dir.is_dir() => {
                return Err(Error::file(
                    &dir,
                    format!(
                        "does not belong to the run recorded in run.json (which ran {} only): the folder is from another run; run the pipeline again, nothing was published",
                        run.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
            None => {}
        }
    }
    Ok(())
}

// ---- Finding the tables ----------------------------------------------------------

/// The tables to publish, in release order, and the coverage files to copy.
fn find_tables(run_dir: &Path, details: &mut Vec<String>) -> Result<(Vec<Source>, Vec<Extra>)> {
    let mut sources = Vec::new();
    for stage in ["bcn", "continuum", "indicators"] {
        let dir = run_dir.join(stage);
        if !dir.is_dir() {
            details.push(format!(
                "{stage}: not run (no {}), its tables are not published",
                dir.display()
            ));
            continue;
        }
        for doc in TABLES.iter().filter(|t| t.stage == stage) {
            sources.push(Source {
                doc: *doc,
                name: doc.source.to_string(),
                title: doc.title.to_string(),
                parquet: parquet_of(&dir, doc.source)?,
                catalogue: None,
            });
        }
    }
    let mut extras = Vec::new();
    let coverage = run_dir.join(COVERAGE_TABLE.stage);
    if !coverage.is_dir() {
        details.push(format!(
            "coverage: not run (no {}), no coverage table is published",
            coverage.display()
        ));
        return Ok((sources, extras));
    }
    let mut catalogues: Vec<(String, PathBuf)> = read_dir(&coverage)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            (!name.starts_with('.')).then_some((name, p))
        })
        .collect();
    catalogues.sort();
    for (catalogue, dir) in catalogues {
        let slug = slug(&catalogue);
        if sources
            .iter()
            .any(|s| s.catalogue.as_deref().map(self::slug) == Some(slug.clone()))
        {
            return Err(Error::file(
                &dir,
                format!("two coverage catalogues publish as coverage_offers_{slug}: rename one"),
            ));
        }
        sources.push(Source {
            doc: COVERAGE_TABLE,
            name: format!("{}_{slug}", COVERAGE_TABLE.source),
            title: format!("{} : {catalogue}", COVERAGE_TABLE.title),
            parquet: parquet_of(&dir, COVERAGE_TABLE.source)?,
            catalogue: Some(catalogue.clone()),
        });
        for (from, to) in [
            (
                "coverage_summary.json",
                format!("coverage_summary_{slug}.json"),
            ),
            (
                "coverage_report.html",
                format!("coverage_report_{slug}.html"),
            ),
        ] {
            let source = dir.join(from);
            if source.is_file() {
                extras.push(Extra {
                    file: to,
                    source,
                    catalogue: catalogue.clone(),
                });
            }
        }
    }
    Ok((sources, extras))
}

fn parquet_of(dir: &Path, table: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{table}.parquet"));
    if !path.is_file() {
        return Err(Error::file(
            &path,
            format!(
                "missing: the stage folder {} has no {table} table; run the stage again",
                dir.display()
            ),
        ));
    }
    Ok(path)
}

pub(super) fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(read_error)?
        .map(|e| e.map(|e| e.path()).map_err(read_error))
        .collect()
}
