//! The data.education.gouv.fr "formation fine" files: one row per
//! millésime × establishment × certification, rates only. The layout is
//! described in the parent module.

use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{self, Col, DelimitedOptions, RawTable};
use crate::rules::codes::check_code;
use crate::rules::filiere::Filiere;
use crate::staging::mesures::{Counts, MesureRow, Niveau, Salaires, SourceRates, Staged};
use crate::staging::reference::Reference;

use super::certifications::describe_key;
use super::fields::*;
use super::PERCENT;

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
            if code_type == crate::rules::codes::CodeType::MefStat11 {
                crate::rules::codes::check_mef_stat_11_end(code)
                    .map_err(|m| reason("invalid_code", format!("{}: {m}", code_col.name())))?;
            }
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
            check_devenir(&source_rates)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::codes::CodeType;
    use crate::staging::inserjeunes::reason_tag;
    use crate::staging::inserjeunes::test_support::{fixture, write};

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
}
