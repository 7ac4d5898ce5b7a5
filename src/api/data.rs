//! A release, loaded once and indexed in memory for the API.
//!
//! `ij serve` and `ij api export` read a release folder (`release/<version>/`,
//! as `ij release` writes it) and nothing else: the three indicator tables
//! (`certifications`, `regionales`, `formations`), `certifications_terminales`
//! (first year → terminal years), `formations_referentiel` (labels of codes
//! without figures, the MEFs of a CFD) and the coverage tables. Each table is
//! read from its Parquet file through `input::StageTable`, as the stages read
//! each other's tables, into typed rows (enum columns through the enums'
//! own `parse`); codes and labels repeated on many rows are shared
//! (`Arc<str>`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::input::StageTable;
use crate::rules::codes::CodeType;
use crate::rules::continuum::DonneeSourceType;
use crate::rules::filiere::Filiere;
use crate::rules::masquage::Masked;
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
    pub code_type: Option<CodeType>,
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
    pub kind: DonneeSourceType,
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
    /// Why figures are withheld (`rules::masquage`).
    pub masked: Option<Masked>,
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
        let table = read_indicators(&path, level, &mut names, &mut data.certifications)?;
        match level {
            NiveauGeographique::National => data.national = table,
            NiveauGeographique::Region => data.regionales = table,
            NiveauGeographique::Etablissement => data.formations = table,
        }
    }
    let referentiel = dir.join("formations_referentiel.parquet");
    if referentiel.is_file() {
        read_referentiel(&referentiel, &mut names, &mut data)?;
    }
    let terminales = dir.join("certifications_terminales.parquet");
    if terminales.is_file() {
        read_terminales(&terminales, &mut names, &mut data)?;
    }
    read_couverture(&dir, &mut names, &mut data)?;
    Ok(data)
}

/// The threshold the release was built with (its run's settings), if written.
fn find_seuil(manifest: &serde_json::Value) -> Option<i64> {
    manifest["pipeline"]["settings"]["seuil"].as_i64()
}

/// The columns of an indicator table the API reads, at every level.
const INDICATEUR_TEXT: [&str; 13] = [
    "millesime",
    "filiere",
    "code_certification",
    "code_certification_type",
    "code_formation_diplome",
    "libelle",
    "niveau_diplome",
    "libelle_niveau_diplome",
    "famille_metiers_code",
    "famille_metiers_libelle",
    "masked",
    "origine",
    "donnee_source_type",
];
const INDICATEUR_OTHER: [&str; 4] = [
    "donnee_source_code",
    "date_fermeture",
    "formation_fermee",
    "donnee_source_hops",
];
/// The counts, in `Counts`' order.
const COUNTS: [&str; 8] = [
    "nb_annee_term",
    "nb_sortant",
    "nb_poursuite_etudes",
    "nb_en_emploi_6_mois",
    "nb_en_emploi_12_mois",
    "nb_en_emploi_18_mois",
    "nb_en_emploi_24_mois",
    "nb_diplome",
];
/// The rates, in `Taux`' order.
const RATES: [&str; 8] = [
    "taux_en_emploi_6_mois",
    "taux_en_emploi_12_mois",
    "taux_en_emploi_18_mois",
    "taux_en_emploi_24_mois",
    "taux_poursuite_etudes",
    "part_en_emploi_6_mois",
    "part_poursuite_etudes",
    "part_autres_situations_6_mois",
];
const SALAIRES: [&str; 3] = [
    "salaire_12_mois_q1",
    "salaire_12_mois_q2",
    "salaire_12_mois_q3",
];

/// The place columns of a level's table: none nationally, the région for a
/// regional row, the région, UAI, name and académie for an establishment's.
fn place_columns(level: NiveauGeographique) -> &'static [&'static str] {
    match level {
        NiveauGeographique::National => &[],
        NiveauGeographique::Region => &["region_code"],
        NiveauGeographique::Etablissement => &[
            "region_code",
            "uai",
            "libelle_etablissement",
            "academie_code",
        ],
    }
}

/// An indicator table's columns, typed: what `read_indicators` turns into
/// rows, read once per column rather than once per cell.
struct IndicatorColumns<'t> {
    text: [Vec<Option<&'t str>>; 13],
    code_type: Vec<Option<CodeType>>,
    masked: Vec<Option<Masked>>,
    source_type: Vec<Option<DonneeSourceType>>,
    source_code: Vec<Option<&'t str>>,
    source_hops: Vec<Option<i64>>,
    source_link: Vec<Option<&'t str>>,
    date_fermeture: Vec<Option<String>>,
    fermee: Vec<Option<bool>>,
    counts: [Vec<Option<i64>>; 8],
    rates: [Vec<Option<i64>>; 8],
    salaires: [Vec<Option<f64>>; 3],
    /// Absent at the levels that do not have them: all missing.
    region: Vec<Option<&'t str>>,
    uai: Vec<Option<&'t str>>,
    etablissement: Vec<Option<&'t str>>,
    academie: Vec<Option<&'t str>>,
}

impl<'t> IndicatorColumns<'t> {
    fn read(t: &'t StageTable, level: NiveauGeographique) -> Result<IndicatorColumns<'t>> {
        let texts = INDICATEUR_TEXT.map(|c| t.text(c));
        let [a, b, c, d, e, f, g, h, i, j, k, l, m] = texts;
        let text = [a?, b?, c?, d?, e?, f?, g?, h?, i?, j?, k?, l?, m?];
        let ints = |names: [&str; 8]| -> Result<[Vec<Option<i64>>; 8]> {
            let [a, b, c, d, e, f, g, h] = names.map(|n| t.integer(n));
            Ok([a?, b?, c?, d?, e?, f?, g?, h?])
        };
        let [q1, q2, q3] = SALAIRES.map(|n| t.float(n));
        // A salary that is not a number is missing, as in the CSV.
        let finite = |v: Vec<Option<f64>>| -> Vec<Option<f64>> {
            v.into_iter().map(|x| x.filter(|x| x.is_finite())).collect()
        };
        let place = |name: &str| -> Result<Vec<Option<&'t str>>> {
            if place_columns(level).contains(&name) {
                t.text(name)
            } else {
                Ok(vec![None; t.height()])
            }
        };
        Ok(IndicatorColumns {
            code_type: t.parsed(
                "code_certification_type",
                CodeType::parse,
                CodeType::ALL.map(CodeType::as_str),
            )?,
            masked: t.parsed("masked", Masked::parse, Masked::ALL.map(Masked::as_str))?,
            source_type: t.parsed(
                "donnee_source_type",
                DonneeSourceType::parse,
                DonneeSourceType::ALL.map(DonneeSourceType::as_str),
            )?,
            text,
            source_code: t.text("donnee_source_code")?,
            source_hops: t.integer("donnee_source_hops")?,
            source_link: t.text("donnee_source_link")?,
            // As the CSV writes a date: `YYYY-MM-DD`.
            date_fermeture: t
                .date("date_fermeture")?
                .into_iter()
                .map(|d| d.map(|d| d.to_string()))
                .collect(),
            fermee: t.boolean("formation_fermee")?,
            counts: ints(COUNTS)?,
            rates: ints(RATES)?,
            salaires: [finite(q1?), finite(q2?), finite(q3?)],
            region: place("region_code")?,
            uai: place("uai")?,
            etablissement: place("libelle_etablissement")?,
            academie: place("academie_code")?,
        })
    }

    /// A text column of `INDICATEUR_TEXT` at row `r`, "" when missing.
    fn text(&self, column: &str, r: usize) -> &'t str {
        let i = INDICATEUR_TEXT
            .iter()
            .position(|c| *c == column)
            .expect("a column of INDICATEUR_TEXT");
        self.text[i][r].unwrap_or("")
    }

    /// What row `r` says of its certification (the first row of a code
    /// wins; the referential fills codes without figures).
    fn certification(&self, r: usize, code: &Arc<str>, names: &mut Interner) -> Certification {
        Certification {
            code: code.clone(),
            code_type: self.code_type[r],
            code_formation_diplome: names.get(self.text("code_formation_diplome", r)),
            libelle: names.get(self.text("libelle", r)),
            niveau_diplome: names.get(self.text("niveau_diplome", r)),
            libelle_niveau_diplome: names.get(self.text("libelle_niveau_diplome", r)),
            date_fermeture: names.opt(self.date_fermeture[r].as_deref()),
            formation_fermee: self.fermee[r].unwrap_or(false),
            famille_metiers_code: names.get(self.text("famille_metiers_code", r)),
            famille_metiers_libelle: names.get(self.text("famille_metiers_libelle", r)),
            seconde_commune: false,
        }
    }

    /// Row `r`'s figures and where they come from.
    fn row(
        &self,
        r: usize,
        millesime: Millesime,
        filiere: Filiere,
        code: Arc<str>,
        names: &mut Interner,
    ) -> Row {
        let (c, t, s) = (&self.counts, &self.rates, &self.salaires);
        Row {
            millesime,
            filiere,
            code,
            region_code: names.opt(self.region[r]),
            uai: names.opt(self.uai[r]),
            libelle_etablissement: names.opt(self.etablissement[r]),
            academie_code: names.opt(self.academie[r]),
            counts: Counts {
                nb_annee_term: c[0][r],
                nb_sortant: c[1][r],
                nb_poursuite_etudes: c[2][r],
                nb_en_emploi_6_mois: c[3][r],
                nb_en_emploi_12_mois: c[4][r],
                nb_en_emploi_18_mois: c[5][r],
                nb_en_emploi_24_mois: c[6][r],
                nb_diplome: c[7][r],
            },
            taux: Taux {
                taux_en_emploi_6_mois: t[0][r],
                taux_en_emploi_12_mois: t[1][r],
                taux_en_emploi_18_mois: t[2][r],
                taux_en_emploi_24_mois: t[3][r],
                taux_poursuite_etudes: t[4][r],
                part_en_emploi_6_mois: t[5][r],
                part_poursuite_etudes: t[6][r],
                part_autres_situations_6_mois: t[7][r],
            },
            salaires: Salaires {
                salaire_12_mois_q1: s[0][r],
                salaire_12_mois_q2: s[1][r],
                salaire_12_mois_q3: s[2][r],
            },
            masked: self.masked[r],
            origine: names.get(self.text("origine", r)),
            donnee_source: DonneeSource {
                kind: self.source_type[r].unwrap_or_default(),
                code: names.opt(self.source_code[r]),
                hops: self.source_hops[r],
                link: names.opt(self.source_link[r]),
            },
        }
    }
}

/// One level's indicator table: its rows, indexed by place and code, and
/// the certifications they describe.
fn read_indicators(
    path: &Path,
    level: NiveauGeographique,
    names: &mut Interner,
    certifications: &mut HashMap<Arc<str>, Certification>,
) -> Result<Table> {
    let columns = INDICATEUR_TEXT
        .into_iter()
        .chain(INDICATEUR_OTHER)
        .chain(COUNTS)
        .chain(RATES)
        .chain(SALAIRES)
        .chain(place_columns(level).iter().copied());
    // `donnee_source_link` came after the first releases.
    let t = StageTable::read_with(path, columns, &["donnee_source_link"])?;
    let cols = IndicatorColumns::read(&t, level)?;
    let mut table = Table::default();
    for r in 0..t.height() {
        let millesime =
            Millesime::parse(cols.text("millesime", r)).map_err(|e| t.error(r, "millesime", e))?;
        let filiere =
            Filiere::parse(cols.text("filiere", r)).map_err(|e| t.error(r, "filiere", e))?;
        let code = match cols.text[2][r] {
            Some(c) => names.get(c),
            None => return Err(t.error(r, "code_certification", "empty")),
        };
        if !certifications.contains_key(&code) {
            let c = cols.certification(r, &code, names);
            certifications.insert(code.clone(), c);
        }
        let row = cols.row(r, millesime, filiere, code.clone(), names);
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
        let index = u32::try_from(table.rows.len()).map_err(|_| {
            t.error(
                r,
                "code_certification",
                "more than 4 billion rows: not a release this server can hold",
            )
        })?;
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

/// `formations_referentiel`: the codes without figures, the MEFs of each
/// CFD, and which codes are a common first year.
fn read_referentiel(path: &Path, names: &mut Interner, data: &mut ReleaseData) -> Result<()> {
    let text = [
        "code_certification",
        "code_formation_diplome",
        "libelle",
        "niveau_diplome",
        "libelle_niveau_diplome",
        "famille_metiers_code",
        "famille_metiers_libelle",
    ];
    let columns = text
        .into_iter()
        .chain(["code_certification_type", "date_fermeture"]);
    // `seconde_commune` came with issue 6.
    let t = StageTable::read_with(path, columns, &["seconde_commune"])?;
    let [code, cfd, libelle, niveau, libelle_niveau, fm_code, fm_libelle] = text.map(|c| t.text(c));
    let [code, cfd, libelle, niveau, libelle_niveau, fm_code, fm_libelle] = [
        code?,
        cfd?,
        libelle?,
        niveau?,
        libelle_niveau?,
        fm_code?,
        fm_libelle?,
    ];
    let code_type = t.parsed(
        "code_certification_type",
        CodeType::parse,
        CodeType::ALL.map(CodeType::as_str),
    )?;
    let date_fermeture = t.date("date_fermeture")?;
    let seconde = t.boolean("seconde_commune")?;
    for r in 0..t.height() {
        let Some(c) = code[r] else {
            continue;
        };
        let c = names.get(c);
        let cfd = names.get(cfd[r].unwrap_or(""));
        if code_type[r] == Some(CodeType::MefStat11) && !cfd.is_empty() {
            data.mefs_of_cfd
                .entry(cfd.clone())
                .or_default()
                .push(c.clone());
        }
        let fermeture = date_fermeture[r].map(|d| d.to_string());
        let entry = data
            .certifications
            .entry(c.clone())
            .or_insert_with(|| Certification {
                code: c.clone(),
                code_type: code_type[r],
                code_formation_diplome: cfd,
                libelle: names.get(libelle[r].unwrap_or("")),
                niveau_diplome: names.get(niveau[r].unwrap_or("")),
                libelle_niveau_diplome: names.get(libelle_niveau[r].unwrap_or("")),
                date_fermeture: names.opt(fermeture.as_deref()),
                formation_fermee: false,
                famille_metiers_code: names.get(fm_code[r].unwrap_or("")),
                famille_metiers_libelle: names.get(fm_libelle[r].unwrap_or("")),
                seconde_commune: false,
            });
        entry.seconde_commune = seconde[r].unwrap_or(false);
    }
    for mefs in data.mefs_of_cfd.values_mut() {
        mefs.sort();
        mefs.dedup();
    }
    Ok(())
}

/// `certifications_terminales`: first year → its terminal years.
fn read_terminales(path: &Path, names: &mut Interner, data: &mut ReleaseData) -> Result<()> {
    let columns = ["code_certification", "code_certification_terminale", "lien"];
    let t = StageTable::read(path, columns.into_iter())?;
    let [code, term, lien] = columns.map(|c| t.text(c));
    let [code, term, lien] = [code?, term?, lien?];
    for i in 0..t.height() {
        if let (Some(c), Some(term)) = (code[i], term[i]) {
            let lien = names.get(lien[i].unwrap_or(""));
            data.terminales
                .entry(names.get(c))
                .or_default()
                .push(Terminale {
                    code: names.get(term),
                    lien,
                });
        }
    }
    Ok(())
}

/// `coverage_offers_<catalogue>.parquet`: per code, how many offers of each
/// catalogue name it, and how many of them are covered (the table's
/// `covered` column: `status` is `covered`).
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
        let t = StageTable::read(
            &path,
            ["catalogue", "code_certification", "covered"].into_iter(),
        )?;
        let (catalogue, code, covered) = (
            t.text("catalogue")?,
            t.text("code_certification")?,
            t.boolean("covered")?,
        );
        for r in 0..t.height() {
            let (Some(cat), Some(code)) = (catalogue[r], code[r]) else {
                continue;
            };
            let e = counts.entry((names.get(code), names.get(cat))).or_default();
            e.0 += 1;
            if covered[r] == Some(true) {
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
