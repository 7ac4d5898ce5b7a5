//! The per-establishment tables (`formations`, `etablissements`) completed
//! from the establishment directory (issue 9): a name where the source gives
//! none, the establishment's nature and whether it is closed. Without a
//! directory, or for a UAI it lacks, the new columns are empty: the tables
//! keep one layout whatever the inputs.

use polars::prelude::StringChunkedBuilder;

use crate::output::table::{Column, Values};
use crate::output::OutTable;
use crate::staging::annuaire::Annuaire;

/// Fills `libelle_etablissement` and appends `nature_uai_libelle` and
/// `etat_etablissement` (`ouvert`, `ferme`, empty when unknown); returns the rows whose UAI the directory has and
/// those it lacks.
pub fn complete_etablissements(table: &mut OutTable, annuaire: &Annuaire) -> (usize, usize) {
    let uais: Vec<String> = match table.columns.iter().find(|c| c.name == "uai") {
        Some(Column {
            values: Values::Str(v),
            ..
        }) => v
            .iter()
            .map(|u| u.unwrap_or_default().to_string())
            .collect(),
        _ => return (0, 0),
    };
    let found: Vec<_> = uais.iter().map(|u| annuaire.get(u)).collect();
    if let Some(Column {
        values: Values::Str(libelles),
        ..
    }) = table
        .columns
        .iter_mut()
        .find(|c| c.name == "libelle_etablissement")
    {
        let mut completed = StringChunkedBuilder::new(libelles.name().clone(), libelles.len());
        for (libelle, etab) in libelles.iter().zip(&found) {
            let from_annuaire = etab
                .map(|e| e.libelle.as_str())
                .filter(|l| !l.is_empty() && libelle.is_none_or(str::is_empty));
            completed.append_option(from_annuaire.or(libelle));
        }
        *libelles = completed.finish();
    }
    table.str(
        "nature_uai_libelle",
        found
            .iter()
            .map(|e| e.map(|e| e.nature_libelle.clone()).unwrap_or_default()),
    );
    table.str(
        "etat_etablissement",
        found.iter().map(|e| match e {
            Some(e) if e.ferme => "ferme",
            Some(_) => "ouvert",
            None => "",
        }),
    );
    let known = found.iter().filter(|e| e.is_some()).count();
    (known, found.len() - known)
}
