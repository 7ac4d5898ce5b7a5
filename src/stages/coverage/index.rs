//! The indicator tables as coverage reads them: each key's newest row, the
//! latest millésime of each filière at each level (the millésime rule), and
//! the terminal certifications a first year leads to.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{self, DelimitedOptions};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::indicators::model::{DonneeSourceType, Masked};
use crate::stages::indicators::terminales::LIEN_FAMILLE_METIERS;

use crate::rules::niveau::NiveauGeographique;

/// An indicator row, as much of it as coverage needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub millesime: Millesime,
    pub masked: Option<Masked>,
    pub donnee_source_type: DonneeSourceType,
    pub taux_en_emploi_6_mois: String,
    pub taux_poursuite_etudes: String,
    pub part_en_emploi_6_mois: String,
}

impl Shown {
    /// Published: not masked, or only its employment rates withheld.
    pub fn is_published(&self) -> bool {
        Masked::is_published(self.masked)
    }

    /// The code's own figures (not the continuum's, not a family's sum).
    pub fn propre(&self) -> bool {
        self.donnee_source_type == DonneeSourceType::Propre
    }
}

/// Indicator rows by (level, UAI or région or "", filière, code): each
/// key's newest row.
///
/// The millésime rule (issue 15): at each level, an offer is resolved
/// against the latest millésime its filière has at that level, and nothing
/// older. A platform shows this year's figures; a code whose newest row is
/// older has no data this year (its newest millésime is reported as
/// information, never as coverage). A year and the cumulated pair ending
/// with it (`2023`, `2022_2023`) are counterparts, as in the reference API
/// (national files give years, regional ones pairs). Levels keep their own
/// latest because the publications are separate: per-establishment files
/// may come out a year before the regional one. The partners' API applies
/// the same default.
#[derive(Debug, Default)]
pub struct IndicatorIndex {
    /// Keyed by interned UAI / région and code: a lookup (twelve per offer,
    /// one per waterfall step) copies no string (issue 13).
    rows: HashMap<(NiveauGeographique, u32, Filiere, u32), Shown>,
    /// UAIs, régions and codes → their number in `rows`' keys.
    names: HashMap<String, u32>,
    /// The latest millésime of each filière at each level: the one coverage
    /// resolves against there.
    latest: BTreeMap<(Filiere, NiveauGeographique), Millesime>,
    /// The latest millésime of each filière over every level, the reference
    /// for `new_formation`.
    pub(super) latest_any: HashMap<Filiere, Millesime>,
}

impl IndicatorIndex {
    pub(super) fn insert(
        &mut self,
        level: NiveauGeographique,
        key: String,
        filiere: Filiere,
        code: String,
        shown: Shown,
    ) {
        for latest in [
            self.latest
                .entry((filiere, level))
                .or_insert(shown.millesime),
            self.latest_any.entry(filiere).or_insert(shown.millesime),
        ] {
            if shown.millesime.last > latest.last {
                *latest = shown.millesime;
            }
        }
        let k = (level, self.intern(key), filiere, self.intern(code));
        match self.rows.get(&k) {
            Some(existing) if existing.millesime >= shown.millesime => {}
            _ => {
                self.rows.insert(k, shown);
            }
        }
    }

    fn intern(&mut self, name: String) -> u32 {
        let next = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        *self.names.entry(name).or_insert(next)
    }

    /// The key's row of the latest millésime of its filière at its level,
    /// if it has one.
    pub(super) fn get(
        &self,
        level: NiveauGeographique,
        key: &str,
        filiere: Filiere,
        code: &str,
    ) -> Option<&Shown> {
        let latest = self.latest.get(&(filiere, level))?;
        self.newest(level, key, filiere, code)
            .filter(|s| s.millesime.last == latest.last)
    }

    /// The key's newest row, whatever its millésime.
    pub(super) fn newest(
        &self,
        level: NiveauGeographique,
        key: &str,
        filiere: Filiere,
        code: &str,
    ) -> Option<&Shown> {
        let key = *self.names.get(key)?;
        let code = *self.names.get(code)?;
        self.rows.get(&(level, key, filiere, code))
    }

    /// The latest millésime of each filière at each level, by names.
    pub fn latest_millesimes(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((filiere, level), m) in &self.latest {
            out.entry(filiere.as_str().to_string())
                .or_default()
                .insert(level.as_str().to_string(), m.to_string());
        }
        out
    }

    /// Reads the indicator tables the `indicators` stage wrote.
    pub fn load(indicators_out: &Path) -> Result<IndicatorIndex> {
        let mut index = IndicatorIndex::default();
        for (file, level, key_column) in [
            (
                "formations.csv",
                NiveauGeographique::Etablissement,
                Some("uai"),
            ),
            (
                "regionales.csv",
                NiveauGeographique::Region,
                Some("region_code"),
            ),
            ("certifications.csv", NiveauGeographique::National, None),
        ] {
            let path = indicators_out.join(file);
            if !path.is_file() {
                return Err(Error::usage(format!(
                    "{}: missing; run the `indicators` stage first",
                    path.display()
                )));
            }
            let t = input::read_table(&path, &DelimitedOptions::default())?;
            let [millesime, filiere, code, masked, source, emploi, poursuite, part] =
                t.columns([
                    "millesime",
                    "filiere",
                    "code_certification",
                    "masked",
                    "donnee_source_type",
                    "taux_en_emploi_6_mois",
                    "taux_poursuite_etudes",
                    "part_en_emploi_6_mois",
                ])?;
            let key = match key_column {
                Some(name) => Some(t.column(name)?),
                None => None,
            };
            for row in t.rows() {
                let m =
                    Millesime::parse(row.get(&millesime)).map_err(|e| row.error(&millesime, e))?;
                let f = Filiere::parse(row.get(&filiere)).map_err(|e| row.error(&filiere, e))?;
                let shown = Shown {
                    millesime: m,
                    masked: match row.get(&masked) {
                        "" => None,
                        v => Some(Masked::parse(v).ok_or_else(|| {
                            row.error(
                                &masked,
                                "expected sous_seuil, sortants_sous_seuil or non_diffuse",
                            )
                        })?),
                    },
                    donnee_source_type: DonneeSourceType::parse(row.get(&source)).ok_or_else(
                        || {
                            row.error(
                                &source,
                                "expected propre, ancienne, nouvelle or famille_metiers",
                            )
                        },
                    )?,
                    taux_en_emploi_6_mois: row.get(&emploi).to_string(),
                    taux_poursuite_etudes: row.get(&poursuite).to_string(),
                    part_en_emploi_6_mois: row.get(&part).to_string(),
                };
                let k = key
                    .as_ref()
                    .map(|c| row.get(c).to_string())
                    .unwrap_or_default();
                index.insert(level, k, f, row.get(&code).to_string(), shown);
            }
        }
        Ok(index)
    }
}

/// First year → its terminal certifications, and whether through a famille de métiers.
#[derive(Debug, Default)]
pub struct Terminales {
    pub(super) by_code: HashMap<String, (Vec<String>, bool)>,
}

impl Terminales {
    pub fn load(indicators_out: &Path) -> Result<Terminales> {
        let path = indicators_out.join("certifications_terminales.csv");
        let t = input::read_table(&path, &DelimitedOptions::default())?;
        let [code, terminale, lien] =
            t.columns(["code_certification", "code_certification_terminale", "lien"])?;
        let mut by_code: HashMap<String, (Vec<String>, bool)> = HashMap::new();
        for row in t.rows() {
            let e = by_code.entry(row.get(&code).to_string()).or_default();
            e.0.push(row.get(&terminale).to_string());
            e.1 |= row.get(&lien) == LIEN_FAMILLE_METIERS;
        }
        Ok(Terminales { by_code })
    }
}
