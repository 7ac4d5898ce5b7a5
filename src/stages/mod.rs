//! The pipeline's stages, one module each. A stage is a pure function from
//! typed inputs to typed outputs and a summary (`build_…`), plus a `run`
//! function that does its I/O: read through `input/` and `staging/`, call the
//! pure function, write through `output/`, and report.
//!
//! Order of a pipeline: `bcn` → `continuum` (→ `indicators` → `coverage` →
//! `release`, in later issues).

pub mod bcn;
pub mod continuum;
pub mod coverage;
pub mod indicators;

use std::path::PathBuf;
use std::time::Duration;

use crate::output::CsvOptions;
use crate::staging::InputFile;

/// What every stage's `run` is given besides its own inputs.
#[derive(Debug, Clone)]
pub struct StageContext {
    /// The folder this stage writes its outputs into.
    pub out_dir: PathBuf,
    pub csv: CsvOptions,
}

/// An output file a stage wrote, with its row count.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutputFile {
    pub path: PathBuf,
    pub rows: Option<usize>,
}

impl OutputFile {
    /// The CSV of a table (its Parquet twin has the same rows).
    pub fn table(dir: &std::path::Path, table: &crate::output::OutTable) -> OutputFile {
        OutputFile {
            path: dir.join(format!("{}.csv", table.name)),
            rows: Some(table.rows()),
        }
    }

    /// The CSV of a table written chunk by chunk, with its row count.
    pub fn table_rows(dir: &std::path::Path, name: &str, rows: usize) -> OutputFile {
        OutputFile {
            path: dir.join(format!("{name}.csv")),
            rows: Some(rows),
        }
    }

    pub fn file(dir: &std::path::Path, name: &str) -> OutputFile {
        OutputFile {
            path: dir.join(name),
            rows: None,
        }
    }
}

/// What a stage did, for the terminal and for the run's manifest.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StageReport {
    pub stage: String,
    pub inputs: Vec<InputFile>,
    pub outputs: Vec<OutputFile>,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_rejected: usize,
    /// Rows folded into another row (a code present in two BCN tables).
    pub rows_merged: usize,
    /// Human-readable lines about the result, printed after the stage.
    pub details: Vec<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}
