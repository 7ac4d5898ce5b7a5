//! Establishment-wide figures: the open-data CFA (or lycée) file and the
//! DEPP "valeur ajoutée" files, told apart by their header. How the DEPP
//! headers changed year by year is described in the parent module.

use std::ops::RangeInclusive;
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::table::{header_key, RawRow};
use crate::input::{RawTable, Row};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::staging::mesures::{EtablissementRow, SourceRates, Staged};
use crate::staging::reference::Reference;

use super::fields::*;
use super::{PERCENT, VALEUR_AJOUTEE};

/// Loads establishment-wide figures: the open-data layout
/// (`fr-en-inserjeunes-cfa.csv`) or a DEPP "valeur ajoutée" file
/// (`depp-2022-etablissements-2021_2022-pro.csv`), told apart by the header.
pub fn load_etablissements(path: &Path, reference: &Reference) -> Result<Staged> {
    let open = |table: &RawTable| EtablissementFile::open(path, &table.headers);
    load_in_chunks(path, open, |file, table, out| {
        let collector: &Collector = out;
        let staged = stage_each_row(table, |row| match file.row_type(row.raw()) {
            RowType::Ensemble => match file.stage_row(row.raw(), &row, reference, collector) {
                Ok(e) => Staging::Row(e),
                Err(reason) => Staging::Reject(reason),
            },
            RowType::Breakdown(skipped) => Staging::Skip(skipped),
            RowType::Unknown(reason) => Staging::Reject(reason),
        });
        for (row, staged) in table.rows().zip(staged) {
            match staged {
                Staging::Row(e) => {
                    let what = || format!("{} {} {}", e.millesime, e.filiere, e.uai);
                    match out.keys.first(&e, &out.staged.etablissements, what) {
                        Ok(()) => out.staged.etablissements.push(e),
                        Err(reason) => out.reject(&row, reason),
                    }
                }
                Staging::Skip(reason) => out.skip(reason),
                Staging::Reject(reason) => out.reject(&row, reason),
            }
        }
    })
}

/// What became of a row, before its key is checked against the rows
/// before it. Nearly every row is staged: the variants' sizes differ, but
/// a box would be an allocation per row.
#[allow(clippy::large_enum_variant)]
enum Staging {
    Row(EtablissementRow),
    /// A breakdown row, skipped for that reason.
    Skip(String),
    Reject(String),
}

/// What every row of one establishment file shares: where its columns are,
/// its header (to name them in messages), and the millésime (a DEPP file's,
/// from its name) and filière of its rows.
struct EtablissementFile {
    cols: EtablissementColumns,
    headers: Vec<String>,
    /// `None` in the open-data layout, which has a millésime per row.
    millesime: Option<Millesime>,
    filiere: Filiere,
}

/// Whether a row is the establishment's headline figure (`ensemble`), a
/// breakdown (`dont …`, skipped and counted) or neither (rejected).
enum RowType {
    Ensemble,
    /// The skip's reason.
    Breakdown(String),
    /// The reject's reason.
    Unknown(String),
}

impl EtablissementFile {
    /// Finds the columns from the header and, for a DEPP file, reads the
    /// millésime and filière from the file's name (the header does not
    /// have them).
    fn open(path: &Path, headers: &[String]) -> Result<EtablissementFile> {
        let filiere_hint = depp_file_name(path).ok().map(|(_, f)| f);
        let cols = detect_etablissement_columns(headers, filiere_hint)
            .map_err(|m| Error::file(path, m))?;
        // The open-data layout has a millésime per row; a DEPP file's is in its name.
        let (millesime, filiere) = match (cols.layout, cols.annee) {
            (EtablissementLayout::OpenData, Some(_)) => (None, open_data_filiere(path)),
            _ => {
                let (m, f) = depp_file_name(path).map_err(|m| Error::file(path, m))?;
                (Some(m), f)
            }
        };
        Ok(EtablissementFile {
            cols,
            headers: headers.to_vec(),
            millesime,
            filiere,
        })
    }

    /// A DEPP pro file breaks each establishment down into `dont …` rows
    /// after its `ensemble` row: only the `ensemble` row is staged. A file
    /// without a row-type column has only headline rows.
    fn row_type(&self, raw: &RawRow) -> RowType {
        let Some(i) = self.cols.row_type else {
            return RowType::Ensemble;
        };
        let row_type = field(raw, i);
        if row_type.eq_ignore_ascii_case("ensemble") {
            RowType::Ensemble
        } else if row_type.to_lowercase().starts_with("dont") {
            RowType::Breakdown(format!("breakdown row \"{row_type}\""))
        } else {
            RowType::Unknown(reason(
                "unknown_row_type",
                format!(
                    "{} \"{row_type}\" is neither ensemble nor a \"dont …\" breakdown",
                    self.cols.name(&self.headers, i)
                ),
            ))
        }
    }

    /// One headline row as an [`EtablissementRow`], or the reason it is
    /// rejected: millésime, UAI, région, then each figure, then the
    /// "devenir" shares against each other.
    fn stage_row(
        &self,
        raw: &RawRow,
        row: &Row,
        reference: &Reference,
        out: &Collector,
    ) -> Checked<EtablissementRow> {
        let cols = &self.cols;
        let get = |i: usize| field(raw, i);
        let millesime = match (self.millesime, cols.annee) {
            (Some(m), _) => m,
            (None, i) => parse_millesime(i.map_or("", get))?,
        };
        let uai = parse_uai(get(cols.uai))?;
        let region_libelle = cols.region.map_or("", get);
        check_region_name(reference, region_libelle)?;
        let number = |i: Option<usize>, range: &RangeInclusive<f64>| match i {
            Some(i) => parse_number(cols.name(&self.headers, i), get(i), range),
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
        check_devenir(&rates)?;
        Ok(EtablissementRow {
            millesime,
            filiere: self.filiere,
            uai: uai.into(),
            libelle: cols.libelle.map_or("", get).to_string(),
            region_libelle: region_libelle.into(),
            rates,
            taux_en_emploi_6_mois_attendu: number(cols.taux_6_attendu, &PERCENT)?,
            valeur_ajoutee_6_mois: number(cols.valeur_ajoutee, &VALEUR_AJOUTEE)?,
            source: cols.layout.source(),
            origin: out.origin(row),
        })
    }
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
    let header = Header {
        keys: headers.iter().map(|h| header_key(h)).collect(),
    };
    match header.find("Année") {
        Some(annee) => header.open_data_columns(annee),
        None => header.depp_columns(depp_filiere),
    }
}

/// An establishment file's header, as keys to look names up in.
struct Header {
    keys: Vec<String>,
}

impl Header {
    /// The column named `name`. Apostrophes may be typographic in a re-export.
    fn find(&self, name: &str) -> Option<usize> {
        let key = header_key(name);
        self.keys.iter().position(|k| k.replace('’', "'") == key)
    }

    /// Whether column `i` has a blank name (older DEPP files leave some
    /// columns unnamed: they are found by position).
    fn blank(&self, i: usize) -> bool {
        self.keys.get(i).is_some_and(|k| k.is_empty())
    }

    /// The open-data layout (it has an `Année` column): every column by
    /// name, UAI and the rate at 6 months required.
    fn open_data_columns(&self, annee: usize) -> std::result::Result<EtablissementColumns, String> {
        let find = |name: &str| self.find(name);
        let uai = find("UAI").ok_or("missing required column UAI (open-data layout)")?;
        let taux_6 = find("Taux emploi 6 mois")
            .ok_or("missing required column Taux emploi 6 mois (open-data layout)")?;
        Ok(EtablissementColumns {
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
        })
    }

    /// A DEPP "valeur ajoutée" header: the named columns by name, the
    /// blank ones by their place next to a named one, and the millésime and
    /// filière from the file's name (`depp_filiere`), without which the
    /// rows cannot be dated.
    fn depp_columns(
        &self,
        depp_filiere: Option<Filiere>,
    ) -> std::result::Result<EtablissementColumns, String> {
        let find = |name: &str| self.find(name);
        let expected = "expected the open-data header (Année;UAI;Libellé;Région;…;Taux emploi 6 mois;…) \
                        or a DEPP header (n°UAI de l'établissement;Libellé de l'établissement;Région;…;Taux;Taux attendu;Valeur ajoutée;…)";
        let uai = self
            .keys
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
        let layout = if self.keys.iter().any(|k| k.is_empty()) {
            EtablissementLayout::DeppBlank
        } else {
            EtablissementLayout::DeppNamed
        };
        let taux_poursuite = find("Taux de poursuite d'études")
            .or_else(|| (taux_6 > 0 && self.blank(taux_6 - 1)).then(|| taux_6 - 1));
        let row_type = self.depp_row_type(filiere, region)?;
        // Blank columns right after Valeur ajoutée: employment at 12, 18, 24 months.
        let mut later = (valeur_ajoutee + 1..self.keys.len()).take_while(|&i| self.blank(i));
        let (taux_12, taux_18, taux_24) = (later.next(), later.next(), later.next());
        Ok(EtablissementColumns {
            layout,
            annee: None,
            uai,
            libelle: self.keys.iter().position(|k| k.starts_with("libellé")),
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

    /// A DEPP pro file mixes `ensemble` rows with `dont …` breakdowns, told
    /// apart by a row-type column (named, or the blank one after Région):
    /// without it the headline rows cannot be found. Other filières have
    /// headline rows only.
    fn depp_row_type(
        &self,
        filiere: Filiere,
        region: Option<usize>,
    ) -> std::result::Result<Option<usize>, String> {
        match filiere {
            Filiere::Pro => {
                let after_region = region.map(|r| r + 1).filter(|&i| self.blank(i));
                Ok(Some(self.find("Dont apprentis en EPLE").or(after_region).ok_or(
                    "a DEPP pro file needs the row-type column (Dont apprentis en EPLE, or the blank column after Région) to tell ensemble rows from breakdowns",
                )?))
            }
            _ => Ok(None),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::inserjeunes::reason_tag;
    use crate::staging::inserjeunes::test_support::{fixture, write};

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
