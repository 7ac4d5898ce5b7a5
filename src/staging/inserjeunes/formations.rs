//! The data.education.gouv.fr "formation fine" files: one row per
//! millésime × establishment × certification, rates only. The layout is
//! described in the parent module.

use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{Col, RawTable, Row};
use crate::rules::codes::{check_code, CodeType};
use crate::rules::filiere::Filiere;
use crate::staging::mesures::{MesureRow, Niveau, SourceRates, Staged};
use crate::staging::reference::Reference;

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
    load_in_chunks(path, FormationColumns::find, |cols, table, out| {
        let collector: &Collector = out;
        let staged = stage_each_row(table, |row| cols.stage_row(&row, reference, collector));
        for (row, staged) in table.rows().zip(staged) {
            match staged {
                Ok(m) => out.push_row(&row, m),
                Err(reason) => out.reject(&row, reason),
            }
        }
    })
}

/// The columns of a "formation fine" file: the year, the UAI, two rates and
/// the code column are required (the code column also gives the filière);
/// the rest are read where the file has them.
struct FormationColumns {
    annee: Col,
    uai: Col,
    taux_poursuite: Col,
    taux_6: Col,
    libelle: Option<Col>,
    region: Option<Col>,
    taux_12: Option<Col>,
    taux_18: Option<Col>,
    taux_24: Option<Col>,
    part_poursuite: Option<Col>,
    part_emploi: Option<Col>,
    part_autres: Option<Col>,
    code_col: Col,
    filiere: Filiere,
    code_type: CodeType,
}

impl FormationColumns {
    /// Finds the columns by name; a missing required one stops the file.
    fn find(table: &RawTable) -> Result<FormationColumns> {
        let [annee, uai, taux_poursuite, taux_6] = table.columns([
            "Année",
            "UAI",
            "Taux poursuite études",
            "Taux emploi 6 mois",
        ])?;
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
        let (code_col, filiere) = formation_code_column(table)?;
        Ok(FormationColumns {
            annee,
            uai,
            taux_poursuite,
            taux_6,
            libelle: table.optional_column("Libellé"),
            region: table.optional_column("Région"),
            taux_12,
            taux_18,
            taux_24,
            part_poursuite,
            part_emploi,
            part_autres,
            code_col,
            filiere,
            code_type: filiere.code_type(),
        })
    }

    /// One row as a [`MesureRow`], or the reason it is rejected: checked in
    /// the order millésime, UAI, région, code, rates, then the "devenir"
    /// shares against each other.
    fn stage_row(&self, row: &Row, reference: &Reference, out: &Collector) -> Checked<MesureRow> {
        let millesime = parse_millesime(row.get(&self.annee))?;
        let uai = parse_uai(row.get(&self.uai))?;
        check_region_name(reference, self.region.as_ref().map_or("", |c| row.get(c)))?;
        let code = self.code(row)?;
        let source_rates = self.source_rates(row)?;
        check_devenir(&source_rates)?;
        Ok(MesureRow {
            millesime,
            filiere: self.filiere,
            code_certification: code.into(),
            code_certification_type: self.code_type,
            niveau: Niveau::Etablissement(uai.into()),
            counts: Default::default(),
            // No counts: the rates are the row's figures.
            source_rates: source_rates.into(),
            salaires: Default::default(),
            libelle_etablissement: self
                .libelle
                .as_ref()
                .and_then(|c| row.opt(c))
                .map(str::to_string),
            origin: out.origin(row),
        })
    }

    /// The row's certification code, checked against the code type of its
    /// column; a MEF_STAT_11 also has its last digits checked, which a
    /// valid-looking code can still get wrong.
    fn code<'r>(&self, row: &'r Row) -> Checked<&'r str> {
        let code = row.get(&self.code_col);
        if code.is_empty() {
            return Err(reason(
                "missing_code",
                format!(
                    "{} is empty, expected {}",
                    self.code_col.name(),
                    self.code_type.expected()
                ),
            ));
        }
        check_code(self.code_type, code)
            .map_err(|m| reason("invalid_code", format!("{}: {m}", self.code_col.name())))?;
        if self.code_type == CodeType::MefStat11 {
            crate::rules::codes::check_mef_stat_11_end(code)
                .map_err(|m| reason("invalid_code", format!("{}: {m}", self.code_col.name())))?;
        }
        Ok(code)
    }

    /// The published rates, in percent; the file has no counts, so these
    /// are all the figures a row carries.
    fn source_rates(&self, row: &Row) -> Checked<SourceRates> {
        let rate = |col: &Col| parse_number(col.name(), row.get(col), &PERCENT);
        let opt_rate = |col: &Option<Col>| col.as_ref().map_or(Ok(None), rate);
        Ok(SourceRates {
            taux_en_emploi_6_mois: rate(&self.taux_6)?,
            taux_en_emploi_12_mois: opt_rate(&self.taux_12)?,
            taux_en_emploi_18_mois: opt_rate(&self.taux_18)?,
            taux_en_emploi_24_mois: opt_rate(&self.taux_24)?,
            taux_poursuite_etudes: rate(&self.taux_poursuite)?,
            part_en_emploi_6_mois: opt_rate(&self.part_emploi)?,
            part_poursuite_etudes: opt_rate(&self.part_poursuite)?,
            part_autres_situations_6_mois: opt_rate(&self.part_autres)?,
        })
    }
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
