//! `ij release`: builds a release folder `<out>/<version>/` from a pipeline's
//! run folder, atomically.
//!
//! For every published table it reads the stage's Parquet (types kept),
//! sorts the rows by the table's primary key, and writes `<table>.csv`,
//! `<table>.parquet` and `<table>.schema.json` (Table Schema, from the
//! dictionary in `schema`). Every CSV is then validated against its schema
//! (`validate`) and every Parquet read back; only when all checks pass are
//! `datapackage.json`, `README.md` and `manifest.json` written and the whole
//! folder renamed into place. A failure leaves a previous release as it was.
//!
//! Nothing in the release depends on the time, the machine or the folders it
//! was built in: two builds from the same run give the same bytes. Dates
//! appear only when `--date` gives one. The default version is
//! content-addressed: `<pipeline>-<12 hex of the SHA-256 of the tables' CSV>`.
//!
//! What the files say is written by `package` (datapackage.json, manifest)
//! and `readme` (README.md); this module reads, writes and checks.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Location, Result};
use crate::output::digest::{file_len, sha256_file, to_hex};
use crate::output::table::{
    row_group_ranges, write_large_alone, Column as OutColumn, TableWriter, Values,
};
use crate::output::{CsvOptions, OutTable, StagedDir};
use crate::release::package::{self, slug, OutputEntry, Published, RunRecordView};
use crate::release::readme;
use crate::release::schema::{self, FieldType, SourceColumn, TableSchema};
use crate::release::validate::{self, Problem};
use crate::stages::{OutputFile, StageReport};
use crate::staging::InputFile;

mod run_folder;

use run_folder::{read_dir, read_run, RunInputs, Source};

/// What `ij release` is asked for.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// The release's folder name; by default `<pipeline>-<content hash>`.
    pub version: Option<String>,
    /// A date (YYYY-MM-DD) to write in the release; none by default, so
    /// that two builds give the same bytes.
    pub date: Option<String>,
    /// `b','` (default) or `b';'`.
    pub csv_separator: u8,
    /// A previous release to compare with (`CHANGELOG.md`).
    pub previous: Option<PathBuf>,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            version: None,
            date: None,
            csv_separator: b',',
            previous: None,
        }
    }
}

/// The name of the manifest, the one file the manifest cannot list.
pub const MANIFEST: &str = "manifest.json";
pub const DATAPACKAGE: &str = "datapackage.json";
pub const README: &str = "README.md";
pub const CHANGELOG: &str = "CHANGELOG.md";

/// Builds the release of the run folder `run_dir` into `<out>/<version>/`.
pub fn run_release(run_dir: &Path, options: &ReleaseOptions, out: &Path) -> Result<StageReport> {
    let start = Instant::now();
    let RunInputs {
        run,
        seuil,
        sources,
        extras,
        mut details,
    } = read_run(run_dir, options)?;

    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let staging = StagedDir::beside(out, "release")?;
    let dir = staging.dir().to_path_buf();
    let csv = CsvOptions {
        separator: options.csv_separator,
    };

    // Tables and their schemas.
    let tables = publish_tables(&sources, &dir, &csv, seuil)?;
    for e in &extras {
        std::fs::copy(&e.source, dir.join(&e.file)).map_err(|source| Error::Write {
            path: dir.join(&e.file),
            source,
        })?;
    }

    // The version: given, or the tables' content.
    let version = match &options.version {
        Some(v) => v.clone(),
        None => default_version(run.as_ref(), &tables),
    };
    let target = out.join(&version);

    // Checks, before anything else is written.
    check_release(&tables, &dir, options.csv_separator, &target)?;

    // CHANGELOG.md, when a previous release is given.
    if let Some(previous) = &options.previous {
        write_changelog(previous, &dir, &version)?;
        details.push(format!("{CHANGELOG}: changes since {}", previous.display()));
    }

    // datapackage.json, README.md, manifest.json.
    let context = package::Context {
        version: &version,
        date: options.date.as_deref(),
        csv_separator: options.csv_separator,
        run: run.as_ref(),
        tables: &tables,
        extras: &extras,
    };
    let outputs = write_descriptions(&context, &dir)?;
    staging.commit_as(&target)?;

    Ok(report(&version, &target, &tables, &outputs, details, start))
}

/// Writes `datapackage.json`, `README.md` and `manifest.json`; returns the
/// release's files as the manifest lists them.
fn write_descriptions(context: &package::Context, dir: &Path) -> Result<Vec<OutputEntry>> {
    let datapackage = package::datapackage(context)?;
    write_file(dir, DATAPACKAGE, &json_bytes(&datapackage, DATAPACKAGE)?)?;
    let readme = readme::render(context)?;
    write_file(dir, README, readme.as_bytes())?;
    let outputs = list_outputs(dir, context.tables)?;
    let manifest = package::manifest(context, &outputs)?;
    write_file(dir, MANIFEST, &json_bytes(&manifest, MANIFEST)?)?;
    Ok(outputs)
}

/// The stage's report: the tables read, the files written, what to say.
fn report(
    version: &str,
    target: &Path,
    tables: &[Published],
    outputs: &[OutputEntry],
    mut details: Vec<String>,
    start: Instant,
) -> StageReport {
    let rows: usize = tables.iter().map(|t| t.rows).sum();
    let mut report_outputs: Vec<OutputFile> = outputs
        .iter()
        .map(|o| OutputFile {
            path: target.join(&o.path),
            rows: o.rows,
        })
        .collect();
    report_outputs.push(OutputFile::file(target, MANIFEST));
    details.insert(
        0,
        format!(
            "release {version}: {} tables ({}), {rows} rows, validated against their Table Schemas",
            tables.len(),
            tables
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    for t in tables.iter().filter(|t| t.formula_cells > 0) {
        details.push(format!(
            "{}: {} text cell(s) starting like a spreadsheet formula written with a leading ' in {} ({} unchanged)",
            t.name,
            t.formula_cells,
            t.csv(),
            t.parquet()
        ));
    }
    StageReport {
        stage: "release".into(),
        inputs: tables
            .iter()
            .map(|t| InputFile {
                table: t.name.clone(),
                path: t.source.clone(),
                format: None,
                rows: t.rows,
            })
            .collect(),
        outputs: report_outputs,
        rows_read: rows,
        rows_written: rows,
        rows_rejected: 0,
        rows_merged: 0,
        details,
        elapsed: start.elapsed(),
    }
}

/// Checks the options before anything is read or written (a pipeline checks
/// them before its first stage).
pub fn check_options(options: &ReleaseOptions) -> Result<()> {
    if let Some(v) = &options.version {
        let ok = !v.is_empty()
            && !v.starts_with('.')
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(Error::usage(format!(
                "--version \"{v}\": a version names a folder: letters, digits, `.`, `_` or `-`, not starting with `.`"
            )));
        }
    }
    if let Some(d) = &options.date {
        let ok = d.len() == 10 && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok();
        if !ok {
            return Err(Error::usage(format!(
                "--date \"{d}\": expected a date as YYYY-MM-DD"
            )));
        }
    }
    if !matches!(options.csv_separator, b',' | b';') {
        return Err(Error::usage(format!(
            "CSV separator `{}`: expected `,` or `;`",
            options.csv_separator as char
        )));
    }
    Ok(())
}

// ---- Writing a table ---------------------------------------------------------------

/// Publishes every table, in the sources' order, the large ones alone
/// (`write_large_alone`: the release reads and sorts a table whole).
fn publish_tables(
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
/// key (ties kept as the stage wrote them), converted and written one row
/// group at a time (`row_group_ranges`: the bytes of a whole write).
fn publish_table(s: &Source, dir: &Path, csv: &CsvOptions, seuil: i64) -> Result<Published> {
    let stage = StageRowGroups::open(&s.parquet)?;
    let empty = stage.read(0, 0)?;
    let columns: Vec<SourceColumn> = empty
        .columns()
        .iter()
        .map(|c| {
            Ok(SourceColumn {
                name: c.name().to_string(),
                kind: field_type(c.dtype()).ok_or_else(|| {
                    Error::file(
                        &s.parquet,
                        format!(
                            "column `{}` has the Parquet type {}, which a release cannot publish",
                            c.name(),
                            c.dtype()
                        ),
                    )
                })?,
            })
        })
        .collect::<Result<_>>()?;
    let schema = schema::table_schema(
        &s.doc,
        &s.name,
        &s.title,
        &columns,
        env!("CARGO_PKG_VERSION"),
    )
    .map_err(|m| Error::file(&s.parquet, format!("table {}: {m}", s.name)))?
    .with_seuil(seuil);

    let written = match publish_in_key_order(s, &stage, empty, &schema, dir, csv)? {
        Some(writer) => writer,
        None => publish_sorted_whole(s, &stage, &schema, dir, csv)?,
    };
    let rows = written.rows();
    let written = written.finish()?;
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
    })
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
    let mut writer = TableWriter::create(dir, &s.name, csv)?;
    let mut targets = row_group_ranges(stage.rows).map(|r| r.len()).peekable();
    let mut pending = empty;
    // The last key written, owned (a slice would keep its group's buffers).
    let mut last: Option<Vec<AnyValue<'static>>> = None;
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
        let first = key_of(&group, 0, key);
        if last.is_some_and(|last| !key_at_most(&last, &first)) {
            return Ok(None);
        }
        last = Some(key_of(&group, group.height() - 1, key));
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
    let mut writer = TableWriter::create(dir, &s.name, csv)?;
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

/// Whether each row's key is at most the next one's, in the order polars
/// sorts them (missing first, text by bytes); `false` for a key column of
/// a type this does not compare, so that the caller sorts.
fn in_key_order(df: &DataFrame, key: &[&str]) -> bool {
    use std::cmp::Ordering;
    /// Decides the pairs of adjacent rows the earlier key columns left equal.
    fn compare<I: Iterator<Item: Ord>>(decided: &mut [Ordering], values: impl Fn() -> I) {
        let pairs = values().zip(values().skip(1));
        for (d, (a, b)) in decided.iter_mut().zip(pairs) {
            if *d == Ordering::Equal {
                *d = a.cmp(&b);
            }
        }
    }
    let mut decided = vec![Ordering::Equal; df.height().saturating_sub(1)];
    for &k in key {
        let Ok(column) = df.column(k) else {
            return false;
        };
        let series = column.as_materialized_series();
        let compared = match series.dtype() {
            DataType::String => series.str().map(|v| compare(&mut decided, || v.iter())),
            DataType::Int64 => series.i64().map(|v| compare(&mut decided, || v.iter())),
            DataType::Int32 => series.i32().map(|v| compare(&mut decided, || v.iter())),
            DataType::Boolean => series.bool().map(|v| compare(&mut decided, || v.iter())),
            DataType::Date => series
                .date()
                .map(|v| compare(&mut decided, || v.physical().iter())),
            _ => return false,
        };
        if compared.is_err() {
            return false;
        }
    }
    !decided.contains(&Ordering::Greater)
}

/// The key of row `i`, owned; a missing column reads as missing.
fn key_of(df: &DataFrame, i: usize, key: &[&str]) -> Vec<AnyValue<'static>> {
    key.iter()
        .map(|k| {
            df.column(k)
                .and_then(|c| c.get(i))
                .map_or(AnyValue::Null, AnyValue::into_static)
        })
        .collect()
}

/// Whether key `a` comes at or before key `b` in the order polars sorts
/// them (missing first); `false` when two values cannot be compared, so
/// that the caller sorts the whole table.
fn key_at_most(a: &[AnyValue], b: &[AnyValue]) -> bool {
    use std::cmp::Ordering;
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => return true,
            Some(Ordering::Equal) => continue,
            Some(Ordering::Greater) | None => return false,
        }
    }
    true
}

/// A stage's Parquet table, read one row group at a time.
struct StageRowGroups {
    path: PathBuf,
    rows: usize,
    /// Each row group's first row and rows.
    groups: Vec<(usize, usize)>,
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
        Ok(StageRowGroups {
            path: path.to_path_buf(),
            rows,
            groups,
        })
    }

    /// `len` rows from row `offset` (only the row groups they are in are read).
    fn read(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let file = File::open(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        ParquetReader::new(file)
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(|e| Error::file(&self.path, format!("cannot read the Parquet file: {e}")))
    }
}

/// The Table Schema type of a Parquet column; `Some(None)` for a column of
/// nulls only, `None` for a type a release does not publish.
fn field_type(dtype: &DataType) -> Option<Option<FieldType>> {
    Some(Some(match dtype {
        DataType::String => FieldType::String,
        DataType::Boolean => FieldType::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => FieldType::Integer,
        DataType::Float32 | DataType::Float64 => FieldType::Number,
        DataType::Date => FieldType::Date,
        DataType::Null => return Some(None),
        _ => return None,
    }))
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

// ---- Checks ---------------------------------------------------------------------

/// Validates every CSV against the schema file written beside it, and reads
/// every Parquet back. On a problem: an error naming the file, line, column
/// and check, and saying that nothing was written.
fn check_release(tables: &[Published], dir: &Path, separator: u8, target: &Path) -> Result<()> {
    // Independent tables: checked in parallel, problems kept in table order.
    let checked: Vec<(usize, Vec<Problem>)> = {
        use rayon::prelude::*;
        tables
            .par_iter()
            .map(|t| check_table(t, dir, separator))
            .collect::<Result<_>>()?
    };
    let total: usize = checked.iter().map(|(n, _)| n).sum();
    let problems: Vec<Problem> = checked.into_iter().flat_map(|(_, p)| p).collect();
    let Some(first) = problems.first() else {
        return Ok(());
    };
    let mut message = format!("check `{}` failed: {}", first.check, first.message);
    if total > 1 {
        let others: Vec<String> = problems
            .iter()
            .skip(1)
            .take(4)
            .map(|p| p.to_string())
            .collect();
        message.push_str(&format!(
            " ({} more problems in all; next: {})",
            total - 1,
            others.join("; ")
        ));
    }
    message.push_str("; the release was not written");
    if target.exists() {
        message.push_str(&format!(" and {} was left as it was", target.display()));
    }
    let location = if first.line == 0 {
        Location::File
    } else {
        Location::Line {
            line: first.line,
            column: first.column.clone(),
        }
    };
    Err(Error::at(&target.join(&first.file), location, message))
}

/// One table's checks: its CSV against the schema file written beside it,
/// and its Parquet's footer (rows and columns). The number of problems and
/// the first of them.
fn check_table(t: &Published, dir: &Path, separator: u8) -> Result<(usize, Vec<Problem>)> {
    let schema_path = dir.join(t.schema_file());
    let text = std::fs::read_to_string(&schema_path).map_err(|source| Error::Read {
        path: schema_path.clone(),
        source,
    })?;
    let schema: TableSchema = serde_json::from_str(&text)
        .map_err(|e| Error::file(&schema_path, format!("not a Table Schema: {e}")))?;
    let outcome = validate::validate_csv(&dir.join(t.csv()), &t.csv(), &schema, separator)
        .map_err(|m| Error::file(&schema_path, m))?;
    let mut total = outcome.problem_count;
    let mut problems = outcome.problems;
    if outcome.rows != t.rows {
        total += 1;
        problems.push(Problem {
            file: t.csv(),
            line: 0,
            column: None,
            check: "row-count",
            message: format!("{} rows read back; {} written", outcome.rows, t.rows),
        });
    }
    // The Parquet: its footer readable, with the same columns and rows (the
    // data are the frame the CSV was written from).
    let found = parquet_shape(&dir.join(t.parquet()));
    let expected: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let problem = match found {
        Ok((rows, names)) if rows == t.rows && names == expected => None,
        Ok((rows, names)) => Some(format!(
            "{rows} rows and columns {} read back; expected {} rows and {}",
            names.join(","),
            t.rows,
            expected.join(",")
        )),
        Err(e) => Some(e.to_string()),
    };
    if let Some(message) = problem {
        total += 1;
        problems.push(Problem {
            file: t.parquet(),
            line: 0,
            column: None,
            check: "parquet",
            message,
        });
    }
    Ok((total, problems))
}

/// A Parquet file's row count and column names, from its footer.
fn parquet_shape(path: &Path) -> Result<(usize, Vec<String>)> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parquet_error =
        |e: PolarsError| Error::file(path, format!("cannot read the Parquet file: {e}"));
    let mut reader = ParquetReader::new(file);
    let rows = reader.num_rows().map_err(parquet_error)?;
    let names = reader
        .schema()
        .map_err(parquet_error)?
        .iter_names()
        .map(|n| n.to_string())
        .collect();
    Ok((rows, names))
}

// ---- Version, changelog, outputs ------------------------------------------------------

/// `<pipeline>-<first 12 hex digits of the SHA-256 over the tables' CSV>`.
fn default_version(run: Option<&RunRecordView>, tables: &[Published]) -> String {
    let mut hasher = Sha256::new();
    for t in tables {
        hasher.update(t.csv().as_bytes());
        hasher.update([0]);
        hasher.update(t.written.csv.sha256.as_bytes());
        hasher.update([b'\n']);
    }
    let hex = to_hex(&hasher.finalize());
    let name = run
        .map(|r| slug(&r.pipeline))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "release".into());
    format!("{name}-{}", &hex[..12])
}

/// Writes `CHANGELOG.md`: what changed since `previous` (the comparison
/// and its French rendering are `release::diff`'s).
fn write_changelog(previous: &Path, dir: &Path, version: &str) -> Result<()> {
    use crate::release::diff::{diff_releases, release_name, render_changelog};
    let diff = diff_releases(previous, dir)?;
    let text = render_changelog(&diff, &release_name(previous), version);
    write_file(dir, CHANGELOG, text.as_bytes())
}

/// Every file of the release but the manifest, sorted, with its hash, size
/// and, for tables, rows.
fn list_outputs(dir: &Path, tables: &[Published]) -> Result<Vec<OutputEntry>> {
    let mut names: Vec<String> = read_dir(dir)?
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter(|n| n != MANIFEST)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let table = tables.iter().find_map(|t| {
                if t.csv() == name {
                    Some((t.rows, &t.written.csv))
                } else if t.parquet() == name {
                    Some((t.rows, &t.written.parquet))
                } else {
                    None
                }
            });
            let (bytes, sha256) = match table {
                Some((_, digest)) => (digest.bytes, digest.sha256.clone()),
                None => (file_len(&path)?, sha256_file(&path)?),
            };
            Ok(OutputEntry {
                bytes,
                sha256,
                path: name,
                rows: table.map(|(rows, _)| rows),
            })
        })
        .collect()
}

// ---- Files -----------------------------------------------------------------------

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
}

/// Pretty JSON with a final newline.
fn json_bytes(value: &impl serde::Serialize, what: &str) -> Result<Vec<u8>> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Output {
        path: PathBuf::from(what),
        message: e.to_string(),
    })?;
    text.push('\n');
    Ok(text.into_bytes())
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
        let doc = schema::TableDoc {
            source: "t",
            stage: "indicators",
            title: "t",
            description: "t",
            primary_key: &["code_certification"],
            optional: &[],
            overrides: &[],
        };
        let source = |parquet: &Path| Source {
            doc,
            name: "t".into(),
            title: "t".into(),
            parquet: parquet.to_path_buf(),
            catalogue: None,
        };
        let columns = ["code_certification", "millesime"].map(|name| SourceColumn {
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

    #[test]
    fn keys_in_order_as_polars_sorts_them() {
        let df = |a: &[Option<&str>], b: &[Option<i64>]| {
            DataFrame::new_infer_height(vec![
                Column::new("a".into(), a),
                Column::new("b".into(), b),
            ])
            .unwrap()
        };
        let key = &["a", "b"];
        assert!(in_key_order(
            &df(&[None, Some("A"), Some("B")], &[Some(3), Some(2), Some(1)]),
            key
        ));
        assert!(in_key_order(
            &df(
                &[Some("a"), Some("a"), Some("b")],
                &[None, Some(1), Some(1)]
            ),
            key
        ));
        assert!(
            in_key_order(&df(&[Some("a"), Some("a")], &[Some(1), Some(1)]), key),
            "ties"
        );
        assert!(!in_key_order(
            &df(&[Some("a"), Some("a")], &[Some(2), Some(1)]),
            key
        ));
        assert!(!in_key_order(
            &df(&[Some("b"), Some("a")], &[Some(1), Some(2)]),
            key
        ));
        assert!(
            !in_key_order(&df(&[Some("a"), None], &[Some(1), Some(2)]), key),
            "missing first"
        );
        assert!(
            !in_key_order(&df(&[Some("a")], &[Some(1)]), &["c"]),
            "no such column"
        );
        let k = |a: &str, b: i64| vec![AnyValue::String(a).into_static(), AnyValue::Int64(b)];
        assert!(key_at_most(&k("a", 2), &k("b", 1)));
        assert!(key_at_most(&k("a", 1), &k("a", 1)));
        assert!(!key_at_most(&k("a", 2), &k("a", 1)));
        assert!(key_at_most(&[AnyValue::Null], &[AnyValue::String("a")]));
    }

    #[test]
    fn slugs_are_resource_names() {
        assert_eq!(slug("Affelnet 2nde"), "affelnet_2nde");
        assert_eq!(slug("psup_apprentissage"), "psup_apprentissage");
        assert_eq!(slug("a-b.c"), "a-b_c");
    }

    #[test]
    fn options_are_checked() {
        let bad = |o: ReleaseOptions| check_options(&o).unwrap_err().to_string();
        let o = ReleaseOptions::default();
        assert!(check_options(&o).is_ok());
        assert!(bad(ReleaseOptions {
            version: Some("../x".into()),
            ..o.clone()
        })
        .contains("--version"));
        assert!(bad(ReleaseOptions {
            version: Some(".hidden".into()),
            ..o.clone()
        })
        .contains("--version"));
        assert!(bad(ReleaseOptions {
            date: Some("2024-13-01".into()),
            ..o.clone()
        })
        .contains("--date"));
        assert!(bad(ReleaseOptions {
            csv_separator: b'|',
            ..o.clone()
        })
        .contains("separator"));
    }
}
