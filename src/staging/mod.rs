//! Staging: one loader per source extract. A loader finds its file, checks its
//! columns, renames them to the domain's words and casts them (codes stay
//! strings, dates become dates), and does nothing else: no joins, no rules.
//! Stages build on the typed rows these loaders return.

pub mod annuaire;
pub mod bcn;
pub mod catalogues;
pub mod fields;
pub mod inserjeunes;
pub mod insersup;
pub mod mesures;
pub mod reference;

/// A file a stage read, with how it was read and how many rows it held:
/// the first half of every stage's "rows read = rows written + rows rejected".
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    pub table: String,
    pub path: std::path::PathBuf,
    /// How the file was read (absent for loaders that do not report it).
    pub format: Option<crate::input::table::Format>,
    pub rows: usize,
}
