//! `ij release`: builds a release folder `<out>/<version>/` from a pipeline's
//! run folder, atomically.
//!
//! For every published table (`table`) it reads the stage's Parquet (types
//! kept) one row group at a time, in the order of the table's primary key,
//! and writes `<table>.csv`, `<table>.parquet` (copied from the stage when
//! it already is what it would write) and `<table>.schema.json` (Table
//! Schema, from the dictionary in `schema`). Every CSV is then validated against its schema
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
use crate::output::{CsvOptions, StagedDir};
use crate::release::package::{self, slug, OutputEntry, Published, RunRecordView};
use crate::release::readme;
use crate::release::schema::TableSchema;
use crate::release::validate::{self, Problem};
use crate::stages::{OutputFile, StageReport};
use crate::staging::InputFile;

mod run_folder;
mod table;

use run_folder::{read_dir, read_run, RunInputs, Source};
use table::publish_tables;

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
    crate::memory::trace("release: run read");
    let tables = publish_tables(&sources, &dir, &csv, seuil)?;
    crate::memory::trace("release: tables published");
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
    crate::memory::trace("release: checked");

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
/// the first of them. A CSV whose rows were found clear on their typed
/// values (`Published::checked_typed`) is not read back, when the schema
/// file says what they were checked against.
fn check_table(t: &Published, dir: &Path, separator: u8) -> Result<(usize, Vec<Problem>)> {
    let schema_path = dir.join(t.schema_file());
    let text = std::fs::read_to_string(&schema_path).map_err(|source| Error::Read {
        path: schema_path.clone(),
        source,
    })?;
    let schema: TableSchema = serde_json::from_str(&text)
        .map_err(|e| Error::file(&schema_path, format!("not a Table Schema: {e}")))?;
    let outcome = if t.checked_typed && schema == t.schema {
        validate::Outcome {
            rows: t.rows,
            ..Default::default()
        }
    } else {
        validate::validate_csv(&dir.join(t.csv()), &t.csv(), &schema, separator)
            .map_err(|m| Error::file(&schema_path, m))?
    };
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
