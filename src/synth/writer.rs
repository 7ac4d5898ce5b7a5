//! Line-by-line file writing for `ij synth`, in the encodings the real
//! exports use, with errors that name the file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    /// Windows-1252, as N_FORMATION_DIPLOME: every character the generator
    /// writes is ASCII or in Latin-1's upper half, where both agree.
    Windows1252,
}

pub struct Lines {
    path: PathBuf,
    out: BufWriter<File>,
    encoding: Encoding,
    buf: Vec<u8>,
}

impl Lines {
    pub fn create(path: &Path, encoding: Encoding) -> Result<Lines> {
        let file = File::create(path).map_err(|e| write_err(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        if encoding == Encoding::Utf8Bom {
            out.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| write_err(path, e))?;
        }
        Ok(Lines {
            path: path.to_path_buf(),
            out,
            encoding,
            buf: Vec::new(),
        })
    }

    pub fn line(&mut self, text: &str) -> Result<()> {
        let bytes = match self.encoding {
            Encoding::Windows1252 => {
                self.buf.clear();
                self.buf.extend(
                    text.chars()
                        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
                );
                &self.buf[..]
            }
            _ => text.as_bytes(),
        };
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| write_err(&self.path, e))
    }

    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| write_err(&self.path, e))
    }
}

pub fn write_err(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}
