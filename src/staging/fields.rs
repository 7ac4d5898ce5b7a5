//! Typed reads of one field of a raw row, with errors that say where the bad
//! value is and what was expected. Every staging loader uses these.

use chrono::NaiveDate;

use crate::error::Result;
use crate::input::{Col, Row};
use crate::rules::codes::{check_code, CodeType};
use crate::rules::dates;

/// A required code of the given type.
pub fn code(row: &Row, col: &Col, code_type: CodeType) -> Result<String> {
    let value = row.get(col);
    if value.is_empty() {
        return Err(row.error(
            col,
            format!("empty value, expected {}", code_type.expected()),
        ));
    }
    check_code(code_type, value).map_err(|m| row.error(col, m))?;
    Ok(value.to_string())
}

/// A text value, possibly empty.
pub fn text(row: &Row, col: &Col) -> String {
    row.get(col).to_string()
}

/// A text value from an optional column.
pub fn opt_text(row: &Row, col: Option<&Col>) -> String {
    col.map(|c| text(row, c)).unwrap_or_default()
}

/// A required non-empty text value.
pub fn required_text(row: &Row, col: &Col, what: &str) -> Result<String> {
    match row.opt(col) {
        Some(v) => Ok(v.to_string()),
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
