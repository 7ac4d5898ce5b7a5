//! Text helpers for the catalogues: column names matched on their ASCII
//! letters and digits ([`ascii_key`]), the [`Table`] lookup built on them,
//! and the detection and repair of Mac Roman text read as Windows-1252.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::input::encoding::Encoding;
use crate::input::{Col, RawTable, Row};
use crate::rules::codes::Code;

/// A name's ASCII letters and digits, upper-cased: how columns and format
/// names are matched (`ACADƒMIE` and `Académie` both give `ACADMIE`).
pub(super) fn ascii_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Column lookup on ASCII keys, with Mac Roman repair of the values.
pub(super) struct Table<'a> {
    t: &'a RawTable,
    mac_roman: bool,
}

impl<'a> Table<'a> {
    /// `mac_roman`: whether the whole file is Mac Roman read as
    /// Windows-1252 ([`text_is_mac_roman`]), decided once for every chunk.
    pub(super) fn new(t: &'a RawTable, mac_roman: bool) -> Self {
        Table { t, mac_roman }
    }

    pub(super) fn optional(&self, name: &str) -> Option<Col> {
        let key = ascii_key(name);
        let header = self.t.headers.iter().find(|h| ascii_key(h) == key)?;
        self.t.optional_column(header)
    }

    pub(super) fn required(&self, name: &str) -> Result<Col> {
        self.optional(name).ok_or_else(|| {
            Error::file(
                &self.t.path,
                format!(
                    "missing required column {name} (columns found: {}); check that this is the right catalogue and format",
                    self.t.headers.join(", ")
                ),
            )
        })
    }

    /// A code or short label of the row, held inline (see [`Code`]).
    pub(super) fn code(&self, row: &Row, col: Option<&Col>) -> Code {
        Code::from(self.value(row, col))
    }

    pub(super) fn text(&self, row: &Row, col: Option<&Col>) -> String {
        self.value(row, col).into_owned()
    }

    /// The row's value in `col` (empty without one), repaired when the
    /// table is Mac Roman read as Windows-1252.
    fn value<'r>(&self, row: &Row<'r>, col: Option<&Col>) -> Cow<'r, str> {
        let value = col.map_or("", |c| row.get(c));
        if self.mac_roman {
            Cow::Owned(repair_mac_roman(value))
        } else {
            Cow::Borrowed(value)
        }
    }
}

/// Characters Windows-1252 gives for bytes that are French letters in Mac
/// Roman (0x83 É, 0x88 à, 0x8D ç, 0x8E é, 0x8F è, 0x90 ê…) and are next to
/// never written in French Windows-1252 text.
pub(super) const MAC_ROMAN_MARKS: [char; 14] = [
    'ƒ', '‡', 'ˆ', '‰', 'Š', '‹', 'Ž', 'š', 'ž', 'Ÿ', '\u{81}', '\u{8D}', '\u{8F}', '\u{90}',
];

/// Whether a table read as Windows-1252 is in fact Mac Roman: it holds more
/// of Mac Roman's marks than Windows-1252's own accented letters.
pub(super) fn is_mac_roman(t: &RawTable) -> bool {
    let texts = t.headers.iter().map(String::as_str);
    let fields = t.rows.iter().flat_map(|r| r.fields.iter());
    looks_mac_roman(t.format.encoding, texts.chain(fields).flat_map(str::chars))
}

/// [`is_mac_roman`] on a whole file's decoded text, before it is read in
/// chunks: delimiters, quotes and padding are neither marks nor accents, so
/// the text and its table give the same answer.
pub(super) fn text_is_mac_roman(encoding: Encoding, text: &str) -> bool {
    looks_mac_roman(encoding, text.chars())
}

fn looks_mac_roman(encoding: Encoding, chars: impl Iterator<Item = char>) -> bool {
    if encoding != Encoding::Windows1252 {
        return false;
    }
    let (mut marks, mut accents) = (0usize, 0usize);
    for c in chars {
        if MAC_ROMAN_MARKS.contains(&c) {
            marks += 1;
        } else if "éèêàâçôîûùëïÉÈÀÇ".contains(c) {
            accents += 1;
        }
    }
    marks > accents
}

/// Text decoded as Windows-1252 that was Mac Roman, decoded again.
pub(super) fn repair_mac_roman(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    if unmappable {
        return text.to_string();
    }
    encoding_rs::MACINTOSH
        .decode_without_bom_handling(&bytes)
        .0
        .into_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::input::{delimited, DelimitedOptions};

    #[test]
    fn repairs_mac_roman_only_when_it_is_mac_roman() {
        assert_eq!(repair_mac_roman("Cr\u{17D}teil \u{8F}"), "Créteil è");
        let t = |bytes: &[u8]| {
            delimited::read_delimited(Path::new("t.csv"), bytes, &DelimitedOptions::default())
                .unwrap()
        };
        assert!(is_mac_roman(&t(b"a;b\nLyc\x8Ee;\x88 Paris\n")));
        assert!(!is_mac_roman(&t(b"a;b\nLyc\xE9e;\xE0 Paris \x80\n")));
        assert!(!is_mac_roman(&t("a;b\nLycée;x\n".as_bytes())));
        for bytes in [
            &b"a;b\nLyc\x8Ee;\x88 Paris\n"[..],
            b"a;b\nLyc\xE9e;\xE0 Paris \x80\n",
        ] {
            let (text, encoding) =
                crate::input::encoding::decode(Path::new("t.csv"), bytes).unwrap();
            assert_eq!(text_is_mac_roman(encoding, &text), is_mac_roman(&t(bytes)));
        }
    }
}
