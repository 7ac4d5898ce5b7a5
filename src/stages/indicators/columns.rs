//! Columns written the same way by several output tables of the stage:
//! `perimetre_emploi`, the `donnee_source_*` pair and the first counts.
//!
//! Below both `tables` (the indicator tables) and `pilotage`, which each
//! write them: with these helpers in `tables`, `tables` called `pilotage`
//! for its table and `pilotage` called `tables` for its columns, an import
//! loop. Both now import from here, and `tables` → `pilotage` only.

use std::borrow::Cow;

use crate::output::OutTable;
use crate::rules::codes::Code;
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::perimetre::PerimetreEmploi;
use crate::stages::indicators::model::{DonneeSource, Indicateur};
use crate::staging::mesures::Counts;

/// `perimetre_emploi`, the last column of every indicator table (issue 14):
/// which jobs the employment figures count.
pub(crate) fn perimetre_column(t: &mut OutTable, rows: impl Iterator<Item = (Filiere, Millesime)>) {
    t.str(
        "perimetre_emploi",
        rows.map(|(f, m)| PerimetreEmploi::of(f, m).as_str()),
    );
}

/// `donnee_source_type` and `donnee_source_code` of a row.
pub(crate) fn source_of(r: &Indicateur) -> (&'static str, Cow<'_, str>) {
    let kind = r.donnee_source.kind().as_str();
    match &*r.donnee_source {
        DonneeSource::Propre => (kind, Cow::Borrowed("")),
        DonneeSource::Continuum { codes, .. } | DonneeSource::FamilleMetiers { codes, .. } => {
            (kind, joined_codes(codes))
        }
    }
}

/// Source codes as `donnee_source_code` writes them, joined by `|`: a
/// single code (most rows the continuum fills) borrowed, not copied.
fn joined_codes(codes: &[Code]) -> Cow<'_, str> {
    match codes {
        [one] => Cow::Borrowed(one.as_str()),
        _ => Cow::Owned(codes.join("|")),
    }
}

/// The published counts up to six months (final year, leavers, further
/// study, employment at 6 months): the first counts of every table that has
/// counts, in this order.
pub(crate) fn six_month_count_columns<'c>(
    t: &mut OutTable,
    counts: impl Iterator<Item = &'c Counts> + Clone,
) {
    let count = |f: fn(&Counts) -> Option<i64>| counts.clone().map(f);
    t.int("nb_annee_term", count(|c| c.nb_annee_term))
        .int("nb_sortant", count(|c| c.nb_sortant))
        .int("nb_poursuite_etudes", count(|c| c.nb_poursuite_etudes))
        .int("nb_en_emploi_6_mois", count(|c| c.nb_en_emploi_6_mois));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One code as it is (borrowed), several joined by `|`, none empty.
    #[test]
    fn source_codes_are_joined_by_a_bar() {
        let codes: Vec<Code> = ["40025510", "40025511"].map(Code::from).to_vec();
        assert!(matches!(
            joined_codes(&codes[..1]),
            Cow::Borrowed("40025510")
        ));
        assert_eq!(joined_codes(&codes), "40025510|40025511");
        assert_eq!(joined_codes(&[]), "");
    }
}
