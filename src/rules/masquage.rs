//! The masking policy (DOMAIN.md, "seuil"; issues 3 and 12): which figures a
//! row publishes at which counts, and why the others are withheld. The one
//! place this is decided: the indicators stage (`indicators::model::publish`),
//! the API's sums and the steering table apply `masquage`; coverage and the
//! API read the status back with `Masked::parse` and ask `Masked::is_published`
//! (coverage's `below_threshold` is that test failing for every row of an
//! offer: see `Masked::NON_PUBLIES`).
//!
//! - fewer than `seuil` students in their final year (or their number
//!   unknown): only `nb_annee_term` is published (`sous_seuil`);
//! - enough students, fewer than `seuil` leavers: the employment rates (which
//!   divide by `nb_sortant`) are withheld, the rest is published
//!   (`sortants_sous_seuil`);
//! - no rate left to show (a head count alone, or a source row without any
//!   figure): not an indicator (`non_diffuse`).

/// The default diffusion threshold: nothing is published under 20 students.
pub const SEUIL_DEFAUT: i64 = 20;

/// Whether `n` students (or leavers) are too few to publish a figure over
/// them: under `seuil`, or unknown.
pub fn under_threshold(n: Option<i64>, seuil: i64) -> bool {
    n.is_none_or(|n| n < seuil)
}

/// Why a row's figures are not (all) published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Masked {
    /// Fewer students in their final year than the threshold (or their
    /// number unknown): only `nb_annee_term` is published.
    SousSeuil,
    /// Enough students, but fewer leavers than the threshold: the employment
    /// rates (which divide by `nb_sortant`) are not published, the rest is.
    /// The InserJeunes source does the same: on the real regional file, no
    /// employment rate is given where `nb_sortant` < 20.
    SortantsSousSeuil,
    /// The source gives the row without any figure.
    NonDiffuse,
}

impl Masked {
    pub const ALL: [Masked; 3] = [
        Masked::SousSeuil,
        Masked::SortantsSousSeuil,
        Masked::NonDiffuse,
    ];

    /// The value `as_str` writes, read back.
    pub fn parse(value: &str) -> Option<Masked> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// The statuses of a row that shows nothing a platform can display.
    /// `sortants_sous_seuil` is not one: only its employment rates are
    /// withheld, its continuation rate is shown.
    ///
    /// Two published names for one threshold: coverage's offer status
    /// `below_threshold` (`coverage::Status::BelowThreshold`, the column
    /// `status` of `coverage_offers_*`) is this test applied to an offer's
    /// rows: rows were found for the offer, and every one of them has one
    /// of these statuses (`masked` = `sous_seuil` or `non_diffuse`) under
    /// the release's seuil. Coverage asks `is_published` (through
    /// `coverage::Shown::is_published`), never the values themselves; the
    /// dictionary's description of `status` lists these values, and its
    /// test fails if this list changes without it. Neither name is renamed:
    /// both are published values (a rename is a release change).
    pub const NON_PUBLIES: [Masked; 2] = [Masked::SousSeuil, Masked::NonDiffuse];

    /// Whether a row masked this way still shows a figure a platform can
    /// display: not masked, or only the employment rates withheld.
    pub fn is_published(masked: Option<Masked>) -> bool {
        masked.is_none_or(|m| !Masked::NON_PUBLIES.contains(&m))
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Masked::SousSeuil => "sous_seuil",
            Masked::SortantsSousSeuil => "sortants_sous_seuil",
            Masked::NonDiffuse => "non_diffuse",
        }
    }
}

/// What a row holds, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chiffres {
    /// The row has counts (`nb_sortant` already derived when missing).
    Effectifs {
        nb_annee_term: Option<i64>,
        nb_sortant: Option<i64>,
        /// An employment rate (over `nb_sortant`) can be computed.
        taux_emploi: bool,
        /// Another rate (continuation, the "devenir" shares: over
        /// `nb_annee_term`) can be computed.
        autres_taux: bool,
    },
    /// The source gives rates without counts; `un_taux`: at least one.
    TauxSeuls { un_taux: bool },
}

/// Which figures are withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retenu {
    /// Everything computed is published.
    Rien,
    /// The employment rates (over `nb_sortant`) are withheld.
    TauxEmploi,
    /// Only `nb_annee_term` is published: no other count, rate or salary.
    ToutSaufEffectif,
}

/// The policy's decision for one row: its status and what it withholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Masquage {
    pub masked: Option<Masked>,
    pub retenu: Retenu,
}

/// The masking policy: what a row with these figures publishes under `seuil`.
pub fn masquage(chiffres: Chiffres, seuil: i64) -> Masquage {
    let decision = |masked, retenu| Masquage { masked, retenu };
    match chiffres {
        Chiffres::TauxSeuls { un_taux } => {
            decision((!un_taux).then_some(Masked::NonDiffuse), Retenu::Rien)
        }
        Chiffres::Effectifs { nb_annee_term, .. } if under_threshold(nb_annee_term, seuil) => {
            decision(Some(Masked::SousSeuil), Retenu::ToutSaufEffectif)
        }
        Chiffres::Effectifs {
            nb_sortant,
            taux_emploi,
            autres_taux,
            ..
        } => {
            let (masked, retenu) = if taux_emploi && under_threshold(nb_sortant, seuil) {
                (Some(Masked::SortantsSousSeuil), Retenu::TauxEmploi)
            } else {
                (None, Retenu::Rien)
            };
            // No rate left (the source gave only a head count, or only
            // employment counts over too few leavers): nothing a platform
            // could show.
            let reste_un_taux = autres_taux || (taux_emploi && retenu == Retenu::Rien);
            decision(
                if reste_un_taux {
                    masked
                } else {
                    Some(Masked::NonDiffuse)
                },
                retenu,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effectifs(
        nb_annee_term: Option<i64>,
        nb_sortant: Option<i64>,
        taux_emploi: bool,
        autres_taux: bool,
    ) -> Masquage {
        masquage(
            Chiffres::Effectifs {
                nb_annee_term,
                nb_sortant,
                taux_emploi,
                autres_taux,
            },
            20,
        )
    }

    fn m(masked: Option<Masked>, retenu: Retenu) -> Masquage {
        Masquage { masked, retenu }
    }

    #[test]
    fn the_threshold_is_reached_at_seuil_exactly() {
        assert!(under_threshold(Some(19), 20));
        assert!(!under_threshold(Some(20), 20));
        assert!(under_threshold(Some(0), 20));
        assert!(under_threshold(None, 20), "an unknown count is not enough");
        assert!(!under_threshold(Some(10), 10), "the pipeline's own seuil");
    }

    #[test]
    fn under_seuil_students_only_the_head_count_is_published() {
        let sous_seuil = m(Some(Masked::SousSeuil), Retenu::ToutSaufEffectif);
        assert_eq!(effectifs(Some(19), Some(19), true, true), sous_seuil);
        assert_eq!(effectifs(None, Some(40), true, true), sous_seuil);
        assert_eq!(effectifs(Some(0), None, false, false), sous_seuil);
        assert_eq!(
            effectifs(Some(20), Some(20), true, true),
            m(None, Retenu::Rien)
        );
    }

    #[test]
    fn too_few_leavers_withhold_the_employment_rates_only() {
        let sortants = m(Some(Masked::SortantsSousSeuil), Retenu::TauxEmploi);
        assert_eq!(effectifs(Some(30), Some(19), true, true), sortants);
        assert_eq!(
            effectifs(Some(30), Some(20), true, true),
            m(None, Retenu::Rien)
        );
        // Zero leavers: no employment rate can be computed, nothing to withhold.
        assert_eq!(
            effectifs(Some(30), Some(0), false, true),
            m(None, Retenu::Rien)
        );
        // Leavers unknown but an employment rate: withheld (a `None` is not enough).
        assert_eq!(effectifs(Some(30), None, true, true), sortants);
    }

    #[test]
    fn a_head_count_alone_is_not_an_indicator() {
        assert_eq!(
            effectifs(Some(40), None, false, false),
            m(Some(Masked::NonDiffuse), Retenu::Rien)
        );
        // Only employment counts, over too few leavers: nothing left to show.
        assert_eq!(
            effectifs(Some(40), Some(10), true, false),
            m(Some(Masked::NonDiffuse), Retenu::TauxEmploi)
        );
        assert_eq!(
            effectifs(Some(40), Some(25), true, false),
            m(None, Retenu::Rien)
        );
    }

    #[test]
    fn a_source_without_counts_is_published_when_it_gives_a_rate() {
        let taux = |un_taux| masquage(Chiffres::TauxSeuls { un_taux }, 20);
        assert_eq!(taux(true), m(None, Retenu::Rien));
        assert_eq!(taux(false), m(Some(Masked::NonDiffuse), Retenu::Rien));
    }

    #[test]
    fn published_means_a_figure_a_platform_can_show() {
        assert!(Masked::is_published(None));
        assert!(Masked::is_published(Some(Masked::SortantsSousSeuil)));
        assert!(!Masked::is_published(Some(Masked::SousSeuil)));
        assert!(!Masked::is_published(Some(Masked::NonDiffuse)));
        for masked in Masked::ALL {
            assert_eq!(Masked::parse(masked.as_str()), Some(masked));
        }
        assert_eq!(Masked::parse("below_threshold"), None);
    }
}
