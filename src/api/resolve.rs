//! Finding the figures a single-item request asks for: the code's rows at
//! the place, the millésime (the asked one, or the latest of the filière's
//! table: an older millésime is never used silently), a first year's
//! terminal year(s), and the sums of the filières view.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::data::{ReleaseData, Row};
use crate::api::query::{millesime_candidates, ApiError, CodeRef};
use crate::rules::codes::CodeType;
use crate::rules::filiere::Filiere;
use crate::rules::masquage::Masked;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;
use crate::stages::indicators::model::{publish, sum_counts, Indicateur, Origine, Taux};
use crate::staging::mesures::{Counts, Niveau, Salaires};

/// Where a request looks: the level's table and the place in it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub level: NiveauGeographique,
    /// "" (national), the région's INSEE code, or the UAI.
    pub place: &'a str,
}

/// The figures of an answer: one row's, or a sum's.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub counts: Counts,
    pub taux: Taux,
    pub salaires: Salaires,
    pub masked: Option<Masked>,
}

impl Figures {
    pub fn of_row(row: &Row) -> Figures {
        Figures {
            counts: row.counts,
            taux: row.taux,
            salaires: row.salaires,
            masked: row.masked,
        }
    }

    /// The published sum of several rows: counts summed (a count is known
    /// only if every row publishes it), then the threshold applied to the
    /// sum by the indicators stage's own rule.
    pub fn sum(rows: &[&Row], seuil: i64) -> Figures {
        if let [row] = rows {
            return Figures::of_row(row);
        }
        let Some(first) = rows.first() else {
            return Figures::default();
        };
        let counts = sum_counts(rows.iter().map(|r| r.counts));
        let row = Indicateur {
            millesime: first.millesime,
            filiere: first.filiere,
            code_certification: first.code.as_ref().into(),
            code_certification_type: first.filiere.code_type(),
            niveau: Niveau::National,
            counts: counts.into(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine: Origine::Source,
            donnee_source: Default::default(),
        };
        let p = publish(&row, seuil);
        Figures {
            counts: p.counts,
            taux: p.taux,
            salaires: p.salaires,
            masked: p.masked,
        }
    }
}

/// A single item, found.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// The code as asked.
    pub code: CodeRef,
    pub filiere: Filiere,
    pub millesime: Millesime,
    /// The rows whose figures are shown (one, or a first year's terminals).
    pub rows: Vec<&'a Row>,
    pub figures: Figures,
    /// The terminal years the figures are those of, for a first year
    /// without rows of its own.
    pub terminales: Vec<Arc<str>>,
}

/// The codes whose rows answer for `code` at the scope: its own, else its
/// terminal years (first years have no outcome of their own).
fn answering_codes<'a>(
    data: &'a ReleaseData,
    scope: Scope,
    code: &str,
) -> (Vec<&'a Row>, Vec<Arc<str>>) {
    let table = data.table(scope.level);
    let own: Vec<&Row> = table.rows_of(scope.place, code).collect();
    if !own.is_empty() {
        return (own, Vec::new());
    }
    let Some(terminales) = data.terminales.get(code) else {
        return (own, Vec::new());
    };
    let codes: Vec<Arc<str>> = terminales.iter().map(|t| t.code.clone()).collect();
    let rows = codes
        .iter()
        .flat_map(|t| table.rows_of(scope.place, t))
        .collect();
    (rows, codes)
}

/// The millésime to answer with among `rows` of one filière: the asked one
/// (or its other form), else the table's latest for the filière. `Err`: the
/// 404 naming the millésimes the code has.
fn choose_millesime(
    data: &ReleaseData,
    scope: Scope,
    filiere: Filiere,
    rows: &[&Row],
    asked: Option<Millesime>,
) -> Result<Millesime, ApiError> {
    let has = |m: Millesime| rows.iter().any(|r| r.millesime == m);
    // The asked millésime, else the latest of the filière's table; either in
    // its other form too (`2023` ↔ `2022_2023`: national figures come as one
    // year from the national file, as a pair when summed from the régions).
    let wanted = asked
        .or_else(|| data.table(scope.level).latest(filiere))
        .and_then(|m| millesime_candidates(m).into_iter().find(|c| has(*c)));
    wanted.ok_or_else(|| {
        let shown = asked
            .or_else(|| data.table(scope.level).latest(filiere))
            .map(|m| m.to_string())
            .unwrap_or_default();
        ApiError::no_millesime(&shown, &disponibles(rows))
    })
}

fn disponibles(rows: &[&Row]) -> Vec<String> {
    let set: BTreeSet<Millesime> = rows.iter().map(|r| r.millesime).collect();
    set.into_iter().rev().map(|m| m.to_string()).collect()
}

/// One code at one place.
pub fn find_one<'a>(
    data: &'a ReleaseData,
    scope: Scope,
    code: &CodeRef,
    asked: Option<Millesime>,
) -> Result<Found<'a>, ApiError> {
    let (rows, terminales) = answering_codes(data, scope, &code.code);
    // The filière: the first of the code type's that has rows.
    let filieres = Filiere::of_code_type(code.kind);
    let filiere = filieres
        .iter()
        .copied()
        .find(|f| rows.iter().any(|r| r.filiere == *f))
        .unwrap_or(filieres[0]);
    let rows: Vec<&Row> = rows.into_iter().filter(|r| r.filiere == filiere).collect();
    let millesime = choose_millesime(data, scope, filiere, &rows, asked)?;
    let rows: Vec<&Row> = rows
        .into_iter()
        .filter(|r| r.millesime == millesime)
        .collect();
    let figures = Figures::sum(&rows, data.seuil);
    Ok(Found {
        code: code.clone(),
        filiere,
        millesime,
        rows,
        figures,
        terminales,
    })
}

/// A block of the filières view: the sum over the codes of one filière.
#[derive(Debug, Clone)]
pub struct Block<'a> {
    pub filiere: Filiere,
    pub millesime: Millesime,
    pub rows: Vec<&'a Row>,
    pub figures: Figures,
}

/// The CFD of a code (itself for a CFD).
pub fn cfd_of(data: &ReleaseData, code: &CodeRef) -> Option<Arc<str>> {
    match code.kind {
        CodeType::Cfd => Some(Arc::from(code.code.as_str())),
        CodeType::MefStat11 => data
            .certifications
            .get(code.code.as_str())
            .map(|c| c.code_formation_diplome.clone())
            .filter(|c| !c.is_empty()),
        CodeType::Sise => None,
    }
}

/// `vue=filieres` or several codes: one block per filière, summing the
/// codes of that filière (with `vue=filieres`, a code brings the codes of
/// the same CFD in the other voie: the CFD for apprenticeship, its MEFs for
/// the voie scolaire). `Err`: no block has data at its millésime.
pub fn find_filieres<'a>(
    data: &'a ReleaseData,
    scope: Scope,
    codes: &[CodeRef],
    vue_filieres: bool,
    asked: Option<Millesime>,
) -> Result<Vec<Block<'a>>, ApiError> {
    let mut all: Vec<CodeRef> = codes.to_vec();
    if vue_filieres {
        for c in codes {
            let Some(cfd) = cfd_of(data, c) else { continue };
            let mut push = |code: &str, kind| {
                let r = CodeRef {
                    code: code.to_string(),
                    kind,
                };
                if !all.contains(&r) {
                    all.push(r);
                }
            };
            push(&cfd, CodeType::Cfd);
            for mef in data.mefs_of_cfd.get(&cfd).into_iter().flatten() {
                push(mef, CodeType::MefStat11);
            }
        }
    }
    let mut blocks = Vec::new();
    let mut seen_rows: Vec<&Row> = Vec::new();
    for filiere in Filiere::ALL {
        let mut rows: Vec<&Row> = Vec::new();
        for c in all
            .iter()
            .filter(|c| Filiere::of_code_type(c.kind).contains(&filiere))
        {
            let (own, _) = answering_codes(data, scope, &c.code);
            for r in own.into_iter().filter(|r| r.filiere == filiere) {
                if !rows.iter().any(|x| std::ptr::eq(*x, r)) {
                    rows.push(r);
                }
            }
        }
        if rows.is_empty() {
            continue;
        }
        seen_rows.extend(rows.iter().copied());
        let Ok(millesime) = choose_millesime(data, scope, filiere, &rows, asked) else {
            continue;
        };
        let rows: Vec<&Row> = rows
            .into_iter()
            .filter(|r| r.millesime == millesime)
            .collect();
        let figures = Figures::sum(&rows, data.seuil);
        blocks.push(Block {
            filiere,
            millesime,
            rows,
            figures,
        });
    }
    if blocks.is_empty() {
        let shown = asked
            .map(|m| m.to_string())
            .or_else(|| {
                let f = codes.first().map(|c| Filiere::default_for(c.kind))?;
                Some(data.table(scope.level).latest(f)?.to_string())
            })
            .unwrap_or_default();
        return Err(ApiError::no_millesime(&shown, &disponibles(&seen_rows)));
    }
    Ok(blocks)
}
