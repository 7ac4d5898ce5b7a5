//! Staging of the InserJeunes extracts (DEPP / DARES): what becomes of the
//! students of lycées professionnels and of apprentices, per certification
//! (national, régional, per establishment) and per establishment as a whole.
//!
//! Each loader reads one file into a [`Staged`]: typed [`MesureRow`]s or
//! [`EtablissementRow`]s, and a [`Reject`] for every row it cannot use, so
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
//!     [`EtablissementRow`]; the `dont …` rows are counted in `skipped` by
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

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::hash::Hash;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::input::table::{header_key, RawRow};
use crate::input::{self, Col, DelimitedOptions, RawTable, Row};
use crate::rules::codes::{check_code, is_valid_uai, uai_check_letter, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::staging::mesures::{
    Counts, EtablissementRow, MesureRow, Niveau, Origin, Reject, Salaires, SourceRates, Staged,
};
use crate::staging::reference::Reference;

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

// ---------------------------------------------------------------------------
// Per certification: regional and national files.

/// Loads an InserJeunes regional file (`ij_region_data.csv`): one
/// [`MesureRow`] per millésime × filière × certification × région.
pub fn load_regional(path: &Path, reference: &Reference) -> Result<Staged> {
    load_certifications(path, Level::Region(reference))
}

/// Loads an InserJeunes national file: one [`MesureRow`] per millésime ×
/// filière × certification, with salaries where the file has them.
pub fn load_national(path: &Path) -> Result<Staged> {
    load_certifications(path, Level::National)
}

enum Level<'a> {
    National,
    Region(&'a Reference),
}

struct CertificationColumns {
    millesime: Col,
    voie: Col,
    cfd: Option<Col>,
    mefstat11: Option<Col>,
    code_region: Option<Col>,
    code_region_ij: Option<Col>,
    nb_annee_term: Col,
    nb_poursuite_etudes: Col,
    nb_sortant: Col,
    /// `nb_en_emploi_{6,12,18,24}_mois`.
    nb_en_emploi: [Col; 4],
    /// `taux_emploi_{6,12,18,24}_mois`.
    taux_emploi: [Col; 4],
    taux_poursuite_etudes: Col,
    /// `salaire_12_mois_q{1,2,3}`, optional.
    salaires: [Option<Col>; 3],
}

impl CertificationColumns {
    fn find(table: &RawTable, level: &Level) -> Result<CertificationColumns> {
        let [millesime, voie, nb_annee_term, nb_poursuite_etudes, nb_sortant, taux_poursuite_etudes] =
            table.columns([
                "millesime",
                "voie",
                "nb_annee_term",
                "nb_poursuite_etudes",
                "nb_sortant",
                "taux_poursuite_etudes",
            ])?;
        let cfd = table.optional_column("cfd");
        let mefstat11 = table.optional_column("mefstat11");
        if cfd.is_none() && mefstat11.is_none() {
            // Reported as the missing column `cfd`, with the columns found.
            table.column("cfd")?;
        }
        let (code_region, code_region_ij) = match level {
            Level::National => (None, None),
            Level::Region(_) => {
                let insee = table.optional_column("code_region");
                let ij = table.optional_column("code_region_ij");
                if insee.is_none() && ij.is_none() {
                    table.column("code_region")?;
                }
                (insee, ij)
            }
        };
        Ok(CertificationColumns {
            millesime,
            voie,
            cfd,
            mefstat11,
            code_region,
            code_region_ij,
            nb_annee_term,
            nb_poursuite_etudes,
            nb_sortant,
            nb_en_emploi: horizon_columns(table, "nb_en_emploi_{}_mois")?,
            taux_emploi: horizon_columns(table, "taux_emploi_{}_mois")?,
            taux_poursuite_etudes,
            salaires: [
                "salaire_12_mois_q1",
                "salaire_12_mois_q2",
                "salaire_12_mois_q3",
            ]
            .map(|name| table.optional_column(name)),
        })
    }
}

/// The four columns `pattern` names for 6, 12, 18 and 24 months (`{}` is the horizon).
fn horizon_columns(table: &RawTable, pattern: &str) -> Result<[Col; 4]> {
    let mut cols = Vec::with_capacity(4);
    for h in HORIZONS {
        cols.push(table.column(&pattern.replace("{}", &h.to_string()))?);
    }
    Ok(cols.try_into().expect("one column per horizon"))
}

fn load_certifications(path: &Path, level: Level) -> Result<Staged> {
    let table = input::read_table(path, &DelimitedOptions::default())?;
    let cols = CertificationColumns::find(&table, &level)?;
    let mut out = Collector::new(&table);
    let mut seen = Keys::default();
    for row in table.rows() {
        let staged = stage_certification(&row, &cols, &level, out.origin(&row));
        match staged {
            Ok(m) => {
                let key = (
                    m.millesime,
                    m.filiere,
                    m.code_certification.clone(),
                    m.niveau.clone(),
                );
                let what = || describe_key(&m);
                match seen.first(key, row.position(), what) {
                    Ok(()) => out.staged.rows.push(m),
                    Err(reason) => out.reject(&row, reason),
                }
            }
            Err(reason) => out.reject(&row, reason),
        }
    }
    Ok(out.finish())
}

fn describe_key(m: &MesureRow) -> String {
    let niveau = match &m.niveau {
        Niveau::National => "nationally".to_string(),
        Niveau::Region(code) => format!("in région {code}"),
        Niveau::Etablissement(uai) => format!("at {uai}"),
    };
    format!(
        "{} {} {} {niveau}",
        m.millesime, m.filiere, m.code_certification
    )
}

fn stage_certification(
    row: &Row,
    cols: &CertificationColumns,
    level: &Level,
    origin: Origin,
) -> Checked<MesureRow> {
    let millesime = parse_millesime(row.get(&cols.millesime))?;
    let filiere = parse_voie(row.get(&cols.voie))?;
    let (code_certification, code_certification_type) = certification_code(row, cols, filiere)?;
    let niveau = match level {
        Level::National => Niveau::National,
        Level::Region(reference) => Niveau::Region(resolve_region(
            reference,
            cols.code_region.as_ref().map_or("", |c| row.get(c)),
            cols.code_region_ij.as_ref().map_or("", |c| row.get(c)),
        )?),
    };
    let count = |col: &Col| parse_count(col.name(), row.get(col));
    let [e6, e12, e18, e24] = &cols.nb_en_emploi;
    let counts = Counts {
        nb_annee_term: count(&cols.nb_annee_term)?,
        nb_poursuite_etudes: count(&cols.nb_poursuite_etudes)?,
        nb_sortant: count(&cols.nb_sortant)?,
        nb_en_emploi_6_mois: count(e6)?,
        nb_en_emploi_12_mois: count(e12)?,
        nb_en_emploi_18_mois: count(e18)?,
        nb_en_emploi_24_mois: count(e24)?,
        nb_diplome: None,
    };
    check_counts(&counts)?;
    let rate = |col: &Col| parse_number(col.name(), row.get(col), &PERCENT);
    let [t6, t12, t18, t24] = &cols.taux_emploi;
    let source_rates = SourceRates {
        taux_en_emploi_6_mois: rate(t6)?,
        taux_en_emploi_12_mois: rate(t12)?,
        taux_en_emploi_18_mois: rate(t18)?,
        taux_en_emploi_24_mois: rate(t24)?,
        taux_poursuite_etudes: rate(&cols.taux_poursuite_etudes)?,
        ..SourceRates::default()
    };
    let salaire = |col: &Option<Col>| match col {
        Some(c) => parse_salaire(c.name(), row.get(c)),
        None => Ok(None),
    };
    let [q1, q2, q3] = &cols.salaires;
    let salaires = Salaires {
        salaire_12_mois_q1: salaire(q1)?,
        salaire_12_mois_q2: salaire(q2)?,
        salaire_12_mois_q3: salaire(q3)?,
    };
    check_quartiles(&salaires)?;
    Ok(MesureRow {
        millesime,
        filiere,
        code_certification,
        code_certification_type,
        niveau,
        counts,
        source_rates,
        salaires,
        libelle_etablissement: None,
        origin,
    })
}

/// The voie of an InserJeunes row: `scolaire` (pro), `apprentissage`, or
/// `agricole`; higher education is InserSup's, not InserJeunes's.
fn parse_voie(value: &str) -> Checked<Filiere> {
    match Filiere::parse(value) {
        Ok(Filiere::Superieur) => Err(reason(
            "unknown_voie",
            format!("\"{value}\" is higher education (InserSup), not an InserJeunes voie"),
        )),
        Ok(filiere) => Ok(filiere),
        Err(message) => Err(reason("unknown_voie", message)),
    }
}

/// The code a row is keyed by: the CFD for apprentissage, the MEF_STAT_11
/// for the voie scolaire. The other code column, if filled, is not read.
fn certification_code(
    row: &Row,
    cols: &CertificationColumns,
    filiere: Filiere,
) -> Checked<(String, CodeType)> {
    let code_type = filiere.code_type();
    let (col, other, name) = match code_type {
        CodeType::Cfd => (&cols.cfd, &cols.mefstat11, "cfd"),
        _ => (&cols.mefstat11, &cols.cfd, "mefstat11"),
    };
    let value = col.as_ref().map_or("", |c| row.get(c));
    if value.is_empty() {
        let hint = other
            .as_ref()
            .and_then(|c| row.opt(c))
            .map(|o| format!(" ({} holds \"{o}\": is the voie right?)", name_of(other)))
            .unwrap_or_default();
        return Err(reason(
            "missing_code",
            format!(
                "voie {filiere} is keyed by {}, but {name} is empty{hint}",
                code_type.expected()
            ),
        ));
    }
    check_code(code_type, value).map_err(|m| reason("invalid_code", format!("{name}: {m}")))?;
    Ok((value.to_string(), code_type))
}

fn name_of(col: &Option<Col>) -> &str {
    col.as_ref().map_or("", |c| c.name())
}

/// The INSEE code of a row's région, from `code_region` (INSEE) and
/// `code_region_ij` (InserJeunes's own codes).
fn resolve_region(reference: &Reference, insee: &str, ij: &str) -> Checked<String> {
    let by_insee = Some(insee)
        .filter(|c| !c.is_empty())
        .and_then(|c| reference.region(&two_digits(c)));
    let by_ij = Some(ij)
        .filter(|c| !c.is_empty())
        .and_then(|c| reference.region_by_ij(&two_digits(c)));
    match (by_insee, by_ij) {
        (Some(a), Some(b)) if a.code == b.code => Ok(a.code.clone()),
        (Some(a), Some(b)) => Err(reason(
            "region_mismatch",
            format!(
                "code_region \"{insee}\" is {} but code_region_ij \"{ij}\" is {} (INSEE {})",
                a.libelle, b.libelle, b.code
            ),
        )),
        (Some(a), None) if ij.is_empty() => Ok(a.code.clone()),
        (Some(a), None) => Err(reason(
            "unknown_region",
            format!(
                "code_region_ij \"{ij}\" is not an InserJeunes région code (code_region \"{insee}\" is {})",
                a.libelle
            ),
        )),
        (None, Some(b)) => Ok(b.code.clone()),
        (None, None) => Err(reason(
            "unknown_region",
            format!(
                "neither code_region \"{insee}\" (INSEE) nor code_region_ij \"{ij}\" (InserJeunes) is a known région"
            ),
        )),
    }
}

/// `1` → `01`: région codes have two digits; spreadsheets drop the zero.
fn two_digits(code: &str) -> String {
    if code.len() == 1 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{code}")
    } else {
        code.to_string()
    }
}

/// What the counts must satisfy whatever the source: no more in employment
/// than leavers, no more continuing or leaving than students in final year.
fn check_counts(c: &Counts) -> Checked<()> {
    let above = |tag: &str, a: (&str, Option<i64>), b: (&str, Option<i64>)| -> Checked<()> {
        match (a.1, b.1) {
            (Some(x), Some(y)) if x > y => {
                Err(reason(tag, format!("{} ({x}) is above {} ({y})", a.0, b.0)))
            }
            _ => Ok(()),
        }
    };
    let emplois = [
        c.nb_en_emploi_6_mois,
        c.nb_en_emploi_12_mois,
        c.nb_en_emploi_18_mois,
        c.nb_en_emploi_24_mois,
    ];
    for (h, emploi) in HORIZONS.iter().zip(emplois) {
        let name = format!("nb_en_emploi_{h}_mois");
        above(
            "emploi_above_sortants",
            (&name, emploi),
            ("nb_sortant", c.nb_sortant),
        )?;
    }
    above(
        "poursuite_above_annee_term",
        ("nb_poursuite_etudes", c.nb_poursuite_etudes),
        ("nb_annee_term", c.nb_annee_term),
    )?;
    above(
        "sortants_above_annee_term",
        ("nb_sortant", c.nb_sortant),
        ("nb_annee_term", c.nb_annee_term),
    )
}

fn check_quartiles(s: &Salaires) -> Checked<()> {
    let q = [
        s.salaire_12_mois_q1,
        s.salaire_12_mois_q2,
        s.salaire_12_mois_q3,
    ];
    let present: Vec<(usize, f64)> = q
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i + 1, v)))
        .collect();
    for pair in present.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        if a > b {
            return Err(reason(
                "salaire_quartiles_out_of_order",
                format!("salaire_12_mois_q{i} ({a}) is above salaire_12_mois_q{j} ({b})"),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Per establishment × certification: the open-data "formation fine" files.

/// The code columns a "formation fine" file may key its rows by, and the
/// filière each one means.
const FORMATION_CODE_COLUMNS: [(&str, Filiere); 4] = [
    ("Code formation mefstat11", Filiere::Pro),
    ("Code formation diplôme", Filiere::Apprentissage),
    ("Code formation apprentissage", Filiere::Apprentissage),
    ("Code diplôme", Filiere::Apprentissage),
];

/// Loads a data.education.gouv.fr "formation fine" file: one [`MesureRow`]
/// per millésime × establishment × certification, with the published rates
/// and no counts.
pub fn load_formations_etablissement(path: &Path, reference: &Reference) -> Result<Staged> {
    let table = input::read_table(path, &DelimitedOptions::default())?;
    let [annee, uai, taux_poursuite, taux_6] = table.columns([
        "Année",
        "UAI",
        "Taux poursuite études",
        "Taux emploi 6 mois",
    ])?;
    let libelle = table.optional_column("Libellé");
    let region = table.optional_column("Région");
    let optional = |names: [&str; 3]| names.map(|n| table.optional_column(n));
    let [taux_12, taux_18, taux_24] = optional([
        "Taux emploi 12 mois",
        "Taux emploi 18 mois",
        "Taux emploi 24 mois",
    ]);
    let [part_poursuite, part_emploi, part_autres] = optional([
        "DEVENIR Part poursuite études",
        "DEVENIR Part en emploi 6 mois",
        "DEVENIR Part autre situation 6 mois",
    ]);
    let (code_col, filiere) = formation_code_column(&table)?;
    let code_type = filiere.code_type();

    let mut out = Collector::new(&table);
    let mut seen = Keys::default();
    for row in table.rows() {
        let staged = (|| -> Checked<MesureRow> {
            let millesime = parse_millesime(row.get(&annee))?;
            let uai = parse_uai(row.get(&uai))?;
            check_region_name(reference, region.as_ref().map_or("", |c| row.get(c)))?;
            let code = row.get(&code_col);
            if code.is_empty() {
                return Err(reason(
                    "missing_code",
                    format!(
                        "{} is empty, expected {}",
                        code_col.name(),
                        code_type.expected()
                    ),
                ));
            }
            check_code(code_type, code)
                .map_err(|m| reason("invalid_code", format!("{}: {m}", code_col.name())))?;
            let rate = |col: &Col| parse_number(col.name(), row.get(col), &PERCENT);
            let opt_rate = |col: &Option<Col>| col.as_ref().map_or(Ok(None), rate);
            let source_rates = SourceRates {
                taux_en_emploi_6_mois: rate(&taux_6)?,
                taux_en_emploi_12_mois: opt_rate(&taux_12)?,
                taux_en_emploi_18_mois: opt_rate(&taux_18)?,
                taux_en_emploi_24_mois: opt_rate(&taux_24)?,
                taux_poursuite_etudes: rate(&taux_poursuite)?,
                part_en_emploi_6_mois: opt_rate(&part_emploi)?,
                part_poursuite_etudes: opt_rate(&part_poursuite)?,
                part_autres_situations_6_mois: opt_rate(&part_autres)?,
            };
            Ok(MesureRow {
                millesime,
                filiere,
                code_certification: code.to_string(),
                code_certification_type: code_type,
                niveau: Niveau::Etablissement(uai),
                counts: Counts::default(),
                source_rates,
                salaires: Salaires::default(),
                libelle_etablissement: libelle
                    .as_ref()
                    .and_then(|c| row.opt(c))
                    .map(str::to_string),
                origin: out.origin(&row),
            })
        })();
        match staged {
            Ok(m) => {
                let key = (
                    m.millesime,
                    m.filiere,
                    m.code_certification.clone(),
                    m.niveau.clone(),
                );
                match seen.first(key, row.position(), || describe_key(&m)) {
                    Ok(()) => out.staged.rows.push(m),
                    Err(reason) => out.reject(&row, reason),
                }
            }
            Err(reason) => out.reject(&row, reason),
        }
    }
    Ok(out.finish())
}

fn formation_code_column(table: &RawTable) -> Result<(Col, Filiere)> {
    let found: Vec<(Col, Filiere)> = FORMATION_CODE_COLUMNS
        .iter()
        .filter_map(|(name, filiere)| table.optional_column(name).map(|c| (c, *filiere)))
        .collect();
    let names = || {
        FORMATION_CODE_COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match found.as_slice() {
        [] => Err(Error::file(
            &table.path,
            format!(
                "missing the certification code column: expected one of {}; check that this is a formation-fine file",
                names()
            ),
        )),
        [(col, filiere)] => Ok((col.clone(), *filiere)),
        [first, rest @ ..] if rest.iter().all(|(_, f)| *f == first.1) => {
            Ok((first.0.clone(), first.1))
        }
        _ => Err(Error::file(
            &table.path,
            format!(
                "both a MEF_STAT_11 and a CFD code column ({}): the filière (pro or apprentissage) cannot be told; keep one",
                found
                    .iter()
                    .map(|(c, _)| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

// ---------------------------------------------------------------------------
// Per establishment: the open-data CFA file and the DEPP files.

/// Loads establishment-wide figures: the open-data layout
/// (`fr-en-inserjeunes-cfa.csv`) or a DEPP "valeur ajoutée" file
/// (`depp-2022-etablissements-2021_2022-pro.csv`), told apart by the header.
pub fn load_etablissements(path: &Path, reference: &Reference) -> Result<Staged> {
    let table = input::read_table(path, &DelimitedOptions::default())?;
    let filiere_hint = depp_file_name(path).ok().map(|(_, f)| f);
    let cols = detect_etablissement_columns(&table.headers, filiere_hint)
        .map_err(|m| Error::file(path, m))?;
    // The open-data layout has a millésime per row; a DEPP file's is in its name.
    let (file_millesime, filiere) = match (cols.layout, cols.annee) {
        (EtablissementLayout::OpenData, Some(_)) => (None, open_data_filiere(path)),
        _ => {
            let (m, f) = depp_file_name(path).map_err(|m| Error::file(path, m))?;
            (Some(m), f)
        }
    };

    let mut out = Collector::new(&table);
    let mut seen = Keys::default();
    for (row, raw) in table.rows().zip(table.rows.iter()) {
        let get = |i: usize| field(raw, i);
        if let Some(i) = cols.row_type {
            let row_type = get(i);
            if !row_type.eq_ignore_ascii_case("ensemble") {
                if row_type.to_lowercase().starts_with("dont") {
                    out.skip(format!("breakdown row \"{row_type}\""));
                } else {
                    out.reject(
                        &row,
                        reason(
                            "unknown_row_type",
                            format!(
                                "{} \"{row_type}\" is neither ensemble nor a \"dont …\" breakdown",
                                cols.name(&table.headers, i)
                            ),
                        ),
                    );
                }
                continue;
            }
        }
        let staged = (|| -> Checked<EtablissementRow> {
            let millesime = match (file_millesime, cols.annee) {
                (Some(m), _) => m,
                (None, i) => parse_millesime(i.map_or("", get))?,
            };
            let uai = parse_uai(get(cols.uai))?;
            let region_libelle = cols.region.map_or("", get);
            check_region_name(reference, region_libelle)?;
            let number = |i: Option<usize>, range: &RangeInclusive<f64>| match i {
                Some(i) => parse_number(cols.name(&table.headers, i), get(i), range),
                None => Ok(None),
            };
            let rates = SourceRates {
                taux_en_emploi_6_mois: number(Some(cols.taux_6), &PERCENT)?,
                taux_en_emploi_12_mois: number(cols.taux_12, &PERCENT)?,
                taux_en_emploi_18_mois: number(cols.taux_18, &PERCENT)?,
                taux_en_emploi_24_mois: number(cols.taux_24, &PERCENT)?,
                taux_poursuite_etudes: number(cols.taux_poursuite, &PERCENT)?,
                part_en_emploi_6_mois: number(cols.part_emploi, &PERCENT)?,
                part_poursuite_etudes: number(cols.part_poursuite, &PERCENT)?,
                part_autres_situations_6_mois: number(cols.part_autres, &PERCENT)?,
            };
            Ok(EtablissementRow {
                millesime,
                filiere,
                uai,
                libelle: cols.libelle.map_or("", get).to_string(),
                region_libelle: region_libelle.to_string(),
                rates,
                taux_en_emploi_6_mois_attendu: number(cols.taux_6_attendu, &PERCENT)?,
                valeur_ajoutee_6_mois: number(cols.valeur_ajoutee, &VALEUR_AJOUTEE)?,
                source: cols.layout.source(),
                origin: out.origin(&row),
            })
        })();
        match staged {
            Ok(e) => {
                let key = (e.millesime, e.filiere, e.uai.clone());
                let what = || format!("{} {} {}", e.millesime, e.filiere, e.uai);
                match seen.first(key, row.position(), what) {
                    Ok(()) => out.staged.etablissements.push(e),
                    Err(reason) => out.reject(&row, reason),
                }
            }
            Err(reason) => out.reject(&row, reason),
        }
    }
    Ok(out.finish())
}

/// Which header an establishment file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EtablissementLayout {
    /// data.education.gouv.fr (`Année;UAI;Libellé;Région;…`).
    OpenData,
    /// DEPP files from 2020_2021 on: every column named.
    DeppNamed,
    /// DEPP 2018_2019 and 2019_2020: some columns blank, read by position.
    DeppBlank,
}

impl EtablissementLayout {
    /// The publication a row comes from (part of the `etablissements` key:
    /// both publish some establishments, with different values).
    fn source(self) -> &'static str {
        match self {
            EtablissementLayout::OpenData => "open_data",
            EtablissementLayout::DeppNamed | EtablissementLayout::DeppBlank => {
                "depp_valeur_ajoutee"
            }
        }
    }
}

/// Where each field of an establishment file is, by column index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EtablissementColumns {
    layout: EtablissementLayout,
    annee: Option<usize>,
    uai: usize,
    libelle: Option<usize>,
    region: Option<usize>,
    /// `ensemble` / `dont …` (DEPP `pro` files).
    row_type: Option<usize>,
    taux_poursuite: Option<usize>,
    taux_6: usize,
    taux_6_attendu: Option<usize>,
    valeur_ajoutee: Option<usize>,
    taux_12: Option<usize>,
    taux_18: Option<usize>,
    taux_24: Option<usize>,
    part_poursuite: Option<usize>,
    part_emploi: Option<usize>,
    part_autres: Option<usize>,
}

impl EtablissementColumns {
    /// A column's name for messages; a blank one is named by what it was taken for.
    fn name<'a>(&self, headers: &'a [String], index: usize) -> &'a str {
        let name = headers.get(index).map_or("", |h| h.trim());
        if !name.is_empty() {
            return name;
        }
        let positional = [
            (self.row_type, "row type"),
            (self.taux_poursuite, "Taux poursuite études"),
            (self.taux_12, "Taux emploi 12 mois"),
            (self.taux_18, "Taux emploi 18 mois"),
            (self.taux_24, "Taux emploi 24 mois"),
        ];
        positional
            .iter()
            .find(|(i, _)| *i == Some(index))
            .map_or("(blank column)", |(_, n)| n)
    }
}

/// Finds the columns of an establishment file from its header.
/// `depp_filiere` is the filière the file name gives, for a DEPP file.
fn detect_etablissement_columns(
    headers: &[String],
    depp_filiere: Option<Filiere>,
) -> std::result::Result<EtablissementColumns, String> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    // Apostrophes may be typographic in a re-export.
    let find = |name: &str| {
        let key = header_key(name);
        keys.iter().position(|k| k.replace('’', "'") == key)
    };
    let blank = |i: usize| keys.get(i).is_some_and(|k| k.is_empty());

    if let Some(annee) = find("Année") {
        let uai = find("UAI").ok_or("missing required column UAI (open-data layout)")?;
        let taux_6 = find("Taux emploi 6 mois")
            .ok_or("missing required column Taux emploi 6 mois (open-data layout)")?;
        return Ok(EtablissementColumns {
            layout: EtablissementLayout::OpenData,
            annee: Some(annee),
            uai,
            libelle: find("Libellé"),
            region: find("Région"),
            row_type: None,
            taux_poursuite: find("Taux poursuite études"),
            taux_6,
            taux_6_attendu: find("Taux emploi 6 mois attendu"),
            valeur_ajoutee: find("VA emploi 6 mois"),
            taux_12: find("Taux emploi 12 mois"),
            taux_18: find("Taux emploi 18 mois"),
            taux_24: find("Taux emploi 24 mois"),
            part_poursuite: find("DEVENIR Part poursuite études"),
            part_emploi: find("DEVENIR Part en emploi 6 mois"),
            part_autres: find("DEVENIR Part autre situation 6 mois"),
        });
    }

    let expected = "expected the open-data header (Année;UAI;Libellé;Région;…;Taux emploi 6 mois;…) \
                    or a DEPP header (n°UAI de l'établissement;Libellé de l'établissement;Région;…;Taux;Taux attendu;Valeur ajoutée;…)";
    let uai = keys
        .iter()
        .position(|k| k.contains("uai"))
        .ok_or_else(|| format!("no UAI column: {expected}"))?;
    let taux_6 = find("Taux").ok_or_else(|| format!("no Taux column: {expected}"))?;
    let (Some(taux_6_attendu), Some(valeur_ajoutee)) =
        (find("Taux attendu"), find("Valeur ajoutée"))
    else {
        return Err(format!(
            "no Taux attendu or Valeur ajoutée column: {expected}"
        ));
    };
    let Some(filiere) = depp_filiere else {
        return Err("a DEPP header, but the file name does not give the millésime and the filière \
             (expected a name like depp-2022-etablissements-2021_2022-pro.csv or …-apprentissage.csv)"
            .to_string());
    };
    let region = find("Région");
    let layout = if keys.iter().any(|k| k.is_empty()) {
        EtablissementLayout::DeppBlank
    } else {
        EtablissementLayout::DeppNamed
    };
    let taux_poursuite = find("Taux de poursuite d'études")
        .or_else(|| (taux_6 > 0 && blank(taux_6 - 1)).then(|| taux_6 - 1));
    let row_type = match filiere {
        Filiere::Pro => {
            let after_region = region.map(|r| r + 1).filter(|&i| blank(i));
            Some(find("Dont apprentis en EPLE").or(after_region).ok_or(
                "a DEPP pro file needs the row-type column (Dont apprentis en EPLE, or the blank column after Région) to tell ensemble rows from breakdowns",
            )?)
        }
        _ => None,
    };
    // Blank columns right after Valeur ajoutée: employment at 12, 18, 24 months.
    let mut later = (valeur_ajoutee + 1..keys.len()).take_while(|&i| blank(i));
    let (taux_12, taux_18, taux_24) = (later.next(), later.next(), later.next());
    Ok(EtablissementColumns {
        layout,
        annee: None,
        uai,
        libelle: keys.iter().position(|k| k.starts_with("libellé")),
        region,
        row_type,
        taux_poursuite,
        taux_6,
        taux_6_attendu: Some(taux_6_attendu),
        valeur_ajoutee: Some(valeur_ajoutee),
        taux_12,
        taux_18,
        taux_24,
        part_poursuite: find("Part en poursuite d'études"),
        part_emploi: find("Part en emploi 6 mois après la sortie"),
        part_autres: find("Part des autres situations"),
    })
}

/// The millésime and filière of a DEPP file, from its name:
/// `depp-2022-etablissements-2021_2022-pro.csv` → 2021_2022, pro.
fn depp_file_name(path: &Path) -> std::result::Result<(Millesime, Filiere), String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_lowercase();
    let parts: Vec<&str> = stem.split('-').collect();
    let expected =
        "expected a name like depp-2022-etablissements-2021_2022-pro.csv or …-apprentissage.csv";
    let filiere = match parts.last() {
        Some(&"pro") => Filiere::Pro,
        Some(&"apprentissage") => Filiere::Apprentissage,
        _ => {
            return Err(format!(
                "cannot tell the filière from the file name: {expected}"
            ))
        }
    };
    let millesime = parts
        .iter()
        .filter(|p| p.contains('_'))
        .find_map(|p| Millesime::parse(p).ok())
        .ok_or_else(|| format!("cannot tell the millésime from the file name: {expected}"))?;
    Ok((millesime, filiere))
}

/// The open-data files are the CFAs' (apprentissage), unless the name says
/// it is the lycées' twin.
fn open_data_filiere(path: &Path) -> Filiere {
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_lowercase();
    if name.contains("lycee") {
        Filiere::Pro
    } else {
        Filiere::Apprentissage
    }
}

fn field(raw: &RawRow, index: usize) -> &str {
    raw.fields.get(index).unwrap_or("").trim()
}

// ---------------------------------------------------------------------------
// Shared pieces.

/// A row-level result: the error is a reject's reason.
type Checked<T> = std::result::Result<T, String>;

fn reason(tag: &str, message: impl Display) -> String {
    format!("{tag}: {message}")
}

/// Builds a [`Staged`] from one table's rows.
struct Collector {
    file: Arc<PathBuf>,
    staged: Staged,
}

impl Collector {
    fn new(table: &RawTable) -> Collector {
        Collector {
            file: Arc::new(table.path.clone()),
            staged: Staged {
                rows_read: table.len(),
                ..Staged::default()
            },
        }
    }

    fn origin(&self, row: &Row) -> Origin {
        Origin {
            file: Arc::clone(&self.file),
            line: row.position(),
        }
    }

    fn reject(&mut self, row: &Row, reason: String) {
        self.staged.rejects.push(Reject {
            file: Arc::clone(&self.file),
            line: row.position(),
            reason,
            raw: row.raw_text(),
        });
    }

    fn skip(&mut self, reason: String) {
        *self.staged.skipped.entry(reason).or_insert(0) += 1;
    }

    fn finish(self) -> Staged {
        debug_assert!(self.staged.balances(), "every row read is accounted for");
        self.staged
    }
}

/// The keys seen so far, with the line that holds each: the first row with
/// a key is kept, a later one is rejected naming the kept line.
struct Keys<K>(HashMap<K, u64>);

impl<K> Default for Keys<K> {
    fn default() -> Self {
        Keys(HashMap::new())
    }
}

impl<K: Hash + Eq> Keys<K> {
    fn first(&mut self, key: K, line: u64, what: impl FnOnce() -> String) -> Checked<()> {
        match self.0.entry(key) {
            Entry::Vacant(v) => {
                v.insert(line);
                Ok(())
            }
            Entry::Occupied(o) => Err(reason(
                "duplicate_key",
                format!(
                    "{} is already on line {} (the first row is kept)",
                    what(),
                    o.get()
                ),
            )),
        }
    }
}

fn parse_millesime(value: &str) -> Checked<Millesime> {
    Millesime::parse(value).map_err(|m| reason("unknown_millesime", m))
}

/// A UAI with its right check letter (upper-cased first).
fn parse_uai(value: &str) -> Checked<String> {
    let uai = value.to_ascii_uppercase();
    if is_valid_uai(&uai) {
        return Ok(uai);
    }
    let expected_letter = if uai.len() == 8 {
        uai.get(..7).and_then(uai_check_letter)
    } else {
        None
    };
    let detail = match expected_letter {
        _ if uai.is_empty() => "empty UAI".to_string(),
        Some(letter) => format!(
            "\"{value}\" has the wrong check letter (expected {}{letter})",
            &uai[..7]
        ),
        None => format!("\"{value}\" is not a UAI (7 digits and a check letter)"),
    };
    Err(reason("invalid_uai", detail))
}

/// A région as an establishment file names it (`AUVERGNE-RHONE-ALPES`):
/// empty, or a région the reference knows.
fn check_region_name(reference: &Reference, name: &str) -> Checked<()> {
    if name.is_empty() || reference.region_by_name(name).is_some() {
        Ok(())
    } else {
        Err(reason(
            "unknown_region",
            format!("Région \"{name}\" is not a known région name"),
        ))
    }
}

/// A count: a whole number (`12`, or `12.0` from a re-saved file), empty is `None`.
fn parse_count(name: &str, value: &str) -> Checked<Option<i64>> {
    if value.is_empty() {
        return Ok(None);
    }
    let n = match value.parse::<i64>() {
        Ok(n) => n,
        Err(_) => match value.parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => x as i64,
            _ => {
                return Err(reason(
                    "invalid_number",
                    format!("{name} \"{value}\" is not a whole number"),
                ))
            }
        },
    };
    if n < 0 {
        return Err(reason(
            "negative_count",
            format!("{name} is {n}; a count cannot be negative"),
        ));
    }
    Ok(Some(n))
}

/// A decimal written with `.` or `,`, spaces (thousands) ignored.
fn parse_decimal(value: &str) -> Option<f64> {
    let cleaned: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    cleaned.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Markers of a figure that is not published: `nd` (non diffusé: the DEPP
/// files from 2021_2022 on write it wherever a figure is missing, on about a
/// third of their rows), and InserSup's `ns` and `na`.
fn is_not_published(value: &str) -> bool {
    ["nd", "ns", "na"]
        .iter()
        .any(|m| value.eq_ignore_ascii_case(m))
}

/// A rate, share or valeur ajoutée within `range`; empty or not published is `None`.
fn parse_number(name: &str, value: &str, range: &RangeInclusive<f64>) -> Checked<Option<f64>> {
    if value.is_empty() || is_not_published(value) {
        return Ok(None);
    }
    let x = parse_decimal(value).ok_or_else(|| {
        reason(
            "invalid_number",
            format!("{name} \"{value}\" is not a number"),
        )
    })?;
    if !range.contains(&x) {
        return Err(reason(
            "rate_out_of_range",
            format!(
                "{name} is {x}, expected {} to {}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(Some(x))
}

/// A salary in euros (positive); empty is `None`.
fn parse_salaire(name: &str, value: &str) -> Checked<Option<f64>> {
    if value.is_empty() {
        return Ok(None);
    }
    match parse_decimal(value) {
        Some(x) if x >= 0.0 => Ok(Some(x)),
        Some(_) => Err(reason(
            "negative_value",
            format!("{name} is \"{value}\"; a salary cannot be negative"),
        )),
        None => Err(reason(
            "invalid_number",
            format!("{name} \"{value}\" is not an amount in euros"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONAL_HEADER: &str = "id;millesime;code_region_ij;code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes";

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/inserjeunes")
            .join(name)
    }

    /// Writes `text` to a file named `name` in a fresh temporary folder.
    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// A regional file holding `rows` under the real header.
    fn regional(rows: &[&str]) -> Staged {
        let text = format!("{REGIONAL_HEADER}\n{}\n", rows.join("\n"));
        let (_dir, path) = write("ij_region_data.csv", &text);
        let staged = load_regional(&path, &Reference::embedded()).unwrap();
        assert!(staged.balances());
        staged
    }

    /// The one reject of a one-row regional file.
    fn regional_reject(row: &str) -> String {
        let staged = regional(&[row]);
        assert_eq!(staged.rejects.len(), 1, "{row}: {:?}", staged.rows);
        staged.rejects[0].reason.clone()
    }

    // A good apprentissage row for IDF: 40 students, 12 go on, 28 leave.
    const GOOD: &str =
        "x;2021_2022;10;11;apprentissage;40025510;;40;18;19;20;15;12;28;64;68;71;54;30";

    #[test]
    fn regional_row_is_typed() {
        let staged = regional(&[GOOD]);
        assert_eq!(staged.rows.len(), 1);
        let m = &staged.rows[0];
        assert_eq!(m.millesime.to_string(), "2021_2022");
        assert_eq!(m.filiere, Filiere::Apprentissage);
        assert_eq!(m.code_certification, "40025510");
        assert_eq!(m.code_certification_type, CodeType::Cfd);
        assert_eq!(m.niveau, Niveau::Region("11".into()));
        assert_eq!(m.counts.nb_annee_term, Some(40));
        assert_eq!(m.counts.nb_sortant, Some(28));
        assert_eq!(m.counts.nb_en_emploi_6_mois, Some(15));
        assert_eq!(m.counts.nb_en_emploi_24_mois, Some(20));
        assert_eq!(m.source_rates.taux_en_emploi_6_mois, Some(54.0));
        assert_eq!(m.source_rates.taux_en_emploi_12_mois, Some(64.0));
        assert_eq!(m.source_rates.taux_poursuite_etudes, Some(30.0));
        assert_eq!(m.origin.line, 2);
    }

    #[test]
    fn scolaire_is_pro_keyed_by_mef_stat_11() {
        let staged = regional(&["x;2022_2023;01;84;scolaire;;23830025513;25;;;;;25;;;;;;100"]);
        let m = &staged.rows[0];
        assert_eq!(m.filiere, Filiere::Pro);
        assert_eq!(m.code_certification_type, CodeType::MefStat11);
        // nb_sortant empty stays empty: the stage fills it.
        assert_eq!(m.counts.nb_sortant, None);
        assert_eq!(m.counts.nb_poursuite_etudes, Some(25));
    }

    #[test]
    fn region_from_the_insee_code_or_the_inserjeunes_code() {
        let r = Reference::embedded();
        // InserJeunes 10 is Île-de-France, INSEE 11 (DOMAIN.md).
        assert_eq!(resolve_region(&r, "", "10"), Ok("11".to_string()));
        assert_eq!(resolve_region(&r, "11", ""), Ok("11".to_string()));
        assert_eq!(resolve_region(&r, "11", "10"), Ok("11".to_string()));
        assert_eq!(resolve_region(&r, "84", "01"), Ok("84".to_string()));
        assert_eq!(resolve_region(&r, "", "1"), Ok("84".to_string()));
        // An INSEE code that is not one falls back on the InserJeunes code.
        assert_eq!(resolve_region(&r, "99", "17"), Ok("52".to_string()));
        let staged = regional(&[GOOD.replace(";10;11;", ";10;;").as_str()]);
        assert_eq!(staged.rows[0].niveau, Niveau::Region("11".into()));
    }

    #[test]
    fn rejects_regions_that_disagree_or_are_unknown() {
        let reason = regional_reject(&GOOD.replace(";10;11;", ";01;11;"));
        assert!(reason.starts_with("region_mismatch: "), "{reason}");
        assert!(
            reason.contains("\"11\"") && reason.contains("\"01\""),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";10;11;", ";99;98;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";10;11;", ";;;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";10;11;", ";99;11;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
    }

    #[test]
    fn rejects_unknown_millesime_and_voie() {
        let reason = regional_reject(&GOOD.replace("2021_2022", "20x9"));
        assert!(
            reason.starts_with("unknown_millesime: \"20x9\" is not a millésime"),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace("apprentissage", "alternance"));
        assert!(reason.starts_with("unknown_voie: "), "{reason}");
        let reason = regional_reject(&GOOD.replace("apprentissage", "superieur"));
        assert!(reason.starts_with("unknown_voie: "), "{reason}");
    }

    #[test]
    fn rejects_missing_or_invalid_codes() {
        // Apprentissage keyed by a CFD, but only a MEF_STAT_11 is given.
        let reason = regional_reject(&GOOD.replace(";40025510;;", ";;23830025510;"));
        assert!(reason.starts_with("missing_code: "), "{reason}");
        assert!(reason.contains("23830025510"), "{reason}");
        // A MEF_STAT_11 in the cfd column.
        let reason = regional_reject(&GOOD.replace(";40025510;;", ";23830025510;;"));
        assert!(reason.starts_with("invalid_code: cfd: "), "{reason}");
        let reason = regional_reject(
            "x;2021_2022;10;11;scolaire;;2383002551;40;18;19;20;15;12;28;64;68;71;54;30",
        );
        assert!(reason.starts_with("invalid_code: mefstat11: "), "{reason}");
    }

    #[test]
    fn rejects_bad_counts() {
        let reason = regional_reject(&GOOD.replace(";40;18;", ";40.5;18;"));
        assert!(
            reason.starts_with("invalid_number: nb_annee_term"),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";40;18;", ";abc;18;"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";40;18;", ";40;-18;"));
        assert!(
            reason.starts_with("negative_count: nb_en_emploi_12_mois"),
            "{reason}"
        );
        // A re-saved file's `40.0` is still a whole number.
        let staged = regional(&[GOOD.replace(";40;18;", ";40.0;18;").as_str()]);
        assert_eq!(staged.rows[0].counts.nb_annee_term, Some(40));
    }

    #[test]
    fn rejects_inconsistent_counts() {
        // 29 in employment at 6 months out of 28 leavers.
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";29;12;28;"));
        assert_eq!(
            reason,
            "emploi_above_sortants: nb_en_emploi_6_mois (29) is above nb_sortant (28)"
        );
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";15;41;28;"));
        assert!(
            reason.starts_with("poursuite_above_annee_term: "),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";15;;41;"));
        assert!(
            reason.starts_with("sortants_above_annee_term: "),
            "{reason}"
        );
    }

    #[test]
    fn rejects_rates_outside_0_to_100() {
        let reason = regional_reject(&GOOD.replace(";54;30", ";154;30"));
        assert_eq!(
            reason,
            "rate_out_of_range: taux_emploi_6_mois is 154, expected 0 to 100"
        );
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;-1"));
        assert!(reason.starts_with("rate_out_of_range: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;n/a"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
        // Not published: missing.
        let staged = regional(&[GOOD.replace(";54;30", ";nd;30").as_str()]);
        assert_eq!(staged.rows[0].source_rates.taux_en_emploi_6_mois, None);
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;x"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
    }

    #[test]
    fn a_duplicate_key_keeps_the_first_row() {
        let other_region = GOOD.replace(";10;11;", ";01;84;");
        let scolaire =
            "x;2021_2022;10;11;scolaire;;23830025510;40;18;19;20;15;12;28;64;68;71;54;30";
        let staged = regional(&[GOOD, &other_region, scolaire, GOOD]);
        assert_eq!(staged.rows.len(), 3);
        assert_eq!(staged.rejects.len(), 1);
        let reject = &staged.rejects[0];
        assert_eq!(reject.line, 5);
        assert_eq!(
            reject.reason,
            "duplicate_key: 2021_2022 apprentissage 40025510 in région 11 is already on line 2 (the first row is kept)"
        );
        assert_eq!(reason_tag(&reject.reason), "duplicate_key");
    }

    #[test]
    fn a_missing_column_is_a_file_error() {
        let text = REGIONAL_HEADER.replace(";nb_sortant;", ";nb_sortants;") + "\n" + GOOD + "\n";
        let (_dir, path) = write("ij_region_data.csv", &text);
        let err = load_regional(&path, &Reference::embedded())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ij_region_data.csv") && err.contains("nb_sortant"),
            "{err}"
        );
        let err = load_regional(Path::new("/nonexistent/ij.csv"), &Reference::embedded());
        assert!(err.is_err());
    }

    #[test]
    fn regional_fixture() {
        let staged = load_regional(&fixture("ij_region_data.csv"), &Reference::embedded()).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows_read, 48);
        assert_eq!(staged.rows.len(), 44);
        let tags = rejects_by_tag(&staged.rejects);
        let expected: BTreeMap<String, usize> = [
            ("emploi_above_sortants", 1),
            ("negative_count", 1),
            ("unknown_millesime", 1),
            ("unknown_voie", 1),
        ]
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect();
        assert_eq!(tags, expected);
        // The source's rates are integer percentages, rounded half to even.
        for m in &staged.rows {
            let c = &m.counts;
            let pct = |n: Option<i64>, d: Option<i64>| {
                crate::rules::rates::percentage(n, d).map(|p| p as f64)
            };
            if m.source_rates.taux_en_emploi_6_mois.is_some() {
                assert_eq!(
                    m.source_rates.taux_en_emploi_6_mois,
                    pct(c.nb_en_emploi_6_mois, c.nb_sortant),
                    "{m:?}"
                );
            }
            if m.source_rates.taux_poursuite_etudes.is_some() {
                assert_eq!(
                    m.source_rates.taux_poursuite_etudes,
                    pct(c.nb_poursuite_etudes, c.nb_annee_term),
                    "{m:?}"
                );
            }
        }
        let regions: std::collections::BTreeSet<_> =
            staged.rows.iter().map(|m| m.niveau.clone()).collect();
        assert_eq!(regions.len(), 4);
    }

    #[test]
    fn national_fixture_with_salaries() {
        let staged = load_national(&fixture("national.csv")).unwrap();
        assert!(staged.balances());
        assert_eq!((staged.rows.len(), staged.rejects.len()), (7, 0));
        assert!(staged.rows.iter().all(|m| m.niveau == Niveau::National));
        assert!(staged
            .rows
            .iter()
            .all(|m| m.millesime.to_string() == "2023"));
        let cap = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "24120022140")
            .unwrap();
        // Decimal comma.
        assert_eq!(cap.salaires.salaire_12_mois_q1, Some(1290.5));
        assert_eq!(cap.salaires.salaire_12_mois_q3, Some(1575.25));
        let bac = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "40025513")
            .unwrap();
        assert_eq!(bac.salaires.salaire_12_mois_q1, Some(1450.5));
        let small = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "46321218")
            .unwrap();
        assert_eq!(small.salaires, Salaires::default());
        assert!(small.source_rates.is_empty());
    }

    #[test]
    fn national_salaries_are_checked() {
        let header = "millesime;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes;salaire_12_mois_q1;salaire_12_mois_q2;salaire_12_mois_q3";
        let text = format!(
            "{header}\n\
             2023;apprentissage;40025513;;980;520;;;470;250;730;71;;;64;26;1 450,5;1602;1790\n\
             2023;apprentissage;50022140;;1210;610;;;560;310;900;68;;;62;26;1380;abc;1690\n\
             2023;apprentissage;50022141;;1210;610;;;560;310;900;68;;;62;26;1380;1700;1690\n\
             2023;apprentissage;40025513;;1;;;;;;;;;;;;;;\n"
        );
        let (_dir, path) = write("national.csv", &text);
        let staged = load_national(&path).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows[0].salaires.salaire_12_mois_q1, Some(1450.5));
        let tags: Vec<&str> = staged
            .rejects
            .iter()
            .map(|r| reason_tag(&r.reason))
            .collect();
        assert_eq!(
            tags,
            [
                "invalid_number",
                "salaire_quartiles_out_of_order",
                "duplicate_key"
            ]
        );
        assert!(staged.rejects[2].reason.contains("nationally"));
    }

    #[test]
    fn formation_fine_fixture() {
        let staged = load_formations_etablissement(
            &fixture("formation_fine_lycee_pro.csv"),
            &Reference::embedded(),
        )
        .unwrap();
        assert!(staged.balances());
        assert_eq!((staged.rows.len(), staged.rejects.len()), (9, 1));
        assert!(staged.rejects[0]
            .reason
            .starts_with("invalid_uai: \"0750508W\""));
        assert!(staged.rejects[0].reason.contains("0750508V"));
        let m = &staged.rows[0];
        assert_eq!(m.filiere, Filiere::Pro);
        assert_eq!(m.millesime.to_string(), "2022_2023");
        assert_eq!(m.niveau, Niveau::Etablissement("0690046A".into()));
        assert_eq!(
            m.libelle_etablissement.as_deref(),
            Some("Lycée professionnel des Canuts")
        );
        assert!(m.counts.is_empty());
        assert_eq!(m.source_rates.part_poursuite_etudes, Some(37.0));
        assert_eq!(m.source_rates.part_en_emploi_6_mois, Some(30.0));
        assert_eq!(m.source_rates.part_autres_situations_6_mois, Some(33.0));
        assert_eq!(m.source_rates.taux_en_emploi_6_mois, Some(48.0));
        // Floats written `40.0`.
        assert_eq!(
            staged.rows[2].source_rates.taux_poursuite_etudes,
            Some(40.0)
        );
        // Under the threshold: a row with no rate at all.
        assert!(staged.rows[4].source_rates.is_empty());
    }

    #[test]
    fn formation_fine_cfa_twin_is_keyed_by_cfd() {
        let text = "Année;UAI;Libellé;Région;Code formation diplôme;Taux poursuite études;Taux emploi 6 mois\n\
                    cumul 2023-2024;0690122H;CFA;AUVERGNE-RHONE-ALPES;40025513;31.0;72.0\n\
                    cumul 2023-2024;0690122H;CFA;AUVERGNE-RHONE-ALPES;23830025513;31.0;72.0\n\
                    cumul 2023-2024;0690122H;CFA;ATLANTIDE;40025516;31.0;72.0\n";
        let (_dir, path) = write("cfa-formation-fine.csv", text);
        let staged = load_formations_etablissement(&path, &Reference::embedded()).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows[0].filiere, Filiere::Apprentissage);
        assert_eq!(staged.rows[0].code_certification_type, CodeType::Cfd);
        let tags: Vec<&str> = staged
            .rejects
            .iter()
            .map(|r| reason_tag(&r.reason))
            .collect();
        assert_eq!(tags, ["invalid_code", "unknown_region"]);

        let both = "Année;UAI;Code formation mefstat11;Code diplôme;Taux poursuite études;Taux emploi 6 mois\n";
        let (_dir, path) = write("both.csv", both);
        let err = load_formations_etablissement(&path, &Reference::embedded()).unwrap_err();
        assert!(err.to_string().contains("cannot be told"), "{err}");
    }

    #[test]
    fn uai_check_letter() {
        assert_eq!(parse_uai("0690046A"), Ok("0690046A".to_string()));
        assert_eq!(parse_uai("0690046a"), Ok("0690046A".to_string()));
        assert_eq!(
            parse_uai("0690046B").unwrap_err(),
            "invalid_uai: \"0690046B\" has the wrong check letter (expected 0690046A)"
        );
        assert!(parse_uai("069004A").unwrap_err().contains("is not a UAI"));
        assert_eq!(parse_uai("").unwrap_err(), "invalid_uai: empty UAI");
    }

    #[test]
    fn cfa_open_data_fixture() {
        let staged = load_etablissements(
            &fixture("fr-en-inserjeunes-cfa.csv"),
            &Reference::embedded(),
        )
        .unwrap();
        assert!(staged.balances());
        assert_eq!((staged.etablissements.len(), staged.rejects.len()), (7, 1));
        assert!(staged.rejects[0]
            .reason
            .starts_with("invalid_uai: \"0691696T\""));
        let e = &staged.etablissements[1];
        assert_eq!(e.filiere, Filiere::Apprentissage);
        assert_eq!(e.millesime.to_string(), "2023_2024");
        assert_eq!(e.uai, "0754475G");
        assert_eq!(e.region_libelle, "ILE-DE-FRANCE");
        assert_eq!(e.rates.taux_en_emploi_6_mois, Some(71.0));
        assert_eq!(e.rates.part_en_emploi_6_mois, Some(55.0));
        assert_eq!(e.taux_en_emploi_6_mois_attendu, Some(75.0));
        assert_eq!(e.valeur_ajoutee_6_mois, Some(-4.0));
        assert_eq!(e.rates.taux_en_emploi_18_mois, None);
        // A row with no figures is kept, every rate None.
        assert!(staged.etablissements[2].rates.is_empty());
        let old = &staged.etablissements[5];
        assert_eq!(old.millesime.to_string(), "2018_2019");
        assert_eq!(old.rates.taux_en_emploi_24_mois, Some(78.0));
    }

    #[test]
    fn depp_blank_header_year_is_read_by_position() {
        let headers: Vec<String> = "n°UAI de l'établissement;Libellé de l'établissement;Région;;;Taux;Taux attendu;Valeur ajoutée;;;"
            .split(';')
            .map(String::from)
            .collect();
        let c = detect_etablissement_columns(&headers, Some(Filiere::Apprentissage)).unwrap();
        assert_eq!(c.layout, EtablissementLayout::DeppBlank);
        assert_eq!((c.uai, c.libelle, c.region), (0, Some(1), Some(2)));
        assert_eq!(c.row_type, None);
        assert_eq!(c.taux_poursuite, Some(4));
        assert_eq!(
            (c.taux_6, c.taux_6_attendu, c.valeur_ajoutee),
            (5, Some(6), Some(7))
        );
        assert_eq!(
            (c.taux_12, c.taux_18, c.taux_24),
            (Some(8), Some(9), Some(10))
        );
        assert_eq!(c.part_poursuite, None);
        // The same header in a pro file: the column after Région is the row type.
        let c = detect_etablissement_columns(&headers, Some(Filiere::Pro)).unwrap();
        assert_eq!(c.row_type, Some(3));
        assert_eq!(c.name(&headers, 8), "Taux emploi 12 mois");
    }

    #[test]
    fn depp_named_header_year() {
        let headers: Vec<String> = "n°UAI de l'établissement;Libellé de l'établissement;Région;Dont apprentis en EPLE;Taux de poursuite d'études;Taux;Taux attendu;Valeur ajoutée;Part en poursuite d'études;Part en emploi 6 mois après la sortie;Part des autres situations "
            .split(';')
            .map(String::from)
            .collect();
        let c = detect_etablissement_columns(&headers, Some(Filiere::Pro)).unwrap();
        assert_eq!(c.layout, EtablissementLayout::DeppNamed);
        assert_eq!(c.row_type, Some(3));
        assert_eq!((c.taux_poursuite, c.taux_6), (Some(4), 5));
        assert_eq!((c.taux_12, c.taux_18, c.taux_24), (None, None, None));
        assert_eq!(
            (c.part_poursuite, c.part_emploi, c.part_autres),
            (Some(8), Some(9), Some(10))
        );
        // Neither layout.
        let other: Vec<String> = vec!["a".into(), "b".into()];
        assert!(detect_etablissement_columns(&other, None).is_err());
    }

    #[test]
    fn depp_file_names() {
        let (m, f) =
            depp_file_name(Path::new("x/depp-2022-etablissements-2021_2022-pro.csv")).unwrap();
        assert_eq!((m.to_string().as_str(), f), ("2021_2022", Filiere::Pro));
        let (m, f) = depp_file_name(Path::new(
            "depp-2022-etablissements-2018_2019-apprentissage.csv",
        ))
        .unwrap();
        assert_eq!(
            (m.to_string().as_str(), f),
            ("2018_2019", Filiere::Apprentissage)
        );
        assert!(depp_file_name(Path::new("depp-2022-etablissements-pro.csv")).is_err());
        assert!(depp_file_name(Path::new("depp-2022-2021_2022-agricole.csv")).is_err());
    }

    #[test]
    fn depp_pro_keeps_the_ensemble_row() {
        let staged = load_etablissements(
            &fixture("depp-2022-etablissements-2019_2020-pro.csv"),
            &Reference::embedded(),
        )
        .unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows_read, 8);
        assert_eq!((staged.etablissements.len(), staged.rejects.len()), (4, 0));
        let skipped: Vec<(&str, usize)> = staged
            .skipped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            skipped,
            [
                ("breakdown row \"dont apprentis\"", 2),
                ("breakdown row \"dont élèves en voie pro sco\"", 2)
            ]
        );
        let e = &staged.etablissements[0];
        assert_eq!((e.uai.as_str(), e.filiere), ("0690046A", Filiere::Pro));
        assert_eq!(e.millesime.to_string(), "2019_2020");
        assert_eq!(e.rates.taux_poursuite_etudes, Some(38.0));
        assert_eq!(e.rates.taux_en_emploi_6_mois, Some(45.0));
        assert_eq!(e.taux_en_emploi_6_mois_attendu, Some(43.0));
        assert_eq!(e.valeur_ajoutee_6_mois, Some(2.0));
        assert_eq!(e.rates.taux_en_emploi_12_mois, Some(52.0));
        assert_eq!(staged.etablissements[1].valeur_ajoutee_6_mois, Some(-3.0));
        assert!(staged.etablissements[3].rates.is_empty());
    }

    #[test]
    fn depp_apprentissage_named_fixture() {
        let staged = load_etablissements(
            &fixture("depp-2022-etablissements-2022_2023-apprentissage.csv"),
            &Reference::embedded(),
        )
        .unwrap();
        assert!(staged.balances());
        assert_eq!((staged.etablissements.len(), staged.rejects.len()), (4, 1));
        assert_eq!(reason_tag(&staged.rejects[0].reason), "invalid_uai");
        let e = &staged.etablissements[0];
        assert_eq!(
            (e.filiere, e.millesime.to_string()),
            (Filiere::Apprentissage, "2022_2023".into())
        );
        assert_eq!(e.rates.part_en_emploi_6_mois, Some(49.0));
        assert_eq!(e.rates.part_autres_situations_6_mois, Some(21.0));
        assert_eq!(e.rates.taux_en_emploi_12_mois, None);
        // `nd` (non diffusé) is missing, not a reject.
        let nd = &staged.etablissements[2];
        assert_eq!(nd.uai, "0441552Y");
        assert!(nd.rates.is_empty() && nd.valeur_ajoutee_6_mois.is_none());
        let partly = &staged.etablissements[3];
        assert_eq!(partly.rates.taux_en_emploi_6_mois, None);
        assert_eq!(partly.rates.part_en_emploi_6_mois, Some(37.0));
    }

    #[test]
    fn etablissement_rejects() {
        let header = "n°UAI de l'établissement;Libellé de l'établissement;Région;Dont apprentis en EPLE;Taux de poursuite d'études;Taux;Taux attendu;Valeur ajoutée;Part en poursuite d'études;Part en emploi 6 mois après la sortie;Part des autres situations";
        let text = format!(
            "{header}\n\
             0690046A;L;AUVERGNE-RHONE-ALPES;ensemble;38;45;43;2;38;30;32\n\
             0690046A;L;AUVERGNE-RHONE-ALPES;ensemble;38;45;43;2;38;30;32\n\
             0750508V;L;ILE-DE-FRANCE;ensemble;38;145;43;2;38;30;32\n\
             0440029T;L;PAYS DE LA LOIRE;ensemble;38;45;43;-102;38;30;32\n\
             9710003B;L;GUADELOUPE;total;38;45;43;2;38;30;32\n\
             0754475G;L;ILE-DE-FRANCE;ensemble;38;45;43;-12;38;30;32\n"
        );
        let (_dir, path) = write("depp-2022-etablissements-2021_2022-pro.csv", &text);
        let staged = load_etablissements(&path, &Reference::embedded()).unwrap();
        assert!(staged.balances());
        let tags: Vec<&str> = staged
            .rejects
            .iter()
            .map(|r| reason_tag(&r.reason))
            .collect();
        assert_eq!(
            tags,
            [
                "duplicate_key",
                "rate_out_of_range",
                "rate_out_of_range",
                "unknown_row_type"
            ]
        );
        // A negative valeur ajoutée is fine.
        assert_eq!(
            staged.etablissements.last().unwrap().valeur_ajoutee_6_mois,
            Some(-12.0)
        );

        let text = "Année;UAI;Libellé;Région;Taux emploi 6 mois\n\
                    cumul 20x9;0690122H;CFA;AUVERGNE-RHONE-ALPES;72.0\n";
        let (_dir, path) = write("fr-en-inserjeunes-cfa.csv", text);
        let staged = load_etablissements(&path, &Reference::embedded()).unwrap();
        assert_eq!(reason_tag(&staged.rejects[0].reason), "unknown_millesime");

        // A DEPP header in a file whose name does not give the millésime.
        let (_dir, path) = write("valeur_ajoutee.csv", &format!("{header}\n"));
        assert!(load_etablissements(&path, &Reference::embedded()).is_err());
    }
}
