//! Staging of the InserSup (SIES) extracts: what becomes of higher-education
//! students, per establishment (UAI) and diploma (SISE code), read into the
//! staged model of `mesures.rs`. No joins: whether a SISE code is in the BCN
//! or a UAI in the ACCE is for later stages to say.
//!
//! # Layouts
//!
//! Two layouts are read, told apart by their columns (`annee_universitaire`
//! → API, else `promo` or its label → open data; neither is an error):
//!
//! - **open data** (`fr-esr-insersup`, `;`-separated CSV, or its JSON export):
//!   one row per establishment × diploma × breakdown. Only the headline row,
//!   whose `genre`, `nationalite`, `regime_inscription` and `obtention_diplome`
//!   all read `ensemble`, is kept; the others are counted in `skipped` under
//!   [`SKIP_BREAKDOWN`], unchecked (they are not used). A breakdown column
//!   absent from the file counts as `ensemble`.
//! - **API** (the InserSup/Omogen API: `{"results": [...]}`, as in
//!   `../shared/data/real/insersup/`): one row per establishment × diploma,
//!   no breakdown.
//!
//! The open data are read by their field ids; a file exported with label
//! headers is also read where the label is known (from SOURCES.md and a public
//! reuse of the file). Case, spaces and `’`/`'` are ignored:
//!
//! | label | field id |
//! |---|---|
//! | `Code UAI de l'établissement` | `etablissement` |
//! | `Établissement` | `denomination_principale` |
//! | `Genre`, `Nationalité`, `Régime d'inscription`, `Obtention du diplôme` | `genre`, `nationalite`, `regime_inscription`, `obtention_diplome` |
//! | `Promotion`, `Année(s) d'obtention du diplôme prise(s) en compte` | `promo` |
//! | `Nombre de sortants`, `Nombre de poursuivants` | `nb_sortants`, `nb_poursuivants` |
//! | `12-Salaire mensuel net médian en équivalent temps plein - 12 mois après le diplôme` | `salaire_q2_12` |
//!
//! The labels of `diplome` and of the employment columns are not known from a
//! real copy: a label-header file without them fails naming the field id.
//!
//! # Mapping to `MesureRow`
//!
//! filière `superieur`, `code_certification_type` `sise`, `niveau` =
//! `Etablissement(etablissement)`, `libelle_etablissement` =
//! `denomination_principale`, and:
//!
//! | `MesureRow` | open data | API |
//! |---|---|---|
//! | `code_certification` | `diplome` | `diplome`, else `diplome_consol` (the API renamed it) |
//! | `millesime` | `promo` (see below) | `annee_universitaire` and the marker of `nb_sortants` (see below) |
//! | `nb_sortant` | `nb_sortants` | `nb_sortants` |
//! | `nb_poursuite_etudes` | `nb_poursuivants` | `nb_poursuivants` |
//! | `nb_annee_term` | `nb_sortants + nb_poursuivants` | same |
//! | `nb_en_emploi_X_mois` (X = 6, 12, 18, 24) | `nb_sortants_en_emploi_sal_fr_X` | `nb_in_dsn_X` |
//! | `nb_diplome` | — | `nb_diplomes` |
//! | `taux_en_emploi_X_mois` | `tx_sortants_en_emploi_sal_fr_X` | — (see below) |
//! | `taux_poursuite_etudes`, `part_poursuite_etudes` | — | `taux_poursuivant` |
//! | `part_en_emploi_6_mois` | — | `taux_in_dsn_6` |
//! | `part_autres_situations_6_mois` | — | `taux_autre_6` |
//! | `salaire_12_mois_q{1,2,3}` | `salaire_q{1,2,3}_12` | `salaire_q{1,2,3}_national_diplome_12` (else `salaire_q{1,2,3}_12`) |
//!
//! The 30-month figures have no place in the model and are not read.
//!
//! **`nb_annee_term`** is `nb_sortants + nb_poursuivants` when both are
//! given, else missing. DOMAIN.md notes that the reference system has two
//! definitions (enrolled students, `nb_inscrits`, per formation; leavers +
//! continuers nationally). We take the second everywhere: it is the only one
//! the open data allow, so both layouts agree, and with it
//! `taux_poursuite_etudes = nb_poursuite_etudes / nb_annee_term` is the share
//! of continuers among the final-year students who left or continued, and the
//! devenir shares add up. On the real API records `nb_inscrits` equals it
//! (119 = 54 + 65); `nb_inscrits` is not read.
//!
//! **API rates are shares of `nb_annee_term`, not of the leavers**: on the
//! real record, `taux_in_dsn_6` = 19,3 = 23 / 119 (not 23 / 54),
//! `taux_poursuivant` = 54,6 = 65 / 119 and `taux_autre_6` = 26,1 =
//! (119 − 65 − 23) / 119. They are therefore the devenir shares
//! (`part_*`), and `taux_in_dsn_12..24` have no field in `SourceRates` and
//! are not kept (the counts `nb_in_dsn_X` are). The open data's
//! `tx_sortants_en_emploi_sal_fr_X` are, by their name, rates among leavers.
//! The API's salaries are national figures for the diploma (`…_national_diplome_12`),
//! kept as the reference system does.
//!
//! # Millésimes
//!
//! - open data: `promo` lists the promotions a figure covers: `2021` → `2021`;
//!   `2020,2021`, `2020-2021` or a JSON array `["2020","2021"]` → `2020_2021`.
//! - API: `annee_universitaire` is an academic year (`2020-2021`); its figures
//!   are for the promotion of its last year (`2021`), unless `nb_sortants`
//!   carries the `*` marker of a cumulation (`130 *` → `2020_2021`); `**`
//!   ("cumulation impossible") keeps the single year. This is the reference
//!   system's rule (trajectoires-pro `importFormationsSupStats`), and what the
//!   real `formationsMillesimesMixtes.json` exercises.
//!
//! # Values
//!
//! `nd`, `ns`, `na` (any case) and empty are missing (`None`, never 0); a
//! decimal comma or point is accepted, spaces inside a number are thousands
//! separators, and trailing `*` markers are taken off every value.
//!
//! # Rejects
//!
//! A headline row that cannot be used is rejected, never dropped, with a
//! reason starting with a tag (the first problem found, in this order):
//! `invalid_uai:` (not 7 digits and the right check letter),
//! `invalid_sise:` (not 7 characters `[0-9A-Z]`; InserSup's own `0000001`,
//! `0000002`, `0000003` are valid), `unknown_millesime:`, `invalid_number:`
//! (neither a number nor `nd`/`ns`/`na`, or a count with a fraction),
//! `negative_count:`, `negative_value:` (a rate or salary), `emploi_above_sortants:`
//! (`nb_en_emploi_X_mois` > `nb_sortant`), `duplicate_key:` (a second row for
//! the same millésime, SISE code and UAI: the first is kept, the later one
//! rejected naming the kept one's line). Every row read is a row, a reject or
//! skipped: [`Staged::balances`] holds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::input::table::{header_key, FormatKind};
use crate::input::{self, json, Col, DelimitedOptions, RawTable, Row};
use crate::rules::codes::{check_code, is_valid_uai, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::staging::fields::{is_not_published, parse_decimal};
use crate::staging::mesures::{
    Counts, MesureRow, Niveau, Origin, Reject, Salaires, SourceRates, Staged,
};

/// The `skipped` reason of the open data's breakdown rows.
pub const SKIP_BREAKDOWN: &str =
    "breakdown row (genre/nationalite/regime_inscription/obtention_diplome not \"ensemble\")";

/// The two InserSup layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `fr-esr-insersup`: field ids (or labels), breakdown rows, `promo`.
    OpenData,
    /// The InserSup API: `annee_universitaire`, `nb_in_dsn_X`, no breakdown.
    Api,
}

/// Reads and stages an InserSup extract (CSV or JSON, either layout).
pub fn load_insersup(path: &Path) -> Result<Staged> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    stage_insersup(&parse_insersup(path, &bytes)?)
}

/// Reads the bytes of an InserSup extract into a raw table: CSV through
/// `input::delimited`, JSON (the API's `{"results": [...]}`) through
/// `input::json`. `path` names the file in errors and tells JSON by its extension.
pub fn parse_insersup(path: &Path, bytes: &[u8]) -> Result<RawTable> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        json::read_json(path, bytes)
    } else {
        input::delimited::read_delimited(path, bytes, &DelimitedOptions::default())
    }
}

/// Stages the rows of a raw InserSup table (see the module doc for the rules).
pub fn stage_insersup(t: &RawTable) -> Result<Staged> {
    let columns = Columns::find(t)?;
    let file = Arc::new(t.path.clone());
    let line_word = match t.format.kind {
        FormatKind::Csv => "line",
        FormatKind::Json => "record",
    };
    let mut staged = Staged {
        rows_read: t.len(),
        ..Staged::default()
    };
    // (millésime, SISE, UAI) → position of the row kept.
    let mut kept: HashMap<(Millesime, String, String), u64> = HashMap::new();

    for row in t.rows() {
        if !columns.is_headline(&row) {
            *staged
                .skipped
                .entry(SKIP_BREAKDOWN.to_string())
                .or_default() += 1;
            continue;
        }
        let reject = |reason: String| Reject {
            file: Arc::clone(&file),
            line: row.position(),
            reason,
            raw: row.raw_text(),
        };
        let mesure = match columns.stage_row(&row, &file) {
            Ok(m) => m,
            Err(reason) => {
                staged.rejects.push(reject(reason));
                continue;
            }
        };
        let key = (
            mesure.millesime,
            mesure.code_certification.clone(),
            uai_of(&mesure).to_string(),
        );
        if let Some(first) = kept.get(&key) {
            staged.rejects.push(reject(format!(
                "duplicate_key: millésime {}, diplome {}, UAI {} already read at {line_word} {first} (kept)",
                key.0, key.1, key.2
            )));
            continue;
        }
        kept.insert(key, row.position());
        staged.rows.push(mesure);
    }
    debug_assert!(staged.balances());
    Ok(staged)
}

fn uai_of(m: &MesureRow) -> &str {
    match &m.niveau {
        Niveau::Etablissement(uai) => uai,
        _ => "",
    }
}

/// The columns of one file, found by layout.
struct Columns {
    layout: Layout,
    uai: Col,
    /// `diplome`, then `diplome_consol`: the first non-empty one is the code.
    codes: Vec<Col>,
    millesime: Col,
    libelle_etablissement: Option<Col>,
    breakdown: Vec<Col>,
    nb_sortant: Col,
    nb_poursuite_etudes: Col,
    nb_diplome: Option<Col>,
    /// 6, 12, 18, 24 months.
    nb_en_emploi: [Option<Col>; 4],
    taux_en_emploi: [Option<Col>; 4],
    taux_poursuite_etudes: Option<Col>,
    part_en_emploi_6_mois: Option<Col>,
    part_autres_situations_6_mois: Option<Col>,
    /// q1, q2, q3 at 12 months.
    salaires: [Option<Col>; 3],
}

const MOIS: [u32; 4] = [6, 12, 18, 24];

impl Columns {
    fn find(t: &RawTable) -> Result<Columns> {
        let layout = if find(t, &["annee_universitaire"]).is_some() {
            Layout::Api
        } else if find(t, PROMO).is_some() {
            Layout::OpenData
        } else {
            return Err(Error::file(
                &t.path,
                "not an InserSup extract: no column promo (open data fr-esr-insersup) or annee_universitaire (InserSup API); check that this is the right file",
            ));
        };
        let required = |names: &[&str]| -> Result<Col> {
            find(t, names).ok_or_else(|| {
                Error::file(
                    &t.path,
                    format!(
                        "missing required column {} of the InserSup {} layout (columns found: {}); check that this is the right file",
                        names.join(" or "),
                        match layout {
                            Layout::OpenData => "open-data",
                            Layout::Api => "API",
                        },
                        t.headers.join(", ")
                    ),
                )
            })
        };
        let per_mois = |f: &dyn Fn(u32) -> String| MOIS.map(|m| find(t, &[f(m).as_str()]));
        let salaire = |q: u32, extra: &[&str]| {
            let mut names = vec![];
            if layout == Layout::Api {
                names.push(format!("salaire_q{q}_national_diplome_12"));
            }
            names.push(format!("salaire_q{q}_12"));
            let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
            names.extend_from_slice(extra);
            find(t, &names)
        };
        let salaires = [
            salaire(1, &[]),
            salaire(2, &[SALAIRE_MEDIAN_12_LABEL]),
            salaire(3, &[]),
        ];
        let columns = match layout {
            Layout::OpenData => Columns {
                layout,
                uai: required(&["etablissement", "Code UAI de l'établissement"])?,
                codes: vec![required(&["diplome"])?],
                millesime: required(PROMO)?,
                libelle_etablissement: find(t, &["denomination_principale", "Établissement"]),
                breakdown: BREAKDOWN
                    .iter()
                    .filter_map(|names| find(t, names))
                    .collect(),
                nb_sortant: required(&["nb_sortants", "Nombre de sortants"])?,
                nb_poursuite_etudes: required(&["nb_poursuivants", "Nombre de poursuivants"])?,
                nb_diplome: None,
                nb_en_emploi: per_mois(&|m| format!("nb_sortants_en_emploi_sal_fr_{m}")),
                taux_en_emploi: per_mois(&|m| format!("tx_sortants_en_emploi_sal_fr_{m}")),
                taux_poursuite_etudes: None,
                part_en_emploi_6_mois: None,
                part_autres_situations_6_mois: None,
                salaires,
            },
            Layout::Api => {
                let codes: Vec<Col> = ["diplome", "diplome_consol"]
                    .iter()
                    .filter_map(|n| find(t, &[n]))
                    .collect();
                if codes.is_empty() {
                    required(&["diplome", "diplome_consol"])?;
                }
                Columns {
                    layout,
                    uai: required(&["etablissement"])?,
                    codes,
                    millesime: required(&["annee_universitaire"])?,
                    libelle_etablissement: find(t, &["denomination_principale"]),
                    breakdown: Vec::new(),
                    nb_sortant: required(&["nb_sortants"])?,
                    nb_poursuite_etudes: required(&["nb_poursuivants"])?,
                    nb_diplome: find(t, &["nb_diplomes"]),
                    nb_en_emploi: per_mois(&|m| format!("nb_in_dsn_{m}")),
                    taux_en_emploi: [None, None, None, None],
                    taux_poursuite_etudes: find(t, &["taux_poursuivant"]),
                    part_en_emploi_6_mois: find(t, &["taux_in_dsn_6"]),
                    part_autres_situations_6_mois: find(t, &["taux_autre_6"]),
                    salaires,
                }
            }
        };
        Ok(columns)
    }

    /// Whether every breakdown column of the row reads `ensemble`.
    fn is_headline(&self, row: &Row) -> bool {
        self.breakdown
            .iter()
            .all(|c| row.get(c).eq_ignore_ascii_case("ensemble"))
    }

    /// A headline row as a `MesureRow`, or the reason it is rejected.
    fn stage_row(&self, row: &Row, file: &Arc<PathBuf>) -> Result<MesureRow, String> {
        let uai = row.get(&self.uai);
        if !is_valid_uai(uai) {
            return Err(format!(
                "invalid_uai: {} \"{uai}\" is not a UAI (7 digits and their check letter ABCDEFGHJKLMNPRSTUVWXYZ[n mod 23])",
                self.uai.name()
            ));
        }
        let (code_col, code) = self
            .codes
            .iter()
            .map(|c| (c, row.get(c)))
            .find(|(_, v)| !v.is_empty())
            .unwrap_or((&self.codes[0], ""));
        check_code(CodeType::Sise, code)
            .map_err(|m| format!("invalid_sise: {}: {m}", code_col.name()))?;
        let millesime = self
            .millesime(row)
            .map_err(|m| format!("unknown_millesime: {}: {m}", self.millesime.name()))?;

        let count = |c: &Col| parse_count(c, row.get(c));
        let opt_count = |c: &Option<Col>| c.as_ref().map_or(Ok(None), count);
        let value = |c: &Option<Col>| c.as_ref().map_or(Ok(None), |c| parse_value(c, row.get(c)));

        let nb_sortant = count(&self.nb_sortant)?;
        let nb_poursuite_etudes = count(&self.nb_poursuite_etudes)?;
        let [e6, e12, e18, e24] = &self.nb_en_emploi;
        let nb_en_emploi = [
            opt_count(e6)?,
            opt_count(e12)?,
            opt_count(e18)?,
            opt_count(e24)?,
        ];
        let counts = Counts {
            nb_annee_term: nb_sortant
                .zip(nb_poursuite_etudes)
                .and_then(|(s, p)| s.checked_add(p)),
            nb_poursuite_etudes,
            nb_sortant,
            nb_en_emploi_6_mois: nb_en_emploi[0],
            nb_en_emploi_12_mois: nb_en_emploi[1],
            nb_en_emploi_18_mois: nb_en_emploi[2],
            nb_en_emploi_24_mois: nb_en_emploi[3],
            nb_diplome: opt_count(&self.nb_diplome)?,
        };
        if let Some(sortants) = nb_sortant {
            for (i, emploi) in nb_en_emploi.iter().enumerate() {
                if let (Some(emploi), Some(col)) = (emploi, &self.nb_en_emploi[i]) {
                    if *emploi > sortants {
                        return Err(format!(
                            "emploi_above_sortants: {} = {emploi} is more than {} = {sortants} (leavers in employment cannot outnumber the leavers)",
                            col.name(),
                            self.nb_sortant.name()
                        ));
                    }
                }
            }
        }

        let [t6, t12, t18, t24] = &self.taux_en_emploi;
        let taux_poursuite = value(&self.taux_poursuite_etudes)?;
        let source_rates = SourceRates {
            taux_en_emploi_6_mois: value(t6)?,
            taux_en_emploi_12_mois: value(t12)?,
            taux_en_emploi_18_mois: value(t18)?,
            taux_en_emploi_24_mois: value(t24)?,
            taux_poursuite_etudes: taux_poursuite,
            part_en_emploi_6_mois: value(&self.part_en_emploi_6_mois)?,
            part_poursuite_etudes: taux_poursuite,
            part_autres_situations_6_mois: value(&self.part_autres_situations_6_mois)?,
        };
        let [q1, q2, q3] = &self.salaires;
        let salaires = Salaires {
            salaire_12_mois_q1: value(q1)?,
            salaire_12_mois_q2: value(q2)?,
            salaire_12_mois_q3: value(q3)?,
        };

        Ok(MesureRow {
            millesime,
            filiere: Filiere::Superieur,
            code_certification: code.to_string(),
            code_certification_type: CodeType::Sise,
            niveau: Niveau::Etablissement(uai.to_string()),
            counts,
            source_rates,
            salaires,
            libelle_etablissement: self
                .libelle_etablissement
                .as_ref()
                .and_then(|c| row.opt(c))
                .map(str::to_string),
            origin: Origin {
                file: Arc::clone(file),
                line: row.position(),
            },
        })
    }

    fn millesime(&self, row: &Row) -> Result<Millesime, String> {
        let raw = row.get(&self.millesime);
        match self.layout {
            Layout::OpenData => millesime_promo(raw),
            Layout::Api => millesime_annee_universitaire(raw, row.get(&self.nb_sortant)),
        }
    }
}

const PROMO: &[&str] = &[
    "promo",
    "Promotion",
    "Année(s) d'obtention du diplôme prise(s) en compte",
];

const BREAKDOWN: [&[&str]; 4] = [
    &["genre", "Genre"],
    &["nationalite", "Nationalité"],
    &["regime_inscription", "Régime d'inscription"],
    &["obtention_diplome", "Obtention du diplôme"],
];

const SALAIRE_MEDIAN_12_LABEL: &str =
    "12-Salaire mensuel net médian en équivalent temps plein - 12 mois après le diplôme";

/// A header compared as `input::table::header_key` does, with `’` read as `'`.
fn label_key(name: &str) -> String {
    header_key(name).replace('’', "'")
}

/// The first of `names` (field id, then labels) the table has.
fn find(t: &RawTable, names: &[&str]) -> Option<Col> {
    names.iter().find_map(|name| {
        let key = label_key(name);
        t.headers
            .iter()
            .find(|h| label_key(h) == key)
            .and_then(|h| t.optional_column(h))
    })
}

/// The open data's `promo`: one year, or the promotions a cumulated figure
/// covers (`2020,2021`, `2020-2021`, or the JSON export's `["2020","2021"]`).
fn millesime_promo(raw: &str) -> Result<Millesime, String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '"'))
        .collect();
    Millesime::parse(&cleaned).map_err(|_| {
        format!("\"{raw}\" is not a promotion (expected 2021, or 2020,2021 for a cumulated figure)")
    })
}

/// The API's `annee_universitaire` (`2020-2021`), read with the marker of
/// `nb_sortants`: `*` = cumulated over the academic year's two promotions
/// (`2020_2021`); none, or `**` (cumulation impossible) = the promotion of its
/// last year (`2021`). A `*` on the year itself also marks a cumulation.
fn millesime_annee_universitaire(raw: &str, nb_sortants: &str) -> Result<Millesime, String> {
    let annee = Millesime::parse(raw)
        .map_err(|_| format!("\"{raw}\" is not an academic year (expected 2020-2021)"))?;
    let cumulated = match split_marker(nb_sortants).1 {
        Marker::CumulImpossible => false,
        Marker::Cumul => true,
        Marker::None => split_marker(raw).1 == Marker::Cumul,
    };
    Ok(if cumulated {
        annee
    } else {
        Millesime::year(annee.last)
    })
}

/// InserSup's flags on a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    /// `130 *`: cumulated over two promotions.
    Cumul,
    /// `12 **`: cumulation impossible (the single promotion's figure).
    CumulImpossible,
}

/// The value without its trailing `*` markers, and the marker.
fn split_marker(raw: &str) -> (&str, Marker) {
    let value = raw.trim();
    let body = value.trim_end_matches('*');
    let marker = match value.len() - body.len() {
        0 => Marker::None,
        1 => Marker::Cumul,
        _ => Marker::CumulImpossible,
    };
    (body.trim(), marker)
}

/// A figure: `Ok(None)` when missing (`nd`, `ns`, `na`, empty), the number
/// (decimal comma or point, spaces as thousands separators), or why not.
fn parse_number(raw: &str) -> Result<Option<f64>, String> {
    let (body, _) = split_marker(raw);
    if body.is_empty() || is_not_published(body) {
        return Ok(None);
    }
    parse_decimal(body).map(Some).ok_or_else(|| {
        format!("\"{raw}\" is not a number (expected digits with a decimal comma, or nd/ns/na)")
    })
}

/// A count: a whole, non-negative number, or missing.
fn parse_count(col: &Col, raw: &str) -> Result<Option<i64>, String> {
    let Some(x) = parse_number(raw).map_err(|m| format!("invalid_number: {}: {m}", col.name()))?
    else {
        return Ok(None);
    };
    if x.fract() != 0.0 || x.abs() > 1e15 {
        return Err(format!(
            "invalid_number: {}: \"{raw}\" is not a whole number of students",
            col.name()
        ));
    }
    if x < 0.0 {
        return Err(format!(
            "negative_count: {}: \"{raw}\" (a count of students cannot be negative)",
            col.name()
        ));
    }
    crate::rules::rates::check_count_bound(col.name(), x as i64)
        .map_err(|m| format!("count_too_large: {m}"))?;
    Ok(Some(x as i64))
}

/// A rate (percentage) or a salary: a non-negative number, or missing.
fn parse_value(col: &Col, raw: &str) -> Result<Option<f64>, String> {
    let x = parse_number(raw).map_err(|m| format!("invalid_number: {}: {m}", col.name()))?;
    if x.is_some_and(|x| x < 0.0) {
        return Err(format!(
            "negative_value: {}: \"{raw}\" (a rate or a salary cannot be negative)",
            col.name()
        ));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/insersup");

    const HEADER: &str = "etablissement;denomination_principale;diplome;genre;nationalite;regime_inscription;obtention_diplome;promo;nb_sortants;nb_poursuivants;nb_sortants_en_emploi_sal_fr_6;nb_sortants_en_emploi_sal_fr_12;nb_sortants_en_emploi_sal_fr_18;nb_sortants_en_emploi_sal_fr_24;tx_sortants_en_emploi_sal_fr_6;tx_sortants_en_emploi_sal_fr_12;salaire_q1_12;salaire_q2_12;salaire_q3_12";

    /// A headline row of `HEADER` with the given fields after the breakdown.
    fn line(uai: &str, diplome: &str, promo: &str, rest: &str) -> String {
        format!("{uai};UNIV;{diplome};ensemble;ensemble;ensemble;ensemble;{promo};{rest}")
    }

    const OK: &str = "54;65;23;25;26;27;42,6;46,3;1650;1850;2100";

    fn stage_text(name: &str, text: &str) -> Staged {
        let t = parse_insersup(Path::new(name), text.as_bytes()).unwrap();
        let staged = stage_insersup(&t).unwrap();
        assert!(staged.balances());
        staged
    }

    fn stage_csv(lines: &[String]) -> Staged {
        stage_text("t.csv", &format!("{HEADER}\n{}\n", lines.join("\n")))
    }

    fn only_row(staged: &Staged) -> &MesureRow {
        assert_eq!(staged.rejects, vec![], "no rejects expected");
        assert_eq!(staged.rows.len(), 1);
        &staged.rows[0]
    }

    #[test]
    fn keeps_the_headline_row_and_counts_breakdowns_as_skipped() {
        let staged = stage_csv(&[
            line("0062205P", "2400074", "2021", OK),
            format!("0062205P;UNIV;2400074;femmes;ensemble;ensemble;ensemble;2021;{OK}"),
            format!("0062205P;UNIV;2400074;ensemble;ensemble;ensemble;diplomes;2021;{OK}"),
            // A breakdown row is not checked: its bad UAI is no reject.
            format!("0062205Q;UNIV;2400074;Ensemble;francais;ensemble;ensemble;2021;{OK}"),
        ]);
        let row = only_row(&staged);
        assert_eq!(row.origin.line, 2);
        assert_eq!(staged.skipped.get(SKIP_BREAKDOWN), Some(&3));
        assert_eq!(staged.rows_read, 4);
    }

    #[test]
    fn nd_ns_na_and_empty_are_missing_never_zero() {
        for missing in ["nd", "ns", "na", "ND", "", "na *"] {
            let rest = format!("54;65;{missing};25;26;27;{missing};46,3;{missing};1850;2100");
            let staged = stage_csv(&[line("0062205P", "2400074", "2021", &rest)]);
            let row = only_row(&staged);
            assert_eq!(row.counts.nb_en_emploi_6_mois, None, "{missing}");
            assert_eq!(row.source_rates.taux_en_emploi_6_mois, None, "{missing}");
            assert_eq!(row.salaires.salaire_12_mois_q1, None, "{missing}");
            assert_eq!(row.counts.nb_en_emploi_12_mois, Some(25));
        }
    }

    #[test]
    fn reads_decimal_commas_and_thousands_spaces() {
        let rest = "54;65;23;25;26;27;42,6;46.3;1 650,5;1850;2100";
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", rest)]);
        let row = only_row(&staged);
        assert_eq!(row.source_rates.taux_en_emploi_6_mois, Some(42.6));
        assert_eq!(row.source_rates.taux_en_emploi_12_mois, Some(46.3));
        assert_eq!(row.salaires.salaire_12_mois_q1, Some(1650.5));
        assert_eq!(row.salaires.salaire_12_mois_q2, Some(1850.0));
    }

    #[test]
    fn promo_gives_the_millesime() {
        for (promo, millesime) in [
            ("2021", "2021"),
            ("2020,2021", "2020_2021"),
            ("2021,2020", "2020_2021"),
            ("2020-2021", "2020_2021"),
            ("[\"2020\",\"2021\"]", "2020_2021"),
        ] {
            // Quote the field: it may hold `;`-free commas and quotes.
            let promo_field = format!("\"{}\"", promo.replace('"', "\"\""));
            let staged = stage_csv(&[line("0062205P", "2400074", &promo_field, OK)]);
            assert_eq!(
                only_row(&staged).millesime.to_string(),
                millesime,
                "{promo}"
            );
        }
    }

    #[test]
    fn nb_annee_term_is_leavers_plus_continuers() {
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", OK)]);
        let c = only_row(&staged).counts;
        assert_eq!(
            (c.nb_sortant, c.nb_poursuite_etudes, c.nb_annee_term),
            (Some(54), Some(65), Some(119))
        );
        let rest = "54;nd;23;25;26;27;42,6;46,3;1650;1850;2100";
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", rest)]);
        let c = only_row(&staged).counts;
        assert_eq!((c.nb_sortant, c.nb_annee_term), (Some(54), None));
    }

    #[test]
    fn maps_to_a_superieur_row_at_the_establishment() {
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", OK)]);
        let row = only_row(&staged);
        assert_eq!(row.filiere, Filiere::Superieur);
        assert_eq!(row.code_certification_type, CodeType::Sise);
        assert_eq!(row.niveau, Niveau::Etablissement("0062205P".into()));
        assert_eq!(row.libelle_etablissement.as_deref(), Some("UNIV"));
        assert_eq!(row.counts.nb_en_emploi_24_mois, Some(27));
        assert_eq!(row.counts.nb_diplome, None);
    }

    #[test]
    fn each_unusable_row_is_rejected_with_its_reason() {
        let cases = [
            (line("0062205Q", "2400074", "2021", OK), "invalid_uai:"),
            (line("062205P", "2400074", "2021", OK), "invalid_uai:"),
            (line("0062205P", "240007", "2021", OK), "invalid_sise:"),
            (line("0062205P", "2400o74", "2021", OK), "invalid_sise:"),
            (line("0062205P", "", "2021", OK), "invalid_sise:"),
            (
                line("0062205P", "2400074", "2O21", OK),
                "unknown_millesime:",
            ),
            (line("0062205P", "2400074", "", OK), "unknown_millesime:"),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54;-3;23;25;26;27;42,6;46,3;1650;1850;2100",
                ),
                "negative_count: nb_poursuivants",
            ),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54;65;23;55;26;27;42,6;46,3;1650;1850;2100",
                ),
                "emploi_above_sortants: nb_sortants_en_emploi_sal_fr_12 = 55",
            ),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54;65;n.c.;25;26;27;42,6;46,3;1650;1850;2100",
                ),
                "invalid_number: nb_sortants_en_emploi_sal_fr_6",
            ),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54;65;23;25;26;27;abc;46,3;1650;1850;2100",
                ),
                "invalid_number: tx_sortants_en_emploi_sal_fr_6",
            ),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54,5;65;23;25;26;27;42,6;46,3;1650;1850;2100",
                ),
                "invalid_number: nb_sortants",
            ),
            (
                line(
                    "0062205P",
                    "2400074",
                    "2021",
                    "54;65;23;25;26;27;-4;46,3;1650;1850;2100",
                ),
                "negative_value: tx_sortants_en_emploi_sal_fr_6",
            ),
        ];
        for (text, tag) in cases {
            let staged = stage_csv(std::slice::from_ref(&text));
            assert!(staged.rows.is_empty(), "{text}");
            assert_eq!(staged.rejects.len(), 1, "{text}");
            let reject = &staged.rejects[0];
            assert!(reject.reason.starts_with(tag), "{text}: {}", reject.reason);
            assert_eq!((reject.line, reject.raw.as_str()), (2, text.as_str()));
        }
    }

    #[test]
    fn insersup_invented_codes_are_valid_sise_codes() {
        for code in ["0000001", "0000002", "0000003"] {
            let staged = stage_csv(&[line("0062205P", code, "2021", OK)]);
            assert_eq!(only_row(&staged).code_certification, code);
        }
    }

    #[test]
    fn a_duplicate_key_keeps_the_first_and_names_it() {
        let staged = stage_csv(&[
            line("0062205P", "2400074", "2021", OK),
            line("0062205P", "2400074", "2022", OK),
            line("0631262E", "2400074", "2021", OK),
            line("0062205P", "2400074", "2021", "10;5;1;2;3;4;10;20;1;2;3"),
        ]);
        assert_eq!(staged.rows.len(), 3);
        assert_eq!(staged.rows[0].counts.nb_sortant, Some(54));
        assert_eq!(staged.rejects.len(), 1);
        assert_eq!(staged.rejects[0].line, 5);
        assert_eq!(
            staged.rejects[0].reason,
            "duplicate_key: millésime 2021, diplome 2400074, UAI 0062205P already read at line 2 (kept)"
        );
    }

    #[test]
    fn reads_the_label_header() {
        let text = "Code UAI de l’établissement;Établissement;diplome;Genre;Nationalité;Régime d'inscription;Obtention du diplôme;Promotion;Nombre de sortants;Nombre de poursuivants\n\
                    0062205P;UNIV;2400074;ensemble;ensemble;ensemble;ensemble;2021;54;65\n\
                    0062205P;UNIV;2400074;hommes;ensemble;ensemble;ensemble;2021;24;30\n";
        let staged = stage_text("labels.csv", text);
        let row = only_row(&staged);
        assert_eq!(row.counts.nb_annee_term, Some(119));
        assert_eq!(row.libelle_etablissement.as_deref(), Some("UNIV"));
        assert_eq!(staged.skipped.get(SKIP_BREAKDOWN), Some(&1));
    }

    #[test]
    fn refuses_a_file_of_another_layout() {
        let t = parse_insersup(Path::new("x.csv"), b"a;b\n1;2\n").unwrap();
        let e = stage_insersup(&t).unwrap_err().to_string();
        assert!(e.contains("not an InserSup extract"), "{e}");
        let t =
            parse_insersup(Path::new("x.csv"), b"promo;etablissement\n2021;0062205P\n").unwrap();
        let e = stage_insersup(&t).unwrap_err().to_string();
        assert!(e.contains("missing required column diplome"), "{e}");
    }

    #[test]
    fn api_millesime_follows_the_cumulation_marker() {
        for (annee, sortants, millesime) in [
            ("2020-2021", "54", "2021"),
            ("2020-2021", "130 *", "2020_2021"),
            ("2020-2021", "12 **", "2021"),
            ("2020-2021*", "54", "2020_2021"),
            ("2021", "54", "2021"),
        ] {
            let m = millesime_annee_universitaire(annee, sortants).unwrap();
            assert_eq!(m.to_string(), millesime, "{annee} {sortants}");
        }
        assert!(millesime_annee_universitaire("2020/21x", "54").is_err());
    }

    #[test]
    fn reads_the_api_layout() {
        let staged = load_insersup(&Path::new(FIXTURES).join("insersup_api.json")).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rejects, vec![]);
        assert_eq!(staged.rows.len(), 3);
        let by_code = |code: &str| {
            staged
                .rows
                .iter()
                .find(|r| r.code_certification == code)
                .unwrap()
        };

        let r = by_code("2400074");
        assert_eq!(r.millesime.to_string(), "2021");
        assert_eq!(r.niveau, Niveau::Etablissement("0062205P".into()));
        assert_eq!(
            r.libelle_etablissement.as_deref(),
            Some("UNIVERSITE COTE D'AZUR")
        );
        let c = r.counts;
        assert_eq!(
            (
                c.nb_sortant,
                c.nb_poursuite_etudes,
                c.nb_annee_term,
                c.nb_diplome
            ),
            (Some(54), Some(65), Some(119), Some(101))
        );
        assert_eq!(
            [
                c.nb_en_emploi_6_mois,
                c.nb_en_emploi_12_mois,
                c.nb_en_emploi_18_mois,
                c.nb_en_emploi_24_mois
            ],
            [Some(23), Some(25), Some(26), Some(27)]
        );
        let s = r.source_rates;
        assert_eq!(s.taux_poursuite_etudes, Some(54.6));
        assert_eq!(s.part_poursuite_etudes, Some(54.6));
        assert_eq!(s.part_en_emploi_6_mois, Some(19.3));
        assert_eq!(s.part_autres_situations_6_mois, Some(26.1));
        assert_eq!(s.taux_en_emploi_6_mois, None);
        assert_eq!(r.salaires, Salaires::default());

        let r = by_code("2500200");
        assert_eq!(r.millesime.to_string(), "2020_2021");
        assert_eq!(r.counts.nb_sortant, Some(130));

        // `diplome_consol` when `diplome` is absent; `**` keeps one year.
        let r = by_code("0000002");
        assert_eq!(r.millesime.to_string(), "2022");
        assert_eq!(r.counts.nb_sortant, Some(12));
        assert_eq!(r.salaires.salaire_12_mois_q2, Some(1720.0));
        assert_eq!(r.counts.nb_en_emploi_18_mois, None);
    }

    #[test]
    fn reads_a_bare_array_and_rejects_api_rows_too() {
        let text = r#"[{"diplome":"2400074","etablissement":"0062205P","annee_universitaire":"2020-2021","nb_sortants":"54","nb_poursuivants":"65","nb_in_dsn_6":"60"},
                       {"diplome":"2400074","etablissement":"0062205P","annee_universitaire":"2020-2021","nb_sortants":"50 *","nb_poursuivants":"65"},
                       {"diplome":"2400074","etablissement":"0062205P","annee_universitaire":"2019-2020","nb_sortants":"50","nb_poursuivants":"65"},
                       {"diplome":"2400074","etablissement":"0062205P","annee_universitaire":"2019-2020","nb_sortants":"51","nb_poursuivants":"65"}]"#;
        let staged = stage_text("api.json", text);
        assert_eq!(staged.rows.len(), 2);
        let reasons: Vec<&str> = staged.rejects.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2);
        assert!(
            reasons[0].starts_with("emploi_above_sortants: nb_in_dsn_6"),
            "{}",
            reasons[0]
        );
        assert_eq!(
            reasons[1],
            "duplicate_key: millésime 2020, diplome 2400074, UAI 0062205P already read at record 3 (kept)"
        );
    }

    #[test]
    fn the_open_data_fixture_stages_as_described_in_the_readme() {
        let staged = load_insersup(&Path::new(FIXTURES).join("fr-esr-insersup.csv")).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows_read, 18);
        assert_eq!(staged.rows.len(), 5);
        assert_eq!(staged.skipped.get(SKIP_BREAKDOWN), Some(&6));
        let tags: Vec<&str> = staged
            .rejects
            .iter()
            .map(|r| r.reason.split(':').next().unwrap())
            .collect();
        assert_eq!(
            tags,
            [
                "invalid_uai",
                "negative_count",
                "duplicate_key",
                "emploi_above_sortants",
                "invalid_number",
                "invalid_sise",
                "unknown_millesime"
            ]
        );
        let keys: Vec<String> = staged
            .rows
            .iter()
            .map(|r| format!("{} {} {}", r.millesime, r.code_certification, uai_of(r)))
            .collect();
        assert_eq!(
            keys,
            [
                "2021 2400074 0062205P",
                "2020_2021 2500200 0631262E",
                "2021 0000001 0751717J",
                "2022 2410123 0693259T",
                "2022 2400074 0062205P"
            ]
        );
        // The formation under the threshold is staged as is: masking is later.
        assert_eq!(staged.rows[2].counts.nb_annee_term, Some(15));
        assert_eq!(
            staged.rows[0].source_rates.taux_en_emploi_6_mois,
            Some(42.6)
        );
    }

    #[test]
    fn the_real_api_files_load() {
        let root = std::env::var("IJ_REAL_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/real").to_string()
        });
        let dir = Path::new(&root).join("insersup");
        if !dir.is_dir() {
            eprintln!("skipped: {} is absent (set IJ_REAL_DATA)", dir.display());
            return;
        }
        let one = load_insersup(&dir.join("formations.json")).unwrap();
        assert!(one.balances());
        assert_eq!((one.rows.len(), one.rejects.len()), (1, 0));
        assert_eq!(one.rows[0].millesime.to_string(), "2021");
        assert_eq!(one.rows[0].counts.nb_annee_term, Some(119));

        let mixed = load_insersup(&dir.join("formationsMillesimesMixtes.json")).unwrap();
        assert!(mixed.balances());
        assert_eq!((mixed.rows.len(), mixed.rejects.len()), (2, 0));
        let millesimes: Vec<String> = mixed.rows.iter().map(|r| r.millesime.to_string()).collect();
        assert_eq!(millesimes, ["2021", "2020_2021"]);
        assert_eq!(mixed.rows[1].counts.nb_sortant, Some(130));
    }
}
