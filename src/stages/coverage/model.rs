//! The coverage model: the status of an offer and the figures of a catalogue.
//!
//! Every offer of a catalogue gets exactly one status: `covered`, with the
//! way (`via`) and the level its indicator was found at, or the one reason it
//! is not. The summary counts them, overall and by filière, diploma level,
//! académie and région, and the waterfall says what each step adds.

use std::collections::BTreeMap;

/// Why an offer has no indicator, or that it has one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Covered,
    /// Figures exist, but under the diffusion threshold at every level tried.
    BelowThreshold,
    /// The formation's first session comes after the latest millésime.
    NewFormation,
    /// The code is empty, malformed or absent from the BCN.
    UnknownCode,
    /// The UAI's check letter is wrong (and no fallback level had figures).
    InvalidUai,
    /// A first year leading to several terminal formations: ambiguous.
    SeveralTerminalFormations,
    /// The establishment directory says the offer's UAI is closed (issue 9):
    /// the catalogue lists an offer no one can follow; no fallback applies.
    ClosedEstablishment,
    /// No obvious reason.
    NoData,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Covered,
        Status::BelowThreshold,
        Status::NewFormation,
        Status::UnknownCode,
        Status::InvalidUai,
        Status::SeveralTerminalFormations,
        Status::ClosedEstablishment,
        Status::NoData,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Covered => "covered",
            Status::BelowThreshold => "below_threshold",
            Status::NewFormation => "new_formation",
            Status::UnknownCode => "unknown_code",
            Status::InvalidUai => "invalid_uai",
            Status::SeveralTerminalFormations => "several_terminal_formations",
            Status::ClosedEstablishment => "closed_establishment",
            Status::NoData => "no_data",
        }
    }

    /// A French label for reports.
    pub fn libelle(self) -> &'static str {
        match self {
            Status::Covered => "Couverte",
            Status::BelowThreshold => "Sous le seuil de diffusion",
            Status::NewFormation => {
                "Formation nouvelle (première session après le dernier millésime)"
            }
            Status::UnknownCode => "Code de formation inconnu de la BCN",
            Status::InvalidUai => "UAI invalide",
            Status::SeveralTerminalFormations => "Plusieurs formations terminales (ambigu)",
            Status::ClosedEstablishment => "Établissement fermé (annuaire)",
            Status::NoData => "Pas de donnée",
        }
    }
}

/// How a covered offer's indicator was found.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The offer's own code.
    Direct,
    /// The code's figures come from its lineage (a revised code).
    Continuum,
    /// A first year, through the terminal year it leads to.
    TerminalYear,
    /// A common first year, through its famille de métiers (issue 6).
    FamilleMetiers,
    /// An apprenticeship site whose figures are held by its formateur or gestionnaire UAI.
    UaiReconciliation,
}

impl Via {
    pub const ALL: [Via; 5] = [
        Via::Direct,
        Via::Continuum,
        Via::TerminalYear,
        Via::FamilleMetiers,
        Via::UaiReconciliation,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Via::Direct => "direct",
            Via::Continuum => "continuum",
            Via::TerminalYear => "terminal_year",
            Via::FamilleMetiers => "famille_metiers",
            Via::UaiReconciliation => "uai_reconciliation",
        }
    }
}

/// Offers and covered offers of a group, and the rate (percent, one decimal).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Share {
    pub offers: usize,
    pub covered: usize,
    pub coverage_rate: f64,
}

impl Share {
    /// Counts one offer; `coverage_rate` is set once every offer is
    /// counted (a rate per offer was a division per offer and group).
    pub fn count(&mut self, covered: bool) {
        self.offers += 1;
        if covered {
            self.covered += 1;
        }
    }
}

/// `100 × covered / offers`, one decimal, rounded half to even
/// (`rules::rates::percentage_one_decimal`); 0 for no offer.
pub fn rate(covered: usize, offers: usize) -> f64 {
    crate::rules::rates::percentage_one_decimal(covered as u64, offers as u64)
}

/// One step of the waterfall: what is covered once this step is added.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WaterfallStep {
    /// `direct`, `continuum`, `terminal_year`, `famille_metiers`,
    /// `uai_reconciliation`, `region`, `national`.
    pub step: String,
    pub label: String,
    /// Offers this step covers that earlier steps did not.
    pub added: usize,
    /// Offers covered after this step (cumulated).
    pub covered: usize,
    pub coverage_rate: f64,
}

/// An offer given as an example of a reason, in the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    pub line: u64,
    pub uai: String,
    pub code: String,
    pub libelle: String,
    pub academie: String,
}

/// `coverage_summary.json`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoverageSummary {
    pub catalogue: String,
    pub format: String,
    pub offers: usize,
    pub covered: usize,
    pub coverage_rate: f64,
    /// The diffusion threshold and continuum policy of the indicators the
    /// coverage was measured against (`indicators_summary.json`).
    #[serde(default)]
    pub seuil: Option<i64>,
    #[serde(default)]
    pub continuum_policy: Option<String>,
    /// The millésime each filière's offers were resolved against at each
    /// level: its latest there (older millésimes are never used).
    #[serde(default)]
    pub millesimes: BTreeMap<String, BTreeMap<String, String>>,
    pub by_status: BTreeMap<String, usize>,
    pub by_via: BTreeMap<String, usize>,
    pub by_level: BTreeMap<String, usize>,
    pub by_filiere: BTreeMap<String, Share>,
    pub by_niveau_diplome: BTreeMap<String, Share>,
    pub by_academie: BTreeMap<String, Share>,
    pub by_region: BTreeMap<String, Share>,
    pub waterfall: Vec<WaterfallStep>,
    /// The same steps with the région as the first level tried.
    #[serde(default)]
    pub waterfall_region: Vec<WaterfallStep>,
    /// Up to 5 example offers per uncovered status.
    pub examples: BTreeMap<String, Vec<Example>>,
}
