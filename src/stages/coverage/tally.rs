//! Counting a catalogue: each offer measured on its own (its outcome, the
//! waterfall steps that cover it), then tallied in file order into the
//! summary, so a catalogue read in chunks gives the figures of a whole read.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;

use crate::rules::filiere::Filiere;
use crate::staging::catalogues::{CatalogueFormat, Offre};

use super::model::{rate, CoverageSummary, Example, Share, Status, WaterfallStep};
use super::resolve::{
    regional_waterfall_steps, waterfall_steps, Context, Outcome, Prepared, Steps,
};
use super::tables::{libelle_of, niveau_of};

pub struct Coverage {
    pub offers: Vec<Offre>,
    pub outcomes: Vec<Outcome>,
    pub summary: CoverageSummary,
}

/// One offer measured: its outcome with every step on, which steps of
/// each waterfall cover it, and its diploma level (for the tally and the
/// table, looked up once and in parallel).
pub struct Measured<'c> {
    pub outcome: Outcome,
    /// `libelle_niveau_diplome` of the code shown (else the offer's own),
    /// `inconnu` when the referential does not say.
    pub niveau: &'c str,
    /// Bit `i`: step `i` of `waterfall_steps()` covers the offer.
    main: u32,
    /// The same for `regional_waterfall_steps()`.
    regional: u32,
}

/// The waterfalls' steps, listed once per run.
pub struct Waterfalls {
    main: Vec<(&'static str, &'static str, Steps)>,
    regional: Vec<(&'static str, &'static str, Steps)>,
}

impl Default for Waterfalls {
    fn default() -> Self {
        Waterfalls {
            main: waterfall_steps(),
            regional: regional_waterfall_steps(),
        }
    }
}

impl Waterfalls {
    /// Measures one offer: independent of every other offer, so chunks are
    /// measured in parallel.
    pub fn measure<'c>(&self, offer: &Offre, ctx: &Context<'c>) -> Measured<'c> {
        let prepared = Prepared::of(offer, ctx);
        let covered = |steps: &[(&str, &str, Steps)]| {
            steps.iter().enumerate().fold(0u32, |bits, (i, (_, _, s))| {
                bits | (u32::from(prepared.covered(*s)) << i)
            })
        };
        let outcome = prepared.outcome(Steps::ALL);
        Measured {
            niveau: niveau_of(offer, &outcome, ctx),
            outcome,
            main: covered(&self.main),
            regional: covered(&self.regional),
        }
    }
}

/// The catalogue's summary, counted offer by offer in file order, so that a
/// catalogue is measured chunk by chunk with the figures of a whole read.
pub struct Tally {
    counts: Counts,
    waterfalls: Waterfalls,
    /// Offers counted by one task in [`Tally::add_all`].
    piece: usize,
}

/// What a tally counts. Counts of consecutive offers merge into the counts
/// of all of them ([`Counts::merge`], in file order for the examples), so a
/// chunk is counted in pieces side by side.
struct Counts {
    summary: CoverageSummary,
    main: Vec<usize>,
    regional: Vec<usize>,
}

/// Offers counted by one task when a chunk is counted in pieces: enough
/// for a merge (a few dozen map entries) to cost nothing beside them.
const TALLY_PIECE: usize = 8_192;

impl Tally {
    pub fn new(name: &str, waterfalls: Waterfalls) -> Tally {
        let mut counts = Counts::new(&waterfalls);
        counts.summary.catalogue = name.to_string();
        for status in Status::ALL {
            counts
                .summary
                .by_status
                .insert(status.as_str().to_string(), 0);
        }
        Tally {
            counts,
            waterfalls,
            piece: TALLY_PIECE,
        }
    }

    /// The same tally, counting `add_all`'s offers `piece` at a time (tests
    /// cut small pieces: every size gives the same figures).
    pub fn in_pieces_of(self, piece: usize) -> Tally {
        Tally {
            piece: piece.max(1),
            ..self
        }
    }

    pub fn waterfalls(&self) -> &Waterfalls {
        &self.waterfalls
    }

    /// Counts consecutive offers (`measured[i]` is `offers[i]`'s), in
    /// pieces side by side: the same figures as adding them one by one
    /// (a national catalogue's tally was a third of the measuring
    /// thread's time, issue 13).
    pub fn add_all(&mut self, offers: &[Offre], measured: &[Measured], ctx: &Context) {
        use rayon::prelude::*;
        if offers.len() <= self.piece {
            self.counts.add_all(offers, measured, ctx);
            return;
        }
        let waterfalls = &self.waterfalls;
        let pieces: Vec<Counts> = offers
            .par_chunks(self.piece)
            .zip(measured.par_chunks(self.piece))
            .map(|(offers, measured)| {
                let mut counts = Counts::new(waterfalls);
                counts.add_all(offers, measured, ctx);
                counts
            })
            .collect();
        for piece in pieces {
            self.counts.merge(piece);
        }
    }

    /// The summary, once every offer is counted.
    pub fn finish(self, format: CatalogueFormat, ctx: &Context) -> CoverageSummary {
        let Counts {
            summary: mut s,
            main,
            regional,
        } = self.counts;
        let offers = s.offers;
        let waterfall = |steps: &[(&str, &str, Steps)], counts: &[usize]| {
            let mut previous = 0;
            steps
                .iter()
                .zip(counts)
                .map(|((step, label, _), &covered)| {
                    let w = WaterfallStep {
                        step: step.to_string(),
                        label: label.to_string(),
                        added: covered.saturating_sub(previous),
                        covered,
                        coverage_rate: rate(covered, offers),
                    };
                    previous = covered;
                    w
                })
                .collect::<Vec<_>>()
        };
        s.format = format.as_str().to_string();
        for shares in [
            &mut s.by_filiere,
            &mut s.by_niveau_diplome,
            &mut s.by_academie,
            &mut s.by_region,
        ] {
            for share in shares.values_mut() {
                share.coverage_rate = rate(share.covered, share.offers);
            }
        }
        s.coverage_rate = rate(s.covered, s.offers);
        s.millesimes = ctx.indicators.latest_millesimes();
        s.waterfall = waterfall(&self.waterfalls.main, &main);
        s.waterfall_region = waterfall(&self.waterfalls.regional, &regional);
        s
    }
}

impl Counts {
    fn new(waterfalls: &Waterfalls) -> Counts {
        Counts {
            summary: CoverageSummary::default(),
            main: vec![0; waterfalls.main.len()],
            regional: vec![0; waterfalls.regional.len()],
        }
    }

    /// Counts consecutive offers: by name in a [`Names`] of their own,
    /// then into the summary's maps.
    fn add_all(&mut self, offers: &[Offre], measured: &[Measured], ctx: &Context) {
        let mut names = Names::default();
        for (o, m) in offers.iter().zip(measured) {
            self.add(o, m, ctx, &mut names);
        }
        self.take(names);
    }

    /// Counts one offer, its counts by name into `names` (the shares'
    /// rates are left to `Tally::finish`).
    fn add<'a>(&mut self, o: &'a Offre, m: &'a Measured, ctx: &'a Context, names: &mut Names<'a>) {
        for (counts, bits) in [(&mut self.main, m.main), (&mut self.regional, m.regional)] {
            for (i, n) in counts.iter_mut().enumerate() {
                *n += usize::from(bits & (1 << i) != 0);
            }
        }
        let s = &mut self.summary;
        let out = &m.outcome;
        s.offers += 1;
        let covered = out.status == Status::Covered;
        if covered {
            s.covered += 1;
        }
        let [by_status, by_via, by_level] = &mut names.counts;
        *by_status.entry(out.status.as_str()).or_default() += 1;
        if let Some(v) = out.via {
            *by_via.entry(v.as_str()).or_default() += 1;
        }
        if let Some(l) = out.level {
            *by_level.entry(l.as_str()).or_default() += 1;
        }
        let [by_filiere, by_niveau_diplome, by_academie, by_region] = &mut names.shares;
        let filiere = o
            .filiere
            .or(out.filiere)
            .map_or("inconnue", Filiere::as_str);
        by_filiere.entry(filiere).or_default().count(covered);
        by_niveau_diplome
            .entry(m.niveau)
            .or_default()
            .count(covered);
        let academie = match (
            &o.academie_code,
            ctx.reference
                .academie(o.academie_code.as_deref().unwrap_or("")),
        ) {
            (Some(_), Some(a)) => a.libelle.as_str(),
            _ if !o.academie_libelle.is_empty() => o.academie_libelle.as_str(),
            _ => "inconnue",
        };
        by_academie.entry(academie).or_default().count(covered);
        let region = o
            .region_code
            .as_deref()
            .and_then(|r| ctx.reference.region(r))
            .map_or("inconnue", |r| r.libelle.as_str());
        by_region.entry(region).or_default().count(covered);
        if !covered {
            let examples = names.examples.entry(out.status.as_str()).or_default();
            if examples.len() < MAX_EXAMPLES {
                examples.push(Example {
                    line: o.line,
                    uai: o.uai.to_string(),
                    code: o.code.to_string(),
                    libelle: libelle_of(o, out, ctx),
                    academie: academie.to_string(),
                });
            }
        }
    }

    /// Moves the counts by name of offers that follow the ones counted
    /// so far into the summary's maps.
    fn take(&mut self, names: Names) {
        let s = &mut self.summary;
        for (total, counts) in [&mut s.by_status, &mut s.by_via, &mut s.by_level]
            .into_iter()
            .zip(names.counts)
        {
            for (key, count) in counts {
                bump(total, key, |n| *n += count);
            }
        }
        for (total, shares) in [
            &mut s.by_filiere,
            &mut s.by_niveau_diplome,
            &mut s.by_academie,
            &mut s.by_region,
        ]
        .into_iter()
        .zip(names.shares)
        {
            for (key, share) in shares {
                bump(total, key, |t| {
                    t.offers += share.offers;
                    t.covered += share.covered;
                });
            }
        }
        for (status, examples) in names.examples {
            bump(&mut s.examples, status, |kept| {
                let room = MAX_EXAMPLES.saturating_sub(kept.len());
                kept.extend(examples.into_iter().take(room));
            });
        }
    }

    /// Adds the counts of the offers that follow these ones.
    fn merge(&mut self, next: Counts) {
        for (total, n) in self.main.iter_mut().zip(next.main) {
            *total += n;
        }
        for (total, n) in self.regional.iter_mut().zip(next.regional) {
            *total += n;
        }
        let (s, n) = (&mut self.summary, next.summary);
        s.offers += n.offers;
        s.covered += n.covered;
        for (total, counts) in [
            (&mut s.by_status, n.by_status),
            (&mut s.by_via, n.by_via),
            (&mut s.by_level, n.by_level),
        ] {
            for (key, count) in counts {
                *total.entry(key).or_default() += count;
            }
        }
        for (total, shares) in [
            (&mut s.by_filiere, n.by_filiere),
            (&mut s.by_niveau_diplome, n.by_niveau_diplome),
            (&mut s.by_academie, n.by_academie),
            (&mut s.by_region, n.by_region),
        ] {
            for (key, share) in shares {
                let t = total.entry(key).or_default();
                t.offers += share.offers;
                t.covered += share.covered;
            }
        }
        for (status, examples) in n.examples {
            let kept = s.examples.entry(status).or_default();
            let room = MAX_EXAMPLES.saturating_sub(kept.len());
            kept.extend(examples.into_iter().take(room));
        }
    }
}

/// Example offers kept per uncovered status, the first in file order.
const MAX_EXAMPLES: usize = 5;

/// Consecutive offers' counts by name, keyed by the names they borrow
/// (from the offers, the referential, the reference), taken into the
/// summary's ordered maps once they are counted ([`Counts::take`]): a
/// name is then searched for in the summary once per piece of offers
/// rather than once per offer (issue 13: seven searches of ordered maps
/// of `String`s per offer, each comparing names by `memcmp`, were most of
/// a national catalogue's tally).
#[derive(Default)]
struct Names<'a> {
    /// By status, by via, by level.
    counts: [HashMap<&'a str, usize, FixedState>; 3],
    /// By filière, by diploma level, by académie, by région.
    shares: [HashMap<&'a str, Share, FixedState>; 4],
    /// The first uncovered offers of each status, in file order.
    examples: HashMap<&'a str, Vec<Example>, FixedState>,
}

/// Applies `f` to `map[key]`, created empty the first time: a name is
/// allocated once per map, not once per offer, and looked up once (the
/// tally's lookups were most of its time, issue 13).
fn bump<T: Default>(map: &mut BTreeMap<String, T>, key: &str, f: impl FnOnce(&mut T)) {
    match map.get_mut(key) {
        Some(value) => f(value),
        None => f(map.entry(key.to_string()).or_default()),
    }
}

/// The pure part: offers and context in, outcomes and figures out (the
/// stage itself measures chunk by chunk through [`Tally`]).
pub fn build_coverage(
    name: &str,
    format: CatalogueFormat,
    offers: Vec<Offre>,
    ctx: &Context,
) -> Coverage {
    let mut tally = Tally::new(name, Waterfalls::default());
    let measured: Vec<Measured> = offers
        .iter()
        .map(|o| tally.waterfalls().measure(o, ctx))
        .collect();
    tally.add_all(&offers, &measured, ctx);
    Coverage {
        offers,
        outcomes: measured.into_iter().map(|m| m.outcome).collect(),
        summary: tally.finish(format, ctx),
    }
}
