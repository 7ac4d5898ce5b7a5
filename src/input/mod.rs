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

/// A file's bytes, or an error naming it: read into memory, or, for a
/// large file, mapped ([`Bytes`]).
pub fn read_bytes(path: &Path) -> Result<Bytes> {
    let error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(error)?;
    let len = file.metadata().map_err(error)?.len();
    if len >= Bytes::MAPPED_FROM {
        // SAFETY: the map is read only, and the file an extract nobody
        // writes while `ij` reads it. Were it truncated meanwhile, reading
        // the pages past its new end would stop the process (SIGBUS), not
        // give wrong bytes: the risk every tool that maps its inputs takes
        // (ripgrep, polars). A file system that cannot map files: the file
        // is read as a small one is.
        if let Ok(map) = unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            return Ok(Bytes::Mapped(map));
        }
    }
    let mut bytes = Vec::with_capacity(len as usize);
    std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(error)?;
    Ok(Bytes::Read(bytes))
}

/// A file's bytes: read into memory, or, from [`Bytes::MAPPED_FROM`] on,
/// mapped: the kernel's cached pages read in place instead of copied
/// into as many pages of the process's own, which the kernel would clear
/// first (issue 13: at ×100 the extracts are 1.8 GB, read whole; on a
/// virtual machine a page touched for the first time is what costs).
pub enum Bytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Bytes {
    /// The size from which a file is mapped: the real extracts (22 MB in
    /// all) are read as they always were.
    pub const MAPPED_FROM: u64 = 32 << 20;
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Read(bytes) => bytes,
            Bytes::Mapped(map) => map,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small file is read, a large one mapped, and both give the file's
    /// bytes; a missing file is an error naming it.
    #[test]
    fn a_file_read_or_mapped_gives_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.csv");
        std::fs::write(&small, "a;b\n1;2\n").unwrap();
        let bytes = read_bytes(&small).unwrap();
        assert!(matches!(bytes, Bytes::Read(_)));
        assert_eq!(&*bytes, b"a;b\n1;2\n");

        let large = dir.path().join("large.csv");
        let line = b"code;libelle\n";
        let text: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(Bytes::MAPPED_FROM as usize + 7)
            .collect();
        std::fs::write(&large, &text).unwrap();
        let bytes = read_bytes(&large).unwrap();
        assert!(matches!(bytes, Bytes::Mapped(_)));
        assert!(*bytes == *text, "the mapped bytes differ from the file's");

        let missing = dir.path().join("missing.csv");
        let error = read_bytes(&missing).err().unwrap().to_string();
        assert!(error.contains("missing.csv"), "{error}");
    }
}
