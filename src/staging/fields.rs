//! Typed reads of one field of a raw row, with errors that say where the bad
//! value is and what was expected. Every staging loader uses these.

use chrono::NaiveDate;

use crate::error::Result;
use crate::input::{Col, Row};
use crate::rules::codes::{check_code, Code, CodeType};
use crate::rules::dates;

// Values come back as `Code`: held inline up to 24 bytes, so that a staged
// row of codes and short labels is one allocation, not one per field
// (issue 13: the BCN staged took twice its text at ×100).

/// A required code of the given type.
pub fn code(row: &Row, col: &Col, code_type: CodeType) -> Result<Code> {
    let value = row.get(col);
    if value.is_empty() {
        return Err(row.error(
            col,
            format!("empty value, expected {}", code_type.expected()),
        ));
    }
    check_code(code_type, value).map_err(|m| row.error(col, m))?;
    Ok(Code::from(value))
}

/// A text value, possibly empty.
pub fn text(row: &Row, col: &Col) -> Code {
    Code::from(row.get(col))
}

/// A text value from an optional column.
pub fn opt_text(row: &Row, col: Option<&Col>) -> Code {
    col.map(|c| text(row, c)).unwrap_or_default()
}

/// A required non-empty text value.
pub fn required_text(row: &Row, col: &Col, what: &str) -> Result<Code> {
    match row.opt(col) {
        Some(v) => Ok(Code::from(v)),
        None => Err(row.error(col, format!("empty value, expected {what}"))),
    }
}

pub fn date(row: &Row, col: &Col) -> Result<Option<NaiveDate>> {
    dates::parse_date(row.get(col)).map_err(|m| row.error(col, m))
}

pub fn opt_date(row: &Row, col: Option<&Col>) -> Result<Option<NaiveDate>> {
    match col {
        Some(c) => date(row, c),
        None => Ok(None),
    }
}

pub fn opt_year(row: &Row, col: Option<&Col>) -> Result<Option<i32>> {
    match col {
        Some(c) => dates::parse_year(row.get(c)).map_err(|m| row.error(c, m)),
        None => Ok(None),
    }
}

/// A small count (a duration in years, a year within a cycle); empty is `None`.
pub fn opt_small_int(row: &Row, col: &Col) -> Result<Option<u32>> {
    let value = row.get(col);
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse::<u32>()
        .map(Some)
        .map_err(|_| row.error(col, format!("\"{value}\" is not a whole number")))
}

/// Markers of a figure that is not published: `nd` (non diffusé: the DEPP
/// files from 2021_2022 on write it wherever a figure is missing, on about a
/// third of their rows), InserSup's `ns` (non significatif) and `na` (non
/// applicable); any case. Such a figure is missing, never 0.
pub fn is_not_published(value: &str) -> bool {
    ["nd", "ns", "na"]
        .iter()
        .any(|m| value.eq_ignore_ascii_case(m))
}

/// A decimal as the French sources write it: `42,6` or `42.6`, spaces of any
/// kind as thousands separators (`1 650,5`, with a no-break or narrow
/// no-break space too), a sign allowed. Nothing else: no exponent, no
/// `inf`/`NaN`, no letters (`12 %` is not a number). `None` when not a
/// finite number; the caller says what was expected and where.
pub fn parse_decimal(value: &str) -> Option<f64> {
    let cleaned: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let is_plain = cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
    if !is_plain {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A letter without its accent, case kept (`é` → `e`, `Ô` → `O`), and the
/// ligatures spelled out (`œ` → `oe`, `Æ` → `AE`); `None` for any other
/// character. The French letters only: the sources write nothing else.
pub fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'â' | 'ä' => "a",
        'À' | 'Â' | 'Ä' => "A",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'É' | 'È' | 'Ê' | 'Ë' => "E",
        'î' | 'ï' => "i",
        'Î' | 'Ï' => "I",
        'ô' | 'ö' => "o",
        'Ô' | 'Ö' => "O",
        'ù' | 'û' | 'ü' => "u",
        'Ù' | 'Û' | 'Ü' => "U",
        'ç' => "c",
        'Ç' => "C",
        'ÿ' => "y",
        'Ÿ' => "Y",
        'œ' => "oe",
        'Œ' => "OE",
        'æ' => "ae",
        'Æ' => "AE",
        _ => return None,
    })
}

/// The key a label or a place name is matched by: ASCII letters and digits,
/// upper case, accents folded (`fold_accent`), everything else dropped, so
/// that `AUVERGNE-RHONE-ALPES`, `Auvergne-Rhône-Alpes` and `auvergne rhone
/// alpes` meet, and `Œnologie` is `OENOLOGIE`.
pub fn folded_key(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match fold_accent(c) {
            Some(base) => out.push_str(&base.to_ascii_uppercase()),
            None if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_meet_whatever_their_accents_case_and_punctuation() {
        for (a, b) in [
            ("AUVERGNE-RHONE-ALPES", "Auvergne-Rhône-Alpes"),
            ("auvergne rhone alpes", "Auvergne-Rhône-Alpes"),
            ("PROVENCE-ALPES-COTE D'AZUR", "Provence-Alpes-Côte d’Azur"),
            ("ILE-DE-FRANCE", "Île-de-France"),
            ("Métiers de l'hôtellerie", "METIERS DE L HOTELLERIE"),
            ("Œnologie", "OENOLOGIE"),
            ("cæcum", "CAECUM"),
            ("Français", "FRANCAIS"),
        ] {
            assert_eq!(folded_key(a), folded_key(b), "{a} / {b}");
        }
        assert_eq!(folded_key("Œnologie et cœur"), "OENOLOGIEETCOEUR");
        assert_eq!(folded_key("2NDE PRO COMMUNE"), "2NDEPROCOMMUNE");
        assert_eq!(folded_key("—"), "");
        assert_ne!(folded_key("Mer"), folded_key("Métiers de la mer"));
    }

    #[test]
    fn accents_fold_keeping_case() {
        assert_eq!(fold_accent('é'), Some("e"));
        assert_eq!(fold_accent('É'), Some("E"));
        assert_eq!(fold_accent('œ'), Some("oe"));
        assert_eq!(fold_accent('Æ'), Some("AE"));
        assert_eq!(fold_accent('e'), None);
        assert_eq!(fold_accent('-'), None);
    }

    #[test]
    fn not_published_markers_in_any_case() {
        for m in ["nd", "ND", "Nd", "ns", "NS", "na", "NA"] {
            assert!(is_not_published(m), "{m}");
        }
        for v in ["", "0", "n", "nd ", "nan", "n/a", "-"] {
            assert!(!is_not_published(v), "{v}");
        }
    }

    #[test]
    fn decimals_with_a_comma_a_point_and_thousands_spaces() {
        for (text, expected) in [
            ("42,6", 42.6),
            ("42.6", 42.6),
            ("12", 12.0),
            ("0", 0.0),
            (",5", 0.5),
            ("-3,5", -3.5),
            ("+7", 7.0),
            ("1 650,5", 1650.5),
            ("1\u{a0}650,5", 1650.5),
            ("1\u{202f}650", 1650.0),
            (" 12 ", 12.0),
        ] {
            assert_eq!(parse_decimal(text), Some(expected), "{text:?}");
        }
    }

    #[test]
    fn not_decimals() {
        for text in [
            "", " ", "nd", "abc", "1e3", "inf", "NaN", "12 %", "1,234.5", "1.2.3", "--1", "€12",
        ] {
            assert_eq!(parse_decimal(text), None, "{text:?}");
        }
    }
}
