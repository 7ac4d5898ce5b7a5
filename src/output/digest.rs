//! SHA-256 of files, computed once: while a table is written
//! (`HashingWriter`), or by reading a file that was not (`sha256_file`).
//! A release lists every file's hash three times (its version, the
//! datapackage, the manifest); hashing as it writes spares reading each
//! file back three times.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A file's SHA-256 (lower-case hex) and size (`run.json` records them as
/// `output::record::FileHash`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileDigest {
    pub sha256: String,
    pub bytes: u64,
}

impl FileDigest {
    /// Reads the file in full.
    pub fn of(path: &Path) -> Result<FileDigest> {
        Ok(FileDigest {
            sha256: sha256_file(path)?,
            bytes: file_len(path)?,
        })
    }
}

/// Writes through to `inner` and hashes what passes.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Flushes `inner` and returns the digest of everything written.
    pub fn finish(mut self) -> std::io::Result<FileDigest> {
        self.inner.flush()?;
        Ok(FileDigest {
            sha256: to_hex(&self.hasher.finalize()),
            bytes: self.bytes,
        })
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file, read in full.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(to_hex(&hasher.finalize()))
}

/// A file's size.
pub fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_while_writing_gives_the_files_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut w = HashingWriter::new(File::create(&path).unwrap());
        w.write_all(b"a,b\n").unwrap();
        w.write_all(b"1,2\n").unwrap();
        let d = w.finish().unwrap();
        assert_eq!(d.bytes, 8);
        assert_eq!(d.sha256, sha256_file(&path).unwrap());
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        assert_eq!(
            w.finish().unwrap().sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
