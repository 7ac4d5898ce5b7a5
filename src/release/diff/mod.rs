//! `ij diff OLD NEW`: what changed between two release folders, table by table.
//!
//! A table is a `<name>.csv` anywhere under the release folder (hidden folders,
//! such as the `.ij-tmp-*` staging folders, are skipped); its name is its path
//! without `.csv`. Rows are matched by the table's primary key, read from
//! `<name>.schema.json` (`primaryKey`, Frictionless Table Schema), else the
//! first column. Values are compared as strings, on the columns both releases
//! have: an added or removed column is reported once, not as a change of every
//! row. The diff also counts masked rows (a non-empty `masked` column) and
//! compares the coverage summaries (`coverage_summary.json`, or
//! `coverage_summary_<catalogue>.json` as releases name them) found at the
//! same relative path in both releases.
//!
//! `diff_releases` reads and compares; `render_changelog` writes the French
//! Markdown the release stage puts in `CHANGELOG.md`; `run_diff` is the
//! command's I/O. Everything is sorted, so the same releases give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

mod changelog;
mod comparabilite;
mod tables;

pub use changelog::render_changelog;
pub use comparabilite::Rupture;
pub use tables::schema_path_of;

use tables::{count_rows, diff_table};

/// The file the release stage writes the changelog into, in the new release.
pub const CHANGELOG_FILE: &str = "CHANGELOG.md";
/// The coverage summary of a stage's output; releases hold one per catalogue,
/// `coverage_summary_<catalogue>.json`. Matched by relative path.
pub const COVERAGE_FILE: &str = "coverage_summary.json";
/// The column that says why a row's rates are withheld (empty when published).
pub const MASKED_COLUMN: &str = "masked";
/// How many keys are given as examples of added, removed and changed rows.
pub const SAMPLE_KEYS: usize = 5;
/// How many of the most changed columns the changelog names in a table's title.
const HEADLINE_COLUMNS: usize = 3;

/// What changed between two releases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseDiff {
    /// The old and new release folders, as given.
    pub old: String,
    pub new: String,
    /// Tables present in both releases, by name.
    pub tables: Vec<TableDiff>,
    /// Tables only in the new release.
    pub tables_added: Vec<TableOnly>,
    /// Tables only in the old release.
    pub tables_removed: Vec<TableOnly>,
    /// Coverage summaries present in both releases, by relative path.
    pub coverage: Vec<CoverageDiff>,
    /// Coverage summaries only in the new, or only in the old release.
    pub coverage_added: Vec<String>,
    pub coverage_removed: Vec<String>,
    /// Employment figures not comparable across the 2022 break (issue 14).
    pub ruptures: Vec<Rupture>,
}

impl ReleaseDiff {
    /// True when no table, row, column or coverage rate differs.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(TableDiff::is_unchanged)
            && self.tables_added.is_empty()
            && self.tables_removed.is_empty()
            && self.coverage.iter().all(CoverageDiff::is_unchanged)
            && self.coverage_added.is_empty()
            && self.coverage_removed.is_empty()
    }
}

/// One table present in both releases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableDiff {
    pub table: String,
    /// The columns rows are matched on.
    pub primary_key: Vec<String>,
    pub rows_old: usize,
    pub rows_new: usize,
    pub added: usize,
    pub removed: usize,
    /// Rows whose key is in both releases and some shared column differs.
    pub changed: usize,
    pub unchanged: usize,
    /// Shared columns that differ in at least one row, most changed first
    /// (ties by name).
    pub columns_changed: Vec<ColumnChanges>,
    /// Columns only in the new release (in its order), only in the old one.
    pub added_columns: Vec<String>,
    pub removed_columns: Vec<String>,
    /// The first keys (sorted) of added, removed and changed rows: each key is
    /// the values of `primary_key`, in order.
    pub sample_added: Vec<Vec<String>>,
    pub sample_removed: Vec<Vec<String>>,
    pub sample_changed: Vec<Vec<String>>,
    /// Rows with a non-empty `masked` column; `None` where the table has no
    /// such column.
    pub masked_old: Option<usize>,
    pub masked_new: Option<usize>,
}

impl TableDiff {
    pub fn is_unchanged(&self) -> bool {
        self.added == 0
            && self.removed == 0
            && self.changed == 0
            && self.added_columns.is_empty()
            && self.removed_columns.is_empty()
    }
}

/// How many rows changed in a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnChanges {
    pub column: String,
    pub count: usize,
}

/// A table present in one release only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableOnly {
    pub table: String,
    pub rows: usize,
}

/// A rate (percent) in the old and the new release; `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateChange {
    pub old: Option<f64>,
    pub new: Option<f64>,
}

impl RateChange {
    /// New minus old, when both are known.
    pub fn delta(&self) -> Option<f64> {
        Some(self.new? - self.old?)
    }
}

/// One coverage summary present in both releases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageDiff {
    /// Relative path of the `coverage_summary.json`, with `/` separators.
    pub path: String,
    pub coverage_rate: RateChange,
    /// Per filière (`by_filiere.<filiere>.coverage_rate`), sorted.
    pub by_filiere: Vec<FiliereRate>,
}

impl CoverageDiff {
    pub fn is_unchanged(&self) -> bool {
        self.coverage_rate.old == self.coverage_rate.new
            && self.by_filiere.iter().all(|f| f.rate.old == f.rate.new)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiliereRate {
    pub filiere: String,
    #[serde(flatten)]
    pub rate: RateChange,
}

/// Compares two release folders.
pub fn diff_releases(old: &Path, new: &Path) -> Result<ReleaseDiff> {
    let old_files = list_release(old)?;
    let new_files = list_release(new)?;

    let mut tables = Vec::new();
    let mut tables_removed = Vec::new();
    let mut ruptures = Vec::new();
    for (name, old_path) in &old_files.tables {
        match new_files.tables.get(name) {
            Some(new_path) => {
                tables.push(diff_table(name, old_path, new_path)?);
                ruptures.extend(comparabilite::ruptures(name, old_path, new_path)?);
            }
            None => tables_removed.push(TableOnly {
                table: name.clone(),
                rows: count_rows(old_path)?,
            }),
        }
    }
    let mut tables_added = Vec::new();
    for (name, new_path) in &new_files.tables {
        if !old_files.tables.contains_key(name) {
            tables_added.push(TableOnly {
                table: name.clone(),
                rows: count_rows(new_path)?,
            });
        }
    }

    let mut coverage = Vec::new();
    let mut coverage_removed = Vec::new();
    for (rel, old_path) in &old_files.coverage {
        match new_files.coverage.get(rel) {
            Some(new_path) => coverage.push(diff_coverage(rel, old_path, new_path)?),
            None => coverage_removed.push(rel.clone()),
        }
    }
    let coverage_added = new_files
        .coverage
        .keys()
        .filter(|rel| !old_files.coverage.contains_key(*rel))
        .cloned()
        .collect();

    Ok(ReleaseDiff {
        old: old.display().to_string(),
        new: new.display().to_string(),
        tables,
        tables_added,
        tables_removed,
        coverage,
        coverage_added,
        coverage_removed,
        ruptures,
    })
}

/// The tables and coverage summaries of a release, by relative name.
struct ReleaseFiles {
    /// `certifications` → `…/certifications.csv`.
    tables: BTreeMap<String, PathBuf>,
    /// `affelnet/coverage_summary.json` → its path.
    coverage: BTreeMap<String, PathBuf>,
}

fn list_release(dir: &Path) -> Result<ReleaseFiles> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: not a release folder (expected a folder such as dist/<version>)",
            dir.display()
        )));
    }
    let mut files = ReleaseFiles {
        tables: BTreeMap::new(),
        coverage: BTreeMap::new(),
    };
    walk(dir, "", &mut files)?;
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, files: &mut ReleaseFiles) -> Result<()> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(read_error)?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        // Staging folders and editor files are not part of a release.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let rel = format!("{prefix}{name}");
        if path.is_dir() {
            walk(&path, &format!("{rel}/"), files)?;
        } else if is_coverage_summary(&name) {
            files.coverage.insert(rel, path);
        } else if let Some(table) = rel.strip_suffix(".csv") {
            files.tables.insert(table.to_string(), path);
        }
    }
    Ok(())
}

/// `coverage_summary.json`, or `coverage_summary_<catalogue>.json` as the
/// release stage names the copy of each catalogue's summary.
fn is_coverage_summary(name: &str) -> bool {
    name == COVERAGE_FILE || (name.starts_with("coverage_summary_") && name.ends_with(".json"))
}

fn diff_coverage(rel: &str, old_path: &Path, new_path: &Path) -> Result<CoverageDiff> {
    let old = read_coverage(old_path)?;
    let new = read_coverage(new_path)?;
    let filieres: BTreeSet<&String> = old.1.keys().chain(new.1.keys()).collect();
    Ok(CoverageDiff {
        path: rel.to_string(),
        coverage_rate: RateChange {
            old: old.0,
            new: new.0,
        },
        by_filiere: filieres
            .into_iter()
            .map(|f| FiliereRate {
                filiere: f.clone(),
                rate: RateChange {
                    old: old.1.get(f).copied().flatten(),
                    new: new.1.get(f).copied().flatten(),
                },
            })
            .collect(),
    })
}

/// The overall rate and the rate per filière of a `coverage_summary.json`.
type CoverageRates = (Option<f64>, BTreeMap<String, Option<f64>>);

fn read_coverage(path: &Path) -> Result<CoverageRates> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(
            path,
            format!("invalid JSON ({e}); expected a coverage summary"),
        )
    })?;
    let rate = value
        .get("coverage_rate")
        .and_then(serde_json::Value::as_f64);
    let by_filiere = value
        .get("by_filiere")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(f, share)| {
                    let rate = share
                        .get("coverage_rate")
                        .and_then(serde_json::Value::as_f64);
                    (f.clone(), rate)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((rate, by_filiere))
}

/// The name a release is known by: its folder's name (`dist/2025-06` → `2025-06`).
pub fn release_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Where an output of `ij diff` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File(PathBuf),
}

/// `ij diff` once its command line is parsed: what to compare, where the
/// JSON and the Markdown go (`None`: not written).
#[derive(Debug, Clone)]
pub struct DiffSettings {
    pub old: PathBuf,
    pub new: PathBuf,
    pub json: Option<Target>,
    pub markdown: Option<Target>,
}

/// Runs `ij diff`: compares, then writes the JSON and the Markdown where the
/// settings say (files are written atomically). Returns the diff.
pub fn run_diff(settings: &DiffSettings, stdout: &mut dyn Write) -> anyhow::Result<ReleaseDiff> {
    let diff = diff_releases(&settings.old, &settings.new)?;
    if let Some(target) = &settings.json {
        let mut text = serde_json::to_string_pretty(&diff)?;
        text.push('\n');
        emit(target, text.as_bytes(), stdout)?;
    }
    if let Some(target) = &settings.markdown {
        let md = render_changelog(
            &diff,
            &release_name(&settings.old),
            &release_name(&settings.new),
        );
        emit(target, md.as_bytes(), stdout)?;
    }
    Ok(diff)
}

fn emit(target: &Target, bytes: &[u8], stdout: &mut dyn Write) -> anyhow::Result<()> {
    match target {
        // Left as a bare io::Error so that main.rs sees a broken pipe.
        Target::Stdout => {
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
        Target::File(path) => write_atomically(path, bytes)?,
    }
    Ok(())
}

/// Writes a file through a temporary sibling renamed into place, so a reader
/// never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.ij-tmp-{}", std::process::id()));
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(write_error)?;
    std::fs::rename(&tmp, path).map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        write_error(source)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn hidden_folders_are_not_part_of_a_release() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "t.csv", "k\n1\n");
        write(tmp.path(), ".ij-tmp-1/u.csv", "k\n1\n");
        write(tmp.path(), "sub/coverage_summary.json", "{}");
        write(tmp.path(), "coverage_summary_affelnet.json", "{}");
        write(tmp.path(), "coverage_report_affelnet.html", "");
        let files = list_release(tmp.path()).unwrap();
        assert_eq!(files.tables.keys().collect::<Vec<_>>(), ["t"]);
        assert_eq!(
            files.coverage.keys().collect::<Vec<_>>(),
            [
                "coverage_summary_affelnet.json",
                "sub/coverage_summary.json"
            ]
        );
    }
}
