//! Dates as the extracts write them: `DD/MM/YYYY` in BCN CSV exports,
//! `YYYY-MM-DD HH:MM:SS` in the BCN API, `YYYY-MM-DD` elsewhere. All become
//! ISO dates.

use chrono::NaiveDate;

/// Parses a date in any of the sources' forms; `Ok(None)` for an empty value.
pub fn parse_date(value: &str) -> Result<Option<NaiveDate>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let date_part = value.split([' ', 'T']).next().unwrap_or(value);
    let parsed = if date_part.contains('/') {
        NaiveDate::parse_from_str(date_part, "%d/%m/%Y")
    } else {
        NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
    };
    parsed
        .map(Some)
        .map_err(|_| format!("\"{value}\" is not a date (expected DD/MM/YYYY or YYYY-MM-DD)"))
}

/// Parses a session year (`2018`); the API sometimes writes it as a date.
pub fn parse_year(value: &str) -> Result<Option<i32>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(year) = value.parse::<i32>() {
        if (1800..=2200).contains(&year) {
            return Ok(Some(year));
        }
    }
    match parse_date(value) {
        Ok(Some(date)) => Ok(Some(chrono::Datelike::year(&date))),
        _ => Err(format!("\"{value}\" is not a year (expected YYYY)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_source_form() {
        let d = |y, m, d| Some(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(parse_date("01/09/2017"), Ok(d(2017, 9, 1)));
        assert_eq!(parse_date("2021-11-08 00:00:00"), Ok(d(2021, 11, 8)));
        assert_eq!(parse_date("2021-11-08"), Ok(d(2021, 11, 8)));
        assert_eq!(parse_date(""), Ok(None));
        assert!(parse_date("31/02/2020").is_err());
        assert!(parse_date("2020").is_err());
    }

    #[test]
    fn parses_session_years() {
        assert_eq!(parse_year("2018"), Ok(Some(2018)));
        assert_eq!(parse_year(""), Ok(None));
        assert_eq!(parse_year("2019-06-30 00:00:00"), Ok(Some(2019)));
        assert!(parse_year("20X8").is_err());
    }
}
