//! The lines `ij indicators` prints after its run (the stage report's
//! details), from the stage's summary: what each file gave, what each table
//! holds, what the continuum added, the steering Q4 counts, the
//! establishment directory, the rejects.
//!
//! Apart from `run` (in `mod.rs`), which writes the tables: the wording of
//! the report changes without touching how the stage runs.

use crate::stages::indicators::IndicatorsSummary;
use crate::staging::annuaire::Annuaire;

/// Each file's account (read = written + rejected + skipped), each table's
/// rows, and the rows the continuum added to each table.
pub(super) fn accounts(s: &IndicatorsSummary) -> Vec<String> {
    let mut details = Vec::new();
    for f in &s.files {
        details.push(format!(
            "{}: {} rows read = {} written + {} rejected + {} skipped",
            f.file.display(),
            f.rows_read,
            f.rows_written,
            f.rows_rejected,
            f.rows_skipped
        ));
    }
    for (name, t) in &s.tables {
        let mut line = format!(
            "{name}: {} rows, {} masked (under {} students or not published), {} from the continuum",
            t.rows, t.rows_masked, s.seuil, t.rows_from_continuum
        );
        if t.rows_famille_metiers > 0 {
            line.push_str(&format!(
                ", {} of a common first year summed from its famille de métiers' specialities",
                t.rows_famille_metiers
            ));
        }
        details.push(line);
    }
    for (table, added) in &s.continuum_rows_added {
        if !added.is_empty() {
            details.push(format!(
                "continuum ({} policy) added to {table}: {}",
                s.continuum_policy,
                added
                    .iter()
                    .map(|(k, v)| format!("{v} via {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    details
}

/// The Q4 formations of each région, per filière, in its latest millésime.
pub(super) fn pilotage(s: &IndicatorsSummary) -> Vec<String> {
    s.pilotage_q4
        .iter()
        .map(|(filiere, q4)| {
            format!(
                "pilotage, {filiere} {}: {} Q4 formations (peu insérantes, own figures) by région: {}",
                q4.millesime,
                q4.regions.values().sum::<usize>(),
                q4.regions
                    .iter()
                    .map(|(r, n)| format!("{r}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect()
}

/// What the establishment directory holds (when one is given).
pub(super) fn annuaire(annuaire: &Annuaire) -> String {
    format!(
        "establishment directory: {} UAIs ({} closed), {} rows with an invalid UAI skipped, {} repeated UAIs",
        annuaire.by_uai.len(),
        annuaire.by_uai.values().filter(|e| e.ferme).count(),
        annuaire.rows_invalid_uai,
        annuaire.rows_duplicate
    )
}

/// The rows rejected, by reason, when there are any.
pub(super) fn rejects(s: &IndicatorsSummary) -> Option<String> {
    if s.rejects_by_reason.is_empty() {
        return None;
    }
    Some(format!(
        "{} rows rejected ({}), with their reason, in indicators_rejects.csv",
        s.rows_rejected,
        s.rejects_by_reason
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
