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
//! 3. for a common first year of a famille de métiers (a CFD all of whose
//!    MEFs are first years), every terminal MEF of the family's other CFDs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::output::OutTable;
use crate::rules::codes::CodeType;
use crate::stages::indicators::upstream::Certification;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Terminale {
    pub code_certification: String,
    pub code_certification_terminale: String,
    /// `meme_formation` (rule 1 or 2) or `famille_metiers` (rule 3).
    pub lien: &'static str,
    pub famille_metiers_code: String,
}

fn is_terminal(c: &Certification) -> bool {
    matches!((c.annee_dispositif, c.duree_dispositif), (Some(a), Some(d)) if a == d)
}

pub fn build_terminales(referentiel: &HashMap<String, Certification>) -> Vec<Terminale> {
    let mefs: Vec<&Certification> = referentiel
        .values()
        .filter(|c| c.code_type == Some(CodeType::MefStat11))
        .collect();
    let mut by_cfd: BTreeMap<&str, Vec<&Certification>> = BTreeMap::new();
    for m in &mefs {
        by_cfd.entry(&m.code_formation_diplome).or_default().push(m);
    }
    // A common first year: every MEF of its CFD is a first year, in a family.
    let common_first_year = |cfd: &str| {
        by_cfd.get(cfd).is_some_and(|ms| {
            ms.iter().all(|m| m.annee_dispositif == Some(1))
                && ms.iter().any(|m| !m.famille_metiers_code.is_empty())
        })
    };
    let mut family_terminals: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for m in &mefs {
        if is_terminal(m) && !m.famille_metiers_code.is_empty() {
            family_terminals
                .entry(&m.famille_metiers_code)
                .or_default()
                .insert(&m.code);
        }
    }

    let mut out = BTreeSet::new();
    for m in &mefs {
        let (Some(annee), Some(duree)) = (m.annee_dispositif, m.duree_dispositif) else {
            continue;
        };
        if annee >= duree || duree > 9 {
            continue;
        }
        if common_first_year(&m.code_formation_diplome) {
            for t in family_terminals
                .get(m.famille_metiers_code.as_str())
                .into_iter()
                .flatten()
            {
                out.insert(Terminale {
                    code_certification: m.code.clone(),
                    code_certification_terminale: t.to_string(),
                    lien: "famille_metiers",
                    famille_metiers_code: m.famille_metiers_code.clone(),
                });
            }
            continue;
        }
        let built = format!("{}{}{}", &m.code[..3], duree, &m.code[4..]);
        let terminals: Vec<&str> = match referentiel.get(&built) {
            Some(t) if is_terminal(t) => vec![t.code.as_str()],
            _ => by_cfd
                .get(m.code_formation_diplome.as_str())
                .into_iter()
                .flatten()
                .filter(|t| is_terminal(t))
                .map(|t| t.code.as_str())
                .collect(),
        };
        for t in terminals {
            out.insert(Terminale {
                code_certification: m.code.clone(),
                code_certification_terminale: t.to_string(),
                lien: "meme_formation",
                famille_metiers_code: m.famille_metiers_code.clone(),
            });
        }
    }
    out.into_iter().collect()
}

pub fn terminales_table(
    terminales: &[Terminale],
    referentiel: &HashMap<String, Certification>,
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
        );
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mef(code: &str, cfd: &str, annee: u32, duree: u32, famille: &str) -> Certification {
        Certification {
            code: code.into(),
            code_type: Some(CodeType::MefStat11),
            code_formation_diplome: cfd.into(),
            annee_dispositif: Some(annee),
            duree_dispositif: Some(duree),
            famille_metiers_code: famille.into(),
            ..Certification::default()
        }
    }

    fn referentiel(mefs: Vec<Certification>) -> HashMap<String, Certification> {
        mefs.into_iter().map(|m| (m.code.clone(), m)).collect()
    }

    #[test]
    fn a_first_year_leads_to_its_terminal_year() {
        let r = referentiel(vec![
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
        let r = referentiel(vec![
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
}
