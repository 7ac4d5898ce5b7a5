//! Reads delimited text (CSV-like) extracts into a `RawTable`.
//!
//! What varies between the real extracts, and is detected per file:
//! - the encoding (see `encoding.rs`);
//! - the delimiter: `;`, `|`, tab or `,`, whichever the header line holds most of;
//! - line ends: CRLF or LF;
//! - quoting, per field: BCN exports are not RFC 4180, a field may hold a bare
//!   `"` (`libellé court "CPES"`, `"Diplome d'etat" en 4 ans`), so a `"` opens
//!   a quoted field only when that field is well-formed (`;"…";`, `""`
//!   escapes); anywhere else it is text.
//!
//! Header names must be unique (a copy would silently be read instead).
//!
//! Fields are trimmed (Affelnet pads them with spaces). A row with fewer fields
//! than the header is an error: it was truncated.

use std::borrow::Cow;
use std::path::Path;

use csv::StringRecord;

use crate::error::{Error, Location, Result};
use crate::input::encoding;
use crate::input::table::{Fields, Format, FormatKind, RawRow, RawTable};

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
    let mut table = None;
    read_text_in_chunks(path, &text, encoding, options, usize::MAX, |t| {
        table = Some(t);
        Ok(())
    })?;
    Ok(table.expect("read_text_in_chunks hands over one table at least"))
}

/// Reads decoded delimited text and hands its rows to `each` in tables of
/// at most `chunk_rows` rows, each with the file's header and format, in
/// file order (one table, maybe without rows, when the file has at most
/// `chunk_rows`). A reader that stages rows as they come holds one chunk,
/// not the file's every field (a 200 MB catalogue, issue 13). A chunk's
/// `format.quoting` says whether a quoted field was seen so far.
pub fn read_text_in_chunks(
    path: &Path,
    text: &str,
    encoding: encoding::Encoding,
    options: &DelimitedOptions,
    chunk_rows: usize,
    mut each: impl FnMut(RawTable) -> Result<()>,
) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::file(
            path,
            "empty file: expected a header line and rows; the extract may have failed",
        ));
    }
    // `lines()` would strip the `\r` of a CRLF line end: split on `\n` only.
    let first_line = text.split('\n').next().unwrap_or("");
    let delimiter = detect_delimiter(first_line);
    let format = |quoting| Format {
        kind: FormatKind::Csv,
        encoding,
        delimiter: Some(delimiter as char),
        quoting,
        crlf: first_line.ends_with('\r'),
    };
    let no_header = || Error::file(path, "no header line: the first line is blank");
    let mut headers: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut header_lines_read = 0;
    let mut quoting = false;
    let mut handed_over = false;
    for_each_record(text, delimiter, |line, fields, quoted| {
        quoting |= quoted;
        if header_lines_read < options.header_rows {
            merge_header(&mut headers, fields);
            header_lines_read += 1;
            if header_lines_read == options.header_rows {
                check_header(path, &headers)?;
                if headers.iter().all(|h| h.is_empty()) {
                    return Err(no_header());
                }
            }
            return Ok(());
        }
        check_width(path, line, &headers, fields)?;
        // A tight copy: the row's text and where each field ends.
        let Some(copy) = Fields::new(fields.iter()) else {
            return Err(Error::at(
                path,
                Location::Line { line, column: None },
                "a row of 4 GiB or more: not a table this tool reads",
            ));
        };
        rows.push(RawRow {
            position: line,
            fields: copy,
        });
        if rows.len() >= chunk_rows {
            let chunk = std::mem::replace(&mut rows, Vec::with_capacity(chunk_rows));
            each(RawTable::new(path, format(quoting), headers.clone(), chunk))?;
            handed_over = true;
        }
        Ok(())
    })?;
    if headers.iter().all(|h| h.is_empty()) {
        return Err(no_header());
    }
    if !rows.is_empty() || !handed_over {
        each(RawTable::new(path, format(quoting), headers, rows))?;
    }
    Ok(())
}

/// The rows [`read_text_in_chunks`] hands over for `text`, counted without
/// reading its fields, when no `"` can make a field span lines or hide a
/// delimiter; `None` when the text holds one (only reading it tells then).
/// Blank lines are not rows: reading skips them. A writer
/// that must cut its output by the whole count before the last row comes
/// (a catalogue's offers in Parquet row groups, issue 13) asks for it.
pub fn count_rows(text: &str, options: &DelimitedOptions) -> Option<usize> {
    if memchr::memchr(b'"', text.as_bytes()).is_some() {
        return None;
    }
    let first_line = text.split('\n').next().unwrap_or("");
    let d = detect_delimiter(first_line);
    let records = text
        .split('\n')
        .filter(|line| !line.trim().is_empty() || line.as_bytes().contains(&d))
        .count();
    Some(records.saturating_sub(options.header_rows))
}

/// Splits delimited text into records and hands each one, with the line it
/// starts on and whether one of its fields was quoted, to `each` (one
/// reused record: no allocation per field). Quoting is decided **per
/// field**: a field is quoted when it starts with `"` and a closing `"`
/// (not `""`) is followed by the delimiter or the end of the line (spaces
/// allowed between); its `""` are then one `"`, and it may hold delimiters
/// and line breaks. Any other `"` is text (`"Diplome d'etat" en 4 ans`,
/// `libellé court "CPES"`). `\r\n` and `\n` end a line; lines are counted
/// on `\n`, so CRLF files are numbered like the editor shows them. Blank
/// lines are skipped.
fn for_each_record(
    text: &str,
    d: u8,
    mut each: impl FnMut(u64, &StringRecord, bool) -> Result<()>,
) -> Result<()> {
    let bytes = text.as_bytes();
    let mut record = StringRecord::new();
    let mut pos = 0;
    let mut line: u64 = 1;
    while pos < bytes.len() {
        let start_line = line;
        record.clear();
        let mut quoted_any = false;
        loop {
            // One field.
            if let Some((value, after, newlines)) = quoted_field(text, pos, d) {
                record.push_field(&value);
                quoted_any = true;
                line += newlines;
                pos = after;
            } else {
                let end = bytes[pos..]
                    .iter()
                    .position(|&b| b == d || b == b'\n')
                    .map_or(bytes.len(), |i| pos + i);
                let mut value = &text[pos..end];
                if bytes.get(end) != Some(&d) {
                    value = value.strip_suffix('\r').unwrap_or(value);
                }
                record.push_field(value);
                pos = end;
            }
            match bytes.get(pos) {
                Some(&b) if b == d => pos += 1,
                Some(b'\r') if bytes.get(pos + 1) == Some(&b'\n') => {
                    pos += 2;
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        let blank = record.len() == 1 && record[0].trim().is_empty() && !quoted_any;
        if !blank {
            each(start_line, &record, quoted_any)?;
        }
    }
    Ok(())
}

/// A quoted field starting at `pos`: its value (borrowed unless it holds a
/// `""`), the position after its closing quote (and spaces), and the line
/// breaks it holds; `None` when the field is not a well-formed quoted field.
fn quoted_field(text: &str, pos: usize, d: u8) -> Option<(Cow<'_, str>, usize, u64)> {
    let bytes = text.as_bytes();
    if bytes.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    let mut value = Cow::Borrowed("");
    let mut chunk_start = i;
    loop {
        let q = bytes[i..].iter().position(|&b| b == b'"')? + i;
        if bytes.get(q + 1) == Some(&b'"') {
            value.to_mut().push_str(&text[chunk_start..=q]);
            i = q + 2;
            chunk_start = i;
            continue;
        }
        match &mut value {
            Cow::Borrowed(_) => value = Cow::Borrowed(&text[chunk_start..q]),
            Cow::Owned(v) => v.push_str(&text[chunk_start..q]),
        }
        let mut after = q + 1;
        while matches!(bytes.get(after), Some(b' ') | Some(b'\t')) && d != b'\t' {
            after += 1;
        }
        let closes = match bytes.get(after) {
            None | Some(b'\n') | Some(b'\r') => true,
            Some(&c) => c == d,
        };
        if !closes {
            return None;
        }
        let n = newlines(&value);
        return Some((value, after, n));
    }
}

fn newlines(s: &str) -> u64 {
    s.bytes().filter(|&b| b == b'\n').count() as u64
}

/// Header names are unique: a copy would be read in place of the other.
fn check_header(path: &Path, headers: &[String]) -> Result<()> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let key = crate::input::table::header_key(h);
        if key.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(key, i) {
            return Err(Error::at(
                path,
                Location::Line {
                    line: 1,
                    column: Some((i + 1, h.clone())),
                },
                format!(
                    "the column name \"{h}\" is also column {}: duplicated names make a column ambiguous; rename or remove one",
                    first + 1
                ),
            ));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows counted are the rows read, whatever the lines' ends, blank
    /// lines, a last line without its end, a line of delimiters only or a
    /// second header line; a `"` anywhere and only reading tells.
    #[test]
    fn count_rows_is_the_rows_read() {
        let texts = [
            "a;b\n1;2\n3;4\n",
            "a;b\r\n1;2\r\n\r\n3;4",
            "\n\na;b\n  \n1;2\n;\n\u{a0}\n3;4\n\n",
            "a\tb\n\t\n \t \n1\t2\n",
            "a,b\n\n",
            "a|b\n1|2\n|\n",
        ];
        for header_rows in [1, 2] {
            let options = DelimitedOptions { header_rows };
            for text in texts {
                let mut read = 0;
                let outcome = read_text_in_chunks(
                    Path::new("t.csv"),
                    text,
                    encoding::Encoding::Utf8,
                    &options,
                    2,
                    |t| {
                        read += t.len();
                        Ok(())
                    },
                );
                if outcome.is_ok() {
                    assert_eq!(count_rows(text, &options), Some(read), "{text:?}");
                }
            }
        }
        let quoted = "a;b\n\"1\n2\";3\n";
        assert_eq!(count_rows(quoted, &DelimitedOptions::default()), None);
    }

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
    fn quoting_is_decided_per_field() {
        let t = read(
            "A;B\n\"x;y\";\"Diplome d'etat\" en 4 ans\n\"Conducteur \"\"routier\"\"\";libellé court \"CPES\"\n",
        )
        .unwrap();
        let [a, b] = t.columns(["a", "b"]).unwrap();
        let rows: Vec<(&str, &str)> = t.rows().map(|r| (r.get(&a), r.get(&b))).collect();
        assert_eq!(
            rows,
            [
                ("x;y", "\"Diplome d'etat\" en 4 ans"),
                ("Conducteur \"routier\"", "libellé court \"CPES\"")
            ]
        );
        assert!(t.format.quoting);
    }

    #[test]
    fn line_numbers_are_right_in_crlf_files_and_after_multiline_fields() {
        let e = read("A;B;C\r\n1;2;3\r\n\"x\r\ny\";5;6\r\n7;8\r\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:5:3 (C): expected 3 fields"), "{e}");
        let t = read("A;B\r\n1;2\r\n\r\n3;4\r\n").unwrap();
        let lines: Vec<u64> = t.rows().map(|r| r.position()).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn duplicated_header_names_are_an_error() {
        let e = read("CFD;nb;NB\n1;2;\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:1:3 (NB): the column name \"NB\" is also column 2"),
            "{e}"
        );
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
