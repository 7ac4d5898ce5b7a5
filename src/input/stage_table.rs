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
        let path = dir.join(format!("{table}.parquet"));
        if !path.is_file() {
            return Err(Error::usage(format!(
                "{}: missing; run the `{stage}` stage first (ij {stage} … --out {})",
                path.display(),
                dir.display()
            )));
        }
        StageTable::read_with(&path, required, optional)
    }

    /// Reads the `required` columns (an error names the first one missing)
    /// and those of `optional` the file has.
    pub fn read_with<'c>(
        path: &Path,
        required: impl Iterator<Item = &'c str>,
        optional: &[&str],
    ) -> Result<StageTable> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let unreadable = |e| Error::file(path, format!("cannot read the Parquet file: {e}"));
        let mut reader = ParquetReader::new(file);
        let schema = reader.schema().map_err(unreadable)?;
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
        let df = reader
            .with_columns(Some(columns))
            .finish()
            .map_err(unreadable)?;
        Ok(StageTable {
            path: path.to_path_buf(),
            df,
            absent: absent.into_iter().map(str::to_string).collect(),
        })
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

    /// An error on row `i` (0-based; line `i + 2` of the CSV twin).
    pub fn error(&self, i: usize, column: &str, message: impl std::fmt::Display) -> Error {
        Error::file(
            &self.path,
            format!(
                "row {} (line {} of the CSV), column {column}: {message}",
                i + 1,
                i + 2
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
