//! The staged model every statistical extract is read into: one row of
//! measures for a certification at a level (national, région, establishment),
//! with the source's own published rates kept beside the counts.
//!
//! Loaders (`inserjeunes.rs`, `insersup.rs`) produce `MesureRow`s for figures
//! about a certification, `EtablissementRow`s for establishment-wide figures
//! (the CFA open data and the DEPP "valeur ajoutée" files), and `Reject`s for
//! rows they cannot use, with the reason. Every row read is one of the three.

use std::path::PathBuf;
use std::sync::Arc;

use crate::rules::codes::{Code, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;

/// Where a staged row came from, for rejects and for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<PathBuf>,
    /// Line of a delimited file (header = 1), or 1-based record of a JSON array.
    pub line: u64,
}

/// The level a row of measures describes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Niveau {
    National,
    /// A région, by its INSEE code (`84`), whatever code the source used.
    Region(Code),
    /// An establishment, by its UAI.
    Etablissement(Code),
}

impl Niveau {
    /// The place's code: the région's INSEE code, the UAI, empty for the
    /// nation.
    pub fn code(&self) -> &str {
        match self {
            Niveau::National => "",
            Niveau::Region(code) | Niveau::Etablissement(code) => code,
        }
    }

    /// The place's code as the tables that mix levels key it (`code_lieu`
    /// of `pilotage` and `familles_specialites`): `FR` for the nation, so
    /// that the key has no empty part.
    pub fn code_lieu(&self) -> &str {
        match self {
            Niveau::National => "FR",
            _ => self.code(),
        }
    }

    /// The level, without its place.
    pub fn geographique(&self) -> NiveauGeographique {
        match self {
            Niveau::National => NiveauGeographique::National,
            Niveau::Region(_) => NiveauGeographique::Region,
            Niveau::Etablissement(_) => NiveauGeographique::Etablissement,
        }
    }
}

/// The counts of an InserJeunes / InserSup row. Missing is `None`, never 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub nb_annee_term: Option<i64>,
    pub nb_poursuite_etudes: Option<i64>,
    pub nb_sortant: Option<i64>,
    pub nb_en_emploi_6_mois: Option<i64>,
    pub nb_en_emploi_12_mois: Option<i64>,
    pub nb_en_emploi_18_mois: Option<i64>,
    pub nb_en_emploi_24_mois: Option<i64>,
    /// Graduates, where the source has them (InserSup).
    pub nb_diplome: Option<i64>,
}

impl Counts {
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// [`Counts`] as an indicator row holds them: each count in 8 bytes,
/// `i64::MIN` standing for a missing one, where an `Option<i64>` takes 16.
/// 64 bytes less on each of the millions of rows the indicators stage
/// holds at a hundred times today's data (a fifth of a row, issue 13).
/// Read and written whole: `get`, and `From<Counts>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedCounts([i64; 8]);

impl PackedCounts {
    /// A missing count. No count can be it: counts are bounded by
    /// `rules::rates::MAX_COUNT` where they are read, and a sum of them is
    /// far from `i64::MIN`.
    const MISSING: i64 = i64::MIN;

    pub fn get(&self) -> Counts {
        let [a, b, c, d, e, f, g, h] = self.0.map(|n| (n != Self::MISSING).then_some(n));
        Counts {
            nb_annee_term: a,
            nb_poursuite_etudes: b,
            nb_sortant: c,
            nb_en_emploi_6_mois: d,
            nb_en_emploi_12_mois: e,
            nb_en_emploi_18_mois: f,
            nb_en_emploi_24_mois: g,
            nb_diplome: h,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0 == [Self::MISSING; 8]
    }
}

impl Default for PackedCounts {
    /// Every count missing.
    fn default() -> Self {
        PackedCounts([Self::MISSING; 8])
    }
}

impl From<Counts> for PackedCounts {
    fn from(c: Counts) -> Self {
        let packed = |n: Option<i64>| match n {
            Some(Self::MISSING) => panic!("a count of i64::MIN: counts are bounded where read"),
            Some(n) => n,
            None => Self::MISSING,
        };
        PackedCounts([
            packed(c.nb_annee_term),
            packed(c.nb_poursuite_etudes),
            packed(c.nb_sortant),
            packed(c.nb_en_emploi_6_mois),
            packed(c.nb_en_emploi_12_mois),
            packed(c.nb_en_emploi_18_mois),
            packed(c.nb_en_emploi_24_mois),
            packed(c.nb_diplome),
        ])
    }
}

/// The eight percentages an indicator row publishes, whatever their number
/// type: `SourceRates` (`f64`, as a source wrote them, decimals included) and
/// `indicators::model::Taux` (`i64`, as the tool publishes them) are this one
/// type, so that their fields cannot drift apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pourcentages<T> {
    pub taux_en_emploi_6_mois: Option<T>,
    pub taux_en_emploi_12_mois: Option<T>,
    pub taux_en_emploi_18_mois: Option<T>,
    pub taux_en_emploi_24_mois: Option<T>,
    pub taux_poursuite_etudes: Option<T>,
    pub part_en_emploi_6_mois: Option<T>,
    pub part_poursuite_etudes: Option<T>,
    pub part_autres_situations_6_mois: Option<T>,
}

impl<T: Copy + Default + PartialEq> Pourcentages<T> {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Each percentage converted by `f` (a missing one stays missing).
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Pourcentages<U> {
        Pourcentages {
            taux_en_emploi_6_mois: self.taux_en_emploi_6_mois.map(&f),
            taux_en_emploi_12_mois: self.taux_en_emploi_12_mois.map(&f),
            taux_en_emploi_18_mois: self.taux_en_emploi_18_mois.map(&f),
            taux_en_emploi_24_mois: self.taux_en_emploi_24_mois.map(&f),
            taux_poursuite_etudes: self.taux_poursuite_etudes.map(&f),
            part_en_emploi_6_mois: self.part_en_emploi_6_mois.map(&f),
            part_poursuite_etudes: self.part_poursuite_etudes.map(&f),
            part_autres_situations_6_mois: self.part_autres_situations_6_mois.map(&f),
        }
    }
}

/// Rates as the source published them (percentages), kept to check ours
/// against, and used as such when a source gives rates without counts.
pub type SourceRates = Pourcentages<f64>;

/// Salary quartiles (net monthly, euros) 12 months after leaving, where the
/// source has them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Salaires {
    pub salaire_12_mois_q1: Option<f64>,
    pub salaire_12_mois_q2: Option<f64>,
    pub salaire_12_mois_q3: Option<f64>,
}

/// Figures few rows have, boxed: a row without them pays 8 bytes instead
/// of their size (issue 13). Reads as a `T`, all missing when there are
/// none.
#[derive(Debug, Clone, Default)]
pub struct Sparse<T: Absent>(Option<Box<T>>);

/// A kind of figures a row may lack, and what it reads as when it does.
pub trait Absent: Sized + Default + PartialEq + 'static {
    /// Every figure missing.
    const ABSENT: &'static Self;
}

/// Rates a source published without counts (or carried over a split): a
/// `SourceRates` is 128 bytes, and only those rows have any.
pub type RatesOfSource = Sparse<SourceRates>;

/// Salary quartiles: 48 bytes, and only InserSup's rows have any.
pub type SalairesOfSource = Sparse<Salaires>;

impl<T: Absent> From<T> for Sparse<T> {
    fn from(figures: T) -> Self {
        Sparse((figures != *T::ABSENT).then(|| Box::new(figures)))
    }
}

impl<T: Absent> std::ops::Deref for Sparse<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or(T::ABSENT)
    }
}

impl<T: Absent> std::ops::DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

/// The figures, not how they are held: none and all missing are equal.
impl<T: Absent> PartialEq for Sparse<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// The rates a source gives beside a row's counts, as the row keeps them:
/// a source's own rates are published only where it gives no counts
/// (`indicators::model::publish`), and beside counts they are checked as
/// they are read (bounds, shares), then let go. Kept, they boxed 128 bytes
/// on nearly every staged row (issue 13).
pub fn kept_rates(counts: &Counts, rates: SourceRates) -> RatesOfSource {
    if counts.is_empty() {
        rates.into()
    } else {
        RatesOfSource::default()
    }
}

/// One row of measures about a certification.
#[derive(Debug, Clone, PartialEq)]
pub struct MesureRow {
    pub millesime: Millesime,
    pub filiere: Filiere,
    pub code_certification: Code,
    pub code_certification_type: CodeType,
    pub niveau: Niveau,
    /// Read with `counts.get()`.
    pub counts: PackedCounts,
    /// Kept only where the row has no counts ([`kept_rates`]).
    pub source_rates: RatesOfSource,
    pub salaires: SalairesOfSource,
    /// A label the source gives for the establishment, if any.
    pub libelle_etablissement: Option<String>,
    pub origin: Origin,
}

/// Establishment-wide figures (no certification): CFA open data, DEPP files.
#[derive(Debug, Clone, PartialEq)]
pub struct EtablissementRow {
    pub millesime: Millesime,
    pub filiere: Filiere,
    pub uai: Code,
    pub libelle: String,
    /// The région as the source names it (`AUVERGNE-RHONE-ALPES`).
    pub region_libelle: Code,
    pub rates: SourceRates,
    pub taux_en_emploi_6_mois_attendu: Option<f64>,
    pub valeur_ajoutee_6_mois: Option<f64>,
    /// The publication: `open_data` (data.education.gouv.fr) or
    /// `depp_valeur_ajoutee` (the DEPP's yearly files). Both cover some
    /// establishments, with values that differ (revisions): both are kept.
    pub source: &'static str,
    pub origin: Origin,
}

/// A row a loader could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub file: Arc<PathBuf>,
    pub line: u64,
    pub reason: String,
    /// The row as read, fields joined with the file's delimiter.
    pub raw: String,
}

/// What a loader read from one file: rows read = rows + etablissements + rejects + skipped.
#[derive(Debug, Default)]
pub struct Staged {
    pub rows: Vec<MesureRow>,
    pub etablissements: Vec<EtablissementRow>,
    pub rejects: Vec<Reject>,
    /// Rows read but deliberately not used, with the reason (e.g. InserSup
    /// breakdown rows that are not the headline `ensemble` row), counted by reason.
    pub skipped: std::collections::BTreeMap<String, usize>,
    pub rows_read: usize,
    /// No two `rows` share a key (millésime, filière, code, place): the
    /// loader rejected each repeat. A level given by this file alone then
    /// needs no check of its keys (`indicators::read_sources`).
    pub rows_keys_unique: bool,
}

impl Staged {
    pub fn balances(&self) -> bool {
        self.rows_read
            == self.rows.len()
                + self.etablissements.len()
                + self.rejects.len()
                + self.skipped.values().sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rates all missing are held as none, and read and compare as such;
    /// a rate written through the holder is kept.
    #[test]
    fn rates_of_source_hold_nothing_when_there_are_none() {
        let none = RatesOfSource::from(SourceRates::default());
        assert!(none.0.is_none());
        assert!(none.is_empty());
        assert_eq!(none, Sparse(Some(Box::default())));
        let mut some = none.clone();
        some.taux_poursuite_etudes = Some(40.0);
        assert_eq!(some.taux_poursuite_etudes, Some(40.0));
        assert_ne!(some, none);
        let given = SourceRates {
            taux_en_emploi_6_mois: Some(62.5),
            ..SourceRates::default()
        };
        assert_eq!(*RatesOfSource::from(given), given);
        // Salaries likewise: most rows have none.
        assert!(SalairesOfSource::from(Salaires::default()).0.is_none());
        let q1 = Salaires {
            salaire_12_mois_q1: Some(1400.0),
            ..Salaires::default()
        };
        assert_eq!(*SalairesOfSource::from(q1), q1);
    }

    /// Every count, missing or not (zero and the largest sums included),
    /// reads back as it was packed, in half the bytes.
    #[test]
    fn packed_counts_read_back_as_they_were() {
        assert_eq!(std::mem::size_of::<PackedCounts>(), 64);
        assert_eq!(std::mem::size_of::<Counts>(), 128);
        assert!(PackedCounts::default().is_empty());
        assert_eq!(PackedCounts::default().get(), Counts::default());
        let values = [None, Some(0), Some(1), Some(19), Some(i64::MAX), Some(-3)];
        for (i, value) in values.iter().enumerate() {
            for (j, other) in values.iter().enumerate() {
                // Each field once with `value`, the others with `other`,
                // so that no two fields can be swapped unseen.
                for field in 0..8 {
                    let mut all = [*other; 8];
                    all[field] = *value;
                    let counts = Counts {
                        nb_annee_term: all[0],
                        nb_poursuite_etudes: all[1],
                        nb_sortant: all[2],
                        nb_en_emploi_6_mois: all[3],
                        nb_en_emploi_12_mois: all[4],
                        nb_en_emploi_18_mois: all[5],
                        nb_en_emploi_24_mois: all[6],
                        nb_diplome: all[7],
                    };
                    let packed = PackedCounts::from(counts);
                    assert_eq!(packed.get(), counts, "{i} {j} {field}");
                    assert_eq!(packed.is_empty(), counts.is_empty());
                }
            }
        }
    }
}
