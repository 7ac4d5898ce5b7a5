//! Millésimes: the cohort a figure describes.
//!
//! National InserJeunes data use one year (`2024`); regional and establishment
//! data a cumulated pair (`2023_2024`); the open-data CFA file writes
//! `cumul 2023-2024`; InserSup writes academic years (`2020-2021`), a cumulated
//! promotion as several years (`2020,2021`), and flags cumulated figures with
//! `*` or `**`. All become one canonical form: the year, or the two years
//! joined by `_`, in ascending order (as the reference API normalises them).

use std::fmt;

/// A normalised millésime: one year, or the first and last year of a cumulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millesime {
    pub first: u16,
    pub last: u16,
}

impl Millesime {
    pub fn year(year: u16) -> Millesime {
        Millesime {
            first: year,
            last: year,
        }
    }

    pub fn is_cumulated(self) -> bool {
        self.first != self.last
    }

    /// Parses any of the sources' forms; the error says what was expected.
    pub fn parse(value: &str) -> Result<Millesime, String> {
        let cleaned = value.trim().trim_end_matches('*').trim().to_lowercase();
        let cleaned = cleaned.strip_prefix("cumul").unwrap_or(&cleaned).trim();
        let years: Result<Vec<u16>, _> = cleaned
            .split(['_', '-', ',', '/', ' '])
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<u16>())
            .collect();
        let expected = || {
            format!(
                "\"{value}\" is not a millésime (expected 2023, 2022_2023, 2022-2023 or cumul 2022-2023)"
            )
        };
        let mut years = years.map_err(|_| expected())?;
        if years.is_empty() || years.iter().any(|y| !(1990..=2100).contains(y)) {
            return Err(expected());
        }
        // One year, or two consecutive years: never rewritten into one
        // (`2022_2022`, `2020_2021_2022` and `2021_2023` are not millésimes).
        years.sort_unstable();
        match years[..] {
            [year] => Ok(Millesime::year(year)),
            [first, last] if last == first + 1 => Ok(Millesime { first, last }),
            [first, last] if last == first => Err(format!(
                "{}: the same year twice; a cumulated millésime is two consecutive years",
                expected()
            )),
            [_, _] => Err(format!(
                "{}: the years are not consecutive; a cumulated millésime is two consecutive years",
                expected()
            )),
            _ => Err(format!(
                "{}: {} years; a millésime is one year or two consecutive years",
                expected(),
                years.len()
            )),
        }
    }
}

impl Millesime {
    /// The canonical text, without an allocation: a table writes one a
    /// row (issue 13: a `String` formatted for each was a tenth of the
    /// time its text columns took).
    pub fn text(self) -> MillesimeText {
        let mut text = MillesimeText {
            bytes: [0; 11],
            len: 0,
        };
        text.push_year(self.first);
        if self.is_cumulated() {
            text.bytes[text.len] = b'_';
            text.len += 1;
            text.push_year(self.last);
        }
        text
    }
}

/// A millésime's canonical text (`2023`, `2022_2023`), held inline: two
/// years of at most five digits and the `_`. Empty by default (no
/// millésime).
#[derive(Debug, Clone, Copy, Default)]
pub struct MillesimeText {
    bytes: [u8; 11],
    len: usize,
}

impl MillesimeText {
    fn push_year(&mut self, year: u16) {
        let mut digits = [0u8; 5];
        let (mut n, mut at) = (year, digits.len());
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let year = &digits[at..];
        self.bytes[self.len..self.len + year.len()].copy_from_slice(year);
        self.len += year.len();
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("digits and `_`")
    }
}

impl AsRef<str> for MillesimeText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Millesime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_form_has_one_canonical_form() {
        for (input, canonical) in [
            ("2023", "2023"),
            ("2022_2023", "2022_2023"),
            ("2022-2023", "2022_2023"),
            ("cumul 2022-2023", "2022_2023"),
            ("Cumul 2023-2022", "2022_2023"),
            ("2020-2021*", "2020_2021"),
            ("2021,2022", "2021_2022"),
            (" 2019_2020 ", "2019_2020"),
        ] {
            assert_eq!(
                Millesime::parse(input).unwrap().to_string(),
                canonical,
                "{input}"
            );
        }
    }

    /// The text without an allocation is the years as Rust writes them.
    #[test]
    fn the_text_is_the_years_written() {
        for (first, last) in [
            (2023, 2023),
            (2022, 2023),
            (0, 0),
            (9, 10),
            (999, 1000),
            (65534, 65535),
        ] {
            let m = Millesime { first, last };
            let expected = if first == last {
                format!("{first}")
            } else {
                format!("{first}_{last}")
            };
            assert_eq!(m.text().as_str(), expected);
            assert_eq!(m.to_string(), expected);
        }
        assert_eq!(MillesimeText::default().as_str(), "", "no millésime");
    }

    #[test]
    fn refuses_what_is_not_a_millesime() {
        for input in ["", "cumul", "20233", "2023_abc", "1850", "2010_2023"] {
            assert!(Millesime::parse(input).is_err(), "{input}");
        }
        // Never silently rewritten (issue 10).
        for (input, why) in [
            ("2021_2023", "not consecutive"),
            ("2022_2022", "the same year twice"),
            ("2020_2021_2022", "3 years"),
        ] {
            let e = Millesime::parse(input).unwrap_err();
            assert!(e.contains(why), "{input}: {e}");
        }
    }
}
