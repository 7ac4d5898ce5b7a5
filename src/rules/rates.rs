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

/// The default diffusion threshold: nothing is published under 20 students.
pub const SEUIL_DEFAUT: i64 = 20;

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

/// `100 × numerator / denominator`, rounded half to even; `None` when either
/// is missing or the denominator is 0.
pub fn percentage(numerator: Option<i64>, denominator: Option<i64>) -> Option<i64> {
    let (n, d) = (numerator?, denominator?);
    if d <= 0 || n < 0 {
        return None;
    }
    // Exact integer arithmetic: q = floor(100n / d), r = remainder.
    let scaled = 100 * n;
    let (q, r) = (scaled / d, scaled % d);
    let twice = 2 * r;
    Some(if twice > d || (twice == d && q % 2 == 1) {
        q + 1
    } else {
        q
    })
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

/// Whether figures for `nb_annee_term` students are published.
pub fn under_threshold(nb_annee_term: Option<i64>, seuil: i64) -> bool {
    nb_annee_term.is_none_or(|n| n < seuil)
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

    #[test]
    fn threshold() {
        assert!(under_threshold(Some(19), 20));
        assert!(!under_threshold(Some(20), 20));
        assert!(under_threshold(None, 20));
    }
}
