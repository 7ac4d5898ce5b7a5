//! Reading what the earlier stages wrote: the formation referential of `bcn`
//! and the lineage of `continuum`, through the common input layer (so a
//! release written with `;` reads back as well as one written with `,`).

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::input::{self, DelimitedOptions};
use crate::rules::codes::CodeType;
use crate::rules::dates::parse_date;
use crate::stages::continuum::{LinkType, Relation};
use crate::staging::fields;

/// A code of the formation referential, with what indicators are enriched with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Certification {
    pub code: String,
    pub code_type: Option<CodeType>,
    pub code_formation_diplome: String,
    pub mef: String,
    pub dispositif_formation: String,
    pub libelle: String,
    pub niveau_formation_diplome: String,
    pub type_diplome: String,
    pub niveau_diplome: String,
    pub libelle_niveau_diplome: String,
    pub date_fermeture: Option<NaiveDate>,
    pub date_premiere_session: Option<i32>,
    pub duree_dispositif: Option<u32>,
    pub annee_dispositif: Option<u32>,
    pub famille_metiers_code: String,
    pub famille_metiers_libelle: String,
    /// Every family the code is in (issue 6); `famille_metiers_code` alone
    /// when the referential predates the column.
    pub familles_metiers_codes: Vec<String>,
    /// A family's common first year, as the referential flags it.
    pub seconde_commune: bool,
}

/// A (code, relative) pair of `continuum_lineage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative {
    pub code_type: CodeType,
    pub code: String,
    /// The related code is newer (a descendant) or older (an ancestor).
    pub related_is_descendant: bool,
    pub related_code: String,
    pub hops: u32,
    pub one_to_one_path: bool,
}

/// A link of `continuum_links`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub code_type: CodeType,
    pub ancien: String,
    pub nouveau: String,
    pub link_type: LinkType,
}

fn read(dir: &Path, name: &str, stage: &str) -> Result<input::RawTable> {
    let path = dir.join(name);
    if !path.is_file() {
        return Err(Error::usage(format!(
            "{}: missing; run the `{stage}` stage first (ij {stage} … --out {})",
            path.display(),
            dir.display()
        )));
    }
    input::read_table(&path, &DelimitedOptions::default())
}

/// `formations_referentiel.csv` of the `bcn` stage, by code.
pub fn load_referentiel(bcn_out: &Path) -> Result<HashMap<String, Certification>> {
    let t = read(bcn_out, "formations_referentiel.csv", "bcn")?;
    let [code, code_type, cfd, mef, dispositif, libelle, niveau, type_diplome, niveau_diplome, libelle_niveau_diplome, fermeture, duree, annee, famille, famille_libelle] =
        t.columns([
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
        ])?;
    let premiere = t.optional_column("date_premiere_session");
    let familles = t.optional_column("familles_metiers_codes");
    let commune = t.optional_column("seconde_commune");
    let mut out = HashMap::with_capacity(t.len());
    for row in t.rows() {
        let famille_code = row.get(&famille);
        let all = familles.as_ref().map_or(famille_code, |c| row.get(c));
        let c = Certification {
            date_premiere_session: fields::opt_year(&row, premiere.as_ref())?,
            code: row.get(&code).to_string(),
            code_type: CodeType::parse(row.get(&code_type)),
            code_formation_diplome: row.get(&cfd).to_string(),
            mef: row.get(&mef).to_string(),
            dispositif_formation: row.get(&dispositif).to_string(),
            libelle: row.get(&libelle).to_string(),
            niveau_formation_diplome: row.get(&niveau).to_string(),
            type_diplome: row.get(&type_diplome).to_string(),
            niveau_diplome: row.get(&niveau_diplome).to_string(),
            libelle_niveau_diplome: row.get(&libelle_niveau_diplome).to_string(),
            date_fermeture: parse_date(row.get(&fermeture))
                .map_err(|m| row.error(&fermeture, m))?,
            duree_dispositif: fields::opt_small_int(&row, &duree)?,
            annee_dispositif: fields::opt_small_int(&row, &annee)?,
            famille_metiers_code: famille_code.to_string(),
            famille_metiers_libelle: row.get(&famille_libelle).to_string(),
            familles_metiers_codes: all
                .split('|')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            seconde_commune: commune.as_ref().is_some_and(|c| row.get(c) == "true"),
        };
        out.insert(c.code.clone(), c);
    }
    Ok(out)
}

/// `continuum_lineage.csv` of the `continuum` stage, by code.
pub fn load_lineage(continuum_out: &Path) -> Result<HashMap<String, Vec<Relative>>> {
    let t = read(continuum_out, "continuum_lineage.csv", "continuum")?;
    let [code_type, code, relation, related, hops, strict] = t.columns([
        "code_certification_type",
        "code_certification",
        "relation",
        "related_code",
        "hops",
        "one_to_one_path",
    ])?;
    let mut out: HashMap<String, Vec<Relative>> = HashMap::new();
    for row in t.rows() {
        let Some(ct) = CodeType::parse(row.get(&code_type)) else {
            return Err(row.error(&code_type, "expected cfd, mef_stat_11 or sise"));
        };
        let Some(rel) = Relation::parse(row.get(&relation)) else {
            return Err(row.error(&relation, "expected ancetre or descendant"));
        };
        let r = Relative {
            code_type: ct,
            code: row.get(&code).to_string(),
            related_is_descendant: rel == Relation::Descendant,
            related_code: row.get(&related).to_string(),
            hops: fields::opt_small_int(&row, &hops)?.unwrap_or(0),
            one_to_one_path: row.get(&strict) == "true",
        };
        out.entry(r.code.clone()).or_default().push(r);
    }
    Ok(out)
}

/// `continuum_links.csv` of the `continuum` stage.
pub fn load_links(continuum_out: &Path) -> Result<Vec<LinkRow>> {
    let t = read(continuum_out, "continuum_links.csv", "continuum")?;
    let [code_type, ancien, nouveau, link_type] = t.columns([
        "code_certification_type",
        "ancien_code",
        "nouveau_code",
        "link_type",
    ])?;
    let mut out = Vec::with_capacity(t.len());
    for row in t.rows() {
        let Some(ct) = CodeType::parse(row.get(&code_type)) else {
            return Err(row.error(&code_type, "expected cfd, mef_stat_11 or sise"));
        };
        out.push(LinkRow {
            code_type: ct,
            ancien: row.get(&ancien).to_string(),
            nouveau: row.get(&nouveau).to_string(),
            link_type: LinkType::parse(row.get(&link_type)).ok_or_else(|| {
                row.error(
                    &link_type,
                    "expected one_to_one, split, merge or many_to_many",
                )
            })?,
        });
    }
    Ok(out)
}
