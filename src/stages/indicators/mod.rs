//! Stage `indicators`: InserJeunes and InserSup extracts into enriched,
//! continuum-aware indicator tables (issue 3).
//!
//! Inputs: the statistical extracts (staged by `staging::inserjeunes` and
//! `staging::insersup`), the formation referential of `bcn`, the lineage of
//! `continuum`, and the embedded territorial referentials.
//!
//! Outputs, one row per key:
//! - `certifications`: (millesime, filiere, code_certification), national;
//! - `regionales`: + `region_code` (INSEE);
//! - `formations`: + `uai`, establishment × certification;
//! - `etablissements`: (millesime, filiere, uai), establishment-wide figures
//!   (CFA open data, DEPP "valeur ajoutée" files);
//! - `certifications_terminales`: what a non-final year leads to;
//! - `familles_specialites`: the specialities of each common first year of a
//!   famille de métiers, at each level, with their own figures (issue 6);
//! - `indicators_rejects`, `indicators_summary.json`.
//!
//! Order of work: stage every file (rejecting bad rows); build the national
//! level from the regions where no national file covers a key, and InserSup's
//! regional and national levels from its establishments; let the continuum
//! fill the codes without figures of their own; give each common first year
//! of a famille de métiers the sum of its specialities (`famille`); then, at
//! writing, compute the rates and apply the threshold. Aggregates are summed
//! from unmasked counts and masked after.

pub mod annuaire;
pub mod columns;
pub mod famille;
pub mod fill;
pub mod model;
pub mod pilotage;
mod report;
pub mod tables;
pub mod terminales;
pub mod upstream;

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::output::table::{write_by_row_group, WrittenTable};
use crate::output::StagedDir;
use crate::rules::continuum::ContinuumPolicy;
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::{OutputFile, StageContext, StageReport};
use crate::staging::annuaire::{load_annuaire, Annuaire};
use crate::staging::mesures::{EtablissementRow, MesureRow, Niveau, Origin, Reject, Staged};
use crate::staging::reference::Reference;
use crate::staging::{inserjeunes, insersup, InputFile};

use model::{sum_counts, DonneeSource, Indicateur, Key, KeyRef, Origine};
use upstream::{Lineage, LinkRow, Referentiel};

/// The kinds of statistical files the stage reads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// InserJeunes by région (layout of `ij_region_data.csv`).
    InserjeunesRegional,
    /// InserJeunes national by certification.
    InserjeunesNational,
    /// InserJeunes by establishment and formation ("formation fine").
    InserjeunesFormations,
    /// Establishment-wide InserJeunes figures (CFA open data, DEPP files).
    InserjeunesEtablissements,
    /// InserSup (higher education), by establishment and diploma.
    Insersup,
}

/// The files of each kind, as listed in the pipeline file.
#[derive(Debug, Clone, Default)]
pub struct SourceFiles {
    pub files: Vec<(SourceKind, PathBuf)>,
}

#[derive(Debug, Clone)]
pub struct IndicatorsOptions {
    /// Diffusion threshold on `nb_annee_term` (20 unless the pipeline says otherwise).
    pub seuil: i64,
    pub policy: ContinuumPolicy,
    /// The date `formation_fermee` is judged at; by default the 1st of
    /// September after the latest millésime (the next school year).
    pub date_reference: Option<NaiveDate>,
    /// Establishment directories (annuaire, ACCE): names, nature and
    /// open/closed status of the UAIs of the per-establishment tables.
    pub annuaire: Vec<std::path::PathBuf>,
}

impl Default for IndicatorsOptions {
    fn default() -> Self {
        IndicatorsOptions {
            seuil: crate::rules::rates::SEUIL_DEFAUT,
            policy: ContinuumPolicy::Strict,
            date_reference: None,
            annuaire: Vec::new(),
        }
    }
}

/// One staged source file.
pub struct SourceFile {
    pub kind: SourceKind,
    pub input: InputFile,
    pub staged: Staged,
}

/// Rows read = written + rejected + skipped, for one file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FileAccount {
    pub file: PathBuf,
    pub kind: Option<SourceKind>,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_rejected: usize,
    pub rows_skipped: usize,
    pub skipped: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TableSummary {
    pub rows: usize,
    pub rows_masked: usize,
    pub rows_from_continuum: usize,
    /// Rows of a common first year summed from its specialities (issue 6).
    pub rows_famille_metiers: usize,
    pub by_origine: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct IndicatorsSummary {
    pub seuil: i64,
    pub continuum_policy: String,
    pub date_reference: String,
    pub files: Vec<FileAccount>,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_rejected: usize,
    pub rows_skipped: usize,
    pub rejects_by_reason: BTreeMap<String, usize>,
    pub tables: BTreeMap<String, TableSummary>,
    /// Per table, the rows each kind of link added.
    pub continuum_rows_added: BTreeMap<String, BTreeMap<String, usize>>,
    /// Per filière, the Q4 formations of each région in its latest millésime.
    pub pilotage_q4: BTreeMap<String, pilotage::Q4ParRegion>,
}

pub struct Indicators {
    pub certifications: Vec<Indicateur>,
    pub regionales: Vec<Indicateur>,
    pub formations: Vec<Indicateur>,
    pub terminales: Vec<terminales::Terminale>,
    pub familles_specialites: Vec<famille::FamilleSpecialite>,
    pub rejects: Vec<Reject>,
    pub date_reference: NaiveDate,
    pub summary: IndicatorsSummary,
}

/// What the stage needs besides the source files.
pub struct Upstream<'a> {
    pub referentiel: &'a Referentiel,
    pub lineage: &'a Lineage,
    pub links: &'a [LinkRow],
    pub reference: &'a Reference,
}

fn own_row(m: MesureRow) -> (Indicateur, Origin) {
    let row = Indicateur {
        millesime: m.millesime,
        filiere: m.filiere,
        code_certification: m.code_certification,
        code_certification_type: m.code_certification_type,
        niveau: m.niveau,
        counts: m.counts,
        salaires: m.salaires,
        // Beside counts, a source's rates were let go when staged (`kept_rates`).
        source_rates: m.source_rates,
        libelle_etablissement: m.libelle_etablissement.map(String::into_boxed_str),
        origine: Origine::Source,
        donnee_source: Default::default(),
    };
    (row, m.origin)
}

// A staged row is at least as large as the row made of it: `own_rows`
// makes the rows in the staged rows' memory.
const _: () = assert!(std::mem::size_of::<MesureRow>() >= std::mem::size_of::<Indicateur>());
const _: () = assert!(std::mem::align_of::<MesureRow>() == std::mem::align_of::<Indicateur>());

/// A file's staged rows made rows, in order, each row and its origin shown
/// to `each` as it is made. The rows are written over the staged rows'
/// memory (the standard library collects a vector mapped from a vector of
/// larger items in place): at ×100 the regional rows written into fresh
/// memory were two gigabytes of pages faulted in, each page given back by
/// the staged rows then taken again from the host (issue 13).
fn own_rows(staged: Vec<MesureRow>, mut each: impl FnMut(&Indicateur, Origin)) -> Vec<Indicateur> {
    let mut rows: Vec<Indicateur> = staged
        .into_iter()
        .map(|m| {
            let (row, origin) = own_row(m);
            each(&row, origin);
            row
        })
        .collect();
    // The memory past the rows, which the larger staged rows filled, goes
    // back to the system (a large vector is mapped: it shrinks in place).
    rows.shrink_to_fit();
    rows
}

/// A level's place in `read_sources`' arrays: national, regional,
/// establishment.
fn level_index(niveau: &Niveau) -> usize {
    match niveau {
        Niveau::National => 0,
        Niveau::Region(_) => 1,
        Niveau::Etablissement(_) => 2,
    }
}

/// The pure part of the stage: the sources' rows in, indicator tables out.
///
/// The steps in their order: sum the coarser levels no file gives, let the
/// continuum and the families fill each level, sort, summarise. The
/// establishment-wide rows are not here: their table is written before the
/// levels are filled (`write_etablissements`), and `etablissements` is what
/// the summary and the default date need of them.
fn build_from_read(
    mut read: Read,
    etablissements: EtablissementsWritten,
    terminales: Vec<terminales::Terminale>,
    upstream: &Upstream,
    options: &IndicatorsOptions,
) -> Indicators {
    add_sums(&mut read, upstream.reference);
    crate::memory::trace("indicators: sums added");
    let Read {
        accounts,
        mut rejects,
        mut national,
        mut regional,
        mut etablissement,
    } = read;

    let specialites = terminales::specialites_by_commune(&terminales);
    let mut continuum_rows_added = BTreeMap::new();
    let mut familles_specialites = Vec::new();
    for (name, rows) in [
        ("certifications", &mut national),
        ("regionales", &mut regional),
        ("formations", &mut etablissement),
    ] {
        let added = fill_level(
            rows,
            &specialites,
            &mut familles_specialites,
            upstream,
            options,
        );
        continuum_rows_added.insert(name.to_string(), added);
        crate::memory::trace(&format!("indicators: {name} filled"));
    }
    sort_outputs(&mut familles_specialites, &mut rejects);

    let date_reference = options.date_reference.unwrap_or_else(|| {
        default_date_reference(
            [&national, &regional, &etablissement],
            etablissements.latest,
        )
    });

    let tables = table_summaries(
        [&national, &regional, &etablissement],
        etablissements.rows,
        &familles_specialites,
        options.seuil,
    );
    let summary = IndicatorsSummary {
        seuil: options.seuil,
        continuum_policy: options.policy.as_str().to_string(),
        date_reference: date_reference.to_string(),
        rows_read: accounts.iter().map(|a| a.rows_read).sum(),
        rows_written: accounts.iter().map(|a| a.rows_written).sum(),
        rows_rejected: accounts.iter().map(|a| a.rows_rejected).sum(),
        rows_skipped: accounts.iter().map(|a| a.rows_skipped).sum(),
        files: accounts,
        rejects_by_reason: rejects_by_reason(&rejects),
        tables,
        continuum_rows_added,
        // Filled with the pilotage table (`run`), which borrows the rows.
        pilotage_q4: BTreeMap::new(),
    };
    Indicators {
        certifications: national,
        regionales: regional,
        formations: etablissement,
        terminales,
        familles_specialites,
        rejects,
        date_reference,
        summary,
    }
}

/// A filière's place among the filières in the order of their names.
fn filiere_rank(filiere: Filiere) -> u64 {
    let below = Filiere::ALL
        .iter()
        .filter(|f| f.as_str() < filiere.as_str())
        .count();
    below as u64
}

/// What the stage keeps of the establishment-wide rows once their table is
/// written: their number (the summary's) and their latest millésime (the
/// default date reference's).
#[derive(Debug, Clone, Copy, Default)]
struct EtablissementsWritten {
    rows: usize,
    latest: Option<Millesime>,
}

/// Sorts the establishment-wide rows and writes their table before the
/// levels are filled: no other table reads them, and at a hundred times
/// today's data they were 1.4 GB held through the fill, the stage's peak
/// (issue 13).
fn write_etablissements(
    mut rows: Vec<EtablissementRow>,
    reference: &Reference,
    annuaire: &Annuaire,
    dir: &Path,
    ctx: &StageContext,
) -> Result<(EtablissementsWritten, Written)> {
    // In their release order (the primary key), then by source.
    fn key(e: &EtablissementRow) -> (Millesime, &str, &str, &str) {
        (e.millesime, e.filiere.as_str(), &e.uai, e.source)
    }
    // The same order on integers, where every UAI packs in 8 bytes (a
    // checked UAI has 8): the millésime and the filière ([`packed_head`]),
    // then the UAI ([`packed_text`]). Four million rows of ×100 compared
    // by their strings took seconds of cache misses.
    fn packed(e: &EtablissementRow) -> Option<(u64, &'static str)> {
        let [uai] = packed_text::<1>(&e.uai)?;
        Some((uai, e.source))
    }
    if rows.iter().all(|e| packed(e).is_some()) {
        // By millésime and filière first, a few buckets' keys at a time.
        crate::memory::sort_rows_by_bucket_and_key(
            &mut rows,
            |e| packed_head(e.millesime, e.filiere),
            |e| packed(e).expect("every key packs"),
        );
    } else {
        // Wide rows: sorted without a buffer of half of them.
        crate::memory::sort_rows_stably(&mut rows, |a, b| key(a).cmp(&key(b)));
    }
    let seen = EtablissementsWritten {
        rows: rows.len(),
        latest: rows.iter().map(|e| e.millesime).max_by_key(|m| m.last),
    };
    let written = write_table(
        &tables::etablissements_builder(&rows, reference),
        annuaire,
        dir,
        ctx,
    )?;
    Ok((seen, written))
}

/// The date `formation_fermee` is judged at when the pipeline sets none:
/// the 1st of September after the latest millésime (the next school year).
fn default_date_reference(
    levels: [&[Indicateur]; 3],
    etablissements: Option<Millesime>,
) -> NaiveDate {
    let latest = levels
        .into_iter()
        .flatten()
        .map(|r| r.millesime.last)
        .chain(etablissements.map(|m| m.last))
        .max();
    NaiveDate::from_ymd_opt(latest.map_or(2000, i32::from), 9, 1).expect("valid date")
}

/// The source files' rows by level, with each file's account and the rows
/// rejected (the establishment-wide rows apart: `read_sources`).
struct Read {
    accounts: Vec<FileAccount>,
    rejects: Vec<Reject>,
    national: Vec<Indicateur>,
    regional: Vec<Indicateur>,
    etablissement: Vec<Indicateur>,
}

/// Step 1: every staged file's rows, put at their level. A key given by two
/// files is rejected the second time (`duplicate_key`, naming the row
/// kept), so each key has one row of its own and the file's account still
/// balances. The establishment-wide rows come apart, as they are: their
/// table is written first (`write_etablissements`).
fn read_sources(sources: Vec<SourceFile>) -> (Read, Vec<EtablissementRow>) {
    let mut read = Read {
        accounts: Vec::new(),
        rejects: Vec::new(),
        national: Vec::new(),
        regional: Vec::new(),
        etablissement: Vec::new(),
    };
    let mut etablissements = Vec::new();
    // Where each row of each level comes from (its file's account, its
    // origin), beside the rows until their keys are checked.
    let mut origins: [Vec<(usize, Origin)>; 3] = Default::default();
    // Per level, the files that gave it rows, and whether each of them
    // vouched for its keys being unique.
    let mut givers = [(0usize, true); 3];
    for source in sources {
        let staged = source.staged;
        let file = read.accounts.len();
        read.accounts.push(FileAccount {
            file: source.input.path.clone(),
            kind: Some(source.kind),
            rows_read: staged.rows_read,
            rows_written: staged.rows.len() + staged.etablissements.len(),
            rows_rejected: staged.rejects.len(),
            rows_skipped: staged.skipped.values().sum(),
            skipped: staged.skipped.clone(),
        });
        read.rejects.extend(staged.rejects);
        let keys_unique = staged.rows_keys_unique;
        let mut levels_met = [false; 3];
        let rows = own_rows(staged.rows, |row, origin| {
            let level = level_index(&row.niveau);
            levels_met[level] = true;
            origins[level].push((file, origin));
        });
        for (met, (files, unique)) in levels_met.iter().zip(&mut givers) {
            if *met {
                *files += 1;
                *unique &= keys_unique;
            }
        }
        let levels = [
            &mut read.national,
            &mut read.regional,
            &mut read.etablissement,
        ];
        match levels_met.iter().filter(|&&met| met).count() {
            0 => {}
            // A file gives one level (each loader's rows are of one): its
            // rows are the level's, or follow the earlier files' rows.
            1 => {
                let level = levels_met.iter().position(|&met| met).expect("one met");
                if levels[level].is_empty() {
                    *levels[level] = rows;
                } else {
                    levels[level].extend(rows);
                }
            }
            _ => {
                for row in rows {
                    levels[level_index(&row.niveau)].push(row);
                }
            }
        }
        etablissements.extend(staged.etablissements);
    }
    let levels = [
        &mut read.national,
        &mut read.regional,
        &mut read.etablissement,
    ];
    for ((rows, origins), (files, unique)) in levels.into_iter().zip(origins).zip(givers) {
        // A file's loader may have rejected its repeated keys already: a
        // level that file alone gives has none. At ×100 the check of the
        // regional level hashed five million keys (issue 13).
        if files > 1 || !unique {
            reject_repeated_keys(rows, &origins, &mut read.accounts, &mut read.rejects);
        }
    }
    (read, etablissements)
}

/// Rejects each row whose key an earlier row (in file order) has: rows are
/// checked once placed, on keys borrowed from them, rather than by cloning
/// every row's key into a map as it is read (the stage's peak at ×10,
/// issue 13).
fn reject_repeated_keys(
    rows: &mut Vec<Indicateur>,
    origins: &[(usize, Origin)],
    accounts: &mut [FileAccount],
    rejects: &mut Vec<Reject>,
) {
    // Key → the first row that has it. Hashed with a fixed-seed foldhash:
    // one lookup per row read. `repeated` is in row order, as `retain`
    // below walks it.
    let mut first: HashMap<KeyRef, usize, foldhash::fast::FixedState> =
        HashMap::with_capacity_and_hasher(rows.len(), Default::default());
    let mut repeated = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match first.entry(row.key_ref()) {
            Entry::Occupied(kept) => repeated.push((i, *kept.get())),
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
    drop(first);
    if repeated.is_empty() {
        return;
    }
    for &(i, kept) in &repeated {
        let (file, origin) = &origins[i];
        let kept = &origins[kept].1;
        accounts[*file].rows_written -= 1;
        accounts[*file].rows_rejected += 1;
        rejects.push(Reject {
            file: origin.file.clone(),
            line: origin.line,
            reason: format!(
                "duplicate_key: the same millésime, filière, code and level as {}:{}, kept",
                kept.file.display(),
                kept.line
            ),
            raw: String::new(),
        });
    }
    let mut dropped = repeated.iter().map(|&(i, _)| i).peekable();
    let mut index = 0;
    rows.retain(|_| {
        let keep = dropped.peek() != Some(&index);
        if !keep {
            dropped.next();
        }
        index += 1;
        keep
    });
}

/// Step 2: the coarser levels no file gives, summed from the finer ones:
/// the nation from the régions (InserJeunes), and InserSup's régions and
/// nation from its establishments. A key a file gives keeps the file's row.
fn add_sums(read: &mut Read, reference: &Reference) {
    // National from the regions, for keys no national file gives.
    let sums = aggregate(
        &read.regional,
        Origine::SommeRegions,
        |_| Some(Niveau::National),
        &read.national,
    );
    read.national.extend(sums);
    // InserSup: regions and nation from the establishments.
    let superieur: Vec<&Indicateur> = read
        .etablissement
        .iter()
        .filter(|r| r.filiere == Filiere::Superieur)
        .collect();
    let sums = aggregate(
        superieur.iter().copied(),
        Origine::SommeEtablissements,
        |r| match &r.niveau {
            Niveau::Etablissement(uai) => reference
                .departement_of_uai(uai)
                .map(|d| Niveau::Region(d.region_code.as_str().into())),
            _ => None,
        },
        &read.regional,
    );
    read.regional.extend(sums);
    let sums = aggregate(
        superieur.iter().copied(),
        Origine::SommeEtablissements,
        |_| Some(Niveau::National),
        &read.national,
    );
    read.national.extend(sums);
}

/// Step 3, for one level's rows: the continuum's rows, then the common
/// first years' family rows (after the continuum, so a renewed speciality
/// brings its history), then the rows in key order. Returns the rows each
/// kind of link added; the specialities' rows go to `familles_specialites`.
fn fill_level(
    rows: &mut Vec<Indicateur>,
    specialites: &famille::Specialites,
    familles_specialites: &mut Vec<famille::FamilleSpecialite>,
    upstream: &Upstream,
    options: &IndicatorsOptions,
) -> BTreeMap<String, usize> {
    let added = fill::fill(
        rows,
        upstream.lineage,
        upstream.links,
        options.policy,
        options.seuil,
    );
    // The fill's parts were filled on every thread, whose allocators keep
    // what the parts freed (their maps' and candidates' small blocks):
    // given back before the families' rows and the sort's keys.
    crate::memory::return_free_memory();
    familles_specialites.extend(famille::add_family_rows(rows, specialites));
    sort_published(rows);
    debug_assert!(
        rows.windows(2)
            .all(|w| w[0].cmp_published(&w[1]) == std::cmp::Ordering::Less),
        "one row per key in a level"
    );
    added.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Sorts a level's rows in the order the release publishes them
/// (`Indicateur::cmp_published`), whose keys are unique within a level. On
/// a packed integer key where every code fits one (always, for checked
/// codes): ×100's regional level is eight million rows of 168 bytes, which
/// a sort by comparisons moved a few dozen times each. The order is then
/// checked in one pass; where two packed keys tie (only where their texts
/// do) or a code did not fit, the comparisons sort.
fn sort_published(rows: &mut [Indicateur]) {
    fn packed(r: &Indicateur) -> Option<(u64, u64, u64)> {
        let [high, low] = packed_text::<2>(&r.code_certification)?;
        let [lieu] = packed_text::<1>(r.niveau.code())?;
        Some((high, low, lieu))
    }
    if rows.iter().all(|r| packed(r).is_some()) {
        // By millésime and filière first: a few large buckets, whose keys
        // are sorted a few at a time (the keys of every row were the run's
        // peak at ×100).
        crate::memory::sort_rows_by_bucket_and_key(
            rows,
            |r| packed_head(r.millesime, r.filiere),
            |r| packed(r).expect("every key packs"),
        );
    }
    let published = |w: &[Indicateur]| w[0].cmp_published(&w[1]) == std::cmp::Ordering::Less;
    if !rows.windows(2).all(published) {
        // Keys are unique, so an unstable sort gives the stable sort's
        // order, without its buffer of half the rows (issue 13).
        rows.sort_unstable_by(Indicateur::cmp_published);
    }
}

/// A millésime and a filière as one integer, in the order the tables
/// publish them: the millésime, then the filière by name ([`filiere_rank`]).
fn packed_head(millesime: Millesime, filiere: Filiere) -> u64 {
    (u64::from(millesime.first) << 24) | (u64::from(millesime.last) << 8) | filiere_rank(filiere)
}

/// A text of up to `8 × N` bytes, none of them zero, as `N` big-endian
/// integers, zero-padded: compared as integers, they are in the order of
/// the texts (a prefix first). `None` for a text that does not fit.
fn packed_text<const N: usize>(text: &str) -> Option<[u64; N]> {
    let bytes = text.as_bytes();
    if bytes.len() > 8 * N || bytes.contains(&0) {
        return None;
    }
    let mut words = [0u64; N];
    for (i, word) in words.iter_mut().enumerate() {
        let mut chunk = [0u8; 8];
        let part = bytes.get(8 * i..).unwrap_or_default();
        let n = part.len().min(8);
        chunk[..n].copy_from_slice(&part[..n]);
        *word = u64::from_be_bytes(chunk);
    }
    Some(words)
}

/// Step 4: the other outputs in a stable order, whatever the order the
/// files were read in (outputs are byte-identical from run to run).
fn sort_outputs(familles_specialites: &mut [famille::FamilleSpecialite], rejects: &mut [Reject]) {
    // In their release order (the primary key as text: see
    // `Indicateur::cmp_published`), then by the full key.
    fn famille_key(f: &famille::FamilleSpecialite) -> (Millesime, &str, &str, &str, &str, &str) {
        let niveau = &f.specialite.niveau;
        (
            f.specialite.millesime,
            f.specialite.filiere.as_str(),
            niveau.geographique().as_str(),
            niveau.code_lieu(),
            &f.code_certification,
            &f.specialite.code_certification,
        )
    }
    // Wide rows: sorted without a buffer of half of them (issue 13).
    use crate::memory::sort_rows_stably;
    sort_rows_stably(familles_specialites, |a, b| {
        famille_key(a)
            .cmp(&famille_key(b))
            .then_with(|| a.specialite.cmp_published(&b.specialite))
    });
    rejects.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

/// Rejects counted by the tag their reason starts with (`duplicate_key`…).
fn rejects_by_reason(rejects: &[Reject]) -> BTreeMap<String, usize> {
    let mut by_reason = BTreeMap::new();
    for r in rejects {
        let tag = r.reason.split(':').next().unwrap_or("").trim().to_string();
        *by_reason.entry(tag).or_default() += 1;
    }
    by_reason
}

/// The rows a thread takes at a time where a pass over a level's or a
/// table's rows is shared out (the summaries, pilotage's pools and Q4
/// counts): counts or sums per block, merged in order.
const BLOCK_ROWS: usize = 64 * 1024;

/// The summary of each table: rows, masked rows, rows from the continuum or
/// a famille de métiers, rows by origine.
fn table_summaries(
    [national, regional, etablissement]: [&[Indicateur]; 3],
    etablissements: usize,
    familles_specialites: &[famille::FamilleSpecialite],
    seuil: i64,
) -> BTreeMap<String, TableSummary> {
    // On every thread, a block of rows at a time, each origine counted
    // under its static name: at ×100 a name copied for each of the
    // regional level's eight million rows, on one core, was a second of
    // the stage (issue 13).
    let table_summary = |rows: &[Indicateur]| {
        use rayon::prelude::*;
        type Counted = ([usize; 3], BTreeMap<&'static str, usize>);
        let count = |rows: &[Indicateur]| {
            let mut counted = Counted::default();
            let [masked, continuum, famille] = &mut counted.0;
            for r in rows {
                *masked += usize::from(model::publish(r, seuil).masked.is_some());
                match *r.donnee_source {
                    DonneeSource::Propre => {}
                    DonneeSource::Continuum { .. } => *continuum += 1,
                    DonneeSource::FamilleMetiers { .. } => *famille += 1,
                }
                *counted.1.entry(r.origine.as_str()).or_default() += 1;
            }
            counted
        };
        let merge = |mut a: Counted, b: Counted| {
            for (total, n) in a.0.iter_mut().zip(b.0) {
                *total += n;
            }
            for (origine, n) in b.1 {
                *a.1.entry(origine).or_default() += n;
            }
            a
        };
        let ([masked, continuum, famille], by_origine) = rows
            .par_chunks(BLOCK_ROWS)
            .map(count)
            .reduce(Counted::default, merge);
        TableSummary {
            rows: rows.len(),
            rows_masked: masked,
            rows_from_continuum: continuum,
            rows_famille_metiers: famille,
            by_origine: by_origine
                .into_iter()
                .map(|(origine, n)| (origine.to_string(), n))
                .collect(),
        }
    };
    let mut tables = BTreeMap::new();
    tables.insert("certifications".to_string(), table_summary(national));
    tables.insert("regionales".to_string(), table_summary(regional));
    tables.insert("formations".to_string(), table_summary(etablissement));
    tables.insert(
        "etablissements".to_string(),
        TableSummary {
            rows: etablissements,
            ..TableSummary::default()
        },
    );
    // The specialities' own rows, as `familles_specialites` lists them.
    let mut specialites_summary = TableSummary {
        rows: familles_specialites.len(),
        ..TableSummary::default()
    };
    for f in familles_specialites {
        if model::publish(&f.specialite, seuil).masked.is_some() {
            specialites_summary.rows_masked += 1;
        }
        if matches!(*f.specialite.donnee_source, DonneeSource::Continuum { .. }) {
            specialites_summary.rows_from_continuum += 1;
        }
    }
    tables.insert("familles_specialites".to_string(), specialites_summary);
    tables
}

/// Sums rows with counts into a coarser level, for the keys its rows
/// (`existing`) do not already have. The sums' groups are gathered first,
/// then the level's rows looked up in them once each: a set of every key
/// of the level (×100: eight million regional rows, for a few InserSup
/// sums) took longer than the sums (issue 13). The sums in key order.
fn aggregate<'r>(
    rows: impl IntoIterator<Item = &'r Indicateur>,
    origine: Origine,
    level_of: impl Fn(&Indicateur) -> Option<Niveau>,
    existing: &[Indicateur],
) -> Vec<Indicateur> {
    use std::collections::hash_map::Entry;
    let mut groups: HashMap<Key, Vec<&Indicateur>, foldhash::fast::FixedState> = HashMap::default();
    let mut gather = |(key, members): (Key, Vec<&'r Indicateur>)| match groups.entry(key) {
        Entry::Occupied(mut group) => group.get_mut().extend(members),
        Entry::Vacant(group) => {
            group.insert(members);
        }
    };
    // A group's rows most often come one after the other (a code's
    // régions): each run of them is hashed once (×100: eight million
    // regional rows summed into the nation, issue 13).
    let mut run: Option<(Key, Vec<&Indicateur>)> = None;
    for r in rows.into_iter().filter(|r| !r.counts.is_empty()) {
        let Some(niveau) = level_of(r) else {
            continue;
        };
        match &mut run {
            Some(((millesime, filiere, n, code), members))
                if *millesime == r.millesime
                    && *filiere == r.filiere
                    && *n == niveau
                    && *code == r.code_certification =>
            {
                members.push(r);
            }
            _ => {
                let key = (r.millesime, r.filiere, niveau, r.code_certification.clone());
                if let Some(ended) = run.replace((key, vec![r])) {
                    gather(ended);
                }
            }
        }
    }
    if let Some(ended) = run {
        gather(ended);
    }
    if !groups.is_empty() {
        for e in existing {
            groups.remove(&e.key());
        }
    }
    let mut groups: Vec<(Key, Vec<&Indicateur>)> = groups.into_iter().collect();
    // Keys are unique: the unstable sort is the map's order.
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    groups
        .into_iter()
        .map(|((millesime, filiere, niveau, code), members)| Indicateur {
            millesime,
            filiere,
            code_certification: code,
            code_certification_type: members[0].code_certification_type,
            niveau,
            counts: sum_counts(summable(&members).map(|m| m.counts.get())).into(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine,
            donnee_source: Default::default(),
        })
        .collect()
}

/// The rows a sum is made of. The source publishes no detail for its
/// smallest groups (under 5 students: only `nb_annee_term`); summing them in
/// would leave the total without any count but `nb_annee_term`, and so
/// without rates. When some rows of the group have their detail, the sum is
/// that of those rows only: its counts and rates then describe the same
/// students.
fn summable<'a>(members: &'a [&'a Indicateur]) -> impl Iterator<Item = &'a Indicateur> + 'a {
    let detailed = |m: &Indicateur| {
        let counts = m.counts.get();
        counts.nb_poursuite_etudes.is_some() || counts.nb_sortant.is_some()
    };
    let any_detailed = members.iter().any(|m| detailed(m));
    members
        .iter()
        .copied()
        .filter(move |m| !any_detailed || detailed(m))
}

// ---- Running the stage -------------------------------------------------------

/// Reads one source file with the loader of its kind.
pub fn stage_source(kind: SourceKind, path: &Path, reference: &Reference) -> Result<SourceFile> {
    let staged = match kind {
        SourceKind::InserjeunesRegional => inserjeunes::load_regional(path, reference)?,
        SourceKind::InserjeunesNational => inserjeunes::load_national(path)?,
        SourceKind::InserjeunesFormations => {
            inserjeunes::load_formations_etablissement(path, reference)?
        }
        SourceKind::InserjeunesEtablissements => inserjeunes::load_etablissements(path, reference)?,
        SourceKind::Insersup => insersup::load_insersup(path)?,
    };
    if !staged.balances() {
        return Err(Error::file(
            path,
            format!(
                "internal error: {} rows read but {} staged, {} rejected, {} skipped",
                staged.rows_read,
                staged.rows.len() + staged.etablissements.len(),
                staged.rejects.len(),
                staged.skipped.values().sum::<usize>()
            ),
        ));
    }
    Ok(SourceFile {
        kind,
        input: InputFile {
            table: format!("{kind:?}"),
            path: path.to_path_buf(),
            format: None,
            rows: staged.rows_read,
        },
        staged,
    })
}

/// Reads every source file with the loader of its kind. Files are
/// independent: they are read in parallel (rayon keeps their order).
fn stage_sources(sources: &SourceFiles, reference: &Reference) -> Result<Vec<SourceFile>> {
    use rayon::prelude::*;
    sources
        .files
        .par_iter()
        .map(|(kind, path)| stage_source(*kind, path, reference))
        .collect()
}

/// `ij indicators`: reads the sources and the earlier stages' outputs, writes
/// the indicator tables.
pub fn run(
    sources: &SourceFiles,
    bcn_out: &Path,
    continuum_out: &Path,
    options: &IndicatorsOptions,
    ctx: &StageContext,
) -> Result<StageReport> {
    let start = Instant::now();
    if sources.files.is_empty() {
        return Err(Error::usage(
            "the indicators stage needs at least one statistical file (inputs.inserjeunes_regional, inserjeunes_national, inserjeunes_formations, inserjeunes_etablissements or insersup)",
        ));
    }
    let reference = Reference::embedded();
    let staged = stage_sources(sources, &reference)?;
    crate::memory::trace("indicators: sources staged");
    let mut inputs: Vec<InputFile> = staged.iter().map(|s| s.input.clone()).collect();
    // The sources are read into rows (smaller than the staged rows, given
    // back as they go) before the BCN's referential, lineage and links are
    // loaded: the three side by side with every staged row were the
    // stage's peak at ×100 (issue 13).
    let (read, etablissements) = read_sources(staged);
    crate::memory::trace("indicators: sources read");
    let mut staged_dir = StagedDir::new(&ctx.out_dir)?;
    let dir = staged_dir.dir().to_path_buf();
    let annuaire = load_annuaire(&options.annuaire, &reference)?;
    let (etablissements, etablissements_written) =
        write_etablissements(etablissements, &reference, &annuaire, &dir, ctx)?;
    // The staged rows' small blocks (labels, boxed figures), freed, would
    // stay resident beside the fill's large vectors, which glibc maps
    // afresh.
    crate::memory::return_free_memory();
    crate::memory::trace("indicators: etablissements written");
    let referentiel = upstream::load_referentiel(bcn_out)?;
    let lineage = upstream::load_lineage(continuum_out)?;
    let links = upstream::load_links(continuum_out)?;
    crate::memory::trace("indicators: referential, lineage and links read");
    // The terminal years are the whole referential's; then the fill needs
    // no more of it than its rows can reach, and what it frees is room for
    // the fill's rows (the referential was ×100's largest holding, issue 13).
    let terminales = terminales::build_terminales(&referentiel);
    let referentiel = tables::referentiel_for_fill(
        referentiel,
        [&read.national, &read.regional, &read.etablissement],
        &lineage,
        &links,
        &terminales,
    );
    crate::memory::return_free_memory();
    crate::memory::trace("indicators: referential narrowed for the fill");
    let up = Upstream {
        referentiel: &referentiel,
        lineage: &lineage,
        links: &links,
        reference: &reference,
    };
    let mut result = build_from_read(read, etablissements, terminales, &up, options);
    // The lineage has done its work, and the tables look up few of the
    // referential's codes: both go before the tables are written, the
    // stage's peak (issue 13).
    drop((lineage, links));
    let referentiel = tables::referentiel_for_tables(referentiel, &result);
    crate::memory::return_free_memory();
    crate::memory::trace("indicators: referential narrowed");
    let classement = pilotage::Classement::new(
        &result.regionales,
        &result.certifications,
        &referentiel,
        options.seuil,
    );
    let pilotage_q4 = classement.q4_par_region();
    crate::memory::trace("indicators: pilotage classified");

    let tables = tables::builders(&result, &classement, &referentiel, &reference, options);
    let mut written = write_tables(&tables, &annuaire, &dir, ctx)?;
    // Reported in the order the release publishes the tables: after `formations`.
    let at = written
        .iter()
        .position(|(output, ..)| output.path.file_stem() == Some("formations".as_ref()))
        .map_or(written.len(), |i| i + 1);
    written.insert(at, etablissements_written);
    crate::memory::trace("indicators: tables written");
    drop(tables);
    drop(classement);
    result.summary.pilotage_q4 = pilotage_q4;
    inputs.extend(annuaire.inputs.iter().cloned());
    let mut outputs = Vec::new();
    let mut annuaire_details = Vec::new();
    for (output, note, detail) in written {
        outputs.push(output);
        if let Some(note) = note {
            staged_dir.note(note);
        }
        annuaire_details.extend(detail);
    }
    staged_dir.write_json("indicators_summary.json", &result.summary)?;
    outputs.push(OutputFile::file(&ctx.out_dir, "indicators_summary.json"));
    let written_notes = staged_dir.commit()?;

    let s = &result.summary;
    let mut details = report::accounts(s);
    details.extend(report::pilotage(s));
    if !annuaire.inputs.is_empty() {
        details.push(report::annuaire(&annuaire));
        details.extend(annuaire_details);
    }
    details.extend(report::rejects(s));
    details.extend(written_notes);
    let report = StageReport {
        stage: "indicators".into(),
        inputs,
        outputs,
        rows_read: s.rows_read,
        rows_written: s.rows_written,
        rows_rejected: s.rows_rejected,
        rows_merged: s.rows_skipped,
        details,
        elapsed: start.elapsed(),
    };
    // The rows and the referential are let go on a core of their own
    // while the next stage starts reading (issue 13: ten million boxes
    // freed one by one at ×100).
    crate::memory::drop_behind((result, referentiel, annuaire));
    Ok(report)
}

/// A table written: its output entry, the note of the formulas it escaped,
/// and what the establishment directory found for it.
type Written = (OutputFile, Option<String>, Option<String>);

/// Builds, completes from the establishment directory and writes each
/// table one row group at a time, one table at a time: each row group is
/// built in pieces on every thread (`output::table::build_in_pieces`), so
/// the stage holds the rows and one row group's columns, never a whole
/// table (issue 13). Two tables side by side, each built on one thread,
/// took as long and held twice the columns (×10: 1.89 → 1.22 GB).
fn write_tables(
    tables: &[tables::TableBuild],
    annuaire: &Annuaire,
    dir: &Path,
    ctx: &StageContext,
) -> Result<Vec<Written>> {
    tables
        .iter()
        .map(|builder| write_table(builder, annuaire, dir, ctx))
        .collect()
}

/// One table of [`write_tables`].
fn write_table(
    builder: &tables::TableBuild,
    annuaire: &Annuaire,
    dir: &Path,
    ctx: &StageContext,
) -> Result<Written> {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let (found, unknown) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // A row group is built in pieces: what a row needs while its columns
    // are built (its published figures, its place) is held for a piece at
    // a time (issue 13).
    let WrittenTable {
        name,
        rows,
        written,
    } = write_by_row_group(dir, builder.rows, builder.piece_rows, &ctx.csv, |piece| {
        let mut piece = (builder.build)(piece);
        if builder.per_etablissement {
            let (f, u) = annuaire::complete_etablissements(&mut piece, annuaire);
            found.fetch_add(f, Relaxed);
            unknown.fetch_add(u, Relaxed);
        }
        Ok(piece)
    })?;
    crate::memory::trace(&format!("indicators: {name} written"));
    let (found, unknown) = (found.into_inner(), unknown.into_inner());
    let detail = (builder.per_etablissement && !annuaire.inputs.is_empty()).then(|| {
        format!("{name}: {found} rows of a UAI the directory has, {unknown} of a UAI it lacks")
    });
    Ok((
        OutputFile::table_rows(&ctx.out_dir, &name, rows),
        written.formula_note(&name),
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::codes::CodeType;
    use crate::rules::millesime::Millesime;
    use crate::staging::mesures::Counts;
    use std::sync::Arc;

    /// Packed texts compare as the texts do, a prefix first; a text too
    /// long or holding a zero byte does not pack.
    #[test]
    fn packed_texts_keep_the_order_of_the_texts() {
        let mut texts = [
            "",
            "1",
            "10",
            "2",
            "40025214",
            "400252140",
            "24720000001",
            "2472000000",
            "ZZZZZZZZZZZZZZZZ",
            "é",
            "e",
        ];
        texts.sort();
        let packed: Vec<[u64; 2]> = texts.iter().map(|t| packed_text(t).unwrap()).collect();
        assert!(packed.windows(2).all(|w| w[0] < w[1]), "{texts:?}");
        assert_eq!(packed_text::<1>("123456789"), None);
        assert_eq!(packed_text::<2>("a\0b"), None);
        assert_eq!(packed_text::<1>("12345678"), Some([0x3132333435363738]));
    }

    /// The packed sort gives the order of the comparisons: millésime,
    /// filière by name, code (a CFD before a longer MEF it prefixes), place.
    #[test]
    fn a_level_is_sorted_in_published_order() {
        let row = |millesime: &str, filiere: Filiere, code: &str, region: &str| Indicateur {
            millesime: Millesime::parse(millesime).unwrap(),
            filiere,
            ..Indicateur::for_test(code, Niveau::Region(region.into()))
        };
        let rows = vec![
            row("2023", Filiere::Pro, "40025214", "84"),
            row("2022_2023", Filiere::Pro, "40025214", "84"),
            row("2022_2023", Filiere::Apprentissage, "40025214", "84"),
            row("2022_2023", Filiere::Pro, "40025214", "11"),
            row("2022_2023", Filiere::Pro, "40025214001", "11"),
            row("2022_2023", Filiere::Pro, "4002521", "93"),
            row("2022", Filiere::Superieur, "2400123", "93"),
            row("2022_2023", Filiere::Agricole, "40025214", "84"),
        ];
        let mut expected = rows.clone();
        expected.sort_by(Indicateur::cmp_published);
        for rotation in 0..rows.len() {
            let mut sorted = rows.clone();
            sorted.rotate_left(rotation);
            sort_published(&mut sorted);
            let keys = |v: &[Indicateur]| v.iter().map(Indicateur::key).collect::<Vec<_>>();
            assert_eq!(keys(&sorted), keys(&expected));
        }
    }

    fn regional(region: &str, t: i64, p: Option<i64>) -> Indicateur {
        Indicateur {
            millesime: Millesime::year(2023),
            filiere: Filiere::Pro,
            code_certification: "23830025513".into(),
            code_certification_type: CodeType::MefStat11,
            niveau: Niveau::Region(region.into()),
            counts: Counts {
                nb_annee_term: Some(t),
                nb_poursuite_etudes: p,
                ..Counts::default()
            }
            .into(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine: Origine::Source,
            donnee_source: Default::default(),
        }
    }

    fn national(rows: &[Indicateur]) -> Vec<Indicateur> {
        aggregate(rows, Origine::SommeRegions, |_| Some(Niveau::National), &[])
    }

    fn source(path: &str, rows: &[(&str, &str, u64)]) -> SourceFile {
        let file = Arc::new(PathBuf::from(path));
        let staged = Staged {
            rows: rows
                .iter()
                .map(|&(code, region, line)| MesureRow {
                    millesime: Millesime::year(2023),
                    filiere: Filiere::Pro,
                    code_certification: code.into(),
                    code_certification_type: CodeType::MefStat11,
                    niveau: Niveau::Region(region.into()),
                    counts: Counts {
                        nb_annee_term: Some(line as i64),
                        ..Counts::default()
                    }
                    .into(),
                    source_rates: Default::default(),
                    salaires: Default::default(),
                    libelle_etablissement: None,
                    origin: Origin {
                        file: file.clone(),
                        line,
                    },
                })
                .collect(),
            rows_read: rows.len(),
            ..Staged::default()
        };
        SourceFile {
            kind: SourceKind::InserjeunesRegional,
            input: InputFile {
                table: "InserjeunesRegional".into(),
                path: PathBuf::from(path),
                format: None,
                rows: rows.len(),
            },
            staged,
        }
    }

    /// A table's summary counts every row once, across the blocks it is
    /// counted in: 70,000 rows, every third under the seuil (masked),
    /// every fifth summed from the régions.
    #[test]
    fn a_table_summary_counts_each_row_once_across_blocks() {
        let n = 70_000;
        let rows: Vec<Indicateur> = (0..n)
            .map(|i| {
                // 40 leaving, 10 of them studying on: a rate to publish.
                let (annee_term, poursuite) = if i % 3 == 0 { (5, 1) } else { (40, 10) };
                let mut row = regional("84", annee_term, Some(poursuite));
                if i % 5 == 0 {
                    row.origine = Origine::SommeRegions;
                }
                row
            })
            .collect();
        let summaries = table_summaries([&[], &rows, &[]], 0, &[], 20);
        let regionales = &summaries["regionales"];
        assert_eq!(regionales.rows, n);
        assert_eq!(
            regionales.rows_masked,
            (0..n).filter(|i| i % 3 == 0).count()
        );
        assert_eq!(regionales.rows_from_continuum, 0);
        let sommes = (0..n).filter(|i| i % 5 == 0).count();
        assert_eq!(
            regionales.by_origine,
            BTreeMap::from([
                ("somme_regions".to_string(), sommes),
                ("source".to_string(), n - sommes),
            ])
        );
    }

    /// A file's rows are made in its staged rows' memory, in order, each
    /// with its origin; a file giving two levels has each row at its own.
    #[test]
    fn staged_rows_become_rows_in_place_at_their_level() {
        let staged = source("a.csv", &[("1", "84", 2), ("2", "11", 3)])
            .staged
            .rows;
        let memory = staged.as_ptr() as usize;
        let mut lines = Vec::new();
        let rows = own_rows(staged, |row, origin| {
            lines.push((row.code_certification.to_string(), origin.line));
        });
        assert_eq!(rows.as_ptr() as usize, memory, "made in place");
        assert_eq!(lines, [("1".to_string(), 2), ("2".to_string(), 3)]);

        let mut mixed = source("m.csv", &[("1", "84", 2), ("2", "84", 3)]);
        mixed.staged.rows[0].niveau = Niveau::National;
        let (read, _) = read_sources(vec![source("r.csv", &[("3", "84", 2)]), mixed]);
        let codes = |rows: &[Indicateur]| -> Vec<String> {
            rows.iter()
                .map(|r| r.code_certification.to_string())
                .collect()
        };
        assert_eq!(codes(&read.national), ["1"]);
        assert_eq!(codes(&read.regional), ["3", "2"]);
    }

    /// A key a row already has is rejected, in file order, naming the row
    /// kept, within a file and across files; every file still balances.
    #[test]
    fn a_repeated_key_is_rejected_naming_the_row_kept() {
        let (read, _) = read_sources(vec![
            source(
                "a.csv",
                &[("23830025513", "84", 2), ("23830025514", "84", 3)],
            ),
            source(
                "b.csv",
                &[
                    ("23830025513", "84", 5),
                    ("23830025513", "11", 6),
                    ("23830025513", "84", 7),
                ],
            ),
        ]);
        let kept: Vec<_> = read
            .regional
            .iter()
            .map(|r| {
                (
                    r.code_certification.as_str(),
                    r.niveau.code(),
                    r.counts.get().nb_annee_term,
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                ("23830025513", "84", Some(2)),
                ("23830025514", "84", Some(3)),
                ("23830025513", "11", Some(6)),
            ]
        );
        let rejects: Vec<_> = read
            .rejects
            .iter()
            .map(|r| (r.file.display().to_string(), r.line, r.reason.as_str()))
            .collect();
        let reason = "duplicate_key: the same millésime, filière, code and level as a.csv:2, kept";
        assert_eq!(
            rejects,
            [("b.csv".into(), 5, reason), ("b.csv".into(), 7, reason)]
        );
        let accounts: Vec<_> = read
            .accounts
            .iter()
            .map(|a| (a.rows_read, a.rows_written, a.rows_rejected))
            .collect();
        assert_eq!(accounts, [(2, 2, 0), (3, 1, 2)]);
    }

    #[test]
    fn a_region_without_detail_does_not_empty_the_national_sum() {
        let rows = vec![
            regional("84", 40, Some(10)),
            regional("11", 60, Some(30)),
            // Under 5 students: the source gives nothing but nb_annee_term.
            regional("52", 3, None),
        ];
        let n = national(&rows);
        assert_eq!(n.len(), 1);
        let c = n[0].counts.get();
        assert_eq!(
            (c.nb_annee_term, c.nb_poursuite_etudes),
            (Some(100), Some(40))
        );
        // Without any detailed row, nb_annee_term is still summed.
        let small = vec![regional("84", 3, None), regional("11", 2, None)];
        assert_eq!(national(&small)[0].counts.get().nb_annee_term, Some(5));
    }

    /// A key the coarser level already has is not summed; the others are,
    /// in key order, whatever the order of the rows.
    #[test]
    fn a_sum_is_made_only_for_a_key_the_level_lacks() {
        let of = |code: &str, region: &str, t: i64| Indicateur {
            code_certification: code.into(),
            ..regional(region, t, Some(1))
        };
        let rows = vec![
            of("23830025514", "84", 10),
            of("23830025513", "84", 20),
            of("23830025512", "11", 30),
            of("23830025514", "11", 40),
            of("23830025512", "84", 50),
        ];
        let existing = vec![Indicateur {
            niveau: Niveau::National,
            ..of("23830025513", "", 99)
        }];
        let sums = aggregate(
            &rows,
            Origine::SommeRegions,
            |_| Some(Niveau::National),
            &existing,
        );
        let got: Vec<(&str, Option<i64>)> = sums
            .iter()
            .map(|r| (r.code_certification.as_str(), r.counts.get().nb_annee_term))
            .collect();
        assert_eq!(got, [("23830025512", Some(80)), ("23830025514", Some(50))]);
        assert!(sums.iter().all(|r| r.niveau == Niveau::National));
    }
}
