//! Staging of the BCN (Base Centrale des Nomenclatures) tables.
//!
//! Each loader reads one table, found in the BCN folder by its name (see
//! `input::folder`), as CSV export or API JSON, and returns typed rows. Codes
//! that key the referential (CFD, MEF_STAT_11, SISE) are checked here: a row
//! whose key (or any other value) is malformed is set aside as a
//! [`RowReject`] with its line and reason, and the stage goes on (issue 9: a
//! 2020 V_FORMATION_DIPLOME holds `36C250N`, a key the BCN itself labels a
//! coding error). Only a table unusable as a whole stops the stage: a
//! required column missing, or more than half of its rows rejected. Codes
//! *referenced* by the continuum columns (`ANCIEN_DIPLOME_n`,
//! `NOUVEAU_DIPLOME_n`) are kept as written: the real file holds a few
//! truncated ones, which the continuum stage keeps and flags rather than loses.
//!
//! Layouts accepted (issue 9): the current exports, dated file names
//! (`n_mef_15072020.csv`, see `input::folder`), headers that join a label to
//! the column name (`FORMATION_DIPLOME - Code formation diplôme`,
//! `Libellé court (LIBELLE_COURT)`: see [`bcn_header_name`]), the older
//! column names (`LIBELLE_LONG` for `LIBELLE_LONG_200`), and
//! N_FORMATION_DIPLOME_ENQUETE_51 with or without its link columns.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::Location;
use crate::error::{Error, Result};
use crate::input::{self, folder, Col, DelimitedOptions, RawTable, Row};
use crate::rules::codes::{Code, CodeType};
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
    /// Every table, in the order they are read and reported.
    pub const ALL: [BcnTable; 11] = [
        BcnTable::NFormationDiplome,
        BcnTable::VFormationDiplome,
        BcnTable::NFormationDiplomeEnquete51,
        BcnTable::NMef,
        BcnTable::NNiveauFormationDiplome,
        BcnTable::NDiplomeSise,
        BcnTable::NTypeDiplomeSise,
        BcnTable::NGroupeFormation,
        BcnTable::NLienFormationGroupe,
        BcnTable::NFamilleMetierSpecPro,
        BcnTable::NLienMefFamilleMetier,
    ];

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
    pub cfd: Code,
    pub niveau_formation_diplome: Code,
    pub libelle_court: Code,
    pub libelle_stat_33: Code,
    pub libelle_long: Code,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub date_premiere_session: Option<i32>,
    pub date_derniere_session: Option<i32>,
    /// `ANCIEN_DIPLOME_1..7`, non-empty values, as written.
    pub anciens: Vec<Code>,
    /// `NOUVEAU_DIPLOME_1..7`, non-empty values, as written.
    pub nouveaux: Vec<Code>,
    pub table: BcnTable,
    pub position: u64,
}

/// A row of N_MEF.
#[derive(Debug, Clone)]
pub struct Mef {
    pub mef: Code,
    pub dispositif_formation: Code,
    pub cfd: Code,
    pub duree_dispositif: Option<u32>,
    pub annee_dispositif: Option<u32>,
    pub libelle_court: Code,
    pub libelle_long: Code,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub mef_stat_11: Code,
    pub mef_stat_9: Code,
    pub position: u64,
}

#[derive(Debug, Clone)]
pub struct NiveauFormationDiplome {
    pub niveau_formation_diplome: Code,
    pub libelle_court: Code,
    pub libelle_long: Code,
}

#[derive(Debug, Clone)]
pub struct DiplomeSise {
    pub sise: Code,
    pub type_diplome_sise: Code,
    pub libelle: Code,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub position: u64,
}

#[derive(Debug, Clone)]
pub struct TypeDiplomeSise {
    pub type_diplome_sise: Code,
    pub libelle_court: Code,
    pub libelle_long: Code,
}

#[derive(Debug, Clone)]
pub struct GroupeFormation {
    pub groupe_formation: Code,
    pub type_groupe_formation: Code,
    pub libelle: Code,
}

#[derive(Debug, Clone)]
pub struct LienFormationGroupe {
    pub groupe_formation: Code,
    pub cfd: Code,
}

/// A row of N_FAMILLE_METIER_SPEC_PRO: a famille de métiers under the older
/// code system (`001`…, `999` = "spécialité hors famille de métiers"), kept
/// as written, `_temp` suffixes included (see `stages::bcn` for what they are).
#[derive(Debug, Clone)]
pub struct FamilleMetierSpecPro {
    pub famille_metier: Code,
    /// LIBELLE_EDITION (sentence case) when the export has it, else LIBELLE_LONG.
    pub libelle: Code,
    pub position: u64,
}

/// A row of N_LIEN_MEF_FAMILLE_METIER: a MEF (10 characters) in a famille.
#[derive(Debug, Clone)]
pub struct LienMefFamilleMetier {
    pub famille_metier: Code,
    pub mef: Code,
    /// The `tag` column another project added to its copy ("2NDE PRO
    /// COMMUNE" on a family's common first year); empty when absent.
    pub tag: Code,
    pub position: u64,
}

/// A row set aside while staging: its table, line, key as written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReject {
    pub table: BcnTable,
    pub line: u64,
    pub code: String,
    pub reason: String,
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
    /// Rows set aside while staging, in table then line order.
    pub rejects: Vec<RowReject>,
}

impl Bcn {
    /// Whether the folder held a file for `table` (even a header-only one).
    pub fn has(&self, table: BcnTable) -> bool {
        self.inputs.iter().any(|i| i.table == table.name())
    }

    /// Rows of `table` set aside while staging.
    pub fn rejected(&self, table: BcnTable) -> usize {
        self.rejects.iter().filter(|r| r.table == table).count()
    }
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
    pub fn reads(self, table: BcnTable) -> bool {
        self == BcnScope::Referentiel
            || matches!(
                table,
                BcnTable::NFormationDiplome | BcnTable::NFormationDiplomeEnquete51 | BcnTable::NMef
            )
    }
}

/// The column name in a header that joins a label to it, as some BCN
/// exports write them: `FORMATION_DIPLOME - Code formation diplôme`,
/// `Code formation diplôme (FORMATION_DIPLOME)`, `N_MEF.MEF_STAT_11`. The
/// name is the header's upper-case word (letters, digits, `_`) with an
/// underscore, else its first upper-case word of two characters or more
/// (`MEF - Module élémentaire`); a plain header is kept as it is.
pub fn bcn_header_name(header: &str) -> String {
    let trimmed = header.trim();
    let is_word = |w: &str| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_word(trimmed) {
        return trimmed.to_string();
    }
    let words: Vec<&str> = trimmed
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.len() >= 2
                && w.chars().any(|c| c.is_ascii_uppercase())
                && !w.chars().any(|c| c.is_ascii_lowercase())
        })
        .collect();
    // `N_MEF.MEF_STAT_11`: the last dotted part is the column.
    let with_underscore: Vec<&&str> = words.iter().filter(|w| w.contains('_')).collect();
    match (with_underscore.last(), words.first()) {
        (Some(w), _) if trimmed.contains('.') => w.to_string(),
        (_, _) if !with_underscore.is_empty() => with_underscore[0].to_string(),
        (_, Some(w)) => w.to_string(),
        _ => trimmed.to_string(),
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
    let tables = RawTables::read(dir, scope, &mut bcn)?;
    crate::memory::trace("bcn: raw tables read");
    tables.check_found(dir, scope)?;
    tables.stage(&mut bcn)?;
    Ok(bcn)
}

/// The BCN tables found in a folder, as read (each may be absent).
struct RawTables {
    n: Option<RawTable>,
    v: Option<RawTable>,
    e51: Option<RawTable>,
    mef: Option<RawTable>,
    niveaux: Option<RawTable>,
    sise: Option<RawTable>,
    types_sise: Option<RawTable>,
    groupes: Option<RawTable>,
    liens: Option<RawTable>,
    familles: Option<RawTable>,
    liens_mef: Option<RawTable>,
}

impl RawTables {
    /// Reads the tables `scope` needs, each under any of its names, with
    /// the headers normalised; each file read is listed in `bcn.inputs`, in
    /// the tables' order. The files are read on every thread (issue 13: at
    /// a hundred times today's exports, N_MEF and N_FORMATION_DIPLOME, read
    /// one after the other, were three seconds on one core); the first
    /// error in the tables' order is the one reported.
    fn read(dir: &Path, scope: BcnScope, bcn: &mut Bcn) -> Result<RawTables> {
        use rayon::prelude::*;
        let read = |table: BcnTable| -> Result<Option<(RawTable, InputFile)>> {
            if !scope.reads(table) {
                return Ok(None);
            }
            let Some(path) = folder::find_table(dir, table.name())? else {
                return Ok(None);
            };
            let mut raw = input::read_table(&path, &DelimitedOptions::default())?;
            raw.rename_headers(bcn_header_name);
            let file = InputFile {
                table: table.name().to_string(),
                format: Some(raw.format.clone()),
                rows: raw.len(),
                path,
            };
            Ok(Some((raw, file)))
        };
        let read: Vec<Result<Option<(RawTable, InputFile)>>> =
            BcnTable::ALL.par_iter().map(|&table| read(table)).collect();
        let mut tables = Vec::with_capacity(read.len());
        for found in read {
            tables.push(found?.map(|(raw, file)| {
                bcn.inputs.push(file);
                raw
            }));
        }
        // In the order of `BcnTable::ALL`.
        let Ok([n, v, e51, mef, niveaux, sise, types_sise, groupes, liens, familles, liens_mef]) =
            <[Option<RawTable>; 11]>::try_from(tables)
        else {
            unreachable!("a slot per table of `BcnTable::ALL`");
        };
        Ok(RawTables {
            n,
            v,
            e51,
            mef,
            niveaux,
            sise,
            types_sise,
            groupes,
            liens,
            familles,
            liens_mef,
        })
    }

    /// The one table the scope cannot do without is there. The continuum
    /// needs a table carrying the links: N_FORMATION_DIPLOME, or an
    /// ENQUETE_51 export that has them.
    fn check_found(&self, dir: &Path, scope: BcnScope) -> Result<()> {
        let e51_links = self
            .e51
            .as_ref()
            .is_some_and(|t| t.optional_column("ANCIEN_DIPLOME_1").is_some());
        let missing = match scope {
            BcnScope::Continuum => self.n.is_none() && !e51_links,
            BcnScope::Referentiel => self.n.is_none() && self.v.is_none() && self.e51.is_none(),
        };
        if !missing {
            return Ok(());
        }
        let which = match scope {
            BcnScope::Continuum => "N_FORMATION_DIPLOME (the table whose ANCIEN_DIPLOME_n / NOUVEAU_DIPLOME_n columns link revised trainings)",
            BcnScope::Referentiel => "N_FORMATION_DIPLOME, V_FORMATION_DIPLOME or N_FORMATION_DIPLOME_ENQUETE_51",
        };
        Err(Error::file(
            dir,
            format!(
                "no BCN table {which} in this folder (looked for a .csv or .json file named like N_FORMATION_DIPLOME.csv, nFormationDiplome_.csv or n_formation_diplome_15072020.csv)"
            ),
        ))
    }

    /// Stages every table read into `bcn`, its rejected rows sorted by
    /// table and line. The formation tables and the others (N_MEF the
    /// largest) are staged on two threads; an error is the first in the
    /// tables' order, as if they were staged one after the other.
    fn stage(&self, bcn: &mut Bcn) -> Result<()> {
        type Formations = Option<Staged<FormationDiplome>>;
        let stage_all =
            |t: &Option<RawTable>, table: BcnTable, links: bool| -> Result<Formations> {
                t.as_ref()
                    .map(|t| stage_formations(t, table, links))
                    .transpose()
            };
        let (formations, mefs) = rayon::join(
            || -> Result<[Formations; 3]> {
                Ok([
                    stage_all(&self.n, BcnTable::NFormationDiplome, true)?,
                    stage_all(&self.v, BcnTable::VFormationDiplome, false)?,
                    // Some ENQUETE_51 exports carry no links (a 2024 one):
                    // read them if present.
                    stage_all(&self.e51, BcnTable::NFormationDiplomeEnquete51, false)?,
                ])
            },
            || self.mef.as_ref().map(stage_mefs).transpose(),
        );
        let [n, v, e51] = formations?;
        let mefs = mefs?;
        let mut rejects = Vec::new();
        if let Some(staged) = n {
            bcn.formations_n = keep(&mut rejects, staged);
        }
        if let Some(staged) = v {
            bcn.formations_v = keep(&mut rejects, staged);
        }
        if let Some(staged) = e51 {
            bcn.formations_enquete_51 = keep(&mut rejects, staged);
        }
        if let Some(staged) = mefs {
            bcn.mefs = keep(&mut rejects, staged);
        }
        if let Some(t) = &self.niveaux {
            bcn.niveaux = stage_niveaux(t)?;
        }
        if let Some(t) = &self.sise {
            bcn.diplomes_sise = keep(&mut rejects, stage_diplomes_sise(t)?);
        }
        if let Some(t) = &self.types_sise {
            bcn.types_diplome_sise = stage_types_sise(t)?;
        }
        if let Some(t) = &self.groupes {
            bcn.groupes = stage_groupes(t)?;
        }
        if let Some(t) = &self.liens {
            bcn.liens_groupe = keep(&mut rejects, stage_liens_groupe(t)?);
        }
        if let Some(t) = &self.familles {
            bcn.familles_spec_pro = keep(&mut rejects, stage_familles_spec_pro(t)?);
        }
        if let Some(t) = &self.liens_mef {
            bcn.liens_mef_famille = keep(&mut rejects, stage_liens_mef_famille(t)?);
        }
        rejects.sort_by_key(|r| (r.table, r.line));
        bcn.rejects = rejects;
        Ok(())
    }
}

/// A staged table's rows; its rejects join the others.
fn keep<T>(rejects: &mut Vec<RowReject>, staged: Staged<T>) -> Vec<T> {
    rejects.extend(staged.rejects);
    staged.rows
}

/// The rows a loader staged and those it set aside.
#[derive(Debug)]
pub struct Staged<T> {
    pub rows: Vec<T>,
    pub rejects: Vec<RowReject>,
}

/// Stages every row of `t` with `stage_row`; a row it fails on becomes a
/// reject (its `key` column's value and the error's message). The table is
/// unusable as a whole, and an error, when more than half its rows fail.
fn stage_rows<'t, T>(
    t: &'t RawTable,
    table: BcnTable,
    key: &Col,
    mut stage_row: impl FnMut(&Row<'t>) -> Result<T>,
) -> Result<Staged<T>> {
    let mut staged = Staged {
        rows: Vec::with_capacity(t.len()),
        rejects: Vec::new(),
    };
    for row in t.rows() {
        match stage_row(&row) {
            Ok(value) => staged.rows.push(value),
            Err(e) => staged.rejects.push(RowReject {
                table,
                line: row.position(),
                code: row.get(key).to_string(),
                reason: reject_reason(&e),
            }),
        }
    }
    if !staged.rejects.is_empty() && staged.rejects.len() * 2 > t.len() {
        let first = &staged.rejects[0];
        return Err(Error::file(
            &t.path,
            format!(
                "{} of {} rows rejected (first, line {}: {}): the table is unusable as a whole; check that this is a {} export",
                staged.rejects.len(),
                t.len(),
                first.line,
                first.reason,
                table.name()
            ),
        ));
    }
    Ok(staged)
}

/// The reason a row is rejected: the column and what was wrong with it
/// (the file and line are the reject's own columns).
fn reject_reason(e: &Error) -> String {
    match e {
        Error::Data {
            location:
                Location::Line {
                    column: Some((_, name)),
                    ..
                },
            message,
            ..
        } => format!("{name}: {message}"),
        Error::Data {
            location: Location::Record {
                field: Some(name), ..
            },
            message,
            ..
        } => format!("{name}: {message}"),
        Error::Data { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// N_ or V_FORMATION_DIPLOME. `with_links`: the table must carry the
/// ANCIEN_/NOUVEAU_DIPLOME columns (N_ does, the V_ view does not).
pub fn stage_formations(
    t: &RawTable,
    table: BcnTable,
    with_links: bool,
) -> Result<Staged<FormationDiplome>> {
    let cfd = t.column("FORMATION_DIPLOME")?;
    // Older exports and the API name a few columns differently, or lack them.
    let niveau = t.optional_column("NIVEAU_FORMATION_DIPLOME");
    let court = t.optional_column("LIBELLE_COURT");
    let stat33 = t.optional_column("LIBELLE_STAT_33");
    let long = t.any_column(&["LIBELLE_LONG_200", "LIBELLE_LONG", "LIBELLE_EDITION"]);
    let ouverture = t.optional_column("DATE_OUVERTURE");
    let fermeture = t.optional_column("DATE_FERMETURE");
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

    stage_rows(t, table, &cfd, |row| {
        let linked = |cols: &[crate::input::Col]| {
            cols.iter()
                .filter_map(|c| row.opt(c))
                .map(Code::from)
                .collect::<Vec<_>>()
        };
        let code = fields::code(row, &cfd, CodeType::Cfd)?;
        Ok(FormationDiplome {
            // The NIVEAU_FORMATION_DIPLOME is the CFD's first 3 characters.
            niveau_formation_diplome: match &niveau {
                Some(c) => fields::text(row, c),
                None => Code::from(&code[..3]),
            },
            cfd: code,
            libelle_court: fields::opt_text(row, court.as_ref()),
            libelle_stat_33: fields::opt_text(row, stat33.as_ref()),
            libelle_long: fields::opt_text(row, long.as_ref()),
            date_ouverture: fields::opt_date(row, ouverture.as_ref())?,
            date_fermeture: fields::opt_date(row, fermeture.as_ref())?,
            date_premiere_session: fields::opt_year(row, premiere.as_ref())?,
            date_derniere_session: fields::opt_year(row, derniere.as_ref())?,
            anciens: linked(&ancien_cols),
            nouveaux: linked(&nouveau_cols),
            table,
            position: row.position(),
        })
    })
}

pub fn stage_mefs(t: &RawTable) -> Result<Staged<Mef>> {
    let [mef, cfd, ms11] = t.columns(["MEF", "FORMATION_DIPLOME", "MEF_STAT_11"])?;
    let dispositif = t.optional_column("DISPOSITIF_FORMATION");
    let duree = t.optional_column("DUREE_DISPOSITIF");
    let annee = t.optional_column("ANNEE_DISPOSITIF");
    let court = t.optional_column("LIBELLE_COURT");
    let long = t.any_column(&["LIBELLE_LONG", "LIBELLE_EDITION"]);
    let ouverture = t.optional_column("DATE_OUVERTURE");
    let fermeture = t.optional_column("DATE_FERMETURE");
    let ms9 = t.optional_column("MEF_STAT_9");
    let small_int = |row: &Row, col: Option<&Col>| match col {
        Some(c) => fields::opt_small_int(row, c),
        None => Ok(None),
    };
    stage_rows(t, BcnTable::NMef, &ms11, |row| {
        Ok(Mef {
            mef: fields::required_text(row, &mef, "a MEF code")?,
            dispositif_formation: fields::opt_text(row, dispositif.as_ref()),
            cfd: fields::code(row, &cfd, CodeType::Cfd)?,
            duree_dispositif: small_int(row, duree.as_ref())?,
            annee_dispositif: small_int(row, annee.as_ref())?,
            libelle_court: fields::opt_text(row, court.as_ref()),
            libelle_long: fields::opt_text(row, long.as_ref()),
            date_ouverture: fields::opt_date(row, ouverture.as_ref())?,
            date_fermeture: fields::opt_date(row, fermeture.as_ref())?,
            mef_stat_11: fields::code(row, &ms11, CodeType::MefStat11)?,
            mef_stat_9: fields::opt_text(row, ms9.as_ref()),
            position: row.position(),
        })
    })
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

pub fn stage_diplomes_sise(t: &RawTable) -> Result<Staged<DiplomeSise>> {
    let [sise, type_sise, intitule_1] =
        t.columns(["DIPLOME_SISE", "TYPE_DIPLOME_SISE", "LIBELLE_INTITULE_1"])?;
    let intitule_2 = t.optional_column("LIBELLE_INTITULE_2");
    let ouverture = t.optional_column("DATE_OUVERTURE");
    let fermeture = t.optional_column("DATE_FERMETURE");
    stage_rows(t, BcnTable::NDiplomeSise, &sise, |row| {
        let mut libelle = fields::text(row, &intitule_1);
        let second = fields::opt_text(row, intitule_2.as_ref());
        if !second.is_empty() {
            libelle = compact_str::format_compact!("{libelle} - {second}");
        }
        Ok(DiplomeSise {
            sise: fields::code(row, &sise, CodeType::Sise)?,
            type_diplome_sise: fields::text(row, &type_sise),
            libelle,
            date_ouverture: fields::opt_date(row, ouverture.as_ref())?,
            date_fermeture: fields::opt_date(row, fermeture.as_ref())?,
            position: row.position(),
        })
    })
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
                libelle: Code::from(libelle),
            }
        })
        .collect())
}

pub fn stage_liens_groupe(t: &RawTable) -> Result<Staged<LienFormationGroupe>> {
    let [groupe, cfd] = t.columns(["GROUPE_FORMATION", "FORMATION_DIPLOME"])?;
    stage_rows(t, BcnTable::NLienFormationGroupe, &cfd, |row| {
        Ok(LienFormationGroupe {
            groupe_formation: fields::required_text(row, &groupe, "a GROUPE_FORMATION code")?,
            cfd: fields::code(row, &cfd, CodeType::Cfd)?,
        })
    })
}

pub fn stage_familles_spec_pro(t: &RawTable) -> Result<Staged<FamilleMetierSpecPro>> {
    let [code, long] = t.columns(["FAMILLE_METIER", "LIBELLE_LONG"])?;
    let edition = t.optional_column("LIBELLE_EDITION");
    stage_rows(t, BcnTable::NFamilleMetierSpecPro, &code, |row| {
        let libelle = edition
            .as_ref()
            .and_then(|c| row.opt(c))
            .unwrap_or_else(|| row.get(&long));
        Ok(FamilleMetierSpecPro {
            famille_metier: fields::required_text(row, &code, "a FAMILLE_METIER code")?,
            libelle: Code::from(libelle),
            position: row.position(),
        })
    })
}

pub fn stage_liens_mef_famille(t: &RawTable) -> Result<Staged<LienMefFamilleMetier>> {
    let [famille, mef] = t.columns(["FAMILLE_METIER", "MEF"])?;
    // Not a BCN column: another project's addition (SOURCES.md).
    let tag = t.optional_column("tag");
    stage_rows(t, BcnTable::NLienMefFamilleMetier, &mef, |row| {
        Ok(LienMefFamilleMetier {
            famille_metier: fields::required_text(row, &famille, "a FAMILLE_METIER code")?,
            mef: fields::required_text(row, &mef, "a MEF code")?,
            tag: fields::opt_text(row, tag.as_ref()),
            position: row.position(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_label_headers_give_their_column_name() {
        for (header, name) in [
            ("FORMATION_DIPLOME", "FORMATION_DIPLOME"),
            ("  MEF_STAT_11 ", "MEF_STAT_11"),
            (
                "FORMATION_DIPLOME - Code formation diplôme",
                "FORMATION_DIPLOME",
            ),
            (
                "Code formation diplôme (FORMATION_DIPLOME)",
                "FORMATION_DIPLOME",
            ),
            ("N_MEF.MEF_STAT_11", "MEF_STAT_11"),
            ("MEF - Module élémentaire de formation", "MEF"),
            ("Libellé court", "Libellé court"),
            ("tag", "tag"),
        ] {
            assert_eq!(bcn_header_name(header), name, "{header}");
        }
    }

    fn table(text: &str) -> RawTable {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("N_FORMATION_DIPLOME.csv");
        std::fs::write(&path, text).unwrap();
        let mut t = input::read_table(&path, &DelimitedOptions::default()).unwrap();
        t.rename_headers(bcn_header_name);
        t
    }

    /// The tables are read side by side, but the error reported is the
    /// first in the tables' order, whichever thread failed first.
    #[test]
    fn the_first_broken_table_in_order_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "N_FORMATION_DIPLOME.csv",
            "FORMATION_DIPLOME;LIBELLE_LONG_200\n40025214;BAC PRO;EXTRA\n",
        );
        write("N_MEF.csv", "MEF;MEF_STAT_11\n2472;24720000001;EXTRA\n");
        for _ in 0..10 {
            let e = load_bcn(dir.path(), BcnScope::Referentiel).unwrap_err();
            let message = e.to_string();
            assert!(message.contains("N_FORMATION_DIPLOME.csv"), "{message}");
            assert!(message.contains("unquoted delimiter"), "{message}");
        }
        // N_MEF is broken too: reported once N_FORMATION_DIPLOME is mended.
        write(
            "N_FORMATION_DIPLOME.csv",
            "FORMATION_DIPLOME;LIBELLE_LONG_200\n40025214;BAC PRO\n",
        );
        let message = load_bcn(dir.path(), BcnScope::Referentiel)
            .unwrap_err()
            .to_string();
        assert!(message.contains("N_MEF.csv"), "{message}");
    }

    #[test]
    fn a_malformed_key_is_a_reject_not_a_stop() {
        let t = table(
            "FORMATION_DIPLOME;LIBELLE_LONG_200\n40025214;BAC PRO A\n36C250N;ERREUR DE CODAGE\n50022141;CAP B\n",
        );
        let staged = stage_formations(&t, BcnTable::VFormationDiplome, false).unwrap();
        assert_eq!(staged.rows.len(), 2);
        assert_eq!(
            staged.rejects,
            [RowReject {
                table: BcnTable::VFormationDiplome,
                line: 3,
                code: "36C250N".into(),
                reason: "FORMATION_DIPLOME: \"36C250N\" is not a CFD of 8 characters [0-9A-Z] (found 7 characters)".into(),
            }]
        );
    }

    #[test]
    fn a_table_mostly_rejected_is_unusable() {
        let t = table("FORMATION_DIPLOME\nA\nB\n40025214\n");
        let e = stage_formations(&t, BcnTable::NFormationDiplome, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 of 3 rows rejected"), "{e}");
        assert!(e.contains("unusable as a whole"), "{e}");
    }

    #[test]
    fn older_and_joined_columns_are_read() {
        let t = table(
            "FORMATION_DIPLOME - Code;LIBELLE_LONG (Libellé long)\n40025214;BAC PRO BOULANGER\n",
        );
        let staged = stage_formations(&t, BcnTable::NFormationDiplome, false).unwrap();
        let f = &staged.rows[0];
        assert_eq!(
            (
                f.cfd.as_str(),
                f.libelle_long.as_str(),
                f.niveau_formation_diplome.as_str()
            ),
            ("40025214", "BAC PRO BOULANGER", "400")
        );
    }
}
