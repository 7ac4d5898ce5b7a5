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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Location, Result};

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
    for (name, old_path) in &old_files.tables {
        match new_files.tables.get(name) {
            Some(new_path) => tables.push(diff_table(name, old_path, new_path)?),
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

/// A release CSV: its header (BOM removed) and a reader positioned on the rows.
fn open_csv(path: &Path) -> Result<(Vec<String>, csv::Reader<std::fs::File>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let mut headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(first) = headers.first_mut() {
        if let Some(rest) = first.strip_prefix('\u{feff}') {
            *first = rest.to_string();
        }
    }
    if headers.iter().all(String::is_empty) {
        return Err(Error::file(path, "empty table: no header line"));
    }
    Ok((headers, reader))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    let message = format!(
        "{e}; a release table is UTF-8, comma-separated, with as many fields on each line as in its header"
    );
    match (e.into_kind(), line) {
        (csv::ErrorKind::Io(source), _) => Error::Read {
            path: path.to_path_buf(),
            source,
        },
        (_, Some(line)) => Error::at(path, Location::Line { line, column: None }, message),
        (_, None) => Error::file(path, message),
    }
}

fn count_rows(path: &Path) -> Result<usize> {
    let (_, mut reader) = open_csv(path)?;
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        rows += 1;
    }
    Ok(rows)
}

/// `primaryKey` of the Table Schema next to a table (`x.csv` → `x.schema.json`):
/// `None` when there is no schema or it has no primary key.
fn read_primary_key(csv_path: &Path) -> Result<Option<(Vec<String>, PathBuf)>> {
    let schema_path = schema_path_of(csv_path);
    let text = match std::fs::read_to_string(&schema_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: schema_path,
                source,
            })
        }
    };
    let schema: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(
            &schema_path,
            format!("invalid JSON ({e}); expected a Frictionless Table Schema"),
        )
    })?;
    let key = match schema.get("primaryKey") {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(column)) => vec![column.clone()],
        Some(serde_json::Value::Array(columns)) => columns
            .iter()
            .map(|c| c.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::file(&schema_path, "primaryKey should be a list of column names")
            })?,
        Some(_) => {
            return Err(Error::file(
                &schema_path,
                "primaryKey should be a column name or a list of column names",
            ))
        }
    };
    if key.is_empty() {
        return Ok(None);
    }
    Ok(Some((key, schema_path)))
}

/// `dir/x.csv` → `dir/x.schema.json`.
pub fn schema_path_of(csv_path: &Path) -> PathBuf {
    let stem = csv_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    csv_path.with_file_name(format!("{stem}.schema.json"))
}

/// Positions of the key columns in a header, or an error naming the file and
/// where the key came from.
fn key_positions(
    path: &Path,
    headers: &[String],
    key: &[String],
    source: &str,
) -> Result<Vec<usize>> {
    key.iter()
        .map(|column| {
            headers.iter().position(|h| h == column).ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "primary key column `{column}` ({source}) is missing from the header; \
                         a table must keep its key columns from one release to the next"
                    ),
                )
            })
        })
        .collect()
}

fn diff_table(name: &str, old_path: &Path, new_path: &Path) -> Result<TableDiff> {
    let (old_headers, mut old_reader) = open_csv(old_path)?;
    let (new_headers, mut new_reader) = open_csv(new_path)?;

    // The new release's schema says what the key is now; the old one is the
    // fallback, then the first column (`primaryKey` absent).
    let (primary_key, source) = match read_primary_key(new_path)? {
        Some((key, schema)) => (key, format!("primaryKey of {}", schema.display())),
        None => match read_primary_key(old_path)? {
            Some((key, schema)) => (key, format!("primaryKey of {}", schema.display())),
            None => (
                vec![new_headers[0].clone()],
                format!("first column of {}", new_path.display()),
            ),
        },
    };
    let old_key = key_positions(old_path, &old_headers, &primary_key, &source)?;
    let new_key = key_positions(new_path, &new_headers, &primary_key, &source)?;

    // Shared columns, in the new release's order: (name, old index, new index).
    let shared: Vec<(&str, usize, usize)> = new_headers
        .iter()
        .enumerate()
        .filter_map(|(ni, h)| {
            let oi = old_headers.iter().position(|o| o == h)?;
            Some((h.as_str(), oi, ni))
        })
        .collect();
    let added_columns = new_headers
        .iter()
        .filter(|h| !old_headers.contains(h))
        .cloned()
        .collect();
    let removed_columns = old_headers
        .iter()
        .filter(|h| !new_headers.contains(h))
        .cloned()
        .collect();
    let old_masked = old_headers.iter().position(|h| h == MASKED_COLUMN);
    let new_masked = new_headers.iter().position(|h| h == MASKED_COLUMN);

    // The old rows by key, with the line each came from (for duplicate errors).
    let mut old_rows: HashMap<Vec<String>, (u64, csv::StringRecord)> = HashMap::new();
    let mut masked_old = old_masked.map(|_| 0);
    let mut record = csv::StringRecord::new();
    while old_reader
        .read_record(&mut record)
        .map_err(|e| csv_error(old_path, e))?
    {
        let line = record.position().map_or(0, |p| p.line());
        if let (Some(i), Some(count)) = (old_masked, masked_old.as_mut()) {
            if !record.get(i).unwrap_or("").is_empty() {
                *count += 1;
            }
        }
        let key = key_of(&record, &old_key);
        if let Some((first, _)) = old_rows.get(&key) {
            return Err(duplicate_key(old_path, line, *first, &primary_key, &key));
        }
        old_rows.insert(key, (line, record.clone()));
    }
    let rows_old = old_rows.len();

    let mut seen_new: HashMap<Vec<String>, u64> = HashMap::new();
    let mut masked_new = new_masked.map(|_| 0);
    let mut column_counts = vec![0usize; shared.len()];
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    let mut unchanged = 0;
    let mut rows_new = 0;
    while new_reader
        .read_record(&mut record)
        .map_err(|e| csv_error(new_path, e))?
    {
        rows_new += 1;
        let line = record.position().map_or(0, |p| p.line());
        if let (Some(i), Some(count)) = (new_masked, masked_new.as_mut()) {
            if !record.get(i).unwrap_or("").is_empty() {
                *count += 1;
            }
        }
        let key = key_of(&record, &new_key);
        if let Some(first) = seen_new.get(&key) {
            return Err(duplicate_key(new_path, line, *first, &primary_key, &key));
        }
        seen_new.insert(key.clone(), line);
        match old_rows.remove(&key) {
            None => added.push(key),
            Some((_, old_record)) => {
                let mut differs = false;
                for (count, &(_, oi, ni)) in column_counts.iter_mut().zip(&shared) {
                    if old_record.get(oi).unwrap_or("") != record.get(ni).unwrap_or("") {
                        *count += 1;
                        differs = true;
                    }
                }
                if differs {
                    changed.push(key);
                } else {
                    unchanged += 1;
                }
            }
        }
    }
    let mut removed: Vec<Vec<String>> = old_rows.into_keys().collect();

    let mut columns_changed: Vec<ColumnChanges> = shared
        .iter()
        .zip(&column_counts)
        .filter(|(_, &count)| count > 0)
        .map(|(&(column, _, _), &count)| ColumnChanges {
            column: column.to_string(),
            count,
        })
        .collect();
    columns_changed.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.column.cmp(&b.column)));

    Ok(TableDiff {
        table: name.to_string(),
        primary_key,
        rows_old,
        rows_new,
        added: added.len(),
        removed: removed.len(),
        changed: changed.len(),
        unchanged,
        columns_changed,
        added_columns,
        removed_columns,
        sample_added: first_sorted(&mut added),
        sample_removed: first_sorted(&mut removed),
        sample_changed: first_sorted(&mut changed),
        masked_old,
        masked_new,
    })
}

fn key_of(record: &csv::StringRecord, positions: &[usize]) -> Vec<String> {
    positions
        .iter()
        .map(|&i| record.get(i).unwrap_or("").to_string())
        .collect()
}

fn duplicate_key(path: &Path, line: u64, first: u64, key: &[String], values: &[String]) -> Error {
    Error::at(
        path,
        Location::Line { line, column: None },
        format!(
            "primary key ({}) = ({}) appears twice (first at line {first}); \
             a release table has one row per key, so rows cannot be compared: fix the release",
            key.join(", "),
            values.join(", ")
        ),
    )
}

fn first_sorted(keys: &mut [Vec<String>]) -> Vec<Vec<String>> {
    keys.sort_unstable();
    keys.iter().take(SAMPLE_KEYS).cloned().collect()
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

/// The changelog, in French Markdown. `old_name` and `new_name` name the
/// releases (the release stage passes the version, as the new release is
/// still in its staging folder).
pub fn render_changelog(diff: &ReleaseDiff, old_name: &str, new_name: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Changements de {new_name} par rapport à {old_name}\n");
    let changed_tables = diff.tables.iter().filter(|t| !t.is_unchanged()).count();
    if diff.is_empty() {
        let _ = writeln!(
            md,
            "Aucun changement : les {} tables et les taux de couverture sont identiques.",
            diff.tables.len()
        );
        return md;
    }
    let _ = writeln!(
        md,
        "{} comparée{} par clé primaire, dont {} avec des changements.",
        plural(diff.tables.len(), "table", "tables"),
        if diff.tables.len() > 1 { "s" } else { "" },
        changed_tables
    );
    if !diff.tables_added.is_empty() {
        let _ = writeln!(md, "\nTables nouvelles :");
        for t in &diff.tables_added {
            let _ = writeln!(
                md,
                "- `{}` ({})",
                t.table,
                plural(t.rows, "ligne", "lignes")
            );
        }
    }
    if !diff.tables_removed.is_empty() {
        let _ = writeln!(md, "\nTables retirées :");
        for t in &diff.tables_removed {
            let _ = writeln!(
                md,
                "- `{}` ({})",
                t.table,
                plural(t.rows, "ligne", "lignes")
            );
        }
    }
    let unchanged: Vec<String> = diff
        .tables
        .iter()
        .filter(|t| t.is_unchanged())
        .map(|t| format!("`{}`", t.table))
        .collect();
    if !unchanged.is_empty() {
        let _ = writeln!(md, "\nTables sans changement : {}.", unchanged.join(", "));
    }
    for t in diff.tables.iter().filter(|t| !t.is_unchanged()) {
        render_table(&mut md, t);
    }
    let changed_coverage: Vec<&CoverageDiff> =
        diff.coverage.iter().filter(|c| !c.is_unchanged()).collect();
    if diff.coverage.is_empty()
        && diff.coverage_added.is_empty()
        && diff.coverage_removed.is_empty()
    {
        return md;
    }
    let _ = writeln!(md, "\n## Couverture");
    let same: Vec<String> = diff
        .coverage
        .iter()
        .filter(|c| c.is_unchanged())
        .map(|c| format!("`{}`", c.path))
        .collect();
    if !same.is_empty() || !diff.coverage_added.is_empty() || !diff.coverage_removed.is_empty() {
        let _ = writeln!(md);
    }
    if !same.is_empty() {
        let _ = writeln!(md, "- taux inchangés : {}", same.join(", "));
    }
    for rel in &diff.coverage_added {
        let _ = writeln!(md, "- `{rel}` : nouveau");
    }
    for rel in &diff.coverage_removed {
        let _ = writeln!(md, "- `{rel}` : retiré");
    }
    for c in changed_coverage {
        render_coverage(&mut md, c);
    }
    md
}

/// A table with changes: a title that sums them up, then the details.
fn render_table(md: &mut String, t: &TableDiff) {
    let mut title = format!(
        "{} ajoutée{}, {} supprimée{}, {} modifiée{}",
        plural(t.added, "ligne", "lignes"),
        if t.added > 1 { "s" } else { "" },
        t.removed,
        if t.removed > 1 { "s" } else { "" },
        t.changed,
        if t.changed > 1 { "s" } else { "" },
    );
    if !t.columns_changed.is_empty() {
        let mut names: Vec<String> = t
            .columns_changed
            .iter()
            .take(HEADLINE_COLUMNS)
            .map(|c| format!("{} ({})", c.column, c.count))
            .collect();
        if t.columns_changed.len() > HEADLINE_COLUMNS {
            names.push("…".to_string());
        }
        let _ = write!(
            title,
            " (colonnes les plus modifiées : {})",
            names.join(", ")
        );
    }
    let _ = writeln!(md, "\n## {} — {title}\n", t.table);
    let _ = writeln!(
        md,
        "- lignes : {} → {} ; inchangées : {} (clé : {})",
        t.rows_old,
        t.rows_new,
        t.unchanged,
        t.primary_key.join(", ")
    );
    if t.columns_changed.len() > HEADLINE_COLUMNS {
        let all: Vec<String> = t
            .columns_changed
            .iter()
            .map(|c| format!("{} ({})", c.column, c.count))
            .collect();
        let _ = writeln!(md, "- colonnes modifiées : {}", all.join(", "));
    }
    if !t.added_columns.is_empty() {
        let _ = writeln!(md, "- colonnes ajoutées : {}", code_list(&t.added_columns));
    }
    if !t.removed_columns.is_empty() {
        let _ = writeln!(
            md,
            "- colonnes retirées : {}",
            code_list(&t.removed_columns)
        );
    }
    render_masked(md, t);
    for (label, keys, total) in [
        ("ajoutées", &t.sample_added, t.added),
        ("supprimées", &t.sample_removed, t.removed),
        ("modifiées", &t.sample_changed, t.changed),
    ] {
        if keys.is_empty() {
            continue;
        }
        let shown: Vec<String> = keys
            .iter()
            .map(|k| format!("`{}`", k.join(" · ")))
            .collect();
        let more = if total > keys.len() { ", …" } else { "" };
        let _ = writeln!(
            md,
            "- exemples de lignes {label} : {}{more}",
            shown.join(", ")
        );
    }
}

fn render_masked(md: &mut String, t: &TableDiff) {
    match (t.masked_old, t.masked_new) {
        (Some(old), Some(new)) if old != new => {
            let delta = new as i64 - old as i64;
            let _ = writeln!(md, "- lignes masquées : {old} → {new} ({delta:+})");
        }
        (Some(_), Some(_)) | (None, None) => {}
        (old, new) => {
            let show = |n: Option<usize>| n.map_or("—".to_string(), |n| n.to_string());
            let _ = writeln!(md, "- lignes masquées : {} → {}", show(old), show(new));
        }
    }
}

fn render_coverage(md: &mut String, c: &CoverageDiff) {
    let _ = writeln!(md, "\n### {}\n", c.path);
    let _ = writeln!(md, "| périmètre | avant | après | écart |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let mut rows = vec![("ensemble".to_string(), c.coverage_rate)];
    rows.extend(c.by_filiere.iter().map(|f| (f.filiere.clone(), f.rate)));
    for (label, rate) in rows {
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} |",
            format_rate(rate.old),
            format_rate(rate.new),
            rate.delta().map_or("—".to_string(), format_points)
        );
    }
}

/// `81.25` → `81,3 %` (French decimal comma, one decimal).
fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{r:.1} %").replace('.', ","),
        None => "—".to_string(),
    }
}

/// A difference of rates, in points: `+1,8 pt`, `-0,4 pt`, `=` when it rounds to 0.
fn format_points(delta: f64) -> String {
    if (delta * 10.0).round() == 0.0 {
        return "=".to_string();
    }
    format!("{delta:+.1} pt").replace('.', ",")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

fn code_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
    fn rows_are_matched_by_the_schema_primary_key() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        write(&old, "t.csv", "a,b,v\n1,x,10\n1,y,20\n2,x,30\n");
        write(&new, "t.csv", "b,a,v\nx,1,11\ny,1,20\nz,3,5\n");
        write(&new, "t.schema.json", r#"{"primaryKey": ["a", "b"]}"#);
        let diff = diff_releases(&old, &new).unwrap();
        let t = &diff.tables[0];
        assert_eq!(t.primary_key, ["a", "b"]);
        assert_eq!((t.added, t.removed, t.changed, t.unchanged), (1, 1, 1, 1));
        assert_eq!(t.sample_added, [vec!["3", "z"]]);
        assert_eq!(t.sample_removed, [vec!["2", "x"]]);
        assert_eq!(t.sample_changed, [vec!["1", "x"]]);
        assert_eq!(
            t.columns_changed,
            [ColumnChanges {
                column: "v".into(),
                count: 1
            }]
        );
    }

    #[test]
    fn without_schema_the_first_column_is_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        write(&old, "t.csv", "k,v\n1,a\n");
        write(&new, "t.csv", "k,v,w\n1,a,new\n");
        let t = &diff_releases(&old, &new).unwrap().tables[0];
        assert_eq!(t.primary_key, ["k"]);
        // An added column is reported once, not as a change of every row.
        assert_eq!((t.changed, t.unchanged), (0, 1));
        assert_eq!(t.added_columns, ["w"]);
    }

    #[test]
    fn a_duplicate_key_names_the_file_and_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        write(&old, "t.csv", "k,v\n1,a\n");
        write(&new, "t.csv", "k,v\n1,a\n2,b\n1,c\n");
        let e = diff_releases(&old, &new).unwrap_err().to_string();
        assert!(e.contains("new/t.csv:4"), "{e}");
        assert!(
            e.contains("(k) = (1) appears twice (first at line 2)"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_key_column_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        write(&old, "t.csv", "x,v\n1,a\n");
        write(&new, "t.csv", "k,v\n1,a\n");
        write(&new, "t.schema.json", r#"{"primaryKey": "k"}"#);
        let e = diff_releases(&old, &new).unwrap_err().to_string();
        assert!(e.contains("old/t.csv") && e.contains("`k`"), "{e}");
    }

    #[test]
    fn rates_are_written_the_french_way() {
        assert_eq!(format_rate(Some(81.25)), "81,2 %");
        assert_eq!(format_rate(None), "—");
        assert_eq!(format_points(1.8), "+1,8 pt");
        assert_eq!(format_points(-0.4), "-0,4 pt");
        assert_eq!(format_points(0.01), "=");
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
