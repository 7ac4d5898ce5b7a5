//! A release, loaded once and indexed in memory for the API.
//!
//! `ij serve` and `ij api export` read a release folder (`release/<version>/`,
//! as `ij release` writes it) and nothing else: the three indicator tables
//! (`certifications`, `regionales`, `formations`), `certifications_terminales`
//! (first year → terminal years), `formations_referentiel` (labels of codes
//! without figures, the MEFs of a CFD) and the coverage tables. Each table is
//! read from its Parquet file with polars, into typed rows; codes and labels
//! repeated on many rows are shared (`Arc<str>`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::rules::codes::CodeType;
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;
use crate::stages::indicators::model::Taux;
use crate::staging::mesures::{Counts, Salaires};

/// What a certification is, whatever the row: from the indicator tables,
/// else from the referential.
#[derive(Debug, Clone, Default)]
pub struct Certification {
    pub code: Arc<str>,
    /// Ours: `cfd`, `mef_stat_11`, `sise`.
    pub code_type: Arc<str>,
    pub code_formation_diplome: Arc<str>,
    pub libelle: Arc<str>,
    pub niveau_diplome: Arc<str>,
    pub libelle_niveau_diplome: Arc<str>,
    pub date_fermeture: Option<Arc<str>>,
    pub formation_fermee: bool,
    pub famille_metiers_code: Arc<str>,
    pub famille_metiers_libelle: Arc<str>,
    /// A common first year of a famille de métiers.
    pub seconde_commune: bool,
}

/// Where a row's figures come from (`donnee_source_*` columns).
#[derive(Debug, Clone, Default)]
pub struct DonneeSource {
    /// `propre`, `ancienne`, `nouvelle`, `famille_metiers`.
    pub kind: Arc<str>,
    /// The code(s) the figures come from, `|`-joined.
    pub code: Option<Arc<str>>,
    pub hops: Option<i64>,
    pub link: Option<Arc<str>>,
}

/// One row of `certifications`, `regionales` or `formations`.
#[derive(Debug, Clone)]
pub struct Row {
    pub millesime: Millesime,
    pub filiere: Filiere,
    pub code: Arc<str>,
    /// INSEE région code (régional and establishment rows).
    pub region_code: Option<Arc<str>>,
    pub uai: Option<Arc<str>>,
    pub libelle_etablissement: Option<Arc<str>>,
    pub academie_code: Option<Arc<str>>,
    pub counts: Counts,
    pub taux: Taux,
    pub salaires: Salaires,
    /// Why figures are withheld: `sous_seuil`, `sortants_sous_seuil`, `non_diffuse`.
    pub masked: Option<Arc<str>>,
    pub origine: Arc<str>,
    pub donnee_source: DonneeSource,
}

/// A terminal year a first year leads to (`certifications_terminales`).
#[derive(Debug, Clone)]
pub struct Terminale {
    pub code: Arc<str>,
    /// `meme_formation` or `famille_metiers`.
    pub lien: Arc<str>,
}

/// A catalogue's coverage of one code (the release's `coverage_offers_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Couverture {
    pub catalogue: Arc<str>,
    pub offres: usize,
    pub couvertes: usize,
}

/// One level's rows and their indexes.
#[derive(Debug, Default)]
pub struct Table {
    /// In the release's order (its primary key).
    pub rows: Vec<Row>,
    /// place → code → rows, the place being "" (national), the région or the UAI.
    by_key: HashMap<Arc<str>, HashMap<Arc<str>, Vec<u32>>>,
    /// Millésimes per filière.
    pub millesimes: BTreeMap<Filiere, BTreeSet<Millesime>>,
}

impl Table {
    /// The rows of one code at one place ("" for national).
    pub fn rows_of(&self, place: &str, code: &str) -> impl Iterator<Item = &Row> {
        self.by_key
            .get(place)
            .and_then(|codes| codes.get(code))
            .into_iter()
            .flatten()
            .map(|&i| &self.rows[i as usize])
    }

    /// The latest millésime of a filière in this table.
    pub fn latest(&self, filiere: Filiere) -> Option<Millesime> {
        self.millesimes.get(&filiere)?.iter().next_back().copied()
    }
}

/// A loaded release.
#[derive(Debug, Default)]
pub struct ReleaseData {
    pub dir: PathBuf,
    pub version: String,
    /// Every file of the release's manifest (name → rows), for `GET /api`.
    pub tables: BTreeMap<String, Option<u64>>,
    pub seuil: i64,
    pub national: Table,
    pub regionales: Table,
    pub formations: Table,
    pub certifications: HashMap<Arc<str>, Certification>,
    /// First year → (terminal code, lien).
    pub terminales: HashMap<Arc<str>, Vec<Terminale>>,
    /// CFD → its MEF_STAT_11 codes (from the referential).
    pub mefs_of_cfd: HashMap<Arc<str>, Vec<Arc<str>>>,
    pub couverture: HashMap<Arc<str>, Vec<Couverture>>,
}

impl ReleaseData {
    pub fn table(&self, level: NiveauGeographique) -> &Table {
        match level {
            NiveauGeographique::National => &self.national,
            NiveauGeographique::Region => &self.regionales,
            NiveauGeographique::Etablissement => &self.formations,
        }
    }
}

/// Shares the strings repeated over rows.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_string(), a.clone());
        a
    }
    fn opt(&mut self, s: Option<&str>) -> Option<Arc<str>> {
        s.filter(|v| !v.is_empty()).map(|v| self.get(v))
    }
}

/// The columns of one Parquet file, read by name and type.
struct Frame {
    path: PathBuf,
    df: DataFrame,
}

impl Frame {
    fn read(path: &Path) -> Result<Frame> {
        let file = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::file(path, format!("cannot read the Parquet file: {e}")))?;
        Ok(Frame {
            path: path.to_path_buf(),
            df,
        })
    }
    fn rows(&self) -> usize {
        self.df.height()
    }
    fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }
    fn series(&self, name: &str, dtype: &DataType) -> Result<Series> {
        let column = self.df.column(name).map_err(|_| {
            Error::file(
                &self.path,
                format!("no column `{name}`: not a release table of this version of ij"),
            )
        })?;
        column
            .as_materialized_series()
            .cast(dtype)
            .map_err(|e| Error::file(&self.path, format!("column `{name}`: {e}")))
    }
    fn str(&self, name: &str) -> Result<Vec<Option<String>>> {
        let s = self.series(name, &DataType::String)?;
        let ca = s
            .str()
            .map_err(|e| Error::file(&self.path, e.to_string()))?;
        Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
    }
    /// A column that older releases may lack: all missing then.
    fn str_or_empty(&self, name: &str) -> Result<Vec<Option<String>>> {
        if self.has(name) {
            self.str(name)
        } else {
            Ok(vec![None; self.rows()])
        }
    }
    fn int(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let s = self.series(name, &DataType::Int64)?;
        let ca = s
            .i64()
            .map_err(|e| Error::file(&self.path, e.to_string()))?;
        Ok(ca.iter().collect())
    }
    fn float(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let s = self.series(name, &DataType::Float64)?;
        let ca = s
            .f64()
            .map_err(|e| Error::file(&self.path, e.to_string()))?;
        Ok(ca.iter().map(|v| v.filter(|x| x.is_finite())).collect())
    }
    fn bool(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let s = self.series(name, &DataType::Boolean)?;
        let ca = s
            .bool()
            .map_err(|e| Error::file(&self.path, e.to_string()))?;
        Ok(ca.iter().collect())
    }
}

/// Finds the release folder: `dir` itself when it holds `manifest.json`, or
/// its one version folder (`dist/sample/release/` holding one release).
pub fn find_release_dir(dir: &Path) -> Result<PathBuf> {
    if dir.join("manifest.json").is_file() {
        return Ok(dir.to_path_buf());
    }
    let not_release = || {
        Error::usage(format!(
            "{}: not a release folder (no manifest.json); give the folder `ij release` wrote, e.g. dist/sample/release/<version>",
            dir.display()
        ))
    };
    let entries = std::fs::read_dir(dir).map_err(|_| not_release())?;
    let mut versions: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    versions.sort();
    match versions.len() {
        1 => Ok(versions.remove(0)),
        0 => Err(not_release()),
        _ => Err(Error::usage(format!(
            "{}: holds {} releases ({}); give one of them",
            dir.display(),
            versions.len(),
            versions
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Loads and indexes a release.
pub fn load(dir: &Path) -> Result<ReleaseData> {
    let dir = find_release_dir(dir)?;
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|source| Error::Read {
        path: manifest_path.clone(),
        source,
    })?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::file(&manifest_path, format!("not JSON: {e}")))?;
    let version = manifest["version"]
        .as_str()
        .map(str::to_string)
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // `tables`: every published table and its rows.
    let mut tables = BTreeMap::new();
    for t in manifest["tables"].as_array().into_iter().flatten() {
        if let Some(name) = t["name"].as_str() {
            tables.insert(name.to_string(), t["rows"].as_u64());
        }
    }
    let seuil = find_seuil(&manifest).unwrap_or(crate::rules::rates::SEUIL_DEFAUT);

    let mut names = Interner::default();
    let mut data = ReleaseData {
        dir: dir.clone(),
        version,
        tables,
        seuil,
        ..ReleaseData::default()
    };
    for level in NiveauGeographique::ALL {
        let path = dir.join(format!("{}.parquet", level.table()));
        if !path.is_file() {
            continue;
        }
        let frame = Frame::read(&path)?;
        let table = read_indicators(&frame, level, &mut names, &mut data.certifications)?;
        match level {
            NiveauGeographique::National => data.national = table,
            NiveauGeographique::Region => data.regionales = table,
            NiveauGeographique::Etablissement => data.formations = table,
        }
    }
    let referentiel = dir.join("formations_referentiel.parquet");
    if referentiel.is_file() {
        read_referentiel(&Frame::read(&referentiel)?, &mut names, &mut data)?;
    }
    let terminales = dir.join("certifications_terminales.parquet");
    if terminales.is_file() {
        let f = Frame::read(&terminales)?;
        let (code, term, lien) = (
            f.str("code_certification")?,
            f.str("code_certification_terminale")?,
            f.str("lien")?,
        );
        for i in 0..f.rows() {
            if let (Some(c), Some(t)) = (&code[i], &term[i]) {
                let lien = names.get(lien[i].as_deref().unwrap_or(""));
                data.terminales
                    .entry(names.get(c))
                    .or_default()
                    .push(Terminale {
                        code: names.get(t),
                        lien,
                    });
            }
        }
    }
    read_couverture(&dir, &mut names, &mut data)?;
    Ok(data)
}

/// The threshold the release was built with (its run's settings), if written.
fn find_seuil(manifest: &serde_json::Value) -> Option<i64> {
    manifest["pipeline"]["settings"]["seuil"].as_i64()
}

fn read_indicators(
    f: &Frame,
    level: NiveauGeographique,
    names: &mut Interner,
    certifications: &mut HashMap<Arc<str>, Certification>,
) -> Result<Table> {
    let s = |n: &str| f.str(n);
    let (millesime, filiere, code, code_type) = (
        s("millesime")?,
        s("filiere")?,
        s("code_certification")?,
        s("code_certification_type")?,
    );
    let (cfd, libelle, niveau, libelle_niveau) = (
        s("code_formation_diplome")?,
        s("libelle")?,
        s("niveau_diplome")?,
        s("libelle_niveau_diplome")?,
    );
    let date_fermeture = s("date_fermeture")?;
    let fermee = f.bool("formation_fermee")?;
    let (fm_code, fm_libelle) = (s("famille_metiers_code")?, s("famille_metiers_libelle")?);
    let region = if level == NiveauGeographique::National {
        vec![None; f.rows()]
    } else {
        s("region_code")?
    };
    let uai = match level {
        NiveauGeographique::Etablissement => s("uai")?,
        _ => vec![None; f.rows()],
    };
    let (etab, academie) = match level {
        NiveauGeographique::Etablissement => (s("libelle_etablissement")?, s("academie_code")?),
        _ => (vec![None; f.rows()], vec![None; f.rows()]),
    };
    let i = |n: &str| f.int(n);
    let counts = [
        i("nb_annee_term")?,
        i("nb_sortant")?,
        i("nb_poursuite_etudes")?,
        i("nb_en_emploi_6_mois")?,
        i("nb_en_emploi_12_mois")?,
        i("nb_en_emploi_18_mois")?,
        i("nb_en_emploi_24_mois")?,
        i("nb_diplome")?,
    ];
    let rates = [
        i("taux_en_emploi_6_mois")?,
        i("taux_en_emploi_12_mois")?,
        i("taux_en_emploi_18_mois")?,
        i("taux_en_emploi_24_mois")?,
        i("taux_poursuite_etudes")?,
        i("part_en_emploi_6_mois")?,
        i("part_poursuite_etudes")?,
        i("part_autres_situations_6_mois")?,
    ];
    let salaires = [
        f.float("salaire_12_mois_q1")?,
        f.float("salaire_12_mois_q2")?,
        f.float("salaire_12_mois_q3")?,
    ];
    let (masked, origine) = (s("masked")?, s("origine")?);
    let (src_type, src_code, src_hops, src_link) = (
        s("donnee_source_type")?,
        s("donnee_source_code")?,
        i("donnee_source_hops")?,
        f.str_or_empty("donnee_source_link")?,
    );

    let mut table = Table::default();
    for r in 0..f.rows() {
        let bad = |what: &str| {
            Error::file(
                &f.path,
                format!("row {}: {what}", r + 1), // 1-based, as a reader counts
            )
        };
        let m = millesime[r].as_deref().unwrap_or("");
        let millesime = Millesime::parse(m).map_err(|e| bad(&e))?;
        let filiere = Filiere::parse(filiere[r].as_deref().unwrap_or("")).map_err(|e| bad(&e))?;
        let code = names.get(
            code[r]
                .as_deref()
                .ok_or_else(|| bad("no code_certification"))?,
        );
        certifications
            .entry(code.clone())
            .or_insert_with(|| Certification {
                code: code.clone(),
                code_type: names.get(code_type[r].as_deref().unwrap_or("")),
                code_formation_diplome: names.get(cfd[r].as_deref().unwrap_or("")),
                libelle: names.get(libelle[r].as_deref().unwrap_or("")),
                niveau_diplome: names.get(niveau[r].as_deref().unwrap_or("")),
                libelle_niveau_diplome: names.get(libelle_niveau[r].as_deref().unwrap_or("")),
                date_fermeture: names.opt(date_fermeture[r].as_deref()),
                formation_fermee: fermee[r].unwrap_or(false),
                famille_metiers_code: names.get(fm_code[r].as_deref().unwrap_or("")),
                famille_metiers_libelle: names.get(fm_libelle[r].as_deref().unwrap_or("")),
                seconde_commune: false,
            });
        let row = Row {
            millesime,
            filiere,
            code: code.clone(),
            region_code: names.opt(region[r].as_deref()),
            uai: names.opt(uai[r].as_deref()),
            libelle_etablissement: names.opt(etab[r].as_deref()),
            academie_code: names.opt(academie[r].as_deref()),
            counts: Counts {
                nb_annee_term: counts[0][r],
                nb_sortant: counts[1][r],
                nb_poursuite_etudes: counts[2][r],
                nb_en_emploi_6_mois: counts[3][r],
                nb_en_emploi_12_mois: counts[4][r],
                nb_en_emploi_18_mois: counts[5][r],
                nb_en_emploi_24_mois: counts[6][r],
                nb_diplome: counts[7][r],
            },
            taux: Taux {
                taux_en_emploi_6_mois: rates[0][r],
                taux_en_emploi_12_mois: rates[1][r],
                taux_en_emploi_18_mois: rates[2][r],
                taux_en_emploi_24_mois: rates[3][r],
                taux_poursuite_etudes: rates[4][r],
                part_en_emploi_6_mois: rates[5][r],
                part_poursuite_etudes: rates[6][r],
                part_autres_situations_6_mois: rates[7][r],
            },
            salaires: Salaires {
                salaire_12_mois_q1: salaires[0][r],
                salaire_12_mois_q2: salaires[1][r],
                salaire_12_mois_q3: salaires[2][r],
            },
            masked: names.opt(masked[r].as_deref()),
            origine: names.get(origine[r].as_deref().unwrap_or("")),
            donnee_source: DonneeSource {
                kind: names.get(src_type[r].as_deref().unwrap_or("propre")),
                code: names.opt(src_code[r].as_deref()),
                hops: src_hops[r],
                link: names.opt(src_link[r].as_deref()),
            },
        };
        let place = match level {
            NiveauGeographique::National => names.get(""),
            NiveauGeographique::Region => row.region_code.clone().unwrap_or_else(|| names.get("")),
            NiveauGeographique::Etablissement => row.uai.clone().unwrap_or_else(|| names.get("")),
        };
        table
            .millesimes
            .entry(filiere)
            .or_default()
            .insert(millesime);
        let index = u32::try_from(table.rows.len())
            .map_err(|_| bad("more than 4 billion rows: not a release this server can hold"))?;
        table
            .by_key
            .entry(place)
            .or_default()
            .entry(code)
            .or_default()
            .push(index);
        table.rows.push(row);
    }
    Ok(table)
}

fn read_referentiel(f: &Frame, names: &mut Interner, data: &mut ReleaseData) -> Result<()> {
    let s = |n: &str| f.str(n);
    let (code, code_type, cfd, libelle) = (
        s("code_certification")?,
        s("code_certification_type")?,
        s("code_formation_diplome")?,
        s("libelle")?,
    );
    let (niveau, libelle_niveau, date_fermeture) = (
        s("niveau_diplome")?,
        s("libelle_niveau_diplome")?,
        s("date_fermeture")?,
    );
    let (fm_code, fm_libelle) = (s("famille_metiers_code")?, s("famille_metiers_libelle")?);
    let seconde = if f.has("seconde_commune") {
        f.bool("seconde_commune")?
    } else {
        vec![None; f.rows()]
    };
    for r in 0..f.rows() {
        let Some(c) = code[r].as_deref() else {
            continue;
        };
        let c = names.get(c);
        let kind = names.get(code_type[r].as_deref().unwrap_or(""));
        let cfd = names.get(cfd[r].as_deref().unwrap_or(""));
        if CodeType::parse(&kind) == Some(CodeType::MefStat11) && !cfd.is_empty() {
            data.mefs_of_cfd
                .entry(cfd.clone())
                .or_default()
                .push(c.clone());
        }
        let seconde = seconde[r].unwrap_or(false);
        let entry = data
            .certifications
            .entry(c.clone())
            .or_insert_with(|| Certification {
                code: c.clone(),
                code_type: kind,
                code_formation_diplome: cfd,
                libelle: names.get(libelle[r].as_deref().unwrap_or("")),
                niveau_diplome: names.get(niveau[r].as_deref().unwrap_or("")),
                libelle_niveau_diplome: names.get(libelle_niveau[r].as_deref().unwrap_or("")),
                date_fermeture: names.opt(date_fermeture[r].as_deref()),
                formation_fermee: false,
                famille_metiers_code: names.get(fm_code[r].as_deref().unwrap_or("")),
                famille_metiers_libelle: names.get(fm_libelle[r].as_deref().unwrap_or("")),
                seconde_commune: false,
            });
        entry.seconde_commune = seconde;
    }
    for mefs in data.mefs_of_cfd.values_mut() {
        mefs.sort();
        mefs.dedup();
    }
    Ok(())
}

/// `coverage_offers_<catalogue>.parquet`: per code, how many offers of each
/// catalogue name it, and how many of them are covered.
fn read_couverture(dir: &Path, names: &mut Interner, data: &mut ReleaseData) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("coverage_offers") && n.ends_with(".parquet"))
        })
        .collect();
    files.sort();
    let mut counts: BTreeMap<(Arc<str>, Arc<str>), (usize, usize)> = BTreeMap::new();
    for path in files {
        let f = Frame::read(&path)?;
        let (catalogue, code, status) = (
            f.str("catalogue")?,
            f.str("code_certification")?,
            f.str("status")?,
        );
        for r in 0..f.rows() {
            let (Some(cat), Some(code)) = (catalogue[r].as_deref(), code[r].as_deref()) else {
                continue;
            };
            let e = counts.entry((names.get(code), names.get(cat))).or_default();
            e.0 += 1;
            if status[r].as_deref() == Some("covered") {
                e.1 += 1;
            }
        }
    }
    for ((code, catalogue), (offres, couvertes)) in counts {
        data.couverture.entry(code).or_default().push(Couverture {
            catalogue,
            offres,
            couvertes,
        });
    }
    Ok(())
}
