//! Continuum: codes without figures of their own take their lineage's, under
//! the pipeline's policy (see `rules::continuum` for the policy and the
//! tie-break). Only rows with figures of their own are sources, so the
//! result is the same whatever the order rows were read in.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;

use crate::memory::Slots;
use crate::rules::codes::{Code, CodeType};
use crate::rules::continuum::{choose, Candidate, ContinuumPolicy, Direction, Via};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::continuum::LinkType;
use crate::stages::indicators::model::{publish, sum_counts, DonneeSource, Indicateur, Taux};
use crate::stages::indicators::packed_text;
use crate::stages::indicators::upstream::{Lineage, LinkRow};
use crate::staging::mesures::Niveau;

/// How many rows each kind of link added.
pub type Added = BTreeMap<&'static str, usize>;

/// Adds the rows the continuum gives to `rows` (rows of one level), and says
/// how many of each kind it added.
///
/// A row's candidates and sources share its millésime and filière, so each
/// (millésime, filière) is filled on its own, as many at a time as there
/// are threads, and their rows are added in that order: the order one pass
/// over the whole level gave (its candidates sorted by millésime, filière,
/// place, code), with a map of a part's rows instead of the level's (issue
/// 13: ×100's regional fill, eight million rows, was one core's work and
/// the run's peak).
pub fn fill(
    rows: &mut Vec<Indicateur>,
    lineage: &Lineage,
    links: &[LinkRow],
    policy: ContinuumPolicy,
    seuil: i64,
) -> Added {
    use rayon::prelude::*;
    // Places numbered in the rows' order, as one pass met them.
    let mut places = Places::default();
    let place_of: Vec<u32> = rows.iter().map(|r| places.id(&r.niveau)).collect();
    drop(places);
    let mut parts: BTreeMap<(Millesime, Filiere), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        parts.entry((r.millesime, r.filiere)).or_default().push(i);
    }
    let parts: Vec<Vec<usize>> = parts.into_values().collect();
    let one_hop = (policy == ContinuumPolicy::Lineage).then(|| OneHopLinks::new(links));
    let mut added = Added::new();
    // A few parts at a time: each part's rows are chosen (their keys and
    // sources), then made straight into their places after the level's.
    for batch in parts.chunks(rayon::current_num_threads().max(1)) {
        let chosen: Vec<Chosen> = batch
            .par_iter()
            .map(|part| {
                let part = Part {
                    rows,
                    indices: part,
                    place_of: &place_of,
                };
                part.choose(lineage, one_hop.as_ref())
            })
            .collect();
        for part in &chosen {
            for (via, n) in &part.added {
                *added.entry(via).or_default() += n;
            }
        }
        let parts = chosen.into_iter().map(|c| (c.rows.len(), c)).collect();
        crate::memory::extend_from_parts(rows, parts, |chosen, level, slots| {
            chosen.make(level, seuil, slots)
        });
    }
    added
}

/// The rows of one millésime and filière: where they are in the level's
/// rows, in order, and each row's place by number ([`Places`]).
struct Part<'r> {
    rows: &'r [Indicateur],
    indices: &'r [usize],
    place_of: &'r [u32],
}

impl Part<'_> {
    /// The rows the continuum gives this part, in key order (place, code):
    /// each key's chosen candidate and its sources' rows, and how many of
    /// each kind.
    fn choose(&self, lineage: &Lineage, one_hop: Option<&OneHopLinks>) -> Chosen {
        let own = Own::new(self);
        let mut codes = CodeWords::default();
        let mut candidates = self.strict_candidates(&own, lineage, &mut codes);
        if let Some(links) = one_hop {
            self.add_merge_and_split(&own, links, &mut codes, &mut candidates);
        }
        // Each key's chosen candidate, in key order: the candidates sorted
        // by key (stably: a tie goes to the first found), each run's chosen
        // one moved to its front, the rest let go.
        crate::memory::sort_rows_stably(&mut candidates, |a, b| a.0.cmp(&b.0));
        for run in candidates.chunk_by_mut(|a, b| a.0 == b.0) {
            let best = choose(run.iter().map(|(_, c)| c)).expect("a run is not empty");
            let at = run
                .iter()
                .position(|(_, c)| std::ptr::eq(c, best))
                .expect("chosen from the run");
            run.swap(0, at);
        }
        candidates.dedup_by(|later, first| later.0 == first.0);
        let mut chosen = Chosen {
            rows: Vec::with_capacity(candidates.len()),
            sources: Vec::new(),
            added: Added::new(),
        };
        for ((place, code), best) in candidates {
            let from = chosen.sources.len();
            chosen
                .sources
                .extend(best.source_codes.iter().filter_map(|c| own.get(place, c)));
            if chosen.sources.len() == from {
                // None of its sources has a row here: no row.
                continue;
            }
            *chosen.added.entry(best.via.as_str()).or_default() += 1;
            chosen
                .rows
                .push((codes.text(code), best, from..chosen.sources.len()));
        }
        chosen
    }

    /// The part's rows, with their places.
    fn rows(&self) -> impl Iterator<Item = (&Indicateur, u32)> + '_ {
        self.indices
            .iter()
            .map(|&i| (&self.rows[i], self.place_of[i]))
    }

    /// Strict chains, both directions, any length: for each row with
    /// figures of its own, every code of its lineage along a one-to-one
    /// path (of the same code type) that has no row of its own at the same
    /// key.
    fn strict_candidates(&self, own: &Own, lineage: &Lineage, codes: &mut CodeWords) -> Candidates {
        let mut candidates = Candidates::new();
        for (row, place) in self.rows() {
            let Some(relatives) = lineage.get(row.code_certification.as_str()) else {
                continue;
            };
            for rel in relatives {
                if !rel.one_to_one_path
                    || rel.code_type != row.code_certification_type
                    || !rel.code_type.is_valid(&rel.related_code)
                {
                    continue;
                }
                if own.get(place, &rel.related_code).is_some() {
                    continue;
                }
                candidates.push((
                    (place, codes.number(&rel.related_code)),
                    Candidate {
                        hops: rel.hops,
                        // A descendant receives its ancestor's data: `ancienne`.
                        direction: if rel.related_is_descendant {
                            Direction::Ancienne
                        } else {
                            Direction::Nouvelle
                        },
                        via: Via::OneToOne,
                        source_codes: vec![row.code_certification.clone()],
                    },
                ));
            }
        }
        candidates
    }

    /// The `lineage` policy's one-hop extras: a merged code takes the sum
    /// of all its predecessors when every one has figures; each code of a
    /// split takes its predecessor's rates.
    fn add_merge_and_split(
        &self,
        own: &Own,
        links: &OneHopLinks,
        codes: &mut CodeWords,
        candidates: &mut Candidates,
    ) {
        // The part's places where a code has figures.
        let mut contexts_of: HashMap<&str, Vec<(&Indicateur, u32)>> = HashMap::new();
        for (r, place) in self.rows() {
            contexts_of
                .entry(&r.code_certification)
                .or_default()
                .push((r, place));
        }
        for ((code_type, nouveau), anciens) in &links.predecessors {
            let Some(first_rows) = contexts_of.get(anciens[0]) else {
                continue;
            };
            for &(_, place) in first_rows
                .iter()
                .filter(|(r, _)| r.code_certification_type == *code_type)
            {
                let has_own = |code: &str| own.get(place, code).is_some();
                if has_own(nouveau) || !anciens.iter().all(|a| has_own(a)) {
                    continue;
                }
                let mut sources: Vec<Code> = anciens.iter().map(|&a| a.into()).collect();
                sources.sort();
                push_one_hop(
                    candidates,
                    (place, codes.number(nouveau)),
                    Via::Merge,
                    sources,
                );
            }
        }
        for link in &links.split_successors {
            let Some(source_rows) = contexts_of.get(link.ancien.as_str()) else {
                continue;
            };
            for &(_, place) in source_rows
                .iter()
                .filter(|(r, _)| r.code_certification_type == link.code_type)
            {
                if own.get(place, &link.nouveau).is_some()
                    || !link.code_type.is_valid(&link.nouveau)
                {
                    continue;
                }
                push_one_hop(
                    candidates,
                    (place, codes.number(&link.nouveau)),
                    Via::Split,
                    vec![link.ancien.as_str().into()],
                );
            }
        }
    }
}

/// The rows the continuum gives one part, before they are made: each
/// one's code, chosen candidate and sources (where their rows are in the
/// level, a range of `sources`), in key order.
struct Chosen {
    rows: Vec<(Code, Candidate, std::ops::Range<usize>)>,
    sources: Vec<usize>,
    added: Added,
}

impl Chosen {
    /// Makes the rows into `slots`, from the level's rows (`level`, where
    /// the sources are).
    fn make(self, level: &[Indicateur], seuil: i64, slots: &mut Slots<Indicateur>) {
        for (code, best, from) in self.rows {
            let from: Vec<&Indicateur> = self.sources[from].iter().map(|&i| &level[i]).collect();
            slots.push(derived_row(code, best, &from, seuil));
        }
    }
}

/// The links the `lineage` policy follows one hop: each merged code's
/// predecessors, and the splits.
struct OneHopLinks<'l> {
    predecessors: BTreeMap<(CodeType, &'l str), Vec<&'l str>>,
    split_successors: Vec<&'l LinkRow>,
}

impl<'l> OneHopLinks<'l> {
    fn new(links: &'l [LinkRow]) -> Self {
        let mut predecessors: BTreeMap<(CodeType, &str), Vec<&str>> = BTreeMap::new();
        for l in links.iter().filter(|l| l.link_type == LinkType::Merge) {
            predecessors
                .entry((l.code_type, l.nouveau.as_str()))
                .or_default()
                .push(l.ancien.as_str());
        }
        let split_successors = links
            .iter()
            .filter(|l| l.link_type == LinkType::Split)
            .collect();
        OneHopLinks {
            predecessors,
            split_successors,
        }
    }
}

/// Where each row of a part with figures of its own is, by its place's
/// number ([`Places`]) and its code packed in two words (`packed_text`; a
/// longer code, which no checked code is, by a number of its own). Looked
/// up for every candidate: a key held in the map is compared without
/// following pointers into the rows, which at ×100 (eight million regional
/// rows) missed the cache twice a probe (issue 13); hashed with a
/// fixed-seed foldhash (nothing depends on a per-process state).
struct Own {
    rows: HashMap<OwnKey, usize, FixedState>,
    codes: CodeWords,
}

/// A place's number and a code's words, within one millésime and filière.
type OwnKey = (u32, [u64; 2]);

impl Own {
    fn new(part: &Part) -> Own {
        let mut own = Own {
            rows: HashMap::with_capacity_and_hasher(part.indices.len(), FixedState::default()),
            codes: CodeWords::default(),
        };
        for &i in part.indices {
            let code = own.codes.number(&part.rows[i].code_certification);
            own.rows.insert((part.place_of[i], code), i);
        }
        own
    }

    /// The row of this key, if one has figures of its own.
    fn get(&self, place: u32, code: &str) -> Option<usize> {
        let code = self.codes.find(code)?;
        self.rows.get(&(place, code)).copied()
    }
}

/// Codes as two words: packed (`packed_text`: compared as integers, in
/// the codes' order), or, too long to pack (no checked code is), numbered
/// from 1 as `[0, n]` (no packed code's: a packed code's first word is 0
/// only for the empty code).
#[derive(Default)]
struct CodeWords {
    numbers: HashMap<Code, u64, FixedState>,
    long: Vec<Code>,
}

impl CodeWords {
    /// The code's words, a long code numbered if it is new.
    fn number(&mut self, code: &str) -> [u64; 2] {
        if let Some(words) = self.find(code) {
            return words;
        }
        self.long.push(code.into());
        let n = self.long.len() as u64;
        self.numbers.insert(code.into(), n);
        [0, n]
    }

    /// The code's words; `None` for a long code never numbered.
    fn find(&self, code: &str) -> Option<[u64; 2]> {
        packed_text::<2>(code).or_else(|| self.numbers.get(code).map(|&n| [0, n]))
    }

    /// The code of these words.
    fn text(&self, words: [u64; 2]) -> Code {
        if words[0] == 0 && words[1] > 0 {
            return self.long[words[1] as usize - 1].clone();
        }
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&words[0].to_be_bytes());
        bytes[8..].copy_from_slice(&words[1].to_be_bytes());
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(16);
        Code::from(std::str::from_utf8(&bytes[..len]).expect("packed from a whole text"))
    }
}

/// A key a candidate row would have within its part (millésime and
/// filière): its place by number ([`Places`]), its
/// code as two words ([`CodeWords`]). Cloned keys (a place and a code, two
/// allocations each) were the largest part of the fill's memory at ×10;
/// keys borrowing the lineage's codes made each comparison of the sort
/// follow two pointers (issue 13).
type CandidateKey = (u32, [u64; 2]);

/// Every candidate found, with the key it would fill, in the order found.
/// A flat vector sorted once by key: a map of keys to lists held a node
/// and a list per key (a quarter of the fill's memory at ×100, issue 13).
type Candidates = Vec<(CandidateKey, Candidate)>;

/// The distinct places of a level's rows, numbered in the order met.
#[derive(Default)]
struct Places {
    ids: HashMap<Niveau, u32, FixedState>,
}

impl Places {
    fn id(&mut self, niveau: &Niveau) -> u32 {
        if let Some(&id) = self.ids.get(niveau) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).expect("fewer than 2³² places");
        self.ids.insert(niveau.clone(), id);
        id
    }
}

/// The row the chosen candidate gives `code`, from its sources' rows (at
/// least one): a copy of the first through a one-to-one path, the sum of
/// the counts through a merge, the predecessor's published rates through
/// a split.
fn derived_row(code: Code, best: Candidate, sources: &[&Indicateur], seuil: i64) -> Indicateur {
    let first = sources.first().expect("a chosen row has a source");
    let mut row = Indicateur {
        code_certification: code,
        donnee_source: DonneeSource::Continuum {
            direction: best.direction,
            via: best.via,
            hops: best.hops,
            codes: best.source_codes,
        }
        .into(),
        ..(*first).clone()
    };
    match best.via {
        Via::OneToOne => {}
        Via::Merge => {
            row.counts = sum_counts(sources.iter().map(|s| s.counts.get())).into();
            row.salaires = Default::default();
        }
        Via::Split => {
            // The predecessor's published rates, not its counts: its
            // students are not all this code's.
            let published = publish(first, seuil);
            row.counts = Default::default();
            row.salaires = Default::default();
            row.source_rates = Taux::to_source_rates(published.taux).into();
        }
    }
    row
}

/// A one-hop candidate of the `lineage` policy: a merged code from its
/// predecessors, or a split's code from its predecessor.
fn push_one_hop(
    candidates: &mut Candidates,
    target: CandidateKey,
    via: Via,
    source_codes: Vec<Code>,
) {
    candidates.push((
        target,
        Candidate {
            hops: 1,
            direction: Direction::Ancienne,
            via,
            source_codes,
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code's words give the code back, compare as the codes do (a
    /// prefix first), and a code too long to pack is numbered, once.
    #[test]
    fn codes_as_words_keep_their_text_and_order() {
        let mut codes = CodeWords::default();
        let texts = [
            "",
            "1",
            "40025510",
            "40025511",
            "4002551",
            "23830025513",
            "A1Z9999999999999",
        ];
        let words: Vec<[u64; 2]> = texts.iter().map(|t| codes.number(t)).collect();
        for (t, w) in texts.iter().zip(&words) {
            assert_eq!(codes.text(*w), *t);
            assert_eq!(codes.find(t), Some(*w));
        }
        let mut by_words: Vec<_> = texts.iter().zip(&words).collect();
        by_words.sort_by_key(|(_, w)| **w);
        let mut by_text = texts.to_vec();
        by_text.sort();
        assert_eq!(
            by_words.iter().map(|(t, _)| **t).collect::<Vec<_>>(),
            by_text
        );

        let long = "A".repeat(17);
        assert_eq!(codes.find(&long), None, "never numbered");
        let n = codes.number(&long);
        assert_eq!((n, codes.number(&long)), ([0, 1], [0, 1]));
        assert_eq!(codes.number(&"B".repeat(20)), [0, 2]);
        assert_eq!(codes.text(n), long);
        assert_eq!(codes.find(&long), Some(n));
    }
}
