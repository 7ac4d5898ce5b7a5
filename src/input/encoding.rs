//! Detects the text encoding of an input file and decodes it to UTF-8.
//!
//! Statistical extracts arrive as UTF-8, UTF-8 with a byte-order mark (Excel's
//! "CSV UTF-8"), or Windows-1252 (older BCN exports, Affelnet, Parcoursup).
//! Polars and the csv crate read UTF-8 only, so every file goes through here
//! first. Detection is per file: a BOM wins; otherwise valid UTF-8 is UTF-8;
//! otherwise the bytes are read as Windows-1252 (a superset of Latin-1's
//! printable range). UTF-16 and binary files are refused with an explanation.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Result};

/// The encoding an input file was detected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Decodes `bytes` read from `path` (used only in error messages).
pub fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<(Cow<'a, str>, Encoding)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::file(
            path,
            "unsupported encoding UTF-16 (byte-order mark FF FE / FE FF); re-save the file as UTF-8 or Windows-1252",
        ));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8Bom)),
            Err(e) => Err(Error::file(
                path,
                format!(
                    "starts with a UTF-8 byte-order mark but byte {} is not valid UTF-8; re-save the file in one encoding",
                    e.valid_up_to() + 3
                ),
            )),
        };
    }
    // A NUL byte never occurs in a text extract: this is a binary file
    // (a spreadsheet, an archive) or UTF-16 without a byte-order mark.
    if let Some(offset) = memchr_nul(bytes) {
        return Err(Error::file(
            path,
            format!(
                "unknown encoding: NUL byte at offset {offset}; this looks like a binary file (xlsx, zip) or UTF-16, export it as CSV in UTF-8"
            ),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8)),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((text, Encoding::Windows1252))
        }
    }
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(bytes: &[u8]) -> Result<(String, Encoding)> {
        decode(Path::new("t.csv"), bytes).map(|(t, e)| (t.into_owned(), e))
    }

    #[test]
    fn detects_each_supported_encoding() {
        let cases: &[(&[u8], &str, Encoding)] = &[
            (b"CFD;LIBELLE\n", "CFD;LIBELLE\n", Encoding::Utf8),
            ("é;à\n".as_bytes(), "é;à\n", Encoding::Utf8),
            (b"\xEF\xBB\xBFa;b\n", "a;b\n", Encoding::Utf8Bom),
            (b"ann\xe9e;\x80\n", "année;€\n", Encoding::Windows1252),
        ];
        for (bytes, text, encoding) in cases {
            assert_eq!(detect(bytes).unwrap(), (text.to_string(), *encoding));
        }
    }

    #[test]
    fn refuses_utf16_and_binary() {
        let e = detect(b"\xFF\xFEa\x00").unwrap_err().to_string();
        assert!(e.contains("UTF-16"), "{e}");
        let e = detect(b"PK\x03\x04\x00\x00").unwrap_err().to_string();
        assert!(e.contains("unknown encoding"), "{e}");
    }
}
