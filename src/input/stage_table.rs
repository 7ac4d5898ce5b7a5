//! A table an earlier stage wrote, read back from its Parquet twin: typed
//! columns, only the ones asked for. Later stages and the release read stage
//! outputs through here rather than re-parsing the CSV (a 19 MB regional
//! table was parsed field by field by every reader).
//!
//! A missing column is reported as a table of another version of the stage
//! (the remedy is to run it again), and a row error names the CSV line too,
//! because that is the file a user opens.

use std::path::Path;

use polars::prelude::{DataFrame, DataType, ParquetReader, PolarsResult, SerReader, Series};

use crate::error::{Error, Result};

/// Some columns of a stage's Parquet table, typed.
pub struct StageTable {
    path: std::path::PathBuf,
    df: DataFrame,
}

impl StageTable {
    pub fn read<'c>(path: &Path, columns: impl Iterator<Item = &'c str>) -> Result<StageTable> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let columns: Vec<String> = columns.map(str::to_string).collect();
        let df = ParquetReader::new(file)
            .with_columns(Some(columns.clone()))
            .finish()
            .map_err(|e| Error::file(path, format!("cannot read the Parquet file: {e}")))?;
        // A missing column: the table was written by another version of ij.
        for c in &columns {
            if df.column(c.as_str()).is_err() {
                return Err(Error::file(
                    path,
                    format!(
                        "missing column {c}: written by another version of ij; run its stage again"
                    ),
                ));
            }
        }
        Ok(StageTable {
            path: path.to_path_buf(),
            df,
        })
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// A text column's values.
    pub fn text(&self, name: &str) -> Result<Vec<Option<&str>>> {
        self.values(name, |s| Ok(s.str()?.iter().collect()))
    }

    /// An integer column's values.
    pub fn integer(&self, name: &str) -> Result<Vec<Option<i64>>> {
        self.values(name, |s| Ok(s.i64()?.iter().collect()))
    }

    /// A column's values through `typed`; all missing for a column of nulls
    /// only (stored without a type).
    pub fn values<'a, T: Clone>(
        &'a self,
        name: &str,
        typed: impl FnOnce(&'a Series) -> PolarsResult<Vec<Option<T>>>,
    ) -> Result<Vec<Option<T>>> {
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
    pub fn error(&self, i: usize, column: &str, message: String) -> Error {
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
