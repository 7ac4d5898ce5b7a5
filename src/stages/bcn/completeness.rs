//! Which BCN tables a folder holds, and what each missing one costs (issue 9).
//!
//! A BCN folder without N_MEF, or with a header-only one, used to run to the
//! end with exit 0 while Affelnet coverage fell from 89.6 % to 0.2 %: nothing
//! said why. After `bcn`, every table the pipeline knows is listed as found
//! (with its rows) or missing — `absent` (no file) or `header_only` (a file
//! without a single row) — with what its absence disables, in the stage's
//! report and in `bcn_summary.json`.

use crate::staging::bcn::{Bcn, BcnTable};

/// A table the folder holds, with its data rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FoundTable {
    pub table: String,
    pub file: String,
    pub rows: usize,
}

/// A table the folder lacks, and what that costs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingTable {
    pub table: String,
    /// `absent` (no file) or `header_only` (a file with no data row).
    pub state: &'static str,
    pub disables: String,
}

impl MissingTable {
    /// "N_MEF absent: MEF_STAT_11 codes cannot be resolved; …".
    pub fn warning(&self) -> String {
        let state = match self.state {
            "header_only" => "has a header and no row",
            _ => "absent",
        };
        format!("{} {state}: {}", self.table, self.disables)
    }
}

/// The tables found and missing in a staged BCN folder, in table order.
pub fn check_tables(bcn: &Bcn) -> (Vec<FoundTable>, Vec<MissingTable>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for table in BcnTable::ALL {
        let input = bcn.inputs.iter().find(|i| i.table == table.name());
        match input {
            Some(i) if i.rows > 0 => found.push(FoundTable {
                table: table.name().to_string(),
                file: i
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                rows: i.rows,
            }),
            _ => missing.push(MissingTable {
                table: table.name().to_string(),
                state: if input.is_some() {
                    "header_only"
                } else {
                    "absent"
                },
                disables: cost(table, bcn),
            }),
        }
    }
    (found, missing)
}

/// What the referential, the indicators and coverage lose without `table`,
/// given the other tables present.
pub fn cost(table: BcnTable, bcn: &Bcn) -> String {
    let has = |t: BcnTable| bcn.inputs.iter().any(|i| i.table == t.name() && i.rows > 0);
    let familles_by_cfd = has(BcnTable::NGroupeFormation) && has(BcnTable::NLienFormationGroupe);
    let familles_by_mef =
        has(BcnTable::NFamilleMetierSpecPro) && has(BcnTable::NLienMefFamilleMetier);
    let famille_cost = |pair: &str, other: bool| {
        if other {
            format!("familles de métiers are read from {pair} only, which may miss families")
        } else {
            "no famille de métiers: common first years (2nde professionnelle commune) get no family row, and their offers lose the famille_metiers step (they become no_data)".to_string()
        }
    };
    match table {
        BcnTable::NFormationDiplome => "no continuum: revised CFDs keep no history (ANCIEN_/NOUVEAU_DIPLOME links are in this table), and CFDs come from V_FORMATION_DIPLOME alone".into(),
        BcnTable::VFormationDiplome => "apprenticeship-only diplomas (titres, licences professionnelles…) are absent from the referential: their indicators have no label and their offers will be unknown_code".into(),
        BcnTable::NFormationDiplomeEnquete51 => "only the codes this variant adds to N_FORMATION_DIPLOME are missing (usually none that matters)".into(),
        BcnTable::NMef => "MEF_STAT_11 codes cannot be resolved; voie scolaire offers will be unknown_code, MEF-keyed catalogues (Parcoursup, Affelnet 2020) cannot reach their CFD, and first years have no terminal year".into(),
        BcnTable::NNiveauFormationDiplome => "type_diplome and libelle_niveau_formation_diplome stay empty in the referential".into(),
        BcnTable::NDiplomeSise => "no SISE code in the referential: InserSup indicators have no label or diploma type from the BCN".into(),
        BcnTable::NTypeDiplomeSise => "SISE codes have no diploma type label".into(),
        BcnTable::NGroupeFormation | BcnTable::NLienFormationGroupe => famille_cost(
            "N_FAMILLE_METIER_SPEC_PRO and N_LIEN_MEF_FAMILLE_METIER (by MEF)",
            familles_by_mef,
        ),
        BcnTable::NFamilleMetierSpecPro | BcnTable::NLienMefFamilleMetier => famille_cost(
            "N_GROUPE_FORMATION and N_LIEN_FORMATION_GROUPE (by CFD)",
            familles_by_cfd,
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::staging::InputFile;

    fn bcn(tables: &[(BcnTable, usize)]) -> Bcn {
        Bcn {
            inputs: tables
                .iter()
                .map(|(t, rows)| InputFile {
                    table: t.name().to_string(),
                    path: PathBuf::from(format!("bcn/{}.csv", t.name())),
                    format: None,
                    rows: *rows,
                })
                .collect(),
            ..Bcn::default()
        }
    }

    #[test]
    fn an_absent_or_header_only_table_is_missing_with_its_cost() {
        let b = bcn(&[
            (BcnTable::NFormationDiplome, 10),
            (BcnTable::NMef, 0),
            (BcnTable::NGroupeFormation, 3),
            (BcnTable::NLienFormationGroupe, 4),
        ]);
        let (found, missing) = check_tables(&b);
        assert_eq!(
            found.iter().map(|f| f.table.as_str()).collect::<Vec<_>>(),
            [
                "N_FORMATION_DIPLOME",
                "N_GROUPE_FORMATION",
                "N_LIEN_FORMATION_GROUPE"
            ]
        );
        let mef = missing.iter().find(|m| m.table == "N_MEF").unwrap();
        assert_eq!(mef.state, "header_only");
        assert!(mef
            .warning()
            .starts_with("N_MEF has a header and no row: MEF_STAT_11 codes cannot be resolved; voie scolaire offers will be unknown_code"));
        let v = missing
            .iter()
            .find(|m| m.table == "V_FORMATION_DIPLOME")
            .unwrap();
        assert_eq!(v.state, "absent");
        // The CFD pair gives families: the MEF pair's absence costs less.
        let spec_pro = missing
            .iter()
            .find(|m| m.table == "N_FAMILLE_METIER_SPEC_PRO")
            .unwrap();
        assert!(spec_pro.disables.contains("read from N_GROUPE_FORMATION"));
        assert_eq!(found.len() + missing.len(), BcnTable::ALL.len());
    }

    #[test]
    fn without_any_family_table_families_are_lost() {
        let (_, missing) = check_tables(&bcn(&[(BcnTable::NFormationDiplome, 1)]));
        let groupe = missing
            .iter()
            .find(|m| m.table == "N_GROUPE_FORMATION")
            .unwrap();
        assert!(groupe.disables.starts_with("no famille de métiers"));
    }
}
