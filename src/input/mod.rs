//! The input layer: every stage reads its files through here.
//!
//! - `encoding`: UTF-8, UTF-8 with BOM, Windows-1252, detected per file;
//! - `delimited`: `;`, `|`, tab, `,`; CRLF or LF; RFC 4180 quoting or none;
//! - `json`: the BCN API format;
//! - `table`: the `RawTable` they all produce, with case-insensitive columns
//!   and row positions for error messages;
//! - `folder`: finding a BCN table in a folder by its name;
//! - `stage_table`: a table an earlier stage wrote, read from its Parquet.

pub mod delimited;
pub mod encoding;
pub mod folder;
pub mod json;
pub mod stage_table;
pub mod table;

use std::path::Path;

use crate::error::{Error, Result};
pub use delimited::DelimitedOptions;
pub use stage_table::StageTable;
pub use table::{Col, RawTable, Row};

/// Reads a delimited or JSON extract, by its extension (`.json` is JSON).
pub fn read_table(path: &Path, options: &DelimitedOptions) -> Result<RawTable> {
    let bytes = read_bytes(path)?;
    if is_json(path) {
        json::read_json(path, &bytes)
    } else {
        delimited::read_delimited(path, &bytes, options)
    }
}

/// Reads a delimited or JSON extract like [`read_table`], but hands its
/// rows to `each` in tables of at most `chunk_rows` rows (the header and
/// format in each), in file order; a JSON file comes whole. A loader that
/// stages a chunk's rows and lets it go holds one chunk's fields, not the
/// file's: a raw table takes about twice its file (text, field ends, two
/// allocations a row), 1.3 GB for a 500 MB regional file (issue 13).
pub fn read_table_in_chunks(
    path: &Path,
    options: &DelimitedOptions,
    chunk_rows: usize,
    mut each: impl FnMut(RawTable) -> Result<()>,
) -> Result<()> {
    let bytes = read_bytes(path)?;
    if is_json(path) {
        each(json::read_json(path, &bytes)?)
    } else {
        let (text, encoding) = encoding::decode(path, &bytes)?;
        delimited::read_text_in_chunks(path, &text, encoding, options, chunk_rows, each)
    }
}

/// Whether a file is read as JSON: its extension is `.json`, in any case.
pub fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A file's bytes, or an error naming it.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}
