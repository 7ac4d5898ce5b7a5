//! A table an earlier stage wrote, read back from its Parquet twin: typed
//! columns, only the ones asked for. Later stages, the release and the API
//! read stage outputs through here rather than re-parsing the CSV (a 19 MB
//! regional table was parsed field by field by every reader), and parse
//! their enum columns with the enums' own `parse`.
//!
//! A missing required column is reported as a table of another version of
//! the stage (the remedy is to run it again); a column a reader declares
//! optional (added to the table after its first version) reads as all
//! missing. A row error names the CSV line too, because that is the file a
//! user opens.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::{DataFrame, DataType, ParquetReader, PolarsResult, SerReader, Series};

use crate::error::{Error, Result};

/// Some columns of a stage's Parquet table, typed.
pub struct StageTable {
    path: PathBuf,
    df: DataFrame,
    /// Optional columns the file does not have: they read as all missing.
    absent: Vec<String>,
    /// The table's first row in the file: 0, or where a slice starts.
    first_row: usize,
}

impl StageTable {
    /// Reads `columns`, every one required.
    pub fn read<'c>(path: &Path, columns: impl Iterator<Item = &'c str>) -> Result<StageTable> {
        StageTable::read_with(path, columns, &[])
    }

    /// `<dir>/<table>.parquet`, written by `stage`: a usage error naming the
    /// stage to run when the file is not there.
    pub fn of_stage<'c>(
        dir: &Path,
        table: &str,
        stage: &str,
        required: impl Iterator<Item = &'c str>,
        optional: &[&str],
    ) -> Result<StageTable> {
        StageTable::read_with(&stage_file(dir, table, stage)?, required, optional)
    }

    /// Reads the `required` columns (an error names the first one missing)
    /// and those of `optional` the file has.
    pub fn read_with<'c>(
        path: &Path,
        required: impl Iterator<Item = &'c str>,
        optional: &[&str],
    ) -> Result<StageTable> {
        let (reader, columns, absent) = open(path, required, optional)?;
        let df = reader
            .with_columns(Some(columns))
            .finish()
            .map_err(|e| unreadable(path, e))?;
        Ok(StageTable {
            path: path.to_path_buf(),
            df,
            absent,
            first_row: 0,
        })
    }

    /// [`StageTable::read_with`], a Parquet row group at a time: each group
    /// a table of its own (its errors name the file's rows). Only one row
    /// group's columns are held: a reader that keeps little of each row
    /// (coverage's index) needs no more memory than that (issue 13: ×100's
    /// regional table, 8.4 million rows, was 840 MB of columns read whole).
    pub fn row_groups<'c>(
        path: &Path,
        required: impl Iterator<Item = &'c str>,
        optional: &[&str],
    ) -> Result<RowGroups> {
        let (mut reader, columns, absent) = open(path, required, optional)?;
        let metadata = reader
            .get_metadata()
            .map_err(|e| unreadable(path, e))?
            .clone();
        let groups = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
        Ok(RowGroups {
            path: path.to_path_buf(),
            metadata,
            columns,
            absent,
            groups,
            next: 0,
            first_row: 0,
        })
    }

    /// [`StageTable::row_groups`] of `<dir>/<table>.parquet`, written by
    /// `stage` (see [`StageTable::of_stage`]).
    pub fn row_groups_of_stage<'c>(
        dir: &Path,
        table: &str,
        stage: &str,
        required: impl Iterator<Item = &'c str>,
        optional: &[&str],
    ) -> Result<RowGroups> {
        StageTable::row_groups(&stage_file(dir, table, stage)?, required, optional)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// Whether the file has the column (an optional one may be absent).
    pub fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    /// A text column's values.
    pub fn text(&self, name: &str) -> Result<Vec<Option<&str>>> {
        self.values(name, |s| Ok(s.str()?.iter().collect()))
    }

    /// An integer column's values.
    pub fn integer(&self, name: &str) -> Result<Vec<Option<i64>>> {
        self.values(name, |s| Ok(s.i64()?.iter().collect()))
    }

    /// A decimal column's values.
    pub fn float(&self, name: &str) -> Result<Vec<Option<f64>>> {
        self.values(name, |s| Ok(s.f64()?.iter().collect()))
    }

    /// A true/false column's values.
    pub fn boolean(&self, name: &str) -> Result<Vec<Option<bool>>> {
        self.values(name, |s| Ok(s.bool()?.iter().collect()))
    }

    /// A date column's values.
    pub fn date(&self, name: &str) -> Result<Vec<Option<NaiveDate>>> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        self.values(name, |s| {
            Ok(s.date()?
                .physical()
                .iter()
                .map(|d| d.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d.into()))))
                .collect())
        })
    }

    /// An enum column, each value read by the enum's own `parse` (`all`:
    /// the values it writes, for the error); `None` where missing. An
    /// unknown value is an error naming the row, the value and the values
    /// expected.
    pub fn parsed<T, const N: usize>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        all: [&str; N],
    ) -> Result<Vec<Option<T>>> {
        self.text(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(None),
                Some(v) => parse(v)
                    .map(Some)
                    .ok_or_else(|| self.error(i, name, format!("\"{v}\": {}", expected(all)))),
            })
            .collect()
    }

    /// An enum column every row must fill: `parsed`, and an empty value is
    /// an error too.
    pub fn parsed_required<T, const N: usize>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        all: [&str; N],
    ) -> Result<Vec<T>> {
        self.parsed(name, parse, all)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.error(i, name, format!("empty, {}", expected(all)))))
            .collect()
    }

    /// A column's values through `typed`; all missing for a column of nulls
    /// only (stored without a type) or an optional column the file lacks.
    pub fn values<'a, T: Clone>(
        &'a self,
        name: &str,
        typed: impl FnOnce(&'a Series) -> PolarsResult<Vec<Option<T>>>,
    ) -> Result<Vec<Option<T>>> {
        if self.absent.iter().any(|a| a == name) {
            return Ok(vec![None; self.height()]);
        }
        let series = self.series(name)?;
        if series.dtype() == &DataType::Null {
            return Ok(vec![None; self.height()]);
        }
        typed(series).map_err(|e| Error::file(&self.path, format!("column {name}: {e}")))
    }

    pub fn series(&self, name: &str) -> Result<&Series> {
        self.df
            .column(name)
            .map(|c| c.as_materialized_series())
            .map_err(|e| Error::file(&self.path, e.to_string()))
    }

    /// An error on row `i` of this table or slice (0-based; line `i + 2`
    /// of the CSV twin for a whole table).
    pub fn error(&self, i: usize, column: &str, message: impl std::fmt::Display) -> Error {
        let row = self.first_row + i;
        Error::file(
            &self.path,
            format!(
                "row {} (line {} of the CSV), column {column}: {message}",
                row + 1,
                row + 2
            ),
        )
    }
}

/// "expected a, b or c", from an enum's values.
pub fn expected<const N: usize>(values: [&str; N]) -> String {
    match values.split_last() {
        Some((last, [])) => format!("expected {last}"),
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
        None => "expected nothing".into(),
    }
}

/// A stage table's row groups, read one at a time
/// ([`StageTable::row_groups`]).
pub struct RowGroups {
    path: PathBuf,
    metadata: std::sync::Arc<polars::io::parquet::read::FileMetadata>,
    columns: Vec<String>,
    absent: Vec<String>,
    /// Each row group's rows.
    groups: Vec<usize>,
    next: usize,
    first_row: usize,
}

impl RowGroups {
    /// The table's rows, in all its groups.
    pub fn rows(&self) -> usize {
        self.groups.iter().sum()
    }
}

impl Iterator for RowGroups {
    type Item = Result<StageTable>;

    fn next(&mut self) -> Option<Result<StageTable>> {
        let rows = *self.groups.get(self.next)?;
        self.next += 1;
        let first_row = self.first_row;
        self.first_row += rows;
        let read = || {
            let mut reader = ParquetReader::new(open_file(&self.path)?);
            reader.set_metadata(self.metadata.clone());
            let df = reader
                .with_columns(Some(self.columns.clone()))
                .with_slice(Some((first_row, rows)))
                .finish()
                .map_err(|e| unreadable(&self.path, e))?;
            Ok(StageTable {
                path: self.path.clone(),
                df,
                absent: self.absent.clone(),
                first_row,
            })
        };
        Some(read())
    }
}

/// `<dir>/<table>.parquet`, written by `stage`: a usage error naming the
/// stage to run when the file is not there.
fn stage_file(dir: &Path, table: &str, stage: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{table}.parquet"));
    if !path.is_file() {
        return Err(Error::usage(format!(
            "{}: missing; run the `{stage}` stage first (ij {stage} … --out {})",
            path.display(),
            dir.display()
        )));
    }
    Ok(path)
}

/// The file opened for reading.
fn open_file(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn unreadable(path: &Path, e: polars::prelude::PolarsError) -> Error {
    Error::file(path, format!("cannot read the Parquet file: {e}"))
}

/// A reader of the Parquet file, the columns to read (the `required`, an
/// error naming the first one missing, then those of `optional` the file
/// has) and the optional ones it lacks.
fn open<'c>(
    path: &Path,
    required: impl Iterator<Item = &'c str>,
    optional: &[&str],
) -> Result<(ParquetReader<std::fs::File>, Vec<String>, Vec<String>)> {
    let mut reader = ParquetReader::new(open_file(path)?);
    let schema = reader.schema().map_err(|e| unreadable(path, e))?;
    let mut columns = Vec::new();
    for c in required {
        // The table was written by another version of ij.
        if !schema.contains(c) {
            return Err(Error::file(
                path,
                format!(
                    "missing column {c}: written by another version of ij; run its stage again"
                ),
            ));
        }
        columns.push(c.to_string());
    }
    let (present, absent): (Vec<&str>, Vec<&str>) =
        optional.iter().partition(|c| schema.contains(c));
    columns.extend(present.into_iter().map(str::to_string));
    Ok((
        reader,
        columns,
        absent.into_iter().map(str::to_string).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{CsvOptions, OutTable};

    /// Row groups give the table's rows in order, each group's errors the
    /// file's rows, and an optional column the file lacks reads as missing.
    #[test]
    fn a_table_read_by_row_group_gives_its_rows_and_their_places() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer =
            crate::output::table::TableWriter::create(dir.path(), "t", &CsvOptions::default())
                .unwrap();
        for chunk in [["a", "b"].as_slice(), &["c", "d"], &["e"]] {
            let mut t = OutTable::new("t");
            t.str("code", chunk.iter().copied());
            writer.write(t).unwrap();
        }
        writer.finish().unwrap();
        let path = dir.path().join("t.parquet");
        let groups = StageTable::row_groups(&path, ["code"].into_iter(), &["absent"]).unwrap();
        assert_eq!(groups.rows(), 5);
        let groups: Vec<StageTable> = groups.map(Result::unwrap).collect();
        assert_eq!(
            groups.iter().map(StageTable::height).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        let read: Vec<String> = groups
            .iter()
            .flat_map(|g| g.text("code").unwrap())
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(read, ["a", "b", "c", "d", "e"]);
        assert_eq!(groups[1].text("absent").unwrap(), [None, None]);
        let e = groups[2].error(0, "code", "bad").to_string();
        assert!(e.contains("row 5 (line 6 of the CSV)"), "{e}");
        let missing = StageTable::row_groups(&path, ["other"].into_iter(), &[]);
        let e = missing
            .err()
            .expect("a required column missing")
            .to_string();
        assert!(e.contains("missing column other"), "{e}");
    }
}
