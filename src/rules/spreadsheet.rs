//! Text cells a spreadsheet would run as a formula (CSV injection, OWASP).
//!
//! A CSV opened in Excel or LibreOffice runs a cell starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(…)`,
//! `@SUM(…)`). `ij` publishes CSVs that people open in spreadsheets, and
//! Parquet files that programs read. The rule, chosen so that the data stay
//! exact for machines: in **CSV files only**, such a text cell is written with
//! a single quote before it (`'=HYPERLINK(…)`: the spreadsheet shows it as
//! text, as OWASP advises); the Parquet files keep the value as it was, and
//! the run reports how many cells were neutralised. Codes never need it:
//! their patterns (CFD, MEF_STAT_11, SISE, UAI) admit letters and digits only,
//! and a code that is not one is rejected where it is read.
//!
//! A text cell holding a plain number (`-3`, `+1.5`, the `valeur_ajoutee_*`
//! columns) is not a formula: a spreadsheet reads it as the number it is.

/// Whether a spreadsheet would run `text` as a formula.
pub fn starts_like_formula(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(&first) if may_start_formula(first) => {
            // A sign may start a plain number instead.
            !matches!(first, b'+' | b'-') || !is_plain_number(text)
        }
        _ => false,
    }
}

/// Whether a text starting with this byte may start like a formula: when
/// not, the rest of the text need not be read (a text column's first bytes
/// lie beside its lengths, `output::table`). Every byte a formula starts
/// with is ASCII: no other character's UTF-8 starts with it.
pub fn may_start_formula(first_byte: u8) -> bool {
    matches!(first_byte, b'=' | b'@' | b'\t' | b'\r' | b'+' | b'-')
}

/// The text as a CSV cell: prefixed with `'` when it starts like a formula.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if starts_like_formula(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `-3`, `+1.5`, `-0,5`: a sign, digits, at most one decimal mark.
fn is_plain_number(text: &str) -> bool {
    let rest = &text[1..];
    let mut digits = 0;
    let mut marks = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' | ',' => marks += 1,
            _ => return false,
        }
    }
    digits > 0 && marks <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_recognised_and_numbers_are_not() {
        for f in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "- option",
        ] {
            assert!(starts_like_formula(f), "{f:?}");
            assert!(may_start_formula(f.as_bytes()[0]), "{f:?}");
            assert_eq!(neutralise(f), format!("'{f}"));
        }
        for t in ["-3", "+1.5", "-0,5", "", "CAP cuisine", "a=b", "'x"] {
            assert!(!starts_like_formula(t), "{t:?}");
            assert_eq!(neutralise(t), t);
        }
        for t in ["CAP cuisine", "a=b", "'x", "Île", "é=", "«=»"] {
            assert!(!may_start_formula(t.as_bytes()[0]), "{t:?}");
        }
    }
}
