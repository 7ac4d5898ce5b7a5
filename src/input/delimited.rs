//! Reads delimited text (CSV-like) extracts into a `RawTable`.
//!
//! What varies between the real extracts, and is detected per file:
//! - the encoding (see `encoding.rs`);
//! - the delimiter: `;`, `|`, tab or `,`, whichever the header line holds most of;
//! - line ends: CRLF or LF;
//! - quoting: BCN exports are not RFC 4180, a field may hold a bare `"`
//!   (`libellé court "CPES"`), so quotes are only treated as quotes when the
//!   file holds at least one well-formed quoted field (`;"…";`, `""` escapes).
//!
//! Fields are trimmed (Affelnet pads them with spaces). A row with fewer fields
//! than the header is an error: it was truncated.

use std::path::Path;

use csv::StringRecord;

use crate::error::{Error, Location, Result};
use crate::input::encoding;
use crate::input::table::{Format, FormatKind, RawRow, RawTable};

/// How to read a delimited file; everything else is detected.
#[derive(Debug, Clone)]
pub struct DelimitedOptions {
    /// Lines that make up the header (the DEPP 2018–2020 files have two); their
    /// names are joined with a space, column by column.
    pub header_rows: usize,
}

impl Default for DelimitedOptions {
    fn default() -> Self {
        DelimitedOptions { header_rows: 1 }
    }
}

const CANDIDATE_DELIMITERS: [u8; 4] = [b';', b'|', b'\t', b','];

pub fn read_delimited(path: &Path, bytes: &[u8], options: &DelimitedOptions) -> Result<RawTable> {
    let (text, encoding) = encoding::decode(path, bytes)?;
    if text.trim().is_empty() {
        return Err(Error::file(
            path,
            "empty file: expected a header line and rows; the extract may have failed",
        ));
    }
    // `lines()` would strip the `\r` of a CRLF line end: split on `\n` only.
    let first_line = text.split('\n').next().unwrap_or("");
    let delimiter = detect_delimiter(first_line);
    let quoting = uses_quoting(text.as_bytes(), delimiter);
    let format = Format {
        kind: FormatKind::Csv,
        encoding,
        delimiter: Some(delimiter as char),
        quoting,
        crlf: first_line.ends_with('\r'),
    };

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());

    let mut headers: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut record = StringRecord::new();
    let mut header_lines_read = 0;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error::at(
                    path,
                    Location::Line { line, column: None },
                    format!("unreadable row: {e}"),
                ))
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if header_lines_read < options.header_rows {
            merge_header(&mut headers, &record);
            header_lines_read += 1;
            continue;
        }
        check_width(path, line, &headers, &record)?;
        rows.push(RawRow {
            position: line,
            fields: record.clone(),
        });
    }
    if headers.iter().all(|h| h.is_empty()) {
        return Err(Error::file(path, "no header line: the first line is blank"));
    }
    Ok(RawTable::new(path, format, headers, rows))
}

fn merge_header(headers: &mut Vec<String>, record: &StringRecord) {
    for (i, name) in record.iter().enumerate() {
        let name = name.trim();
        match headers.get_mut(i) {
            Some(h) if !name.is_empty() && !h.is_empty() => {
                h.push(' ');
                h.push_str(name);
            }
            Some(h) if h.is_empty() => *h = name.to_string(),
            Some(_) => {}
            None => headers.push(name.to_string()),
        }
    }
}

fn check_width(path: &Path, line: u64, headers: &[String], record: &StringRecord) -> Result<()> {
    let expected = headers.len();
    let found = record.len();
    if found < expected {
        // Name the first column the row lacks.
        return Err(Error::at(
            path,
            Location::Line {
                line,
                column: Some((found + 1, headers[found].clone())),
            },
            format!(
                "expected {expected} fields like the header, found {found}: the row is truncated (was the file cut short, or does a field hold a line break?)"
            ),
        ));
    }
    if found > expected && record.iter().skip(expected).any(|f| !f.trim().is_empty()) {
        return Err(Error::at(
            path,
            Location::Line {
                line,
                column: None,
            },
            format!(
                "expected {expected} fields like the header, found {found}: a field may hold an unquoted delimiter"
            ),
        ));
    }
    Ok(())
}

/// The candidate delimiter the header line holds most of (outside quotes).
pub fn detect_delimiter(header_line: &str) -> u8 {
    let mut counts = [0usize; CANDIDATE_DELIMITERS.len()];
    let mut in_quotes = false;
    for b in header_line.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            if let Some(i) = CANDIDATE_DELIMITERS.iter().position(|&d| d == b) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..counts.len())
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .expect("four candidates");
    CANDIDATE_DELIMITERS[best]
}

/// Whether the file holds at least one well-formed RFC 4180 quoted field: a
/// `"` opening a field, closed by a `"` (not `""`) followed by the delimiter
/// or the end of the line.
pub fn uses_quoting(text: &[u8], delimiter: u8) -> bool {
    // Bound the search for a closing quote, so a stray quote cannot make the
    // scan quadratic on a large file.
    const MAX_QUOTED_FIELD: usize = 64 * 1024;
    let mut field_start = true;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if field_start && b == b'"' {
            let mut j = i + 1;
            let end = text.len().min(i + MAX_QUOTED_FIELD);
            while j < end {
                if text[j] == b'"' {
                    if text.get(j + 1) == Some(&b'"') {
                        j += 2;
                        continue;
                    }
                    match text.get(j + 1) {
                        None | Some(b'\n') | Some(b'\r') => return true,
                        Some(&c) if c == delimiter => return true,
                        _ => break,
                    }
                }
                j += 1;
            }
        }
        field_start = b == delimiter || b == b'\n';
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RawTable> {
        read_delimited(
            Path::new("t.csv"),
            text.as_bytes(),
            &DelimitedOptions::default(),
        )
    }

    #[test]
    fn detects_the_delimiter_of_the_header() {
        for (line, d) in [
            ("A;B;C", b';'),
            ("A|B|C", b'|'),
            ("A\tB", b'\t'),
            ("A,B", b','),
            ("\"A;x\",B,C", b','),
            ("A", b';'),
        ] {
            assert_eq!(detect_delimiter(line), d, "{line}");
        }
    }

    #[test]
    fn quoting_only_when_a_field_is_properly_quoted() {
        assert!(!uses_quoting(b"A;B\n1;libelle court \"CPES\"\n", b';'));
        assert!(!uses_quoting(b"A;B\n1;\"Diplome d'etat\" en 4 ans\n", b';'));
        assert!(uses_quoting(b"A;B\n1;\"x;y\"\n", b';'));
        assert!(uses_quoting(b"\"A\";\"B\"\r\n1;2\r\n", b';'));
        assert!(uses_quoting(
            b"A;B\n1;\"Conducteur \"\"routier\"\"\";2\n",
            b';'
        ));
    }

    #[test]
    fn bare_quotes_are_kept_as_text() {
        let t = read("CFD;LIBELLE\n26Z13999;libellé court \"CPES\"\n").unwrap();
        let [lib] = t.columns(["libelle"]).unwrap();
        assert_eq!(t.rows().next().unwrap().get(&lib), "libellé court \"CPES\"");
        assert!(!t.format.quoting);
    }

    #[test]
    fn quoted_fields_and_crlf() {
        let t = read("\"A\";\"B\"\r\n\"x;y\";\"z\"\r\n").unwrap();
        let [a, b] = t.columns(["a", "B"]).unwrap();
        let row = t.rows().next().unwrap();
        assert_eq!((row.get(&a), row.get(&b)), ("x;y", "z"));
        assert!(t.format.crlf && t.format.quoting);
    }

    #[test]
    fn padded_fields_are_trimmed() {
        let t = read("UAI ; ACADEMIE \n0040007L ; AIX-MARSEILLE   \n").unwrap();
        let [uai, aca] = t.columns(["uai", "academie"]).unwrap();
        let row = t.rows().next().unwrap();
        assert_eq!(
            (row.get(&uai), row.get(&aca)),
            ("0040007L", "AIX-MARSEILLE")
        );
    }

    #[test]
    fn truncated_rows_empty_files_and_missing_columns_are_errors() {
        let e = read("A;B;C\n1;2;3\n4;5\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3:3 (C): expected 3 fields"), "{e}");
        let e = read("").unwrap_err().to_string();
        assert!(e.contains("empty file"), "{e}");
        let t = read("A;B\n1;2\n").unwrap();
        let e = t.column("MEF_STAT_11").unwrap_err().to_string();
        assert!(e.contains("missing required column MEF_STAT_11"), "{e}");
    }

    #[test]
    fn trailing_empty_fields_are_accepted_but_extra_values_are_not() {
        assert_eq!(read("A;B\n1;2;\n").unwrap().len(), 1);
        let e = read("A;B\n1;2;3\n").unwrap_err().to_string();
        assert!(e.contains("found 3"), "{e}");
    }

    #[test]
    fn two_row_headers_are_joined() {
        let t = read_delimited(
            Path::new("t.csv"),
            b"UAI;Taux;;\n;emploi 6 mois;attendu;VA\n0010001W;1;2;3\n",
            &DelimitedOptions { header_rows: 2 },
        )
        .unwrap();
        assert_eq!(t.headers, ["UAI", "Taux emploi 6 mois", "attendu", "VA"]);
        assert_eq!(t.rows().next().unwrap().position(), 3);
    }
}
