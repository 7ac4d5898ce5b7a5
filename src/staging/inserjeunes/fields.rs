//! Pieces shared by the InserJeunes loaders: the [`Collector`] that builds
//! a [`Staged`], duplicate-key detection, the checks on counts and
//! salaries, and the parsers of millésimes, UAIs, régions (and their codes), counts, rates
//! and salaries, each returning a reject's reason on failure.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt::Display;
use std::hash::{BuildHasher, Hash};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Result;
use crate::input::{self, DelimitedOptions, RawTable, Row};
use crate::rules::codes::Code;
use crate::rules::codes::{is_valid_uai, uai_check_letter};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::staging::fields::{is_not_published, parse_decimal};
use crate::staging::mesures::{
    Counts, EtablissementRow, MesureRow, Niveau, Origin, Reject, Salaires, Staged,
};
use crate::staging::reference::Reference;

use super::HORIZONS;

/// A row-level result: the error is a reject's reason.
pub(super) type Checked<T> = std::result::Result<T, String>;

pub(super) fn reason(tag: &str, message: impl Display) -> String {
    format!("{tag}: {message}")
}

/// The rows a loader stages from one chunk of its file before the chunk's
/// fields go (`input::read_table_in_chunks`).
const CHUNK_ROWS: usize = 65_536;

/// Reads a file a chunk of rows at a time and stages them: `open` finds
/// what the loader needs from the first chunk (its columns, by the
/// header), `stage` stages a chunk's rows into the collector. The file's
/// fields are held a chunk at a time, beside its staged rows (issue 13).
pub(super) fn load_in_chunks<S>(
    path: &Path,
    open: impl FnOnce(&RawTable) -> Result<S>,
    mut stage: impl FnMut(&S, &RawTable, &mut Collector),
) -> Result<Staged> {
    let mut out = Collector {
        file: Arc::new(path.to_path_buf()),
        staged: Staged::default(),
        keys: Keys::default(),
    };
    let mut open = Some(open);
    let mut state = None;
    input::read_table_in_chunks(path, &DelimitedOptions::default(), CHUNK_ROWS, |table| {
        let state = match &mut state {
            Some(state) => state,
            None => {
                out.keys.reserve(expected_rows(path, &table));
                state.insert((open.take().expect("opened once"))(&table)?)
            }
        };
        out.staged.rows_read += table.len();
        stage(state, &table, &mut out);
        Ok(())
    })?;
    Ok(out.finish())
}

/// The rows a file is expected to have, from its first chunk: the chunk's
/// own when it is the whole file, else the file's size over the chunk's
/// bytes per row. Only a hint for the keys' map: grown from empty, it was
/// rebuilt some twenty times for ×100's five million regional rows, each
/// time into fresh memory (2.7 s of CPU there, issue 13).
fn expected_rows(path: &Path, first: &RawTable) -> usize {
    let rows = first.len();
    if rows < CHUNK_ROWS || input::is_json(path) {
        return rows;
    }
    let bytes: usize = first.rows.iter().map(|r| r.fields.len_in_file()).sum();
    let file = std::fs::metadata(path).map_or(0, |m| m.len());
    let per_row = (bytes / rows).max(1) as u64;
    usize::try_from(file / per_row).map_or(rows, |n| n.max(rows))
}

/// Each row of a chunk staged by `stage` on every thread, in the rows'
/// order. Staging a row reads that row only; what depends on the rows
/// before it (a key seen earlier, the order of rejects) is the caller's,
/// in order, after. The regional file, ×100's largest, was staged on one
/// core while the others were done (issue 13).
pub(super) fn stage_each_row<'t, T: Send>(
    table: &'t RawTable,
    stage: impl Fn(Row<'t>) -> T + Sync + Send,
) -> Vec<T> {
    use rayon::prelude::*;
    table.par_rows().with_min_len(1024).map(stage).collect()
}

/// Builds a [`Staged`] from a file's rows.
pub(super) struct Collector {
    file: Arc<PathBuf>,
    pub(super) staged: Staged,
    /// The keys of the rows staged so far (see [`Keys::first`]).
    pub(super) keys: Keys,
}

impl Collector {
    pub(super) fn origin(&self, row: &Row) -> Origin {
        Origin {
            file: Arc::clone(&self.file),
            line: row.position(),
        }
    }

    pub(super) fn reject(&mut self, row: &Row, reason: String) {
        self.staged.rejects.push(Reject {
            file: Arc::clone(&self.file),
            line: row.position(),
            reason,
            raw: row.raw_text(),
        });
    }

    /// Keeps a staged row whose key no earlier row of the file has, or
    /// rejects it naming the row kept. Every row of a loader reading
    /// through [`load_in_chunks`] comes this way: its rows' keys are unique.
    pub(super) fn push_row(&mut self, row: &Row, m: MesureRow) {
        let what = || describe_key(&m);
        match self.keys.first(&m, &self.staged.rows, what) {
            Ok(()) => self.staged.rows.push(m),
            Err(reason) => self.reject(row, reason),
        }
    }

    pub(super) fn skip(&mut self, reason: String) {
        *self.staged.skipped.entry(reason).or_insert(0) += 1;
    }

    pub(super) fn finish(mut self) -> Staged {
        debug_assert!(self.staged.balances(), "every row read is accounted for");
        // Its rows came through `push_row`.
        self.staged.rows_keys_unique = true;
        self.staged
    }
}

/// A row's key in words, for the reject of a later row with the same key.
fn describe_key(m: &MesureRow) -> String {
    let niveau = match &m.niveau {
        Niveau::National => "nationally".to_string(),
        Niveau::Region(code) => format!("in région {code}"),
        Niveau::Etablissement(uai) => format!("at {uai}"),
    };
    format!(
        "{} {} {} {niveau}",
        m.millesime, m.filiere, m.code_certification
    )
}

/// A staged row whose key no earlier row of its file may have.
pub(super) trait Keyed {
    type Key<'a>: Hash + Eq
    where
        Self: 'a;
    fn key(&self) -> Self::Key<'_>;
    /// The row's line in its file.
    fn line(&self) -> u64;
}

impl Keyed for MesureRow {
    type Key<'a> = (Millesime, Filiere, &'a Code, &'a Niveau);
    fn key(&self) -> Self::Key<'_> {
        (
            self.millesime,
            self.filiere,
            &self.code_certification,
            &self.niveau,
        )
    }
    fn line(&self) -> u64 {
        self.origin.line
    }
}

impl Keyed for EtablissementRow {
    type Key<'a> = (Millesime, Filiere, &'a Code);
    fn key(&self) -> Self::Key<'_> {
        (self.millesime, self.filiere, &self.uai)
    }
    fn line(&self) -> u64 {
        self.origin.line
    }
}

/// The keys of a file's staged rows: the first row with a key is kept, a
/// later one is rejected naming the kept row's line. Keys are compared by
/// a 64-bit hash, and exactly only where two hashes meet (a repeated key,
/// or a collision): a map of the keys themselves took 600 MB beside a
/// 500 MB regional file (issue 13); this one holds an entry of 16 bytes
/// a row.
pub(super) struct Keys<S = foldhash::fast::FixedState> {
    /// A key's hash → the first staged row with that hash.
    first: HashMap<u64, usize, S>,
    /// The later rows whose hash an earlier row with another key has.
    collided: HashMap<u64, Vec<usize>>,
    hasher: S,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::with_hasher(Default::default())
    }
}

impl<S: BuildHasher + Clone> Keys<S> {
    fn with_hasher(hasher: S) -> Self {
        Keys {
            first: HashMap::with_hasher(hasher.clone()),
            collided: HashMap::new(),
            hasher,
        }
    }

    /// Room for `rows` keys in all.
    fn reserve(&mut self, rows: usize) {
        self.first.reserve(rows.saturating_sub(self.first.len()));
    }

    /// `Ok` when no row of `rows` (the file's rows staged so far) has
    /// `row`'s key, which then counts as the next of them: the caller
    /// pushes it. Otherwise the reject's reason, naming the kept row.
    pub(super) fn first<T: Keyed>(
        &mut self,
        row: &T,
        rows: &[T],
        what: impl FnOnce() -> String,
    ) -> Checked<()> {
        let hash = self.hasher.hash_one(row.key());
        let next = rows.len();
        let first = match self.first.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(next);
                return Ok(());
            }
            Entry::Occupied(o) => *o.get(),
        };
        let collided = self.collided.entry(hash).or_default();
        let earlier = std::iter::once(first).chain(collided.iter().copied());
        let mut kept = earlier.map(|i| &rows[i]).filter(|r| r.key() == row.key());
        match kept.next() {
            Some(kept) => Err(reason(
                "duplicate_key",
                format!(
                    "{} is already on line {} (the first row is kept)",
                    what(),
                    kept.line()
                ),
            )),
            None => {
                collided.push(next);
                Ok(())
            }
        }
    }
}

pub(super) fn parse_millesime(value: &str) -> Checked<Millesime> {
    Millesime::parse(value).map_err(|m| reason("unknown_millesime", m))
}

/// A UAI with its right check letter (upper-cased first).
pub(super) fn parse_uai(value: &str) -> Checked<String> {
    let uai = value.to_ascii_uppercase();
    if is_valid_uai(&uai) {
        return Ok(uai);
    }
    let expected_letter = if uai.len() == 8 {
        uai.get(..7).and_then(uai_check_letter)
    } else {
        None
    };
    let detail = match expected_letter {
        _ if uai.is_empty() => "empty UAI".to_string(),
        Some(letter) => format!(
            "\"{value}\" has the wrong check letter (expected {}{letter})",
            &uai[..7]
        ),
        None => format!("\"{value}\" is not a UAI (7 digits and a check letter)"),
    };
    Err(reason("invalid_uai", detail))
}

/// A région as an establishment file names it (`AUVERGNE-RHONE-ALPES`):
/// empty, or a région the reference knows.
pub(super) fn check_region_name(reference: &Reference, name: &str) -> Checked<()> {
    if name.is_empty() || reference.region_by_name(name).is_some() {
        Ok(())
    } else {
        Err(reason(
            "unknown_region",
            format!("Région \"{name}\" is not a known région name"),
        ))
    }
}

/// A count: a whole number (`12`, or `12.0` from a re-saved file), empty is `None`.
pub(super) fn parse_count(name: &str, value: &str) -> Checked<Option<i64>> {
    if value.is_empty() {
        return Ok(None);
    }
    let n = match value.parse::<i64>() {
        Ok(n) => n,
        Err(_) => match value.parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => x as i64,
            _ => {
                return Err(reason(
                    "invalid_number",
                    format!("{name} \"{value}\" is not a whole number"),
                ))
            }
        },
    };
    if n < 0 {
        return Err(reason(
            "negative_count",
            format!("{name} is {n}; a count cannot be negative"),
        ));
    }
    crate::rules::rates::check_count_bound(name, n).map_err(|m| reason("count_too_large", m))?;
    Ok(Some(n))
}

/// A rate, share or valeur ajoutée within `range`; empty or not published is `None`.
pub(super) fn parse_number(
    name: &str,
    value: &str,
    range: &RangeInclusive<f64>,
) -> Checked<Option<f64>> {
    if value.is_empty() || is_not_published(value) {
        return Ok(None);
    }
    let x = parse_decimal(value).ok_or_else(|| {
        reason(
            "invalid_number",
            format!("{name} \"{value}\" is not a number"),
        )
    })?;
    if !range.contains(&x) {
        return Err(reason(
            "rate_out_of_range",
            format!(
                "{name} is {x}, expected {} to {}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(Some(x))
}

/// A salary in euros (positive); empty is `None`.
pub(super) fn parse_salaire(name: &str, value: &str) -> Checked<Option<f64>> {
    if value.is_empty() {
        return Ok(None);
    }
    match parse_decimal(value) {
        Some(x) if x >= 0.0 => Ok(Some(x)),
        Some(_) => Err(reason(
            "negative_value",
            format!("{name} is \"{value}\"; a salary cannot be negative"),
        )),
        None => Err(reason(
            "invalid_number",
            format!("{name} \"{value}\" is not an amount in euros"),
        )),
    }
}

/// The INSEE code of a row's région, from `code_region` (INSEE) and
/// `code_region_ij` (InserJeunes's own codes).
///
/// Codes come back inline (`Code`): a regional file resolves one per row,
/// and three allocations per row were a tenth of its staging (issue 13).
pub(super) fn resolve_region(reference: &Reference, insee: &str, ij: &str) -> Checked<Code> {
    let by_insee = Some(insee)
        .filter(|c| !c.is_empty())
        .and_then(|c| reference.region(&two_digits(c)));
    let by_ij = Some(ij)
        .filter(|c| !c.is_empty())
        .and_then(|c| reference.region_by_ij(&two_digits(c)));
    match (by_insee, by_ij) {
        (Some(a), Some(b)) if a.code == b.code => Ok(Code::from(a.code.as_str())),
        (Some(a), Some(b)) => Err(reason(
            "region_mismatch",
            format!(
                "code_region \"{insee}\" is {} but code_region_ij \"{ij}\" is {} (INSEE {})",
                a.libelle, b.libelle, b.code
            ),
        )),
        (Some(a), None) if ij.is_empty() => Ok(Code::from(a.code.as_str())),
        (Some(a), None) => Err(reason(
            "unknown_region",
            format!(
                "code_region_ij \"{ij}\" is not an InserJeunes région code (code_region \"{insee}\" is {})",
                a.libelle
            ),
        )),
        (None, Some(b)) => Ok(Code::from(b.code.as_str())),
        (None, None) => Err(reason(
            "unknown_region",
            format!(
                "neither code_region \"{insee}\" (INSEE) nor code_region_ij \"{ij}\" (InserJeunes) is a known région"
            ),
        )),
    }
}

/// `1` → `01`: région codes have two digits; spreadsheets drop the zero.
pub(super) fn two_digits(code: &str) -> Code {
    if code.len() == 1 && code.bytes().all(|b| b.is_ascii_digit()) {
        compact_str::format_compact!("0{code}")
    } else {
        Code::from(code)
    }
}

/// What the counts must satisfy whatever the source: no more in employment
/// than leavers, no more continuing or leaving than students in final year.
pub(super) fn check_counts(c: &Counts) -> Checked<()> {
    let above = |tag: &str, a: (&str, Option<i64>), b: (&str, Option<i64>)| -> Checked<()> {
        match (a.1, b.1) {
            (Some(x), Some(y)) if x > y => {
                Err(reason(tag, format!("{} ({x}) is above {} ({y})", a.0, b.0)))
            }
            _ => Ok(()),
        }
    };
    let emplois = [
        c.nb_en_emploi_6_mois,
        c.nb_en_emploi_12_mois,
        c.nb_en_emploi_18_mois,
        c.nb_en_emploi_24_mois,
    ];
    for (h, emploi) in HORIZONS.iter().zip(emplois) {
        let name = format!("nb_en_emploi_{h}_mois");
        above(
            "emploi_above_sortants",
            (&name, emploi),
            ("nb_sortant", c.nb_sortant),
        )?;
    }
    above(
        "poursuite_above_annee_term",
        ("nb_poursuite_etudes", c.nb_poursuite_etudes),
        ("nb_annee_term", c.nb_annee_term),
    )?;
    above(
        "sortants_above_annee_term",
        ("nb_sortant", c.nb_sortant),
        ("nb_annee_term", c.nb_annee_term),
    )?;
    // Who continues and who leaves are two parts of the final year.
    let both = c.nb_poursuite_etudes.zip(c.nb_sortant).map(|(p, s)| p + s);
    above(
        "poursuite_plus_sortants_above_annee_term",
        ("nb_poursuite_etudes + nb_sortant", both),
        ("nb_annee_term", c.nb_annee_term),
    )
}

/// The source's "devenir" shares sum to about 100 (`rules::rates`).
pub(super) fn check_devenir(r: &crate::staging::mesures::SourceRates) -> Checked<()> {
    crate::rules::rates::check_devenir_shares([
        r.part_en_emploi_6_mois,
        r.part_poursuite_etudes,
        r.part_autres_situations_6_mois,
    ])
    .map_err(|m| reason("devenir_not_100", m))
}

pub(super) fn check_quartiles(s: &Salaires) -> Checked<()> {
    let q = [
        s.salaire_12_mois_q1,
        s.salaire_12_mois_q2,
        s.salaire_12_mois_q3,
    ];
    let present: Vec<(usize, f64)> = q
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i + 1, v)))
        .collect();
    for pair in present.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        if a > b {
            return Err(reason(
                "salaire_quartiles_out_of_order",
                format!("salaire_12_mois_q{i} ({a}) is above salaire_12_mois_q{j} ({b})"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's rows are estimated from its first chunk: exactly when the
    /// chunk is the whole file, closely when the rows are alike.
    #[test]
    fn a_file_s_rows_are_estimated_from_its_first_chunk() {
        let first_chunk = |rows: usize| {
            let mut text = String::from("millesime;code\n");
            for i in 0..rows {
                text.push_str(&format!("2022_2023;{:08}\n", i % 1000));
            }
            let (dir, path) = super::super::test_support::write("f.csv", &text);
            let mut first = None;
            input::read_table_in_chunks(&path, &DelimitedOptions::default(), CHUNK_ROWS, |t| {
                first.get_or_insert(t);
                Ok(())
            })
            .unwrap();
            let estimate = expected_rows(&path, &first.unwrap());
            drop(dir);
            estimate
        };
        assert_eq!(first_chunk(10), 10);
        let rows = 3 * CHUNK_ROWS + 100;
        let estimate = first_chunk(rows);
        assert!(
            estimate.abs_diff(rows) < rows / 50,
            "{estimate} rows estimated for {rows}"
        );
    }

    /// Rows keyed by a number, at a line.
    impl Keyed for (u32, u64) {
        type Key<'a> = u32;
        fn key(&self) -> u32 {
            self.0
        }
        fn line(&self) -> u64 {
            self.1
        }
    }

    /// Every key hashed to 0: each hash meets every other.
    #[derive(Clone, Default)]
    struct Colliding;
    impl BuildHasher for Colliding {
        type Hasher = Zero;
        fn build_hasher(&self) -> Zero {
            Zero
        }
    }
    struct Zero;
    impl std::hash::Hasher for Zero {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {}
    }

    /// Stages `keys` (row i on line i + 2) as a loader does; the reasons
    /// of the rows rejected, by line.
    fn stage<S: BuildHasher + Clone>(mut seen: Keys<S>, keys: &[u32]) -> Vec<(u64, String)> {
        let mut rows = Vec::new();
        let mut rejects = Vec::new();
        for (i, &k) in keys.iter().enumerate() {
            let row = (k, i as u64 + 2);
            match seen.first(&row, &rows, || format!("key {k}")) {
                Ok(()) => rows.push(row),
                Err(reason) => rejects.push((row.1, reason)),
            }
        }
        rejects
    }

    #[test]
    fn a_repeated_key_is_rejected_naming_the_kept_line_even_when_hashes_collide() {
        let keys = [7, 8, 7, 9, 8, 8, 10];
        let expected = vec![
            (
                4,
                "duplicate_key: key 7 is already on line 2 (the first row is kept)".to_string(),
            ),
            (
                6,
                "duplicate_key: key 8 is already on line 3 (the first row is kept)".to_string(),
            ),
            (
                7,
                "duplicate_key: key 8 is already on line 3 (the first row is kept)".to_string(),
            ),
        ];
        assert_eq!(stage(Keys::default(), &keys), expected);
        // Distinct keys whose hashes meet are all kept: compared exactly.
        assert_eq!(stage(Keys::with_hasher(Colliding), &keys), expected);
        assert!(stage(Keys::with_hasher(Colliding), &[1, 2, 3, 4]).is_empty());
    }

    #[test]
    fn uai_check_letter() {
        assert_eq!(parse_uai("0690046A"), Ok("0690046A".to_string()));
        assert_eq!(parse_uai("0690046a"), Ok("0690046A".to_string()));
        assert_eq!(
            parse_uai("0690046B").unwrap_err(),
            "invalid_uai: \"0690046B\" has the wrong check letter (expected 0690046A)"
        );
        assert!(parse_uai("069004A").unwrap_err().contains("is not a UAI"));
        assert_eq!(parse_uai("").unwrap_err(), "invalid_uai: empty UAI");
    }
}
