//! `RawTable`: what every reader in `input/` produces, and every stage consumes.
//!
//! A raw table is the file's header and its rows as strings, with each row's
//! position in the file, so that a stage can say exactly where a bad value
//! was. Columns are looked up by name, case-insensitively; columns a stage does
//! not ask for are ignored, and a missing required column is an error naming
//! the file and the column.

use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};
use crate::input::encoding::Encoding;

/// How the file was read, as detected (reported in summaries and manifests).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Format {
    pub kind: FormatKind,
    pub encoding: Encoding,
    /// The field separator of a delimited file.
    pub delimiter: Option<char>,
    /// Whether `"` quotes fields (RFC 4180) or is an ordinary character.
    pub quoting: bool,
    pub crlf: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatKind {
    Csv,
    Json,
}

/// A column found in a table's header.
#[derive(Debug, Clone)]
pub struct Col {
    index: usize,
    name: String,
}

impl Col {
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug)]
pub struct RawRow {
    /// Line of a delimited file (header = 1) or 1-based record of a JSON array.
    pub position: u64,
    pub fields: Fields,
}

/// A row's fields: their text back to back, and where each ends. A
/// `StringRecord` per row held three allocations and 8 bytes per field, so
/// that a raw table took about three times its text (the BCN's, read by
/// the bcn and continuum stages, issue 13). Here: two allocations, 4 bytes
/// per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    ends: Box<[u32]>,
    text: Box<str>,
}

impl Fields {
    /// The `i`-th field, if the row has that many.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// About the bytes the row took in its file: its fields' text, a
    /// delimiter after each but the last, and the line's end (quotes not
    /// counted). For estimating a file's rows from its size.
    pub fn len_in_file(&self) -> usize {
        self.text.len() + self.ends.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i).expect("within the row"))
    }

    /// The fields of `values`, or `None` for a row of 4 GiB or more, which
    /// no field offset reaches (the reader says so with the row's line).
    pub fn new<'v>(values: impl IntoIterator<Item = &'v str> + Clone) -> Option<Fields> {
        // Both sized first: grown push by push, the ends were reallocated
        // five times for a row of thirty fields (a tenth of the staging of
        // ×100's regional file went to the allocator, issue 13).
        let (fields, bytes) = values
            .clone()
            .into_iter()
            .fold((0, 0), |(fields, bytes), v| (fields + 1, bytes + v.len()));
        let mut text = String::with_capacity(bytes);
        let mut ends = Vec::with_capacity(fields);
        for value in values {
            text.push_str(value);
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Some(Fields {
            ends: ends.into_boxed_slice(),
            text: text.into_boxed_str(),
        })
    }
}

#[derive(Debug)]
pub struct RawTable {
    pub path: PathBuf,
    pub format: Format,
    pub headers: Vec<String>,
    keys: Vec<String>,
    pub rows: Vec<RawRow>,
}

/// The key a header is matched by: trimmed, lower-case, inner white space folded.
pub fn header_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl RawTable {
    pub fn new(path: &Path, format: Format, headers: Vec<String>, rows: Vec<RawRow>) -> RawTable {
        let keys = headers.iter().map(|h| header_key(h)).collect();
        RawTable {
            path: path.to_path_buf(),
            format,
            headers,
            keys,
            rows,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Renames the header's columns (e.g. to strip the labels some exports
    /// join to the column names); lookups then use the new names.
    pub fn rename_headers(&mut self, rename: impl Fn(&str) -> String) {
        self.headers = self.headers.iter().map(|h| rename(h)).collect();
        self.keys = self.headers.iter().map(|h| header_key(h)).collect();
    }

    /// The first of `names` the table has (older exports name some columns
    /// differently), or `None`.
    pub fn any_column(&self, names: &[&str]) -> Option<Col> {
        names.iter().find_map(|n| self.optional_column(n))
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A column the caller needs: its absence is an error naming the file.
    pub fn column(&self, name: &str) -> Result<Col> {
        self.optional_column(name).ok_or_else(|| {
            Error::file(
                &self.path,
                format!(
                    "missing required column {name} (columns found: {}); check that this is the right file",
                    self.headers_preview()
                ),
            )
        })
    }

    /// A column that may be absent; the first of several with the same name wins.
    pub fn optional_column(&self, name: &str) -> Option<Col> {
        let key = header_key(name);
        self.keys.iter().position(|k| *k == key).map(|index| Col {
            index,
            name: self.headers[index].clone(),
        })
    }

    /// Several required columns at once, in the order asked.
    pub fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[Col; N]> {
        let mut cols = Vec::with_capacity(N);
        for name in names {
            cols.push(self.column(name)?);
        }
        Ok(cols.try_into().expect("N columns were pushed"))
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |raw| Row { table: self, raw })
    }

    /// The rows, for a parallel iterator (`rayon`), in order.
    pub fn par_rows(&self) -> impl rayon::iter::IndexedParallelIterator<Item = Row<'_>> {
        use rayon::prelude::*;
        self.rows
            .par_iter()
            .map(move |raw| Row { table: self, raw })
    }

    fn headers_preview(&self) -> String {
        const MAX: usize = 12;
        let mut s = self
            .headers
            .iter()
            .take(MAX)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if self.headers.len() > MAX {
            s.push_str(&format!(", … {} more", self.headers.len() - MAX));
        }
        s
    }
}

/// One row of a raw table, able to locate its errors.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    table: &'a RawTable,
    raw: &'a RawRow,
}

impl<'a> Row<'a> {
    /// The value of a column, trimmed; empty when the source has none.
    pub fn get(&self, col: &Col) -> &'a str {
        self.raw.fields.get(col.index).unwrap_or("").trim()
    }

    /// The value, or `None` when it is empty.
    pub fn opt(&self, col: &Col) -> Option<&'a str> {
        Some(self.get(col)).filter(|v| !v.is_empty())
    }

    pub fn position(&self) -> u64 {
        self.raw.position
    }

    /// The row as read.
    pub fn raw(&self) -> &'a RawRow {
        self.raw
    }

    pub fn path(&self) -> &'a Path {
        &self.table.path
    }

    pub fn location(&self, col: Option<&Col>) -> Location {
        match self.table.format.kind {
            FormatKind::Csv => Location::Line {
                line: self.raw.position,
                column: col.map(|c| (c.index + 1, c.name.clone())),
            },
            FormatKind::Json => Location::Record {
                index: self.raw.position,
                field: col.map(|c| c.name.clone()),
            },
        }
    }

    /// An error about the value of `col` in this row.
    pub fn error(&self, col: &Col, message: impl Into<String>) -> Error {
        Error::at(&self.table.path, self.location(Some(col)), message)
    }

    /// The row as it was read, for a rejects file.
    pub fn raw_text(&self) -> String {
        let sep = self.table.format.delimiter.unwrap_or(';').to_string();
        self.raw.fields.iter().collect::<Vec<_>>().join(&sep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_back_each_field_as_read() {
        let values = ["0133396W", "", "Lycée « Les Îles »", "", "23810033605"];
        let fields = Fields::new(values).expect("small row");
        assert_eq!(fields.len(), values.len());
        for (i, v) in values.iter().enumerate() {
            assert_eq!(fields.get(i), Some(*v), "field {i}");
        }
        assert_eq!(fields.get(values.len()), None);
        assert_eq!(fields.iter().collect::<Vec<_>>(), values);
    }

    #[test]
    fn a_row_without_fields_has_none() {
        let fields = Fields::new([]).expect("empty row");
        assert!(fields.is_empty());
        assert_eq!(fields.get(0), None);
        let blank = Fields::new([""]).expect("one empty field");
        assert_eq!((blank.len(), blank.get(0)), (1, Some("")));
    }
}
