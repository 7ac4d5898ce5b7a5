//! The published rates and the diffusion threshold (DOMAIN.md, "Measures and
//! rates"; issue 3).
//!
//! - `taux_en_emploi_X_mois = nb_en_emploi_X_mois / nb_sortant`;
//! - `taux_poursuite_etudes = nb_poursuite_etudes / nb_annee_term`;
//! - the "devenir" shares divide by `nb_annee_term` and sum to 100:
//!   `part_en_emploi_6_mois`, `part_poursuite_etudes`, and
//!   `part_autres_situations_6_mois = max(0, 100 − the other two)`.
//!
//! Percentages are integers rounded half to even (this reproduces the
//! source's own rates on the real regional file). A rate whose divisor is 0 or
//! missing is missing, never 0 or NaN.

/// The threshold and the masking policy are in `rules::masquage`; re-exported
/// here, where they were first written.
pub use super::masquage::{under_threshold, SEUIL_DEFAUT};

/// The largest count one source row may hold: more students than any
/// cohort in France (about 700,000 leave a vocational training each year).
/// A larger count is a broken value, rejected where it is read; with every
/// count bounded so, a sum of counts cannot overflow (it would take
/// 900,000 million rows), and `100 × count` neither.
pub const MAX_COUNT: i64 = 10_000_000;

/// Checks a count against `MAX_COUNT`.
pub fn check_count_bound(name: &str, n: i64) -> Result<(), String> {
    if n > MAX_COUNT {
        return Err(format!(
            "{name} is {n}, above {MAX_COUNT} (more than any cohort): a broken value"
        ));
    }
    Ok(())
}

/// How far from 100 the three "devenir" shares of a source may sum: each is
/// rounded to a whole percent, so three can sum to 98.5–101.5.
pub const DEVENIR_TOLERANCE: f64 = 2.0;

/// The source's three "devenir" shares (emploi, poursuite, autres), when all
/// are given, must sum to about 100; two of them must not exceed it.
pub fn check_devenir_shares(shares: [Option<f64>; 3]) -> Result<(), String> {
    let given: Vec<f64> = shares.iter().flatten().copied().collect();
    let sum: f64 = given.iter().sum();
    let what = || {
        shares
            .iter()
            .map(|s| s.map_or("–".to_string(), |x| x.to_string()))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    if given.len() == 3 && (sum - 100.0).abs() > DEVENIR_TOLERANCE {
        return Err(format!(
            "the devenir shares (emploi + poursuite + autres) sum to {sum}: {}, expected 100",
            what()
        ));
    }
    if given.len() < 3 && sum > 100.0 + DEVENIR_TOLERANCE {
        return Err(format!(
            "the devenir shares given sum to {sum}, above 100: {}",
            what()
        ));
    }
    Ok(())
}

/// `n / d` rounded to the nearest integer, halves to even (`d` > 0): the one
/// rounding of every figure the tool writes or prints (percentages here,
/// coverage rates in tenths of a percent, the steering gaps), in exact
/// integer arithmetic so that a half is a half, whatever floats would do.
pub fn round_half_even(n: i128, d: i128) -> i64 {
    assert!(d > 0, "round_half_even divides by a positive number");
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    let rounded = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    };
    i64::try_from(rounded).expect("a rounded figure fits in 64 bits")
}

/// A percentage a source publishes with decimals (`64.04`), as the tool
/// writes it: a whole number, halves to even (`12.5` → 12). The value is
/// already a percentage: rounding it again from counts is not possible.
pub fn round_percent(value: f64) -> i64 {
    value.round_ties_even() as i64
}

/// `100 × numerator / denominator`, rounded half to even; `None` when either
/// is missing or the denominator is 0.
pub fn percentage(numerator: Option<i64>, denominator: Option<i64>) -> Option<i64> {
    let (n, d) = (numerator?, denominator?);
    if d <= 0 || n < 0 {
        return None;
    }
    Some(round_half_even(100 * i128::from(n), i128::from(d)))
}

/// `100 × part / whole` with one decimal (a coverage rate: `66.7`), rounded
/// half to even on the tenth; 0 when `whole` is 0 (nothing to cover).
pub fn percentage_one_decimal(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round_half_even(1000 * i128::from(part), i128::from(whole)) as f64 / 10.0
}

/// `nb_sortant` when the source lacks it: `nb_annee_term − nb_poursuite_etudes`.
/// `nb_poursuite_etudes` is never invented, so without it there is no `nb_sortant`.
pub fn sortants(
    nb_sortant: Option<i64>,
    nb_annee_term: Option<i64>,
    nb_poursuite_etudes: Option<i64>,
) -> Option<i64> {
    nb_sortant.or_else(|| {
        let d = nb_annee_term? - nb_poursuite_etudes?;
        (d >= 0).then_some(d)
    })
}

/// The share of other situations, so the three "devenir" shares sum to 100.
pub fn part_autres_situations(
    part_emploi: Option<i64>,
    part_poursuite: Option<i64>,
) -> Option<i64> {
    Some((100 - part_emploi? - part_poursuite?).max(0))
}

#[cfg(test)]
mod tests {

    #[test]
    fn devenir_shares_sum_to_about_100() {
        assert!(check_devenir_shares([Some(57.0), Some(30.0), Some(13.0)]).is_ok());
        assert!(check_devenir_shares([Some(33.0), Some(33.0), Some(33.0)]).is_ok());
        assert!(check_devenir_shares([Some(40.0), None, None]).is_ok());
        let e = check_devenir_shares([Some(90.0), Some(90.0), Some(90.0)]).unwrap_err();
        assert!(e.contains("sum to 270"), "{e}");
        assert!(check_devenir_shares([Some(90.0), Some(90.0), None]).is_err());
    }

    #[test]
    fn counts_are_bounded() {
        assert!(check_count_bound("nb_annee_term", MAX_COUNT).is_ok());
        let e = check_count_bound("nb_annee_term", 5_000_000_000_000_000_000).unwrap_err();
        assert!(e.contains("nb_annee_term is 5000000000000000000"), "{e}");
    }
    use super::*;

    #[test]
    fn percentages_round_half_to_even() {
        for (n, d, expected) in [
            (1, 8, Some(12)),   // 12.5 → 12
            (3, 8, Some(38)),   // 37.5 → 38
            (1, 3, Some(33)),   // 33.3
            (2, 3, Some(67)),   // 66.7
            (57, 89, Some(64)), // real row: 64.04
            (0, 5, Some(0)),
            (5, 5, Some(100)),
            (1, 0, None),
        ] {
            assert_eq!(percentage(Some(n), Some(d)), expected, "{n}/{d}");
        }
        assert_eq!(percentage(None, Some(10)), None);
        assert_eq!(percentage(Some(1), None), None);
    }

    #[test]
    fn rounding_is_exact_and_half_to_even() {
        for (n, d, expected) in [
            (5, 2, 2),   // 2.5 → 2
            (7, 2, 4),   // 3.5 → 4
            (-5, 2, -2), // −2.5 → −2
            (-7, 2, -4), // −3.5 → −4
            (-1, 3, 0),  // −0.33
            (-2, 3, -1), // −0.67
            (9, 3, 3),   // exact
            (0, 7, 0),
            (1, 1_000_000_000_000, 0),
        ] {
            assert_eq!(round_half_even(n, d), expected, "{n}/{d}");
        }
    }

    #[test]
    fn a_source_percentage_rounds_half_to_even() {
        assert_eq!(round_percent(12.5), 12);
        assert_eq!(round_percent(13.5), 14);
        assert_eq!(round_percent(64.04), 64);
        assert_eq!(round_percent(99.51), 100);
        assert_eq!(round_percent(0.0), 0);
    }

    #[test]
    fn coverage_rates_have_one_decimal_rounded_half_to_even() {
        assert_eq!(percentage_one_decimal(2, 3), 66.7);
        assert_eq!(percentage_one_decimal(1, 3), 33.3);
        // 1/16 = 6.25 %: a half on the tenth goes to the even tenth (6.2);
        // the float rounding used before gave 6.3 (half away from zero).
        assert_eq!(percentage_one_decimal(1, 16), 6.2);
        assert_eq!(percentage_one_decimal(3, 16), 18.8); // 18.75 → 18.8
        assert_eq!(percentage_one_decimal(5, 5), 100.0);
        assert_eq!(percentage_one_decimal(0, 0), 0.0);
        assert_eq!(percentage_one_decimal(0, 9), 0.0);
    }

    #[test]
    fn sortants_are_derived_but_poursuites_never_invented() {
        assert_eq!(sortants(Some(21), Some(52), Some(31)), Some(21));
        assert_eq!(sortants(None, Some(52), Some(31)), Some(21));
        assert_eq!(sortants(None, Some(52), None), None);
        assert_eq!(sortants(None, Some(10), Some(12)), None);
    }

    #[test]
    fn devenir_shares_sum_to_100() {
        assert_eq!(part_autres_situations(Some(57), Some(30)), Some(13));
        assert_eq!(part_autres_situations(Some(60), Some(45)), Some(0));
        assert_eq!(part_autres_situations(None, Some(45)), None);
    }
}
