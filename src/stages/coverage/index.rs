//! The indicator tables as coverage reads them: each key's newest row, the
//! latest millésime of each filière at each level (the millésime rule), and
//! the terminal certifications a first year leads to.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use foldhash::fast::FixedState;

use crate::error::{Error, Result};
use crate::input::StageTable;
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
    /// Empty when withheld (masked, or not computed).
    pub taux_en_emploi_6_mois: Option<i64>,
    pub taux_poursuite_etudes: Option<i64>,
    pub part_en_emploi_6_mois: Option<i64>,
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
    /// Keyed by interned UAI / région and code: an offer's keys are looked
    /// up once ([`IndicatorIndex::id`]), then each of its rows by integers
    /// (issue 13: millions of offers in a national catalogue).
    rows: HashMap<(NiveauGeographique, u32, Filiere, u32), Shown, FixedState>,
    /// UAIs, régions and codes → their number in `rows`' keys.
    names: HashMap<String, u32, FixedState>,
    /// The latest millésime of each filière at each level: the one coverage
    /// resolves against there.
    latest: BTreeMap<(Filiere, NiveauGeographique), Millesime>,
    /// The latest millésime of each filière over every level, the reference
    /// for `new_formation`.
    pub(super) latest_any: HashMap<Filiere, Millesime>,
}

impl IndicatorIndex {
    /// Adds an indicator row by its names (tests build their index so).
    #[cfg(test)]
    pub(super) fn insert(
        &mut self,
        level: NiveauGeographique,
        key: &str,
        filiere: Filiere,
        code: &str,
        shown: Shown,
    ) {
        let k = (level, self.intern(key), filiere, self.intern(code));
        self.insert_by_id(k, shown);
    }

    /// [`IndicatorIndex::insert`] of a row whose names are numbered: kept
    /// unless the key has a row of this millésime or a later one. One
    /// probe of the map (each of ×100's nine million rows missed the
    /// caches there, issue 13).
    fn insert_by_id(&mut self, k: (NiveauGeographique, u32, Filiere, u32), shown: Shown) {
        use std::collections::hash_map::Entry;
        let (level, _, filiere, _) = k;
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
        match self.rows.entry(k) {
            Entry::Occupied(mut existing) => {
                if existing.get().millesime < shown.millesime {
                    existing.insert(shown);
                }
            }
            Entry::Vacant(place) => {
                place.insert(shown);
            }
        }
    }

    /// A name's number; a name is copied only the first time it comes
    /// (issue 13: two `String`s per row read were a tenth of coverage's
    /// reading of ×10's tables).
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.names.get(name) {
            return id;
        }
        let next = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        self.names.insert(name.to_string(), next);
        next
    }

    /// The row of a key (by the numbers of its UAI, région or nation and
    /// its code) of the latest millésime of its filière at its level.
    pub(super) fn get_by_id(
        &self,
        level: NiveauGeographique,
        key: u32,
        filiere: Filiere,
        code: u32,
    ) -> Option<&Shown> {
        let latest = self.latest.get(&(filiere, level))?;
        self.rows
            .get(&(level, key, filiere, code))
            .filter(|s| s.millesime.last == latest.last)
    }

    /// The key's newest row by numbers, whatever its millésime.
    pub(super) fn newest_by_id(
        &self,
        level: NiveauGeographique,
        key: u32,
        filiere: Filiere,
        code: u32,
    ) -> Option<&Shown> {
        self.rows.get(&(level, key, filiere, code))
    }

    /// The latest millésime of a filière at a level: the one shown there.
    pub(super) fn latest(&self, filiere: Filiere, level: NiveauGeographique) -> Option<Millesime> {
        self.latest.get(&(filiere, level)).copied()
    }

    /// The number of a UAI, région or code in the index; `None` when no row
    /// has it (nothing can then be found under it).
    pub(super) fn id(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
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

    /// Reads the indicator tables the `indicators` stage wrote, from their
    /// Parquet twins: typed columns, only the ones coverage needs (the CSV,
    /// 19 MB for the real regional table, was parsed field by field).
    pub fn load(indicators_out: &Path) -> Result<IndicatorIndex> {
        let mut index = IndicatorIndex::default();
        for (table, level, key_column) in [
            ("formations", NiveauGeographique::Etablissement, Some("uai")),
            (
                "regionales",
                NiveauGeographique::Region,
                Some("region_code"),
            ),
            ("certifications", NiveauGeographique::National, None),
        ] {
            let path = indicators_out.join(format!("{table}.parquet"));
            if !path.is_file() {
                return Err(Error::usage(format!(
                    "{}: missing; run the `indicators` stage first",
                    path.display()
                )));
            }
            index.load_table(&path, level, key_column)?;
        }
        Ok(index)
    }

    fn load_table(
        &mut self,
        path: &Path,
        level: NiveauGeographique,
        key_column: Option<&str>,
    ) -> Result<()> {
        let columns = TEXT.into_iter().chain([MASKED, DONNEE_SOURCE_TYPE]);
        // A row group at a time: the columns read whole (×100's regional
        // table, 840 MB) and their values as vectors (about 130 bytes a
        // row) were most of coverage's peak.
        let columns = key_column.into_iter().chain(columns).chain(RATES);
        for group in StageTable::row_groups(path, columns, &[])? {
            self.load_rows(&group?, level, key_column)?;
        }
        Ok(())
    }

    fn load_rows(
        &mut self,
        table: &StageTable,
        level: NiveauGeographique,
        key_column: Option<&str>,
    ) -> Result<()> {
        let [millesime, filiere, code] = TEXT.map(|c| table.text(c));
        let [millesime, filiere, code] = [millesime?, filiere?, code?];
        let masked = table.parsed(MASKED, Masked::parse, Masked::ALL.map(Masked::as_str))?;
        let source = table.parsed_required(
            DONNEE_SOURCE_TYPE,
            DonneeSourceType::parse,
            DonneeSourceType::ALL.map(DonneeSourceType::as_str),
        )?;
        let [emploi, poursuite, part] = RATES.map(|c| table.integer(c));
        let [emploi, poursuite, part] = [emploi?, poursuite?, part?];
        let key = key_column.map(|c| table.text(c)).transpose()?;
        // The last millésime read and its text: a table sorted by its key
        // repeats it row after row.
        let mut last_millesime: Option<(&str, Millesime)> = None;
        let mut last_code: Option<(&str, u32)> = None;
        for i in 0..table.height() {
            let at = |column: &str, e: String| table.error(i, column, e);
            let text = millesime[i].unwrap_or("");
            let m = match last_millesime {
                Some((last, m)) if last == text => m,
                _ => {
                    let m = Millesime::parse(text).map_err(|e| at("millesime", e.to_string()))?;
                    last_millesime = Some((text, m));
                    m
                }
            };
            let f = Filiere::parse(filiere[i].unwrap_or(""))
                .map_err(|e| at("filiere", e.to_string()))?;
            let shown = Shown {
                millesime: m,
                masked: masked[i],
                donnee_source_type: source[i],
                taux_en_emploi_6_mois: emploi[i],
                taux_poursuite_etudes: poursuite[i],
                part_en_emploi_6_mois: part[i],
            };
            let k = key.as_ref().and_then(|c| c[i]).unwrap_or_default();
            let key_id = self.intern(k);
            // A level sorted by code gives a code's rows one after the
            // other: its number is looked up once.
            let code_text = code[i].unwrap_or_default();
            let code_id = match last_code {
                Some((last, id)) if last == code_text => id,
                _ => {
                    let id = self.intern(code_text);
                    last_code = Some((code_text, id));
                    id
                }
            };
            self.insert_by_id((level, key_id, f, code_id), shown);
        }
        Ok(())
    }
}

/// The columns of an indicator table coverage reads besides its key: text,
/// the two enums, then rates.
const TEXT: [&str; 3] = ["millesime", "filiere", "code_certification"];
const MASKED: &str = "masked";
const DONNEE_SOURCE_TYPE: &str = "donnee_source_type";
const RATES: [&str; 3] = [
    "taux_en_emploi_6_mois",
    "taux_poursuite_etudes",
    "part_en_emploi_6_mois",
];

/// First year → its terminal certifications, and whether through a famille de métiers.
#[derive(Debug, Default)]
pub struct Terminales {
    pub(super) by_code: HashMap<String, (Vec<String>, bool), FixedState>,
}

impl Terminales {
    pub fn load(indicators_out: &Path) -> Result<Terminales> {
        let path = indicators_out.join("certifications_terminales.parquet");
        let columns = ["code_certification", "code_certification_terminale", "lien"];
        let table = StageTable::read(&path, columns.into_iter())?;
        let [code, terminale, lien] = columns.map(|c| table.text(c));
        let [code, terminale, lien] = [code?, terminale?, lien?];
        let mut by_code: HashMap<String, (Vec<String>, bool), FixedState> = HashMap::default();
        for i in 0..table.height() {
            let e = by_code
                .entry(code[i].unwrap_or_default().to_string())
                .or_default();
            e.0.push(terminale[i].unwrap_or_default().to_string());
            e.1 |= lien[i] == Some(LIEN_FAMILLE_METIERS);
        }
        Ok(Terminales { by_code })
    }
}
