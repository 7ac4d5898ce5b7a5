//! The `coverage_offers` table: one row per offer, nothing dropped.

use crate::output::OutTable;
use crate::rules::filiere::Filiere;
use crate::staging::catalogues::Offre;

use super::index::Shown;
use super::model::{Status, Via};
use super::resolve::{Context, Outcome};
use super::Measured;
use crate::rules::niveau::NiveauGeographique;

/// The diploma level of the offer's code (the one shown, else its own),
/// `inconnu` when the referential does not say.
pub(super) fn niveau_of<'c>(o: &Offre, out: &Outcome, ctx: &Context<'c>) -> &'c str {
    let code = if out.code_certification.is_empty() {
        &o.code
    } else {
        &out.code_certification
    };
    ctx.referentiel
        .get(code.as_str())
        .map(|c| c.libelle_niveau_diplome.as_str())
        .filter(|l| !l.is_empty())
        .unwrap_or("inconnu")
}

pub(super) fn libelle_of(o: &Offre, out: &Outcome, ctx: &Context) -> String {
    if !o.libelle.is_empty() {
        return o.libelle.clone();
    }
    ctx.referentiel
        .get(out.code_certification.as_str())
        .map(|c| c.libelle.to_string())
        .unwrap_or_default()
}

/// The table's name.
pub const OFFERS_TABLE: &str = "coverage_offers";

/// The `coverage_offers` output table: one row per offer, nothing dropped
/// (`measured[i]` is `offers[i]`'s): the offer's columns, then what
/// coverage found, built side by side (a national catalogue's rows were a
/// third of the measuring thread's time, issue 13). Each half is long on
/// purpose: one call per published column, in the order of the table's
/// schema (the release's dictionary).
pub fn offers_table(offers: &[Offre], measured: &[Measured]) -> OutTable {
    let (mut t, found) = rayon::join(
        || offer_columns(offers, measured),
        || outcome_columns(measured),
    );
    t.columns.extend(found.columns);
    t
}

/// The columns that describe each offer, as the catalogue gives it (its
/// filière completed by its code's when the catalogue has none).
fn offer_columns(o: &[Offre], measured: &[Measured]) -> OutTable {
    let mut t = OutTable::new(OFFERS_TABLE);
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
                .zip(measured)
                .map(|(x, m)| x.filiere.or(m.outcome.filiere).map_or("", Filiere::as_str)),
        )
        .str(
            "academie_code",
            o.iter().map(|x| x.academie_code.as_deref().unwrap_or("")),
        )
        .str("academie_libelle", o.iter().map(|x| &x.academie_libelle))
        .str(
            "region_code",
            o.iter().map(|x| x.region_code.as_deref().unwrap_or("")),
        )
        .str("libelle", o.iter().map(|x| &x.libelle))
        .int("capacite", o.iter().map(|x| x.capacite))
        .str(
            "problemes",
            o.iter().map(|x| match x.problems.as_slice() {
                [] => std::borrow::Cow::Borrowed(""),
                [one] => std::borrow::Cow::Borrowed(one.as_str()),
                many => std::borrow::Cow::Owned(many.join("|")),
            }),
        );
    t
}

/// The columns that say what coverage found for each offer.
fn outcome_columns(measured: &[Measured]) -> OutTable {
    let r: Vec<&Outcome> = measured.iter().map(|m| &m.outcome).collect();
    let r = r.as_slice();
    let shown = |f: fn(&Shown) -> Option<i64>| r.iter().map(move |x| x.shown.as_ref().and_then(f));
    let mut t = OutTable::new(OFFERS_TABLE);
    t.str(
        "niveau_diplome",
        measured.iter().map(|m| match m.niveau {
            "inconnu" => "",
            n => n,
        }),
    )
    .str("status", r.iter().map(|x| x.status.as_str()))
    .bool("covered", r.iter().map(|x| x.status == Status::Covered))
    .str("via", r.iter().map(|x| x.via.map_or("", Via::as_str)))
    .str(
        "level",
        r.iter()
            .map(|x| x.level.map_or("", NiveauGeographique::as_str)),
    )
    .str(
        "code_certification",
        r.iter().map(|x| &x.code_certification),
    )
    .str(
        "millesime",
        r.iter().map(|x| {
            x.shown
                .as_ref()
                .map(|s| s.millesime.text())
                .unwrap_or_default()
        }),
    )
    .int("taux_en_emploi_6_mois", shown(|s| s.taux_en_emploi_6_mois))
    .int("taux_poursuite_etudes", shown(|s| s.taux_poursuite_etudes))
    .int("part_en_emploi_6_mois", shown(|s| s.part_en_emploi_6_mois))
    .str(
        "donnee_source_type",
        r.iter().map(|x| {
            x.shown
                .as_ref()
                .map_or("", |s| s.donnee_source_type.as_str())
        }),
    )
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
