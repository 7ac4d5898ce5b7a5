//! Detects the text encoding of an input file and decodes it to UTF-8.
//!
//! Statistical extracts arrive as UTF-8, UTF-8 with a byte-order mark (Excel's
//! "CSV UTF-8"), or Windows-1252 (older BCN exports, Affelnet, Parcoursup).
//! Polars and the csv crate read UTF-8 only, so every file goes through here
//! first. Detection is per file: a BOM wins; otherwise valid UTF-8 is UTF-8;
//! otherwise the bytes are read as Windows-1252 (a superset of Latin-1's
//! printable range). UTF-16 and binary files are refused with an explanation.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::error::{Error, Location, Result};

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

/// Encodings declared in the pipeline file (`[inputs.encodings]`): a file, or
/// every file of a folder, decoded as told instead of detected.
static DECLARED: RwLock<Vec<(PathBuf, Encoding)>> = RwLock::new(Vec::new());

/// Declares the encoding of a file or of the files of a folder.
pub fn declare(path: &Path, encoding: Encoding) {
    if let Ok(mut declared) = DECLARED.write() {
        declared.retain(|(p, _)| p != path);
        declared.push((path.to_path_buf(), encoding));
    }
}

fn declared(path: &Path) -> Option<Encoding> {
    let declared = DECLARED.read().ok()?;
    declared
        .iter()
        .find(|(p, _)| path == p || path.parent() == Some(p.as_path()))
        .map(|(_, e)| *e)
}

impl Encoding {
    /// An encoding as a pipeline file names it.
    pub fn parse(name: &str) -> std::result::Result<Encoding, String> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" => {
                Ok(Encoding::Windows1252)
            }
            other => Err(format!(
                "encoding \"{other}\": expected utf-8 or windows-1252"
            )),
        }
    }
}

/// Decodes `bytes` read from `path` (used only in error messages).
///
/// The encoding is decided on the whole file, never silently: a NUL byte or
/// a byte-order mark anywhere but at the start is an error; a file with a
/// UTF-8 BOM must be UTF-8 throughout; a file that is UTF-8 but for a few
/// bytes (its accented letters are valid UTF-8 sequences, and more numerous
/// than the invalid bytes) is an error naming the first bad byte's line and
/// column, rather than a whole file of `SANTÃ‰` read as Windows-1252. A file
/// whose encoding the pipeline declares is decoded as told.
pub fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<(Cow<'a, str>, Encoding)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::file(
            path,
            "unsupported encoding UTF-16 (byte-order mark FF FE / FE FF); re-save the file as UTF-8 or Windows-1252",
        ));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        let (line, column) = line_column(bytes, offset);
        return Err(Error::at(
            path,
            Location::Line { line, column: None },
            format!(
                "NUL byte at column {column}: a text extract never holds one; this looks like a binary file (xlsx, zip), UTF-16, or a damaged export: export it again as CSV in UTF-8"
            ),
        ));
    }
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        match std::str::from_utf8(rest) {
            Ok(text) => (Cow::Borrowed(text), Encoding::Utf8Bom),
            Err(e) => {
                let (line, column) = line_column(bytes, e.valid_up_to() + 3);
                return Err(Error::at(
                    path,
                    Location::Line { line, column: None },
                    format!(
                        "byte 0x{:02X} at column {column} is not UTF-8, though the file starts with a UTF-8 byte-order mark; re-save the file in one encoding",
                        bytes[e.valid_up_to() + 3]
                    ),
                ));
            }
        }
    } else {
        match (declared(path), std::str::from_utf8(bytes)) {
            (Some(Encoding::Windows1252), _) => {
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
                (text, Encoding::Windows1252)
            }
            (_, Ok(text)) => (Cow::Borrowed(text), Encoding::Utf8),
            (declared, Err(e)) => {
                let (valid, invalid) = utf8_census(bytes);
                if declared.is_some() || valid >= invalid {
                    let (line, column) = line_column(bytes, e.valid_up_to());
                    return Err(Error::at(
                        path,
                        Location::Line { line, column: None },
                        format!(
                            "byte 0x{:02X} at column {column} is not UTF-8, in a file {} ({valid} UTF-8 accented characters, {invalid} invalid bytes); fix the byte, or declare the file's encoding under [inputs.encodings] in the pipeline file",
                            bytes[e.valid_up_to()],
                            if declared.is_some() { "declared UTF-8" } else { "otherwise UTF-8" }
                        ),
                    ));
                }
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
                (text, Encoding::Windows1252)
            }
        }
    };
    // A byte-order mark inside the text: two files pasted together, or a
    // BOM that would end up inside a code.
    if let Some(offset) = text.find('\u{FEFF}') {
        let (line, column) = line_column(text.as_bytes(), offset);
        return Err(Error::at(
            path,
            Location::Line { line, column: None },
            format!(
                "byte-order mark (U+FEFF) at column {column}, inside the file: were two files pasted together? remove it"
            ),
        ));
    }
    Ok((text, encoding))
}

/// Valid UTF-8 multibyte sequences and bytes that are not part of one.
fn utf8_census(bytes: &[u8]) -> (usize, usize) {
    let (mut valid, mut invalid) = (0, 0);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    (valid, invalid)
}

/// The 1-based line (counting `\n`) and column (in characters) of a byte offset.
pub fn line_column(bytes: &[u8], offset: usize) -> (u64, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
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
        assert!(e.contains("NUL byte"), "{e}");
    }

    #[test]
    fn one_bad_byte_in_a_utf8_file_is_an_error_not_windows_1252() {
        let e = detect(b"CFD;LIBELLE\n1;SANT\xC3\x89\n2;\xC3\x89L\xC9VAGE\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv:3: byte 0xC9 at column 5 is not UTF-8"),
            "{e}"
        );
        // A file without any UTF-8 sequence is Windows-1252, as before.
        assert_eq!(
            detect(b"a\n\xC9L\xC9VAGE\n").unwrap().1,
            Encoding::Windows1252
        );
    }

    #[test]
    fn nul_bytes_and_stray_boms_are_errors_wherever_they_are() {
        let e = detect(b"\xEF\xBB\xBFa;b\n1;\x002\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:2: NUL byte at column 3"), "{e}");
        let e = detect("a;b\n1;\u{FEFF}2\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv:2: byte-order mark (U+FEFF) at column 3"),
            "{e}"
        );
    }
}
