//! `pilotage`: each formation against the average of its diploma level, as
//! the steering platform classifies it (issue 14; the rules are in
//! `rules::pilotage`).
//!
//! One row per millésime × filière × place (each région, and the nation) ×
//! certification of InserJeunes (voie scolaire and apprentissage apart;
//! InserSup is not classified yet), with:
//! - its employment rate at 6 months, further-study rate and "devenir
//!   favorable" rate, each only where its divisor reaches the threshold;
//! - the pooled rates of the same diploma level (`niveau_formation_diplome`,
//!   the CFD's first three characters: CAP, BAC PRO, BTS…) at the same place
//!   and millésime, and nationally, with the gaps in points;
//! - its position: `Q1`…`Q4`, `hors_quadrant` with the reason, or
//!   `non_classe` (a common first year);
//! - for national rows, the first and third quartiles of the published
//!   employment rates of the same diploma level, and the label they give.
//!
//! What the references pool: the rows of the source's own figures (not the
//! continuum's copies, not the families' sums: both would count students
//! twice; not the common first years, which have no outcome of their own),
//! small ones included (the average of a level is that of all its
//! students). A continuum row is classified from the figures it carries and
//! says so (`donnee_source_type`). References never mix millésimes, so a
//! formation is never compared with figures of another employment scope
//! (`perimetre_emploi`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::output::OutTable;
use crate::rules::codes::Code;
use crate::rules::filiere::Filiere;
use crate::rules::masquage::under_threshold;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;
use crate::rules::perimetre::PerimetreEmploi;
use crate::rules::pilotage::{
    libelle, quadrant, quartiles, HorsQuadrant, Libelle, Position, Ratio,
};
use crate::rules::rates::sortants;
use crate::stages::indicators::columns::{perimetre_column, six_month_count_columns, source_of};
use crate::stages::indicators::model::{publish, DonneeSource, Indicateur, Origine, Published};
use crate::stages::indicators::upstream::{Certification, Referentiel};
use crate::stages::indicators::BLOCK_ROWS;
use crate::staging::mesures::{Counts, Niveau};
use crate::staging::reference::Reference;

/// The three rates the platform classifies with.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Trois {
    pub emploi: Option<Ratio>,
    pub poursuite: Option<Ratio>,
    pub favorable: Option<Ratio>,
}

/// One row of `pilotage`. It borrows its indicator row: the table has one
/// row per regional and national row, and a copy of each was the stage's
/// largest allocation (issue 13).
#[derive(Debug, Clone, PartialEq)]
pub struct Pilotage<'a> {
    pub row: &'a Indicateur,
    /// What the referential says of the row's code (looked up once per
    /// row: the table's columns and its classification all read it).
    pub certification: Option<&'a Certification>,
    pub published: Published,
    pub niveau_formation_diplome: &'a str,
    pub taux: Trois,
    /// The pooled rates of the same level at the row's place.
    pub reference: Trois,
    /// The pooled rates of the same level nationally.
    pub reference_nationale: Trois,
    pub position: Position,
    pub hors_quadrant: Option<HorsQuadrant>,
    /// National rows: quartiles of the level's published employment rates.
    pub quartiles: Option<(f64, f64)>,
    pub libelle: Option<Libelle>,
}

impl Pilotage<'_> {
    pub fn perimetre_emploi(&self) -> PerimetreEmploi {
        PerimetreEmploi::of(self.row.filiere, self.row.millesime)
    }

    pub fn region_code(&self) -> &str {
        match &self.row.niveau {
            Niveau::Region(code) => code,
            _ => "",
        }
    }
}

/// The Q4 formations ("peu insérantes") of each région in the latest
/// millésime of a filière, as the run prints them: rows of the source's own
/// figures only (a continuum row repeats another code's figures, and would
/// count one formation twice).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Q4ParRegion {
    pub millesime: String,
    /// Région code → Q4 formations there.
    pub regions: BTreeMap<String, usize>,
}

/// Per filière, the Q4 count of each région in its latest millésime. Only
/// the rows counted are classified. Two passes over the table's rows, each
/// a block at a time on every thread (×100's nine million rows, read once
/// per filière and a région's name copied for each, took 2 s on one
/// thread, issue 13).
fn q4_par_region(pilotage: &Classement) -> BTreeMap<String, Q4ParRegion> {
    fn regional<'r, 'a>(rows: &'r [TableRow<'a>]) -> impl Iterator<Item = TableRow<'a>> + 'r {
        rows.iter()
            .filter(|(row, ..)| !place(row).is_empty())
            .copied()
    }
    // The first millésime met of the latest: a later one replaces it only
    // when it ends later (a year and the pair ending with it tie).
    let keep_latest = |latest: &mut BTreeMap<Filiere, Millesime>, filiere, millesime: Millesime| {
        let m = latest.entry(filiere).or_insert(millesime);
        if millesime.last > m.last {
            *m = millesime;
        }
    };
    let latest: BTreeMap<Filiere, Millesime> = pilotage
        .rows
        .par_chunks(BLOCK_ROWS)
        .map(|rows| {
            let mut latest = BTreeMap::new();
            for (row, ..) in regional(rows) {
                keep_latest(&mut latest, row.filiere, row.millesime);
            }
            latest
        })
        .reduce(BTreeMap::new, |mut first, then| {
            for (filiere, millesime) in then {
                keep_latest(&mut first, filiere, millesime);
            }
            first
        });
    let q4: BTreeMap<(Filiere, &str), usize> = pilotage
        .rows
        .par_chunks(BLOCK_ROWS)
        .map(|rows| {
            let mut q4 = BTreeMap::new();
            for (row, national, certification) in regional(rows) {
                if latest.get(&row.filiere) != Some(&row.millesime) || !in_reference(row) {
                    continue;
                }
                let position = pilotage.classify(row, national, certification).position;
                *q4.entry((row.filiere, place(row))).or_default() +=
                    usize::from(position == Position::Q4);
            }
            q4
        })
        .reduce(BTreeMap::new, |mut first, then| {
            for (key, n) in then {
                *first.entry(key).or_default() += n;
            }
            first
        });
    let mut out: BTreeMap<String, Q4ParRegion> = latest
        .iter()
        .map(|(filiere, millesime)| {
            let entry = Q4ParRegion {
                millesime: millesime.to_string(),
                regions: BTreeMap::new(),
            };
            (filiere.as_str().to_string(), entry)
        })
        .collect();
    for ((filiere, region), n) in q4 {
        if let Some(entry) = out.get_mut(filiere.as_str()) {
            entry.regions.insert(region.to_string(), n);
        }
    }
    out
}

/// The counts of a row, with `nb_sortant` derived when the source lacks it.
fn counts_of(row: &Indicateur) -> Counts {
    let mut c = row.counts.get();
    c.nb_sortant = sortants(c.nb_sortant, c.nb_annee_term, c.nb_poursuite_etudes);
    c
}

/// The three rates of a row, each where its divisor reaches `seuil`.
fn rates_of(c: &Counts, seuil: i64) -> Trois {
    let favorable = c
        .nb_poursuite_etudes
        .zip(c.nb_en_emploi_6_mois)
        .map(|(p, e)| p + e);
    Trois {
        emploi: Ratio::above(c.nb_en_emploi_6_mois, c.nb_sortant, seuil),
        poursuite: Ratio::above(c.nb_poursuite_etudes, c.nb_annee_term, seuil),
        favorable: Ratio::above(favorable, c.nb_annee_term, seuil),
    }
}

/// Sums over sums, each over the rows that know both of its terms.
#[derive(Debug, Default, Clone, Copy)]
struct Pool {
    emploi: (i64, i64),
    poursuite: (i64, i64),
    favorable: (i64, i64),
}

impl Pool {
    fn add(&mut self, c: &Counts) {
        self.merge(&Pool::of(c));
    }

    /// One row's pool: each pair where the row knows both of its terms.
    fn of(c: &Counts) -> Pool {
        let pair = |n: Option<i64>, d: Option<i64>| n.zip(d).unwrap_or_default();
        let favorable = c
            .nb_poursuite_etudes
            .zip(c.nb_en_emploi_6_mois)
            .map(|(p, e)| p + e);
        Pool {
            emploi: pair(c.nb_en_emploi_6_mois, c.nb_sortant),
            poursuite: pair(c.nb_poursuite_etudes, c.nb_annee_term),
            favorable: pair(favorable, c.nb_annee_term),
        }
    }

    /// Adds another pool's sums. Counts of real cohorts are far below
    /// `i64::MAX`; a sum that overflows is a broken input, not a figure to
    /// publish.
    fn merge(&mut self, other: &Pool) {
        let add = |acc: &mut (i64, i64), (n, d): (i64, i64)| {
            acc.0 = acc.0.checked_add(n).expect("pooled count overflows i64");
            acc.1 = acc.1.checked_add(d).expect("pooled count overflows i64");
        };
        add(&mut self.emploi, other.emploi);
        add(&mut self.poursuite, other.poursuite);
        add(&mut self.favorable, other.favorable);
    }

    /// The pooled rates, each only where its pooled divisor reaches the
    /// threshold: a level with one small formation must not publish, as its
    /// reference, the rate the threshold withholds.
    fn rates(&self, seuil: i64) -> Trois {
        let rate = |(n, d): (i64, i64)| Ratio::above(Some(n), Some(d), seuil);
        Trois {
            emploi: rate(self.emploi),
            poursuite: rate(self.poursuite),
            favorable: rate(self.favorable),
        }
    }
}

/// A pool's key: millésime, filière, place ("" for the nation) and level.
/// (millésime, filière, région or "" for the nation, diploma level), the
/// texts held inline (short codes): a probe compares the key's own bytes.
/// Borrowed from the rows, the stored keys pointed into rows scattered
/// over the level, and each of ×100's sixteen million probes missed the
/// caches to compare them.
type PoolKey = (Millesime, Filiere, Code, Code);

fn is_classified(filiere: Filiere) -> bool {
    filiere != Filiere::Superieur
}

/// Whether a row's figures are the source's own (they go into references).
fn in_reference(row: &Indicateur) -> bool {
    *row.donnee_source == DonneeSource::Propre && row.origine != Origine::SommeSpecialites
}

/// What classifying a row needs from the referential: the row's diploma
/// level, and whether it is a common first year.
struct Classifier<'r> {
    referentiel: &'r Referentiel,
    seuil: i64,
}

impl<'r> Classifier<'r> {
    /// What the referential says of the row's code.
    fn certification(&self, row: &Indicateur) -> Option<&'r Certification> {
        self.referentiel.get(&row.code_certification)
    }

    /// [`Classifier::certification`] for rows taken in a level's order,
    /// where a code's rows follow each other (one per région): looked up
    /// once per code.
    fn certifications_in_turn<'row>(
        &self,
    ) -> impl FnMut(&'row Indicateur) -> Option<&'r Certification> {
        let referentiel = self.referentiel;
        let mut last: Option<(&'row Code, Option<&'r Certification>)> = None;
        move |row| match last {
            Some((code, certification)) if *code == row.code_certification => certification,
            _ => {
                let certification = referentiel.get(&row.code_certification);
                last = Some((&row.code_certification, certification));
                certification
            }
        }
    }

    /// The row's diploma level (`niveau_formation_diplome`, "" when
    /// unknown) when its counts go into its references (see the module's
    /// doc); `None` when they do not. One lookup for both.
    fn pooled_niveau(&self, row: &Indicateur) -> Option<&'r str> {
        if !is_classified(row.filiere) || !in_reference(row) {
            return None;
        }
        let certification = self.certification(row);
        (!commune(row, certification)).then(|| niveau_of(certification))
    }
}

/// A common first year: a family's sum, or a code the referential flags.
fn commune(row: &Indicateur, certification: Option<&Certification>) -> bool {
    matches!(*row.donnee_source, DonneeSource::FamilleMetiers { .. })
        || certification.is_some_and(|c| c.seconde_commune)
}

/// A code's diploma level (`niveau_formation_diplome`), "" when unknown.
fn niveau_of(certification: Option<&Certification>) -> &str {
    certification.map_or("", |c| c.niveau_formation_diplome.as_str())
}

/// A pilotage row's level: the nation or a région (`pilotage` has no
/// establishment rows).
fn niveau_geographique(row: &Indicateur) -> NiveauGeographique {
    match row.niveau {
        Niveau::National => NiveauGeographique::National,
        _ => NiveauGeographique::Region,
    }
}

/// A row's place in a pool key: its région, "" for the nation.
fn place(row: &Indicateur) -> &str {
    match &row.niveau {
        Niveau::Region(code) => code,
        _ => "",
    }
}

/// The pooled counts each row is compared with: a regional row with its
/// level in its région and in all régions pooled, a national row with its
/// level in the national rows.
struct Pools {
    regional: PoolMap,
    /// The national reference of a regional row: all régions pooled.
    all_regions: PoolMap,
    national: PoolMap,
}

/// Pools by key, hashed with a fixed-seed foldhash: each row of `pilotage`
/// looks up two (nothing depends on the map's order).
type PoolMap = HashMap<PoolKey, Pool, foldhash::fast::FixedState>;

/// Adds the pools of `from` into `into`.
fn merge(into: &mut PoolMap, from: PoolMap) {
    for (key, pool) in from {
        into.entry(key).or_default().merge(&pool);
    }
}

impl Pools {
    /// The pools of both levels' rows, summed a block of rows at a time on
    /// every thread, then block by block (sums of integers: the order does
    /// not change them). ×100's nine million rows, each looked up in the
    /// referential, took 5 s on one thread (issue 13).
    fn build(c: &Classifier, regionales: &[Indicateur], certifications: &[Indicateur]) -> Self {
        let pooled = |row: &Indicateur| Some(Code::from(c.pooled_niveau(row)?));
        let empty = || (PoolMap::default(), PoolMap::default());
        let (regional, all_regions) = regionales
            .par_chunks(BLOCK_ROWS)
            .map(|rows| {
                let (mut regional, mut all_regions) = empty();
                for row in rows {
                    let Some(n) = pooled(row) else { continue };
                    let counts = counts_of(row);
                    regional
                        .entry((row.millesime, row.filiere, place(row).into(), n.clone()))
                        .or_default()
                        .add(&counts);
                    all_regions
                        .entry((row.millesime, row.filiere, Code::default(), n))
                        .or_default()
                        .add(&counts);
                }
                (regional, all_regions)
            })
            .reduce(empty, |(mut regional, mut all_regions), (r, a)| {
                merge(&mut regional, r);
                merge(&mut all_regions, a);
                (regional, all_regions)
            });
        let national = certifications
            .par_chunks(BLOCK_ROWS)
            .map(|rows| {
                let mut national = PoolMap::default();
                for row in rows {
                    let Some(n) = pooled(row) else { continue };
                    national
                        .entry((row.millesime, row.filiere, Code::default(), n))
                        .or_default()
                        .add(&counts_of(row));
                }
                national
            })
            .reduce(PoolMap::default, |mut national, other| {
                merge(&mut national, other);
                national
            });
        Pools {
            regional,
            all_regions,
            national,
        }
    }

    /// The references of a row at level `n`: at its place, and nationally
    /// (the same for a row of `certifications`, `national`). A row of
    /// unknown level has none.
    fn references(&self, row: &Indicateur, national: bool, n: &str, seuil: i64) -> (Trois, Trois) {
        let reference = |pools: &PoolMap, key: &PoolKey| {
            if key.3.is_empty() {
                return Trois::default();
            }
            pools.get(key).map(|p| p.rates(seuil)).unwrap_or_default()
        };
        let n = Code::from(n);
        let national_key = (row.millesime, row.filiere, Code::default(), n.clone());
        let key = (row.millesime, row.filiere, place(row).into(), n);
        if national {
            let r = reference(&self.national, &national_key);
            (r, r)
        } else {
            (
                reference(&self.regional, &key),
                reference(&self.all_regions, &national_key),
            )
        }
    }
}

/// Classifies the rows of `pilotage`: the pools and the national
/// quartiles are computed once, from every row; each row is classified when
/// its part of the table is written. A table of classified rows beside the
/// indicator rows was the stage's largest allocation (issue 13).
pub struct Classement<'a> {
    classifier: Classifier<'a>,
    pools: Pools,
    /// The quartiles of each (millésime, filière, level), nationally.
    quartiles: BTreeMap<(Millesime, Filiere, &'a str), (f64, f64)>,
    /// The rows of the table, in its order (regional, then national),
    /// whether each is national, and its code's certification (looked up
    /// in the levels' order, see [`in_table_order`]).
    rows: Vec<TableRow<'a>>,
}

/// The order of the `pilotage` table, the one the release publishes it in:
/// its primary key as text (millésime, filière, level, place, code), so
/// that the release reads it one row group at a time (issue 13).
fn table_cmp(a: &Indicateur, b: &Indicateur) -> std::cmp::Ordering {
    fn key(r: &Indicateur) -> (Millesime, &str, &str, &str, &str) {
        (
            r.millesime,
            r.filiere.as_str(),
            niveau_geographique(r).as_str(),
            r.niveau.code_lieu(),
            r.code_certification.as_str(),
        )
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp_published(b))
}

/// The classified rows, regional then national flagged, in the table's
/// order ([`table_cmp`]). The stage hands each level sorted by
/// `cmp_published` (millésime, filière, code, place), which differs from
/// the table's only in putting the code before the place: so, within each
/// millésime and filière, the regional rows are dealt by région (each
/// région's in code order, as they come) and the national ones put before
/// or after them, in one pass. A sort of ×100's eight million rows by a key
/// of strings was a quarter of the tables' time. The order found is
/// checked row by row; where it is not the table's (levels not sorted so),
/// the rows are sorted.
///
/// Each row's certification is looked up as the rows come, in the levels'
/// order: a code's rows follow each other there, where the table's order
/// puts a région's codes together (at ×100, looked up in the table's
/// order, each row missed the processor's caches).
fn in_table_order<'a>(
    regionales: &'a [Indicateur],
    certifications: &'a [Indicateur],
    classifier: &Classifier<'a>,
) -> Vec<TableRow<'a>> {
    if let Some(rows) = dealt_in_order(regionales, certifications, classifier) {
        return rows;
    }
    let mut certification = classifier.certifications_in_turn();
    let levels = classified(regionales)
        .map(|r| (r, false))
        .chain(classified(certifications).map(|n| (n, true)));
    let mut rows: Vec<_> = levels.map(|(r, n)| (r, n, certification(r))).collect();
    rows.sort_by(|(a, ..), (b, ..)| table_cmp(a, b));
    rows
}

/// A row of `pilotage`: the indicator row, whether it is national, and
/// its code's certification.
type TableRow<'a> = (&'a Indicateur, bool, Option<&'a Certification>);

/// The rows of `table` in turn, each one's indicator row and certification
/// asked of the memory a few places before it comes. The table puts a
/// région's codes together, the level a code's régions: each row read is
/// far from the one before, a wait on memory once the level is gigabytes
/// (×100's `pilotage` written 20.2 → 18.2 s, issue 13).
fn read_ahead<'r, 'a>(table: &'r [TableRow<'a>]) -> impl Iterator<Item = &'r TableRow<'a>> + 'r {
    const AHEAD: usize = 8;
    table.iter().enumerate().map(move |(i, row)| {
        if let Some(&(ahead, _, certification)) = table.get(i + AHEAD) {
            crate::memory::prefetch(ahead);
            if let Some(c) = certification {
                crate::memory::prefetch(c);
            }
        }
        row
    })
}

/// The rows of a level the pilotage classifies.
fn classified(rows: &[Indicateur]) -> impl Iterator<Item = &Indicateur> {
    rows.iter().filter(|r| is_classified(r.filiere))
}

/// [`in_table_order`]'s pass over levels sorted by `cmp_published`; `None`
/// when the order it deals is not the table's.
fn dealt_in_order<'a>(
    regionales: &'a [Indicateur],
    certifications: &'a [Indicateur],
    classifier: &Classifier<'a>,
) -> Option<Vec<TableRow<'a>>> {
    let mut certification = classifier.certifications_in_turn();
    let group = |r: &Indicateur| (r.millesime, r.filiere.as_str());
    let mut regional = classified(regionales).peekable();
    let mut national = classified(certifications).peekable();
    let mut rows = Vec::with_capacity(regionales.len() + certifications.len());
    loop {
        let next = match (regional.peek(), national.peek()) {
            (None, None) => break,
            (Some(r), None) => group(r),
            (None, Some(n)) => group(n),
            (Some(r), Some(n)) => group(r).min(group(n)),
        };
        let mut by_place: BTreeMap<&str, Vec<TableRow>> = BTreeMap::new();
        while let Some(r) = regional.next_if(|r| group(r) == next) {
            let row = (r, false, certification(r));
            by_place.entry(r.niveau.code_lieu()).or_default().push(row);
        }
        let mut nationals = Vec::new();
        while let Some(n) = national.next_if(|n| group(n) == next) {
            nationals.push((n, true, certification(n)));
        }
        let first_regional = by_place.values().next().and_then(|v| v.first());
        let national_first = match (nationals.first(), first_regional) {
            (Some(n), Some(r)) => table_cmp(n.0, r.0).is_lt(),
            _ => true,
        };
        let regionals = by_place.into_values().flatten();
        let nationals = nationals.into_iter();
        if national_first {
            rows.extend(nationals.chain(regionals));
        } else {
            rows.extend(regionals.chain(nationals));
        }
    }
    // Checked on every thread: nine million comparisons of strings at ×100.
    rows.par_windows(2)
        .all(|w| table_cmp(w[0].0, w[1].0).is_lt())
        .then_some(rows)
}

impl<'a> Classement<'a> {
    /// The pools and quartiles of the regional and national rows.
    pub fn new(
        regionales: &'a [Indicateur],
        certifications: &'a [Indicateur],
        referentiel: &'a Referentiel,
        seuil: i64,
    ) -> Classement<'a> {
        let classifier = Classifier { referentiel, seuil };
        let pools = Pools::build(&classifier, regionales, certifications);
        let rows = in_table_order(regionales, certifications, &classifier);
        let mut classement = Classement {
            classifier,
            pools,
            quartiles: BTreeMap::new(),
            rows,
        };
        classement.quartiles = classement.national_quartiles();
        classement
    }

    /// The table's rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows `range` of the table, classified and labelled.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Vec<Pilotage<'a>> {
        read_ahead(&self.rows[range])
            .map(|&(row, national, certification)| {
                let mut p = self.classify(row, national, certification);
                self.label(&mut p);
                p
            })
            .collect()
    }

    /// Per filière, the Q4 formations of each région in its latest millésime.
    pub fn q4_par_region(&self) -> BTreeMap<String, Q4ParRegion> {
        q4_par_region(self)
    }

    /// One row's rates, references and position (its label comes after,
    /// from the national quartiles: `label`).
    fn classify(
        &self,
        row: &'a Indicateur,
        national: bool,
        certification: Option<&'a Certification>,
    ) -> Pilotage<'a> {
        let c = &self.classifier;
        let n = niveau_of(certification);
        let (reference, reference_nationale) = self.pools.references(row, national, n, c.seuil);
        let counts = counts_of(row);
        let taux = rates_of(&counts, c.seuil);
        let (position, hors_quadrant) = position(
            commune(row, certification),
            &counts,
            &taux,
            &reference,
            c.seuil,
        );
        Pilotage {
            row,
            certification,
            published: publish(row, c.seuil),
            niveau_formation_diplome: n,
            taux,
            reference,
            reference_nationale,
            position,
            hors_quadrant,
            quartiles: None,
            libelle: None,
        }
    }

    /// Quartiles of the published employment rates of each (millésime,
    /// filière, level) nationally, over the source's own classified rows.
    /// Common first years have no outcome of their own: no label, no share
    /// in the quartiles.
    fn national_quartiles(&self) -> BTreeMap<(Millesime, Filiere, &'a str), (f64, f64)> {
        let mut rates: BTreeMap<(Millesime, Filiere, &'a str), Vec<i64>> = BTreeMap::new();
        let national = |row: &Indicateur| row.niveau == Niveau::National && in_reference(row);
        for &(row, is_national, certification) in self.rows.iter().filter(|(row, ..)| national(row))
        {
            let p = self.classify(row, is_national, certification);
            let n = p.niveau_formation_diplome;
            if let (Some(e), false, false) = (
                p.taux.emploi,
                n.is_empty(),
                p.position == Position::NonClasse,
            ) {
                rates
                    .entry((row.millesime, row.filiere, n))
                    .or_default()
                    .push(e.percent());
            }
        }
        rates
            .into_iter()
            .filter_map(|(k, v)| quartiles(&v).map(|q| (k, q)))
            .collect()
    }

    /// A national row's label against its level's quartiles.
    fn label(&self, p: &mut Pilotage) {
        if p.row.niveau != Niveau::National || p.position == Position::NonClasse {
            return;
        }
        let key = (p.row.millesime, p.row.filiere, p.niveau_formation_diplome);
        if let Some(q) = self.quartiles.get(&key) {
            p.quartiles = Some(*q);
            p.libelle = p.taux.emploi.map(|e| libelle(e.percent(), *q));
        }
    }
}

/// Every row of `pilotage`, classified (the tests' view of [`Classement`]).
#[cfg(test)]
fn build_pilotage<'a>(
    regionales: &'a [Indicateur],
    certifications: &'a [Indicateur],
    referentiel: &'a Referentiel,
    seuil: i64,
) -> Vec<Pilotage<'a>> {
    let c = Classement::new(regionales, certifications, referentiel, seuil);
    c.rows(0..c.len())
}

/// The position of a row, and why it has none.
fn position(
    commune: bool,
    counts: &Counts,
    taux: &Trois,
    reference: &Trois,
    seuil: i64,
) -> (Position, Option<HorsQuadrant>) {
    if commune {
        return (Position::NonClasse, None);
    }
    // The threshold is `rules::masquage`'s; the reasons are not its `Masked`
    // statuses: they explain the absence of the two classifying rates (6-month
    // employment, continuation), not of every figure of the row.
    let hors = |why| (Position::HorsQuadrant, Some(why));
    match counts.nb_annee_term {
        None => return hors(HorsQuadrant::DonneesManquantes),
        n if under_threshold(n, seuil) => return hors(HorsQuadrant::EffectifSousSeuil),
        Some(_) => {}
    }
    let (Some(emploi), Some(poursuite)) = (taux.emploi, taux.poursuite) else {
        let peu_de_sortants =
            counts.nb_sortant.is_some() && under_threshold(counts.nb_sortant, seuil);
        return if taux.poursuite.is_some() && peu_de_sortants {
            hors(HorsQuadrant::SortantsSousSeuil)
        } else {
            hors(HorsQuadrant::DonneesManquantes)
        };
    };
    match (reference.emploi, reference.poursuite) {
        (Some(re), Some(rp)) => (quadrant(emploi, poursuite, re, rp), None),
        _ => hors(HorsQuadrant::ReferenceAbsente),
    }
}

/// The rows of the `pilotage` table built at a time. The table puts a
/// région's codes together where the levels put a code's régions: its rows,
/// their certifications, lie all over the levels, and each column made
/// reads them again. A piece's rows and certifications (about 300 bytes
/// each) stay within a core's own cache while its columns are made; a
/// piece of the other tables' size (`output::table::PIECE_ROWS`) did not,
/// and at ×100 every column read every row from farther away (issue 13:
/// `OutTable::str` alone, reading the rows, was 14 % of the table's
/// writing).
pub const PIECE_ROWS: usize = 2048;

/// The `pilotage` output table: its columns in publication order, by group.
pub fn pilotage_table(rows: &[Pilotage], reference: &Reference) -> OutTable {
    let mut t = OutTable::new("pilotage");
    key_columns(&mut t, rows, reference);
    certification_columns(&mut t, rows);
    // The published counts the three rates are made of.
    six_month_count_columns(&mut t, rows.iter().map(|p| &p.published.counts));
    rate_columns(&mut t, rows);
    position_columns(&mut t, rows);
    perimetre_column(
        &mut t,
        rows.iter().map(|p| (p.row.filiere, p.row.millesime)),
    );
    t
}

/// The key (millésime, filière, place) and the place's label.
fn key_columns(t: &mut OutTable, rows: &[Pilotage], reference: &Reference) {
    t.str("millesime", rows.iter().map(|p| p.row.millesime.text()))
        .str("filiere", rows.iter().map(|p| p.row.filiere.as_str()))
        .str(
            "niveau_geographique",
            rows.iter().map(|p| niveau_geographique(p.row).as_str()),
        )
        .str("code_lieu", rows.iter().map(|p| p.row.niveau.code_lieu()))
        .str("region_code", rows.iter().map(Pilotage::region_code))
        .str(
            "region_libelle",
            rows.iter().map(|p| {
                reference
                    .region(p.region_code())
                    .map(|r| r.libelle.as_str())
                    .unwrap_or("")
            }),
        );
}

/// The certification, what the referential says of it, and where its
/// figures come from.
fn certification_columns<'p>(t: &mut OutTable, rows: &[Pilotage<'p>]) {
    fn or_empty<'c>(c: Option<&'c Certification>, empty: &'c Certification) -> &'c Certification {
        c.unwrap_or(empty)
    }
    let empty = Certification::default();
    let cert = |p: &Pilotage<'p>| or_empty(p.certification, &empty);
    let sources: Vec<(&str, Cow<str>)> = rows.iter().map(|p| source_of(p.row)).collect();
    t.str(
        "code_certification",
        rows.iter().map(|p| &p.row.code_certification),
    )
    .str(
        "code_certification_type",
        rows.iter().map(|p| p.row.code_certification_type.as_str()),
    )
    .str(
        "code_formation_diplome",
        rows.iter().map(|p| &cert(p).code_formation_diplome),
    )
    .str("libelle", rows.iter().map(|p| &cert(p).libelle))
    .str(
        "niveau_formation_diplome",
        rows.iter().map(|p| &p.niveau_formation_diplome),
    )
    .str(
        "libelle_niveau_diplome",
        rows.iter().map(|p| &cert(p).libelle_niveau_diplome),
    )
    .str("donnee_source_type", sources.iter().map(|s| s.0))
    .str("donnee_source_code", sources.iter().map(|s| &s.1));
}

/// The three rates: the row's own, its level's at its place, the gaps in
/// points, its level's nationally.
fn rate_columns(t: &mut OutTable, rows: &[Pilotage]) {
    let pct = |f: fn(&Trois) -> Option<Ratio>, of: for<'p> fn(&'p Pilotage<'p>) -> &'p Trois| {
        rows.iter().map(move |p| f(of(p)).map(Ratio::percent))
    };
    let ecart = |f: fn(&Trois) -> Option<Ratio>| {
        rows.iter()
            .map(move |p| Some(f(&p.taux)?.ecart_points(f(&p.reference)?)))
    };
    let emploi = |t: &Trois| t.emploi;
    let poursuite = |t: &Trois| t.poursuite;
    let favorable = |t: &Trois| t.favorable;
    fn own<'p>(p: &'p Pilotage<'p>) -> &'p Trois {
        &p.taux
    }
    fn at_place<'p>(p: &'p Pilotage<'p>) -> &'p Trois {
        &p.reference
    }
    fn nation<'p>(p: &'p Pilotage<'p>) -> &'p Trois {
        &p.reference_nationale
    }
    t.int("taux_en_emploi_6_mois", pct(emploi, own))
        .int("taux_poursuite_etudes", pct(poursuite, own))
        .int("taux_devenir_favorable", pct(favorable, own))
        .int("reference_taux_en_emploi_6_mois", pct(emploi, at_place))
        .int("reference_taux_poursuite_etudes", pct(poursuite, at_place))
        .int("reference_taux_devenir_favorable", pct(favorable, at_place))
        .int("ecart_taux_en_emploi_6_mois", ecart(emploi))
        .int("ecart_taux_poursuite_etudes", ecart(poursuite))
        .int("ecart_taux_devenir_favorable", ecart(favorable))
        .int(
            "reference_nationale_taux_en_emploi_6_mois",
            pct(emploi, nation),
        )
        .int(
            "reference_nationale_taux_poursuite_etudes",
            pct(poursuite, nation),
        )
        .int(
            "reference_nationale_taux_devenir_favorable",
            pct(favorable, nation),
        );
}

/// The position, why a row has none, and the national rows' quartiles and
/// label.
fn position_columns(t: &mut OutTable, rows: &[Pilotage]) {
    t.str("position", rows.iter().map(|p| p.position.as_str()))
        .str(
            "raison_hors_quadrant",
            rows.iter()
                .map(|p| p.hors_quadrant.map_or("", HorsQuadrant::as_str)),
        )
        .float(
            "quartile_1_emploi",
            rows.iter().map(|p| p.quartiles.map(|q| q.0)),
        )
        .float(
            "quartile_3_emploi",
            rows.iter().map(|p| p.quartiles.map(|q| q.1)),
        )
        .str(
            "libelle_emploi",
            rows.iter().map(|p| p.libelle.map_or("", Libelle::as_str)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, region: Option<&str>, term: i64, poursuite: i64, emploi: i64) -> Indicateur {
        let niveau = region.map_or(Niveau::National, |r| Niveau::Region(r.into()));
        Indicateur {
            counts: Counts {
                nb_annee_term: Some(term),
                nb_poursuite_etudes: Some(poursuite),
                nb_en_emploi_6_mois: Some(emploi),
                ..Counts::default()
            }
            .into(),
            ..Indicateur::for_test(code, niveau)
        }
    }

    /// Levels sorted as the stage sorts them are dealt into the table's
    /// order without a sort, and give a sort's rows; levels in any other
    /// order are sorted.
    #[test]
    fn sorted_levels_are_dealt_into_the_table_order() {
        let mut regionales = Vec::new();
        let mut certifications = Vec::new();
        for (millesime, filiere) in [
            ("2021_2022", Filiere::Apprentissage),
            ("2021_2022", Filiere::Pro),
            ("2022_2023", Filiere::Agricole),
            ("2022_2023", Filiere::Pro),
        ] {
            for code in ["40025510", "40025511", "50025512"] {
                let at = |region: Option<&str>| {
                    let mut r = row(code, region, 30, 10, 12);
                    r.millesime = Millesime::parse(millesime).unwrap();
                    r.filiere = filiere;
                    r
                };
                certifications.push(at(None));
                for region in ["11", "84", "93", "32"] {
                    regionales.push(at(Some(region)));
                }
            }
        }
        // InserSup's rows are not classified.
        let mut superieur = row("2400074", Some("84"), 30, 10, 12);
        superieur.filiere = Filiere::Superieur;
        regionales.push(superieur);
        regionales.sort_by(Indicateur::cmp_published);
        certifications.sort_by(Indicateur::cmp_published);
        let sorted = |regionales: &[Indicateur], certifications: &[Indicateur]| {
            let mut rows: Vec<_> = classified(regionales)
                .map(|r| (r.key(), false))
                .chain(classified(certifications).map(|n| (n.key(), true)))
                .collect();
            rows.sort_by(|a, b| {
                let text = |(k, _): &(crate::stages::indicators::model::Key, bool)| {
                    let level = if k.2 == Niveau::National {
                        "national"
                    } else {
                        "region"
                    };
                    (
                        k.0,
                        k.1.as_str(),
                        level,
                        k.2.code_lieu().to_string(),
                        k.3.clone(),
                    )
                };
                text(a).cmp(&text(b))
            });
            rows
        };
        // Two of the three codes in the referential: each row's
        // certification, looked up in turn, is its own code's.
        let referentiel = referentiel(&[("40025510", "400"), ("50025512", "500")]);
        let classifier = Classifier {
            referentiel: &referentiel,
            seuil: 20,
        };
        let keys = |rows: Vec<TableRow>| -> Vec<_> {
            for &(r, _, certification) in &rows {
                let expected = referentiel.get(&r.code_certification);
                assert_eq!(certification.map(|c| &c.code), expected.map(|c| &c.code));
            }
            rows.into_iter().map(|(r, n, _)| (r.key(), n)).collect()
        };
        let expected = sorted(&regionales, &certifications);
        assert_eq!(expected.len(), 60);
        let dealt = dealt_in_order(&regionales, &certifications, &classifier)
            .expect("dealt without a sort");
        assert_eq!(keys(dealt), expected);
        // Not as the stage sorts them: sorted, to the same rows.
        regionales.reverse();
        assert!(dealt_in_order(&regionales, &certifications, &classifier).is_none());
        assert_eq!(
            keys(in_table_order(&regionales, &certifications, &classifier)),
            expected
        );
    }

    /// The table made a piece at a time is the table made at once: the
    /// same rows, in order, the pieces' seams included.
    #[test]
    fn the_table_made_in_pieces_is_the_table_made_whole() {
        let codes: Vec<String> = (0..1200)
            .map(|i| format!("{:08}", 40_000_000 + i))
            .collect();
        let mut regionales = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            for region in ["11", "32", "84", "93"] {
                let term = 5 + (i as i64 * 7) % 60;
                regionales.push(row(code, Some(region), term, term / 3, term / 2));
            }
        }
        regionales.sort_by(Indicateur::cmp_published);
        let niveaux: Vec<(&str, &str)> = codes.iter().map(|c| (c.as_str(), "500")).collect();
        let referentiel = referentiel(&niveaux);
        let classement = Classement::new(&regionales, &[], &referentiel, 20);
        assert!(
            classement.len() > 2 * PIECE_ROWS,
            "pieces and a seam or more"
        );
        let reference = Reference::embedded();
        let table =
            |range: std::ops::Range<usize>| pilotage_table(&classement.rows(range), &reference);
        for range in [0..classement.len(), 3..PIECE_ROWS + 5, 0..0] {
            let pieces =
                crate::output::table::build_in_pieces(range.clone(), PIECE_ROWS, |r| Ok(table(r)))
                    .unwrap()
                    .into_dataframe()
                    .unwrap();
            let whole = table(range.clone()).into_dataframe().unwrap();
            assert_eq!(pieces.height(), range.len());
            assert!(pieces.equals_missing(&whole), "{range:?}");
        }
    }

    fn referentiel(codes: &[(&str, &str)]) -> Referentiel {
        codes
            .iter()
            .map(|(code, niveau)| {
                (
                    (*code).into(),
                    Certification {
                        code: (*code).into(),
                        niveau_formation_diplome: (*niveau).into(),
                        ..Certification::default()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn each_formation_against_the_pooled_rates_of_its_level() {
        // Bac pro (400) in région 84: pooled poursuite 30/100, emploi 35/70.
        let rows = vec![
            row("A", Some("84"), 40, 20, 20), // poursuite 50 %, emploi 20/20 = 100 %
            row("B", Some("84"), 40, 8, 10),  // 20 %, 10/32 = 31 %
            row("C", Some("84"), 20, 2, 5),   // 10 %, 5/18: too few leavers
            row("D", Some("84"), 10, 5, 5),   // under the threshold, still pooled
            row("E", Some("84"), 30, 10, 9),  // CAP (500): its own pool only
        ];
        let refs = referentiel(&[
            ("A", "400"),
            ("B", "400"),
            ("C", "400"),
            ("D", "400"),
            ("E", "500"),
        ]);
        let p = build_pilotage(&rows, &[], &refs, 20);
        let by = |code: &str| p.iter().find(|x| x.row.code_certification == code).unwrap();
        let r = by("A").reference;
        assert_eq!(
            r.poursuite.unwrap(),
            Ratio {
                numerateur: 35,
                denominateur: 110
            }
        );
        assert_eq!(
            r.emploi.unwrap(),
            Ratio {
                numerateur: 40,
                denominateur: 75
            }
        );
        assert_eq!(by("A").position, Position::Q1);
        assert_eq!(by("B").position, Position::Q4);
        assert_eq!(
            (by("C").position, by("C").hors_quadrant),
            (
                Position::HorsQuadrant,
                Some(HorsQuadrant::SortantsSousSeuil)
            )
        );
        assert_eq!(by("D").hors_quadrant, Some(HorsQuadrant::EffectifSousSeuil));
        // Alone in its level, E is its own reference: a tie counts as ≥.
        assert_eq!(by("E").position, Position::Q1);
        // Its national reference pools every région's rows of its level.
        assert_eq!(by("E").reference_nationale, by("E").reference);
    }

    #[test]
    fn continuum_rows_are_classified_but_not_pooled_and_common_years_never() {
        let mut copy = row("F", Some("84"), 100, 60, 10);
        copy.donnee_source = DonneeSource::Continuum {
            direction: crate::rules::continuum::Direction::Ancienne,
            via: crate::rules::continuum::Via::OneToOne,
            hops: 1,
            codes: vec!["A".into()],
        }
        .into();
        let mut family = row("G", Some("84"), 100, 10, 80);
        family.donnee_source = DonneeSource::FamilleMetiers {
            famille_metiers_code: "G0003".into(),
            codes: vec!["A".into()],
        }
        .into();
        let rows = vec![row("A", Some("84"), 40, 20, 10), copy, family];
        let refs = referentiel(&[("A", "400"), ("F", "400"), ("G", "400")]);
        let p = build_pilotage(&rows, &[], &refs, 20);
        let f = p.iter().find(|x| x.row.code_certification == "F").unwrap();
        // The reference is A's alone: 20/40 further study, 10/20 employment.
        assert_eq!(f.reference.poursuite.unwrap().percent(), 50);
        assert_eq!(f.position, Position::Q3, "60 % study, 10/40 in employment");
        let g = p.iter().find(|x| x.row.code_certification == "G").unwrap();
        assert_eq!(g.position, Position::NonClasse);
    }

    #[test]
    fn national_rows_get_a_label_against_their_levels_quartiles() {
        let rows: Vec<Indicateur> = [(10, "A"), (20, "B"), (30, "C"), (40, "D"), (50, "E")]
            .iter()
            .map(|(emploi, code)| row(code, None, 100, 0, *emploi))
            .collect();
        let refs = referentiel(&[
            ("A", "400"),
            ("B", "400"),
            ("C", "400"),
            ("D", "400"),
            ("E", "400"),
        ]);
        let p = build_pilotage(&[], &rows, &refs, 20);
        let labels: Vec<_> = p.iter().map(|x| x.libelle.unwrap().as_str()).collect();
        assert_eq!(
            labels,
            [
                "plutot_difficile",
                "plutot_difficile",
                "dans_la_moyenne",
                "tres_favorable",
                "tres_favorable"
            ]
        );
        assert_eq!(p[0].quartiles, Some((20.0, 40.0)));
    }
}
