//! One table of a release: read from its stage's Parquet one row group at
//! a time, in the order of its primary key, written as CSV, and its Parquet
//! copied from the stage or written again.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{json_bytes, parquet_shape, write_file, Source};
use crate::error::{Error, Result};
use crate::output::digest::{link_known, link_or_copy};
use crate::output::table::{
    row_group_ranges, write_large_alone, written_together, Column as OutColumn, TableWriter,
    Values, Written,
};
use crate::output::{CsvOptions, OutTable};
use crate::release::keys::{in_key_order, key_at_most, key_of};
use crate::release::package::Published;
use crate::release::schema::{self, source_columns, FieldType, TableSchema};
use crate::release::validate::Checks;

/// Publishes every table, in the sources' order, the large ones alone
/// (`write_large_alone`: a table whose row groups are out of order is read
/// and sorted whole).
pub(super) fn publish_tables(
    sources: &[Source],
    dir: &Path,
    csv: &CsvOptions,
    seuil: i64,
) -> Result<Vec<Published>> {
    let rows = sources
        .iter()
        .map(|s| parquet_shape(&s.parquet).map(|(rows, _)| rows))
        .collect::<Result<Vec<_>>>()?;
    write_large_alone(sources, &rows, |s| publish_table(s, dir, csv, seuil))
}

/// Publishes one table: its schema, then its rows sorted by the primary
/// key (ties kept as the stage wrote them), written one row group at a
/// time (`row_group_ranges`: the bytes of a whole write); the Parquet is
/// copied from the stage when it already is what the release would write
/// ([`copy_parquet`]).
fn publish_table(s: &Source, dir: &Path, csv: &CsvOptions, seuil: i64) -> Result<Published> {
    let stage = StageRowGroups::open(&s.parquet)?;
    let empty = stage.read(0, 0)?;
    let columns = source_columns(&empty).map_err(|m| Error::file(&s.parquet, m))?;
    let schema = schema::table_schema(
        &s.doc,
        &s.name,
        &s.title,
        &columns,
        env!("CARGO_PKG_VERSION"),
    )
    .map_err(|m| Error::file(&s.parquet, format!("table {}: {m}", s.name)))?
    .with_seuil(seuil);

    let (rows, written, checked_typed) = match copy_parquet(s, &stage, &schema, dir, csv)? {
        Some((copied, proven)) => (stage.rows, copied, proven),
        None => {
            let writer = match publish_in_key_order(s, &stage, empty, &schema, dir, csv)? {
                Some(writer) => writer,
                None => publish_sorted_whole(s, &stage, &schema, dir, csv)?,
            };
            let rows = writer.rows();
            let written = writer.finish()?;
            // Its rows were checked as this writer wrote them, against what
            // this schema checks: the CSV need not be read back.
            let csv_path = dir.join(format!("{}.csv", s.name));
            let parquet_path = dir.join(format!("{}.parquet", s.name));
            let checked = written_together(&parquet_path, &csv_path, csv).and_then(|t| t.checked);
            (
                rows,
                written,
                checked.is_some_and(|c| c == Checks::of(&schema)),
            )
        }
    };
    let formula_cells = written.formula_cells;
    write_file(
        dir,
        &format!("{}.schema.json", s.name),
        &json_bytes(&schema, "schema")?,
    )?;
    Ok(Published {
        name: s.name.clone(),
        title: s.title.clone(),
        doc: s.doc,
        source: s.parquet.clone(),
        catalogue: s.catalogue.clone(),
        rows,
        formula_cells,
        schema,
        written,
        checked_typed,
    })
}

/// The stage's Parquet taken as it is (a second name of the same file, or
/// a copy: `digest::link_or_copy`), and the CSV written from its rows,
/// when the Parquet holds what this release would write: the row groups a
/// whole write cuts, zstd, the types a release publishes (numbers finite),
/// rows in key order. The stages write their tables so (issue 13), with the
/// release's own writer: encoding and compressing the Parquet again gave
/// the same bytes, for about a third of the release's time on the real
/// files. The CSV is written from the Parquet's rows, so a release's two
/// files agree whatever the stage's CSV says, unless this process wrote
/// the stage's two files together with the release's separator and neither
/// changed since (`output::table::written_together`): the stage's CSV is
/// then what the rows would give, and is taken as it is too
/// (`digest::link_known`); only the columns the conditions look at (the
/// key, the numbers) are read, and none when its rows were found clear
/// against this schema as they were written (the conditions were among
/// the checks): `true` is then said with the files, for the release's
/// checks not to read the CSV back. `None` when a condition fails (the
/// CSV begun is then overwritten): the Parquet is written again too.
fn copy_parquet(
    s: &Source,
    stage: &StageRowGroups,
    schema: &TableSchema,
    dir: &Path,
    csv: &CsvOptions,
) -> Result<Option<(Written, bool)>> {
    let cut: Vec<usize> = row_group_ranges(stage.rows).map(|r| r.len()).collect();
    let groups: Vec<usize> = stage.groups.iter().map(|&(_, rows)| rows).collect();
    if (stage.rows > 0 && cut != groups) || !stage.zstd {
        return Ok(None);
    }
    let key = s.doc.primary_key;
    let stage_csv = s.parquet.with_extension("csv");
    let release_csv = dir.join(format!("{}.csv", s.name));
    let mut out = match written_together(&s.parquet, &stage_csv, csv) {
        Some(together) => CsvOut::Take {
            formula_cells: together.formula_cells,
            checked: together.checked,
        },
        None => CsvOut::Write(Box::new(TableWriter::csv_only(dir, &s.name, csv)?)),
    };
    let empty = stage.read(0, 0)?;
    // Rows found clear as they were written, against what this schema
    // checks, were of the types a release publishes, their numbers finite
    // and their keys strictly ascending: nothing is left to read.
    let proven = match &out {
        CsvOut::Take {
            checked: Some(checked),
            ..
        } => *checked == Checks::of(schema) && published_types(&empty),
        _ => false,
    };
    let checked = match &out {
        CsvOut::Take { .. } => checked_columns(&empty, key),
        CsvOut::Write(_) => None,
    };
    let mut boundary = GroupBoundary::default();
    let read = if proven {
        Vec::new()
    } else if stage.groups.is_empty() {
        vec![(0, 0)]
    } else {
        stage.groups.clone()
    };
    for (offset, len) in read {
        let group = stage.read_columns(offset, len, checked.clone())?;
        if !published_types(&group) || !in_key_order(&group, key) || !boundary.follows(&group, key)
        {
            return Ok(None);
        }
        if let CsvOut::Write(writer) = &mut out {
            write_rows(s, writer, &group, schema)?;
        }
    }
    let (csv, formula_cells) = match out {
        CsvOut::Write(writer) => writer.finish_csv()?,
        CsvOut::Take { formula_cells, .. } => match link_known(&stage_csv, &release_csv)? {
            Some(linked) => (linked, formula_cells),
            // Changed since it was found written together: written from
            // the rows after all.
            None => return Ok(None),
        },
    };
    let written = Written {
        csv,
        parquet: link_or_copy(&s.parquet, &dir.join(format!("{}.parquet", s.name)))?,
        formula_cells,
    };
    Ok(Some((written, proven)))
}

/// How [`copy_parquet`] makes the release's CSV.
enum CsvOut {
    /// Taken from the stage, which neutralised that many cells, and
    /// checked its rows against `checked` as it wrote them.
    Take {
        formula_cells: usize,
        checked: Option<Checks>,
    },
    /// Written from the Parquet's rows.
    Write(Box<TableWriter>),
}

/// Whether every column has a type the release writes as it is: text,
/// 64-bit integers, booleans, dates, and numbers when all are finite (the
/// release writes the others as missing).
fn published_types(df: &DataFrame) -> bool {
    df.columns().iter().all(|c| match c.dtype() {
        DataType::String | DataType::Int64 | DataType::Boolean | DataType::Date => true,
        DataType::Float64 => c
            .as_materialized_series()
            .f64()
            .is_ok_and(|v| v.iter().flatten().all(f64::is_finite)),
        _ => false,
    })
}

/// The columns [`copy_parquet`]'s conditions read when it need not write
/// the CSV: the key and the numbers (whose finiteness is checked); every
/// column when one has a type a release does not publish as it is, for
/// `published_types` to see it.
fn checked_columns(empty: &DataFrame, key: &[&str]) -> Option<Vec<String>> {
    let mut columns = Vec::new();
    for c in empty.columns() {
        match c.dtype() {
            DataType::Float64 => columns.push(c.name().to_string()),
            DataType::String | DataType::Int64 | DataType::Boolean | DataType::Date => {
                if key.contains(&c.name().as_str()) {
                    columns.push(c.name().to_string());
                }
            }
            _ => return None,
        }
    }
    (!columns.is_empty()).then_some(columns)
}

/// The table's rows, one stage row group at a time: each group sorted by
/// the key, then written as soon as a release row group is complete. The
/// stages write their tables in the release's key order, so this holds
/// two row groups at most, whatever the table's size (a ×100 `pilotage`
/// read whole and sorted was the release's peak, issue 13). Sorting each
/// group gives the order of a whole sort as long as each group's first key
/// is not below the previous group's last; `None` (and nothing kept) when a
/// group breaks that, for the whole sort to take over.
fn publish_in_key_order(
    s: &Source,
    stage: &StageRowGroups,
    empty: DataFrame,
    schema: &TableSchema,
    dir: &Path,
    csv: &CsvOptions,
) -> Result<Option<TableWriter>> {
    let key = s.doc.primary_key;
    let mut writer = TableWriter::create(dir, &s.name, csv)?.checked_as(s.doc.source);
    let mut targets = row_group_ranges(stage.rows).map(|r| r.len()).peekable();
    let mut pending = empty;
    let mut boundary = GroupBoundary::default();
    let mut groups = stage.groups.iter();
    loop {
        // Write every release row group the sorted rows complete.
        while let Some(&n) = targets.peek() {
            if pending.height() < n || (n == 0 && stage.rows > 0) {
                break;
            }
            write_rows(s, &mut writer, &pending.slice(0, n), schema)?;
            pending = pending.slice(n as i64, pending.height() - n);
            targets.next();
        }
        let Some(&(offset, len)) = groups.next() else {
            break;
        };
        let group = sort_by_key(s, stage.read(offset, len)?)?;
        if group.height() == 0 {
            continue;
        }
        if !boundary.follows(&group, key) {
            return Ok(None);
        }
        pending
            .vstack_mut_owned(group)
            .map_err(|e| Error::file(&s.parquet, format!("cannot read the Parquet file: {e}")))?;
    }
    if targets.next().is_some() || pending.height() > 0 {
        return Err(Error::file(
            &s.parquet,
            "internal error: the row groups do not add up to the table's rows",
        ));
    }
    Ok(Some(writer))
}

/// The fallback of [`publish_in_key_order`]: the whole table read and sorted.
fn publish_sorted_whole(
    s: &Source,
    stage: &StageRowGroups,
    schema: &TableSchema,
    dir: &Path,
    csv: &CsvOptions,
) -> Result<TableWriter> {
    let df = sort_by_key(s, stage.read(0, stage.rows)?)?;
    let mut writer = TableWriter::create(dir, &s.name, csv)?.checked_as(s.doc.source);
    for range in row_group_ranges(df.height()) {
        write_rows(
            s,
            &mut writer,
            &df.slice(range.start as i64, range.len()),
            schema,
        )?;
    }
    Ok(writer)
}

/// A stable order: the primary key, ties kept as the stage wrote them.
/// Rows already in that order (the stages write most tables so) are kept
/// as they are: a sort would copy them all to the same order.
fn sort_by_key(s: &Source, df: DataFrame) -> Result<DataFrame> {
    if in_key_order(&df, s.doc.primary_key) {
        return Ok(df);
    }
    df.sort(
        s.doc.primary_key.iter().copied(),
        SortMultipleOptions::default().with_maintain_order(true),
    )
    .map_err(|e| Error::file(&s.parquet, format!("cannot sort by the primary key: {e}")))
}

fn write_rows(
    s: &Source,
    writer: &mut TableWriter,
    rows: &DataFrame,
    schema: &TableSchema,
) -> Result<()> {
    let table = out_table(&s.name, rows, schema)
        .map_err(|e| Error::file(&s.parquet, format!("cannot convert the table: {e}")))?;
    writer.write(table)
}

/// The last key of the row groups read so far, to check that each sorted
/// group starts at or after it: then sorting group by group gives the
/// order of a whole sort.
#[derive(Default)]
struct GroupBoundary {
    /// Owned: a slice of the group would keep its buffers.
    last: Option<Vec<AnyValue<'static>>>,
}

impl GroupBoundary {
    /// Whether `group` (in key order) starts at or after the previous
    /// groups' last key; it becomes the last group read.
    fn follows(&mut self, group: &DataFrame, key: &[&str]) -> bool {
        if group.height() == 0 {
            return true;
        }
        let first = key_of(group, 0, key);
        if self
            .last
            .as_ref()
            .is_some_and(|last| !key_at_most(last, &first))
        {
            return false;
        }
        self.last = Some(key_of(group, group.height() - 1, key));
        true
    }
}

/// A stage's Parquet table, read one row group at a time.
struct StageRowGroups {
    path: PathBuf,
    rows: usize,
    /// Each row group's first row and rows.
    groups: Vec<(usize, usize)>,
    /// Every column chunk is compressed with zstd, as a release writes them.
    zstd: bool,
}

impl StageRowGroups {
    fn open(path: &Path) -> Result<StageRowGroups> {
        let file = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = ParquetReader::new(file);
        let metadata = reader
            .get_metadata()
            .map_err(|e| Error::file(path, format!("cannot read the Parquet file: {e}")))?;
        let mut groups = Vec::with_capacity(metadata.row_groups.len());
        let mut rows = 0;
        for group in &metadata.row_groups {
            groups.push((rows, group.num_rows()));
            rows += group.num_rows();
        }
        // The codec's type is polars-parquet's, which polars does not
        // re-export: compared by name.
        let zstd = metadata.row_groups.iter().all(|g| {
            g.parquet_columns()
                .iter()
                .all(|c| format!("{:?}", c.compression()) == "Zstd")
        });
        Ok(StageRowGroups {
            path: path.to_path_buf(),
            rows,
            groups,
            zstd,
        })
    }

    /// `len` rows from row `offset` (only the row groups they are in are read).
    fn read(&self, offset: usize, len: usize) -> Result<DataFrame> {
        self.read_columns(offset, len, None)
    }

    /// [`StageRowGroups::read`], of `columns` only (every one for `None`).
    fn read_columns(
        &self,
        offset: usize,
        len: usize,
        columns: Option<Vec<String>>,
    ) -> Result<DataFrame> {
        let file = File::open(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        ParquetReader::new(file)
            .with_slice(Some((offset, len)))
            .with_columns(columns)
            .finish()
            .map_err(|e| Error::file(&self.path, format!("cannot read the Parquet file: {e}")))
    }
}

/// The frame as an `OutTable`, each column in the type its schema gives:
/// integers as i64, numbers as finite f64 (NaN and infinities become
/// missing), dates as dates.
fn out_table(name: &str, df: &DataFrame, schema: &TableSchema) -> PolarsResult<OutTable> {
    let mut table = OutTable::new(name);
    for (column, field) in df.columns().iter().zip(&schema.fields) {
        let series = column.as_materialized_series();
        let values = match field.kind {
            FieldType::String => {
                let s = series.cast(&DataType::String)?;
                Values::Str(s.str()?.clone())
            }
            FieldType::Integer => {
                let s = series.cast(&DataType::Int64)?;
                Values::Int(s.i64()?.clone())
            }
            FieldType::Number => {
                let s = series.cast(&DataType::Float64)?;
                let v = s.f64()?;
                if v.iter().flatten().all(f64::is_finite) {
                    Values::Float(v.clone())
                } else {
                    Values::Float(v.iter().map(|v| v.filter(|x| x.is_finite())).collect())
                }
            }
            FieldType::Boolean => {
                let s = series.cast(&DataType::Boolean)?;
                Values::Bool(s.bool()?.clone())
            }
            FieldType::Date => {
                let s = series.cast(&DataType::Date)?;
                Values::Date(s.date()?.physical().clone())
            }
        };
        table.columns.push(OutColumn {
            name: field.name.clone(),
            values,
        });
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stage table of 2.5 row groups, with keys in pairs (ties): written
    /// in key order, each group backwards, or its groups in the wrong
    /// order. Read a row group at a time, the first two give the bytes of
    /// their whole sort; the third is refused, for the whole sort.
    #[test]
    fn a_table_read_one_row_group_at_a_time_gives_the_whole_sort() {
        use crate::output::table::ROW_GROUP_ROWS;
        let rows = 2 * ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2;
        let stage = tempfile::tempdir().unwrap();
        let write_stage = |name: &str, position: &dyn Fn(usize) -> usize| {
            let mut writer =
                TableWriter::create(stage.path(), name, &CsvOptions::default()).unwrap();
            for range in row_group_ranges(rows) {
                let mut t = OutTable::new(name);
                t.str(
                    "code_certification",
                    range.clone().map(|i| format!("{:08}", position(i) / 2)),
                )
                .str("millesime", range.map(|i| format!("row {i}")));
                writer.write(t).unwrap();
            }
            writer.finish().unwrap();
            stage.path().join(format!("{name}.parquet"))
        };
        let groups: Vec<_> = row_group_ranges(rows).collect();
        assert_eq!(groups.len(), 2, "two row groups, the second one larger");
        let in_order = write_stage("in_order", &|i| i);
        // Within each group, the rows backwards.
        let shuffled = write_stage("shuffled", &|i| {
            let g = groups.iter().find(|g| g.contains(&i)).unwrap();
            g.end - 1 - (i - g.start)
        });
        // The second group's keys first.
        let swapped = write_stage("swapped", &|i| (i + groups[1].len()) % rows);
        let doc = schema::TABLE_T;
        let source = |parquet: &Path| Source {
            doc,
            name: "t".into(),
            title: "t".into(),
            parquet: parquet.to_path_buf(),
            catalogue: None,
        };
        let columns = ["code_certification", "millesime"].map(|name| schema::SourceColumn {
            name: name.into(),
            kind: Some(FieldType::String),
        });
        let schema = schema::table_schema(&doc, "t", "t", &columns, "0").unwrap();
        let csv = CsvOptions::default();
        let publish = |parquet: &Path, streamed: bool| {
            let out = tempfile::tempdir().unwrap();
            let (s, stage) = (source(parquet), StageRowGroups::open(parquet).unwrap());
            let writer = if streamed {
                let empty = stage.read(0, 0).unwrap();
                publish_in_key_order(&s, &stage, empty, &schema, out.path(), &csv).unwrap()
            } else {
                Some(publish_sorted_whole(&s, &stage, &schema, out.path(), &csv).unwrap())
            };
            let writer = writer?;
            assert_eq!(writer.rows(), rows);
            writer.finish().unwrap();
            let read = |f: &str| std::fs::read(out.path().join(f)).unwrap();
            Some((read("t.csv"), read("t.parquet")))
        };
        let whole = publish(&in_order, false).unwrap();
        assert!(publish(&in_order, true).unwrap() == whole, "in order");
        // Ties keep the stage's order, which is not `in_order`'s here.
        let shuffled_whole = publish(&shuffled, false).unwrap();
        assert!(shuffled_whole != whole);
        assert!(
            publish(&shuffled, true).unwrap() == shuffled_whole,
            "shuffled groups"
        );
        assert!(publish(&swapped, true).is_none(), "groups out of order");
        let (csv_bytes, _) = publish(&swapped, false).unwrap();
        let keys: Vec<&str> = std::str::from_utf8(&csv_bytes)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(keys.len(), rows);
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "the fallback sorts");
    }

    /// A small stage table (a formula-like cell, numbers, a date): its
    /// Parquet copied and its CSV written from the Parquet's rows give the
    /// bytes of a conversion; it is converted instead when a number is not
    /// finite, the rows are out of order or the Parquet is not zstd.
    #[test]
    fn a_stage_table_is_copied_only_when_it_is_what_the_release_writes() {
        let stage = tempfile::tempdir().unwrap();
        let write_stage = |name: &str, codes: [&str; 3], salaire: f64, separator: u8| {
            let mut t = OutTable::new(name);
            t.str("code_certification", codes.into_iter())
                .str("libelle", ["=SOMME(A1)", "CAP", ""].into_iter())
                .float(
                    "salaire_12_mois_q1",
                    [Some(1.5), None, Some(salaire)].into_iter(),
                )
                .date(
                    "date_fermeture",
                    [chrono::NaiveDate::from_ymd_opt(2024, 8, 31), None, None].into_iter(),
                );
            t.write(stage.path(), &CsvOptions { separator }).unwrap();
            stage.path().join(format!("{name}.parquet"))
        };
        let doc = schema::TABLE_T;
        let csv = CsvOptions::default();
        // (copied, CSV, Parquet, formula cells) of a table published both ways.
        let publish = |parquet: PathBuf| {
            let s = Source {
                doc,
                name: "t".into(),
                title: "t".into(),
                parquet,
                catalogue: None,
            };
            let stage = StageRowGroups::open(&s.parquet).unwrap();
            let empty = stage.read(0, 0).unwrap();
            let columns = source_columns(&empty).unwrap();
            let schema = schema::table_schema(&doc, "t", "t", &columns, "0").unwrap();
            let (copy, convert) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let copied = copy_parquet(&s, &stage, &schema, copy.path(), &csv).unwrap();
            let writer = publish_in_key_order(&s, &stage, empty, &schema, convert.path(), &csv)
                .unwrap()
                .unwrap();
            let converted = writer.finish().unwrap();
            let read = |dir: &tempfile::TempDir, f: &str| std::fs::read(dir.path().join(f)).ok();
            if let Some((copied, proven)) = &copied {
                // `t` is no table of the release: its rows were not checked
                // as they were written.
                assert!(!proven);
                assert_eq!(copied.formula_cells, converted.formula_cells);
                assert_eq!(copied.csv, converted.csv);
                assert_eq!(copied.parquet, converted.parquet);
                for f in ["t.csv", "t.parquet"] {
                    assert!(read(&copy, f) == read(&convert, f), "{f}");
                }
            } else {
                // The CSV begun is overwritten by the conversion; no Parquet.
                assert!(read(&copy, "t.parquet").is_none(), "no Parquet copied");
            }
            (copied.is_some(), converted.formula_cells)
        };
        let codes = ["40023203", "40025510", "50022137"];
        // Written together by this process with the release's separator:
        // the stage's CSV is copied (the same bytes as the conversion's).
        let ordered = write_stage("ordered", codes, 2.0, b',');
        assert_eq!(
            written_together(&ordered, &ordered.with_extension("csv"), &csv)
                .map(|t| t.formula_cells),
            Some(1)
        );
        assert_eq!(publish(ordered), (true, 1));
        // Otherwise the CSV is written from the Parquet's rows, whatever the
        // stage's: another separator, or a CSV changed since it was written.
        let semicolon = write_stage("semicolon", codes, 2.0, b';');
        assert_eq!(
            written_together(&semicolon, &semicolon.with_extension("csv"), &csv),
            None
        );
        assert_eq!(publish(semicolon), (true, 1));
        let edited = write_stage("edited", codes, 2.0, b',');
        std::fs::write(edited.with_extension("csv"), "not the table").unwrap();
        assert_eq!(
            written_together(&edited, &edited.with_extension("csv"), &csv),
            None
        );
        assert_eq!(publish(edited), (true, 1));
        assert!(!publish(write_stage("nan", codes, f64::NAN, b',')).0, "NaN");
        let unordered = ["40025510", "40023203", "50022137"];
        assert!(
            !publish(write_stage("unordered", unordered, 2.0, b',')).0,
            "order"
        );
        // A Parquet another writer compressed otherwise is written again.
        let snappy = write_stage("snappy", codes, 2.0, b',');
        let mut df = ParquetReader::new(File::open(&snappy).unwrap())
            .finish()
            .unwrap();
        ParquetWriter::new(File::create(&snappy).unwrap())
            .with_compression(ParquetCompression::Snappy)
            .finish(&mut df)
            .unwrap();
        assert!(!publish(snappy).0, "snappy");
    }

    /// A release table this process wrote is published with its rows
    /// checked as they were written, unless one broke a check: its CSV is
    /// then read back by the release's checks.
    #[test]
    fn rows_checked_as_written_spare_the_csv_read_back() {
        let doc = *crate::release::schema::TABLES
            .iter()
            .find(|t| t.source == "certifications_terminales")
            .unwrap();
        let table = |name: &str, lien: &str, libelle: &str| {
            let mut t = OutTable::new(name);
            t.str("code_certification", ["40023203", "40025510"].into_iter())
                .str("libelle", ["=CAP", "CAP"].into_iter())
                .str(
                    "code_formation_diplome",
                    ["40023203", "40025510"].into_iter(),
                )
                .str(
                    "code_certification_terminale",
                    ["40023203", "40025510"].into_iter(),
                )
                .str("libelle_terminale", ["CAP", libelle].into_iter())
                .str(
                    "code_formation_diplome_terminale",
                    ["40023203", "40025510"].into_iter(),
                )
                .str("lien", ["meme_formation", lien].into_iter())
                .str("famille_metiers_code", ["", ""].into_iter())
                .str("famille_metiers_libelle", ["", ""].into_iter());
            t
        };
        let published = |lien: &str, libelle: &str| {
            let stage = tempfile::tempdir().unwrap();
            let t = table("certifications_terminales", lien, libelle);
            t.write(stage.path(), &CsvOptions::default()).unwrap();
            let s = Source {
                doc,
                name: doc.source.into(),
                title: doc.title.into(),
                parquet: stage.path().join("certifications_terminales.parquet"),
                catalogue: None,
            };
            let out = tempfile::tempdir().unwrap();
            publish_table(&s, out.path(), &CsvOptions::default(), 20).unwrap()
        };
        assert!(published("meme_formation", "CAP").checked_typed);
        assert!(
            !published("autre_chose", "CAP").checked_typed,
            "an enum broken"
        );
        // The encoding check reports a `\r`, wherever it is.
        assert!(
            !published("meme_formation", "CAP\r\nBEP").checked_typed,
            "a carriage return"
        );
        // Under another name (a release's `coverage_offers_<catalogue>`),
        // the rows are checked as the stage table it is said to be.
        let checked = |checked_as: Option<&str>| {
            let dir = tempfile::tempdir().unwrap();
            let csv = CsvOptions::default();
            let mut writer = TableWriter::create(dir.path(), "copie", &csv).unwrap();
            if let Some(source) = checked_as {
                writer = writer.checked_as(source);
            }
            writer
                .write(table("copie", "meme_formation", "CAP"))
                .unwrap();
            writer.finish().unwrap();
            let (parquet, csv_path) = (
                dir.path().join("copie.parquet"),
                dir.path().join("copie.csv"),
            );
            written_together(&parquet, &csv_path, &csv).and_then(|t| t.checked)
        };
        assert!(checked(Some("certifications_terminales")).is_some());
        assert!(
            checked(None).is_none(),
            "`copie` is no table of the release"
        );
    }
}
