//! The formats of the codes that key every table, and what they tell.
//!
//! See `../shared/DOMAIN.md`, "Codes".

/// A code (CFD, MEF_STAT_11, SISE, UAI, région…) or a short label, as the
/// rows hold it: inline up to 24 bytes, so that the millions of rows and
/// referential entries that carry codes allocate nothing for them (at ×10,
/// a heap string per code was a fifth of the indicators stage's peak,
/// issue 13). Reads as a `&str`.
pub type Code = compact_str::CompactString;

/// The kind of code a `code_certification` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeType {
    Cfd,
    MefStat11,
    Sise,
}

impl CodeType {
    pub const ALL: [CodeType; 3] = [CodeType::Cfd, CodeType::MefStat11, CodeType::Sise];

    pub const fn as_str(self) -> &'static str {
        match self {
            CodeType::Cfd => "cfd",
            CodeType::MefStat11 => "mef_stat_11",
            CodeType::Sise => "sise",
        }
    }

    /// The value `as_str` writes, read back (`cfd`, `mef_stat_11`, `sise`).
    pub fn parse(value: &str) -> Option<CodeType> {
        CodeType::ALL.into_iter().find(|t| t.as_str() == value)
    }

    pub fn code_len(self) -> usize {
        match self {
            CodeType::Cfd => 8,
            CodeType::MefStat11 => 11,
            CodeType::Sise => 7,
        }
    }

    /// What a valid code of this type looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            CodeType::Cfd => "a CFD of 8 characters [0-9A-Z]",
            CodeType::MefStat11 => "a MEF_STAT_11 of 11 characters [0-9A-Z]",
            CodeType::Sise => "a SISE code of 7 characters [0-9A-Z]",
        }
    }

    pub fn is_valid(self, code: &str) -> bool {
        code.len() == self.code_len() && is_code_chars(code)
    }
}

/// Codes are upper-case ASCII letters and digits only.
pub fn is_code_chars(code: &str) -> bool {
    code.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// A MEF_STAT_11 ends with its CFD's last 5 characters (DOMAIN.md), digits on
/// every CFD of the BCN: a MEF_STAT_11 whose end is not 5 digits is no MEF.
pub fn check_mef_stat_11_end(mef: &str) -> Result<(), String> {
    let end = mef.get(mef.len().saturating_sub(5)..).unwrap_or("");
    if end.len() == 5 && end.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "\"{mef}\" is not a MEF_STAT_11: its last 5 characters, its CFD's, must be digits"
        ))
    }
}

/// Whether a MEF_STAT_11 and the CFD given beside it agree (same last 5 characters).
pub fn mef_matches_cfd(mef: &str, cfd: &str) -> Result<(), String> {
    let tail = |c: &str| c.get(c.len().saturating_sub(5)..).unwrap_or("").to_string();
    if tail(mef) == tail(cfd) {
        Ok(())
    } else {
        Err(format!(
            "MEF_STAT_11 \"{mef}\" does not belong to CFD \"{cfd}\": its last 5 characters should be {}",
            tail(cfd)
        ))
    }
}

/// Checks a code, returning a message saying what was expected when it is not valid.
pub fn check_code(code_type: CodeType, code: &str) -> Result<(), String> {
    if code_type.is_valid(code) {
        Ok(())
    } else {
        Err(format!(
            "\"{code}\" is not {} (found {} characters)",
            code_type.expected(),
            code.chars().count()
        ))
    }
}

/// The diploma level told by a CFD's first character (DOMAIN.md: 5→3 CAP,
/// 4→4 Bac, 3→5 BTS, 2→6 Licence, 1→7 Master, 0→MC), with its label.
pub fn niveau_diplome(cfd: &str) -> Option<(&'static str, &'static str)> {
    match cfd.as_bytes().first()? {
        b'5' => Some(("3", "CAP")),
        b'4' => Some(("4", "BAC")),
        b'3' => Some(("5", "BTS")),
        b'2' => Some(("6", "LICENCE")),
        b'1' => Some(("7", "MASTER")),
        b'0' => Some(("MC", "MENTION COMPLEMENTAIRE")),
        _ => None,
    }
}

const UAI_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// The check letter of a UAI's seven digits: `ABCDEFGHJKLMNPRSTUVWXYZ`[n mod 23].
pub fn uai_check_letter(digits: &str) -> Option<char> {
    if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some(UAI_LETTERS[(n % 23) as usize] as char)
}

/// Whether a UAI is 7 digits followed by its right check letter.
pub fn is_valid_uai(uai: &str) -> bool {
    uai.len() == 8 && uai.is_ascii() && uai_check_letter(&uai[..7]) == uai[7..].chars().next()
}

#[cfg(test)]
mod tests {

    #[test]
    fn code_types_read_back_what_they_write() {
        for t in super::CodeType::ALL {
            assert_eq!(super::CodeType::parse(t.as_str()), Some(t));
        }
        assert_eq!(super::CodeType::parse("CFD"), None);
        assert_eq!(super::CodeType::parse("mef"), None);
    }

    #[test]
    fn a_mef_stat_11_ends_with_its_cfds_digits() {
        assert!(check_mef_stat_11_end("23A10099999").is_ok());
        assert!(check_mef_stat_11_end("ABCDEFGHIJK").is_err());
        assert!(mef_matches_cfd("23810025510", "40025510").is_ok());
        let e = mef_matches_cfd("23810025510", "40025513").unwrap_err();
        assert!(e.contains("should be 25513"), "{e}");
    }
    use super::*;

    #[test]
    fn code_formats() {
        let cases = [
            (CodeType::Cfd, "26Z13999", true),
            (CodeType::Cfd, "40025214", true),
            (CodeType::Cfd, "4002521", false),
            (CodeType::Cfd, "4002521s", false),
            (CodeType::MefStat11, "23810020006", true),
            (CodeType::MefStat11, "2381002000", false),
            (CodeType::Sise, "2400074", true),
            (CodeType::Sise, "0000001", true),
            (CodeType::Sise, "240007", false),
        ];
        for (t, code, valid) in cases {
            assert_eq!(t.is_valid(code), valid, "{code}");
        }
        assert_eq!(
            check_code(CodeType::Cfd, "4002X").unwrap_err(),
            "\"4002X\" is not a CFD of 8 characters [0-9A-Z] (found 5 characters)"
        );
    }

    #[test]
    fn diploma_level_from_the_first_character() {
        for (cfd, level) in [
            ("50022135", Some("3")),
            ("40025214", Some("4")),
            ("32031212", Some("5")),
            ("26Z13999", Some("6")),
            ("1302200A", Some("7")),
            ("01022001", Some("MC")),
            ("67010011", None),
        ] {
            assert_eq!(niveau_diplome(cfd).map(|n| n.0), level, "{cfd}");
        }
    }

    #[test]
    fn uai_check_letter_from_the_seven_digits() {
        // Real UAIs from the InserJeunes CFA file and Affelnet.
        for uai in ["0630003L", "0631243J", "0010001W", "0131445A", "0595821G"] {
            assert!(is_valid_uai(uai), "{uai}");
        }
        for uai in ["0630003M", "063000L", "A630003L", "0630003l", ""] {
            assert!(!is_valid_uai(uai), "{uai}");
        }
        assert_eq!(uai_check_letter("0000000"), Some('A'));
        assert_eq!(uai_check_letter("0000022"), Some('Z'));
    }
}
