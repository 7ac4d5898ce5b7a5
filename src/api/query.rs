//! What a request asks, parsed and checked before anything is looked up:
//! codes (with their optional type prefix), millésimes, régions (INSEE code
//! or postcode), UAIs, pagination and widget parameters. Every refusal is a
//! 400 with its reason, in French as the reference API answers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::rules::codes::{is_valid_uai, CodeType};
use crate::rules::exposition::departement_of_postcode;
use crate::rules::millesime::Millesime;
use crate::staging::reference::Reference;

/// At most this many codes in one request (`{codes}` or `code_certifications`).
pub const MAX_CODES: usize = 50;
/// Bulk lists: at most this many items per page.
pub const MAX_ITEMS_PAR_PAGE: usize = 1000;
pub const DEFAULT_ITEMS_PAR_PAGE: usize = 10;
/// A longer path and query string is refused (414) before it is parsed.
pub const MAX_URI_LEN: usize = 4096;

/// An answer other than 200, with the reference API's body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub data: Option<Value>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            message: message.into(),
            data: None,
        }
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            message: message.into(),
            data: None,
        }
    }
    /// No data for the asked (or default) millésime.
    pub fn no_millesime(millesime: &str, disponibles: &[String]) -> ApiError {
        ApiError {
            status: 404,
            message: "Pas de données pour le millésime".into(),
            data: Some(json!({"millesime": millesime, "millesimesDisponible": disponibles})),
        }
    }
    pub fn reason(&self) -> &'static str {
        match self.status {
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            414 => "URI Too Long",
            _ => "Error",
        }
    }
    pub fn body(&self) -> Value {
        let mut body = json!({
            "statusCode": self.status,
            "error": self.reason(),
            "message": self.message,
        });
        if let Some(data) = &self.data {
            body["data"] = data.clone();
        }
        body
    }
}

/// A requested code and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRef {
    pub code: String,
    pub kind: CodeType,
}

/// `{codes}`: codes separated by `,` or `|`, each possibly prefixed by its
/// type (`CFD:`, `MEFSTAT11:`, `SISE:`); unprefixed, the length tells.
pub fn parse_codes(value: &str) -> Result<Vec<CodeRef>, ApiError> {
    let parts: Vec<&str> = value
        .split([',', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(ApiError::bad_request("Aucun code de certification"));
    }
    if parts.len() > MAX_CODES {
        return Err(ApiError::bad_request(format!(
            "Trop de codes de certification ({}, au plus {MAX_CODES})",
            parts.len()
        )));
    }
    let mut codes: Vec<CodeRef> = Vec::with_capacity(parts.len());
    for part in parts {
        let code = parse_code(part)?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

fn parse_code(part: &str) -> Result<CodeRef, ApiError> {
    let (prefix, code) = match part.split_once(':') {
        Some((p, c)) => (Some(p.trim().to_ascii_uppercase()), c.trim()),
        None => (None, part),
    };
    let code = code.to_ascii_uppercase();
    let kind = match prefix.as_deref() {
        Some("CFD") => CodeType::Cfd,
        Some("MEFSTAT11") | Some("MEF11") | Some("MEF") => CodeType::MefStat11,
        Some("SISE") => CodeType::Sise,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Type de code inconnu « {} » (attendu CFD:, MEFSTAT11: ou SISE:)",
                shorten(other)
            )))
        }
        None => match code.len() {
            8 => CodeType::Cfd,
            11 => CodeType::MefStat11,
            7 => CodeType::Sise,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Code de certification invalide « {} » : 8 caractères pour un CFD, 11 pour un MEF_STAT_11, 7 pour un SISE",
                    shorten(&code)
                )))
            }
        },
    };
    if !kind.is_valid(&code) {
        return Err(ApiError::bad_request(format!(
            "Code de certification invalide « {} » : {}",
            shorten(&code),
            match kind {
                CodeType::Cfd => "un CFD a 8 caractères [0-9A-Z]",
                CodeType::MefStat11 => "un MEF_STAT_11 a 11 caractères [0-9A-Z]",
                CodeType::Sise => "un code SISE a 7 caractères [0-9A-Z]",
            }
        )));
    }
    Ok(CodeRef { code, kind })
}

/// A value echoed in a message, cut to 40 characters.
pub fn shorten(value: &str) -> String {
    let mut s: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// `millesime=2023` or `2022_2023`.
pub fn parse_millesime(value: &str) -> Result<Millesime, ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "Millésime invalide « {} » (attendu 2023 ou 2022_2023)",
            shorten(value)
        ))
    };
    let ok = value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit())
        || value.len() == 9
            && value.as_bytes()[4] == b'_'
            && value[..4].bytes().all(|b| b.is_ascii_digit())
            && value[5..].bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(invalid());
    }
    let m = Millesime::parse(value).map_err(|_| invalid())?;
    if m.to_string() != value || m.last - m.first > 1 {
        return Err(invalid());
    }
    Ok(m)
}

/// The millésimes a request for `m` matches: itself, then the matching
/// form of the other kind (`2023` ↔ `2022_2023`), as the reference API's
/// formations route tries both.
pub fn millesime_candidates(m: Millesime) -> [Millesime; 2] {
    if m.is_cumulated() {
        [m, Millesime::year(m.last)]
    } else {
        [
            m,
            Millesime {
                first: m.first - 1,
                last: m.first,
            },
        ]
    }
}

/// `{region}`: an INSEE région code (`84`) or a postcode (`69003`) → the
/// INSEE code of the région.
pub fn parse_region(value: &str, reference: &Reference) -> Result<String, ApiError> {
    if let Some(r) = reference.region(value) {
        return Ok(r.code.clone());
    }
    if let Some(dept) = departement_of_postcode(value) {
        if let Some(d) = reference.departement(&dept) {
            return Ok(d.region_code.clone());
        }
    }
    Err(ApiError::bad_request(format!(
        "Région inconnue « {} » : un code INSEE de région (84) ou un code postal (69003)",
        shorten(value)
    )))
}

pub fn parse_uai(value: &str) -> Result<String, ApiError> {
    let uai = value.trim().to_ascii_uppercase();
    if is_valid_uai(&uai) {
        Ok(uai)
    } else {
        Err(ApiError::bad_request(format!(
            "UAI invalide « {} » : 7 chiffres et une lettre de contrôle (0630003L)",
            shorten(value)
        )))
    }
}

/// The query string's parameters, percent-decoded (the last of a repeated
/// name wins).
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        let mut map = BTreeMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k)?, decode(v)?);
            map.insert(k, v);
        }
        Ok(Params(map))
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    /// A comma-separated list parameter.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split([',', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
    /// One of `allowed`, or the default.
    pub fn choice(
        &self,
        name: &str,
        allowed: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => allowed.iter().copied().find(|a| *a == v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Paramètre {name} invalide « {} » (attendu : {})",
                    shorten(v),
                    allowed.join(", ")
                ))
            }),
        }
    }
    pub fn millesime(&self) -> Result<Option<Millesime>, ApiError> {
        self.get("millesime").map(parse_millesime).transpose()
    }
    /// `page` (from 1) and `items_par_page` (1 to 1000).
    pub fn pagination(&self) -> Result<(usize, usize), ApiError> {
        let number = |name: &str, default: usize, max: usize| -> Result<usize, ApiError> {
            match self.get(name) {
                None => Ok(default),
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(ApiError::bad_request(format!(
                        "Paramètre {name} invalide « {} » : un entier de 1 à {max}",
                        shorten(v)
                    ))),
                },
            }
        };
        Ok((
            number("page", 1, 1_000_000)?,
            number("items_par_page", DEFAULT_ITEMS_PAR_PAGE, MAX_ITEMS_PAR_PAGE)?,
        ))
    }
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ApiError::bad_request("Chaîne de requête mal encodée"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("Chaîne de requête mal encodée"))
}

/// The extension of a path segment: `40025214.svg` → (`40025214`, `svg`).
pub fn split_extension(segment: &str) -> (&str, Option<&str>) {
    match segment.rsplit_once('.') {
        Some((stem, ext)) if matches!(ext, "json" | "svg" | "csv") => (stem, Some(ext)),
        _ => (segment, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_with_and_without_prefix() {
        let c = parse_codes("CFD:40025214|MEFSTAT11:23830024203,2500200").unwrap();
        let kinds: Vec<_> = c.iter().map(|c| (c.code.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("40025214", CodeType::Cfd),
                ("23830024203", CodeType::MefStat11),
                ("2500200", CodeType::Sise)
            ]
        );
        assert_eq!(parse_codes("26z13999").unwrap()[0].code, "26Z13999");
        for bad in [
            "",
            "1234",
            "CFD:2500200",
            "XYZ:40025214",
            "../../etc",
            "4002521<",
        ] {
            let e = parse_codes(bad).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
        let many = vec!["40025214"; MAX_CODES + 1].join(",");
        assert_eq!(parse_codes(&many).unwrap_err().status, 400);
    }

    #[test]
    fn millesimes() {
        assert_eq!(parse_millesime("2023").unwrap().to_string(), "2023");
        assert_eq!(
            parse_millesime("2022_2023").unwrap().to_string(),
            "2022_2023"
        );
        for bad in ["23", "2023_2022", "2021_2023", "abcd", "2022-2023", "20233"] {
            assert!(parse_millesime(bad).is_err(), "{bad}");
        }
        let c = millesime_candidates(parse_millesime("2023").unwrap());
        assert_eq!(c[1].to_string(), "2022_2023");
        let c = millesime_candidates(parse_millesime("2022_2023").unwrap());
        assert_eq!(c[1].to_string(), "2023");
    }

    #[test]
    fn regions_from_codes_and_postcodes() {
        let r = Reference::embedded();
        assert_eq!(parse_region("84", &r).unwrap(), "84");
        assert_eq!(parse_region("69003", &r).unwrap(), "84");
        assert_eq!(parse_region("75015", &r).unwrap(), "11");
        assert_eq!(parse_region("20200", &r).unwrap(), "94");
        assert_eq!(parse_region("97400", &r).unwrap(), "04");
        for bad in ["99", "00000", "abc", "6900"] {
            assert_eq!(parse_region(bad, &r).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn query_strings() {
        let p = Params::parse(Some("millesime=2023&theme=lba&x=%C3%A9t%C3%A9+1")).unwrap();
        assert_eq!(p.get("x"), Some("été 1"));
        assert_eq!(p.choice("theme", &["dsfr", "lba"], "dsfr").unwrap(), "lba");
        assert!(p.choice("direction", &["vertical"], "vertical").is_ok());
        assert!(Params::parse(Some("a=%zz")).is_err());
        let p = Params::parse(Some("items_par_page=100000")).unwrap();
        assert_eq!(p.pagination().unwrap_err().status, 400);
        let p = Params::parse(Some("page=2&items_par_page=50")).unwrap();
        assert_eq!(p.pagination().unwrap(), (2, 50));
        assert_eq!(split_extension("40025214.svg"), ("40025214", Some("svg")));
        assert_eq!(split_extension("CFD:4002.5214"), ("CFD:4002.5214", None));
    }
}
