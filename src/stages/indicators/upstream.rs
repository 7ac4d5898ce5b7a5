//! Reading what the earlier stages wrote: the formation referential of `bcn`
//! and the links and lineage of `continuum`, from their Parquet twins through
//! `input::StageTable` (typed columns, whatever CSV separator the run used),
//! each enum column through its enum's own `parse`. The indicators stage and
//! coverage both read them here.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use std::path::Path;

use chrono::NaiveDate;

use crate::error::Result;
use crate::input::stage_table::RowGroups;
use crate::input::StageTable;
use crate::rules::codes::{Code, CodeType};
use crate::stages::continuum::{LinkType, Relation};

/// The formation referential of `bcn`, by code. Each certification is
/// boxed: the map's buckets are then 32 bytes, not 344, and hashbrown's
/// tables of a power of two buckets leave up to half of them empty (×100:
/// 2 million codes in 4.2 million buckets, 1.4 GB inline, issue 13).
#[derive(Debug, Clone, Default, PartialEq)]
/// Hashed with a fixed-seed foldhash rather than SipHash: every row of every
/// level looks its code up, several times (issue 13: SipHash and the probe
/// were a tenth of ×100's `pilotage`); nothing depends on the map's order.
pub struct Referentiel(HashMap<Code, Box<Certification>, FixedState>);

impl Referentiel {
    pub fn get(&self, code: &str) -> Option<&Certification> {
        self.0.get(code).map(Box::as_ref)
    }

    /// Every certification, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Certification> {
        self.0.values().map(Box::as_ref)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Code) -> bool) {
        self.0.retain(|code, _| keep(code));
    }
}

impl FromIterator<(Code, Certification)> for Referentiel {
    fn from_iter<I: IntoIterator<Item = (Code, Certification)>>(items: I) -> Self {
        Referentiel(items.into_iter().map(|(k, c)| (k, Box::new(c))).collect())
    }
}

/// A code of the formation referential, with what indicators are enriched with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Certification {
    pub code: Code,
    pub code_type: Option<CodeType>,
    pub code_formation_diplome: Code,
    pub mef: Code,
    pub dispositif_formation: Code,
    pub libelle: String,
    pub niveau_formation_diplome: Code,
    pub type_diplome: Code,
    pub niveau_diplome: Code,
    pub libelle_niveau_diplome: Code,
    pub date_fermeture: Option<NaiveDate>,
    pub date_premiere_session: Option<i32>,
    pub duree_dispositif: Option<u32>,
    pub annee_dispositif: Option<u32>,
    pub famille_metiers_code: Code,
    pub famille_metiers_libelle: Code,
    /// Every family the code is in (issue 6); `famille_metiers_code` alone
    /// when the referential predates the column.
    pub familles_metiers_codes: Vec<Code>,
    /// A family's common first year, as the referential flags it.
    pub seconde_commune: bool,
}

/// `continuum_lineage`, by code: each code's relatives.
pub type Lineage = HashMap<Code, Vec<Relative>, FixedState>;

/// A (code, relative) pair of `continuum_lineage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative {
    pub code_type: CodeType,
    pub code: Code,
    /// The related code is newer (a descendant) or older (an ancestor).
    pub related_is_descendant: bool,
    pub related_code: Code,
    pub hops: u32,
    pub one_to_one_path: bool,
}

/// A link of `continuum_links`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub code_type: CodeType,
    pub ancien: Code,
    pub nouveau: Code,
    pub link_type: LinkType,
}

/// An integer column narrowed to `T`; a value that does not fit is an error
/// saying what was expected (`what`), as it was in the CSV.
fn narrowed<T: TryFrom<i64>>(t: &StageTable, name: &str, what: &str) -> Result<Vec<Option<T>>> {
    t.integer(name)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|n| T::try_from(n).map_err(|_| t.error(i, name, format!("\"{n}\" {what}"))))
                .transpose()
        })
        .collect()
}

/// A small count (a duration in years, a year within a cycle, a number of
/// hops): a negative or huge value is an error.
fn small_ints(t: &StageTable, name: &str) -> Result<Vec<Option<u32>>> {
    narrowed(t, name, "is not a whole number")
}

/// A year column (a first session): one that does not fit a year is an error.
pub(crate) fn years(t: &StageTable, name: &str) -> Result<Vec<Option<i32>>> {
    narrowed(t, name, "is not a year (expected YYYY)")
}

/// `code_certification_type`, which every row of the continuum's tables fills.
fn code_types(t: &StageTable) -> Result<Vec<CodeType>> {
    t.parsed_required(
        "code_certification_type",
        CodeType::parse,
        CodeType::ALL.map(CodeType::as_str),
    )
}

/// The columns of `formations_referentiel` the indicators and coverage read.
const REFERENTIEL: [&str; 15] = [
    "code_certification",
    "code_certification_type",
    "code_formation_diplome",
    "mef",
    "dispositif_formation",
    "libelle",
    "niveau_formation_diplome",
    "type_diplome",
    "niveau_diplome",
    "libelle_niveau_diplome",
    "date_fermeture",
    "duree_dispositif",
    "annee_dispositif",
    "famille_metiers_code",
    "famille_metiers_libelle",
];

/// Columns added to the referential after its first version (issue 6):
/// missing in an older one, they read as empty.
const REFERENTIEL_LATER: [&str; 3] = [
    "date_premiere_session",
    "familles_metiers_codes",
    "seconde_commune",
];

/// `formations_referentiel` of the `bcn` stage (its Parquet), by code.
pub fn load_referentiel(bcn_out: &Path) -> Result<Referentiel> {
    let groups = StageTable::row_groups_of_stage(
        bcn_out,
        "formations_referentiel",
        "bcn",
        REFERENTIEL.into_iter(),
        &REFERENTIEL_LATER,
    )?;
    let mut out = HashMap::with_capacity_and_hasher(groups.rows(), FixedState::default());
    // Each row group's certifications are made on every thread (the groups
    // read one at a time, in turn), then put in the map in the groups'
    // order: at ×100, two million certifications made on one core were
    // most of the 2.7 s the stage spent reading its upstream (issue 13).
    use rayon::iter::{ParallelBridge as _, ParallelIterator as _};
    let mut made: Vec<(usize, Vec<Box<Certification>>)> = groups
        .enumerate()
        .par_bridge()
        .map(|(i, t)| Ok((i, referentiel_rows(&t?)?)))
        .collect::<Result<_>>()?;
    made.sort_unstable_by_key(|(i, _)| *i);
    for c in made.into_iter().flat_map(|(_, group)| group) {
        out.insert(c.code.clone(), c);
    }
    Ok(Referentiel(out))
}

/// The certifications of a row group of `formations_referentiel`, in its
/// rows' order, each in the box the referential keeps it in (boxed on the
/// thread that makes it, not one at a time as the map takes them).
#[allow(clippy::vec_box)]
fn referentiel_rows(t: &StageTable) -> Result<Vec<Box<Certification>>> {
    let s = |c: &str| t.text(c);
    let (code, cfd, mef, dispositif) = (
        s("code_certification")?,
        s("code_formation_diplome")?,
        s("mef")?,
        s("dispositif_formation")?,
    );
    let (libelle, niveau, type_diplome) = (
        s("libelle")?,
        s("niveau_formation_diplome")?,
        s("type_diplome")?,
    );
    let (niveau_diplome, libelle_niveau_diplome) =
        (s("niveau_diplome")?, s("libelle_niveau_diplome")?);
    let (famille, famille_libelle) = (s("famille_metiers_code")?, s("famille_metiers_libelle")?);
    let code_type = t.parsed(
        "code_certification_type",
        CodeType::parse,
        CodeType::ALL.map(CodeType::as_str),
    )?;
    let fermeture = t.date("date_fermeture")?;
    let (duree, annee) = (
        small_ints(t, "duree_dispositif")?,
        small_ints(t, "annee_dispositif")?,
    );
    let premiere = years(t, "date_premiere_session")?;
    let familles = t.text("familles_metiers_codes")?;
    let commune = t.boolean("seconde_commune")?;
    let text = |v: Option<&str>| Code::from(v.unwrap_or_default());
    let mut out = Vec::with_capacity(t.height());
    for i in 0..t.height() {
        // Before `familles_metiers_codes`, the one family is the list.
        let all = if t.has("familles_metiers_codes") {
            familles[i]
        } else {
            famille[i]
        };
        let c = Certification {
            date_premiere_session: premiere[i],
            code: text(code[i]),
            code_type: code_type[i],
            code_formation_diplome: text(cfd[i]),
            mef: text(mef[i]),
            dispositif_formation: text(dispositif[i]),
            libelle: libelle[i].unwrap_or_default().to_string(),
            niveau_formation_diplome: text(niveau[i]),
            type_diplome: text(type_diplome[i]),
            niveau_diplome: text(niveau_diplome[i]),
            libelle_niveau_diplome: text(libelle_niveau_diplome[i]),
            date_fermeture: fermeture[i],
            duree_dispositif: duree[i],
            annee_dispositif: annee[i],
            famille_metiers_code: text(famille[i]),
            famille_metiers_libelle: text(famille_libelle[i]),
            familles_metiers_codes: all
                .unwrap_or_default()
                .split('|')
                .filter(|c| !c.is_empty())
                .map(Code::from)
                .collect(),
            seconde_commune: commune[i].unwrap_or(false),
        };
        out.push(Box::new(c));
    }
    Ok(out)
}

/// `continuum_lineage` of the `continuum` stage (its Parquet), by code.
pub fn load_lineage(continuum_out: &Path) -> Result<Lineage> {
    let columns = [
        "code_certification_type",
        "code_certification",
        "relation",
        "related_code",
        "hops",
        "one_to_one_path",
    ];
    let mut out = Lineage::default();
    for t in continuum_table(continuum_out, "continuum_lineage", &columns)? {
        let t = t?;
        let code_type = code_types(&t)?;
        let relation = t.parsed_required(
            "relation",
            Relation::parse,
            Relation::ALL.map(Relation::as_str),
        )?;
        let (code, related) = (t.text("code_certification")?, t.text("related_code")?);
        let hops = small_ints(&t, "hops")?;
        let strict = t.boolean("one_to_one_path")?;
        for i in 0..t.height() {
            let r = Relative {
                code_type: code_type[i],
                code: code[i].unwrap_or_default().into(),
                related_is_descendant: relation[i] == Relation::Descendant,
                related_code: related[i].unwrap_or_default().into(),
                hops: hops[i].unwrap_or(0),
                one_to_one_path: strict[i].unwrap_or(false),
            };
            out.entry(r.code.clone()).or_default().push(r);
        }
    }
    Ok(out)
}

/// A table of the `continuum` stage (its Parquet), a row group at a time.
fn continuum_table(continuum_out: &Path, table: &str, columns: &[&str]) -> Result<RowGroups> {
    StageTable::row_groups_of_stage(
        continuum_out,
        table,
        "continuum",
        columns.iter().copied(),
        &[],
    )
}

/// `continuum_links` of the `continuum` stage (its Parquet).
pub fn load_links(continuum_out: &Path) -> Result<Vec<LinkRow>> {
    let columns = [
        "code_certification_type",
        "ancien_code",
        "nouveau_code",
        "link_type",
    ];
    let groups = continuum_table(continuum_out, "continuum_links", &columns)?;
    let mut out = Vec::with_capacity(groups.rows());
    for t in groups {
        let t = t?;
        let code_type = code_types(&t)?;
        let link_type = t.parsed_required(
            "link_type",
            LinkType::parse,
            LinkType::ALL.map(LinkType::as_str),
        )?;
        let (ancien, nouveau) = (t.text("ancien_code")?, t.text("nouveau_code")?);
        out.extend((0..t.height()).map(|i| LinkRow {
            code_type: code_type[i],
            ancien: ancien[i].unwrap_or_default().into(),
            nouveau: nouveau[i].unwrap_or_default().into(),
            link_type: link_type[i],
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{CsvOptions, OutTable};
    use polars::prelude::{ParquetReader, ParquetWriter, SerReader as _};

    /// Writes a `continuum_links` table with these link types.
    fn links(dir: &Path, link_types: &[&str]) {
        let mut t = OutTable::new("continuum_links");
        t.str("code_certification_type", link_types.iter().map(|_| "cfd"))
            .str("ancien_code", link_types.iter().map(|_| "40000001"))
            .str("nouveau_code", link_types.iter().map(|_| "40000002"))
            .str("link_type", link_types.iter());
        t.write(dir, &CsvOptions::default()).unwrap();
    }

    /// The referential read from a Parquet of several row groups (made on
    /// every thread, then put in the map in the groups' order) is the one
    /// read from the same rows in one group.
    #[test]
    fn the_referential_is_the_same_whatever_its_row_groups() {
        let bcn = tempfile::tempdir().unwrap();
        let ctx = crate::stages::StageContext {
            out_dir: bcn.path().join("bcn"),
            csv: CsvOptions::default(),
        };
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bcn");
        crate::stages::bcn::run(&fixtures, &ctx).unwrap();
        let whole = load_referentiel(&ctx.out_dir).unwrap();
        assert!(whole.values().count() > 20, "the fixture's referential");

        let path = ctx.out_dir.join("formations_referentiel.parquet");
        let mut rows = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        let cut = tempfile::tempdir().unwrap();
        ParquetWriter::new(
            std::fs::File::create(cut.path().join("formations_referentiel.parquet")).unwrap(),
        )
        .with_row_group_size(Some(7))
        .finish(&mut rows)
        .unwrap();
        let groups = StageTable::row_groups_of_stage(
            cut.path(),
            "formations_referentiel",
            "bcn",
            REFERENTIEL.into_iter(),
            &REFERENTIEL_LATER,
        )
        .unwrap();
        assert!(groups.count() > 2, "several row groups");
        assert_eq!(load_referentiel(cut.path()).unwrap(), whole);
    }

    #[test]
    fn links_are_read_from_the_parquet_through_the_enums() {
        let dir = tempfile::tempdir().unwrap();
        links(dir.path(), &["merge", "one_to_one"]);
        let read = load_links(dir.path()).unwrap();
        assert_eq!(
            read.iter().map(|l| l.link_type).collect::<Vec<_>>(),
            [LinkType::Merge, LinkType::OneToOne]
        );
        assert_eq!(read[0].code_type, CodeType::Cfd);
    }

    #[test]
    fn an_unknown_value_names_the_file_row_column_and_the_values_expected() {
        let dir = tempfile::tempdir().unwrap();
        links(dir.path(), &["merge", "fusion"]);
        let e = load_links(dir.path()).unwrap_err().to_string();
        assert!(e.contains("continuum_links.parquet"), "{e}");
        assert!(
            e.contains("row 2 (line 3 of the CSV), column link_type"),
            "{e}"
        );
        assert!(
            e.contains("\"fusion\": expected one_to_one, split, merge or many_to_many"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_table_or_column_says_which_stage_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_lineage(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("continuum_lineage.parquet: missing; run the `continuum` stage first"),
            "{e}"
        );
        // A links table without `link_type`: written by another version.
        let mut t = OutTable::new("continuum_links");
        t.str("code_certification_type", ["cfd"].iter())
            .str("ancien_code", ["1"].iter())
            .str("nouveau_code", ["2"].iter());
        t.write(dir.path(), &CsvOptions::default()).unwrap();
        let e = load_links(dir.path()).unwrap_err().to_string();
        assert!(e.contains("missing column link_type"), "{e}");
        assert!(e.contains("run its stage again"), "{e}");
    }
}
