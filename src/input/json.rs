//! Reads JSON extracts (the BCN API's `{"data": [{…}, …]}`, InserSup's and ODS's
//! `{"results": […]}`, or a bare array of objects)
//! into a `RawTable`, so that stages read JSON and CSV extracts alike.
//!
//! Field names become headers (matched case-insensitively, so the API's
//! lower-case names find the CSV exports' upper-case columns). Strings stay
//! strings, numbers are written as in the file, `null` is empty.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::encoding::{self, Encoding};
use crate::input::table::{Fields, Format, FormatKind, RawRow, RawTable};

/// The shapes a JSON extract may take, for error messages.
const EXPECTED: &str = "expected an array of objects, or an object holding one under \"data\" (BCN API), \"results\" (InserSup, ODS) or \"records\"";

/// Decodes and parses a JSON extract, and returns its records: a bare array,
/// or the array under `data` (BCN API), `results` (InserSup API, ODS
/// exports) or `records`. Loaders that need nested values (the ODS `fields`)
/// use this; the others `read_json`.
pub fn read_records(path: &Path, bytes: &[u8]) -> Result<(Vec<Value>, Encoding)> {
    let (text, encoding) = encoding::decode(path, bytes)?;
    if text.trim().is_empty() {
        return Err(Error::file(path, format!("empty file: {EXPECTED}")));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(
            path,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let records = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => {
            match ["data", "results", "records"]
                .iter()
                .find_map(|k| match map.remove(*k) {
                    Some(Value::Array(items)) => Some(items),
                    _ => None,
                }) {
                Some(items) => items,
                None => return Err(Error::file(path, EXPECTED)),
            }
        }
        _ => return Err(Error::file(path, EXPECTED)),
    };
    Ok((records, encoding))
}

pub fn read_json(path: &Path, bytes: &[u8]) -> Result<RawTable> {
    let (records, encoding) = read_records(path, bytes)?;

    // Headers: every field name, in order of first appearance.
    let mut headers: Vec<String> = Vec::new();
    let mut index_of = std::collections::HashMap::new();
    for (i, record) in records.iter().enumerate() {
        let Value::Object(map) = record else {
            return Err(Error::file(
                path,
                format!("record {} is not an object", i + 1),
            ));
        };
        for key in map.keys() {
            if !index_of.contains_key(key) {
                index_of.insert(key.clone(), headers.len());
                headers.push(key.clone());
            }
        }
    }
    let mut rows = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let mut fields = vec![String::new(); headers.len()];
        if let Value::Object(map) = record {
            for (key, value) in map {
                fields[index_of[key]] = scalar_text(value);
            }
        }
        rows.push(RawRow {
            position: i as u64 + 1,
            fields: Fields::new(fields.iter().map(String::as_str)).ok_or_else(|| {
                Error::file(path, format!("record {}: 4 GiB or more of text", i + 1))
            })?,
        });
    }
    let format = Format {
        kind: FormatKind::Json,
        encoding,
        delimiter: None,
        quoting: false,
        crlf: false,
    };
    Ok(RawTable::new(path, format, headers, rows))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bcn_api_format() {
        let t = read_json(
            Path::new("N_MEF.json"),
            br#"{"data":[{"mef":"2473121131","duree_dispositif":"3","annee_dispositif":1,"date_fermeture":null,"date_ouverture":"2021-11-08 00:00:00"}]}"#,
        )
        .unwrap();
        let [mef, annee, fermeture] = t
            .columns(["MEF", "ANNEE_DISPOSITIF", "DATE_FERMETURE"])
            .unwrap();
        let row = t.rows().next().unwrap();
        assert_eq!(row.get(&mef), "2473121131");
        assert_eq!(row.get(&annee), "1");
        assert_eq!(row.opt(&fermeture), None);
        assert_eq!(
            row.error(&mef, "bad").to_string(),
            "N_MEF.json: record 1, field mef: bad"
        );
    }

    #[test]
    fn reads_the_wrappers_of_the_apis() {
        for text in [
            r#"[{"a":"1"}]"#,
            r#"{"data":[{"a":"1"}]}"#,
            r#"{"results":[{"a":"1"}]}"#,
            r#"{"records":[{"a":"1"}]}"#,
        ] {
            let t = read_json(Path::new("x.json"), text.as_bytes()).unwrap();
            assert_eq!(t.len(), 1, "{text}");
        }
    }

    #[test]
    fn refuses_other_shapes() {
        let e = read_json(Path::new("x.json"), br#"{"rows":[]}"#).unwrap_err();
        assert!(e.to_string().contains("\"data\" (BCN API)"), "{e}");
        let e = read_json(Path::new("x.json"), br#"{"data":[1"#).unwrap_err();
        assert!(e.to_string().contains("invalid JSON"));
    }
}
