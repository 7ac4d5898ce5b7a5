//! Stage `bcn`: the formation referential, one row per code.
//!
//! Input: the staged BCN tables. Output: `formations_referentiel`, one row per
//! `code_certification` (CFD, MEF_STAT_11 or SISE code) with its CFD, labels,
//! niveau, diploma level, dates, the MEF's duration and year, and its famille
//! de métiers and whether it is a family's common first year, when the BCN
//! family tables are given (see `familles`).
//!
//! Merging: CFDs come from N_FORMATION_DIPLOME first, then the V_ view (which
//! adds apprenticeship-only diplomas) and N_FORMATION_DIPLOME_ENQUETE_51 for
//! codes N_ lacks. A code seen twice keeps one row (see `pick_mef`) and the
//! other goes to the rejects with its reason: rows read = written + merged +
//! rejected, per table.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::output::{OutTable, StagedDir};
use crate::rules::codes::{niveau_diplome, Code, CodeType};
use crate::stages::{OutputFile, StageContext, StageReport};
use crate::staging::bcn::{load_bcn, Bcn, BcnScope, BcnTable, FormationDiplome, Mef};

pub mod completeness;
pub mod familles;

use completeness::{FoundTable, MissingTable};
use familles::Familles;

/// Group type of a famille de métiers in N_GROUPE_FORMATION.
pub const TYPE_GROUPE_FAMILLE_METIERS: &str = "TG01";

/// One row of `formations_referentiel`.
#[derive(Debug, Clone, PartialEq)]
pub struct FormationReferentiel {
    pub code_certification: Code,
    pub code_certification_type: CodeType,
    pub code_formation_diplome: Code,
    pub mef: Code,
    pub dispositif_formation: Code,
    pub libelle: Code,
    pub libelle_long: Code,
    pub niveau_formation_diplome: Code,
    pub libelle_niveau_formation_diplome: Code,
    pub type_diplome: Code,
    pub niveau_diplome: Code,
    pub libelle_niveau_diplome: Code,
    pub date_ouverture: Option<NaiveDate>,
    pub date_fermeture: Option<NaiveDate>,
    pub date_premiere_session: Option<i32>,
    pub date_derniere_session: Option<i32>,
    pub duree_dispositif: Option<u32>,
    pub annee_dispositif: Option<u32>,
    /// The family (the smallest code of `familles_metiers_codes`).
    pub famille_metiers_code: Code,
    pub famille_metiers_libelle: Code,
    /// Every family the code is in, sorted and `|`-joined (issue 6).
    pub familles_metiers_codes: Code,
    /// The family's N_FAMILLE_METIER_SPEC_PRO code (`001`…), when known.
    pub famille_metiers_code_spec_pro: Code,
    /// A family's common first year ("seconde commune").
    pub seconde_commune: bool,
    pub source_table: &'static str,
}

/// A row that did not make it into the referential, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reject {
    pub table: String,
    pub line: u64,
    pub code: String,
    pub reason: String,
}

/// Rows read, written, merged into another table's row, and rejected, per table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TableAccount {
    pub table: String,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_merged: usize,
    pub rows_rejected: usize,
    /// Lookup tables (niveaux, groupes) add columns, not rows.
    pub rows_used_as_lookup: usize,
}

impl TableAccount {
    pub fn balances(&self) -> bool {
        self.rows_read
            == self.rows_written + self.rows_merged + self.rows_rejected + self.rows_used_as_lookup
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BcnSummary {
    pub codes: usize,
    pub codes_cfd: usize,
    pub codes_mef_stat_11: usize,
    pub codes_sise: usize,
    pub codes_with_famille_metiers: usize,
    /// Familles de métiers holding at least one CFD.
    pub familles_metiers: usize,
    pub codes_seconde_commune: usize,
    pub codes_in_several_familles: usize,
    /// N_LIEN_MEF_FAMILLE_METIER rows of a `_temp` family taken under the
    /// code of the groupe with its label (see `familles`).
    pub liens_famille_temp_taken: usize,
    /// N_FAMILLE_METIER_SPEC_PRO families no N_GROUPE_FORMATION groupe has
    /// the label of: they keep their own code.
    pub familles_spec_pro_sans_groupe: Vec<String>,
    pub rows_rejected: usize,
    pub tables: Vec<TableAccount>,
    /// The BCN tables the folder holds, with their rows (issue 9).
    pub tables_found: Vec<FoundTable>,
    /// The tables it lacks or holds without a row, and what each disables.
    pub tables_missing: Vec<MissingTable>,
}

pub struct Referentiel {
    pub formations: Vec<FormationReferentiel>,
    pub rejects: Vec<Reject>,
    pub summary: BcnSummary,
}

/// Builds the formation referential from the staged BCN: one row per CFD
/// (N_, then V_ and ENQUETE_51 for the codes N_ lacks), per MEF_STAT_11 and
/// per SISE code, with the accounts of every table read.
pub fn build_referentiel(bcn: &Bcn) -> Referentiel {
    // At most a formation per row of the tables that give codes: reserved
    // once (grown by doubling, ×100's two million rows of ~400 bytes were
    // copied and their fresh pages cleared again and again; the part never
    // used is never touched, so never resident).
    let most = bcn.formations_n.len()
        + bcn.formations_v.len()
        + bcn.formations_enquete_51.len()
        + bcn.mefs.len()
        + bcn.diplomes_sise.len();
    let mut b = Build {
        bcn,
        rejects: Vec::new(),
        accounts: Vec::new(),
        formations: Vec::with_capacity(most),
    };
    let cfds = b.cfds();
    let niveaux: Niveaux = bcn
        .niveaux
        .iter()
        .map(|n| {
            (
                n.niveau_formation_diplome.as_str(),
                (n.libelle_court.as_str(), n.libelle_long.as_str()),
            )
        })
        .collect();
    let familles = Familles::build(bcn);
    b.rejects.extend(familles.rejects.iter().cloned());
    b.cfd_rows(&cfds, &niveaux, &familles);
    b.mef_rows(&cfds, &niveaux, &familles);
    b.sise_rows();
    b.lookup_accounts(&familles);
    b.staging_rejects();
    b.finish(&familles)
}

/// A referential being built: its rows, its rejects, the accounts of the
/// tables read so far.
struct Build<'a> {
    bcn: &'a Bcn,
    rejects: Vec<Reject>,
    accounts: Vec<TableAccount>,
    formations: Vec<FormationReferentiel>,
}

/// NIVEAU_FORMATION_DIPLOME → (short label, long label).
type Niveaux<'a> = HashMap<&'a str, (&'a str, &'a str), FixedState>;

impl<'a> Build<'a> {
    /// The CFDs: N_ first, then the tables that only add codes N_ lacks.
    fn cfds(&mut self) -> BTreeMap<&'a str, &'a FormationDiplome> {
        let bcn = self.bcn;
        let mut cfds: BTreeMap<&str, &FormationDiplome> = BTreeMap::new();
        for (table, rows) in [
            (BcnTable::NFormationDiplome, &bcn.formations_n),
            (BcnTable::VFormationDiplome, &bcn.formations_v),
            (
                BcnTable::NFormationDiplomeEnquete51,
                &bcn.formations_enquete_51,
            ),
        ] {
            if !bcn.inputs.iter().any(|i| i.table == table.name()) {
                continue;
            }
            let mut account = TableAccount {
                table: table.name().to_string(),
                rows_read: rows.len(),
                ..TableAccount::default()
            };
            let mut seen_here: HashMap<&str, u64, FixedState> = HashMap::default();
            for f in rows {
                if let Some(first) = seen_here.get(f.cfd.as_str()) {
                    account.rows_rejected += 1;
                    self.rejects.push(Reject {
                        table: table.name().to_string(),
                        line: f.position,
                        code: f.cfd.to_string(),
                        reason: format!("duplicate FORMATION_DIPLOME: line {first} kept"),
                    });
                    continue;
                }
                seen_here.insert(&f.cfd, f.position);
                if cfds.contains_key(f.cfd.as_str()) {
                    account.rows_merged += 1;
                } else {
                    cfds.insert(&f.cfd, f);
                    account.rows_written += 1;
                }
            }
            self.accounts.push(account);
        }

        cfds
    }

    /// A row per CFD, built on every thread straight into the reserved
    /// rows (issue 13: at ×100 the rows' building, two million rows of
    /// ~400 bytes into fresh pages, was one core's work).
    fn cfd_rows(
        &mut self,
        cfds: &BTreeMap<&str, &FormationDiplome>,
        niveaux: &Niveaux,
        familles: &Familles,
    ) {
        use rayon::prelude::*;
        let cfds: Vec<&FormationDiplome> = cfds.values().copied().collect();
        self.formations
            .par_extend(cfds.par_iter().map(|f| cfd_row(f, niveaux, familles)));
    }

    /// MEF_STAT_11: one row per code; a code on several N_MEF rows keeps
    /// one. The rows of a code are found by sorting N_MEF's rows by code
    /// (stably: in the file's order within a code), and built on every
    /// thread (see [`Build::cfd_rows`]).
    fn mef_rows(
        &mut self,
        cfds: &BTreeMap<&str, &FormationDiplome>,
        niveaux: &Niveaux,
        familles: &Familles,
    ) {
        use rayon::prelude::*;
        let bcn = self.bcn;
        if !bcn.inputs.iter().any(|i| i.table == BcnTable::NMef.name()) {
            return;
        }
        let mut account = TableAccount {
            table: BcnTable::NMef.name().to_string(),
            rows_read: bcn.mefs.len(),
            ..TableAccount::default()
        };
        let mut mefs: Vec<&Mef> = bcn.mefs.iter().collect();
        mefs.par_sort_by(|a, b| a.mef_stat_11.cmp(&b.mef_stat_11));
        let codes: Vec<&[&Mef]> = mefs
            .chunk_by(|a, b| a.mef_stat_11 == b.mef_stat_11)
            .collect();
        for candidates in codes.iter().filter(|c| c.len() > 1) {
            let kept = pick_mef(candidates);
            for other in candidates.iter().filter(|m| m.position != kept.position) {
                account.rows_rejected += 1;
                self.rejects.push(Reject {
                    table: BcnTable::NMef.name().to_string(),
                    line: other.position,
                    code: other.mef_stat_11.to_string(),
                    reason: format!(
                        "duplicate MEF_STAT_11: line {} (MEF {}) kept, being open or opened later",
                        kept.position, kept.mef
                    ),
                });
            }
        }
        account.rows_written += codes.len();
        self.formations.par_extend(
            codes
                .par_iter()
                .map(|candidates| mef_row(candidates, cfds, niveaux, familles)),
        );
        self.accounts.push(account);
    }

    /// SISE codes (higher education), when N_DIPLOME_SISE is given.
    fn sise_rows(&mut self) {
        let bcn = self.bcn;
        if bcn
            .inputs
            .iter()
            .any(|i| i.table == BcnTable::NDiplomeSise.name())
        {
            let types: HashMap<&str, (&str, &str), FixedState> = bcn
                .types_diplome_sise
                .iter()
                .map(|t| {
                    (
                        t.type_diplome_sise.as_str(),
                        (t.libelle_court.as_str(), t.libelle_long.as_str()),
                    )
                })
                .collect();
            let mut account = TableAccount {
                table: BcnTable::NDiplomeSise.name().to_string(),
                rows_read: bcn.diplomes_sise.len(),
                ..TableAccount::default()
            };
            let mut seen: HashMap<&str, u64, FixedState> = HashMap::default();
            for d in &bcn.diplomes_sise {
                if let Some(first) = seen.get(d.sise.as_str()) {
                    account.rows_rejected += 1;
                    self.rejects.push(Reject {
                        table: BcnTable::NDiplomeSise.name().to_string(),
                        line: d.position,
                        code: d.sise.to_string(),
                        reason: format!("duplicate DIPLOME_SISE: line {first} kept"),
                    });
                    continue;
                }
                seen.insert(&d.sise, d.position);
                account.rows_written += 1;
                let (court, long) = types
                    .get(d.type_diplome_sise.as_str())
                    .copied()
                    .unwrap_or(("", ""));
                self.formations.push(FormationReferentiel {
                    code_certification: d.sise.clone(),
                    code_certification_type: CodeType::Sise,
                    code_formation_diplome: Code::default(),
                    mef: Code::default(),
                    dispositif_formation: Code::default(),
                    libelle: d.libelle.clone(),
                    libelle_long: d.libelle.clone(),
                    niveau_formation_diplome: d.type_diplome_sise.clone(),
                    libelle_niveau_formation_diplome: Code::from(long),
                    type_diplome: Code::from(court),
                    niveau_diplome: Code::default(),
                    libelle_niveau_diplome: Code::default(),
                    date_ouverture: d.date_ouverture,
                    date_fermeture: d.date_fermeture,
                    date_premiere_session: None,
                    date_derniere_session: None,
                    duree_dispositif: None,
                    annee_dispositif: None,
                    famille_metiers_code: Code::default(),
                    famille_metiers_libelle: Code::default(),
                    familles_metiers_codes: Code::default(),
                    famille_metiers_code_spec_pro: Code::default(),
                    seconde_commune: false,
                    source_table: BcnTable::NDiplomeSise.name(),
                });
            }
            self.accounts.push(account);
        }
    }

    /// The tables read as lookups only.
    fn lookup_accounts(&mut self, familles: &Familles) {
        let bcn = self.bcn;
        for (table, rows) in [
            (BcnTable::NNiveauFormationDiplome, bcn.niveaux.len()),
            (BcnTable::NTypeDiplomeSise, bcn.types_diplome_sise.len()),
            (BcnTable::NGroupeFormation, bcn.groupes.len()),
            (BcnTable::NLienFormationGroupe, bcn.liens_groupe.len()),
            (BcnTable::NFamilleMetierSpecPro, bcn.familles_spec_pro.len()),
        ] {
            if bcn.inputs.iter().any(|i| i.table == table.name()) {
                self.accounts.push(TableAccount {
                    table: table.name().to_string(),
                    rows_read: rows,
                    rows_used_as_lookup: rows,
                    ..TableAccount::default()
                });
            }
        }
        if bcn
            .inputs
            .iter()
            .any(|i| i.table == BcnTable::NLienMefFamilleMetier.name())
        {
            self.accounts.push(TableAccount {
                table: BcnTable::NLienMefFamilleMetier.name().to_string(),
                rows_read: bcn.liens_mef_famille.len(),
                rows_used_as_lookup: familles.liens_mef_taken,
                rows_rejected: familles.rejects.len(),
                ..TableAccount::default()
            });
        }
    }

    /// Rows the staging set aside (a malformed key…): rejected, with their reason.
    fn staging_rejects(&mut self) {
        let bcn = self.bcn;
        for r in &bcn.rejects {
            if let Some(account) = self.accounts.iter_mut().find(|a| a.table == r.table.name()) {
                account.rows_read += 1;
                account.rows_rejected += 1;
            }
            self.rejects.push(Reject {
                table: r.table.name().to_string(),
                line: r.line,
                code: r.code.clone(),
                reason: r.reason.clone(),
            });
        }
    }

    /// Sorted rows and rejects, and the summary.
    fn finish(self, familles: &Familles) -> Referentiel {
        let Build {
            bcn,
            mut rejects,
            accounts,
            mut formations,
        } = self;
        // By code, the release's primary key, so that the release reads the
        // table one row group at a time rather than sorting it whole (issue
        // 13); the code type breaks the ties codes of different lengths
        // never leave.
        // Wide rows: their places sorted, on every thread, then the rows
        // moved (a stable `sort_by` took a buffer of half of them, fresh
        // pages the kernel cleared: ×100's largest cost here).
        crate::memory::sort_rows_stably(&mut formations, |a, b| {
            (&a.code_certification, a.code_certification_type)
                .cmp(&(&b.code_certification, b.code_certification_type))
        });
        rejects.sort_by(|a, b| (&a.table, a.line).cmp(&(&b.table, b.line)));
        let count = |t: CodeType| {
            formations
                .iter()
                .filter(|f| f.code_certification_type == t)
                .count()
        };
        let (tables_found, tables_missing) = completeness::check_tables(bcn);
        let summary = BcnSummary {
            codes: formations.len(),
            codes_cfd: count(CodeType::Cfd),
            codes_mef_stat_11: count(CodeType::MefStat11),
            codes_sise: count(CodeType::Sise),
            codes_with_famille_metiers: formations
                .iter()
                .filter(|f| !f.famille_metiers_code.is_empty())
                .count(),
            familles_metiers: familles.used(),
            codes_seconde_commune: formations.iter().filter(|f| f.seconde_commune).count(),
            codes_in_several_familles: formations
                .iter()
                .filter(|f| f.familles_metiers_codes.contains('|'))
                .count(),
            liens_famille_temp_taken: familles.liens_mef_temp_taken,
            familles_spec_pro_sans_groupe: familles
                .spec_pro_sans_groupe
                .iter()
                .map(Code::to_string)
                .collect(),
            rows_rejected: rejects.len(),
            tables: accounts,
            tables_found,
            tables_missing,
        };
        Referentiel {
            formations,
            rejects,
            summary,
        }
    }
}

/// The referential's row of a CFD.
fn cfd_row(f: &FormationDiplome, niveaux: &Niveaux, familles: &Familles) -> FormationReferentiel {
    let (type_diplome, libelle_niveau) = niveaux
        .get(f.niveau_formation_diplome.as_str())
        .copied()
        .unwrap_or(("", ""));
    let (niveau, libelle_niveau_diplome) = niveau_diplome(&f.cfd).unwrap_or(("", ""));
    let famille = familles.columns(&f.cfd);
    FormationReferentiel {
        code_certification: f.cfd.clone(),
        code_certification_type: CodeType::Cfd,
        code_formation_diplome: f.cfd.clone(),
        mef: Code::default(),
        dispositif_formation: Code::default(),
        libelle: Code::from(libelle_cfd(f)),
        libelle_long: f.libelle_long.clone(),
        niveau_formation_diplome: f.niveau_formation_diplome.clone(),
        libelle_niveau_formation_diplome: Code::from(libelle_niveau),
        type_diplome: Code::from(type_diplome),
        niveau_diplome: Code::from(niveau),
        libelle_niveau_diplome: Code::from(libelle_niveau_diplome),
        date_ouverture: f.date_ouverture,
        date_fermeture: f.date_fermeture,
        date_premiere_session: f.date_premiere_session,
        date_derniere_session: f.date_derniere_session,
        duree_dispositif: None,
        annee_dispositif: None,
        famille_metiers_code: famille.code,
        famille_metiers_libelle: famille.libelle,
        familles_metiers_codes: famille.codes,
        famille_metiers_code_spec_pro: famille.code_spec_pro,
        seconde_commune: familles.is_commune_cfd(&f.cfd),
        source_table: f.table.name(),
    }
}

/// The referential's row of a MEF_STAT_11, from the N_MEF rows that have
/// it (`pick_mef` keeps one).
fn mef_row(
    candidates: &[&Mef],
    cfds: &BTreeMap<&str, &FormationDiplome>,
    niveaux: &Niveaux,
    familles: &Familles,
) -> FormationReferentiel {
    let kept = pick_mef(candidates);
    let cfd = cfds.get(kept.cfd.as_str()).copied();
    let niveau_code = cfd
        .map(|f| f.niveau_formation_diplome.clone())
        .unwrap_or_else(|| Code::from(&kept.cfd[..3]));
    let (type_diplome, libelle_niveau) = niveaux
        .get(niveau_code.as_str())
        .copied()
        .unwrap_or(("", ""));
    let (niveau, libelle_niveau_diplome) = niveau_diplome(&kept.cfd).unwrap_or(("", ""));
    let famille = familles.columns(&kept.cfd);
    let seconde_commune = candidates
        .iter()
        .any(|m| familles.is_commune_mef(&kept.cfd, &m.mef, kept.annee_dispositif));
    FormationReferentiel {
        code_certification: kept.mef_stat_11.clone(),
        code_certification_type: CodeType::MefStat11,
        code_formation_diplome: kept.cfd.clone(),
        mef: kept.mef.clone(),
        dispositif_formation: kept.dispositif_formation.clone(),
        libelle: kept.libelle_long.clone(),
        libelle_long: cfd.map(|f| f.libelle_long.clone()).unwrap_or_default(),
        niveau_formation_diplome: niveau_code,
        libelle_niveau_formation_diplome: Code::from(libelle_niveau),
        type_diplome: Code::from(type_diplome),
        niveau_diplome: Code::from(niveau),
        libelle_niveau_diplome: Code::from(libelle_niveau_diplome),
        date_ouverture: kept.date_ouverture,
        date_fermeture: kept.date_fermeture,
        date_premiere_session: cfd.and_then(|f| f.date_premiere_session),
        date_derniere_session: cfd.and_then(|f| f.date_derniere_session),
        duree_dispositif: kept.duree_dispositif,
        annee_dispositif: kept.annee_dispositif,
        famille_metiers_code: famille.code,
        famille_metiers_libelle: famille.libelle,
        familles_metiers_codes: famille.codes,
        famille_metiers_code_spec_pro: famille.code_spec_pro,
        seconde_commune,
        source_table: BcnTable::NMef.name(),
    }
}

/// `LIBELLE_COURT LIBELLE_STAT_33`, as the reference system labels a diploma
/// (e.g. "BAC PRO BOULANGER PATISSIER").
pub fn libelle_cfd(f: &FormationDiplome) -> String {
    format!("{} {}", f.libelle_court, f.libelle_stat_33)
        .trim()
        .to_string()
}

/// Of several N_MEF rows with the same MEF_STAT_11, the one to keep: an open
/// one before a closed one, then the latest closed, then the latest opened,
/// then the first in the file. Never depends on anything but the rows.
pub fn pick_mef<'a>(candidates: &[&'a Mef]) -> &'a Mef {
    candidates
        .iter()
        .copied()
        .max_by_key(|m| {
            (
                m.date_fermeture.is_none(),
                m.date_fermeture,
                m.date_ouverture,
                std::cmp::Reverse(m.position),
            )
        })
        .expect("at least one candidate")
}

/// The `formations_referentiel` output table.
pub fn referentiel_table(formations: &[FormationReferentiel]) -> OutTable {
    let mut t = OutTable::new("formations_referentiel");
    let f = formations;
    t.str(
        "code_certification",
        f.iter().map(|r| &r.code_certification),
    )
    .str(
        "code_certification_type",
        f.iter().map(|r| r.code_certification_type.as_str()),
    )
    .str(
        "code_formation_diplome",
        f.iter().map(|r| &r.code_formation_diplome),
    )
    .str("mef", f.iter().map(|r| &r.mef))
    .str(
        "dispositif_formation",
        f.iter().map(|r| &r.dispositif_formation),
    )
    .str("libelle", f.iter().map(|r| &r.libelle))
    .str("libelle_long", f.iter().map(|r| &r.libelle_long))
    .str(
        "niveau_formation_diplome",
        f.iter().map(|r| &r.niveau_formation_diplome),
    )
    .str(
        "libelle_niveau_formation_diplome",
        f.iter().map(|r| &r.libelle_niveau_formation_diplome),
    )
    .str("type_diplome", f.iter().map(|r| &r.type_diplome))
    .str("niveau_diplome", f.iter().map(|r| &r.niveau_diplome))
    .str(
        "libelle_niveau_diplome",
        f.iter().map(|r| &r.libelle_niveau_diplome),
    )
    .date("date_ouverture", f.iter().map(|r| r.date_ouverture))
    .date("date_fermeture", f.iter().map(|r| r.date_fermeture))
    .int(
        "date_premiere_session",
        f.iter().map(|r| r.date_premiere_session),
    )
    .int(
        "date_derniere_session",
        f.iter().map(|r| r.date_derniere_session),
    )
    .int("duree_dispositif", f.iter().map(|r| r.duree_dispositif))
    .int("annee_dispositif", f.iter().map(|r| r.annee_dispositif))
    .str(
        "famille_metiers_code",
        f.iter().map(|r| &r.famille_metiers_code),
    )
    .str(
        "famille_metiers_libelle",
        f.iter().map(|r| &r.famille_metiers_libelle),
    )
    .str(
        "familles_metiers_codes",
        f.iter().map(|r| &r.familles_metiers_codes),
    )
    .str(
        "famille_metiers_code_spec_pro",
        f.iter().map(|r| &r.famille_metiers_code_spec_pro),
    )
    .bool("seconde_commune", f.iter().map(|r| r.seconde_commune))
    .str("source_table", f.iter().map(|r| r.source_table));
    t
}

/// The `bcn_rejects` output table.
pub fn rejects_table(rejects: &[Reject]) -> OutTable {
    let mut t = OutTable::new("bcn_rejects");
    t.str("table", rejects.iter().map(|r| &r.table))
        .int("line", rejects.iter().map(|r| Some(r.line as i64)))
        .str("code", rejects.iter().map(|r| &r.code))
        .str("reason", rejects.iter().map(|r| &r.reason));
    t
}

// ---- Running the stage -------------------------------------------------------

/// `ij bcn`: reads the BCN folder and writes `formations_referentiel`,
/// `bcn_rejects` and `bcn_summary.json` into the context's folder.
pub fn run(bcn_dir: &Path, ctx: &StageContext) -> Result<StageReport> {
    let start = Instant::now();
    let bcn = load_bcn(bcn_dir, BcnScope::Referentiel)?;
    crate::memory::trace("bcn: tables read");
    let mut referentiel = build_referentiel(&bcn);
    check_accounts(bcn_dir, &referentiel.summary)?;
    // The staged BCN, then the formations once in their table, go before
    // the table is written, the stage's peak (issue 13).
    let inputs = bcn.inputs.clone();
    drop(bcn);
    // Built in pieces on every thread (the pieces stay pieces: the writer
    // takes them as they are).
    let formations = std::mem::take(&mut referentiel.formations);
    use crate::output::table::{build_in_pieces, PIECE_ROWS};
    let table = build_in_pieces(0..formations.len(), PIECE_ROWS, |rows| {
        Ok(referentiel_table(&formations[rows]))
    })?;
    drop(formations);
    crate::memory::return_free_memory();
    crate::memory::trace("bcn: referential built, in its table");

    let mut staged = StagedDir::new(&ctx.out_dir)?;
    staged.write_table(&table, &ctx.csv)?;
    let rejects = rejects_table(&referentiel.rejects);
    staged.write_table(&rejects, &ctx.csv)?;
    staged.write_json("bcn_summary.json", &referentiel.summary)?;
    let written_notes = staged.commit()?;

    let s = &referentiel.summary;
    let mut details = summary_details(s);
    details.extend(written_notes);
    Ok(StageReport {
        stage: "bcn".into(),
        inputs,
        outputs: vec![
            OutputFile::table(&ctx.out_dir, &table),
            OutputFile::table(&ctx.out_dir, &rejects),
            OutputFile::file(&ctx.out_dir, "bcn_summary.json"),
        ],
        rows_read: s.tables.iter().map(|a| a.rows_read).sum(),
        rows_written: s.tables.iter().map(|a| a.rows_written).sum(),
        rows_merged: s
            .tables
            .iter()
            .map(|a| a.rows_merged + a.rows_used_as_lookup)
            .sum(),
        rows_rejected: s.rows_rejected,
        details,
        elapsed: start.elapsed(),
    })
}

/// Nothing is written unless every table's rows add up (read = written +
/// merged + used as a lookup + rejected): a table that does not is a bug of
/// this stage, not of the input, and stops the run before it publishes.
fn check_accounts(bcn_dir: &Path, summary: &BcnSummary) -> Result<()> {
    if let Some(account) = summary.tables.iter().find(|a| !a.balances()) {
        return Err(Error::file(
            bcn_dir,
            format!(
                "internal error: rows of {} do not add up: {account:?}",
                account.table
            ),
        ));
    }
    Ok(())
}

/// The stage report's lines: what the referential holds, the familles de
/// métiers, each table's account, the rejects, the tables found and a
/// warning for each one missing (with what its absence costs).
fn summary_details(s: &BcnSummary) -> Vec<String> {
    let mut details = vec![format!(
        "formations_referentiel: {} codes ({} CFD, {} MEF_STAT_11, {} SISE), {} with a famille de métiers",
        s.codes, s.codes_cfd, s.codes_mef_stat_11, s.codes_sise, s.codes_with_famille_metiers
    )];
    if s.familles_metiers > 0 {
        details.push(format!(
            "familles de métiers: {} families, {} common first-year codes (seconde commune), {} codes in several families, {} links of `_temp` families taken under their groupe's code",
            s.familles_metiers,
            s.codes_seconde_commune,
            s.codes_in_several_familles,
            s.liens_famille_temp_taken
        ));
    }
    details.extend(s.tables.iter().map(account_line));
    if s.rows_rejected > 0 {
        details.push(format!(
            "{} rows rejected, with their reason, in bcn_rejects.csv",
            s.rows_rejected
        ));
    }
    details.push(format!(
        "BCN tables found: {}",
        s.tables_found
            .iter()
            .map(|t| format!("{} ({} rows)", t.table, t.rows))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for m in &s.tables_missing {
        details.push(format!("warning: {}", m.warning()));
    }
    details
}

/// One table's account, in the words that fit its use: a lookup table
/// (niveaux, groupes) adds columns to other rows and writes none of its own.
fn account_line(a: &TableAccount) -> String {
    if a.rows_used_as_lookup > 0 && a.rows_rejected > 0 {
        format!(
            "{}: {} rows read = {} used as a lookup + {} rejected",
            a.table, a.rows_read, a.rows_used_as_lookup, a.rows_rejected
        )
    } else if a.rows_used_as_lookup > 0 {
        format!("{}: {} rows read, used as a lookup", a.table, a.rows_read)
    } else {
        format!(
            "{}: {} rows read = {} written + {} already in another table + {} rejected",
            a.table, a.rows_read, a.rows_written, a.rows_merged, a.rows_rejected
        )
    }
}
