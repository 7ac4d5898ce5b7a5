//! The error type of the library: every data error names the file, and where it
//! can, the line and the column, what was expected and what to do about it.
//!
//! `main.rs` prints these on one line, prefixed `ij:`, and exits with status 1.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// A line of a delimited file (1-based, header is line 1), optionally a column.
    Line {
        line: u64,
        column: Option<(usize, String)>,
    },
    /// A record of a JSON array (1-based), optionally a field.
    Record { index: u64, field: Option<String> },
}

/// A data or usage error, with enough context to fix the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), LocationSuffix(location))]
    Data {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// A problem with the command line or the pipeline file.
    #[error("{0}")]
    Usage(String),
    /// A failure of the table library while writing an output.
    #[error("{}: {message}", path.display())]
    Output { path: PathBuf, message: String },
}

impl Error {
    /// A problem with a whole file (empty, undecodable, missing column…).
    pub fn file(path: &Path, message: impl Into<String>) -> Error {
        Error::Data {
            path: path.to_path_buf(),
            location: Location::File,
            message: message.into(),
        }
    }

    /// A problem at a line (and optionally a column) of a delimited file, or
    /// a record of a JSON file.
    pub fn at(path: &Path, location: Location, message: impl Into<String>) -> Error {
        Error::Data {
            path: path.to_path_buf(),
            location,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }
}

struct LocationSuffix<'a>(&'a Location);

impl fmt::Display for LocationSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Location::File => Ok(()),
            Location::Line { line, column: None } => write!(f, ":{line}"),
            Location::Line {
                line,
                column: Some((index, name)),
            } => write!(f, ":{line}:{index} ({name})"),
            Location::Record { index, field: None } => write!(f, ": record {index}"),
            Location::Record {
                index,
                field: Some(name),
            } => write!(f, ": record {index}, field {name}"),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A message for the terminal: control characters from bad input (escape
/// sequences, carriage returns, NULs) are shown escaped (`\u{1b}`, `\r`),
/// never sent raw to the terminal.
pub fn escape_controls(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("\"\u{1b}[2J\r\tx\" é"),
            "\"\\u{1b}[2J\\r\\tx\" é"
        );
    }

    #[test]
    fn data_errors_name_file_line_and_column() {
        let e = Error::at(
            Path::new("bcn/N_MEF.csv"),
            Location::Line {
                line: 12,
                column: Some((18, "MEF_STAT_11".into())),
            },
            "expected 11 characters",
        );
        assert_eq!(
            e.to_string(),
            "bcn/N_MEF.csv:12:18 (MEF_STAT_11): expected 11 characters"
        );
        let e = Error::at(
            Path::new("a.json"),
            Location::Record {
                index: 3,
                field: Some("mef".into()),
            },
            "x",
        );
        assert_eq!(e.to_string(), "a.json: record 3, field mef: x");
        assert_eq!(
            Error::file(Path::new("a.csv"), "empty file").to_string(),
            "a.csv: empty file"
        );
    }
}
