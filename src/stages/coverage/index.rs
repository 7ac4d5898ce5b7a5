//! The indicator tables as coverage reads them: each key's newest row, the
//! latest millésime of each filière at each level (the millésime rule), and
//! the terminal certifications a first year leads to.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use foldhash::fast::FixedState;

use crate::error::{Error, Result};
use crate::input::StageTable;
use crate::memory::ByRun;
use crate::rules::codes::Code;
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
    /// (issue 13: millions of offers in a national catalogue). In
    /// [`SHARDS`] maps by the key's hash ([`shard_of`]), filled side by
    /// side: each insert of ×100's nine million rows missed the caches,
    /// one core waiting on memory while the other idled.
    rows: [HashMap<Key, Shown, FixedState>; SHARDS],
    /// UAIs, régions and codes → their number in `rows`' keys. Held inline
    /// (`Code`: every UAI, région and code fits): a name looked up is
    /// compared where the map holds it, not behind a pointer (each offer
    /// looks up its UAI and its candidates, a cache miss each at ×100).
    names: HashMap<Code, u32, FixedState>,
    /// The latest millésime of each filière at each level: the one coverage
    /// resolves against there.
    latest: BTreeMap<(Filiere, NiveauGeographique), Millesime>,
    /// The latest millésime of each filière over every level, the reference
    /// for `new_formation`.
    pub(super) latest_any: HashMap<Filiere, Millesime>,
}

impl IndicatorIndex {
    /// Adds an indicator row by its names (tests build their index so):
    /// kept unless the key has a row of this millésime or a later one.
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
        self.saw_millesime(level, filiere, shown.millesime);
        keep_newest(&mut self.rows[shard_of(&k)], k, shown);
    }

    /// Takes a millésime of a filière at a level into the latest ones.
    fn saw_millesime(&mut self, level: NiveauGeographique, filiere: Filiere, m: Millesime) {
        for latest in [
            self.latest.entry((filiere, level)).or_insert(m),
            self.latest_any.entry(filiere).or_insert(m),
        ] {
            if m.last > latest.last {
                *latest = m;
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
        self.names.insert(Code::from(name), next);
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
        self.newest_by_id(level, key, filiere, code)
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
        let k = (level, key, filiere, code);
        self.rows[shard_of(&k)].get(&k)
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
        let mut by_shard: [Vec<(Key, Shown)>; SHARDS] = Default::default();
        for group in StageTable::row_groups(path, columns, &[])? {
            self.load_rows(&group?, level, key_column, &mut by_shard)?;
            // Each shard's rows into its map, the shards side by side, in
            // the table's order within each (the newest row of a key is
            // the first of its millésime).
            use rayon::prelude::*;
            self.rows
                .par_iter_mut()
                .zip(by_shard.par_iter_mut())
                .for_each(|(map, rows)| {
                    for (k, shown) in rows.drain(..) {
                        keep_newest(map, k, shown);
                    }
                });
        }
        Ok(())
    }

    /// Reads a row group's rows into `by_shard`, their UAIs, régions and
    /// codes numbered, their millésimes taken into the latest ones.
    fn load_rows(
        &mut self,
        table: &StageTable,
        level: NiveauGeographique,
        key_column: Option<&str>,
        by_shard: &mut [Vec<(Key, Shown)>; SHARDS],
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
        // A table sorted by its key repeats its millésime, its filière, its
        // code (and, by establishment, its UAI) row after row: each is read
        // or numbered once per run of it.
        let mut last_millesime = ByRun::default();
        let mut last_filiere = ByRun::default();
        let mut last_key = ByRun::default();
        let mut last_code = ByRun::default();
        let mut last_seen: Option<(Filiere, Millesime)> = None;
        for i in 0..table.height() {
            let at = |column: &str, e: String| table.error(i, column, e);
            let m = last_millesime.try_get(millesime[i].unwrap_or(""), |text| {
                Millesime::parse(text).map_err(|e| at("millesime", e.to_string()))
            })?;
            let f = last_filiere.try_get(filiere[i].unwrap_or(""), |text| {
                Filiere::parse(text).map_err(|e| at("filiere", e.to_string()))
            })?;
            if last_seen != Some((f, m)) {
                self.saw_millesime(level, f, m);
                last_seen = Some((f, m));
            }
            let shown = Shown {
                millesime: m,
                masked: masked[i],
                donnee_source_type: source[i],
                taux_en_emploi_6_mois: emploi[i],
                taux_poursuite_etudes: poursuite[i],
                part_en_emploi_6_mois: part[i],
            };
            let key_text = key.as_ref().and_then(|c| c[i]).unwrap_or_default();
            let key_id = last_key.get(key_text, |text| self.intern(text));
            let code_id = last_code.get(code[i].unwrap_or_default(), |text| self.intern(text));
            let k = (level, key_id, f, code_id);
            by_shard[shard_of(&k)].push((k, shown));
        }
        Ok(())
    }
}

/// An indicator row's key: its level, the number of its UAI, région or
/// nation (""), its filière and the number of its code.
type Key = (NiveauGeographique, u32, Filiere, u32);

/// The maps [`IndicatorIndex`] keeps its rows in.
const SHARDS: usize = 8;

/// The map of [`IndicatorIndex`] a key's row is in: by a hash of its own
/// (the maps' hashes would put a shard's keys in a corner of each map).
fn shard_of(k: &Key) -> usize {
    use std::hash::BuildHasher;
    let hash = FixedState::with_seed(0x5eed).hash_one(k);
    (hash >> 32) as usize % SHARDS
}

/// Keeps a key's newest row: the row unless the key has one of this
/// millésime or a later one. One probe of the map.
fn keep_newest(rows: &mut HashMap<Key, Shown, FixedState>, k: Key, shown: Shown) {
    use std::collections::hash_map::Entry;
    match rows.entry(k) {
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
    /// Inline codes (`Code`), looked up and read where the map and its
    /// vectors hold them: once per offer (issue 13).
    pub(super) by_code: HashMap<Code, (Vec<Code>, bool), FixedState>,
}

impl Terminales {
    pub fn load(indicators_out: &Path) -> Result<Terminales> {
        let path = indicators_out.join("certifications_terminales.parquet");
        let columns = ["code_certification", "code_certification_terminale", "lien"];
        let table = StageTable::read(&path, columns.into_iter())?;
        let [code, terminale, lien] = columns.map(|c| table.text(c));
        let [code, terminale, lien] = [code?, terminale?, lien?];
        let mut by_code: HashMap<Code, (Vec<Code>, bool), FixedState> = HashMap::default();
        for i in 0..table.height() {
            let e = by_code
                .entry(code[i].unwrap_or_default().into())
                .or_default();
            e.0.push(terminale[i].unwrap_or_default().into());
            e.1 |= lien[i] == Some(LIEN_FAMILLE_METIERS);
        }
        Ok(Terminales { by_code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{CsvOptions, OutTable};

    /// An indicator table of `rows` (millésime, key, code, taux en emploi)
    /// in the `pro` filière, with the columns coverage reads.
    fn write_table(dir: &Path, name: &str, key: Option<&str>, rows: &[(&str, &str, String, i64)]) {
        let mut t = OutTable::new(name);
        if let Some(key) = key {
            t.str(key, rows.iter().map(|r| r.1));
        }
        t.str("millesime", rows.iter().map(|r| r.0))
            .str("filiere", rows.iter().map(|_| Filiere::Pro.as_str()))
            .str("code_certification", rows.iter().map(|r| r.2.as_str()))
            .str("masked", rows.iter().map(|_| ""))
            .str(
                "donnee_source_type",
                rows.iter().map(|_| DonneeSourceType::Propre.as_str()),
            )
            .int("taux_en_emploi_6_mois", rows.iter().map(|r| Some(r.3)))
            .int("taux_poursuite_etudes", rows.iter().map(|_| None::<i64>))
            .int("part_en_emploi_6_mois", rows.iter().map(|_| None::<i64>));
        t.write(dir, &CsvOptions::default()).unwrap();
    }

    /// Loaded from the stage's Parquet, spread over the maps: each key
    /// keeps its newest row (the first of a millésime when two have it),
    /// and only a row of the level's latest millésime is shown.
    #[test]
    fn load_keeps_each_keys_newest_row() {
        let dir = tempfile::tempdir().unwrap();
        let codes: Vec<String> = (0..60).map(|i| format!("{:08}", 40_000_000 + i)).collect();
        let regions = ["11", "24", "84"];
        let mut rows = Vec::new();
        for (old, taux) in [("2020_2021", 10), ("2021_2022", 20)] {
            for (i, code) in codes.iter().enumerate() {
                // Every fifth code has no row of the latest millésime.
                if old == "2021_2022" && i % 5 == 0 {
                    continue;
                }
                for region in regions {
                    rows.push((old, region, code.clone(), taux));
                    if i == 1 && old == "2021_2022" {
                        rows.push((old, region, code.clone(), 99));
                    }
                }
            }
        }
        write_table(dir.path(), "regionales", Some("region_code"), &rows);
        write_table(dir.path(), "formations", Some("uai"), &[]);
        let national = [("2021_2022", "", codes[0].clone(), 30)];
        write_table(dir.path(), "certifications", None, &national);

        let index = IndicatorIndex::load(dir.path()).unwrap();
        let region = NiveauGeographique::Region;
        assert_eq!(
            index.latest(Filiere::Pro, region).map(|m| m.to_string()),
            Some("2021_2022".to_string())
        );
        let used: std::collections::HashSet<usize> = codes
            .iter()
            .flat_map(|c| regions.map(|r| (r, c)))
            .map(|(r, c)| {
                shard_of(&(
                    region,
                    index.id(r).unwrap(),
                    Filiere::Pro,
                    index.id(c).unwrap(),
                ))
            })
            .collect();
        assert!(used.len() > 1, "the keys spread over several maps");
        for (i, code) in codes.iter().enumerate() {
            let c = index.id(code).unwrap();
            for r in regions.map(|r| index.id(r).unwrap()) {
                let newest = index.newest_by_id(region, r, Filiere::Pro, c).unwrap();
                let expected = if i % 5 == 0 { 10 } else { 20 };
                assert_eq!(newest.taux_en_emploi_6_mois, Some(expected), "code {code}");
                let shown = index.get_by_id(region, r, Filiere::Pro, c);
                assert_eq!(shown.is_some(), i % 5 != 0, "code {code}");
            }
        }
        let nation = index.id("").unwrap();
        let c0 = index.id(&codes[0]).unwrap();
        let national = index.get_by_id(NiveauGeographique::National, nation, Filiere::Pro, c0);
        assert_eq!(national.and_then(|s| s.taux_en_emploi_6_mois), Some(30));
    }
}
