//! Familles de métiers in the referential (issue 6).
//!
//! Since 2019 most bac pro students start with a common first year (a
//! "seconde commune") shared by a famille de métiers, and choose their
//! speciality in the second year. Two pairs of BCN tables say which trainings
//! form a family:
//! - N_GROUPE_FORMATION (groupes of type TG01; TG02 and TG03 are bac pro and
//!   BTS "à options", not families) and N_LIEN_FORMATION_GROUPE, by CFD, with
//!   codes `G0003`…;
//! - N_FAMILLE_METIER_SPEC_PRO and N_LIEN_MEF_FAMILLE_METIER, by MEF, with
//!   codes `001`… (`999` is "spécialité hors famille de métiers").
//!
//! Codes: a family is named by its N_GROUPE_FORMATION code, the current table
//! (it also holds the agricultural families). A family of
//! N_FAMILLE_METIER_SPEC_PRO takes the code of the TG01 groupe with the same
//! label, compared without case, accents or punctuation ("Nature - jardin -
//! paysage - forêt" = "Nature Jardin Paysage Forêt"; on the real tables every
//! family but `999` finds its groupe); its own code is kept beside
//! (`famille_metiers_code_spec_pro`). Without the groupes, or when no groupe
//! has its label, a family keeps its own code.
//!
//! Membership is by CFD: a CFD is in every family that lists it or one of its
//! MEFs, and its MEFs inherit them (N_LIEN_MEF_FAMILLE_METIER lists the 1re
//! and terminale MEFs of a speciality, not its own 2nde). A CFD in several
//! families lists them all, sorted and `|`-joined (`familles_metiers_codes`),
//! and keeps the smallest code as its `famille_metiers_code`: the choice
//! depends on nothing but the codes.
//!
//! A common first year (`seconde_commune`) is a CFD of a family all of whose
//! MEFs are first years (DOMAIN.md), or one of whose MEFs the link table tags
//! as the family's common year; its first-year MEFs are flagged with it.
//!
//! The real N_LIEN_MEF_FAMILLE_METIER is another project's copy (SOURCES.md):
//! it adds a `tag` column ("2NDE PRO COMMUNE" on a common year, read as said
//! above) and rows of four families whose code ends in `_temp`, invented for
//! agricultural families the BCN table lacked. Such a code is not a BCN code:
//! a `_temp` family is taken only when a TG01 groupe of N_GROUPE_FORMATION has
//! its label (the four real ones are G0028 to G0031, which the BCN has since
//! added), under that groupe's code; otherwise its links are rejected. Links
//! to `999`, to a code the family table lacks, or to a MEF N_MEF lacks are
//! rejected too, each in `bcn_rejects` with its reason.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::rules::codes::Code;
use crate::rules::famille::is_annee_commune;
use crate::stages::bcn::{Reject, TYPE_GROUPE_FAMILLE_METIERS};
use crate::staging::bcn::{Bcn, BcnTable};
use crate::staging::fields::folded_key;

/// The N_FAMILLE_METIER_SPEC_PRO code of "spécialité hors famille de métiers".
pub const HORS_FAMILLE: &str = "999";

/// The suffix another project gave the family codes it invented.
pub const SUFFIXE_TEMP: &str = "_temp";

/// One famille de métiers, under the code the referential uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Famille {
    pub code: Code,
    pub libelle: Code,
    /// Its N_FAMILLE_METIER_SPEC_PRO code (`001`…), when that table has it.
    pub code_spec_pro: Code,
}

/// Which family each CFD is in, and which CFDs and MEFs are common first years.
#[derive(Debug, Default)]
pub struct Familles {
    pub familles: BTreeMap<Code, Famille>,
    by_cfd: HashMap<Code, BTreeSet<Code>>,
    communes: HashSet<Code>,
    tagged_mefs: HashSet<Code>,
    pub rejects: Vec<Reject>,
    /// N_LIEN_MEF_FAMILLE_METIER rows taken (the others are in `rejects`).
    pub liens_mef_taken: usize,
    /// Of those, rows of a `_temp` family, taken under its groupe's code.
    pub liens_mef_temp_taken: usize,
    /// N_FAMILLE_METIER_SPEC_PRO families no TG01 groupe has the label of
    /// (`999` and unmatched `_temp` codes aside), when the groupes are given.
    pub spec_pro_sans_groupe: Vec<Code>,
}

/// What the referential writes about a code's families.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilleColumns {
    pub code: Code,
    pub libelle: Code,
    pub code_spec_pro: Code,
    /// Every family, sorted, `|`-joined.
    pub codes: Code,
    pub count: usize,
}

/// Whether a `tag` of the link table marks a family's common first year.
fn is_commune_tag(tag: &str) -> bool {
    folded_key(tag).contains("COMMUNE")
}

impl Familles {
    /// Reads the four family tables of the staged BCN (any of them may be absent).
    pub fn build(bcn: &Bcn) -> Familles {
        let mut f = Familles::default();
        let given = |t: BcnTable| bcn.inputs.iter().any(|i| i.table == t.name());
        let (tg01, by_label) = f.groupes(bcn);
        let spec_pro = f.spec_pro(bcn, &by_label, given(BcnTable::NGroupeFormation));
        f.liens_groupe(bcn, &tg01);
        f.liens_mef(bcn, &spec_pro, given(BcnTable::NFamilleMetierSpecPro));
        f.mark_communes(bcn);
        f
    }

    /// N_GROUPE_FORMATION: the TG01 groupes (the families), and their codes
    /// by folded label (how N_FAMILLE_METIER_SPEC_PRO is matched to them).
    fn groupes<'b>(&mut self, bcn: &'b Bcn) -> (HashSet<&'b str>, HashMap<String, Code>) {
        let mut tg01: HashSet<&str> = HashSet::new();
        let mut by_label: HashMap<String, Code> = HashMap::new();
        for g in bcn
            .groupes
            .iter()
            .filter(|g| g.type_groupe_formation == TYPE_GROUPE_FAMILLE_METIERS)
        {
            tg01.insert(&g.groupe_formation);
            self.familles
                .entry(g.groupe_formation.clone())
                .or_insert_with(|| Famille {
                    code: g.groupe_formation.clone(),
                    libelle: g.libelle.clone(),
                    code_spec_pro: Code::default(),
                });
            by_label
                .entry(folded_key(&g.libelle))
                .or_insert_with(|| g.groupe_formation.clone());
        }
        (tg01, by_label)
    }

    /// N_FAMILLE_METIER_SPEC_PRO: its code → the referential's code (None:
    /// not a family), the groupe of the same label when there is one.
    fn spec_pro<'b>(
        &mut self,
        bcn: &'b Bcn,
        by_label: &HashMap<String, Code>,
        groupes_given: bool,
    ) -> HashMap<&'b str, Option<Code>> {
        let mut spec_pro: HashMap<&str, Option<Code>> = HashMap::new();
        for s in &bcn.familles_spec_pro {
            if spec_pro.contains_key(s.famille_metier.as_str()) {
                continue;
            }
            let temp = s.famille_metier.ends_with(SUFFIXE_TEMP);
            let groupe = by_label.get(&folded_key(&s.libelle)).cloned();
            let code = match (&groupe, temp) {
                _ if s.famille_metier == HORS_FAMILLE => None,
                (Some(g), _) => Some(g.clone()),
                (None, true) => None,
                (None, false) => {
                    if groupes_given {
                        self.spec_pro_sans_groupe.push(s.famille_metier.clone());
                    }
                    Some(s.famille_metier.clone())
                }
            };
            if let Some(code) = &code {
                let entry = self
                    .familles
                    .entry(code.clone())
                    .or_insert_with(|| Famille {
                        code: code.clone(),
                        libelle: s.libelle.clone(),
                        code_spec_pro: Code::default(),
                    });
                if !temp && entry.code_spec_pro.is_empty() {
                    entry.code_spec_pro = s.famille_metier.clone();
                }
            }
            spec_pro.insert(&s.famille_metier, code);
        }
        spec_pro
    }

    /// N_LIEN_FORMATION_GROUPE: CFDs of the TG01 groupes.
    fn liens_groupe(&mut self, bcn: &Bcn, tg01: &HashSet<&str>) {
        for lien in &bcn.liens_groupe {
            if tg01.contains(lien.groupe_formation.as_str()) {
                self.by_cfd
                    .entry(lien.cfd.clone())
                    .or_default()
                    .insert(lien.groupe_formation.clone());
            }
        }
    }

    /// N_LIEN_MEF_FAMILLE_METIER: MEFs, hence their CFDs; a link to no
    /// family or to a MEF N_MEF lacks is rejected with its reason.
    fn liens_mef(
        &mut self,
        bcn: &Bcn,
        spec_pro: &HashMap<&str, Option<Code>>,
        spec_pro_given: bool,
    ) {
        let mefs: HashMap<&str, &str> = bcn
            .mefs
            .iter()
            .map(|m| (m.mef.as_str(), m.cfd.as_str()))
            .collect();
        let table = BcnTable::NLienMefFamilleMetier.name();
        for lien in &bcn.liens_mef_famille {
            let code = &lien.famille_metier;
            let temp = code.ends_with(SUFFIXE_TEMP);
            let reject = |reason: String| Reject {
                table: table.to_string(),
                line: lien.position,
                code: lien.mef.to_string(),
                reason,
            };
            let famille = match self.famille_of_lien(code, spec_pro, spec_pro_given) {
                Ok(c) => c,
                Err(reason) => {
                    self.rejects.push(reject(reason));
                    continue;
                }
            };
            let Some(cfd) = mefs.get(lien.mef.as_str()) else {
                self.rejects
                    .push(reject(format!("MEF {} is not in N_MEF", lien.mef)));
                continue;
            };
            self.liens_mef_taken += 1;
            if temp {
                self.liens_mef_temp_taken += 1;
            }
            self.by_cfd
                .entry(Code::from(*cfd))
                .or_default()
                .insert(famille);
            if is_commune_tag(&lien.tag) {
                self.tagged_mefs.insert(lien.mef.clone());
            }
        }
    }

    /// The referential's family of a link's FAMILLE_METIER code, or why
    /// it has none. Without the family table, the link's own code stands
    /// (without a label).
    fn famille_of_lien(
        &mut self,
        code: &str,
        spec_pro: &HashMap<&str, Option<Code>>,
        spec_pro_given: bool,
    ) -> Result<Code, String> {
        let temp = code.ends_with(SUFFIXE_TEMP);
        if code == HORS_FAMILLE {
            Err(format!(
                "FAMILLE_METIER {HORS_FAMILLE} is \"spécialité hors famille de métiers\": not a famille"
            ))
        } else if spec_pro_given {
            match spec_pro.get(code) {
                Some(Some(c)) => Ok(c.clone()),
                Some(None) if temp => Err(temp_reason(code)),
                _ => Err(format!(
                    "FAMILLE_METIER {code} is not in N_FAMILLE_METIER_SPEC_PRO"
                )),
            }
        } else if temp {
            Err(temp_reason(code))
        } else {
            self.familles
                .entry(Code::from(code))
                .or_insert_with(|| Famille {
                    code: Code::from(code),
                    code_spec_pro: Code::from(code),
                    ..Famille::default()
                });
            Ok(Code::from(code))
        }
    }

    /// Common first years: the CFDs of a family whose MEFs make one
    /// (`rules::famille::is_annee_commune`).
    fn mark_communes(&mut self, bcn: &Bcn) {
        let mut years: HashMap<&str, Vec<(&str, Option<u32>)>> = HashMap::new();
        for m in &bcn.mefs {
            years
                .entry(&m.cfd)
                .or_default()
                .push((&m.mef, m.annee_dispositif));
        }
        for cfd in self.by_cfd.keys() {
            let ms = years.get(cfd.as_str()).map_or(&[][..], Vec::as_slice);
            let tagged = ms.iter().any(|(mef, _)| self.tagged_mefs.contains(*mef));
            if is_annee_commune(true, tagged, ms.iter().map(|(_, annee)| *annee)) {
                self.communes.insert(cfd.clone());
            }
        }
    }

    /// The family columns of a CFD (or of one of its MEFs).
    pub fn columns(&self, cfd: &str) -> FamilleColumns {
        let Some(codes) = self.by_cfd.get(cfd) else {
            return FamilleColumns::default();
        };
        let first = codes
            .first()
            .expect("a CFD is listed with at least one family");
        let famille = self.familles.get(first).cloned().unwrap_or_default();
        FamilleColumns {
            code: first.clone(),
            libelle: famille.libelle,
            code_spec_pro: famille.code_spec_pro,
            codes: Code::from(codes.iter().map(Code::as_str).collect::<Vec<_>>().join("|")),
            count: codes.len(),
        }
    }

    /// A common first year: the CFD, in a family, whose MEFs are all first years or tagged.
    pub fn is_commune_cfd(&self, cfd: &str) -> bool {
        self.communes.contains(cfd)
    }

    /// A MEF of a common first year CFD that is itself a first year (or tagged).
    pub fn is_commune_mef(&self, cfd: &str, mef: &str, annee: Option<u32>) -> bool {
        self.is_commune_cfd(cfd) && (annee == Some(1) || self.tagged_mefs.contains(mef))
    }

    /// How many families hold at least one CFD.
    pub fn used(&self) -> usize {
        self.by_cfd
            .values()
            .flatten()
            .collect::<BTreeSet<_>>()
            .len()
    }
}

fn temp_reason(code: &str) -> String {
    format!(
        "FAMILLE_METIER {code}: the suffix {SUFFIXE_TEMP} marks a code another project added, not a BCN code, and no famille of N_GROUPE_FORMATION (TG01) has its label"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::bcn::{
        FamilleMetierSpecPro, GroupeFormation, LienFormationGroupe, LienMefFamilleMetier, Mef,
    };
    use crate::staging::InputFile;

    #[test]
    fn labels_match_without_case_accents_or_punctuation() {
        for (a, b) in [
            (
                "Nature - jardin - paysage - forêt",
                "Nature Jardin Paysage Forêt",
            ),
            (
                "Alimentation-bio-industrie-laboratoire",
                "Alimentation Bio industrie Laboratoire",
            ),
            ("Beauté et bien-être", "BEAUTE ET BIEN ETRE"),
        ] {
            assert_eq!(folded_key(a), folded_key(b), "{a} / {b}");
        }
        assert_ne!(folded_key("Mer"), folded_key("Métiers de la mer"));
    }

    fn mef(code: &str, cfd: &str, annee: u32) -> Mef {
        Mef {
            mef: code.into(),
            dispositif_formation: code[..3].into(),
            cfd: cfd.into(),
            duree_dispositif: Some(3),
            annee_dispositif: Some(annee),
            libelle_court: Default::default(),
            libelle_long: Default::default(),
            date_ouverture: None,
            date_fermeture: None,
            mef_stat_11: Default::default(),
            mef_stat_9: Default::default(),
            position: 0,
        }
    }

    fn input(table: BcnTable) -> InputFile {
        InputFile {
            table: table.name().into(),
            path: "x".into(),
            format: None,
            rows: 0,
        }
    }

    fn sample() -> Bcn {
        let groupe = |code: &str, libelle: &str| GroupeFormation {
            groupe_formation: code.into(),
            type_groupe_formation: "TG01".into(),
            libelle: libelle.into(),
        };
        let spec = |code: &str, libelle: &str, line| FamilleMetierSpecPro {
            famille_metier: code.into(),
            libelle: libelle.into(),
            position: line,
        };
        let lien = |famille: &str, mef: &str, tag: &str, line| LienMefFamilleMetier {
            famille_metier: famille.into(),
            mef: mef.into(),
            tag: tag.into(),
            position: line,
        };
        Bcn {
            groupes: vec![
                groupe(
                    "G0003",
                    "Construction durable du bâtiment et des travaux publics",
                ),
                groupe("G0010", "Etudes et modélisation numérique du bâtiment"),
                groupe("G0030", "Alimentation Bio industrie Laboratoire"),
            ],
            liens_groupe: vec![LienFormationGroupe {
                groupe_formation: "G0003".into(),
                cfd: "40023203".into(),
            }],
            familles_spec_pro: vec![
                spec(
                    "001",
                    "Construction durable du bâtiment et des travaux publics",
                    2,
                ),
                spec("008", "Etudes et modélisation numérique du bâtiment", 3),
                spec("017_temp", "Alimentation-bio-industrie-laboratoire", 4),
                spec("018_temp", "Productions", 5),
                spec("020", "Une famille sans groupe", 6),
                spec("999", "Spécialité hors famille de métiers", 7),
            ],
            liens_mef_famille: vec![
                lien("001", "2472000631", "2NDE PRO COMMUNE", 2),
                lien("008", "2472320333", "", 3),
                lien("017_temp", "2762210533", "", 4),
                lien("018_temp", "2762100433", "", 5),
                lien("999", "2472310233", "", 6),
                lien("001", "2479999933", "", 7),
                lien("042", "2472310233", "", 8),
                lien("020", "2472310233", "", 9),
            ],
            mefs: vec![
                mef("2472000631", "40020006", 1),
                mef("2472320332", "40023203", 2),
                mef("2472320333", "40023203", 3),
                mef("2762210533", "40322105", 3),
                mef("2762100433", "40321004", 3),
                mef("2472310233", "40023102", 3),
            ],
            inputs: vec![
                input(BcnTable::NGroupeFormation),
                input(BcnTable::NFamilleMetierSpecPro),
            ],
            ..Bcn::default()
        }
    }

    #[test]
    fn families_take_the_groupe_code_and_a_cfd_may_be_in_two() {
        let f = Familles::build(&sample());
        let c = f.columns("40023203");
        assert_eq!(
            (c.code.as_str(), c.codes.as_str(), c.count),
            ("G0003", "G0003|G0010", 2)
        );
        assert_eq!(c.code_spec_pro, "001");
        assert_eq!(f.columns("40020006").code, "G0003");
        // A `_temp` family whose label a groupe has: taken under its code.
        assert_eq!(f.columns("40322105").code, "G0030");
        assert_eq!(f.columns("40322105").code_spec_pro, "");
        assert_eq!(f.liens_mef_temp_taken, 1);
        // No groupe has this label: the family keeps its own code.
        assert_eq!(f.columns("40023102").codes, "020");
        assert_eq!(f.spec_pro_sans_groupe, vec!["020".to_string()]);
        assert_eq!(f.columns("40321004"), FamilleColumns::default());
    }

    #[test]
    fn links_not_taken_are_rejected_with_their_reason() {
        let f = Familles::build(&sample());
        let reasons: Vec<(u64, &str)> = f
            .rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].0 == 5 && reasons[0].1.contains("_temp"));
        assert!(reasons[1].0 == 6 && reasons[1].1.contains("hors famille"));
        assert!(reasons[2].0 == 7 && reasons[2].1.contains("not in N_MEF"));
        assert!(reasons[3].0 == 8 && reasons[3].1.contains("not in N_FAMILLE_METIER_SPEC_PRO"));
        assert_eq!(f.liens_mef_taken, 4);
    }

    #[test]
    fn a_common_first_year_is_all_first_years_or_tagged() {
        let f = Familles::build(&sample());
        assert!(f.is_commune_cfd("40020006"));
        assert!(f.is_commune_mef("40020006", "2472000631", Some(1)));
        assert!(!f.is_commune_cfd("40023203"));
        assert!(!f.is_commune_mef("40023203", "2472320332", Some(2)));
    }
}
