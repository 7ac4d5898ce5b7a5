//! Comparing one table between two releases: reading its CSV and primary
//! key, matching rows by key, and counting added, removed and changed rows
//! and columns. Listing the tables and the coverage summaries is left to
//! `mod.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

use super::{ColumnChanges, TableDiff, MASKED_COLUMN, SAMPLE_KEYS};

/// A release CSV: its header (BOM removed) and a reader positioned on the rows.
pub(super) fn open_csv(path: &Path) -> Result<(Vec<String>, csv::Reader<std::fs::File>)> {
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

pub(super) fn csv_error(path: &Path, e: csv::Error) -> Error {
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

pub(super) fn count_rows(path: &Path) -> Result<usize> {
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

pub(super) fn diff_table(name: &str, old_path: &Path, new_path: &Path) -> Result<TableDiff> {
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

#[cfg(test)]
mod tests {
    use super::super::diff_releases;
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
}
