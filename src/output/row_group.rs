//! A Parquet row group encoded and compressed one column at a time.
//!
//! polars' `BatchedWriter::write_batch` encodes every column of a row group
//! at once (all columns' dictionaries and uncompressed pages side by side)
//! and compresses them one by one as it writes. For a row group of 300,000
//! rows and 48 columns that held about three times the row group's own
//! columns (×10 indicators stage: +240 MB over its rows). Here each column
//! is encoded and compressed before the next (two at a time, one per core,
//! which also compresses on both cores), so what is held beside the row
//! group's columns is their compressed pages, each shrunk to its bytes
//! (issue 13).
//!
//! The pages are polars' own: the same `array_to_columns` and `Compressor`
//! calls with the same schema, encodings and options as `write_batch`, and
//! the row group goes through the same `FileWriter`, so the file has the
//! same bytes (tests: `output::table::tests`, and every table of the sample
//! and real releases compared by SHA-256).

use polars::io::parquet::write::get_encodings;
use polars::prelude::*;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::{
    array_to_columns, CompressedPage, Compressor, Encoding, ParquetType, StatisticsOptions,
    Version, WriteOptions,
};

/// The options `TableWriter` writes every Parquet file with: zstd at its
/// default level, polars' default statistics. One place, shared by the
/// writer and the encoder, so that pages and file agree.
pub fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(None)
}

/// What encoding a row group needs besides its columns: the Parquet type
/// and encoding of each column, and the write options, as polars' writer
/// derives them from the table's schema.
pub struct RowGroupEncoder {
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
    options: WriteOptions,
}

impl RowGroupEncoder {
    /// For a table of `schema`, whose Parquet schema (as the file writer
    /// has it) has `fields`.
    pub fn new(schema: &Schema, fields: &[ParquetType]) -> RowGroupEncoder {
        let arrow = schema.to_arrow(CompatLevel::newest());
        RowGroupEncoder {
            fields: fields.to_vec(),
            encodings: get_encodings(&arrow).iter().cloned().collect(),
            options: WriteOptions {
                statistics: StatisticsOptions::default(),
                compression: compression().into(),
                version: Version::V1,
                data_page_size: None,
            },
        }
    }

    /// The compressed pages of each column (each leaf: a flat table has
    /// one per column) of a row group, in the schema's order.
    pub fn encode(&self, columns: &[ArrayRef]) -> PolarsResult<Vec<Vec<CompressedPage>>> {
        use rayon::prelude::*;
        let columns: Vec<Vec<Vec<CompressedPage>>> = columns
            .par_iter()
            .zip(&self.fields)
            .zip(&self.encodings)
            .map(|((array, type_), encoding)| self.column(array, type_, encoding))
            .collect::<PolarsResult<_>>()?;
        Ok(columns.into_iter().flatten().collect())
    }

    /// One column's leaves, each encoded and compressed.
    fn column(
        &self,
        array: &ArrayRef,
        type_: &ParquetType,
        encoding: &[Encoding],
    ) -> PolarsResult<Vec<Vec<CompressedPage>>> {
        array_to_columns(array, type_.clone(), self.options, encoding)?
            .into_iter()
            .map(|pages| {
                // As polars' writer does: an encoding error reraised as the
                // compressor's error type.
                let pages = pages.map(|page| {
                    page.map_err(|e| {
                        polars_parquet::parquet::error::ParquetError::FeatureNotSupported(format!(
                            "reraised in polars: {e}"
                        ))
                    })
                });
                Compressor::new_from_vec(pages, self.options.compression, vec![])
                    .map(|page| page.map(shrunk))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(PolarsError::from)
            })
            .collect()
    }
}

/// A data page holding its compressed bytes only: the compressor sizes a
/// page's buffer for the worst case (zstd's bound: more than the page
/// uncompressed), and a row group's pages are held until it is written, so
/// left as they are they would add up to more than the row group's columns.
fn shrunk(mut page: CompressedPage) -> CompressedPage {
    if let CompressedPage::Data(data) = &mut page {
        if let CowBuffer::Owned(bytes) = data.slice_mut() {
            bytes.shrink_to_fit();
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::table::{CsvOptions, OutTable, TableWriter, ROW_GROUP_ROWS};

    /// Every kind of column the tool writes, in both of polars' encodings:
    /// low-cardinality strings and integers (dictionary), unique strings and
    /// floats (plain), nulls, booleans, dates.
    fn every_kind(rows: usize) -> OutTable {
        let day =
            |i: usize| chrono::NaiveDate::from_num_days_from_ce_opt(738_000 + (i % 400) as i32);
        let mut t = OutTable::new("kinds");
        t.str("code", (0..rows).map(|i| format!("{:08}", i % 211)))
            .str(
                "unique",
                (0..rows).map(|i| format!("a longer label, row {i}")),
            )
            .str(
                "sparse",
                (0..rows).map(|i| if i % 3 == 0 { "x" } else { "" }),
            )
            .int(
                "n",
                (0..rows).map(|i| (i % 5 != 0).then_some(i as i64 % 1000)),
            )
            .int("big", (0..rows).map(|i| Some(i as i64 * 7_919)))
            .float(
                "rate",
                (0..rows).map(|i| (i % 7 != 0).then_some(i as f64 / 3.0)),
            )
            .bool("flag", (0..rows).map(|i| i % 2 == 0))
            .date(
                "day",
                (0..rows).map(|i| (i % 11 != 0).then(|| day(i)).flatten()),
            );
        t
    }

    /// A table written through `TableWriter` (its row groups encoded column
    /// by column here) has the bytes polars' own writer gives the same
    /// frame: one row group, two and a half, and none.
    #[test]
    fn a_row_group_encoded_column_by_column_has_the_bytes_of_polars_writer() {
        for rows in [0, 1_000, 2 * ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2] {
            let dir = tempfile::tempdir().unwrap();
            let table = every_kind(rows);
            let mut ours =
                TableWriter::create(dir.path(), "kinds", &CsvOptions::default()).unwrap();
            ours.write(table.clone()).unwrap();
            ours.finish().unwrap();

            let mut df = table.into_dataframe().unwrap();
            let polars_path = dir.path().join("polars.parquet");
            ParquetWriter::new(std::fs::File::create(&polars_path).unwrap())
                .with_compression(compression())
                .with_statistics(StatisticsOptions::default())
                .finish(&mut df)
                .unwrap();
            let ours = std::fs::read(dir.path().join("kinds.parquet")).unwrap();
            let theirs = std::fs::read(&polars_path).unwrap();
            assert!(ours == theirs, "{rows} rows: the Parquet files differ");
        }
    }
}
