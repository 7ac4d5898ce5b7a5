//! The values of an InserSup file: millésimes (from `promo` or
//! `annee_universitaire` and its cumulation marker), counts, rates and
//! salaries (`nd`/`ns`/`na` and decimal commas read by `staging::fields`).

use crate::input::Col;
use crate::rules::millesime::Millesime;
use crate::staging::fields::{is_not_published, parse_decimal};

/// The open data's `promo`: one year, or the promotions a cumulated figure
/// covers (`2020,2021`, `2020-2021`, or the JSON export's `["2020","2021"]`).
pub(super) fn millesime_promo(raw: &str) -> Result<Millesime, String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '"'))
        .collect();
    Millesime::parse(&cleaned).map_err(|_| {
        format!("\"{raw}\" is not a promotion (expected 2021, or 2020,2021 for a cumulated figure)")
    })
}

/// The API's `annee_universitaire` (`2020-2021`), read with the marker of
/// `nb_sortants`: `*` = cumulated over the academic year's two promotions
/// (`2020_2021`); none, or `**` (cumulation impossible) = the promotion of its
/// last year (`2021`). A `*` on the year itself also marks a cumulation.
pub(super) fn millesime_annee_universitaire(
    raw: &str,
    nb_sortants: &str,
) -> Result<Millesime, String> {
    let annee = Millesime::parse(raw)
        .map_err(|_| format!("\"{raw}\" is not an academic year (expected 2020-2021)"))?;
    let cumulated = match split_marker(nb_sortants).1 {
        Marker::CumulImpossible => false,
        Marker::Cumul => true,
        Marker::None => split_marker(raw).1 == Marker::Cumul,
    };
    Ok(if cumulated {
        annee
    } else {
        Millesime::year(annee.last)
    })
}

/// InserSup's flags on a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    /// `130 *`: cumulated over two promotions.
    Cumul,
    /// `12 **`: cumulation impossible (the single promotion's figure).
    CumulImpossible,
}

/// The value without its trailing `*` markers, and the marker.
fn split_marker(raw: &str) -> (&str, Marker) {
    let value = raw.trim();
    let body = value.trim_end_matches('*');
    let marker = match value.len() - body.len() {
        0 => Marker::None,
        1 => Marker::Cumul,
        _ => Marker::CumulImpossible,
    };
    (body.trim(), marker)
}

/// A figure: `Ok(None)` when missing (`nd`, `ns`, `na`, empty), the number
/// (decimal comma or point, spaces as thousands separators), or why not.
pub(super) fn parse_number(raw: &str) -> Result<Option<f64>, String> {
    let (body, _) = split_marker(raw);
    if body.is_empty() || is_not_published(body) {
        return Ok(None);
    }
    parse_decimal(body).map(Some).ok_or_else(|| {
        format!("\"{raw}\" is not a number (expected digits with a decimal comma, or nd/ns/na)")
    })
}

/// A count: a whole, non-negative number, or missing.
pub(super) fn parse_count(col: &Col, raw: &str) -> Result<Option<i64>, String> {
    let Some(x) = parse_number(raw).map_err(|m| format!("invalid_number: {}: {m}", col.name()))?
    else {
        return Ok(None);
    };
    if x.fract() != 0.0 || x.abs() > 1e15 {
        return Err(format!(
            "invalid_number: {}: \"{raw}\" is not a whole number of students",
            col.name()
        ));
    }
    if x < 0.0 {
        return Err(format!(
            "negative_count: {}: \"{raw}\" (a count of students cannot be negative)",
            col.name()
        ));
    }
    crate::rules::rates::check_count_bound(col.name(), x as i64)
        .map_err(|m| format!("count_too_large: {m}"))?;
    Ok(Some(x as i64))
}

/// A rate (percentage) or a salary: a non-negative number, or missing.
pub(super) fn parse_value(col: &Col, raw: &str) -> Result<Option<f64>, String> {
    let x = parse_number(raw).map_err(|m| format!("invalid_number: {}: {m}", col.name()))?;
    if x.is_some_and(|x| x < 0.0) {
        return Err(format!(
            "negative_value: {}: \"{raw}\" (a rate or a salary cannot be negative)",
            col.name()
        ));
    }
    Ok(x)
}
