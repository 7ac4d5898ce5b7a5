//! A Parquet row group encoded and compressed one column at a time.
//!
//! polars' `BatchedWriter::write_batch` takes a frame of one chunk per
//! column and encodes every column of a row group at once (all columns'
//! dictionaries and pages side by side), compressing them as it writes.
//! A table built in pieces (`OutTable::append`) had to be joined whole
//! first: the pieces and the joined columns were held together, the
//! indicators stage's peak at ×10 (+110 MB over its rows). Here each
//! column's rows are joined, encoded and compressed, then dropped, before
//! the next (two at a time, one per core, which also compresses on both
//! cores): what is held beside the pieces is one or two joined columns and
//! the compressed pages, each shrunk to its bytes (issue 13).
//!
//! The pages are polars' own: the same `array_to_columns` and `Compressor`
//! calls with the same schema, encodings and options as `write_batch`, on
//! the same rows cut into the same row groups, and the row group goes
//! through the same `FileWriter`, so the file has the same bytes (test
//! below, against `ParquetWriter::finish`; every table of the sample, real
//! and ×10 releases compared by SHA-256).

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::io::parquet::write::{get_encodings, BatchedWriter};
use polars::prelude::*;
use polars_arrow::array::{
    Array as _, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray, View,
};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_compute::hyperloglogplus::HyperLogLog;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::{
    array_to_columns, CompressedPage, Compressor, Encoding, ParquetType, StatisticsOptions,
    Version, WriteOptions,
};

/// The compression of every Parquet file the tool writes: zstd at its
/// default level.
fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(None)
}

/// A Parquet file's writer for tables of `schema`, and the encoder of its
/// row groups: both with the same options (zstd, polars' default
/// statistics), set here once so that pages and file agree.
pub fn writer<W: std::io::Write>(
    sink: W,
    schema: &Schema,
) -> PolarsResult<(BatchedWriter<W>, RowGroupEncoder)> {
    let statistics = StatisticsOptions::default();
    let mut batches = ParquetWriter::new(sink)
        .with_compression(compression())
        .with_statistics(statistics)
        .batched(schema)?;
    let encoder = RowGroupEncoder {
        fields: batches.parquet_schema().fields().to_vec(),
        encodings: get_encodings(&schema.to_arrow(CompatLevel::newest()))
            .iter()
            .cloned()
            .collect(),
        options: WriteOptions {
            statistics,
            compression: compression().into(),
            version: Version::V1,
            data_page_size: None,
        },
    };
    Ok((batches, encoder))
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
    /// The compressed pages of each column (each leaf: a flat table has
    /// one per column) of the row group `rows` of `frame`, in the schema's
    /// order. Each column's rows are joined into one array (as polars'
    /// writer has them) only while that column is encoded.
    pub fn encode(
        &self,
        frame: &DataFrame,
        rows: std::ops::Range<usize>,
    ) -> PolarsResult<Vec<Vec<CompressedPage>>> {
        use rayon::prelude::*;
        let columns: Vec<Vec<Vec<CompressedPage>>> = frame
            .columns()
            .par_iter()
            .zip(&self.fields)
            .zip(&self.encodings)
            .map(|((column, type_), encoding)| {
                let joined = column
                    .as_materialized_series()
                    .slice(rows.start as i64, rows.len())
                    .rechunk();
                self.column(&joined.to_arrow(0, CompatLevel::newest()), type_, encoding)
            })
            .collect::<PolarsResult<_>>()?;
        Ok(columns.into_iter().flatten().collect())
    }

    /// One column's leaves, each encoded and compressed. A text column
    /// polars would try as a dictionary is decided and made one here
    /// ([`text_dictionary`]), with the pages polars would make of it.
    fn column(
        &self,
        array: &ArrayRef,
        type_: &ParquetType,
        encoding: &[Encoding],
    ) -> PolarsResult<Vec<Vec<CompressedPage>>> {
        let texts = array.as_any().downcast_ref::<Utf8ViewArray>();
        if let (Some(texts), [Encoding::RleDictionary]) = (texts, encoding) {
            if !texts.is_empty() {
                return match text_dictionary(texts) {
                    Some(dictionary) => self.pages(&dictionary.boxed(), type_, encoding),
                    None => self.pages(array, type_, &[Encoding::Plain]),
                };
            }
        }
        self.pages(array, type_, encoding)
    }

    fn pages(
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

/// A text column as polars' Parquet writer would encode it
/// (`encode_as_dictionary_optional`): `None` for plain pages, when a
/// sketch of its distinct texts (HyperLogLog, a missing text counted as an
/// empty one) finds more than three quarters of more than 128 rows
/// distinct; else the dictionary its cast would make (each distinct text
/// in the order it first comes, a key per row, missing rows missing).
///
/// polars hashes every row's text twice, once for the sketch and once
/// into its dictionary (7 % of the real run's CPU, issue 13). A table's
/// texts come in runs, and a repeated text has the very view of the row
/// before it (`OutTable::str`): a row whose view is its predecessor's adds
/// nothing to the sketch (a sketch only keeps, per register, the largest
/// value it was given) and takes its predecessor's key, so each run is
/// hashed once. Same decision, same dictionary, same pages (tested against
/// polars' writer below).
fn text_dictionary(texts: &Utf8ViewArray) -> Option<DictionaryArray<u32>> {
    let rows = texts.len();
    let views = texts.views();
    let estimate = if texts.null_count() == rows {
        1
    } else {
        let mut sketch = HyperLogLog::<[u8]>::new();
        if texts.null_count() > 0 {
            sketch.add(b"");
        }
        let mut previous = None;
        for (i, view) in views.iter().enumerate() {
            if texts.is_valid(i) && previous.replace(*view) != Some(*view) {
                // SAFETY: `i` is a row of the array.
                sketch.add(unsafe { texts.value_unchecked(i) }.as_bytes());
            }
        }
        sketch.count()
    };
    if rows > 128 && estimate as f64 / rows as f64 > 0.75 {
        return None;
    }
    let mut keys: Vec<u32> = Vec::with_capacity(rows);
    // As the cast's keys: a validity from the first missing row on.
    let mut validity: Option<MutableBitmap> = None;
    let mut values = MutableBinaryViewArray::<str>::with_capacity(estimate);
    let mut index: HashMap<&str, u32, FixedState> =
        HashMap::with_capacity_and_hasher(estimate, FixedState::default());
    let mut previous: Option<(View, u32)> = None;
    for (i, view) in views.iter().enumerate() {
        if !texts.is_valid(i) {
            validity
                .get_or_insert_with(|| {
                    let mut v = MutableBitmap::with_capacity(rows);
                    v.extend_constant(i, true);
                    v
                })
                .push(false);
            keys.push(0);
            continue;
        }
        if let Some(v) = &mut validity {
            v.push(true);
        }
        let key = match previous {
            Some((before, key)) if before == *view => key,
            _ => {
                // SAFETY: `i` is a row of the array.
                let text = unsafe { texts.value_unchecked(i) };
                // Fewer distinct texts than rows, and a row group's rows
                // are far fewer than 2³² (`ROW_GROUP_ROWS`).
                let next = values.len() as u32;
                let key = *index.entry(text).or_insert_with(|| {
                    values.push_value(text);
                    next
                });
                previous = Some((*view, key));
                key
            }
        };
        keys.push(key);
    }
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity.map(Into::into));
    let dtype = ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    );
    let dictionary = DictionaryArray::try_new(dtype, keys, values.freeze().boxed())
        .expect("each key is the place of a text pushed before it");
    Some(dictionary)
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
    use crate::output::table::{
        build_in_pieces, CsvOptions, OutTable, TableWriter, PIECE_ROWS, ROW_GROUP_ROWS,
    };

    /// Every kind of column the tool writes, in both of polars' encodings:
    /// low-cardinality strings and integers (dictionary), unique strings and
    /// floats (plain), nulls, booleans, dates; texts in runs, and a column
    /// of missing texts only.
    fn every_kind(rows: std::ops::Range<usize>) -> OutTable {
        let day =
            |i: usize| chrono::NaiveDate::from_num_days_from_ce_opt(738_000 + (i % 400) as i32);
        let mut t = OutTable::new("kinds");
        t.str("code", rows.clone().map(|i| format!("{:08}", i % 211)))
            .str(
                "unique",
                rows.clone().map(|i| format!("a longer label, row {i}")),
            )
            .str(
                "sparse",
                rows.clone().map(|i| if i % 3 == 0 { "x" } else { "" }),
            )
            // Long texts in runs (one view repeated), a run broken by a
            // missing row, a text coming back after others.
            .str(
                "label",
                rows.clone().map(|i| match i % 10 {
                    9 => String::new(),
                    _ => format!("the long label of a certification, {}", i / 7 % 13),
                }),
            )
            .str("missing", rows.clone().map(|_| ""))
            .int(
                "n",
                rows.clone()
                    .map(|i| (i % 5 != 0).then_some(i as i64 % 1000)),
            )
            .int("big", rows.clone().map(|i| Some(i as i64 * 7_919)))
            .float(
                "rate",
                rows.clone().map(|i| (i % 7 != 0).then_some(i as f64 / 3.0)),
            )
            .bool("flag", rows.clone().map(|i| i % 2 == 0))
            .date(
                "day",
                rows.clone()
                    .map(|i| (i % 11 != 0).then(|| day(i)).flatten()),
            );
        t
    }

    /// A table written through `TableWriter` (its row groups encoded column
    /// by column here, its texts' dictionaries made here), whole or built in
    /// pieces, has the bytes polars' own writer gives the same frame: one
    /// row group, two and a half, none, and one of 100 rows (under 129 rows
    /// even distinct texts make a dictionary).
    #[test]
    fn a_row_group_encoded_column_by_column_has_the_bytes_of_polars_writer() {
        for rows in [0, 100, 1_000, 2 * ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2] {
            let dir = tempfile::tempdir().unwrap();
            let mut df = every_kind(0..rows).into_dataframe().unwrap();
            let polars_path = dir.path().join("polars.parquet");
            ParquetWriter::new(std::fs::File::create(&polars_path).unwrap())
                .with_compression(compression())
                .with_statistics(StatisticsOptions::default())
                .finish(&mut df)
                .unwrap();
            let theirs = std::fs::read(&polars_path).unwrap();
            let in_pieces =
                build_in_pieces(0..rows, PIECE_ROWS, |range| Ok(every_kind(range))).unwrap();
            for (how, table) in [("whole", every_kind(0..rows)), ("in pieces", in_pieces)] {
                let csv = CsvOptions::default();
                let mut ours = TableWriter::create(dir.path(), "kinds", &csv).unwrap();
                ours.write(table).unwrap();
                ours.finish().unwrap();
                let ours = std::fs::read(dir.path().join("kinds.parquet")).unwrap();
                assert!(
                    ours == theirs,
                    "{rows} rows, {how}: the Parquet files differ"
                );
            }
        }
    }
}
