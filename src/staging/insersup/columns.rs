//! The columns of an InserSup file, found by layout (field ids or their
//! labels), and one headline row read into a `MesureRow`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::input::table::header_key;
use crate::input::{Col, RawTable, Row};
use crate::rules::codes::{check_code, is_valid_uai, CodeType};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::staging::mesures::{
    kept_rates, Counts, MesureRow, Niveau, Origin, Salaires, SourceRates,
};

use super::values::{millesime_annee_universitaire, millesime_promo, parse_count, parse_value};
use super::Layout;

/// The columns of one file, found by layout.
pub(super) struct Columns {
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
    /// The columns of `t`: its layout first, then that layout's columns.
    pub(super) fn find(t: &RawTable) -> Result<Columns> {
        let layout = detect_layout(t)?;
        let salaires = salaire_columns(t, layout);
        match layout {
            Layout::OpenData => Columns::open_data(t, salaires),
            Layout::Api => Columns::api(t, salaires),
        }
    }

    /// The open-data layout (`fr-esr-insersup`): field ids or their labels,
    /// breakdown columns, employment rates as published, no diploma count.
    fn open_data(t: &RawTable, salaires: [Option<Col>; 3]) -> Result<Columns> {
        let layout = Layout::OpenData;
        Ok(Columns {
            layout,
            uai: required(t, layout, &["etablissement", "Code UAI de l'établissement"])?,
            codes: vec![required(t, layout, &["diplome"])?],
            millesime: required(t, layout, PROMO)?,
            libelle_etablissement: find(t, &["denomination_principale", "Établissement"]),
            breakdown: BREAKDOWN
                .iter()
                .filter_map(|names| find(t, names))
                .collect(),
            nb_sortant: required(t, layout, &["nb_sortants", "Nombre de sortants"])?,
            nb_poursuite_etudes: required(
                t,
                layout,
                &["nb_poursuivants", "Nombre de poursuivants"],
            )?,
            nb_diplome: None,
            nb_en_emploi: per_mois(t, |m| format!("nb_sortants_en_emploi_sal_fr_{m}")),
            taux_en_emploi: per_mois(t, |m| format!("tx_sortants_en_emploi_sal_fr_{m}")),
            taux_poursuite_etudes: None,
            part_en_emploi_6_mois: None,
            part_autres_situations_6_mois: None,
            salaires,
        })
    }

    /// The API layout: field ids only, no breakdown, the code in `diplome`
    /// or `diplome_consol` (whichever exists: at least one must), counts of
    /// graduates and the API's own shares instead of employment rates.
    fn api(t: &RawTable, salaires: [Option<Col>; 3]) -> Result<Columns> {
        let layout = Layout::Api;
        let codes: Vec<Col> = ["diplome", "diplome_consol"]
            .iter()
            .filter_map(|n| find(t, &[n]))
            .collect();
        if codes.is_empty() {
            required(t, layout, &["diplome", "diplome_consol"])?;
        }
        Ok(Columns {
            layout,
            uai: required(t, layout, &["etablissement"])?,
            codes,
            millesime: required(t, layout, &["annee_universitaire"])?,
            libelle_etablissement: find(t, &["denomination_principale"]),
            breakdown: Vec::new(),
            nb_sortant: required(t, layout, &["nb_sortants"])?,
            nb_poursuite_etudes: required(t, layout, &["nb_poursuivants"])?,
            nb_diplome: find(t, &["nb_diplomes"]),
            nb_en_emploi: per_mois(t, |m| format!("nb_in_dsn_{m}")),
            taux_en_emploi: [None, None, None, None],
            taux_poursuite_etudes: find(t, &["taux_poursuivant"]),
            part_en_emploi_6_mois: find(t, &["taux_in_dsn_6"]),
            part_autres_situations_6_mois: find(t, &["taux_autre_6"]),
            salaires,
        })
    }

    /// Whether every breakdown column of the row reads `ensemble`.
    pub(super) fn is_headline(&self, row: &Row) -> bool {
        self.breakdown
            .iter()
            .all(|c| row.get(c).eq_ignore_ascii_case("ensemble"))
    }

    /// A headline row as a `MesureRow`, or the reason it is rejected.
    ///
    /// The checks run in the order of the reasons a rejected row can carry:
    /// the UAI, the SISE code, the millésime, then each count, then the
    /// rates and salaries.
    pub(super) fn stage_row(&self, row: &Row, file: &Arc<PathBuf>) -> Result<MesureRow, String> {
        let uai = row.get(&self.uai);
        if !is_valid_uai(uai) {
            return Err(format!(
                "invalid_uai: {} \"{uai}\" is not a UAI (7 digits and their check letter ABCDEFGHJKLMNPRSTUVWXYZ[n mod 23])",
                self.uai.name()
            ));
        }
        let code = self.code(row)?;
        let millesime = self
            .millesime(row)
            .map_err(|m| format!("unknown_millesime: {}: {m}", self.millesime.name()))?;
        let counts = self.counts(row)?;
        let source_rates = self.source_rates(row)?;
        let salaires = self.salaires(row)?;
        Ok(MesureRow {
            millesime,
            filiere: Filiere::Superieur,
            code_certification: code.into(),
            code_certification_type: CodeType::Sise,
            niveau: Niveau::Etablissement(uai.into()),
            source_rates: kept_rates(&counts, source_rates),
            counts: counts.into(),
            salaires: salaires.into(),
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

    /// The row's SISE code: the first non-empty of the code columns (the API
    /// fills `diplome` or `diplome_consol`), checked as a SISE code.
    fn code<'r>(&self, row: &'r Row) -> Result<&'r str, String> {
        let (code_col, code) = self
            .codes
            .iter()
            .map(|c| (c, row.get(c)))
            .find(|(_, v)| !v.is_empty())
            .unwrap_or((&self.codes[0], ""));
        check_code(CodeType::Sise, code)
            .map_err(|m| format!("invalid_sise: {}: {m}", code_col.name()))?;
        Ok(code)
    }

    /// The row's counts. The file gives leavers and students who go on
    /// studying, not the final-year total: that total is their sum. A count
    /// of leavers in employment above the leavers rejects the row.
    fn counts(&self, row: &Row) -> Result<Counts, String> {
        let count = |c: &Col| parse_count(c, row.get(c));
        let opt_count = |c: &Option<Col>| c.as_ref().map_or(Ok(None), count);
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
        self.check_emploi(nb_sortant, &nb_en_emploi)?;
        Ok(counts)
    }

    /// Leavers in employment cannot outnumber the leavers, at any delay:
    /// the first delay where they do is the row's reject reason.
    fn check_emploi(
        &self,
        nb_sortant: Option<i64>,
        nb_en_emploi: &[Option<i64>; 4],
    ) -> Result<(), String> {
        let Some(sortants) = nb_sortant else {
            return Ok(());
        };
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
        Ok(())
    }

    /// The rates as the source publishes them. The source's one rate of
    /// further study serves as both `taux_` and `part_poursuite_etudes`.
    fn source_rates(&self, row: &Row) -> Result<SourceRates, String> {
        let value = |c: &Option<Col>| c.as_ref().map_or(Ok(None), |c| parse_value(c, row.get(c)));
        let [t6, t12, t18, t24] = &self.taux_en_emploi;
        let taux_poursuite = value(&self.taux_poursuite_etudes)?;
        Ok(SourceRates {
            taux_en_emploi_6_mois: value(t6)?,
            taux_en_emploi_12_mois: value(t12)?,
            taux_en_emploi_18_mois: value(t18)?,
            taux_en_emploi_24_mois: value(t24)?,
            taux_poursuite_etudes: taux_poursuite,
            part_en_emploi_6_mois: value(&self.part_en_emploi_6_mois)?,
            part_poursuite_etudes: taux_poursuite,
            part_autres_situations_6_mois: value(&self.part_autres_situations_6_mois)?,
        })
    }

    /// The salary quartiles at 12 months, where the file has them.
    fn salaires(&self, row: &Row) -> Result<Salaires, String> {
        let value = |c: &Option<Col>| c.as_ref().map_or(Ok(None), |c| parse_value(c, row.get(c)));
        let [q1, q2, q3] = &self.salaires;
        Ok(Salaires {
            salaire_12_mois_q1: value(q1)?,
            salaire_12_mois_q2: value(q2)?,
            salaire_12_mois_q3: value(q3)?,
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

/// Which layout a file is in, told by the column that names its year: the
/// API's `annee_universitaire` or the open data's `promo` (or its labels).
fn detect_layout(t: &RawTable) -> Result<Layout> {
    if find(t, &["annee_universitaire"]).is_some() {
        Ok(Layout::Api)
    } else if find(t, PROMO).is_some() {
        Ok(Layout::OpenData)
    } else {
        Err(Error::file(
            &t.path,
            "not an InserSup extract: no column promo (open data fr-esr-insersup) or annee_universitaire (InserSup API); check that this is the right file",
        ))
    }
}

/// A column the layout cannot do without: its absence stops the file, with
/// the columns found so that a wrong file is seen at once.
fn required(t: &RawTable, layout: Layout, names: &[&str]) -> Result<Col> {
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
}

/// One optional column per delay (6, 12, 18, 24 months), named by `name`.
fn per_mois(t: &RawTable, name: impl Fn(u32) -> String) -> [Option<Col>; 4] {
    MOIS.map(|m| find(t, &[name(m).as_str()]))
}

/// The salary quartiles at 12 months: the API's national-diploma figure
/// first where the layout has it, then the field id, then (for the median)
/// the open data's label.
fn salaire_columns(t: &RawTable, layout: Layout) -> [Option<Col>; 3] {
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
    [
        salaire(1, &[]),
        salaire(2, &[SALAIRE_MEDIAN_12_LABEL]),
        salaire(3, &[]),
    ]
}
