//! `OutTable`: an output table as named, typed columns, in the order they are
//! published, written to CSV (`output::csv`) and Parquet (polars).
//!
//! Codes are strings, counts integers, dates dates, flags booleans: the
//! Parquet file carries those types, and the CSV writes them plainly (ISO
//! dates, `.` decimals, empty for missing, `\n` line ends, RFC 4180 quoting).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use polars::io::parquet::write::BatchedWriter as ParquetBatches;
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::output::csv;
use crate::output::digest::{BackgroundFile, FileDigest, Identity};
use crate::output::row_group::{self, RowGroupEncoder};
use crate::release::validate::{Checks, TypedRows};
use crate::rules::spreadsheet::{may_start_formula, neutralise, starts_like_formula};

/// The values of one column, held as polars holds them, so that writing
/// the table copies nothing: text in one buffer (short strings inline), not
/// a `String` per cell (the indicator tables hold millions of cells, mostly
/// repeated codes, and a `String` each made them the run's largest
/// allocation), numbers as one array and a validity bitmap, not an
/// `Option` of twice their size (issue 13).
#[derive(Debug, Clone)]
pub enum Values {
    Str(StringChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
    Bool(BooleanChunked),
    /// Days since 1970-01-01, as Parquet and polars store a date.
    Date(Int32Chunked),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Str(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Date(v) => v.len(),
        }
    }

    /// Adds `other`'s values after these, as chunks (nothing is copied).
    fn append(&mut self, other: Values) -> PolarsResult<()> {
        match (self, other) {
            (Values::Str(a), Values::Str(b)) => a.append_owned(b),
            (Values::Int(a), Values::Int(b)) => a.append_owned(b),
            (Values::Float(a), Values::Float(b)) => a.append_owned(b),
            (Values::Bool(a), Values::Bool(b)) => a.append_owned(b),
            (Values::Date(a), Values::Date(b)) => a.append_owned(b),
            _ => polars_bail!(SchemaMismatch: "a column changes type between two pieces"),
        }
    }

    /// Keeps the first `at` values and returns the others (slices of the
    /// same arrays: nothing is copied).
    fn split_off(&mut self, at: usize) -> Values {
        fn split<T: PolarsDataType>(v: &mut ChunkedArray<T>, at: usize) -> ChunkedArray<T> {
            let (head, tail) = v.split_at(at as i64);
            *v = head;
            tail
        }
        match self {
            Values::Str(v) => Values::Str(split(v, at)),
            Values::Int(v) => Values::Int(split(v, at)),
            Values::Float(v) => Values::Float(split(v, at)),
            Values::Bool(v) => Values::Bool(split(v, at)),
            Values::Date(v) => Values::Date(split(v, at)),
        }
    }

    /// The values as one contiguous array, as a single Parquet row group
    /// needs them.
    fn rechunk(&mut self) {
        match self {
            Values::Str(v) => v.rechunk_mut(),
            Values::Int(v) => v.rechunk_mut(),
            Values::Float(v) => v.rechunk_mut(),
            Values::Bool(v) => v.rechunk_mut(),
            Values::Date(v) => v.rechunk_mut(),
        }
    }

    fn into_series(self, name: PlSmallStr) -> Series {
        match self {
            Values::Str(v) => v.with_name(name).into_series(),
            Values::Int(v) => v.with_name(name).into_series(),
            Values::Float(v) => v.with_name(name).into_series(),
            Values::Bool(v) => v.with_name(name).into_series(),
            Values::Date(v) => v.with_name(name).into_date().into_series(),
        }
    }
}

/// A text column as it is built: a text the same as the one before it is
/// stored once, its view repeated. A table's texts come in runs (a
/// certification's label on each of its régions' rows, a région's name on
/// each of its codes'): stored once, they are a few pages instead of one
/// copy a row, which the CSV, the Parquet and the checks then read
/// (issue 13). An empty text is missing.
struct TextColumn {
    array: polars_arrow::array::MutableBinaryViewArray<str>,
    /// Where the last text pushed is, when long enough to lie in the
    /// buffer (a short one lies in its view, copied as cheaply as compared).
    last_long: Option<usize>,
    /// The length of the texts whose view was pushed here rather than by
    /// the array (a repeated text, a short one), which the array's total
    /// length counts once the column is finished.
    bytes_pushed_here: usize,
}

impl TextColumn {
    fn with_capacity(rows: usize) -> TextColumn {
        TextColumn {
            array: polars_arrow::array::MutableBinaryViewArray::with_capacity(rows),
            last_long: None,
            bytes_pushed_here: 0,
        }
    }

    fn push(&mut self, text: &str) {
        if text.is_empty() {
            self.array.push_null();
            self.last_long = None;
            return;
        }
        let repeated = self.last_long.is_some_and(|i| {
            let last = self.array.value(i);
            last.len() == text.len() && (last.as_ptr() == text.as_ptr() || last == text)
        });
        if repeated {
            let view = *self.array.views().last().expect("a text was pushed");
            // SAFETY: the view is the last one pushed, of the same text, in
            // a buffer the array holds (its buffers are only ever added to).
            unsafe { self.push_view(view) };
            self.last_long = Some(self.array.len() - 1);
            return;
        }
        if let Some(view) = inline_view(text.as_bytes()) {
            // Most cells are codes of 12 bytes or fewer, held in their view:
            // made here without a call per cell (polars' `push_value` copied
            // each through `memcpy`, issue 13).
            // SAFETY: an inline view refers to no buffer.
            unsafe { self.push_view(view) };
            self.last_long = None;
            return;
        }
        self.array.push_value(text);
        self.last_long = Some(self.array.len() - 1);
    }

    /// Pushes a valid text's view made here rather than by the array; the
    /// array's total length, which only its freezing reads, is made whole
    /// in `finish`.
    ///
    /// # Safety
    /// The view is inline, or refers to bytes of a buffer the array holds.
    unsafe fn push_view(&mut self, view: polars_arrow::array::View) {
        // SAFETY: the caller's.
        unsafe { self.array.views_mut().push(view) };
        self.bytes_pushed_here += view.length as usize;
        if let Some(validity) = self.array.validity() {
            validity.push(true);
        }
    }

    fn finish(mut self, name: &str) -> StringChunked {
        let total = self.array.total_bytes_len() + self.bytes_pushed_here;
        // SAFETY: the total of the texts' lengths, those pushed here
        // counted as the array's own push would have.
        unsafe { self.array.set_total_bytes_len(total) };
        StringChunked::with_chunk(PlSmallStr::from(name), self.array.freeze())
    }
}

/// The view of a text of 1 to 12 bytes, held inline as Arrow lays it out
/// (length, then the bytes, zero-padded), read with a few overlapping
/// loads rather than a copy of variable length; `None` for a longer or
/// empty text.
fn inline_view(bytes: &[u8]) -> Option<polars_arrow::array::View> {
    let len = bytes.len();
    let load = |at: usize, n: usize| -> u128 {
        let mut v = 0u128;
        for (i, b) in bytes[at..at + n].iter().enumerate() {
            v |= u128::from(*b) << (8 * i);
        }
        v
    };
    let payload = match len {
        // Two loads that overlap where `len` is under 8 (resp. 4): the
        // bytes they share are the same, so or-ing them is exact.
        8..=12 => {
            let head = u128::from(u64::from_le_bytes(bytes[..8].try_into().ok()?));
            let tail = u128::from(u32::from_le_bytes(bytes[len - 4..].try_into().ok()?));
            head | tail << (8 * (len - 4))
        }
        4..=7 => {
            let head = u128::from(u32::from_le_bytes(bytes[..4].try_into().ok()?));
            let tail = u128::from(u32::from_le_bytes(bytes[len - 4..].try_into().ok()?));
            head | tail << (8 * (len - 4))
        }
        1..=3 => load(0, len),
        _ => return None,
    };
    let raw = u128::from(len as u32) | payload << 32;
    // SAFETY: `View` is `repr(C)`, 16 bytes (length, prefix, buffer index,
    // offset, little-endian u32s on the platforms polars supports): the
    // length and the bytes in the twelve after it is an inline view.
    Some(unsafe { std::mem::transmute::<[u8; 16], polars_arrow::array::View>(raw.to_le_bytes()) })
}

/// The formula-like cells of a text array. A text's first bytes are in its
/// view, beside its length: only a text starting with a byte a formula
/// may start with is read whole (issue 13: every text cell of a table was
/// read before its CSV and Parquet were started).
fn formula_cells_of(array: &polars_arrow::array::Utf8ViewArray) -> usize {
    use polars_arrow::array::Array;
    let first_byte = |view: &polars_arrow::array::View| {
        // The first four bytes, the lowest first, inline or not.
        view.prefix.to_le_bytes()[0]
    };
    array
        .views()
        .iter()
        .enumerate()
        .filter(|(i, view)| {
            view.length > 0
                && (cfg!(target_endian = "big") || may_start_formula(first_byte(view)))
                && array.is_valid(*i)
                && starts_like_formula(array.value(*i))
        })
        .count()
}

/// Days since 1970-01-01, the physical value of a date column.
fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    // Any date a `NaiveDate` holds is within ±2^31 days of 1970.
    (date - epoch).num_days() as i32
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// CSV settings of a release (a pipeline can ask for `;`).
#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub separator: u8,
}

impl CsvOptions {
    /// The separators a release may use: `,` (the default, RFC 4180) or `;`
    /// (what French spreadsheets expect). The one reading of the option,
    /// for `--csv-separator` and a pipeline's `settings.csv_separator`.
    pub fn parse_separator(value: &str) -> Result<u8, String> {
        match value {
            "," => Ok(b','),
            ";" => Ok(b';'),
            _ => Err(format!("\"{value}\": expected \",\" or \";\"")),
        }
    }
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { separator: b',' }
    }
}

#[derive(Debug, Clone)]
pub struct OutTable {
    pub name: String,
    pub columns: Vec<Column>,
}

impl OutTable {
    pub fn new(name: &str) -> OutTable {
        OutTable {
            name: name.to_string(),
            columns: Vec::new(),
        }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    fn push(&mut self, name: &str, values: Values) {
        if let Some(first) = self.columns.first() {
            assert_eq!(
                first.values.len(),
                values.len(),
                "column {name} of {} has another length than {}",
                self.name,
                first.name
            );
        }
        self.columns.push(Column {
            name: name.to_string(),
            values,
        });
    }

    /// A text column; empty strings are written as missing.
    pub fn str<S: AsRef<str>>(&mut self, name: &str, values: impl Iterator<Item = S>) -> &mut Self {
        let values = values.into_iter();
        let mut column = TextColumn::with_capacity(values.size_hint().0);
        for s in values {
            column.push(s.as_ref());
        }
        self.push(name, Values::Str(column.finish(name)));
        self
    }

    pub fn int<I: Into<i64>>(
        &mut self,
        name: &str,
        values: impl Iterator<Item = Option<I>>,
    ) -> &mut Self {
        self.push(
            name,
            Values::Int(values.map(|v| v.map(Into::into)).collect()),
        );
        self
    }

    pub fn float(&mut self, name: &str, values: impl Iterator<Item = Option<f64>>) -> &mut Self {
        self.push(name, Values::Float(values.collect()));
        self
    }

    pub fn bool(&mut self, name: &str, values: impl Iterator<Item = bool>) -> &mut Self {
        self.push(name, Values::Bool(values.map(Some).collect()));
        self
    }

    pub fn date(
        &mut self,
        name: &str,
        values: impl Iterator<Item = Option<NaiveDate>>,
    ) -> &mut Self {
        self.push(
            name,
            Values::Date(values.map(|d| d.map(days_since_epoch)).collect()),
        );
        self
    }

    /// Adds the rows of `piece`, a table of the same columns, after these:
    /// a table can be built in pieces, so that what each piece needs while
    /// it is built (its rows' published figures, their places) is held for
    /// a piece at a time, not for the whole table (issue 13). The pieces
    /// are joined into one array per column when the table is written.
    pub fn append(&mut self, piece: OutTable) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = piece.columns;
            return Ok(());
        }
        let same_columns = self.columns.len() == piece.columns.len()
            && self
                .columns
                .iter()
                .zip(&piece.columns)
                .all(|(a, b)| a.name == b.name);
        if !same_columns {
            return Err(Error::Output {
                path: self.name.clone().into(),
                message: "internal error: a piece of the table has other columns".into(),
            });
        }
        for (column, other) in self.columns.iter_mut().zip(piece.columns) {
            column
                .values
                .append(other.values)
                .map_err(|e| Error::Output {
                    path: self.name.clone().into(),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// Keeps the first `at` rows and returns the others, a table of the same
    /// columns (slices: nothing is copied). `at` past the rows keeps them
    /// all.
    pub fn split_off(&mut self, at: usize) -> OutTable {
        let at = at.min(self.rows());
        OutTable {
            name: self.name.clone(),
            columns: self
                .columns
                .iter_mut()
                .map(|c| Column {
                    name: c.name.clone(),
                    values: c.values.split_off(at),
                })
                .collect(),
        }
    }

    /// The table as a polars frame, each column one contiguous array. The
    /// columns are joined one at a time, each piece freed as its column is
    /// joined, so that a table built in pieces is never held twice.
    pub fn into_dataframe(self) -> Result<DataFrame> {
        self.into_frame(true)
    }

    /// The table as a polars frame whose columns keep the pieces the
    /// table was built in ([`OutTable::append`]) as their chunks, aligned
    /// across columns: for writers that take a few rows at a time.
    fn into_frame_of_pieces(self) -> Result<DataFrame> {
        self.into_frame(false)
    }

    fn into_frame(self, joined: bool) -> Result<DataFrame> {
        let OutTable { name, columns } = self;
        let columns: Vec<_> = columns
            .into_iter()
            .map(|mut c| {
                if joined {
                    c.values.rechunk();
                }
                c.values
                    .into_series(PlSmallStr::from(c.name.as_str()))
                    .into_column()
            })
            .collect();
        DataFrame::new_infer_height(columns).map_err(|e| Error::Output {
            path: name.into(),
            message: e.to_string(),
        })
    }

    pub fn to_dataframe(&self) -> Result<DataFrame> {
        self.clone().into_dataframe()
    }

    /// Text cells a spreadsheet would run as a formula (`rules::spreadsheet`):
    /// the CSV writes them with a leading `'`.
    pub fn formula_cells(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match &c.values {
                Values::Str(v) => v.downcast_iter().map(formula_cells_of).sum(),
                _ => 0,
            })
            .sum()
    }

    /// The table as its CSV shows it: formula-like text cells (`formula_cells`
    /// of them) prefixed with `'`.
    fn for_csv(&self, formula_cells: usize) -> std::borrow::Cow<'_, OutTable> {
        if formula_cells == 0 {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut table = self.clone();
        for c in &mut table.columns {
            if let Values::Str(v) = &mut c.values {
                let mut out = StringChunkedBuilder::new(v.name().clone(), v.len());
                for s in v.iter() {
                    out.append_option(s.map(|s| {
                        if starts_like_formula(s) {
                            neutralise(s)
                        } else {
                            std::borrow::Cow::Borrowed(s)
                        }
                    }));
                }
                *v = out.finish();
            }
        }
        std::borrow::Cow::Owned(table)
    }

    /// Writes `<dir>/<name>.csv` and `<dir>/<name>.parquet`, hashing each
    /// file as it is written.
    pub fn write(&self, dir: &Path, csv: &CsvOptions) -> Result<Written> {
        let mut writer = TableWriter::create(dir, &self.name, csv)?;
        writer.write(self.clone())?;
        writer.finish()
    }
}

/// The rows of one Parquet row group, and so of one chunk of a table written
/// by [`TableWriter`]: polars' default, so that a table written whole and the
/// same table written in chunks of this size give the same bytes.
pub const ROW_GROUP_ROWS: usize = 512 * 512;

/// The rows of each row group polars gives a table of `rows` rows written
/// whole: as many groups as [`ROW_GROUP_ROWS`] goes into the rows (at least
/// one), of equal size, the last taking the remainder. A table built and
/// written through [`TableWriter`] in these ranges has the bytes of the same
/// table written whole, however large (a table without rows is one empty
/// range: its header and schema).
pub fn row_group_ranges(rows: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let groups = (rows / ROW_GROUP_ROWS).max(1);
    let size = rows / groups;
    (0..groups).map(move |i| {
        let end = if i + 1 == groups {
            rows
        } else {
            (i + 1) * size
        };
        i * size..end
    })
}

/// A table of more rows than this is written alone by `write_large_alone`:
/// the release reads and sorts each table whole, and two large ones side by
/// side stopped the release of a run at a hundred times today's data
/// (issue 13); polars parallelises the reading and writing of one.
pub const LARGE_TABLE_ROWS: usize = 2 * ROW_GROUP_ROWS;

/// Runs `write` on every table (`rows[i]` rows for `tables[i]`) and returns
/// the results in the tables' order: the small tables side by side (rayon),
/// then each large one alone. The first error stops the rest.
pub fn write_large_alone<T: Sync, R: Send>(
    tables: &[T],
    rows: &[usize],
    write: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use rayon::prelude::*;
    let large = |i: &usize| rows[*i] > LARGE_TABLE_ROWS;
    let mut results: Vec<Option<R>> = (0..tables.len()).map(|_| None).collect();
    let small: Vec<(usize, R)> = (0..tables.len())
        .into_par_iter()
        .filter(|i| !large(i))
        .map(|i| Ok((i, write(&tables[i])?)))
        .collect::<Result<_>>()?;
    for (i, result) in small {
        results[i] = Some(result);
    }
    for i in (0..tables.len()).filter(large) {
        results[i] = Some(write(&tables[i])?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every table written"))
        .collect())
}

/// The rows of a table built at a time by [`build_in_pieces`], unless its
/// rows say otherwise: small enough that what a piece needs while it is
/// built is a few megabytes, large enough that joining the pieces costs
/// nothing measurable.
pub const PIECE_ROWS: usize = 16 * 1024;

/// Builds the rows `range` of a table piece by piece (of `piece_rows` rows,
/// the last one shorter; an empty range is built once, for its columns),
/// the pieces on every thread, and appends them in order. A table built so
/// uses both cores by itself, so tables can be written one at a time: only
/// one table's row group is held.
pub fn build_in_pieces(
    range: std::ops::Range<usize>,
    piece_rows: usize,
    build: impl Fn(std::ops::Range<usize>) -> Result<OutTable> + Sync,
) -> Result<OutTable> {
    use rayon::prelude::*;
    let starts: Vec<usize> = (range.start..range.end.max(range.start + 1))
        .step_by(piece_rows)
        .collect();
    let pieces: Vec<OutTable> = starts
        .into_par_iter()
        .map(|start| build(start..range.end.min(start + piece_rows)))
        .collect::<Result<_>>()?;
    let mut pieces = pieces.into_iter();
    let mut table = pieces.next().expect("at least one piece");
    for piece in pieces {
        table.append(piece)?;
    }
    Ok(table)
}

/// A table built and written a row group at a time
/// ([`write_by_row_group`]): its name, its rows and its files.
pub struct WrittenTable {
    pub name: String,
    pub rows: usize,
    pub written: Written,
}

/// Builds a table of `rows` rows and writes it into `dir` a Parquet row
/// group at a time ([`row_group_ranges`], each built by
/// [`build_in_pieces`] in pieces of `piece_rows`): only one row group's
/// columns are held, and the files have the bytes of the table built whole
/// and written at once.
pub fn write_by_row_group(
    dir: &Path,
    rows: usize,
    piece_rows: usize,
    csv: &CsvOptions,
    build: impl Fn(std::ops::Range<usize>) -> Result<OutTable> + Sync,
) -> Result<WrittenTable> {
    let mut writer: Option<TableWriter> = None;
    for range in row_group_ranges(rows) {
        let chunk = build_in_pieces(range, piece_rows, &build)?;
        let writer = match &mut writer {
            Some(w) => w,
            None => writer.insert(TableWriter::create(dir, &chunk.name, csv)?),
        };
        writer.write(chunk)?;
    }
    let writer = writer.expect("a table has at least one row group");
    let (name, rows) = (writer.name().to_string(), writer.rows());
    Ok(WrittenTable {
        name,
        rows,
        written: writer.finish()?,
    })
}

/// A table written chunk by chunk: its CSV and Parquet grow as chunks come,
/// so a table larger than memory can be written (a national catalogue's
/// offers, issue 13) while only one chunk is held. Each chunk is one
/// Parquet row group; a table written in one chunk has the bytes a whole
/// write gives. Nothing is complete until [`TableWriter::finish`].
pub struct TableWriter {
    name: String,
    csv_path: PathBuf,
    parquet_path: PathBuf,
    separator: u8,
    csv: BackgroundFile,
    /// Shared with the Parquet writer, which owns its sink until the footer;
    /// `None` for a table whose CSV only is written ([`TableWriter::csv_only`]).
    parquet_sink: Option<SharedSink>,
    parquet: Option<(ParquetBatches<SharedSink>, RowGroupEncoder)>,
    /// The rows checked against the table's release schema as they are
    /// written, for a table the release publishes (so that its CSV need
    /// not be read back, `release::validate::TypedRows`).
    typed: Option<TypedRows>,
    /// The stage table whose schema checks the rows: the table's own name
    /// unless [`TableWriter::checked_as`] says otherwise.
    checked_as: Option<String>,
    chunks: usize,
    rows: usize,
    formula_cells: usize,
}

impl TableWriter {
    /// Creates `<dir>/<name>.csv` and `<dir>/<name>.parquet`.
    pub fn create(dir: &Path, name: &str, csv: &CsvOptions) -> Result<TableWriter> {
        let parquet_path = dir.join(format!("{name}.parquet"));
        let mut writer = TableWriter::csv_only(dir, name, csv)?;
        writer.parquet_sink = Some(SharedSink(Arc::new(Mutex::new(BackgroundFile::new(
            create(&parquet_path)?,
        )))));
        Ok(writer)
    }

    /// Creates `<dir>/<name>.csv` only: for a table whose Parquet is copied
    /// rather than written (a release copies a stage's Parquet when it is
    /// what it would write); [`TableWriter::finish_csv`] ends it.
    pub fn csv_only(dir: &Path, name: &str, csv: &CsvOptions) -> Result<TableWriter> {
        let csv_path = dir.join(format!("{name}.csv"));
        Ok(TableWriter {
            name: name.to_string(),
            csv: BackgroundFile::past_cache(create(&csv_path)?),
            parquet_sink: None,
            csv_path,
            parquet_path: dir.join(format!("{name}.parquet")),
            separator: csv.separator,
            parquet: None,
            typed: None,
            checked_as: None,
            chunks: 0,
            rows: 0,
            formula_cells: 0,
        })
    }

    /// Checks the rows as the stage table `source`'s (a release's
    /// `coverage_offers_<catalogue>` is a stage's `coverage_offers`).
    pub fn checked_as(mut self, source: &str) -> TableWriter {
        self.checked_as = Some(source.to_string());
        self
    }

    /// Appends a chunk: the same columns, in the same order, as the first,
    /// as the row groups a whole write of the chunk would cut. A chunk built
    /// in pieces ([`OutTable::append`]) is never joined whole: the CSV is
    /// written from its pieces, and each row group's columns are joined one
    /// at a time as they are encoded (`output::row_group`).
    pub fn write(&mut self, chunk: OutTable) -> Result<()> {
        let formula_cells = chunk.formula_cells();
        let rows = chunk.rows();
        let csv_table = match chunk.for_csv(formula_cells) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(t) => Some(t),
        };
        // The pieces stay pieces: the CSV writer takes a few rows at a
        // time, and each row group's columns are joined one at a time as
        // they are encoded, so the chunk is never held twice (issue 13).
        let df = chunk.into_frame_of_pieces()?;
        let mut csv_df = match csv_table {
            None => df.clone(),
            Some(t) => t.into_frame_of_pieces()?,
        };
        if self.chunks == 0 && self.parquet_sink.is_some() {
            let source = self.checked_as.as_deref().unwrap_or(&self.name);
            self.typed = TypedRows::for_stage_table(source, &df);
        }
        if let (Some(sink), None) = (&self.parquet_sink, &self.parquet) {
            let writer = row_group::writer(sink.clone(), df.schema())
                .map_err(|e| output_error(&self.parquet_path, e))?;
            self.parquet = Some(writer);
        }
        let mut sink = CarriageReturns {
            inner: &mut self.csv,
            seen: false,
        };
        // The CSV, the Parquet and the rows' checks are made side by side,
        // each on threads of its own: the CSV's serialisation waits on its
        // last batch and the Parquet's encoding on its largest column, a
        // core idle each time, and the check is one thread's work (issue
        // 13: one after the other, ×100's regional table kept 1.6 cores
        // busy).
        let (typed, parquet, parquet_path, rows_ref) = (
            &mut self.typed,
            self.parquet.as_mut(),
            &self.parquet_path,
            &df,
        );
        std::thread::scope(|scope| {
            if let Some(typed) = typed.as_mut() {
                scope.spawn(move || typed.check(rows_ref));
            }
            let encoded = parquet.map(|(batches, encoder)| {
                scope.spawn(move || {
                    // The row groups polars' `ParquetWriter::finish` cuts a
                    // frame of these rows into, each encoded one column at a
                    // time (`output::row_group`); a frame without rows has
                    // none.
                    for range in row_group_ranges(rows_ref.height()).filter(|r| !r.is_empty()) {
                        let pages = encoder
                            .encode(rows_ref, range.clone())
                            .map_err(|e| output_error(parquet_path, e))?;
                        batches
                            .write_row_group(range.len() as u64, &pages)
                            .map_err(|e| output_error(parquet_path, e))?;
                    }
                    Ok(())
                })
            });
            let layout = csv::Layout {
                separator: self.separator,
                header: self.chunks == 0,
            };
            let csv = match csv::write_frame(&csv_df, layout, &mut sink) {
                Ok(true) => Ok(()),
                Ok(false) => CsvWriter::new(&mut sink)
                    .include_header(layout.header)
                    .with_separator(layout.separator)
                    .with_line_terminator("\n".into())
                    .with_date_format(Some("%Y-%m-%d".into()))
                    .with_null_value("".into())
                    .finish(&mut csv_df),
                Err(e) => Err(e),
            }
            .map_err(|e| output_error(&self.csv_path, e));
            let parquet = encoded.map_or(Ok(()), |encoding| {
                encoding
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            csv.and(parquet)
        })?;
        drop(csv_df);
        if sink.seen {
            // Line ends must be `\n`: the CSV's own checks will say where.
            self.typed = None;
        }
        self.chunks += 1;
        self.rows += rows;
        self.formula_cells += formula_cells;
        Ok(())
    }

    /// The rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes the Parquet footer and flushes both files.
    pub fn finish(self) -> Result<Written> {
        let TableWriter {
            csv_path,
            parquet_path,
            separator,
            csv,
            parquet_sink,
            parquet,
            typed,
            formula_cells,
            ..
        } = self;
        let (csv, csv_identity) = csv
            .finish_file_identified()
            .map_err(|e| output_error(&csv_path, e))?;
        let (Some(parquet_sink), Some((batches, _))) = (parquet_sink, parquet) else {
            return Err(Error::Output {
                path: parquet_path,
                message: "internal error: a table finished before its first chunk, or without its Parquet".into(),
            });
        };
        batches
            .finish()
            .map_err(|e| output_error(&parquet_path, e))?;
        drop(batches);
        let sink = Arc::try_unwrap(parquet_sink.0)
            .ok()
            .expect("the Parquet writer is dropped")
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (parquet, parquet_identity) = sink
            .finish_file_identified()
            .map_err(|e| output_error(&parquet_path, e))?;
        if let (Some(csv), Some(parquet)) = (csv_identity, parquet_identity) {
            remember_pair(
                parquet,
                Pair {
                    csv,
                    together: Together {
                        separator,
                        formula_cells,
                        checked: typed.and_then(TypedRows::finish),
                    },
                },
            );
        }
        Ok(Written {
            csv,
            parquet,
            formula_cells,
        })
    }

    /// Flushes the CSV of a [`TableWriter::csv_only`] table: its digest and
    /// the formula-like cells it neutralised.
    pub fn finish_csv(self) -> Result<(FileDigest, usize)> {
        let csv = self
            .csv
            .finish_file()
            .map_err(|e| output_error(&self.csv_path, e))?;
        Ok((csv, self.formula_cells))
    }
}

/// A table's two files as a [`TableWriter`] of this process wrote them
/// from the same rows: the CSV's identity, and what the two say of it,
/// under the Parquet's identity.
#[derive(Clone)]
struct Pair {
    csv: Identity,
    together: Together,
}

/// What a [`TableWriter`] of this process knows of a CSV it wrote with its
/// Parquet, from the same rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Together {
    pub separator: u8,
    /// The formula-like cells it neutralised.
    pub formula_cells: usize,
    /// What its rows were checked against, when they were all clear
    /// (`release::validate::TypedRows`).
    pub checked: Option<Checks>,
}

fn pairs() -> &'static Mutex<HashMap<Identity, Pair>> {
    static PAIRS: OnceLock<Mutex<HashMap<Identity, Pair>>> = OnceLock::new();
    PAIRS.get_or_init(Default::default)
}

fn remember_pair(parquet: Identity, pair: Pair) {
    let mut pairs = pairs().lock().unwrap_or_else(|p| p.into_inner());
    pairs.insert(parquet, pair);
}

/// When the CSV at `csv` is what a [`TableWriter`] with `options` writes
/// from the rows of the Parquet at `parquet`: what the writer knows of it.
/// That is, this process wrote both files in one `TableWriter`, with that
/// separator, and neither has changed since (their identities,
/// `output::digest`). A release copies such a CSV instead of writing it
/// again from the Parquet's rows (issue 13: the same bytes).
pub fn written_together(parquet: &Path, csv: &Path, options: &CsvOptions) -> Option<Together> {
    let parquet = Identity::of_path(parquet)?;
    let csv = Identity::of_path(csv)?;
    let pairs = pairs().lock().unwrap_or_else(|p| p.into_inner());
    let pair = pairs.get(&parquet)?;
    (pair.csv == csv && pair.together.separator == options.separator).then(|| pair.together.clone())
}

/// A CSV's bytes on their way to its file, watched for a `\r` (in a text
/// cell: the writer ends lines with `\n`), which only the CSV's own
/// checks report (`release::validate::TypedRows` does not read texts).
struct CarriageReturns<'a, W> {
    inner: &'a mut W,
    seen: bool,
}

impl<W: Write> Write for CarriageReturns<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.seen = self.seen || memchr::memchr(b'\r', &buf[..n]).is_some();
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The Parquet file's writer (written and hashed on its own thread),
/// shared so that `TableWriter::finish` can take its digest back from
/// polars' batched writer, which owns it.
#[derive(Clone)]
struct SharedSink(Arc<Mutex<BackgroundFile>>);

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.lock().flush()
    }
}

impl SharedSink {
    fn lock(&self) -> std::sync::MutexGuard<'_, BackgroundFile> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What `OutTable::write` wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub csv: FileDigest,
    pub parquet: FileDigest,
    /// Text cells written with a leading `'` in the CSV (`rules::spreadsheet`).
    pub formula_cells: usize,
}

impl Written {
    /// What the run says about the table's formula-like cells, if any.
    pub fn formula_note(&self, table: &str) -> Option<String> {
        let n = self.formula_cells;
        (n > 0).then(|| {
            format!(
                "{table}: {n} text cell(s) starting like a spreadsheet formula (=, +, -, @, tab, CR) written with a leading ' in {table}.csv; {table}.parquet keeps them as they are"
            )
        })
    }
}

fn create(path: &Path) -> Result<File> {
    File::create(path).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_counted_from_their_first_byte_then_their_text() {
        let texts = [
            "=1",
            "=HYPERLINK(\"http://x.example\",\"clic\")",
            "-3",
            "-x",
            "+12345678901234.5",
            "+ une option assez longue",
            "",
            "@",
            "\tx",
            "CAP cuisine",
            "Île-de-France",
            "a=b",
        ];
        // Runs of each text (stored once), in pieces, as tables are built.
        let column: Vec<&str> = (0..60).map(|i| texts[(i / 2) % texts.len()]).collect();
        let mut table = OutTable::new("t");
        table.str("libelle", column[..25].iter());
        let mut rest = OutTable::new("t");
        rest.str("libelle", column[25..].iter());
        table.append(rest).unwrap();
        let expected = column.iter().filter(|t| starts_like_formula(t)).count();
        // Thirty pairs of rows: the first six texts three times, the others
        // twice; formula-like: the 1st, 2nd, 4th, 6th (3 pairs each), the
        // 8th and 9th (2 pairs each).
        assert_eq!(expected, (4 * 3 + 2 * 2) * 2);
        assert_eq!(table.formula_cells(), expected);
    }

    #[test]
    fn the_two_separators_and_nothing_else() {
        assert_eq!(CsvOptions::parse_separator(","), Ok(b','));
        assert_eq!(CsvOptions::parse_separator(";"), Ok(b';'));
        for bad in ["", "\t", "|", ", ", ";;", "comma"] {
            let e = CsvOptions::parse_separator(bad).unwrap_err();
            assert!(e.contains("expected \",\" or \";\""), "{bad:?}: {e}");
        }
        assert_eq!(CsvOptions::default().separator, b',');
    }

    fn numbers(range: std::ops::Range<usize>) -> OutTable {
        let mut t = OutTable::new("numbers");
        t.int("n", range.clone().map(|i| Some(i as i64 % 1000)))
            .str("label", range.map(|i| format!("row {}", i % 97)));
        t
    }

    /// A short text's view made by loads is the view Arrow makes of it,
    /// at every length and whatever its bytes (UTF-8 of several bytes too).
    #[test]
    fn inline_views_are_arrows() {
        use polars_arrow::array::View;
        let alphabet = "aZ09é€ \";\"\n;".as_bytes();
        for len in 1..=12 {
            for start in 0..alphabet.len() {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| alphabet[(start + i * 7) % alphabet.len()] ^ (i as u8 & 1))
                    .collect();
                assert_eq!(
                    inline_view(&bytes),
                    Some(View::new_inline(&bytes)),
                    "{bytes:?}"
                );
            }
        }
        assert_eq!(inline_view(b""), None);
        assert_eq!(inline_view(b"1234567890123"), None);
    }

    /// A text column whose repeated texts are stored once holds the texts
    /// a column of every text copied holds, in fewer bytes, and the table
    /// has the same CSV and Parquet bytes.
    #[test]
    fn repeated_texts_are_stored_once_with_the_same_files() {
        let long = "MC4 AGT CONTROL.NON DESTRUCTIF (MC4)".to_string();
        let texts: Vec<String> = (0..5_000)
            .map(|i| match i % 11 {
                0 => String::new(),
                1..=4 => long.clone(),
                5 | 6 => "01022001".to_string(),
                7 => format!("{long} {}", i / 50),
                _ => format!("texte long numéro {}", i / 3),
            })
            .collect();
        let mut deduplicated = OutTable::new("t");
        deduplicated.str("texte", texts.iter());
        let Values::Str(ours) = &deduplicated.columns[0].values else {
            unreachable!("a text column")
        };
        let mut copied = StringChunkedBuilder::new("texte".into(), texts.len());
        for t in &texts {
            copied.append_option((!t.is_empty()).then_some(t.as_str()));
        }
        let copied = copied.finish();
        assert!(ours.iter().eq(copied.iter()));
        let (a, b) = (
            ours.downcast_iter().next().unwrap(),
            copied.downcast_iter().next().unwrap(),
        );
        assert_eq!(a.total_bytes_len(), b.total_bytes_len());
        assert!(a.total_buffer_len() < b.total_buffer_len() / 2);

        let mut whole = OutTable::new("t");
        whole.columns.push(Column {
            name: "texte".into(),
            values: Values::Str(copied),
        });
        let (x, y) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        deduplicated
            .write(x.path(), &CsvOptions::default())
            .unwrap();
        whole.write(y.path(), &CsvOptions::default()).unwrap();
        for file in ["t.csv", "t.parquet"] {
            let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(file)).unwrap();
            assert!(read(&x) == read(&y), "{file} differs");
        }
    }

    /// Results come in the tables' order; the large tables are written
    /// after the small ones, one by one, in order; an error stops the run.
    #[test]
    fn large_tables_are_written_alone_and_results_keep_their_order() {
        let rows = [1, LARGE_TABLE_ROWS + 1, 2, 3 * LARGE_TABLE_ROWS];
        let tables = [0usize, 1, 2, 3];
        let order = std::sync::Mutex::new(Vec::new());
        let out = write_large_alone(&tables, &rows, |t| {
            order.lock().unwrap().push(*t);
            Ok(t * 10)
        })
        .unwrap();
        assert_eq!(out, [0, 10, 20, 30]);
        assert_eq!(order.into_inner().unwrap()[2..], [1, 3]);
        let failed = write_large_alone(&tables, &rows, |t| match t {
            3 => Err(Error::usage("table 3 failed")),
            _ => Ok(*t),
        });
        assert!(failed.unwrap_err().to_string().contains("table 3 failed"));
    }

    #[test]
    fn row_group_ranges_cover_the_rows_once() {
        let r = ROW_GROUP_ROWS;
        for (rows, groups) in [
            (0, 1),
            (1, 1),
            (r - 1, 1),
            (r, 1),
            (2 * r - 1, 1),
            (2 * r, 2),
            (3 * r + 5, 3),
        ] {
            let ranges: Vec<_> = row_group_ranges(rows).collect();
            assert_eq!(ranges.len(), groups, "{rows} rows");
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges.last().unwrap().end, rows);
            assert!(
                ranges.windows(2).all(|w| w[0].end == w[1].start),
                "{ranges:?}"
            );
        }
    }

    /// A table built in pieces (joined on two threads) has the bytes of the
    /// same table built at once; an empty range still gives the columns; a
    /// piece with other columns is an error, not a silently shifted table.
    #[test]
    fn a_table_built_in_pieces_has_the_bytes_of_a_table_built_whole() {
        let csv = CsvOptions::default();
        for rows in [0, 1, PIECE_ROWS, 2 * PIECE_ROWS + 5] {
            let whole = tempfile::tempdir().unwrap();
            let pieces = tempfile::tempdir().unwrap();
            numbers(0..rows).write(whole.path(), &csv).unwrap();
            let calls = std::sync::atomic::AtomicUsize::new(0);
            let built = build_in_pieces(0..rows, PIECE_ROWS, |range| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert!(range.len() <= PIECE_ROWS);
                Ok(numbers(range))
            })
            .unwrap();
            assert_eq!(built.rows(), rows);
            assert_eq!(calls.into_inner(), rows.div_ceil(PIECE_ROWS).max(1));
            let mut writer = TableWriter::create(pieces.path(), "numbers", &csv).unwrap();
            writer.write(built).unwrap();
            writer.finish().unwrap();
            for file in ["numbers.csv", "numbers.parquet"] {
                let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(file)).unwrap();
                assert!(read(&whole) == read(&pieces), "{rows} rows: {file} differs");
            }
        }
        let mut other = OutTable::new("numbers");
        other.int("m", [Some(1)].into_iter());
        assert!(numbers(0..1).append(other).is_err());
    }

    /// A table split in two gives the two tables of its rows, with the
    /// bytes they have built on their own; split past its end, it keeps
    /// its rows.
    #[test]
    fn a_table_split_gives_the_tables_of_its_rows() {
        let csv = CsvOptions::default();
        let bytes = |t: OutTable| {
            let dir = tempfile::tempdir().unwrap();
            t.write(dir.path(), &csv).unwrap();
            ["numbers.csv", "numbers.parquet"].map(|f| std::fs::read(dir.path().join(f)).unwrap())
        };
        let mut head = numbers(0..3);
        head.append(numbers(3..10)).unwrap();
        let tail = head.split_off(4);
        assert_eq!((head.rows(), tail.rows()), (4, 6));
        assert!(bytes(head) == bytes(numbers(0..4)));
        assert!(bytes(tail) == bytes(numbers(4..10)));
        let mut all = numbers(0..5);
        assert_eq!(all.split_off(9).rows(), 0);
        assert_eq!(all.rows(), 5);
    }

    /// A table's two files are known as written together while neither
    /// changes, and only for the separator they were written with.
    #[test]
    fn two_files_written_together_until_one_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (csv, semicolon) = (CsvOptions::default(), CsvOptions { separator: b';' });
        let mut t = OutTable::new("t");
        t.str("libelle", ["=1+1", "CAP", "@SOMME(A1)", "+33"].into_iter());
        let mut writer = TableWriter::create(dir.path(), "t", &csv).unwrap();
        writer.write(t).unwrap();
        writer.finish().unwrap();
        let (parquet, csv_path) = (dir.path().join("t.parquet"), dir.path().join("t.csv"));
        let together = written_together(&parquet, &csv_path, &csv).unwrap();
        assert_eq!(together.formula_cells, 2);
        assert_eq!(together.checked, None, "`t` is no table of the release");
        assert_eq!(written_together(&parquet, &csv_path, &semicolon), None);
        assert_eq!(written_together(&csv_path, &parquet, &csv), None);
        std::fs::write(&csv_path, "libelle\n'=1+1\nCAP\n").unwrap();
        assert_eq!(written_together(&parquet, &csv_path, &csv), None);
    }

    /// Two and a half row groups' worth of rows, written whole and written
    /// through `TableWriter` in `row_group_ranges`: the same bytes.
    #[test]
    fn a_table_written_in_its_row_groups_has_the_bytes_of_a_whole_write() {
        let rows = 2 * ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2;
        let whole = tempfile::tempdir().unwrap();
        let chunked = tempfile::tempdir().unwrap();
        let csv = CsvOptions::default();
        numbers(0..rows).write(whole.path(), &csv).unwrap();
        let mut writer = TableWriter::create(chunked.path(), "numbers", &csv).unwrap();
        let ranges: Vec<_> = row_group_ranges(rows).collect();
        assert_eq!(ranges.len(), 2);
        for range in ranges {
            writer.write(numbers(range)).unwrap();
        }
        assert_eq!(writer.rows(), rows);
        writer.finish().unwrap();
        for file in ["numbers.csv", "numbers.parquet"] {
            let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(file)).unwrap();
            assert!(read(&whole) == read(&chunked), "{file} differs");
        }
    }
}
