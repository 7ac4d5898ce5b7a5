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

/// Compares one table of two releases row by row, by primary key: the old
/// rows are read into memory, then the new ones are streamed against them.
pub(super) fn diff_table(name: &str, old_path: &Path, new_path: &Path) -> Result<TableDiff> {
    let (old_headers, mut old_reader) = open_csv(old_path)?;
    let (new_headers, mut new_reader) = open_csv(new_path)?;
    let (primary_key, source) = primary_key_of(old_path, new_path, &new_headers)?;
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
    let only_in = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|h| !b.contains(h)).cloned().collect()
    };
    let masked_of = |headers: &[String]| headers.iter().position(|h| h == MASKED_COLUMN);

    let old = Side {
        path: old_path,
        key: &old_key,
        masked: masked_of(&old_headers),
        primary_key: &primary_key,
    };
    let (mut old_rows, masked_old) = old.read_rows(&mut old_reader)?;
    let rows_old = old_rows.len();
    let new = Side {
        path: new_path,
        key: &new_key,
        masked: masked_of(&new_headers),
        primary_key: &primary_key,
    };
    let mut c = new.compare(&mut new_reader, &mut old_rows, &shared)?;
    let mut removed: Vec<Vec<String>> = old_rows.into_keys().collect();

    Ok(TableDiff {
        table: name.to_string(),
        rows_old,
        rows_new: c.rows,
        added: c.added.len(),
        removed: removed.len(),
        changed: c.changed.len(),
        unchanged: c.unchanged,
        columns_changed: columns_changed(&shared, &c.column_counts),
        added_columns: only_in(&new_headers, &old_headers),
        removed_columns: only_in(&old_headers, &new_headers),
        sample_added: first_sorted(&mut c.added),
        sample_removed: first_sorted(&mut removed),
        sample_changed: first_sorted(&mut c.changed),
        masked_old,
        masked_new: c.masked,
        primary_key,
    })
}

/// The key rows are matched on, and where it was found (for errors): the
/// new release's schema says what the key is now; the old one is the
/// fallback, then the first column (`primaryKey` absent).
fn primary_key_of(
    old_path: &Path,
    new_path: &Path,
    new_headers: &[String],
) -> Result<(Vec<String>, String)> {
    for path in [new_path, old_path] {
        if let Some((key, schema)) = read_primary_key(path)? {
            return Ok((key, format!("primaryKey of {}", schema.display())));
        }
    }
    Ok((
        vec![new_headers[0].clone()],
        format!("first column of {}", new_path.display()),
    ))
}

/// One release's side of the comparison: its file, the key's columns in
/// its header, its `masked` column if it has one.
struct Side<'a> {
    path: &'a Path,
    key: &'a [usize],
    masked: Option<usize>,
    primary_key: &'a [String],
}

/// The old rows by key, with the line each came from (for duplicate errors).
type OldRows = HashMap<Vec<String>, (u64, csv::StringRecord)>;

/// What streaming the new rows against the old ones found.
#[derive(Default)]
struct Compared {
    rows: usize,
    added: Vec<Vec<String>>,
    changed: Vec<Vec<String>>,
    unchanged: usize,
    /// Changed cells per shared column.
    column_counts: Vec<usize>,
    /// Rows with a `masked` value (None: no such column).
    masked: Option<usize>,
}

impl Side<'_> {
    /// Reads a record's key, counting it as masked when it is; an error if
    /// the key was already seen.
    fn key(
        &self,
        record: &csv::StringRecord,
        masked: &mut Option<usize>,
        first: impl FnOnce(&Vec<String>) -> Option<u64>,
    ) -> Result<Vec<String>> {
        let line = record.position().map_or(0, |p| p.line());
        if let (Some(i), Some(count)) = (self.masked, masked.as_mut()) {
            if !record.get(i).unwrap_or("").is_empty() {
                *count += 1;
            }
        }
        let key = key_of(record, self.key);
        if let Some(first) = first(&key) {
            return Err(duplicate_key(
                self.path,
                line,
                first,
                self.primary_key,
                &key,
            ));
        }
        Ok(key)
    }

    /// Every row, by key, and how many are masked.
    fn read_rows(
        &self,
        reader: &mut csv::Reader<std::fs::File>,
    ) -> Result<(OldRows, Option<usize>)> {
        let mut rows = OldRows::new();
        let mut masked = self.masked.map(|_| 0);
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| csv_error(self.path, e))?
        {
            let key = self.key(&record, &mut masked, |k| rows.get(k).map(|(l, _)| *l))?;
            let line = record.position().map_or(0, |p| p.line());
            rows.insert(key, (line, record.clone()));
        }
        Ok((rows, masked))
    }

    /// Streams this side's rows against `old_rows`, taking each matched
    /// row out of it (what is left was removed).
    fn compare(
        &self,
        reader: &mut csv::Reader<std::fs::File>,
        old_rows: &mut OldRows,
        shared: &[(&str, usize, usize)],
    ) -> Result<Compared> {
        let mut c = Compared {
            column_counts: vec![0; shared.len()],
            masked: self.masked.map(|_| 0),
            ..Compared::default()
        };
        let mut seen: HashMap<Vec<String>, u64> = HashMap::new();
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| csv_error(self.path, e))?
        {
            c.rows += 1;
            let key = self.key(&record, &mut c.masked, |k| seen.get(k).copied())?;
            seen.insert(key.clone(), record.position().map_or(0, |p| p.line()));
            let Some((_, old_record)) = old_rows.remove(&key) else {
                c.added.push(key);
                continue;
            };
            let mut differs = false;
            for (count, &(_, oi, ni)) in c.column_counts.iter_mut().zip(shared) {
                if old_record.get(oi).unwrap_or("") != record.get(ni).unwrap_or("") {
                    *count += 1;
                    differs = true;
                }
            }
            if differs {
                c.changed.push(key);
            } else {
                c.unchanged += 1;
            }
        }
        Ok(c)
    }
}

/// The shared columns with changed cells, most changes first.
fn columns_changed(shared: &[(&str, usize, usize)], counts: &[usize]) -> Vec<ColumnChanges> {
    let mut out: Vec<ColumnChanges> = shared
        .iter()
        .zip(counts)
        .filter(|(_, &count)| count > 0)
        .map(|(&(column, _, _), &count)| ColumnChanges {
            column: column.to_string(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.column.cmp(&b.column)));
    out
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
