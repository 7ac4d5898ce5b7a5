//! Staging of the InserJeunes extracts (DEPP / DARES): what becomes of the
//! students of lycées professionnels and of apprentices, per certification
//! (national, régional, per establishment) and per establishment as a whole.
//!
//! Each loader reads one file into a [`Staged`](crate::staging::mesures::Staged):
//! typed [`MesureRow`](crate::staging::mesures::MesureRow)s or
//! [`EtablissementRow`](crate::staging::mesures::EtablissementRow)s, and a [`Reject`] for every row it cannot use, so
//! that rows read = rows + etablissements + rejects + skipped. An unreadable
//! file or a missing required column is an `Err` naming the file. Loaders do
//! not compute rates, fill `nb_sortant` or apply the diffusion threshold: the
//! indicators stage does, from the counts kept here as the source wrote them.
//!
//! A reject's reason starts with a short tag (`unknown_millesime`,
//! `unknown_voie`, `missing_code`, `invalid_code`, `unknown_region`,
//! `region_mismatch`, `invalid_number` (a count that is not a whole number,
//! a rate or salary that is not a number), `negative_count`, `negative_value`
//! (a salary), `emploi_above_sortants`, `poursuite_above_annee_term`,
//! `sortants_above_annee_term`, `rate_out_of_range`,
//! `salaire_quartiles_out_of_order`, `invalid_uai`, `unknown_row_type`,
//! `duplicate_key`; the tags shared with `insersup.rs` mean the same), then a
//! colon and the detail. Only the first problem of a row is reported.
//! [`reason_tag`] reads the tag back to count rejects by reason.
//!
//! # Layouts
//!
//! - [`load_regional`]: the InserJeunes API's `/region/{code}/millesime/{m}`
//!   results flattened (`ij_region_data.csv`): `id;millesime;code_region_ij;
//!   code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_{12,18,24}_mois;
//!   nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_{12,18,24}_mois;
//!   taux_emploi_6_mois;taux_poursuite_etudes` (columns are found by name, in
//!   any order; `id` is not read). InserJeunes région codes are not INSEE
//!   codes (`10` is Île-de-France, INSEE `11`): `code_region` is used when it
//!   is a known INSEE code, otherwise `code_region_ij` is mapped; when both are
//!   given they must agree. A one-digit code (`1`, a spreadsheet's doing) is
//!   read as `01`.
//! - [`load_national`]: InserJeunes national figures per certification. No
//!   real file exists in the team's data; the layout is the regional one
//!   without `id`, `code_region_ij` and `code_region`, plus three optional
//!   salary columns (net monthly euros at 12 months, `.` or `,` decimals):
//!   `millesime;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_{6,12,18,24}_mois;
//!   nb_poursuite_etudes;nb_sortant;taux_emploi_{6,12,18,24}_mois;
//!   taux_poursuite_etudes[;salaire_12_mois_q1;salaire_12_mois_q2;salaire_12_mois_q3]`.
//!   National millésimes are single years (`2023`).
//! - [`load_formations_etablissement`]: the data.education.gouv.fr "formation fine"
//!   (`fr-en-inserjeunes-lycee_pro-formation-fine`): `Année;UAI;Libellé;Région;
//!   Type diplome;Libellé formation;Code formation mefstat11;Durée formation;
//!   Diplôme rénové ou nouveau;DEVENIR Part poursuite études;DEVENIR Part en
//!   emploi 6 mois;DEVENIR Part autre situation 6 mois;Taux poursuite études;
//!   Taux emploi {6,12,18,24} mois`. Its CFA twin names the code column
//!   `Code formation diplôme`, `Code formation apprentissage` or `Code
//!   diplôme` (a CFD, filière apprentissage); `Code formation mefstat11` means
//!   filière pro. A file with both kinds of code column is refused: its
//!   filière cannot be told. Rates only, no counts. `Type diplome`, `Libellé
//!   formation`, `Durée formation` and `Diplôme rénové ou nouveau` are not
//!   read (the BCN says the same, keyed by the code).
//! - [`load_etablissements`]: establishment-wide figures, two layouts told
//!   apart by their header:
//!   - the open-data layout (`fr-en-inserjeunes-cfa.csv`, a header with
//!     `Année`): `Année;UAI;Libellé;Région;DEVENIR Part poursuite études;
//!     DEVENIR Part en emploi 6 mois;DEVENIR Part autre situation 6 mois;Part
//!     contrats apprentissage interrompus;Taux poursuite études;Taux emploi 6
//!     mois;Taux emploi 6 mois attendu;VA emploi 6 mois;Taux emploi {12,18,24}
//!     mois;num_ligne`, numbers written as floats (`30.0`). Filière
//!     apprentissage, unless the file name says `lycee` (the per-lycée twin,
//!     assumed to share the layout): then pro. `Part contrats apprentissage
//!     interrompus` and `num_ligne` have no place in the model and are not read.
//!   - the DEPP "valeur ajoutée" files (`depp-2022-etablissements-2021_2022-pro.csv`):
//!     the millésime and the filière come from the file name (`…-2021_2022-pro`
//!     → 2021_2022, pro; `…-apprentissage` → apprentissage). Their headers
//!     change with the year, see below. `pro` files hold several rows per UAI
//!     (`ensemble`, `dont élèves en voie pro sco`, `dont apprentis`): the
//!     `ensemble` row is the establishment's headline and becomes the
//!     `EtablissementRow`; the `dont …` rows are counted in `skipped` by
//!     their label.
//!
//! # The DEPP headers, year by year
//!
//! From 2020_2021 on, the header names every column: `n°UAI de
//! l'établissement;Libellé de l'établissement;Région;[Dont apprentis en EPLE;]
//! Taux de poursuite d'études;Taux;Taux attendu;Valeur ajoutée;Part en
//! poursuite d'études;Part en emploi 6 mois après la sortie;Part des autres
//! situations` (`Dont apprentis en EPLE`, in `pro` files only, holds the row
//! type; `Taux` is the employment rate at 6 months).
//!
//! The 2018_2019 and 2019_2020 files apparently come from spreadsheets with
//! a two-row header of which only one row was kept (the copies we have hold
//! a single header line): only `Taux;Taux attendu;Valeur ajoutée`
//! (and `Dont apprentis en EPLE` in 2019_2020 `pro`) are named, the other
//! columns are blank. Their meaning was worked out on the real files:
//! - 2018_2019 (11 columns): `UAI;Libellé;Région;X;<blank>;Taux;Taux
//!   attendu;Valeur ajoutée;<blank>;<blank>;<blank>`. Matching the
//!   `apprentissage` file with the open-data CFA file (`cumul 2018-2019`, same
//!   UAIs) agrees on all 851 rows for every column when X is `Part contrats
//!   apprentissage interrompus`, the blank before `Taux` is `Taux poursuite
//!   études`, and the three blanks after `Valeur ajoutée` are `Taux emploi
//!   12, 18, 24 mois`. In `pro` files X holds the row type (`ensemble`, `dont
//!   …`); the other columns are read the same way (no open data to match
//!   there, but on 85% of the rows the 12-month rate is at least the 6-month
//!   one and the 24-month one at least the 12-month one, as expected).
//! - 2019_2020 (9 columns): the same up to `Valeur ajoutée`, then one blank:
//!   `Taux emploi 12 mois` (it matches the open-data 12-month rate on 767 of
//!   the 1,040 common CFAs, the 18- and 24-month rates on 103 and 52; it is
//!   not the `Part en poursuite d'études`, which would equal the continuation
//!   rate). X is always empty in the `apprentissage` file.
//!
//! So a blank-header file is read positionally around the named `Taux`
//! column: the blank column just before it is `Taux poursuite études`, the
//! blank columns just after `Valeur ajoutée` are the 12-, 18- and 24-month
//! rates in that order, and in a `pro` file the column after `Région` is the
//! row type. `Part contrats apprentissage interrompus` is not read. A copy
//! that kept the second header line too would show it as an `invalid_uai`
//! reject on line 2.
//!
//! In the establishment files (formation fine, open data, DEPP), the UAI must
//! have its right check letter (`invalid_uai`), and a non-empty `Région` must
//! be a région the reference knows by name (`unknown_region`); it is kept as
//! written.
//!
//! Rates are percentages in 0..=100; the valeur ajoutée (observed rate minus
//! the rate expected for the establishment's intake) lies in -100..=100. An
//! empty rate, or one written `nd` (non diffusé, as the DEPP files from
//! 2021_2022 on write every missing figure), is `None`.

mod certifications;
mod etablissements;
mod fields;
mod formations;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use crate::staging::mesures::Reject;

pub use certifications::{load_national, load_regional};
pub use etablissements::load_etablissements;
pub use formations::load_formations_etablissement;

/// The horizons, in months, of the employment figures.
const HORIZONS: [u32; 4] = [6, 12, 18, 24];

/// A rate or share, in percent.
const PERCENT: RangeInclusive<f64> = 0.0..=100.0;

/// A valeur ajoutée: a difference of two percentages.
const VALEUR_AJOUTEE: RangeInclusive<f64> = -100.0..=100.0;

/// The tag of a reject's reason (`unknown_millesime` in
/// `unknown_millesime: "20x9" is not a millésime…`), to count rejects by reason.
pub fn reason_tag(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason).trim()
}

/// Rejects counted by the tag of their reason.
pub fn rejects_by_tag(rejects: &[Reject]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in rejects {
        *counts.entry(reason_tag(&r.reason).to_string()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod test_support {
    use std::path::{Path, PathBuf};

    pub(super) fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/inserjeunes")
            .join(name)
    }

    /// Writes `text` to a file named `name` in a fresh temporary folder.
    pub(super) fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }
}
