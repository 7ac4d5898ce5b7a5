//! Resolving one offer: the code its filière's data use, the candidates at
//! each level (its own code, its terminal year or its famille de métiers),
//! and, for an offer not covered, its one reason. The waterfall's steps
//! switch parts of this on one after the other.

use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};

use super::formations::{Formation, Formations};
use crate::rules::codes::{is_valid_uai, Code, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::indicators::model::DonneeSourceType;
use crate::staging::catalogues::{Offre, OffreCodeType};
use crate::staging::reference::Reference;

use super::index::{IndicatorIndex, Shown, Terminales};
use super::model::{Status, Via};
use crate::rules::niveau::NiveauGeographique;

/// What the resolution may use: the waterfall switches these on in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    pub continuum: bool,
    pub terminal_year: bool,
    pub famille_metiers: bool,
    pub uai_reconciliation: bool,
    pub etablissement: bool,
    pub region: bool,
    pub national: bool,
}

impl Steps {
    pub const ALL: Steps = Steps {
        continuum: true,
        terminal_year: true,
        famille_metiers: true,
        uai_reconciliation: true,
        etablissement: true,
        region: true,
        national: true,
    };

    /// One bit per step, for [`Steps::bits`] and [`Prepared::covered`].
    const CONTINUUM: u8 = 1 << 0;
    const TERMINAL_YEAR: u8 = 1 << 1;
    const FAMILLE_METIERS: u8 = 1 << 2;
    const UAI_RECONCILIATION: u8 = 1 << 3;
    const ETABLISSEMENT: u8 = 1 << 4;
    const REGION: u8 = 1 << 5;
    const NATIONAL: u8 = 1 << 6;

    /// The steps switched on, one bit each.
    fn bits(self) -> u8 {
        [
            (self.continuum, Steps::CONTINUUM),
            (self.terminal_year, Steps::TERMINAL_YEAR),
            (self.famille_metiers, Steps::FAMILLE_METIERS),
            (self.uai_reconciliation, Steps::UAI_RECONCILIATION),
            (self.etablissement, Steps::ETABLISSEMENT),
            (self.region, Steps::REGION),
            (self.national, Steps::NATIONAL),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}

/// The outcome for one offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub via: Option<Via>,
    pub level: Option<NiveauGeographique>,
    /// The code whose indicator is shown (or would be).
    pub code_certification: Code,
    pub filiere: Option<Filiere>,
    pub shown: Option<Shown>,
    /// For a common first year: how many specialities have a published indicator.
    pub specialites_avec_donnees: Option<usize>,
    /// For an offer not covered: the newest millésime, older than its
    /// filière's latest, in which one of its codes has a row (information).
    pub dernier_millesime_disponible: Option<Millesime>,
}

/// 10-character MEF → its MEF_STAT_11 (N_MEF), looked up once or twice per
/// offer: a fast hasher with a fixed seed.
pub type MefToCode = HashMap<Code, Code, foldhash::fast::FixedState>;

/// Everything the resolution reads.
pub struct Context<'a> {
    pub referentiel: &'a Formations,
    pub mef_to_code: &'a MefToCode,
    pub indicators: &'a IndicatorIndex,
    pub terminales: &'a Terminales,
    pub reference: &'a Reference,
    /// UAIs the establishment directory says are closed, when one is given.
    pub etablissements_fermes: Option<&'a HashSet<String>>,
}

/// The offer's code in the key its filière's data use, and that filière.
fn data_code<'a>(offer: &'a Offre, ctx: &Context<'a>) -> Option<(&'a str, Filiere)> {
    let code = offer.code.as_str();
    // A 10-character MEF (Parcoursup, Affelnet 2020) stands for its MEF_STAT_11.
    let (code, code_type) = match offer.code_type {
        OffreCodeType::Mef => (ctx.mef_to_code.get(code)?.as_str(), CodeType::MefStat11),
        OffreCodeType::MefStat11 => (code, CodeType::MefStat11),
        OffreCodeType::Cfd => (code, CodeType::Cfd),
        OffreCodeType::Sise => (code, CodeType::Sise),
        OffreCodeType::Unknown => return None,
    };
    let filiere = offer
        .filiere
        .unwrap_or_else(|| Filiere::default_for(code_type));
    // Apprenticeship figures are keyed by CFD: a MEF_STAT_11 stands for its CFD.
    if filiere == Filiere::Apprentissage && code_type == CodeType::MefStat11 {
        let cfd = ctx.referentiel.get(code)?.code_formation_diplome.as_str();
        return Some((cfd, filiere));
    }
    Some((code, filiere))
}

/// Resolves one offer with the given steps switched on.
pub fn resolve(offer: &Offre, ctx: &Context, steps: Steps) -> Outcome {
    Prepared::of(offer, ctx).outcome(steps)
}

/// A level an offer's indicator is looked for at, and the steps it needs.
struct Level {
    niveau: NiveauGeographique,
    /// The UAI's, région's or nation's number in the index (`None`: no row).
    key: Option<u32>,
    /// A formateur's or gestionnaire's UAI rather than the offer's own.
    reconciled: bool,
    needs: u8,
}

/// A code looked for at each level: the offer's own, its terminal year's,
/// or one of its famille de métiers' specialities.
struct Candidate<'a> {
    code: &'a str,
    id: Option<u32>,
    via: Via,
    needs: u8,
}

/// A row found for a level and a candidate: the key's newest row, and
/// whether it is of the latest millésime of its filière at that level (the
/// one shown; an older one is only reported).
#[derive(Clone, Copy)]
struct Found<'a> {
    shown: &'a Shown,
    current: bool,
}

/// One offer's candidates at each level, looked up once. `outcome` decides
/// from them for any steps, and `covered` answers "covered with these
/// steps?" with a few bit tests: the waterfalls ask it twelve times per
/// offer (issue 13: millions of offers in a national catalogue).
pub struct Prepared<'a> {
    offer: &'a Offre,
    ctx: &'a Context<'a>,
    /// Decided before any lookup: an unknown code or a closed establishment.
    decided: Option<Outcome>,
    code: &'a str,
    filiere: Filiere,
    /// A first year leading to several terminal years (not a family).
    ambiguous: bool,
    // Held inline (an offer has at most five levels and most have one or
    // two candidates): four vectors allocated and freed per offer were a
    // tenth of a national catalogue's measuring (issue 13).
    levels: SmallVec<[Level; 5]>,
    candidates: SmallVec<[Candidate<'a>; 2]>,
    /// `found[l * candidates.len() + c]`.
    found: SmallVec<[Option<Found<'a>>; 8]>,
    /// For each published row of the latest millésime, the steps it needs.
    covering: SmallVec<[u8; 8]>,
}

impl<'a> Prepared<'a> {
    pub fn of(offer: &'a Offre, ctx: &'a Context<'a>) -> Prepared<'a> {
        let mut p = Prepared {
            offer,
            ctx,
            decided: None,
            // Set below unless `decided` (then never read).
            code: "",
            filiere: offer.filiere.unwrap_or(Filiere::Pro),
            ambiguous: false,
            levels: SmallVec::new(),
            candidates: SmallVec::new(),
            found: SmallVec::new(),
            covering: SmallVec::new(),
        };
        let Some((code, filiere)) = data_code(offer, ctx) else {
            p.decided = Some(not_covered(Status::UnknownCode, "", offer.filiere, None));
            return p;
        };
        // An offer of an establishment the directory says is closed is its
        // own case (issue 9): no figure is shown for it, whatever the
        // fallbacks hold.
        if ctx
            .etablissements_fermes
            .is_some_and(|f| f.contains(offer.uai.as_str()))
        {
            let closed = not_covered(Status::ClosedEstablishment, code, Some(filiere), None);
            p.decided = Some(closed);
            return p;
        }
        p.code = code;
        p.filiere = filiere;
        p.candidates = candidates(offer, ctx, code, filiere, &mut p.ambiguous);
        p.levels = levels(offer, ctx);
        p.look_up();
        p
    }

    /// Every candidate at every level: one index lookup each.
    fn look_up(&mut self) {
        let index = self.ctx.indicators;
        let lookups = self.levels.len() * self.candidates.len();
        self.found.reserve_exact(lookups);
        self.covering.reserve_exact(lookups);
        for level in &self.levels {
            let latest = index.latest(self.filiere, level.niveau);
            for candidate in &self.candidates {
                let found = match (level.key, candidate.id) {
                    (Some(key), Some(code)) => index
                        .newest_by_id(level.niveau, key, self.filiere, code)
                        .map(|shown| Found {
                            shown,
                            current: latest.is_some_and(|l| shown.millesime.last == l.last),
                        }),
                    _ => None,
                };
                if let Some(Found {
                    shown,
                    current: true,
                }) = found
                {
                    if shown.is_published() {
                        let row_needs = if family_row(shown) {
                            Steps::FAMILLE_METIERS
                        } else if !shown.propre() {
                            Steps::CONTINUUM
                        } else {
                            0
                        };
                        self.covering
                            .push(level.needs | candidate.needs | row_needs);
                    }
                }
                self.found.push(found);
            }
        }
    }

    /// Whether the offer is covered with `steps` on: what `outcome`'s
    /// status says, from the bits recorded by `look_up`.
    pub fn covered(&self, steps: Steps) -> bool {
        let on = steps.bits();
        self.covering.iter().any(|needs| needs & !on == 0)
    }

    /// The offer's outcome with `steps` on: at each level in order, each
    /// candidate in order; the first published row shown wins (a family's
    /// specialities together); else the one reason it is not covered.
    pub fn outcome(&self, steps: Steps) -> Outcome {
        if let Some(decided) = &self.decided {
            return decided.clone();
        }
        let on = steps.bits();
        let mut masked_seen = false;
        let mut any_row = false;
        let mut older: Option<Millesime> = None;
        let n = self.candidates.len();
        for (l, level) in self.levels.iter().enumerate() {
            if level.needs & !on != 0 {
                continue;
            }
            let mut famille_hits: Vec<(&str, &Shown)> = Vec::new();
            for (c, candidate) in self.candidates.iter().enumerate() {
                if candidate.needs & !on != 0 {
                    continue;
                }
                let Some(found) = self.found[l * n + c] else {
                    continue;
                };
                let shown = found.shown;
                if !found.current {
                    older = older.max(Some(shown.millesime));
                    continue;
                }
                // A common first year's own row, summed from its specialities (issue 6).
                let family = family_row(shown);
                if family && !steps.famille_metiers {
                    continue;
                }
                if !shown.propre() && !family && !steps.continuum {
                    continue;
                }
                any_row = true;
                if !shown.is_published() {
                    masked_seen = true;
                    continue;
                }
                if candidate.via == Via::FamilleMetiers {
                    famille_hits.push((candidate.code, shown));
                    continue;
                }
                let via = if level.reconciled {
                    Via::UaiReconciliation
                } else if family {
                    Via::FamilleMetiers
                } else if candidate.via == Via::Direct && !shown.propre() {
                    Via::Continuum
                } else {
                    candidate.via
                };
                let specialites_avec_donnees =
                    family.then(|| self.specialites_avec_donnees(level, candidate.code, steps));
                return self.covered_by(
                    level,
                    via,
                    candidate.code,
                    shown,
                    specialites_avec_donnees,
                );
            }
            if let Some((first, shown)) = famille_hits.first() {
                let via = if level.reconciled {
                    Via::UaiReconciliation
                } else {
                    Via::FamilleMetiers
                };
                return self.covered_by(level, via, first, shown, Some(famille_hits.len()));
            }
        }
        self.not_covered(steps, masked_seen, any_row, older)
    }

    fn covered_by(
        &self,
        level: &Level,
        via: Via,
        code: &str,
        shown: &Shown,
        specialites_avec_donnees: Option<usize>,
    ) -> Outcome {
        Outcome {
            status: Status::Covered,
            via: Some(via),
            level: Some(level.niveau),
            code_certification: code.into(),
            filiere: Some(self.filiere),
            shown: Some(shown.clone()),
            specialites_avec_donnees,
            dernier_millesime_disponible: None,
        }
    }

    /// How many of a common first year's specialities have a published row
    /// at this level.
    fn specialites_avec_donnees(&self, level: &Level, code: &str, steps: Steps) -> usize {
        let index = self.ctx.indicators;
        let Some(key) = level.key else { return 0 };
        self.ctx
            .terminales
            .by_code
            .get(code)
            .map_or(0, |(specialites, _)| {
                specialites
                    .iter()
                    .filter(|c| {
                        index
                            .id(c)
                            .and_then(|c| index.get_by_id(level.niveau, key, self.filiere, c))
                            .is_some_and(|s| s.is_published() && (s.propre() || steps.continuum))
                    })
                    .count()
            })
    }

    /// Not covered: one reason, by precedence.
    fn not_covered(
        &self,
        steps: Steps,
        masked_seen: bool,
        any_row: bool,
        older: Option<Millesime>,
    ) -> Outcome {
        let ctx = self.ctx;
        let cert = ctx.referentiel.get(self.code);
        let uai = &self.offer.uai;
        let status = if cert.is_none() && !any_row {
            Status::UnknownCode
        } else if self.ambiguous && steps.terminal_year {
            Status::SeveralTerminalFormations
        } else if masked_seen {
            Status::BelowThreshold
        } else if is_new(cert, ctx.indicators.latest_any.get(&self.filiere)) {
            Status::NewFormation
        } else if !uai.is_empty() && !is_valid_uai(uai) {
            Status::InvalidUai
        } else {
            Status::NoData
        };
        not_covered(status, self.code, Some(self.filiere), older)
    }
}

/// A common first year's own row, summed from its specialities (issue 6).
fn family_row(shown: &Shown) -> bool {
    shown.donnee_source_type == DonneeSourceType::FamilleMetiers
}

fn not_covered(
    status: Status,
    code: &str,
    filiere: Option<Filiere>,
    older: Option<Millesime>,
) -> Outcome {
    Outcome {
        status,
        via: None,
        level: None,
        code_certification: code.into(),
        filiere,
        shown: None,
        specialites_avec_donnees: None,
        dernier_millesime_disponible: older,
    }
}

/// The codes looked for at each level, in order of preference: the offer's
/// own; for a first year, its famille de métiers' specialities or its one
/// terminal year (several terminal years make it `ambiguous`).
fn candidates<'a>(
    offer: &'a Offre,
    ctx: &Context<'a>,
    code: &'a str,
    filiere: Filiere,
    ambiguous: &mut bool,
) -> SmallVec<[Candidate<'a>; 2]> {
    let index = ctx.indicators;
    let candidate = |code: &'a str, via, needs| Candidate {
        code,
        id: index.id(code),
        via,
        needs,
    };
    let (terminals, famille): (&[Code], bool) = ctx
        .terminales
        .by_code
        .get(offer_terminal_key(offer, ctx, code))
        .map_or((&[], false), |(t, f)| (t.as_slice(), *f));
    let mut out = SmallVec::with_capacity(1 + terminals.len());
    out.push(candidate(code, Via::Direct, 0));
    *ambiguous = !famille && terminals.len() > 1;
    if famille {
        let needs = Steps::FAMILLE_METIERS;
        out.extend(
            terminals
                .iter()
                .map(|t| candidate(t, Via::FamilleMetiers, needs)),
        );
    } else if terminals.len() == 1 && filiere != Filiere::Apprentissage {
        let needs = Steps::TERMINAL_YEAR;
        out.push(candidate(&terminals[0], Via::TerminalYear, needs));
    }
    out
}

/// The levels an offer's indicator is looked for at, in order: its own UAI,
/// its formateur's and gestionnaire's, its région, the nation.
fn levels(offer: &Offre, ctx: &Context) -> SmallVec<[Level; 5]> {
    let index = ctx.indicators;
    let etablissement = Steps::ETABLISSEMENT;
    let reconciliation = etablissement | Steps::UAI_RECONCILIATION;
    let level = |niveau, key: &str, reconciled, needs| Level {
        niveau,
        key: index.id(key),
        reconciled,
        needs,
    };
    let mut out = SmallVec::new();
    if is_valid_uai(&offer.uai) {
        out.push(level(
            NiveauGeographique::Etablissement,
            &offer.uai,
            false,
            etablissement,
        ));
    }
    for other in [&offer.uai_formateur, &offer.uai_gestionnaire] {
        if is_valid_uai(other) && *other != offer.uai {
            out.push(level(
                NiveauGeographique::Etablissement,
                other,
                true,
                reconciliation,
            ));
        }
    }
    if let Some(r) = region_of(offer, ctx) {
        let needs = Steps::REGION;
        out.push(level(NiveauGeographique::Region, r, false, needs));
    }
    let needs = Steps::NATIONAL;
    out.push(level(NiveauGeographique::National, "", false, needs));
    out
}

/// The région whose figures stand for the offer's: its own, or its UAI's.
fn region_of<'a>(offer: &'a Offre, ctx: &Context<'a>) -> Option<&'a str> {
    match &offer.region_code {
        Some(r) => Some(r),
        None => ctx
            .reference
            .departement_of_uai(&offer.uai)
            .map(|d| d.region_code.as_str()),
    }
}

/// The code certifications_terminales is keyed by: the offer's MEF_STAT_11.
fn offer_terminal_key<'a>(offer: &'a Offre, ctx: &Context<'a>, data_code: &'a str) -> &'a str {
    match offer.code_type {
        OffreCodeType::Mef => ctx
            .mef_to_code
            .get(offer.code.as_str())
            .map_or("", Code::as_str),
        OffreCodeType::MefStat11 => &offer.code,
        _ => data_code,
    }
}

/// A formation whose first session comes after the latest millésime of its filière.
fn is_new(cert: Option<&Formation>, latest: Option<&Millesime>) -> bool {
    match (cert.and_then(|c| c.date_premiere_session), latest) {
        (Some(first), Some(latest)) => first > i32::from(latest.last),
        _ => false,
    }
}

/// The waterfall's steps, in order: each switches one more thing on. A
/// step is named by the `via` it adds, then by the fallback level.
pub fn waterfall_steps() -> Vec<(&'static str, &'static str, Steps)> {
    let mut s = Steps {
        continuum: false,
        terminal_year: false,
        famille_metiers: false,
        uai_reconciliation: false,
        etablissement: true,
        region: false,
        national: false,
    };
    let mut out = vec![(
        Via::Direct.as_str(),
        "Code de l'offre, dans l'établissement",
        s,
    )];
    s.continuum = true;
    out.push((Via::Continuum.as_str(), "+ continuum (codes rénovés)", s));
    s.terminal_year = true;
    out.push((Via::TerminalYear.as_str(), "+ année terminale", s));
    s.famille_metiers = true;
    out.push((Via::FamilleMetiers.as_str(), "+ famille de métiers", s));
    s.uai_reconciliation = true;
    out.push((Via::UaiReconciliation.as_str(), "+ rapprochement d'UAI", s));
    s.region = true;
    out.push((NiveauGeographique::Region.as_str(), "+ repli régional", s));
    s.national = true;
    out.push((NiveauGeographique::National.as_str(), "+ repli national", s));
    out
}

/// The same steps with the région as the first level tried: what each step
/// adds where establishment figures are missing.
pub fn regional_waterfall_steps() -> Vec<(&'static str, &'static str, Steps)> {
    waterfall_steps()
        .into_iter()
        .filter(|(name, _, _)| {
            *name != Via::UaiReconciliation.as_str() && *name != NiveauGeographique::Region.as_str()
        })
        .map(|(name, label, mut s)| {
            s.etablissement = false;
            s.uai_reconciliation = false;
            s.region = true;
            (name, label, s)
        })
        .collect()
}
