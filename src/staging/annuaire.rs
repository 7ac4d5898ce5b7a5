//! Staging of establishment directories (issue 9): the annuaire de
//! l'éducation (data.education.gouv.fr `fr-en-annuaire-education`) and ACCE
//! exports, read onto one model of an establishment: its UAI, name, nature,
//! académie, région, département and whether it is closed.
//!
//! Layouts, told by their header (columns matched without case):
//! - annuaire 2023 (70 columns): `Identifiant_de_l_etablissement;
//!   Nom_etablissement;…;Code_departement;Code_academie;Code_region;…;
//!   coordonnee_X;coordonnee_Y;epsg;…;etat;…;etablissement_multi_lignes;…;
//!   code_nature;libelle_nature;…;code_bassin_formation;libelle_bassin_formation`
//!   (`../shared/data/real/referentiels/annuaire_partial_35`);
//! - annuaire 2026 (73 columns): the same fields, `coordX_origine`,
//!   `coordY_origine`, `epsg_origine` and `multi_uai` for the four renamed
//!   ones, and `code_circonscription`, `code_zone_animation_pedagogique`,
//!   `libelle_zone_animation_pedagogique` added before the bassin. Exports
//!   with field ids (`identifiant_de_l_etablissement`…) read the same.
//!   `etat` is `OUVERT`, `A FERMER` (still open) or `FERME`.
//! - ACCE (63 columns, Windows-1252): `numero_uai;nature_uai;nature_uai_libe;
//!   …;etat_etablissement;etat_etablissement_libe;…;academie;…;
//!   departement_insee_3;…;appellation_officielle;…;date_fermeture;…`;
//!   `etat_etablissement` 1 ouvert, 2 à fermer, 3 fermé; the académie may be
//!   written as a float (`10.0`, in the tjp-pilotage `lyceesACCE.csv`). ACCE
//!   has no région column: it comes from the académie.
//!
//! A row whose UAI is not 7 digits and its check letter is skipped and
//! counted; a UAI in several rows or files keeps its first row.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::{self, Col, DelimitedOptions, RawTable};
use crate::rules::codes::is_valid_uai;
use crate::staging::reference::Reference;
use crate::staging::InputFile;

/// The directory layouts `load_annuaire` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnuaireLayout {
    Annuaire2023,
    Annuaire2026,
    Acce,
}

impl AnnuaireLayout {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnuaireLayout::Annuaire2023 => "annuaire de l'éducation (2023, 70 colonnes)",
            AnnuaireLayout::Annuaire2026 => "annuaire de l'éducation (2026, 73 colonnes)",
            AnnuaireLayout::Acce => "ACCE",
        }
    }

    /// The layout of a header, or `None`.
    pub fn detect(t: &RawTable) -> Option<Self> {
        if t.optional_column("numero_uai").is_some() {
            Some(AnnuaireLayout::Acce)
        } else if t
            .optional_column("Identifiant_de_l_etablissement")
            .is_some()
        {
            let newer = t.optional_column("multi_uai").is_some()
                || t.optional_column("code_zone_animation_pedagogique")
                    .is_some();
            Some(if newer {
                AnnuaireLayout::Annuaire2026
            } else {
                AnnuaireLayout::Annuaire2023
            })
        } else {
            None
        }
    }
}

/// One establishment of the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Etablissement {
    pub uai: String,
    pub libelle: String,
    pub nature_code: String,
    pub nature_libelle: String,
    pub academie_code: String,
    pub region_code: String,
    pub departement_code: String,
    /// Whether the directory says it is closed.
    pub ferme: bool,
}

/// Establishments by UAI, and what was read.
#[derive(Debug, Default)]
pub struct Annuaire {
    pub by_uai: HashMap<String, Etablissement>,
    pub inputs: Vec<InputFile>,
    pub layouts: Vec<AnnuaireLayout>,
    pub rows_invalid_uai: usize,
    pub rows_duplicate: usize,
}

impl Annuaire {
    pub fn get(&self, uai: &str) -> Option<&Etablissement> {
        self.by_uai.get(uai)
    }

    pub fn is_closed(&self, uai: &str) -> bool {
        self.get(uai).is_some_and(|e| e.ferme)
    }

    pub fn closed_uais(&self) -> std::collections::HashSet<String> {
        self.by_uai
            .values()
            .filter(|e| e.ferme)
            .map(|e| e.uai.clone())
            .collect()
    }
}

/// Reads the directory files, in order.
pub fn load_annuaire(paths: &[PathBuf], reference: &Reference) -> Result<Annuaire> {
    let mut annuaire = Annuaire::default();
    for path in paths {
        let t = input::read_table(path, &DelimitedOptions::default())?;
        stage_annuaire(&t, path, reference, &mut annuaire)?;
    }
    Ok(annuaire)
}

/// One directory file into `annuaire`: each valid UAI once (the first file
/// and row that give it), its académie, région and département completed
/// from the reference when the file leaves them empty.
fn stage_annuaire(
    t: &RawTable,
    path: &Path,
    reference: &Reference,
    annuaire: &mut Annuaire,
) -> Result<()> {
    let layout = AnnuaireLayout::detect(t).ok_or_else(|| {
        Error::file(
            path,
            format!(
                "not an establishment directory: expected the annuaire de l'éducation (Identifiant_de_l_etablissement, Nom_etablissement, …) or an ACCE export (numero_uai, …); columns found: {}",
                t.headers.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let columns = AnnuaireColumns::find(t, layout)?;
    for row in t.rows() {
        let code = row.get(&columns.uai).to_uppercase();
        if !is_valid_uai(&code) {
            annuaire.rows_invalid_uai += 1;
            continue;
        }
        if annuaire.by_uai.contains_key(&code) {
            annuaire.rows_duplicate += 1;
            continue;
        }
        let get = |c: &Option<Col>| c.as_ref().map_or("", |c| row.get(c)).to_string();
        let territoire = reference.territoire_of_uai(&code).unwrap_or_default();
        let academie_code =
            academie_code(get(&columns.academie)).unwrap_or(territoire.academie_code);
        let mut region_code = get(&columns.region);
        if region_code.is_empty() {
            region_code = reference
                .academie(&academie_code)
                .map(|a| a.region_code.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or(territoire.region_code);
        }
        let mut departement_code = get(&columns.departement);
        if departement_code.is_empty() {
            departement_code = code[..3].to_string();
        }
        let ferme = is_ferme(layout, &get(&columns.etat));
        annuaire.by_uai.insert(
            code.clone(),
            Etablissement {
                uai: code,
                libelle: get(&columns.libelle),
                nature_code: get(&columns.nature_code),
                nature_libelle: get(&columns.nature_libelle),
                academie_code,
                region_code,
                departement_code,
                ferme,
            },
        );
    }
    annuaire.layouts.push(layout);
    annuaire.inputs.push(InputFile {
        table: format!("annuaire {}", layout.as_str()),
        path: path.to_path_buf(),
        format: Some(t.format.clone()),
        rows: t.len(),
    });
    Ok(())
}

/// The columns read, under the layout's names: the UAI is required, the
/// others may be absent (then empty, or completed from the reference).
struct AnnuaireColumns {
    uai: Col,
    libelle: Option<Col>,
    nature_code: Option<Col>,
    nature_libelle: Option<Col>,
    academie: Option<Col>,
    region: Option<Col>,
    departement: Option<Col>,
    etat: Option<Col>,
}

impl AnnuaireColumns {
    fn find(t: &RawTable, layout: AnnuaireLayout) -> Result<AnnuaireColumns> {
        let acce = layout == AnnuaireLayout::Acce;
        let pick = |annuaire: &'static str, acce_name: &'static str| {
            if acce {
                acce_name
            } else {
                annuaire
            }
        };
        Ok(AnnuaireColumns {
            uai: t.column(pick("Identifiant_de_l_etablissement", "numero_uai"))?,
            libelle: if acce {
                t.any_column(&[
                    "appellation_officielle",
                    "denomination_principale",
                    "patronyme_uai",
                ])
            } else {
                t.optional_column("Nom_etablissement")
            },
            nature_code: t.optional_column(pick("code_nature", "nature_uai")),
            nature_libelle: t.optional_column(pick("libelle_nature", "nature_uai_libe")),
            academie: t.optional_column(pick("Code_academie", "academie")),
            region: t.optional_column("Code_region"),
            departement: t.optional_column(pick("Code_departement", "departement_insee_3")),
            etat: t.optional_column(pick("etat", "etat_etablissement")),
        })
    }
}

/// An académie code as the files write it, on two digits: `10.0` in some
/// ACCE exports, `6` for `06`. `None` when empty.
fn academie_code(mut code: String) -> Option<String> {
    if let Some(int) = code.strip_suffix(".0") {
        code = int.to_string();
    }
    if code.len() == 1 {
        code = format!("0{code}");
    }
    (!code.is_empty()).then_some(code)
}

/// Whether the directory says the establishment is closed: ACCE's
/// `etat_etablissement` 3, the annuaire's `etat` "fermé" (any case, with or
/// without accents).
fn is_ferme(layout: AnnuaireLayout, etat: &str) -> bool {
    let etat = etat.to_uppercase();
    if layout == AnnuaireLayout::Acce {
        etat == "3"
    } else {
        matches!(etat.as_str(), "FERME" | "FERMÉ" | "FERMEE" | "FERMÉE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &[u8]) -> Annuaire {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load_annuaire(&[path], &Reference::embedded()).unwrap()
    }

    #[test]
    fn tells_the_layouts_apart_and_reads_their_state() {
        let a = load(
            "a.csv",
            b"Identifiant_de_l_etablissement;Nom_etablissement;etat;etablissement_multi_lignes;libelle_nature\n0690046A;LP des Canuts;A FERMER;0;LYCEE PROFESSIONNEL\n",
        );
        assert_eq!(a.layouts, [AnnuaireLayout::Annuaire2023]);
        let e = a.get("0690046A").unwrap();
        assert_eq!(
            (e.ferme, e.academie_code.as_str(), e.region_code.as_str()),
            (false, "10", "84")
        );
        let a = load(
            "b.csv",
            b"identifiant_de_l_etablissement;nom_etablissement;etat;multi_uai\n0690046A;LP;FERME;0\n",
        );
        assert_eq!(a.layouts, [AnnuaireLayout::Annuaire2026]);
        assert!(a.is_closed("0690046A"));
        // ACCE: académie as a float, état 3 = fermé, région from the académie.
        let a = load(
            "c.csv",
            b"numero_uai;etat_etablissement;academie;appellation_officielle\n0140013N;3;5.0;LP Jules Verne\n0140013X;1;5;bad check letter\n",
        );
        assert_eq!(a.layouts, [AnnuaireLayout::Acce]);
        let e = a.get("0140013N").unwrap();
        assert_eq!(
            (e.ferme, e.academie_code.as_str(), e.region_code.as_str()),
            (true, "05", "28")
        );
        assert_eq!(a.rows_invalid_uai, 1);
    }

    #[test]
    fn another_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "uai;code\n0690046A;x\n").unwrap();
        let e = load_annuaire(&[path], &Reference::embedded()).unwrap_err();
        assert!(
            e.to_string().contains("not an establishment directory"),
            "{e}"
        );
    }
}
