//! Resolving one offer: the code its filière's data use, the candidates at
//! each level (its own code, its terminal year or its famille de métiers),
//! and, for an offer not covered, its one reason. The waterfall's steps
//! switch parts of this on one after the other.

use std::collections::{HashMap, HashSet};

use crate::rules::codes::{is_valid_uai, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::indicators::model::DonneeSourceType;
use crate::stages::indicators::upstream::Certification;
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

    /// The steps switched on, one bit each (see [`Requirements`]).
    fn bits(self) -> u8 {
        [
            self.continuum,
            self.terminal_year,
            self.famille_metiers,
            self.uai_reconciliation,
            self.etablissement,
            self.region,
            self.national,
        ]
        .iter()
        .enumerate()
        .fold(0, |bits, (i, on)| bits | (u8::from(*on) << i))
    }

    /// Only `self`'s step on, as a bit of [`Steps::bits`].
    fn only(f: impl FnOnce(&mut Steps)) -> u8 {
        let mut s = Steps {
            continuum: false,
            terminal_year: false,
            famille_metiers: false,
            uai_reconciliation: false,
            etablissement: false,
            region: false,
            national: false,
        };
        f(&mut s);
        s.bits()
    }
}

/// For one offer, the steps each published row it could show needs
/// switched on (one set of bits per row): the offer is covered under some
/// steps exactly when one row's set is among them. `resolve` answers the
/// same question one set of steps at a time, with its lookups; the
/// waterfalls ask it twelve times per offer, so the lookups are done once
/// here and each step is then a few bit tests (issue 13).
#[derive(Debug, Clone, Default)]
pub struct Requirements(Vec<u8>);

impl Requirements {
    /// Whether the offer is covered with `steps` on: what `resolve`'s
    /// status says, without resolving.
    pub fn covered(&self, steps: Steps) -> bool {
        let on = steps.bits();
        self.0.iter().any(|needs| needs & !on == 0)
    }

    /// The requirements of `offer`: `resolve`'s candidates, levels and
    /// filters, every one of them recorded as the step it depends on.
    pub fn of(offer: &Offre, ctx: &Context) -> Requirements {
        let Some((code, filiere)) = data_code(offer, ctx) else {
            return Requirements::default();
        };
        if ctx
            .etablissements_fermes
            .is_some_and(|f| f.contains(&offer.uai))
        {
            return Requirements::default();
        }
        let (terminals, famille): (&[String], bool) = ctx
            .terminales
            .by_code
            .get(offer_terminal_key(offer, ctx, code))
            .map_or((&[], false), |(t, f)| (t.as_slice(), *f));
        let mut candidates: Vec<(&str, u8)> = vec![(code, 0)];
        if famille {
            let bit = Steps::only(|s| s.famille_metiers = true);
            candidates.extend(terminals.iter().map(|t| (t.as_str(), bit)));
        } else if terminals.len() == 1 && filiere != Filiere::Apprentissage {
            candidates.push((
                terminals[0].as_str(),
                Steps::only(|s| s.terminal_year = true),
            ));
        }
        let etablissement = Steps::only(|s| s.etablissement = true);
        let mut levels: Vec<(NiveauGeographique, &str, u8)> = Vec::new();
        if is_valid_uai(&offer.uai) {
            levels.push((NiveauGeographique::Etablissement, &offer.uai, etablissement));
        }
        let reconciliation = etablissement | Steps::only(|s| s.uai_reconciliation = true);
        for other in [&offer.uai_formateur, &offer.uai_gestionnaire] {
            if is_valid_uai(other) && *other != offer.uai {
                levels.push((NiveauGeographique::Etablissement, other, reconciliation));
            }
        }
        let region = region_of(offer, ctx);
        if let Some(r) = &region {
            levels.push((
                NiveauGeographique::Region,
                r,
                Steps::only(|s| s.region = true),
            ));
        }
        levels.push((
            NiveauGeographique::National,
            "",
            Steps::only(|s| s.national = true),
        ));

        let famille_row = Steps::only(|s| s.famille_metiers = true);
        let continuum = Steps::only(|s| s.continuum = true);
        let index = ctx.indicators;
        // Each name looked up once; a name no row has finds nothing.
        let candidates: Vec<(u32, u8)> = candidates
            .iter()
            .filter_map(|(c, needs)| Some((index.id(c)?, *needs)))
            .collect();
        let mut needs = Vec::new();
        for (level, key, level_needs) in &levels {
            let Some(key) = index.id(key) else { continue };
            for (candidate, candidate_needs) in &candidates {
                let Some(shown) = index.get_by_id(*level, key, filiere, *candidate) else {
                    continue;
                };
                if !shown.is_published() {
                    continue;
                }
                let row_needs = if shown.donnee_source_type == DonneeSourceType::FamilleMetiers {
                    famille_row
                } else if !shown.propre() {
                    continuum
                } else {
                    0
                };
                needs.push(level_needs | candidate_needs | row_needs);
            }
        }
        Requirements(needs)
    }
}

/// The outcome for one offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub via: Option<Via>,
    pub level: Option<NiveauGeographique>,
    /// The code whose indicator is shown (or would be).
    pub code_certification: String,
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
pub type MefToCode = HashMap<String, String, foldhash::fast::FixedState>;

/// Everything the resolution reads.
pub struct Context<'a> {
    pub referentiel: &'a HashMap<String, Certification>,
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
    let not_covered = |status, code: String, filiere, older| Outcome {
        status,
        via: None,
        level: None,
        code_certification: code,
        filiere,
        shown: None,
        specialites_avec_donnees: None,
        dernier_millesime_disponible: older,
    };
    let Some((code, filiere)) = data_code(offer, ctx) else {
        return not_covered(Status::UnknownCode, String::new(), offer.filiere, None);
    };
    // An offer of an establishment the directory says is closed is its own
    // case (issue 9): no figure is shown for it, whatever the fallbacks hold.
    if ctx
        .etablissements_fermes
        .is_some_and(|f| f.contains(&offer.uai))
    {
        return not_covered(
            Status::ClosedEstablishment,
            code.to_string(),
            Some(filiere),
            None,
        );
    }

    // Candidates at each level: (code, via) in order of preference.
    let mut candidates: Vec<(&str, Via)> = vec![(code, Via::Direct)];
    let (terminals, famille): (&[String], bool) = ctx
        .terminales
        .by_code
        .get(offer_terminal_key(offer, ctx, code))
        .map_or((&[], false), |(t, f)| (t.as_slice(), *f));
    let ambiguous = !famille && terminals.len() > 1;
    if famille && steps.famille_metiers {
        candidates.extend(terminals.iter().map(|t| (t.as_str(), Via::FamilleMetiers)));
    } else if !famille
        && terminals.len() == 1
        && steps.terminal_year
        && filiere != Filiere::Apprentissage
    {
        candidates.push((terminals[0].as_str(), Via::TerminalYear));
    }

    let region = region_of(offer, ctx);
    let mut levels: Vec<(NiveauGeographique, &str, bool)> = Vec::new();
    if steps.etablissement {
        if is_valid_uai(&offer.uai) {
            levels.push((NiveauGeographique::Etablissement, &offer.uai, false));
        }
        if steps.uai_reconciliation {
            for other in [&offer.uai_formateur, &offer.uai_gestionnaire] {
                if is_valid_uai(other) && *other != offer.uai {
                    levels.push((NiveauGeographique::Etablissement, other, true));
                }
            }
        }
    }
    if steps.region {
        if let Some(r) = &region {
            levels.push((NiveauGeographique::Region, r, false));
        }
    }
    if steps.national {
        levels.push((NiveauGeographique::National, "", false));
    }

    let mut masked_seen = false;
    let mut any_row = false;
    let mut older: Option<Millesime> = None;
    for (level, key, reconciled) in &levels {
        let mut famille_hits: Vec<(&str, &Shown)> = Vec::new();
        for (candidate, via) in &candidates {
            let Some(shown) = ctx.indicators.get(*level, key, filiere, candidate) else {
                if let Some(old) = ctx.indicators.newest(*level, key, filiere, candidate) {
                    older = older.max(Some(old.millesime));
                }
                continue;
            };
            // A common first year's own row, summed from its specialities (issue 6).
            let family_row = shown.donnee_source_type == DonneeSourceType::FamilleMetiers;
            if family_row && !steps.famille_metiers {
                continue;
            }
            if !shown.propre() && !family_row && !steps.continuum {
                continue;
            }
            any_row = true;
            if !shown.is_published() {
                masked_seen = true;
                continue;
            }
            if *via == Via::FamilleMetiers {
                famille_hits.push((candidate, shown));
                continue;
            }
            let via = if *reconciled {
                Via::UaiReconciliation
            } else if family_row {
                Via::FamilleMetiers
            } else if *via == Via::Direct && !shown.propre() {
                Via::Continuum
            } else {
                *via
            };
            // How many of the family's specialities have a published row here.
            let specialites_avec_donnees = family_row.then(|| {
                ctx.terminales
                    .by_code
                    .get(*candidate)
                    .map_or(0, |(specialites, _)| {
                        specialites
                            .iter()
                            .filter(|c| {
                                ctx.indicators
                                    .get(*level, key, filiere, c)
                                    .is_some_and(|s| {
                                        s.is_published() && (s.propre() || steps.continuum)
                                    })
                            })
                            .count()
                    })
            });
            return Outcome {
                status: Status::Covered,
                via: Some(via),
                level: Some(*level),
                code_certification: candidate.to_string(),
                filiere: Some(filiere),
                shown: Some(shown.clone()),
                specialites_avec_donnees,
                dernier_millesime_disponible: None,
            };
        }
        if let Some((first, shown)) = famille_hits.first() {
            return Outcome {
                status: Status::Covered,
                via: Some(if *reconciled {
                    Via::UaiReconciliation
                } else {
                    Via::FamilleMetiers
                }),
                level: Some(*level),
                code_certification: first.to_string(),
                filiere: Some(filiere),
                shown: Some((*shown).clone()),
                specialites_avec_donnees: Some(famille_hits.len()),
                dernier_millesime_disponible: None,
            };
        }
    }

    // Not covered: one reason, by precedence.
    let cert = ctx.referentiel.get(code);
    let status = if cert.is_none() && !any_row {
        Status::UnknownCode
    } else if ambiguous && steps.terminal_year {
        Status::SeveralTerminalFormations
    } else if masked_seen {
        Status::BelowThreshold
    } else if is_new(cert, ctx.indicators.latest_any.get(&filiere)) {
        Status::NewFormation
    } else if !offer.uai.is_empty() && !is_valid_uai(&offer.uai) {
        Status::InvalidUai
    } else {
        Status::NoData
    };
    not_covered(status, code.to_string(), Some(filiere), older)
}

/// The région whose figures stand for the offer's: its own, or its UAI's.
fn region_of<'a>(offer: &'a Offre, ctx: &Context) -> Option<std::borrow::Cow<'a, str>> {
    match &offer.region_code {
        Some(r) => Some(std::borrow::Cow::Borrowed(r)),
        None => ctx
            .reference
            .territoire_of_uai(&offer.uai)
            .map(|t| std::borrow::Cow::Owned(t.region_code)),
    }
}

/// The code certifications_terminales is keyed by: the offer's MEF_STAT_11.
fn offer_terminal_key<'a>(offer: &'a Offre, ctx: &Context<'a>, data_code: &'a str) -> &'a str {
    match offer.code_type {
        OffreCodeType::Mef => ctx.mef_to_code.get(&offer.code).map_or("", String::as_str),
        OffreCodeType::MefStat11 => &offer.code,
        _ => data_code,
    }
}

/// A formation whose first session comes after the latest millésime of its filière.
fn is_new(cert: Option<&Certification>, latest: Option<&Millesime>) -> bool {
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
