//! Counting a catalogue: each offer measured on its own (its outcome, the
//! waterfall steps that cover it), then tallied in file order into the
//! summary, so a catalogue read in chunks gives the figures of a whole read.

use std::collections::BTreeMap;

use crate::rules::filiere::Filiere;
use crate::staging::catalogues::{CatalogueFormat, Offre};

use super::model::{rate, CoverageSummary, Example, Status, WaterfallStep};
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
    summary: CoverageSummary,
    waterfalls: Waterfalls,
    main: Vec<usize>,
    regional: Vec<usize>,
}

impl Tally {
    pub fn new(name: &str, waterfalls: Waterfalls) -> Tally {
        let mut summary = CoverageSummary {
            catalogue: name.to_string(),
            ..CoverageSummary::default()
        };
        for status in Status::ALL {
            summary.by_status.insert(status.as_str().to_string(), 0);
        }
        Tally {
            summary,
            main: vec![0; waterfalls.main.len()],
            regional: vec![0; waterfalls.regional.len()],
            waterfalls,
        }
    }

    pub fn waterfalls(&self) -> &Waterfalls {
        &self.waterfalls
    }

    /// Counts one offer.
    pub fn add(&mut self, o: &Offre, m: &Measured, ctx: &Context) {
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
        *entry(&mut s.by_status, out.status.as_str()) += 1;
        if let Some(v) = out.via {
            *entry(&mut s.by_via, v.as_str()) += 1;
        }
        if let Some(l) = out.level {
            *entry(&mut s.by_level, l.as_str()) += 1;
        }
        let filiere = o
            .filiere
            .or(out.filiere)
            .map_or("inconnue", Filiere::as_str);
        entry(&mut s.by_filiere, filiere).add(covered);
        entry(&mut s.by_niveau_diplome, m.niveau).add(covered);
        let academie = match (
            &o.academie_code,
            ctx.reference
                .academie(o.academie_code.as_deref().unwrap_or("")),
        ) {
            (Some(_), Some(a)) => a.libelle.as_str(),
            _ if !o.academie_libelle.is_empty() => o.academie_libelle.as_str(),
            _ => "inconnue",
        };
        entry(&mut s.by_academie, academie).add(covered);
        let region = o
            .region_code
            .as_deref()
            .and_then(|r| ctx.reference.region(r))
            .map_or("inconnue", |r| r.libelle.as_str());
        entry(&mut s.by_region, region).add(covered);
        if !covered {
            let examples = entry(&mut s.examples, out.status.as_str());
            if examples.len() < 5 {
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

    /// The summary, once every offer is counted.
    pub fn finish(self, format: CatalogueFormat, ctx: &Context) -> CoverageSummary {
        let offers = self.summary.offers;
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
        let mut s = self.summary;
        s.format = format.as_str().to_string();
        s.coverage_rate = rate(s.covered, s.offers);
        s.millesimes = ctx.indicators.latest_millesimes();
        s.waterfall = waterfall(&self.waterfalls.main, &self.main);
        s.waterfall_region = waterfall(&self.waterfalls.regional, &self.regional);
        s
    }
}

/// `map[key]`, created empty the first time: a name is allocated once per
/// map, not once per offer.
fn entry<'m, T: Default>(map: &'m mut BTreeMap<String, T>, key: &str) -> &'m mut T {
    if !map.contains_key(key) {
        map.insert(key.to_string(), T::default());
    }
    map.get_mut(key).expect("inserted above")
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
    let mut outcomes = Vec::with_capacity(offers.len());
    for o in &offers {
        let m = tally.waterfalls().measure(o, ctx);
        tally.add(o, &m, ctx);
        outcomes.push(m.outcome);
    }
    Coverage {
        offers,
        outcomes,
        summary: tally.finish(format, ctx),
    }
}
