//! `certifications_terminales`: the terminal-year certifications a non-final
//! year leads to.
//!
//! A first-year MEF (a 2nde professionnelle, a 1re année de CAP) has no
//! outcome of its own: a platform listing it shows the outcomes of the
//! terminal years it leads to. For a MEF_STAT_11 whose ANNEE_DISPOSITIF is
//! below its DUREE_DISPOSITIF:
//! 1. the code built as `MEF_STAT_11[0:3] + DUREE + MEF_STAT_11[4:]` when the
//!    BCN has it (DOMAIN.md);
//! 2. otherwise every MEF of the same CFD whose ANNEE_DISPOSITIF is its duration;
//! 3. for a common first year of a famille de métiers (issue 6: flagged
//!    `seconde_commune` by the `bcn` stage, or, with an older referential, a
//!    CFD all of whose MEFs are first years, in a family), every terminal MEF
//!    of the family's specialities in the same voie and cursus: a common year
//!    of the Éducation nationale leads to the specialities' Éducation
//!    nationale terminal MEFs, an agricultural one to their agricultural MEFs
//!    (see `rules::filiere::is_agricole_dispositif`), and the first year of a 3-year bac pro to the 3rd
//!    year of a 3-year cursus, not to the final year of the 1- and 2-year bac
//!    pro some specialities had until 2010 (dispositifs 245, 246, 273). A
//!    speciality in several families is a terminal of each family's common
//!    year. The same links are given between the CFDs (the common year's CFD
//!    leads to its specialities' CFDs), for figures keyed by CFD
//!    (apprenticeship). Closed specialities stay: the BCN still lists them in
//!    the family, and their last cohorts are the family's history
//!    (`familles_specialites` says `specialite_fermee`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use foldhash::fast::FixedState;

use crate::output::OutTable;
use crate::rules::codes::{Code, CodeType};
use crate::rules::famille::is_annee_commune;
use crate::rules::filiere::is_agricole_dispositif;
use crate::stages::indicators::upstream::{Certification, Referentiel};

/// `lien` of a common first year's terminal certifications.
pub const LIEN_FAMILLE_METIERS: &str = "famille_metiers";
/// `lien` of a first year's own terminal year.
pub const LIEN_MEME_FORMATION: &str = "meme_formation";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Terminale {
    pub code_certification: Code,
    pub code_certification_terminale: Code,
    /// `meme_formation` (rule 1 or 2) or `famille_metiers` (rule 3).
    pub lien: &'static str,
    /// The family the link goes through (rule 3), else the first year's own.
    pub famille_metiers_code: Code,
}

fn is_terminal(c: &Certification) -> bool {
    matches!((c.annee_dispositif, c.duree_dispositif), (Some(a), Some(d)) if a == d)
}

/// The MEFs of the referential, sorted by code, and grouped by CFD.
struct Mefs<'r> {
    all: Vec<&'r Certification>,
    /// Looked up only: hashed (at ×100, 1.5 million MEFs put in a tree by
    /// comparing their CFDs were a quarter of a second on one core, issue 13).
    by_cfd: HashMap<&'r str, Vec<&'r Certification>, FixedState>,
}

/// (family, agricultural, duration) → the terminal MEFs of its specialities.
type FamilyTerminals<'r> = BTreeMap<(&'r str, bool, Option<u32>), BTreeSet<&'r str>>;

/// The links, sorted by (first year, terminal), one per pair: the first
/// found ([`first_of_each_pair`]).
type Links = Vec<Terminale>;

/// The links found, in the order found, sorted by (first year, terminal),
/// the first found of each pair kept: what a map of the pairs filled with
/// "insert if vacant" gives, sorted once on every thread instead of a tree
/// searched at each link (issue 13: ×100's half a million links).
fn first_of_each_pair(mut found: Vec<Terminale>) -> Links {
    use rayon::slice::ParallelSliceMut as _;
    fn pair(t: &Terminale) -> (&str, &str) {
        (&t.code_certification, &t.code_certification_terminale)
    }
    // Stable: of a pair's links, the first found stays first.
    found.par_sort_by(|a, b| pair(a).cmp(&pair(b)));
    found.dedup_by(|later, first| pair(later) == pair(first));
    found
}

impl<'r> Mefs<'r> {
    fn of(referentiel: &'r Referentiel) -> Self {
        let mut all: Vec<&Certification> = referentiel
            .values()
            .filter(|c| c.code_type == Some(CodeType::MefStat11))
            .collect();
        // A referential's codes are unique: unstable is stable here, and
        // on every thread (at ×100, 1.5 million MEFs sorted on one core by
        // comparing their codes behind pointers took half a second, issue 13).
        use rayon::slice::ParallelSliceMut as _;
        all.par_sort_unstable_by(|a, b| a.code.cmp(&b.code));
        let mut by_cfd: HashMap<&str, Vec<&Certification>, FixedState> = HashMap::default();
        for m in &all {
            by_cfd.entry(&m.code_formation_diplome).or_default().push(m);
        }
        Mefs { all, by_cfd }
    }

    /// The MEFs of the same CFD as `m`.
    fn same_cfd(&self, m: &Certification) -> impl Iterator<Item = &&'r Certification> {
        self.by_cfd
            .get(m.code_formation_diplome.as_str())
            .into_iter()
            .flatten()
    }

    /// Whether `m` is a common first year (rule 3), by `rules::famille`.
    fn is_commune(&self, m: &Certification) -> bool {
        let annees = self.same_cfd(m).map(|x| x.annee_dispositif);
        is_annee_commune(
            !m.familles_metiers_codes.is_empty(),
            m.seconde_commune,
            annees,
        )
    }

    /// The terminal MEFs of each family's specialities, by voie and
    /// duration: what a common first year of that family leads to.
    fn family_terminals(&self) -> FamilyTerminals<'r> {
        let mut out = FamilyTerminals::new();
        for m in self
            .all
            .iter()
            .filter(|m| is_terminal(m) && !self.is_commune(m))
        {
            for f in &m.familles_metiers_codes {
                out.entry((
                    f,
                    is_agricole_dispositif(&m.dispositif_formation),
                    m.duree_dispositif,
                ))
                .or_default()
                .insert(&m.code);
            }
        }
        out
    }

    /// Rules 1 and 2: the first year's own terminal year, the built code
    /// when the BCN has it, else every terminal MEF of its CFD.
    fn own_terminals(
        &self,
        m: &Certification,
        duree: u32,
        referentiel: &'r Referentiel,
    ) -> Vec<&'r str> {
        let built = format!("{}{}{}", &m.code[..3], duree, &m.code[4..]);
        match referentiel.get(built.as_str()) {
            Some(t) if is_terminal(t) => vec![t.code.as_str()],
            _ => self
                .same_cfd(m)
                .filter(|t| is_terminal(t))
                .map(|t| t.code.as_str())
                .collect(),
        }
    }
}

/// Every non-final year's terminal certifications (the module's rules 1 to
/// 3), then the same family links between CFDs, sorted by (first year,
/// terminal).
pub fn build_terminales(referentiel: &Referentiel) -> Vec<Terminale> {
    let mefs = Mefs::of(referentiel);
    let family_terminals = mefs.family_terminals();
    // A pair reached through two families keeps the first (smallest) family.
    let mut found = Vec::new();
    let mut link = |m: &Certification, t: &str, lien, famille: &Code| {
        found.push(Terminale {
            code_certification: m.code.clone(),
            code_certification_terminale: t.into(),
            lien,
            famille_metiers_code: famille.clone(),
        });
    };
    for m in &mefs.all {
        let (Some(annee), Some(duree)) = (m.annee_dispositif, m.duree_dispositif) else {
            continue;
        };
        if annee >= duree || duree > 9 {
            continue;
        }
        if mefs.is_commune(m) {
            let agricole = is_agricole_dispositif(&m.dispositif_formation);
            for f in &m.familles_metiers_codes {
                for t in family_terminals
                    .get(&(f.as_str(), agricole, m.duree_dispositif))
                    .into_iter()
                    .flatten()
                {
                    link(m, t, LIEN_FAMILLE_METIERS, f);
                }
            }
            continue;
        }
        for t in mefs.own_terminals(m, duree, referentiel) {
            link(m, t, LIEN_MEME_FORMATION, &m.famille_metiers_code);
        }
    }
    let mut out = first_of_each_pair(found);
    add_cfd_links(&mut out, referentiel);
    out
}

/// The same family links between their CFDs, for figures keyed by CFD
/// (apprenticeship): the common year's CFD leads to its specialities'.
fn add_cfd_links(out: &mut Links, referentiel: &Referentiel) {
    let cfd_of = |code: &str| {
        referentiel
            .get(code)
            .map(|c| c.code_formation_diplome.clone())
            .unwrap_or_default()
    };
    let cfd_links: Vec<Terminale> = out
        .iter()
        .filter(|t| t.lien == LIEN_FAMILLE_METIERS)
        .map(|t| Terminale {
            code_certification: cfd_of(&t.code_certification),
            code_certification_terminale: cfd_of(&t.code_certification_terminale),
            lien: LIEN_FAMILLE_METIERS,
            famille_metiers_code: t.famille_metiers_code.clone(),
        })
        .collect();
    let is_cfd = |code: &str| {
        referentiel
            .get(code)
            .is_some_and(|c| c.code_type == Some(CodeType::Cfd))
    };
    // After the links found: a pair already linked keeps its link.
    out.extend(cfd_links.into_iter().filter(|t| {
        t.code_certification != t.code_certification_terminale
            && is_cfd(&t.code_certification)
            && is_cfd(&t.code_certification_terminale)
    }));
    *out = first_of_each_pair(std::mem::take(out));
}

/// The specialities of each common first year: code → (family, terminal
/// codes). A common year in several families has the specialities of all,
/// under the smallest family code.
pub fn specialites_by_commune(terminales: &[Terminale]) -> BTreeMap<&str, (&str, Vec<&str>)> {
    let mut out: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
    for t in terminales.iter().filter(|t| t.lien == LIEN_FAMILLE_METIERS) {
        let entry = out
            .entry(&t.code_certification)
            .or_insert((&t.famille_metiers_code, Vec::new()));
        // A common year in several families: the smallest code names them.
        entry.0 = entry.0.min(t.famille_metiers_code.as_str());
        entry.1.push(&t.code_certification_terminale);
    }
    out
}

pub fn terminales_table(
    terminales: &[Terminale],
    referentiel: &Referentiel,
    libelles: &FamilleLibelles,
) -> OutTable {
    let libelle = |code: &str| {
        referentiel
            .get(code)
            .map(|c| c.libelle.clone())
            .unwrap_or_default()
    };
    let cfd = |code: &str| {
        referentiel
            .get(code)
            .map(|c| c.code_formation_diplome.clone())
            .unwrap_or_default()
    };
    let t = terminales;
    let mut table = OutTable::new("certifications_terminales");
    table
        .str(
            "code_certification",
            t.iter().map(|x| &x.code_certification),
        )
        .str("libelle", t.iter().map(|x| libelle(&x.code_certification)))
        .str(
            "code_formation_diplome",
            t.iter().map(|x| cfd(&x.code_certification)),
        )
        .str(
            "code_certification_terminale",
            t.iter().map(|x| &x.code_certification_terminale),
        )
        .str(
            "libelle_terminale",
            t.iter().map(|x| libelle(&x.code_certification_terminale)),
        )
        .str(
            "code_formation_diplome_terminale",
            t.iter().map(|x| cfd(&x.code_certification_terminale)),
        )
        .str("lien", t.iter().map(|x| x.lien))
        .str(
            "famille_metiers_code",
            t.iter().map(|x| &x.famille_metiers_code),
        )
        .str(
            "famille_metiers_libelle",
            t.iter().map(|x| {
                libelles
                    .get(x.famille_metiers_code.as_str())
                    .map_or("", |c| c.famille_metiers_libelle.as_str())
            }),
        );
    table
}

/// A family's label, from the first code (in code order, so that the choice
/// is stable) the referential files under it with a label: the smallest
/// such code, found in one pass over the referential (sorting it whole to
/// take the first took a second per call at ×100, issue 13).
///
/// Computed once per table, not per row group: per row group it made the
/// table's time grow with the square of the data (a fifth of ×100's
/// indicator tables, issue 13).
pub fn famille_libelles(referentiel: &Referentiel) -> FamilleLibelles<'_> {
    let mut libelles: FamilleLibelles = HashMap::new();
    for c in referentiel.values() {
        if c.famille_metiers_code.is_empty() || c.famille_metiers_libelle.is_empty() {
            continue;
        }
        libelles
            .entry(&c.famille_metiers_code)
            .and_modify(|first| {
                if c.code < first.code {
                    *first = c;
                }
            })
            .or_insert(c);
    }
    libelles
}

/// Each family's label-giving certification, by family code.
pub type FamilleLibelles<'r> = HashMap<&'r str, &'r Certification>;

/// The codes [`terminales_table`] reads besides its rows' own: the one
/// that gives each family its label.
pub fn famille_libelle_codes(referentiel: &Referentiel) -> impl Iterator<Item = &str> {
    famille_libelles(referentiel)
        .into_values()
        .map(|c| c.code.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mef(code: &str, cfd: &str, annee: u32, duree: u32, famille: &str) -> Certification {
        let familles: Vec<Code> = famille
            .split('|')
            .filter(|f| !f.is_empty())
            .map(Code::from)
            .collect();
        Certification {
            code: code.into(),
            code_type: Some(CodeType::MefStat11),
            code_formation_diplome: cfd.into(),
            // 247: bac pro in 3 years; 276: its agricultural twin (MEF_STAT_11[4] = 1).
            dispositif_formation: if &code[4..5] == "1" { "276" } else { "247" }.into(),
            annee_dispositif: Some(annee),
            duree_dispositif: Some(duree),
            famille_metiers_code: familles.first().cloned().unwrap_or_default(),
            familles_metiers_codes: familles,
            ..Certification::default()
        }
    }

    fn referential(mefs: Vec<Certification>) -> Referentiel {
        mefs.into_iter().map(|m| (m.code.clone(), m)).collect()
    }

    /// A family takes its label from its smallest code that has one,
    /// whatever the order the referential holds them in.
    #[test]
    fn a_family_is_labelled_by_its_smallest_labelled_code() {
        let labelled = |code: &str, famille: &str, libelle: &str| Certification {
            famille_metiers_libelle: libelle.into(),
            ..mef(code, "40025214", 1, 3, famille)
        };
        let certifications = [
            labelled("24720000001", "F1", "Famille un, plus tard"),
            labelled("24710000001", "F1", ""),
            labelled("24720000000", "F1", "Famille un"),
            labelled("24730000000", "F2", "Famille deux"),
            labelled("24700000000", "", "Sans famille"),
        ];
        for rotation in 0..certifications.len() {
            let mut rotated = certifications.to_vec();
            rotated.rotate_left(rotation);
            let r = referential(rotated);
            let libelles = famille_libelles(&r);
            let chosen: Vec<(&str, &str)> = ["F1", "F2"]
                .map(|f| (f, libelles[f].code.as_str()))
                .to_vec();
            assert_eq!(chosen, [("F1", "24720000000"), ("F2", "24730000000")]);
            assert_eq!(libelles.len(), 2);
        }
    }

    #[test]
    fn a_first_year_leads_to_its_terminal_year() {
        let r = referential(vec![
            mef("23810025513", "40025513", 1, 3, ""),
            mef("23820025513", "40025513", 2, 3, ""),
            mef("23830025513", "40025513", 3, 3, ""),
            // The built code is absent: the terminal MEF of the same CFD.
            mef("24110022140", "50022140", 1, 2, ""),
            mef("24190022140", "50022140", 2, 2, ""),
        ]);
        let t = build_terminales(&r);
        let pairs: Vec<(&str, &str)> = t
            .iter()
            .map(|t| {
                (
                    t.code_certification.as_str(),
                    t.code_certification_terminale.as_str(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("23810025513", "23830025513"),
                ("23820025513", "23830025513"),
                ("24110022140", "24190022140"),
            ]
        );
    }

    #[test]
    fn a_common_first_year_leads_to_every_speciality_of_its_family() {
        let r = referential(vec![
            mef("23810020006", "40020006", 1, 3, "G0003"),
            mef("23820023102", "40023102", 2, 3, "G0003"),
            mef("23830023102", "40023102", 3, 3, "G0003"),
            mef("23830023203", "40023203", 3, 3, "G0003"),
            mef("23830029999", "40029999", 3, 3, "G0004"),
        ]);
        let t = build_terminales(&r);
        let from_common: Vec<&str> = t
            .iter()
            .filter(|t| t.code_certification == "23810020006")
            .map(|t| t.code_certification_terminale.as_str())
            .collect();
        assert_eq!(from_common, vec!["23830023102", "23830023203"]);
        assert!(t
            .iter()
            .all(|t| t.code_certification != "23810020006" || t.lien == "famille_metiers"));
    }

    fn from(t: &[Terminale], code: &str) -> Vec<(String, String)> {
        t.iter()
            .filter(|t| t.code_certification == code)
            .map(|t| {
                (
                    t.code_certification_terminale.to_string(),
                    t.famille_metiers_code.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn a_common_first_year_keeps_to_its_voie() {
        let r = referential(vec![
            // Éducation nationale and agricultural common years of one family.
            mef("23810020006", "40020006", 1, 3, "G0003"),
            mef("23811020006", "40320006", 1, 3, "G0003"),
            // A speciality taught in both voies, another in one only.
            mef("23830023102", "40023102", 3, 3, "G0003"),
            mef("23831023102", "40023102", 3, 3, "G0003"),
            mef("23831021004", "40321004", 3, 3, "G0003"),
        ]);
        let t = build_terminales(&r);
        let codes = |c: &str| from(&t, c).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(codes("23810020006"), vec!["23830023102"]);
        assert_eq!(codes("23811020006"), vec!["23831021004", "23831023102"]);
    }

    /// A common year in two families reaching one speciality through both
    /// keeps one link, through the first family; the same links between
    /// the CFDs follow, a CFD pair once; every pair once, in order.
    #[test]
    fn a_pair_reached_twice_is_linked_once_through_its_first_family() {
        let cfd = |code: &str| Certification {
            code: code.into(),
            code_type: Some(CodeType::Cfd),
            code_formation_diplome: code.into(),
            ..Certification::default()
        };
        let r = referential(vec![
            mef("23810020006", "40020006", 1, 3, "G0003|G0010"),
            mef("23830023203", "40023203", 3, 3, "G0003|G0010"),
            mef("23831023203", "40023203", 3, 3, "G0003"),
            mef("23830023004", "40023004", 3, 3, "G0010"),
            cfd("40020006"),
            cfd("40023203"),
            cfd("40023004"),
        ]);
        let t = build_terminales(&r);
        assert_eq!(
            from(&t, "23810020006"),
            vec![
                ("23830023004".to_string(), "G0010".to_string()),
                ("23830023203".to_string(), "G0003".to_string()),
            ]
        );
        assert_eq!(
            from(&t, "40020006"),
            vec![
                ("40023004".to_string(), "G0010".to_string()),
                ("40023203".to_string(), "G0003".to_string()),
            ]
        );
        let pairs: Vec<(&str, &str)> = t
            .iter()
            .map(|t| {
                (
                    t.code_certification.as_str(),
                    &*t.code_certification_terminale,
                )
            })
            .collect();
        assert!(pairs.windows(2).all(|w| w[0] < w[1]), "{pairs:?}");
    }

    #[test]
    fn a_speciality_in_two_families_is_a_terminal_of_both() {
        let r = referential(vec![
            mef("23810020006", "40020006", 1, 3, "G0003"),
            mef("23810023007", "40023007", 1, 3, "G0010"),
            mef("23830023203", "40023203", 3, 3, "G0003|G0010"),
            mef("23830023004", "40023004", 3, 3, "G0010"),
        ]);
        let t = build_terminales(&r);
        assert_eq!(
            from(&t, "23810020006"),
            vec![("23830023203".to_string(), "G0003".to_string())]
        );
        assert_eq!(
            from(&t, "23810023007"),
            vec![
                ("23830023004".to_string(), "G0010".to_string()),
                ("23830023203".to_string(), "G0010".to_string())
            ]
        );
        let by_commune = specialites_by_commune(&t);
        assert_eq!(by_commune["23810023007"].1.len(), 2);
    }

    #[test]
    fn a_common_first_year_leads_to_the_final_year_of_its_own_cursus() {
        // The 2-year bac pro (dispositif 246) closed in 2010.
        let mut old = mef("23720023102", "40023102", 2, 2, "G0003");
        old.dispositif_formation = "246".into();
        let r = referential(vec![
            mef("23810020006", "40020006", 1, 3, "G0003"),
            mef("23830023102", "40023102", 3, 3, "G0003"),
            old,
        ]);
        let t = build_terminales(&r);
        assert_eq!(
            from(&t, "23810020006"),
            vec![("23830023102".to_string(), "G0003".to_string())]
        );
    }
}
