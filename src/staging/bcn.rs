//! Staging of the BCN (Base Centrale des Nomenclatures) tables.
//!
//! Each loader reads one table, found in the BCN folder by its name (see
//! `input::folder`), as CSV export or API JSON, and returns typed rows. Codes
//! that key the referential (CFD, MEF_STAT_11, SISE) are checked here: a bad
//! one stops the stage with its file, line and column. Codes *referenced* by
//! the continuum columns (`ANCIEN_DIPLOME_n`, `NOUVEAU_DIPLOME_n`) are kept as
//! written: the real file holds a few truncated ones, which the continuum
//! stage keeps and flags rather than loses.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::input::{self, folder, DelimitedOptions, RawTable};
use crate::rules::codes::CodeType;
use crate::staging::fields;
use crate::staging::InputFile;

/// The BCN tables the pipeline knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BcnTable {
    NFormationDiplome,
    VFormationDiplome,
    NFormationDiplomeEnquete51,
    NMef,
    NNiveauFormationDiplome,
    NDiplomeSise,
    NTypeDiplomeSise,
    NGroupeFormation,
    NLienFormationGroupe,
    NFamilleMetierSpecPro,
    NLienMefFamilleMetier,
}

impl BcnTable {
    pub fn name(self) -> &'static str {
        match self {
            BcnTable::NFormationDiplome => "N_FORMATION_DIPLOME",
            BcnTable::VFormationDiplome => "V_FORMATION_DIPLOME",
            BcnTable::NFormationDiplomeEnquete51 => "N_FORMATION_DIPLOME_ENQUETE_51",
            BcnTable::NMef => "N_MEF",
            BcnTable::NNiveauFormationDiplome => "N_NIVEAU_FORMATION_DIPLOME",
            BcnTable::NDiplomeSise => "N_DIPLOME_SISE",
            BcnTable::NTypeDiplomeSise => "N_TYPE_DIPLOME_SISE",
            BcnTable::NGroupeFormation => "N_GROUPE_FORMATION",
            BcnTable::NLienFormationGroupe => "N_LIEN_FORMATION_GROUPE",
            BcnTable::NFamilleMetierSpecPro => "N_FAMILLE_METIER_SPEC_PRO",
            BcnTable::NLienMefFamilleMetier => "N_LIEN_MEF_FAMILLE_METIER",
        }
    }
}

/// A row of N_FORMATION_DIPLOME, V_FORMATION_DIPLOME or its ENQUETE_51 variant.
#[derive(Debug, Clone)]
pub struct FormationDiplome {
    pub cfd: String,
    pub niveau_formation_diplome: String,
    pub libelle_court: String,
    pub libelle_stat_33: String,
    pub libelle_long: String,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub date_premiere_session: Option<i32>,
    pub date_derniere_session: Option<i32>,
    /// `ANCIEN_DIPLOME_1..7`, non-empty values, as written.
    pub anciens: Vec<String>,
    /// `NOUVEAU_DIPLOME_1..7`, non-empty values, as written.
    pub nouveaux: Vec<String>,
    pub table: BcnTable,
    pub position: u64,
}

/// A row of N_MEF.
#[derive(Debug, Clone)]
pub struct Mef {
    pub mef: String,
    pub dispositif_formation: String,
    pub cfd: String,
    pub duree_dispositif: Option<u32>,
    pub annee_dispositif: Option<u32>,
    pub libelle_court: String,
    pub libelle_long: String,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub mef_stat_11: String,
    pub mef_stat_9: String,
    pub position: u64,
}

#[derive(Debug, Clone)]
pub struct NiveauFormationDiplome {
    pub niveau_formation_diplome: String,
    pub libelle_court: String,
    pub libelle_long: String,
}

#[derive(Debug, Clone)]
pub struct DiplomeSise {
    pub sise: String,
    pub type_diplome_sise: String,
    pub libelle: String,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub position: u64,
}

#[derive(Debug, Clone)]
pub struct TypeDiplomeSise {
    pub type_diplome_sise: String,
    pub libelle_court: String,
    pub libelle_long: String,
}

#[derive(Debug, Clone)]
pub struct GroupeFormation {
    pub groupe_formation: String,
    pub type_groupe_formation: String,
    pub libelle: String,
}

#[derive(Debug, Clone)]
pub struct LienFormationGroupe {
    pub groupe_formation: String,
    pub cfd: String,
}

/// A row of N_FAMILLE_METIER_SPEC_PRO: a famille de métiers under the older
/// code system (`001`…, `999` = "spécialité hors famille de métiers"), kept
/// as written, `_temp` suffixes included (see `stages::bcn` for what they are).
#[derive(Debug, Clone)]
pub struct FamilleMetierSpecPro {
    pub famille_metier: String,
    /// LIBELLE_EDITION (sentence case) when the export has it, else LIBELLE_LONG.
    pub libelle: String,
    pub position: u64,
}

/// A row of N_LIEN_MEF_FAMILLE_METIER: a MEF (10 characters) in a famille.
#[derive(Debug, Clone)]
pub struct LienMefFamilleMetier {
    pub famille_metier: String,
    pub mef: String,
    /// The `tag` column another project added to its copy ("2NDE PRO
    /// COMMUNE" on a family's common first year); empty when absent.
    pub tag: String,
    pub position: u64,
}

/// Every BCN table found in a folder, staged. Absent optional tables are empty.
#[derive(Debug, Default)]
pub struct Bcn {
    pub dir: PathBuf,
    pub formations_n: Vec<FormationDiplome>,
    pub formations_v: Vec<FormationDiplome>,
    pub formations_enquete_51: Vec<FormationDiplome>,
    pub mefs: Vec<Mef>,
    pub niveaux: Vec<NiveauFormationDiplome>,
    pub diplomes_sise: Vec<DiplomeSise>,
    pub types_diplome_sise: Vec<TypeDiplomeSise>,
    pub groupes: Vec<GroupeFormation>,
    pub liens_groupe: Vec<LienFormationGroupe>,
    pub familles_spec_pro: Vec<FamilleMetierSpecPro>,
    pub liens_mef_famille: Vec<LienMefFamilleMetier>,
    /// The files read, in table order.
    pub inputs: Vec<InputFile>,
}

/// Which tables a stage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcnScope {
    /// The referential: every table present; N_ or V_FORMATION_DIPLOME needed.
    Referentiel,
    /// The continuum: N_FORMATION_DIPLOME (needed: its links), its
    /// ENQUETE_51 variant and N_MEF; the other tables are not even read.
    Continuum,
}

impl BcnScope {
    fn reads(self, table: BcnTable) -> bool {
        self == BcnScope::Referentiel
            || matches!(
                table,
                BcnTable::NFormationDiplome | BcnTable::NFormationDiplomeEnquete51 | BcnTable::NMef
            )
    }
}

/// Loads the BCN tables of `scope` found in `dir`.
pub fn load_bcn(dir: &Path, scope: BcnScope) -> Result<Bcn> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: no such folder; --bcn takes the folder holding the BCN extracts (N_FORMATION_DIPLOME.csv, N_MEF.csv, …)",
            dir.display()
        )));
    }
    let mut bcn = Bcn {
        dir: dir.to_path_buf(),
        ..Bcn::default()
    };
    let mut read = |table: BcnTable| -> Result<Option<RawTable>> {
        if !scope.reads(table) {
            return Ok(None);
        }
        let Some(path) = folder::find_table(dir, table.name())? else {
            return Ok(None);
        };
        let raw = input::read_table(&path, &DelimitedOptions::default())?;
        bcn.inputs.push(InputFile {
            table: table.name().to_string(),
            path: path.clone(),
            format: Some(raw.format.clone()),
            rows: raw.len(),
        });
        Ok(Some(raw))
    };

    let n = read(BcnTable::NFormationDiplome)?;
    let v = read(BcnTable::VFormationDiplome)?;
    let e51 = read(BcnTable::NFormationDiplomeEnquete51)?;
    let mef = read(BcnTable::NMef)?;
    let niveaux = read(BcnTable::NNiveauFormationDiplome)?;
    let sise = read(BcnTable::NDiplomeSise)?;
    let types_sise = read(BcnTable::NTypeDiplomeSise)?;
    let groupes = read(BcnTable::NGroupeFormation)?;
    let liens = read(BcnTable::NLienFormationGroupe)?;
    let familles = read(BcnTable::NFamilleMetierSpecPro)?;
    let liens_mef = read(BcnTable::NLienMefFamilleMetier)?;

    let n_needed = scope == BcnScope::Continuum;
    if n.is_none() && (n_needed || v.is_none()) {
        let which = if n_needed {
            "N_FORMATION_DIPLOME"
        } else {
            "N_FORMATION_DIPLOME or V_FORMATION_DIPLOME"
        };
        return Err(Error::file(
            dir,
            format!(
                "no BCN table {which} in this folder (looked for a .csv or .json file named like N_FORMATION_DIPLOME.csv or nFormationDiplome_.csv)"
            ),
        ));
    }
    if let Some(t) = &n {
        bcn.formations_n = stage_formations(t, BcnTable::NFormationDiplome, true)?;
    }
    if let Some(t) = &v {
        bcn.formations_v = stage_formations(t, BcnTable::VFormationDiplome, false)?;
    }
    if let Some(t) = &e51 {
        bcn.formations_enquete_51 =
            stage_formations(t, BcnTable::NFormationDiplomeEnquete51, true)?;
    }
    if let Some(t) = &mef {
        bcn.mefs = stage_mefs(t)?;
    }
    if let Some(t) = &niveaux {
        bcn.niveaux = stage_niveaux(t)?;
    }
    if let Some(t) = &sise {
        bcn.diplomes_sise = stage_diplomes_sise(t)?;
    }
    if let Some(t) = &types_sise {
        bcn.types_diplome_sise = stage_types_sise(t)?;
    }
    if let Some(t) = &groupes {
        bcn.groupes = stage_groupes(t)?;
    }
    if let Some(t) = &liens {
        bcn.liens_groupe = stage_liens_groupe(t)?;
    }
    if let Some(t) = &familles {
        bcn.familles_spec_pro = stage_familles_spec_pro(t)?;
    }
    if let Some(t) = &liens_mef {
        bcn.liens_mef_famille = stage_liens_mef_famille(t)?;
    }
    Ok(bcn)
}

/// N_ or V_FORMATION_DIPLOME. `with_links`: the table must carry the
/// ANCIEN_/NOUVEAU_DIPLOME columns (N_ does, the V_ view does not).
pub fn stage_formations(
    t: &RawTable,
    table: BcnTable,
    with_links: bool,
) -> Result<Vec<FormationDiplome>> {
    let [cfd, niveau, court, stat33, long, ouverture, fermeture] = t.columns([
        "FORMATION_DIPLOME",
        "NIVEAU_FORMATION_DIPLOME",
        "LIBELLE_COURT",
        "LIBELLE_STAT_33",
        "LIBELLE_LONG_200",
        "DATE_OUVERTURE",
        "DATE_FERMETURE",
    ])?;
    let premiere = t.optional_column("DATE_PREMIERE_SESSION");
    let derniere = t.optional_column("DATE_DERNIERE_SESSION");
    let link_columns = |prefix: &str| -> Result<Vec<_>> {
        (1..=7)
            .map(|i| {
                let name = format!("{prefix}{i}");
                if with_links {
                    t.column(&name).map(Some)
                } else {
                    Ok(t.optional_column(&name))
                }
            })
            .collect::<Result<Vec<_>>>()
            .map(|cols| cols.into_iter().flatten().collect())
    };
    let ancien_cols = link_columns("ANCIEN_DIPLOME_")?;
    let nouveau_cols = link_columns("NOUVEAU_DIPLOME_")?;

    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        let linked = |cols: &[crate::input::Col]| {
            cols.iter()
                .filter_map(|c| row.opt(c))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        out.push(FormationDiplome {
            cfd: fields::code(&row, &cfd, CodeType::Cfd)?,
            niveau_formation_diplome: fields::text(&row, &niveau),
            libelle_court: fields::text(&row, &court),
            libelle_stat_33: fields::text(&row, &stat33),
            libelle_long: fields::text(&row, &long),
            date_ouverture: fields::date(&row, &ouverture)?,
            date_fermeture: fields::date(&row, &fermeture)?,
            date_premiere_session: fields::opt_year(&row, premiere.as_ref())?,
            date_derniere_session: fields::opt_year(&row, derniere.as_ref())?,
            anciens: linked(&ancien_cols),
            nouveaux: linked(&nouveau_cols),
            table,
            position: row.position(),
        });
    }
    Ok(out)
}

pub fn stage_mefs(t: &RawTable) -> Result<Vec<Mef>> {
    let [mef, dispositif, cfd, duree, annee, court, long, ouverture, fermeture, ms11] =
        t.columns([
            "MEF",
            "DISPOSITIF_FORMATION",
            "FORMATION_DIPLOME",
            "DUREE_DISPOSITIF",
            "ANNEE_DISPOSITIF",
            "LIBELLE_COURT",
            "LIBELLE_LONG",
            "DATE_OUVERTURE",
            "DATE_FERMETURE",
            "MEF_STAT_11",
        ])?;
    let ms9 = t.optional_column("MEF_STAT_9");
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        out.push(Mef {
            mef: fields::required_text(&row, &mef, "a MEF code")?,
            dispositif_formation: fields::text(&row, &dispositif),
            cfd: fields::code(&row, &cfd, CodeType::Cfd)?,
            duree_dispositif: fields::opt_small_int(&row, &duree)?,
            annee_dispositif: fields::opt_small_int(&row, &annee)?,
            libelle_court: fields::text(&row, &court),
            libelle_long: fields::text(&row, &long),
            date_ouverture: fields::date(&row, &ouverture)?,
            date_fermeture: fields::date(&row, &fermeture)?,
            mef_stat_11: fields::code(&row, &ms11, CodeType::MefStat11)?,
            mef_stat_9: fields::opt_text(&row, ms9.as_ref()),
            position: row.position(),
        });
    }
    Ok(out)
}

pub fn stage_niveaux(t: &RawTable) -> Result<Vec<NiveauFormationDiplome>> {
    let [code, court] = t.columns(["NIVEAU_FORMATION_DIPLOME", "LIBELLE_COURT"])?;
    let long = t.optional_column("LIBELLE_100");
    Ok(t.rows()
        .map(|row| NiveauFormationDiplome {
            niveau_formation_diplome: fields::text(&row, &code),
            libelle_court: fields::text(&row, &court),
            libelle_long: fields::opt_text(&row, long.as_ref()),
        })
        .collect())
}

pub fn stage_diplomes_sise(t: &RawTable) -> Result<Vec<DiplomeSise>> {
    let [sise, type_sise, intitule_1, ouverture, fermeture] = t.columns([
        "DIPLOME_SISE",
        "TYPE_DIPLOME_SISE",
        "LIBELLE_INTITULE_1",
        "DATE_OUVERTURE",
        "DATE_FERMETURE",
    ])?;
    let intitule_2 = t.optional_column("LIBELLE_INTITULE_2");
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        let mut libelle = fields::text(&row, &intitule_1);
        let second = fields::opt_text(&row, intitule_2.as_ref());
        if !second.is_empty() {
            libelle = format!("{libelle} - {second}");
        }
        out.push(DiplomeSise {
            sise: fields::code(&row, &sise, CodeType::Sise)?,
            type_diplome_sise: fields::text(&row, &type_sise),
            libelle,
            date_ouverture: fields::date(&row, &ouverture)?,
            date_fermeture: fields::date(&row, &fermeture)?,
            position: row.position(),
        });
    }
    Ok(out)
}

pub fn stage_types_sise(t: &RawTable) -> Result<Vec<TypeDiplomeSise>> {
    let [code, court, long] = t.columns(["TYPE_DIPLOME_SISE", "LIBELLE_COURT", "LIBELLE_LONG"])?;
    Ok(t.rows()
        .map(|row| TypeDiplomeSise {
            type_diplome_sise: fields::text(&row, &code),
            libelle_court: fields::text(&row, &court),
            libelle_long: fields::text(&row, &long),
        })
        .collect())
}

pub fn stage_groupes(t: &RawTable) -> Result<Vec<GroupeFormation>> {
    let [code, type_groupe, long] =
        t.columns(["GROUPE_FORMATION", "TYPE_GROUPE_FORMATION", "LIBELLE_LONG"])?;
    // LIBELLE_EDITION is the label in sentence case, when the export has it.
    let edition = t.optional_column("LIBELLE_EDITION");
    Ok(t.rows()
        .map(|row| {
            let libelle = edition
                .as_ref()
                .and_then(|c| row.opt(c))
                .unwrap_or_else(|| row.get(&long));
            GroupeFormation {
                groupe_formation: fields::text(&row, &code),
                type_groupe_formation: fields::text(&row, &type_groupe),
                libelle: libelle.to_string(),
            }
        })
        .collect())
}

pub fn stage_liens_groupe(t: &RawTable) -> Result<Vec<LienFormationGroupe>> {
    let [groupe, cfd] = t.columns(["GROUPE_FORMATION", "FORMATION_DIPLOME"])?;
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        out.push(LienFormationGroupe {
            groupe_formation: fields::required_text(&row, &groupe, "a GROUPE_FORMATION code")?,
            cfd: fields::code(&row, &cfd, CodeType::Cfd)?,
        });
    }
    Ok(out)
}

pub fn stage_familles_spec_pro(t: &RawTable) -> Result<Vec<FamilleMetierSpecPro>> {
    let [code, long] = t.columns(["FAMILLE_METIER", "LIBELLE_LONG"])?;
    let edition = t.optional_column("LIBELLE_EDITION");
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        let libelle = edition
            .as_ref()
            .and_then(|c| row.opt(c))
            .unwrap_or_else(|| row.get(&long));
        out.push(FamilleMetierSpecPro {
            famille_metier: fields::required_text(&row, &code, "a FAMILLE_METIER code")?,
            libelle: libelle.to_string(),
            position: row.position(),
        });
    }
    Ok(out)
}

pub fn stage_liens_mef_famille(t: &RawTable) -> Result<Vec<LienMefFamilleMetier>> {
    let [famille, mef] = t.columns(["FAMILLE_METIER", "MEF"])?;
    // Not a BCN column: another project's addition (SOURCES.md).
    let tag = t.optional_column("tag");
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        out.push(LienMefFamilleMetier {
            famille_metier: fields::required_text(&row, &famille, "a FAMILLE_METIER code")?,
            mef: fields::required_text(&row, &mef, "a MEF code")?,
            tag: fields::opt_text(&row, tag.as_ref()),
            position: row.position(),
        });
    }
    Ok(out)
}
