//! The indicator row every output table is made of, and how its rates are
//! computed and masked.

use crate::rules::codes::{Code, CodeType};
use crate::rules::continuum::{Direction, Via};
use crate::rules::filiere::Filiere;
use crate::rules::masquage::{masquage, Chiffres, Retenu};
use crate::rules::millesime::Millesime;
use crate::rules::rates::{part_autres_situations, percentage, sortants};
pub use crate::staging::mesures::{Absent, RatesOfSource, SalairesOfSource, Sparse};
use crate::staging::mesures::{Counts, Niveau, PackedCounts, Pourcentages, Salaires, SourceRates};

/// Where a row's figures come from, at its own level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origine {
    /// The statistical file gives this level itself.
    Source,
    /// National figures summed from the regional rows (no national file given).
    SommeRegions,
    /// National or regional figures summed from establishments (InserSup).
    SommeEtablissements,
    /// A common first year's figures, summed from its famille de métiers'
    /// specialities at the same level (issue 6).
    SommeSpecialites,
}

impl Origine {
    pub const ALL: [Origine; 4] = [
        Origine::Source,
        Origine::SommeRegions,
        Origine::SommeEtablissements,
        Origine::SommeSpecialites,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Origine::Source => "source",
            Origine::SommeRegions => "somme_regions",
            Origine::SommeEtablissements => "somme_etablissements",
            Origine::SommeSpecialites => "somme_specialites",
        }
    }
}

/// Whether the figures are the code's own, or come from its lineage.
/// Rows hold it boxed ([`Provenance`]): only derived rows have more than
/// `Propre`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DonneeSource {
    #[default]
    Propre,
    Continuum {
        direction: Direction,
        via: Via,
        hops: u32,
        /// The code(s) the figures come from, `|`-joined for a merge.
        codes: Vec<Code>,
    },
    /// A common first year's figures: the sum of its famille de métiers'
    /// specialities' rows (issue 6; see `famille`).
    FamilleMetiers {
        famille_metiers_code: Code,
        /// The specialities whose rows were summed.
        codes: Vec<Code>,
    },
}

pub use crate::rules::continuum::DonneeSourceType;

impl DonneeSource {
    pub fn kind(&self) -> DonneeSourceType {
        match self {
            DonneeSource::Propre => DonneeSourceType::Propre,
            DonneeSource::Continuum {
                direction: Direction::Ancienne,
                ..
            } => DonneeSourceType::Ancienne,
            DonneeSource::Continuum {
                direction: Direction::Nouvelle,
                ..
            } => DonneeSourceType::Nouvelle,
            DonneeSource::FamilleMetiers { .. } => DonneeSourceType::FamilleMetiers,
        }
    }
}

/// One row of `certifications`, `regionales` or `formations`.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicateur {
    pub millesime: Millesime,
    pub filiere: Filiere,
    pub code_certification: Code,
    pub code_certification_type: CodeType,
    pub niveau: Niveau,
    /// Read with `counts.get()`.
    pub counts: PackedCounts,
    pub salaires: SalairesOfSource,
    /// Rates as published by a source that gives no counts (or carried over a split).
    pub source_rates: RatesOfSource,
    pub libelle_etablissement: Option<Box<str>>,
    pub origine: Origine,
    pub donnee_source: Provenance,
}

/// Where a row's figures come from: a [`DonneeSource`] is 48 bytes, and
/// only the rows the continuum or a famille de métiers add have more than
/// `Propre` (40 bytes less on each of the nine million rows of ×100).
pub type Provenance = Sparse<DonneeSource>;

impl Absent for DonneeSource {
    const ABSENT: &'static DonneeSource = &DonneeSource::Propre;
}

impl Absent for SourceRates {
    const ABSENT: &'static SourceRates = &SourceRates {
        taux_en_emploi_6_mois: None,
        taux_en_emploi_12_mois: None,
        taux_en_emploi_18_mois: None,
        taux_en_emploi_24_mois: None,
        taux_poursuite_etudes: None,
        part_en_emploi_6_mois: None,
        part_poursuite_etudes: None,
        part_autres_situations_6_mois: None,
    };
}

impl Absent for Salaires {
    const ABSENT: &'static Salaires = &Salaires {
        salaire_12_mois_q1: None,
        salaire_12_mois_q2: None,
        salaire_12_mois_q3: None,
    };
}

/// The key of a row: one row per key in each table.
pub type Key = (Millesime, Filiere, Niveau, Code);

/// A key, borrowed from its row.
pub type KeyRef<'r> = (Millesime, Filiere, &'r Niveau, &'r str);

impl Indicateur {
    /// The key, borrowed (for sorting).
    pub fn key_ref(&self) -> KeyRef<'_> {
        (
            self.millesime,
            self.filiere,
            &self.niveau,
            &self.code_certification,
        )
    }

    /// The order the release publishes a level's rows in, so that it can
    /// read them one row group at a time instead of sorting a whole table
    /// (issue 13): its primary key as text, millésime, filière, code, then
    /// the place (`Millesime`'s order is its text's: four-digit years). The
    /// row's key breaks ties, which a level's unique keys never leave.
    pub fn cmp_published(&self, other: &Indicateur) -> std::cmp::Ordering {
        fn text(r: &Indicateur) -> (Millesime, &str, &str, &str) {
            (
                r.millesime,
                r.filiere.as_str(),
                &r.code_certification,
                r.niveau.code(),
            )
        }
        text(self)
            .cmp(&text(other))
            .then_with(|| self.key_ref().cmp(&other.key_ref()))
    }

    pub fn key(&self) -> Key {
        (
            self.millesime,
            self.filiere,
            self.niveau.clone(),
            self.code_certification.clone(),
        )
    }
}

#[cfg(test)]
impl Indicateur {
    /// A row of the source's own, without figures (2022_2023, voie
    /// scolaire, a MEF), for the tests to fill in.
    pub fn for_test(code: &str, niveau: Niveau) -> Indicateur {
        Indicateur {
            millesime: Millesime::parse("2022_2023").expect("a millésime"),
            filiere: Filiere::Pro,
            code_certification: code.into(),
            code_certification_type: CodeType::MefStat11,
            niveau,
            counts: Default::default(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine: Origine::Source,
            donnee_source: Default::default(),
        }
    }
}

/// Integer percentages, as published: the same fields as `SourceRates`
/// (one type, `staging::mesures::Pourcentages`), rounded to whole numbers.
pub type Taux = Pourcentages<i64>;

impl Taux {
    /// The rates of issue 3's formulas, from counts (with `nb_sortant` derived
    /// when missing).
    pub fn from_counts(c: &Counts) -> Taux {
        let sortant = sortants(c.nb_sortant, c.nb_annee_term, c.nb_poursuite_etudes);
        let part_emploi = percentage(c.nb_en_emploi_6_mois, c.nb_annee_term);
        let part_poursuite = percentage(c.nb_poursuite_etudes, c.nb_annee_term);
        Taux {
            taux_en_emploi_6_mois: percentage(c.nb_en_emploi_6_mois, sortant),
            taux_en_emploi_12_mois: percentage(c.nb_en_emploi_12_mois, sortant),
            taux_en_emploi_18_mois: percentage(c.nb_en_emploi_18_mois, sortant),
            taux_en_emploi_24_mois: percentage(c.nb_en_emploi_24_mois, sortant),
            taux_poursuite_etudes: part_poursuite,
            part_en_emploi_6_mois: part_emploi,
            part_poursuite_etudes: part_poursuite,
            part_autres_situations_6_mois: part_autres_situations(part_emploi, part_poursuite),
        }
    }

    /// A source's published percentages, rounded to integers (half to even).
    pub fn from_source(r: &SourceRates) -> Taux {
        r.map(crate::rules::rates::round_percent)
    }

    pub fn to_source_rates(self) -> SourceRates {
        self.map(|x| x as f64)
    }
}

/// The masking policy's status, in `rules::masquage` (re-exported here,
/// where it was first written).
pub use crate::rules::masquage::Masked;

/// What a row publishes once the threshold is applied: every count but
/// `nb_annee_term`, and every rate, is emptied under the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub counts: Counts,
    pub salaires: Salaires,
    pub taux: Taux,
    pub masked: Option<Masked>,
}

/// The row's figures with `rules::masquage`'s decision applied: this only
/// empties what the policy withholds.
pub fn publish(row: &Indicateur, seuil: i64) -> Published {
    if row.counts.is_empty() {
        let taux = Taux::from_source(&row.source_rates);
        let decision = masquage(
            Chiffres::TauxSeuls {
                un_taux: taux != Taux::default(),
            },
            seuil,
        );
        return Published {
            counts: Counts::default(),
            salaires: *row.salaires,
            taux,
            masked: decision.masked,
        };
    }
    let mut counts = row.counts.get();
    counts.nb_sortant = sortants(
        counts.nb_sortant,
        counts.nb_annee_term,
        counts.nb_poursuite_etudes,
    );
    let mut taux = Taux::from_counts(&counts);
    let taux_emploi = Taux {
        taux_en_emploi_6_mois: taux.taux_en_emploi_6_mois,
        taux_en_emploi_12_mois: taux.taux_en_emploi_12_mois,
        taux_en_emploi_18_mois: taux.taux_en_emploi_18_mois,
        taux_en_emploi_24_mois: taux.taux_en_emploi_24_mois,
        ..Taux::default()
    };
    let decision = masquage(
        Chiffres::Effectifs {
            nb_annee_term: counts.nb_annee_term,
            nb_sortant: counts.nb_sortant,
            taux_emploi: taux_emploi != Taux::default(),
            autres_taux: taux_emploi != taux,
        },
        seuil,
    );
    let mut salaires = *row.salaires;
    match decision.retenu {
        Retenu::Rien => {}
        Retenu::TauxEmploi => {
            taux.taux_en_emploi_6_mois = None;
            taux.taux_en_emploi_12_mois = None;
            taux.taux_en_emploi_18_mois = None;
            taux.taux_en_emploi_24_mois = None;
        }
        Retenu::ToutSaufEffectif => {
            counts = Counts {
                nb_annee_term: counts.nb_annee_term,
                ..Counts::default()
            };
            salaires = Salaires::default();
            taux = Taux::default();
        }
    }
    Published {
        counts,
        salaires,
        taux,
        masked: decision.masked,
    }
}

/// Sums counts: a count is known in the sum only if every row knows it.
/// Checked: every count was bounded by `rules::rates::MAX_COUNT` where it was
/// read, so no sum of fewer than 900,000 million rows can overflow.
pub fn sum_counts(rows: impl Iterator<Item = Counts>) -> Counts {
    let mut total: Option<Counts> = None;
    let add = |a: Option<i64>, b: Option<i64>| {
        Some(
            a?.checked_add(b?)
                .expect("counts are bounded by MAX_COUNT when read: their sums cannot overflow"),
        )
    };
    for mut c in rows {
        c.nb_sortant = sortants(c.nb_sortant, c.nb_annee_term, c.nb_poursuite_etudes);
        total = Some(match total {
            None => c,
            Some(t) => Counts {
                nb_annee_term: add(t.nb_annee_term, c.nb_annee_term),
                nb_poursuite_etudes: add(t.nb_poursuite_etudes, c.nb_poursuite_etudes),
                nb_sortant: add(t.nb_sortant, c.nb_sortant),
                nb_en_emploi_6_mois: add(t.nb_en_emploi_6_mois, c.nb_en_emploi_6_mois),
                nb_en_emploi_12_mois: add(t.nb_en_emploi_12_mois, c.nb_en_emploi_12_mois),
                nb_en_emploi_18_mois: add(t.nb_en_emploi_18_mois, c.nb_en_emploi_18_mois),
                nb_en_emploi_24_mois: add(t.nb_en_emploi_24_mois, c.nb_en_emploi_24_mois),
                nb_diplome: add(t.nb_diplome, c.nb_diplome),
            },
        });
    }
    total.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row's provenance takes 8 bytes, and reads as `Propre` when it
    /// holds nothing.
    #[test]
    fn provenance_is_a_pointer_and_propre_when_empty() {
        assert_eq!(std::mem::size_of::<Provenance>(), 8);
        assert_eq!(*Provenance::default(), DonneeSource::Propre);
        assert_eq!(
            Provenance::from(DonneeSource::Propre),
            Provenance::default()
        );
        let merge = DonneeSource::FamilleMetiers {
            famille_metiers_code: "G0003".into(),
            codes: vec!["A".into()],
        };
        assert_eq!(*Provenance::from(merge.clone()), merge);
    }

    fn counts(
        term: i64,
        poursuite: Option<i64>,
        sortant: Option<i64>,
        emploi_6: Option<i64>,
    ) -> Counts {
        Counts {
            nb_annee_term: Some(term),
            nb_poursuite_etudes: poursuite,
            nb_sortant: sortant,
            nb_en_emploi_6_mois: emploi_6,
            ..Counts::default()
        }
    }

    #[test]
    fn rates_follow_the_formulas() {
        // Real row of ij_region_data.csv: 52 in final year, 31 continue, 21 leave, 9 employed at 6 months.
        let t = Taux::from_counts(&counts(52, Some(31), Some(21), Some(9)));
        assert_eq!(t.taux_en_emploi_6_mois, Some(43));
        assert_eq!(t.taux_poursuite_etudes, Some(60));
        assert_eq!(t.part_en_emploi_6_mois, Some(17));
        assert_eq!(t.part_poursuite_etudes, Some(60));
        assert_eq!(t.part_autres_situations_6_mois, Some(23));
        // Missing nb_sortant is derived; missing nb_poursuite_etudes is not invented.
        let t = Taux::from_counts(&counts(52, Some(31), None, Some(9)));
        assert_eq!(t.taux_en_emploi_6_mois, Some(43));
        let t = Taux::from_counts(&counts(52, None, None, Some(9)));
        assert_eq!(
            (t.taux_en_emploi_6_mois, t.taux_poursuite_etudes),
            (None, None)
        );
        // A divisor of 0 gives no rate.
        let t = Taux::from_counts(&counts(30, Some(30), Some(0), Some(0)));
        assert_eq!(t.taux_en_emploi_6_mois, None);
    }

    fn row(c: Counts) -> Indicateur {
        Indicateur {
            millesime: Millesime::year(2023),
            filiere: Filiere::Apprentissage,
            code_certification: "40025513".into(),
            code_certification_type: CodeType::Cfd,
            niveau: Niveau::National,
            counts: c.into(),
            salaires: Salaires {
                salaire_12_mois_q1: Some(1400.0),
                ..Salaires::default()
            }
            .into(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine: Origine::Source,
            donnee_source: Default::default(),
        }
    }

    #[test]
    fn under_the_threshold_only_nb_annee_term_is_published() {
        let p = publish(&row(counts(19, Some(5), Some(14), Some(7))), 20);
        assert_eq!(p.masked, Some(Masked::SousSeuil));
        assert_eq!(p.counts.nb_annee_term, Some(19));
        assert_eq!(p.counts.nb_sortant, None);
        assert_eq!(p.taux, Taux::default());
        assert_eq!(p.salaires, Salaires::default());
        let p = publish(&row(counts(40, Some(5), None, Some(7))), 20);
        assert_eq!(p.masked, None);
        assert_eq!(
            p.counts.nb_sortant,
            Some(35),
            "derived nb_sortant is published"
        );
        assert_eq!(p.taux.taux_en_emploi_6_mois, Some(20));
        assert_eq!(p.salaires.salaire_12_mois_q1, Some(1400.0));
    }

    #[test]
    fn a_head_count_alone_is_not_an_indicator() {
        let p = publish(&row(counts(40, None, None, None)), 20);
        assert_eq!(p.masked, Some(Masked::NonDiffuse));
        assert_eq!(p.counts.nb_annee_term, Some(40));
    }

    #[test]
    fn with_few_leavers_only_the_employment_rates_are_withheld() {
        // 30 students, 12 continue, 18 leave: the continuation rate is
        // published, the employment rates (out of 18 leavers) are not.
        let p = publish(&row(counts(30, Some(12), Some(18), Some(9))), 20);
        assert_eq!(p.masked, Some(Masked::SortantsSousSeuil));
        assert_eq!(p.taux.taux_poursuite_etudes, Some(40));
        assert_eq!(p.taux.taux_en_emploi_6_mois, None);
        assert_eq!(p.counts.nb_en_emploi_6_mois, Some(9));
        assert_eq!(p.taux.part_en_emploi_6_mois, Some(30));
    }

    #[test]
    fn sums_know_a_count_only_when_every_row_does() {
        let a = counts(10, Some(4), None, Some(3));
        let b = counts(15, Some(5), Some(10), None);
        let s = sum_counts([a, b].into_iter());
        assert_eq!(s.nb_annee_term, Some(25));
        assert_eq!(s.nb_sortant, Some(16), "6 derived + 10");
        assert_eq!(s.nb_en_emploi_6_mois, None);
    }
}
