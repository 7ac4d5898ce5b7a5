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
    if let Some(date) = ten_digit_date(date_part) {
        return Ok(Some(date));
    }
    let parsed = if date_part.contains('/') {
        NaiveDate::parse_from_str(date_part, "%d/%m/%Y")
    } else {
        NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
    };
    parsed
        .map(Some)
        .map_err(|_| format!("\"{value}\" is not a date (expected DD/MM/YYYY or YYYY-MM-DD)"))
}

/// `DD/MM/YYYY` or `YYYY-MM-DD` written in full, as nearly every source's
/// date is, read digit by digit: chrono's reading parses its format again
/// for each value (the BCN's dates: under 1 % of the real run's CPU, issue
/// 13). `None` for anything else, which chrono then reads (or refuses) as
/// before.
fn ten_digit_date(text: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = text.as_bytes().try_into().ok()?;
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let (year, month, day) = match (b[2], b[4], b[5], b[7]) {
        (b'/', _, b'/', _) => (number(&b[6..])?, number(&b[3..5])?, number(&b[..2])?),
        (_, b'-', _, b'-') => (number(&b[..4])?, number(&b[5..7])?, number(&b[8..])?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
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
    use chrono::Datelike;

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

    /// The dates read digit by digit are the ones chrono reads, and what
    /// they do not read is left to chrono, which reads or refuses it.
    #[test]
    fn full_dates_read_as_chrono_reads_them() {
        let chrono = |text: &str| {
            let format = if text.contains('/') {
                "%d/%m/%Y"
            } else {
                "%Y-%m-%d"
            };
            NaiveDate::parse_from_str(text, format).ok()
        };
        let mut day = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        while day.year() < 2031 {
            for text in [
                day.format("%d/%m/%Y").to_string(),
                day.format("%Y-%m-%d").to_string(),
            ] {
                assert_eq!(ten_digit_date(&text), chrono(&text), "{text}");
                assert_eq!(parse_date(&text), Ok(chrono(&text)), "{text}");
            }
            day += chrono::Duration::days(13);
        }
        for text in [
            "31/02/2020",
            "2020-02-30",
            "00/01/2020",
            "2020-13-01",
            "2020-00-10",
            "29/02/2023",
            "29/02/2024",
            "1/09/2017",
            "2017-9-01",
            "01-09-2017",
            "2017/09/01",
            "0a/09/2017",
            "+2017-09-1",
            "01/09/201a",
        ] {
            assert_eq!(
                ten_digit_date(text).or_else(|| chrono(text)),
                chrono(text),
                "{text}"
            );
            assert_eq!(parse_date(text).ok().flatten(), chrono(text), "{text}");
        }
    }

    #[test]
    fn parses_session_years() {
        assert_eq!(parse_year("2018"), Ok(Some(2018)));
        assert_eq!(parse_year(""), Ok(None));
        assert_eq!(parse_year("2019-06-30 00:00:00"), Ok(Some(2019)));
        assert!(parse_year("20X8").is_err());
    }
}
