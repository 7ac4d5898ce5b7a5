//! How the steering platform classifies formations (`../shared/API.md`, last
//! section; issue 14).
//!
//! - Per formation: `taux_en_emploi_6_mois = Σ nb_en_emploi_6_mois / Σ
//!   nb_sortant`, `taux_poursuite_etudes = Σ nb_poursuite_etudes / Σ
//!   nb_annee_term`, `taux_devenir_favorable = Σ (nb_poursuite_etudes +
//!   nb_en_emploi_6_mois) / Σ nb_annee_term`, each only where its divisor
//!   reaches the threshold.
//! - Reference: the pooled rate (sum over sum, not a median) of the formations
//!   of the same diploma level, place and millésime, itself only where its
//!   pooled divisor reaches the threshold.
//! - Quadrant: Q1 employment ≥ reference and further study ≥ reference; Q2
//!   employment ≥, study <; Q3 employment <, study ≥; Q4 both below (the
//!   "formations peu insérantes"). A tie with the reference counts as ≥.
//!   Rates are compared exactly (as fractions), never as rounded
//!   percentages, so a formation at 50.4 % against a reference at 50.6 % is
//!   below it even though both print as 50 or 51.
//! - Label against the national quartiles of the same diploma type: ≥ Q3
//!   `tres_favorable`, > Q1 `dans_la_moyenne`, else `plutot_difficile`.

use crate::rules::masquage::under_threshold;
use crate::rules::rates::round_half_even;
use std::cmp::Ordering;

/// A rate kept exact: `numerateur / denominateur`, the divisor positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub numerateur: i64,
    pub denominateur: i64,
}

impl Ratio {
    /// The rate, only where the divisor reaches `seuil` (and is positive).
    pub fn above(numerateur: Option<i64>, denominateur: Option<i64>, seuil: i64) -> Option<Ratio> {
        let (n, d) = (numerateur?, denominateur?);
        (d > 0 && !under_threshold(Some(d), seuil) && n >= 0).then_some(Ratio {
            numerateur: n,
            denominateur: d,
        })
    }

    /// Exact comparison, by cross-multiplication in 128 bits.
    pub fn cmp_exact(self, other: Ratio) -> Ordering {
        let a = i128::from(self.numerateur) * i128::from(other.denominateur);
        let b = i128::from(other.numerateur) * i128::from(self.denominateur);
        a.cmp(&b)
    }

    /// The percentage, rounded half to even (`rules::rates::percentage`).
    pub fn percent(self) -> i64 {
        round_half_even(
            100 * i128::from(self.numerateur),
            i128::from(self.denominateur),
        )
    }

    /// `self − reference` in percentage points, rounded half to even.
    pub fn ecart_points(self, reference: Ratio) -> i64 {
        let (a, b) = (i128::from(self.numerateur), i128::from(self.denominateur));
        let (c, d) = (
            i128::from(reference.numerateur),
            i128::from(reference.denominateur),
        );
        round_half_even(100 * (a * d - c * b), b * d)
    }

    pub fn as_f64(self) -> f64 {
        self.numerateur as f64 / self.denominateur as f64
    }
}

/// Where a formation stands against its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    Q1,
    Q2,
    Q3,
    /// Below the reference on both employment and further study: "peu insérante".
    Q4,
    /// A rate or a reference is missing (`HorsQuadrant` says which).
    HorsQuadrant,
    /// A common first year: no outcome of its own, never classified.
    NonClasse,
}

impl Position {
    pub const ALL: [Position; 6] = [
        Position::Q1,
        Position::Q2,
        Position::Q3,
        Position::Q4,
        Position::HorsQuadrant,
        Position::NonClasse,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Position::Q1 => "Q1",
            Position::Q2 => "Q2",
            Position::Q3 => "Q3",
            Position::Q4 => "Q4",
            Position::HorsQuadrant => "hors_quadrant",
            Position::NonClasse => "non_classe",
        }
    }

    pub fn parse(value: &str) -> Option<Position> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

/// Why a formation is outside the quadrants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HorsQuadrant {
    /// Fewer students in their final year than the threshold: no rate.
    EffectifSousSeuil,
    /// Enough students, too few leavers: no employment rate.
    SortantsSousSeuil,
    /// The source gives no detail (counts missing).
    DonneesManquantes,
    /// No formation of the same level, place and millésime to compare with.
    ReferenceAbsente,
}

impl HorsQuadrant {
    pub const ALL: [HorsQuadrant; 4] = [
        HorsQuadrant::EffectifSousSeuil,
        HorsQuadrant::SortantsSousSeuil,
        HorsQuadrant::DonneesManquantes,
        HorsQuadrant::ReferenceAbsente,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            HorsQuadrant::EffectifSousSeuil => "effectif_sous_seuil",
            HorsQuadrant::SortantsSousSeuil => "sortants_sous_seuil",
            HorsQuadrant::DonneesManquantes => "donnees_manquantes",
            HorsQuadrant::ReferenceAbsente => "reference_absente",
        }
    }
}

/// The quadrant of a formation whose two rates and references are known.
pub fn quadrant(
    emploi: Ratio,
    poursuite: Ratio,
    reference_emploi: Ratio,
    reference_poursuite: Ratio,
) -> Position {
    let emploi_ok = emploi.cmp_exact(reference_emploi) != Ordering::Less;
    let poursuite_ok = poursuite.cmp_exact(reference_poursuite) != Ordering::Less;
    match (emploi_ok, poursuite_ok) {
        (true, true) => Position::Q1,
        (true, false) => Position::Q2,
        (false, true) => Position::Q3,
        (false, false) => Position::Q4,
    }
}

/// A certification's label against the national quartiles of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Libelle {
    TresFavorable,
    DansLaMoyenne,
    PlutotDifficile,
}

impl Libelle {
    pub const ALL: [Libelle; 3] = [
        Libelle::TresFavorable,
        Libelle::DansLaMoyenne,
        Libelle::PlutotDifficile,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Libelle::TresFavorable => "tres_favorable",
            Libelle::DansLaMoyenne => "dans_la_moyenne",
            Libelle::PlutotDifficile => "plutot_difficile",
        }
    }
}

/// The first and third quartiles of published integer rates, by linear
/// interpolation between the closest ranks (the method of numpy's and R's
/// defaults); none for an empty list.
pub fn quartiles(values: &[i64]) -> Option<(f64, f64)> {
    let mut v: Vec<i64> = values.to_vec();
    v.sort_unstable();
    let at = |p: f64| -> Option<f64> {
        let last = v.len().checked_sub(1)?;
        let h = p * last as f64;
        let (lo, frac) = (h.floor() as usize, h - h.floor());
        let hi = (lo + 1).min(last);
        Some(v[lo] as f64 + (v[hi] - v[lo]) as f64 * frac)
    };
    Some((at(0.25)?, at(0.75)?))
}

/// The label of a published rate against the quartiles of its type.
pub fn libelle(rate: i64, (q1, q3): (f64, f64)) -> Libelle {
    let rate = rate as f64;
    if rate >= q3 {
        Libelle::TresFavorable
    } else if rate > q1 {
        Libelle::DansLaMoyenne
    } else {
        Libelle::PlutotDifficile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> Ratio {
        Ratio {
            numerateur: n,
            denominateur: d,
        }
    }

    #[test]
    fn a_rate_needs_its_divisor_at_the_threshold() {
        assert_eq!(Ratio::above(Some(5), Some(19), 20), None);
        assert_eq!(Ratio::above(Some(5), Some(20), 20), Some(r(5, 20)));
        assert_eq!(Ratio::above(None, Some(40), 20), None);
        assert_eq!(
            Ratio::above(Some(0), Some(0), 0),
            None,
            "never a zero divisor"
        );
    }

    #[test]
    fn quadrants_and_ties() {
        let reference = (r(1, 2), r(1, 4));
        let q = |e, p| quadrant(e, p, reference.0, reference.1);
        assert_eq!(q(r(60, 100), r(30, 100)), Position::Q1);
        // A tie with the reference counts as at or above it.
        assert_eq!(q(r(10, 20), r(5, 20)), Position::Q1);
        assert_eq!(q(r(60, 100), r(20, 100)), Position::Q2);
        assert_eq!(q(r(40, 100), r(30, 100)), Position::Q3);
        assert_eq!(q(r(40, 100), r(20, 100)), Position::Q4);
        // Exact, not rounded: 50.4 % is below 50.6 %.
        assert_eq!(
            quadrant(r(504, 1000), r(1, 1), r(506, 1000), r(0, 1)),
            Position::Q3
        );
    }

    #[test]
    fn gaps_are_exact_then_rounded_half_to_even() {
        assert_eq!(r(1, 2).ecart_points(r(1, 4)), 25);
        assert_eq!(r(1, 4).ecart_points(r(1, 2)), -25);
        // −0.5 point rounds to 0, −1.5 to −2, 2.5 to 2.
        assert_eq!(r(990, 2000).ecart_points(r(1, 2)), 0);
        assert_eq!(r(970, 2000).ecart_points(r(1, 2)), -2);
        assert_eq!(r(1050, 2000).ecart_points(r(1, 2)), 2);
        assert_eq!(r(1, 8).percent(), 12);
        assert_eq!(r(3, 8).percent(), 38);
    }

    #[test]
    fn quartiles_interpolate_between_ranks() {
        assert_eq!(quartiles(&[]), None);
        assert_eq!(quartiles(&[40]), Some((40.0, 40.0)));
        assert_eq!(quartiles(&[10, 20, 30, 40, 50]), Some((20.0, 40.0)));
        assert_eq!(quartiles(&[40, 10, 30, 20]), Some((17.5, 32.5)));
    }

    #[test]
    fn labels_against_the_quartiles() {
        let q = (20.0, 40.0);
        assert_eq!(libelle(40, q), Libelle::TresFavorable);
        assert_eq!(libelle(39, q), Libelle::DansLaMoyenne);
        assert_eq!(libelle(21, q), Libelle::DansLaMoyenne);
        assert_eq!(libelle(20, q), Libelle::PlutotDifficile);
        assert_eq!(libelle(5, q), Libelle::PlutotDifficile);
    }
}
