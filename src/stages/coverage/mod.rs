//! Stage `coverage`: how much of a platform's catalogue the indicators cover,
//! offer by offer, and why the rest is not (issue 4).
//!
//! For each offer, the indicator a platform would show is looked for at the
//! establishment (the offer's UAI, then its formateur or gestionnaire for an
//! apprenticeship site), then the région, then the nation; at each level
//! through the offer's code, its continuum (rows the indicators stage derived
//! from a revised code), and, for a first year, the terminal year it leads
//! to (or, for a common first year, its famille de métiers). An indicator is
//! shown when its row is not masked. Every offer gets exactly one status, and
//! offers in = offers out.
//!
//! The waterfall runs the same resolution with its steps switched on one
//! after the other, so each step's gain is measured, not guessed.

pub mod check;
pub mod model;
pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::input::{self, DelimitedOptions};
use crate::output::{OutTable, StagedDir};
use crate::rules::codes::{is_valid_uai, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::stages::indicators::upstream::{self, Certification};
use crate::stages::{OutputFile, StageContext, StageReport};
use crate::staging::catalogues::{load_catalogue, CatalogueFormat, Offre, OffreCodeType};
use crate::staging::reference::Reference;

use model::{rate, CoverageSummary, Example, Level, Share, Status, Via, WaterfallStep};

/// An indicator row, as much of it as coverage needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub millesime: Millesime,
    pub masked: String,
    pub propre: bool,
    pub donnee_source_type: String,
    pub taux_en_emploi_6_mois: String,
    pub taux_poursuite_etudes: String,
    pub part_en_emploi_6_mois: String,
}

impl Shown {
    /// Published: not masked, or only its employment rates withheld.
    pub fn is_published(&self) -> bool {
        self.masked.is_empty() || self.masked == "sortants_sous_seuil"
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
    rows: HashMap<(Level, String, Filiere, String), Shown>,
    /// The latest millésime of each filière at each level: the one coverage
    /// resolves against there.
    latest: BTreeMap<(Filiere, Level), Millesime>,
    /// The latest millésime of each filière over every level, the reference
    /// for `new_formation`.
    latest_any: HashMap<Filiere, Millesime>,
}

impl IndicatorIndex {
    fn insert(&mut self, level: Level, key: String, filiere: Filiere, code: String, shown: Shown) {
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
        let k = (level, key, filiere, code);
        match self.rows.get(&k) {
            Some(existing) if existing.millesime >= shown.millesime => {}
            _ => {
                self.rows.insert(k, shown);
            }
        }
    }

    /// The key's row of the latest millésime of its filière at its level,
    /// if it has one.
    fn get(&self, level: Level, key: &str, filiere: Filiere, code: &str) -> Option<&Shown> {
        let latest = self.latest.get(&(filiere, level))?;
        self.newest(level, key, filiere, code)
            .filter(|s| s.millesime.last == latest.last)
    }

    /// The key's newest row, whatever its millésime.
    fn newest(&self, level: Level, key: &str, filiere: Filiere, code: &str) -> Option<&Shown> {
        self.rows
            .get(&(level, key.to_string(), filiere, code.to_string()))
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

    /// Reads the indicator tables the `indicators` stage wrote.
    pub fn load(indicators_out: &Path) -> Result<IndicatorIndex> {
        let mut index = IndicatorIndex::default();
        for (file, level, key_column) in [
            ("formations.csv", Level::Etablissement, Some("uai")),
            ("regionales.csv", Level::Region, Some("region_code")),
            ("certifications.csv", Level::National, None),
        ] {
            let path = indicators_out.join(file);
            if !path.is_file() {
                return Err(Error::usage(format!(
                    "{}: missing; run the `indicators` stage first",
                    path.display()
                )));
            }
            let t = input::read_table(&path, &DelimitedOptions::default())?;
            let [millesime, filiere, code, masked, source, emploi, poursuite, part] =
                t.columns([
                    "millesime",
                    "filiere",
                    "code_certification",
                    "masked",
                    "donnee_source_type",
                    "taux_en_emploi_6_mois",
                    "taux_poursuite_etudes",
                    "part_en_emploi_6_mois",
                ])?;
            let key = match key_column {
                Some(name) => Some(t.column(name)?),
                None => None,
            };
            for row in t.rows() {
                let m =
                    Millesime::parse(row.get(&millesime)).map_err(|e| row.error(&millesime, e))?;
                let f = Filiere::parse(row.get(&filiere)).map_err(|e| row.error(&filiere, e))?;
                let shown = Shown {
                    millesime: m,
                    masked: row.get(&masked).to_string(),
                    propre: row.get(&source) == "propre",
                    donnee_source_type: row.get(&source).to_string(),
                    taux_en_emploi_6_mois: row.get(&emploi).to_string(),
                    taux_poursuite_etudes: row.get(&poursuite).to_string(),
                    part_en_emploi_6_mois: row.get(&part).to_string(),
                };
                let k = key
                    .as_ref()
                    .map(|c| row.get(c).to_string())
                    .unwrap_or_default();
                index.insert(level, k, f, row.get(&code).to_string(), shown);
            }
        }
        Ok(index)
    }
}

/// First year → its terminal certifications, and whether through a famille de métiers.
#[derive(Debug, Default)]
pub struct Terminales {
    by_code: HashMap<String, (Vec<String>, bool)>,
}

impl Terminales {
    pub fn load(indicators_out: &Path) -> Result<Terminales> {
        let path = indicators_out.join("certifications_terminales.csv");
        let t = input::read_table(&path, &DelimitedOptions::default())?;
        let [code, terminale, lien] =
            t.columns(["code_certification", "code_certification_terminale", "lien"])?;
        let mut by_code: HashMap<String, (Vec<String>, bool)> = HashMap::new();
        for row in t.rows() {
            let e = by_code.entry(row.get(&code).to_string()).or_default();
            e.0.push(row.get(&terminale).to_string());
            e.1 |= row.get(&lien) == "famille_metiers";
        }
        Ok(Terminales { by_code })
    }
}

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
}

/// The outcome for one offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub via: Option<Via>,
    pub level: Option<Level>,
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

/// Everything the resolution reads.
pub struct Context<'a> {
    pub referentiel: &'a HashMap<String, Certification>,
    pub mef_to_code: &'a HashMap<String, String>,
    pub indicators: &'a IndicatorIndex,
    pub terminales: &'a Terminales,
    pub reference: &'a Reference,
}

/// The offer's code in the key its filière's data use, and that filière.
fn data_code(offer: &Offre, ctx: &Context) -> Option<(String, Filiere)> {
    let code = offer.code.as_str();
    // A 10-character MEF (Parcoursup, Affelnet 2020) stands for its MEF_STAT_11.
    let (code, code_type) = match offer.code_type {
        OffreCodeType::Mef => (ctx.mef_to_code.get(code)?.clone(), CodeType::MefStat11),
        OffreCodeType::MefStat11 => (code.to_string(), CodeType::MefStat11),
        OffreCodeType::Cfd => (code.to_string(), CodeType::Cfd),
        OffreCodeType::Sise => (code.to_string(), CodeType::Sise),
        OffreCodeType::Unknown => return None,
    };
    let filiere = offer.filiere.unwrap_or(match code_type {
        CodeType::Cfd => Filiere::Apprentissage,
        CodeType::MefStat11 => Filiere::Pro,
        CodeType::Sise => Filiere::Superieur,
    });
    // Apprenticeship figures are keyed by CFD: a MEF_STAT_11 stands for its CFD.
    if filiere == Filiere::Apprentissage && code_type == CodeType::MefStat11 {
        let cfd = ctx.referentiel.get(&code)?.code_formation_diplome.clone();
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

    // Candidates at each level: (code, via) in order of preference.
    let mut candidates: Vec<(String, Via)> = vec![(code.clone(), Via::Direct)];
    let (terminals, famille) = ctx
        .terminales
        .by_code
        .get(&offer_terminal_key(offer, ctx, &code))
        .cloned()
        .unwrap_or_default();
    let ambiguous = !famille && terminals.len() > 1;
    if famille && steps.famille_metiers {
        candidates.extend(terminals.iter().map(|t| (t.clone(), Via::FamilleMetiers)));
    } else if !famille
        && terminals.len() == 1
        && steps.terminal_year
        && filiere != Filiere::Apprentissage
    {
        candidates.push((terminals[0].clone(), Via::TerminalYear));
    }

    let mut levels: Vec<(Level, String, bool)> = Vec::new();
    if steps.etablissement {
        if is_valid_uai(&offer.uai) {
            levels.push((Level::Etablissement, offer.uai.clone(), false));
        }
        if steps.uai_reconciliation {
            for other in [&offer.uai_formateur, &offer.uai_gestionnaire] {
                if is_valid_uai(other) && *other != offer.uai {
                    levels.push((Level::Etablissement, other.clone(), true));
                }
            }
        }
    }
    if steps.region {
        let region = offer.region_code.clone().or_else(|| {
            ctx.reference
                .territoire_of_uai(&offer.uai)
                .map(|t| t.region_code)
        });
        if let Some(r) = region {
            levels.push((Level::Region, r, false));
        }
    }
    if steps.national {
        levels.push((Level::National, String::new(), false));
    }

    let mut masked_seen = false;
    let mut any_row = false;
    let mut older: Option<Millesime> = None;
    for (level, key, reconciled) in &levels {
        let mut famille_hits: Vec<(&String, &Shown)> = Vec::new();
        for (candidate, via) in &candidates {
            let Some(shown) = ctx.indicators.get(*level, key, filiere, candidate) else {
                if let Some(old) = ctx.indicators.newest(*level, key, filiere, candidate) {
                    older = older.max(Some(old.millesime));
                }
                continue;
            };
            // A common first year's own row, summed from its specialities (issue 6).
            let family_row = shown.donnee_source_type == "famille_metiers";
            if family_row && !steps.famille_metiers {
                continue;
            }
            if !shown.propre && !family_row && !steps.continuum {
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
            } else if *via == Via::Direct && !shown.propre {
                Via::Continuum
            } else {
                *via
            };
            // How many of the family's specialities have a published row here.
            let specialites_avec_donnees = family_row.then(|| {
                ctx.terminales
                    .by_code
                    .get(candidate)
                    .map_or(0, |(specialites, _)| {
                        specialites
                            .iter()
                            .filter(|c| {
                                ctx.indicators
                                    .get(*level, key, filiere, c)
                                    .is_some_and(|s| {
                                        s.is_published() && (s.propre || steps.continuum)
                                    })
                            })
                            .count()
                    })
            });
            return Outcome {
                status: Status::Covered,
                via: Some(via),
                level: Some(*level),
                code_certification: candidate.clone(),
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
                code_certification: (*first).clone(),
                filiere: Some(filiere),
                shown: Some((*shown).clone()),
                specialites_avec_donnees: Some(famille_hits.len()),
                dernier_millesime_disponible: None,
            };
        }
    }

    // Not covered: one reason, by precedence.
    let cert = ctx.referentiel.get(&code);
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
    not_covered(status, code, Some(filiere), older)
}

/// The code certifications_terminales is keyed by: the offer's MEF_STAT_11.
fn offer_terminal_key(offer: &Offre, ctx: &Context, data_code: &str) -> String {
    match offer.code_type {
        OffreCodeType::Mef => ctx
            .mef_to_code
            .get(&offer.code)
            .cloned()
            .unwrap_or_default(),
        OffreCodeType::MefStat11 => offer.code.clone(),
        _ => data_code.to_string(),
    }
}

/// A formation whose first session comes after the latest millésime of its filière.
fn is_new(cert: Option<&Certification>, latest: Option<&Millesime>) -> bool {
    match (cert.and_then(|c| c.date_premiere_session), latest) {
        (Some(first), Some(latest)) => first > i32::from(latest.last),
        _ => false,
    }
}

/// The waterfall's steps, in order: each switches one more thing on.
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
    let mut out = vec![("direct", "Code de l'offre, dans l'établissement", s)];
    s.continuum = true;
    out.push(("continuum", "+ continuum (codes rénovés)", s));
    s.terminal_year = true;
    out.push(("terminal_year", "+ année terminale", s));
    s.famille_metiers = true;
    out.push(("famille_metiers", "+ famille de métiers", s));
    s.uai_reconciliation = true;
    out.push(("uai_reconciliation", "+ rapprochement d'UAI", s));
    s.region = true;
    out.push(("region", "+ repli régional", s));
    s.national = true;
    out.push(("national", "+ repli national", s));
    out
}

/// The same steps with the région as the first level tried: what each step
/// adds where establishment figures are missing.
pub fn regional_waterfall_steps() -> Vec<(&'static str, &'static str, Steps)> {
    waterfall_steps()
        .into_iter()
        .filter(|(name, _, _)| *name != "uai_reconciliation" && *name != "region")
        .map(|(name, label, mut s)| {
            s.etablissement = false;
            s.uai_reconciliation = false;
            s.region = true;
            (name, label, s)
        })
        .collect()
}

pub struct Coverage {
    pub offers: Vec<Offre>,
    pub outcomes: Vec<Outcome>,
    pub summary: CoverageSummary,
}

/// The pure part: offers and context in, outcomes and figures out.
pub fn build_coverage(
    name: &str,
    format: CatalogueFormat,
    offers: Vec<Offre>,
    ctx: &Context,
) -> Coverage {
    let outcomes: Vec<Outcome> = offers.iter().map(|o| resolve(o, ctx, Steps::ALL)).collect();
    let waterfall = |steps: Vec<(&str, &str, Steps)>| {
        let mut previous = 0;
        steps
            .into_iter()
            .map(|(step, label, s)| {
                let covered = offers
                    .iter()
                    .filter(|o| resolve(o, ctx, s).status == Status::Covered)
                    .count();
                let w = WaterfallStep {
                    step: step.to_string(),
                    label: label.to_string(),
                    added: covered.saturating_sub(previous),
                    covered,
                    coverage_rate: rate(covered, offers.len()),
                };
                previous = covered;
                w
            })
            .collect::<Vec<_>>()
    };
    let main = waterfall(waterfall_steps());
    let regional = waterfall(regional_waterfall_steps());

    let mut s = CoverageSummary {
        catalogue: name.to_string(),
        format: format.as_str().to_string(),
        offers: offers.len(),
        ..CoverageSummary::default()
    };
    for status in Status::ALL {
        s.by_status.insert(status.as_str().to_string(), 0);
    }
    for (o, out) in offers.iter().zip(&outcomes) {
        let covered = out.status == Status::Covered;
        if covered {
            s.covered += 1;
        }
        *s.by_status
            .entry(out.status.as_str().to_string())
            .or_default() += 1;
        if let Some(v) = out.via {
            *s.by_via.entry(v.as_str().to_string()).or_default() += 1;
        }
        if let Some(l) = out.level {
            *s.by_level.entry(l.as_str().to_string()).or_default() += 1;
        }
        let filiere = o
            .filiere
            .or(out.filiere)
            .map_or("inconnue", Filiere::as_str);
        s.by_filiere
            .entry(filiere.to_string())
            .or_default()
            .add(covered);
        let niveau = niveau_of(o, out, ctx);
        s.by_niveau_diplome.entry(niveau).or_default().add(covered);
        let academie = match (
            &o.academie_code,
            ctx.reference
                .academie(o.academie_code.as_deref().unwrap_or("")),
        ) {
            (Some(_), Some(a)) => a.libelle.clone(),
            _ if !o.academie_libelle.is_empty() => o.academie_libelle.clone(),
            _ => "inconnue".to_string(),
        };
        s.by_academie
            .entry(academie.clone())
            .or_default()
            .add(covered);
        let region = o
            .region_code
            .as_deref()
            .and_then(|r| ctx.reference.region(r))
            .map_or("inconnue".to_string(), |r| r.libelle.clone());
        s.by_region.entry(region).or_default().add(covered);
        if !covered {
            let examples = s
                .examples
                .entry(out.status.as_str().to_string())
                .or_default();
            if examples.len() < 5 {
                examples.push(Example {
                    line: o.line,
                    uai: o.uai.clone(),
                    code: o.code.clone(),
                    libelle: libelle_of(o, out, ctx),
                    academie,
                });
            }
        }
    }
    s.coverage_rate = rate(s.covered, s.offers);
    s.millesimes = ctx.indicators.latest_millesimes();
    s.waterfall = main;
    s.waterfall_region = regional;
    Coverage {
        offers,
        outcomes,
        summary: s,
    }
}

fn niveau_of(o: &Offre, out: &Outcome, ctx: &Context) -> String {
    let code = if out.code_certification.is_empty() {
        &o.code
    } else {
        &out.code_certification
    };
    ctx.referentiel
        .get(code)
        .map(|c| c.libelle_niveau_diplome.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "inconnu".to_string())
}

fn libelle_of(o: &Offre, out: &Outcome, ctx: &Context) -> String {
    if !o.libelle.is_empty() {
        return o.libelle.clone();
    }
    ctx.referentiel
        .get(&out.code_certification)
        .map(|c| c.libelle.clone())
        .unwrap_or_default()
}

/// The `coverage_offers` output table: one row per offer, nothing dropped.
pub fn offers_table(cov: &Coverage, ctx: &Context) -> OutTable {
    let o = &cov.offers;
    let r = &cov.outcomes;
    let shown = |f: fn(&Shown) -> &String| {
        r.iter()
            .map(move |x| x.shown.as_ref().map(|s| f(s).clone()).unwrap_or_default())
    };
    let to_int = |v: String| v.parse::<i64>().ok();
    let mut t = OutTable::new("coverage_offers");
    t.str("catalogue", o.iter().map(|x| &x.catalogue))
        .int("line", o.iter().map(|x| Some(x.line as i64)))
        .str("uai", o.iter().map(|x| &x.uai))
        .str("uai_gestionnaire", o.iter().map(|x| &x.uai_gestionnaire))
        .str("uai_formateur", o.iter().map(|x| &x.uai_formateur))
        .str("code", o.iter().map(|x| &x.code))
        .str("code_type", o.iter().map(|x| x.code_type.as_str()))
        .str(
            "filiere",
            o.iter()
                .zip(r)
                .map(|(x, y)| x.filiere.or(y.filiere).map_or("", Filiere::as_str)),
        )
        .str(
            "academie_code",
            o.iter()
                .map(|x| x.academie_code.clone().unwrap_or_default()),
        )
        .str("academie_libelle", o.iter().map(|x| &x.academie_libelle))
        .str(
            "region_code",
            o.iter().map(|x| x.region_code.clone().unwrap_or_default()),
        )
        .str("libelle", o.iter().map(|x| &x.libelle))
        .int("capacite", o.iter().map(|x| x.capacite))
        .str("problemes", o.iter().map(|x| x.problems.join("|")))
        .str(
            "niveau_diplome",
            o.iter().zip(r).map(|(x, y)| {
                let n = niveau_of(x, y, ctx);
                if n == "inconnu" {
                    String::new()
                } else {
                    n
                }
            }),
        )
        .str("status", r.iter().map(|x| x.status.as_str()))
        .bool("covered", r.iter().map(|x| x.status == Status::Covered))
        .str("via", r.iter().map(|x| x.via.map_or("", Via::as_str)))
        .str("level", r.iter().map(|x| x.level.map_or("", Level::as_str)))
        .str(
            "code_certification",
            r.iter().map(|x| &x.code_certification),
        )
        .str(
            "millesime",
            r.iter().map(|x| {
                x.shown
                    .as_ref()
                    .map(|s| s.millesime.to_string())
                    .unwrap_or_default()
            }),
        )
        .int(
            "taux_en_emploi_6_mois",
            shown(|s| &s.taux_en_emploi_6_mois).map(to_int),
        )
        .int(
            "taux_poursuite_etudes",
            shown(|s| &s.taux_poursuite_etudes).map(to_int),
        )
        .int(
            "part_en_emploi_6_mois",
            shown(|s| &s.part_en_emploi_6_mois).map(to_int),
        )
        .str("donnee_source_type", shown(|s| &s.donnee_source_type))
        .int(
            "specialites_avec_donnees",
            r.iter()
                .map(|x| x.specialites_avec_donnees.map(|n| n as i64)),
        )
        .str(
            "dernier_millesime_disponible",
            r.iter().map(|x| {
                x.dernier_millesime_disponible
                    .map(|m| m.to_string())
                    .unwrap_or_default()
            }),
        );
    t
}

// ---- Running the stage -------------------------------------------------------

/// A catalogue to measure, as listed in a pipeline file or on the command line.
#[derive(Debug, Clone)]
pub struct CatalogueInput {
    pub name: String,
    pub path: std::path::PathBuf,
    pub format: Option<CatalogueFormat>,
}

/// `ij coverage`: measures one catalogue against the indicators, writing
/// `coverage_offers`, `coverage_summary.json` and `coverage_report.html`.
pub fn run(
    catalogue: &CatalogueInput,
    bcn_out: &Path,
    indicators_out: &Path,
    ctx_out: &StageContext,
) -> Result<StageReport> {
    let start = Instant::now();
    let reference = Reference::embedded();
    let referentiel = upstream::load_referentiel(bcn_out)?;
    let mef_to_code: HashMap<String, String> = referentiel
        .values()
        .filter(|c| !c.mef.is_empty())
        .map(|c| (c.mef.clone(), c.code.clone()))
        .collect();
    let indicators = IndicatorIndex::load(indicators_out)?;
    let terminales = Terminales::load(indicators_out)?;
    let (format, offers) = load_catalogue(&catalogue.path, catalogue.format, &reference)?;
    let ctx = Context {
        referentiel: &referentiel,
        mef_to_code: &mef_to_code,
        indicators: &indicators,
        terminales: &terminales,
        reference: &reference,
    };
    let offers_in = offers.len();
    let cov = build_coverage(&catalogue.name, format, offers, &ctx);
    if cov.outcomes.len() != offers_in {
        return Err(Error::file(
            &catalogue.path,
            "internal error: offers in ≠ offers out",
        ));
    }
    let table = offers_table(&cov, &ctx);

    let mut staged = StagedDir::new(&ctx_out.out_dir)?;
    staged.write_table(&table, &ctx_out.csv)?;
    staged.write_json("coverage_summary.json", &cov.summary)?;
    let html = report::render_report(
        &cov.summary,
        &format!("Couverture du catalogue {}", catalogue.name),
    );
    staged.write_bytes("coverage_report.html", html.as_bytes())?;
    let written_notes = staged.commit()?;

    let s = &cov.summary;
    let mut details = vec![format!(
        "{}: {} offers in = {} offers out; {} covered ({:.1} %)",
        catalogue.path.display(),
        offers_in,
        s.offers,
        s.covered,
        s.coverage_rate
    )];
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    details.push(format!("statuses: {}", statuses.join(", ")));
    let steps = |w: &[WaterfallStep]| {
        w.iter()
            .map(|x| format!("{} {:.1} % (+{})", x.step, x.coverage_rate, x.added))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    details.push(format!("waterfall: {}", steps(&s.waterfall)));
    details.push(format!(
        "waterfall from the région: {}",
        steps(&s.waterfall_region)
    ));
    let filieres: Vec<String> = s
        .by_filiere
        .iter()
        .map(|(k, v)| format!("{k} {:.1} % of {}", v.coverage_rate, v.offers))
        .collect();
    details.push(format!("by filière: {}", filieres.join(", ")));
    details.extend(written_notes);
    Ok(StageReport {
        stage: "coverage".into(),
        inputs: vec![crate::staging::InputFile {
            table: format!("catalogue {}", format.as_str()),
            path: catalogue.path.clone(),
            format: None,
            rows: offers_in,
        }],
        outputs: vec![
            OutputFile::table(&ctx_out.out_dir, &table),
            OutputFile::file(&ctx_out.out_dir, "coverage_summary.json"),
            OutputFile::file(&ctx_out.out_dir, "coverage_report.html"),
        ],
        rows_read: offers_in,
        rows_written: s.offers,
        rows_rejected: 0,
        rows_merged: 0,
        details,
        elapsed: start.elapsed(),
    })
}

/// Shares by filière and level, for the CI gate.
pub fn level_shares(s: &CoverageSummary) -> BTreeMap<String, Share> {
    s.by_level
        .iter()
        .map(|(k, n)| {
            (
                k.clone(),
                Share {
                    offers: s.offers,
                    covered: *n,
                    coverage_rate: rate(*n, s.offers),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::catalogues::OffreCodeType;

    fn cert(code: &str, cfd: &str, premiere: Option<i32>) -> (String, Certification) {
        (
            code.to_string(),
            Certification {
                code: code.into(),
                code_type: Some(if code.len() == 11 {
                    CodeType::MefStat11
                } else {
                    CodeType::Cfd
                }),
                code_formation_diplome: cfd.into(),
                date_premiere_session: premiere,
                libelle_niveau_diplome: "BAC".into(),
                ..Certification::default()
            },
        )
    }

    fn shown(millesime: &str, masked: &str, propre: bool) -> Shown {
        Shown {
            millesime: Millesime::parse(millesime).unwrap(),
            masked: masked.into(),
            propre,
            donnee_source_type: if propre { "propre" } else { "ancienne" }.into(),
            taux_en_emploi_6_mois: "50".into(),
            taux_poursuite_etudes: "40".into(),
            part_en_emploi_6_mois: "30".into(),
        }
    }

    fn offer(uai: &str, code: &str, filiere: Filiere) -> Offre {
        Offre {
            catalogue: "t.csv".into(),
            line: 2,
            uai: uai.into(),
            uai_gestionnaire: String::new(),
            uai_formateur: String::new(),
            code: code.into(),
            code_type: OffreCodeType::from_shape(code),
            filiere: Some(filiere),
            academie_libelle: "Lyon".into(),
            academie_code: Some("10".into()),
            region_code: Some("84".into()),
            libelle: String::new(),
            capacite: None,
            problems: Vec::new(),
        }
    }

    struct World {
        referentiel: HashMap<String, Certification>,
        mefs: HashMap<String, String>,
        index: IndicatorIndex,
        terminales: Terminales,
        reference: Reference,
    }

    impl World {
        fn new() -> World {
            let referentiel: HashMap<_, _> = [
                cert("23810025513", "40025513", Some(2019)),
                cert("23830025513", "40025513", Some(2019)),
                cert("23810099999", "40099999", Some(2019)),
                cert("23830099998", "40099998", Some(2019)),
                cert("23830099997", "40099997", Some(2019)),
                cert("23810020006", "40020006", None),
                cert("23830023102", "40023102", Some(2021)),
                cert("23830023203", "40023203", Some(2021)),
                cert("23830088888", "40088888", Some(2027)),
                cert("23830077777", "40077777", Some(2019)),
                cert("40025513", "40025513", Some(2019)),
            ]
            .into_iter()
            .collect();
            let mut index = IndicatorIndex::default();
            let mut put = |level, key: &str, code: &str, s| {
                index.insert(level, key.to_string(), Filiere::Pro, code.to_string(), s)
            };
            put(
                Level::Etablissement,
                "0690046A",
                "23830025513",
                shown("2022_2023", "", true),
            );
            put(
                Level::Region,
                "84",
                "23830025513",
                shown("2022_2023", "", false),
            );
            put(
                Level::Region,
                "84",
                "23830023203",
                shown("2022_2023", "", true),
            );
            put(
                Level::Region,
                "84",
                "23830077777",
                shown("2022_2023", "sous_seuil", true),
            );
            put(
                Level::National,
                "",
                "23830077777",
                shown("2023", "sous_seuil", true),
            );
            index.insert(
                Level::Region,
                "84".into(),
                Filiere::Apprentissage,
                "40025513".into(),
                shown("2022_2023", "sortants_sous_seuil", true),
            );
            let mut terminales = Terminales::default();
            terminales
                .by_code
                .insert("23810025513".into(), (vec!["23830025513".into()], false));
            terminales.by_code.insert(
                "23810099999".into(),
                (vec!["23830099998".into(), "23830099997".into()], false),
            );
            terminales.by_code.insert(
                "23810020006".into(),
                (vec!["23830023102".into(), "23830023203".into()], true),
            );
            World {
                referentiel,
                mefs: HashMap::from([("2472551331".to_string(), "23810025513".to_string())]),
                index,
                terminales,
                reference: Reference::embedded(),
            }
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                referentiel: &self.referentiel,
                mef_to_code: &self.mefs,
                indicators: &self.index,
                terminales: &self.terminales,
                reference: &self.reference,
            }
        }
    }

    fn status(o: &Offre, w: &World) -> (Status, Option<Via>, Option<Level>) {
        let out = resolve(o, &w.ctx(), Steps::ALL);
        (out.status, out.via, out.level)
    }

    #[test]
    fn each_status_and_way() {
        let w = World::new();
        use Filiere::*;
        let cases = [
            // A first year, through its terminal year, in its establishment.
            (
                offer("0690046A", "23810025513", Pro),
                (
                    Status::Covered,
                    Some(Via::TerminalYear),
                    Some(Level::Etablissement),
                ),
            ),
            // Elsewhere, the région's row was derived by the continuum.
            (
                offer("0131445A", "23830025513", Pro),
                (Status::Covered, Some(Via::Continuum), Some(Level::Region)),
            ),
            // A 10-character MEF stands for its MEF_STAT_11.
            (
                offer("0131445A", "2472551331", Pro),
                (
                    Status::Covered,
                    Some(Via::TerminalYear),
                    Some(Level::Region),
                ),
            ),
            // Apprenticeship: the MEF_STAT_11 stands for its CFD; only the employment rates are withheld: shown.
            (
                offer("0131445A", "23810025513", Apprentissage),
                (Status::Covered, Some(Via::Direct), Some(Level::Region)),
            ),
            // A common first year, through its famille de métiers.
            (
                offer("0131445A", "23810020006", Pro),
                (
                    Status::Covered,
                    Some(Via::FamilleMetiers),
                    Some(Level::Region),
                ),
            ),
            (
                offer("0131445A", "23830077777", Pro),
                (Status::BelowThreshold, None, None),
            ),
            (
                offer("0131445A", "23830088888", Pro),
                (Status::NewFormation, None, None),
            ),
            (
                offer("0131445A", "23810099999", Pro),
                (Status::SeveralTerminalFormations, None, None),
            ),
            (
                offer("0131445A", "23830012345", Pro),
                (Status::UnknownCode, None, None),
            ),
            (
                offer("0131445A", "", Pro),
                (Status::UnknownCode, None, None),
            ),
            (
                offer("0131445B", "23830099998", Pro),
                (Status::InvalidUai, None, None),
            ),
            (
                offer("0131445A", "23830099998", Pro),
                (Status::NoData, None, None),
            ),
        ];
        for (o, expected) in cases {
            assert_eq!(status(&o, &w), expected, "{} {:?}", o.code, o.filiere);
        }
    }

    #[test]
    fn a_site_takes_its_formateurs_figures() {
        let w = World::new();
        let mut o = offer("0131445A", "23830025513", Filiere::Pro);
        o.uai_formateur = "0690046A".into();
        assert_eq!(
            status(&o, &w),
            (
                Status::Covered,
                Some(Via::UaiReconciliation),
                Some(Level::Etablissement)
            )
        );
    }

    #[test]
    fn the_waterfall_adds_up_to_the_final_coverage() {
        let w = World::new();
        let offers = vec![
            offer("0690046A", "23810025513", Filiere::Pro),
            offer("0131445A", "23830025513", Filiere::Pro),
            offer("0131445A", "23810020006", Filiere::Pro),
            offer("0131445A", "23830099998", Filiere::Pro),
        ];
        let cov = build_coverage("t", CatalogueFormat::Generic, offers, &w.ctx());
        let s = &cov.summary;
        assert_eq!(s.offers, 4);
        assert_eq!(s.by_status.values().sum::<usize>(), 4);
        assert_eq!(s.waterfall.last().unwrap().covered, s.covered);
        assert_eq!(
            s.waterfall.iter().map(|x| x.added).sum::<usize>(),
            s.covered
        );
        assert!(s.waterfall.windows(2).all(|p| p[0].covered <= p[1].covered));
        assert_eq!(s.covered, 3);
        assert_eq!(s.coverage_rate, 75.0);
    }
}
