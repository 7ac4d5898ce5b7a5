//! A table's CSV, serialised from its columns as polars' `CsvWriter` would
//! write them with ij's options (`,` or `;`, `\n`, ISO dates, empty for
//! missing, quotes only where needed), byte for byte (tested against it).
//!
//! Why not polars' writer: it was the largest single item of the real
//! run's profile (15 % of its CPU, issue 13). It re-joins every batch of
//! rows it cuts (a copy of each text column's views), calls one boxed
//! serialiser per cell reading the columns side by side (each cell a wait
//! on memory: dozens of arrays are more streams than the processor
//! prefetches), and scans every text for the separator and the quote,
//! though a table's texts come in runs (a certification's label on each of
//! its régions' rows). Here a batch of rows is written one column at a
//! time, then its lines are put together from the columns' bytes, which
//! lie in the core's cache by then; a text the same as the cell above it
//! (the same view: `OutTable::str` stores a run once) is copied from the
//! bytes just written for it; the columns are read in place, whatever
//! their chunks.

use std::io::Write;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray, View};
use rayon::prelude::*;

/// Rows serialised by one thread at a time: a few hundred kilobytes of
/// CSV, so that both cores share a table's rows and only a few batches are
/// held before they are written.
const BATCH_ROWS: usize = 2048;

/// How the CSV is laid out: its separator, and whether it starts with its
/// header (a table written in chunks has it once).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub separator: u8,
    pub header: bool,
}

/// Writes the rows of `frame` (preceded by its header when
/// `layout.header`) into `sink`. `Ok(false)` when a column has a type this
/// serialiser does not write (nothing is written then, the caller uses
/// polars' writer): an `OutTable` holds none.
pub fn write_frame(frame: &DataFrame, layout: Layout, sink: &mut impl Write) -> PolarsResult<bool> {
    let Some(columns) = frame
        .columns()
        .iter()
        .map(|c| Cells::of(c.as_materialized_series()))
        .collect::<PolarsResult<Option<Vec<Cells>>>>()?
    else {
        return Ok(false);
    };
    if layout.header {
        let mut header = Vec::new();
        for (i, name) in frame.get_column_names().into_iter().enumerate() {
            if i > 0 {
                header.push(layout.separator);
            }
            write_text(&mut header, name.as_bytes(), layout.separator);
        }
        header.push(b'\n');
        sink.write_all(&header)?;
    }
    let rows = frame.height();
    let threads = rayon::current_num_threads().max(1);
    let mut buffers: Vec<(Vec<u8>, Scratch)> = (0..threads).map(|_| Default::default()).collect();
    // Windows of one batch per thread, written in order once serialised.
    for window in (0..rows).step_by(BATCH_ROWS * threads) {
        buffers
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, (buffer, scratch))| {
                buffer.clear();
                let start = (window + i * BATCH_ROWS).min(rows);
                let end = (start + BATCH_ROWS).min(rows);
                serialise_rows(&columns, start..end, layout.separator, scratch, buffer);
            });
        for (buffer, _) in &buffers {
            sink.write_all(buffer)?;
        }
    }
    Ok(true)
}

/// A column's arrays, in row order, and the row each starts at.
struct Cells<'a> {
    kind: Kind<'a>,
    starts: Vec<usize>,
}

enum Kind<'a> {
    Text(Vec<&'a Utf8ViewArray>),
    Int(Vec<&'a PrimitiveArray<i64>>),
    Float(Vec<&'a PrimitiveArray<f64>>),
    Bool(Vec<&'a BooleanArray>),
    /// Days since 1970-01-01.
    Date(Vec<&'a PrimitiveArray<i32>>),
}

impl<'a> Cells<'a> {
    fn of(series: &'a Series) -> PolarsResult<Option<Cells<'a>>> {
        let kind = match series.dtype() {
            DataType::String => Kind::Text(series.str()?.downcast_iter().collect()),
            DataType::Int64 => Kind::Int(series.i64()?.downcast_iter().collect()),
            DataType::Float64 => Kind::Float(series.f64()?.downcast_iter().collect()),
            DataType::Boolean => Kind::Bool(series.bool()?.downcast_iter().collect()),
            DataType::Date => Kind::Date(series.date()?.physical().downcast_iter().collect()),
            _ => return Ok(None),
        };
        let lengths: Vec<usize> = series.chunks().iter().map(|a| a.len()).collect();
        let starts = lengths
            .iter()
            .scan(0, |start, len| {
                let this = *start;
                *start += len;
                Some(this)
            })
            .collect();
        Ok(Some(Cells { kind, starts }))
    }

    /// The array holding `row` (the last of those starting at or before
    /// it: arrays may be empty).
    fn chunk_of(&self, row: usize) -> usize {
        self.starts.partition_point(|&s| s <= row).saturating_sub(1)
    }
}

/// A batch's cells, column by column: each column's cells written one
/// after the other, and where each ends.
#[derive(Default)]
struct Scratch {
    cells: Vec<Vec<u8>>,
    ends: Vec<Vec<u32>>,
}

/// Writes the lines of `rows` at the end of `out`. Each column's cells are
/// written first, one column at a time, then copied into lines: a line
/// reads every column, dozens of arrays, more streams than the processor
/// follows (each cell was a wait on memory, issue 13), where a column is
/// one stream, and its cells then lie in the core's own cache.
fn serialise_rows(
    columns: &[Cells],
    rows: std::ops::Range<usize>,
    separator: u8,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    scratch.cells.resize_with(columns.len(), Vec::new);
    scratch.ends.resize_with(columns.len(), Vec::new);
    for ((column, cells), ends) in columns
        .iter()
        .zip(&mut scratch.cells)
        .zip(&mut scratch.ends)
    {
        cells.clear();
        ends.clear();
        column.serialise(rows.clone(), separator, cells, ends);
        // Slack for the lines' 16-byte copies below.
        cells.extend_from_slice(&[0; COPY]);
    }
    let bytes: usize = scratch.cells.iter().map(|c| c.len() - COPY).sum();
    let lines = rows.len();
    out.reserve(bytes + lines * columns.len() + COPY);
    // SAFETY: `out` holds `bytes` of cells and a separator or a line end per
    // cell, `COPY` bytes more than that reserved: a copy of `COPY` bytes
    // from where a cell starts writes within the reservation, and reads
    // within its column's cells (each padded with `COPY` bytes). The
    // bytes copied past a cell's end are overwritten by what follows it,
    // and `out`'s length is set to what was written.
    unsafe {
        let mut to = out.as_mut_ptr().add(out.len());
        let begin = to;
        let mut starts = vec![0u32; columns.len()];
        for line in 0..lines {
            for (c, (cells, ends)) in scratch.cells.iter().zip(&scratch.ends).enumerate() {
                let (start, end) = (starts[c] as usize, ends[line] as usize);
                starts[c] = ends[line];
                let len = end - start;
                let from = cells.as_ptr().add(start);
                if len <= COPY {
                    std::ptr::copy_nonoverlapping(from, to, COPY);
                } else {
                    std::ptr::copy_nonoverlapping(from, to, len);
                }
                to = to.add(len);
                *to = if c + 1 == columns.len() {
                    b'\n'
                } else {
                    separator
                };
                to = to.add(1);
            }
        }
        out.set_len(out.len() + to.offset_from(begin) as usize);
    }
}

/// The bytes copied at once for a cell (most are shorter: a code, a count).
const COPY: usize = 16;

impl Cells<'_> {
    /// Writes the cells of `rows` one after the other into `cells`, and
    /// where each ends into `ends`.
    fn serialise(
        &self,
        rows: std::ops::Range<usize>,
        separator: u8,
        cells: &mut Vec<u8>,
        ends: &mut Vec<u32>,
    ) {
        let first = self.chunk_of(rows.start);
        let mut end = |cells: &Vec<u8>| {
            ends.push(u32::try_from(cells.len()).expect("a batch's column under 4 GiB"))
        };
        for chunk in first..self.starts.len() {
            let start = self.starts[chunk];
            if start >= rows.end {
                break;
            }
            let len = self.starts.get(chunk + 1).copied().unwrap_or(usize::MAX) - start;
            let local = rows.start.max(start) - start..(rows.end - start).min(len);
            match &self.kind {
                Kind::Text(arrays) => {
                    let array = arrays[chunk];
                    // The text last written, its view and its bytes: a
                    // view met again in the same array is the same text.
                    let mut last: Option<(View, usize, usize)> = None;
                    for at in local {
                        if array.is_valid(at) {
                            let view = array.views()[at];
                            let from = cells.len();
                            match last {
                                Some((seen, a, b)) if seen == view => {
                                    cells.extend_from_within(a..b)
                                }
                                _ => {
                                    // SAFETY: `at` is within the array.
                                    let text = unsafe { array.value_unchecked(at) };
                                    write_text(cells, text.as_bytes(), separator);
                                }
                            }
                            last = Some((view, from, cells.len()));
                        }
                        end(cells);
                    }
                }
                Kind::Int(arrays) => {
                    let mut digits = itoa::Buffer::new();
                    each_cell(arrays[chunk], local, cells, &mut end, |a, at, cells| {
                        cells.extend_from_slice(digits.format(a.value(at)).as_bytes())
                    })
                }
                Kind::Float(arrays) => {
                    let mut digits = zmij::Buffer::new();
                    each_cell(arrays[chunk], local, cells, &mut end, |a, at, cells| {
                        cells.extend_from_slice(digits.format(a.value(at)).as_bytes())
                    })
                }
                Kind::Bool(arrays) => {
                    each_cell(arrays[chunk], local, cells, &mut end, |a, at, cells| {
                        cells.extend_from_slice(if a.value(at) { b"true" } else { b"false" })
                    })
                }
                Kind::Date(arrays) => {
                    each_cell(arrays[chunk], local, cells, &mut end, |a, at, cells| {
                        write_date(cells, a.value(at))
                    })
                }
            }
        }
    }
}

/// Writes each valid cell of `rows` of `array` with `write` (a missing one
/// is written as nothing), and notes where each ends.
fn each_cell<A: Array>(
    array: &A,
    rows: std::ops::Range<usize>,
    cells: &mut Vec<u8>,
    end: &mut impl FnMut(&Vec<u8>),
    mut write: impl FnMut(&A, usize, &mut Vec<u8>),
) {
    for at in rows {
        if array.is_valid(at) {
            write(array, at, cells);
        }
        end(cells);
    }
}

/// A text as RFC 4180 and polars' "necessary" quoting write it: quoted when
/// it holds the separator or a line end, its quotes doubled (and then
/// quoted), an empty text `""` (empty is a missing value).
fn write_text(out: &mut Vec<u8>, text: &[u8], separator: u8) {
    if text.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    let needs_quotes = memchr::memchr3(separator, b'\n', b'\r', text).is_some();
    let has_quote = memchr::memchr(b'"', text).is_some();
    if !needs_quotes && !has_quote {
        out.extend_from_slice(text);
        return;
    }
    out.push(b'"');
    for (i, part) in text.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part);
    }
    out.push(b'"');
}

/// A date as `%Y-%m-%d` (chrono's format, which polars' writer uses): four
/// digits for the years 0 to 9999, chrono's own writing beyond.
fn write_date(out: &mut Vec<u8>, days_since_epoch: i32) {
    use chrono::Datelike;
    const DAYS_FROM_CE_TO_EPOCH: i32 = 719_163;
    // A date column's days are made from a `NaiveDate` (`OutTable::date`):
    // always a date chrono holds.
    let date = days_since_epoch
        .checked_add(DAYS_FROM_CE_TO_EPOCH)
        .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
        .expect("a date column holds days of a date");
    let year = date.year();
    if (0..=9999).contains(&year) {
        let (month, day) = (date.month() as u8, date.day() as u8);
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let year = year as u32;
        out.extend_from_slice(&[
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            b'0' + month / 10,
            b'0' + month % 10,
            b'-',
            b'0' + day / 10,
            b'0' + day % 10,
        ]);
    } else {
        let _ = write!(out, "{}", date.format("%Y-%m-%d"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polars_csv(frame: &DataFrame, layout: Layout) -> Vec<u8> {
        let mut out = Vec::new();
        CsvWriter::new(&mut out)
            .include_header(layout.header)
            .with_separator(layout.separator)
            .with_line_terminator("\n".into())
            .with_date_format(Some("%Y-%m-%d".into()))
            .with_null_value("".into())
            .finish(&mut frame.clone())
            .unwrap();
        out
    }

    fn ours(frame: &DataFrame, layout: Layout) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(write_frame(frame, layout, &mut out).unwrap());
        out
    }

    /// Texts of every kind the writer treats apart, in runs (repeated
    /// views), long and short, missing and empty.
    fn texts(rows: usize) -> Vec<Option<String>> {
        let kinds = [
            Some("CAP"),
            Some("MC4 AGT CONTROL.NON DESTRUCTIF (MC4)"),
            Some("a,b"),
            Some("a;b"),
            Some("dit \"oui\""),
            Some("\"\""),
            Some("ligne\nsuivante"),
            Some("retour\r"),
            Some(""),
            None,
            Some("Île-de-France, « accentuée » et assez longue"),
        ];
        (0..rows)
            .map(|i| kinds[(i / 3 + i / 7) % kinds.len()].map(str::to_string))
            .collect()
    }

    fn frame(rows: usize) -> DataFrame {
        let ints: Vec<Option<i64>> = (0..rows as i64)
            .map(|i| (i % 5 != 0).then_some(i * 7919 - 40_000_000_000 * (i % 3)))
            .collect();
        let specials = [
            0.0,
            -0.0,
            62.0,
            0.1,
            1e300,
            -2.5e-8,
            f64::NAN,
            f64::INFINITY,
            1.0 / 3.0,
        ];
        let floats: Vec<Option<f64>> = (0..rows)
            .map(|i| (i % 4 != 1).then(|| specials[i % specials.len()] * (1 + i % 3) as f64))
            .collect();
        let bools: Vec<Option<bool>> = (0..rows)
            .map(|i| (i % 6 != 2).then_some(i % 3 == 0))
            .collect();
        let days: Vec<Option<i32>> = (0..rows as i32)
            .map(|i| (i % 5 != 3).then_some(-800_000 + i * 997 % 4_000_000))
            .collect();
        let text = Series::new("libelle".into(), texts(rows));
        DataFrame::new_infer_height(vec![
            text.into_column(),
            Series::new("nb".into(), ints).into_column(),
            Series::new("salaire".into(), floats).into_column(),
            Series::new("masked".into(), bools).into_column(),
            Series::new("date_fermeture".into(), days)
                .cast(&DataType::Date)
                .unwrap()
                .into_column(),
        ])
        .unwrap()
    }

    #[test]
    fn every_kind_of_cell_is_written_as_polars_writes_it() {
        for separator in [b',', b';'] {
            for header in [true, false] {
                let layout = Layout { separator, header };
                for rows in [0, 1, 5, BATCH_ROWS + 7, 3 * BATCH_ROWS * 2 + 11] {
                    let f = frame(rows);
                    assert_eq!(
                        String::from_utf8(ours(&f, layout)).unwrap(),
                        String::from_utf8(polars_csv(&f, layout)).unwrap(),
                        "{rows} rows, separator {}, header {header}",
                        separator as char
                    );
                }
            }
        }
    }

    #[test]
    fn columns_in_chunks_of_their_own_are_read_in_row_order() {
        // Pieces appended (as `OutTable::append` does), the columns cut at
        // different rows, an empty piece between two.
        let mut whole = frame(700);
        let mut pieced = frame(300);
        pieced.vstack_mut(&frame(0)).unwrap();
        pieced.vstack_mut(&frame(700).slice(300, 400)).unwrap();
        let text = Series::new("libelle".into(), texts(700));
        let mut recut = text.slice(0, 123);
        recut.append(&text.slice(123, 577)).unwrap();
        pieced.replace("libelle", recut.into_column()).unwrap();
        assert!(pieced.columns().iter().any(|c| c.n_chunks() > 1));
        let layout = Layout {
            separator: b',',
            header: true,
        };
        assert_eq!(ours(&pieced, layout), polars_csv(&whole.clone(), layout));
        // A repeated text across a chunk's end is written from its own
        // array, not from the view of another one.
        whole.rechunk_mut();
        assert_eq!(ours(&pieced, layout), ours(&whole, layout));
    }

    #[test]
    fn a_frame_with_another_type_is_left_to_polars() {
        let f = df!("n" => [1i32, 2]).unwrap();
        let mut out = Vec::new();
        let layout = Layout {
            separator: b',',
            header: true,
        };
        assert!(!write_frame(&f, layout, &mut out).unwrap());
        assert!(out.is_empty());
    }
}
