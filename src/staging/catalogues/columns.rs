//! A catalogue's own column names (issue 9): any platform's export is
//! measured without editing it, by saying which of its columns holds each
//! field of the generic layout, and what its filière values mean.
//!
//! ```toml
//! [[inputs.catalogues]]
//! name = "parcoursup_2024"
//! path = "catalogues/parcoursup_2024.csv"
//! columns = { uai = "UAI", code = "MEFSTAT11", filiere = "STATUT", libelle = "LIBELLÉFORMATION" }
//! filiere_values = { ST = "pro", AP = "apprentissage" }
//! default_filiere = "pro"   # for offers whose filière column is empty or absent
//! ```
//!
//! Column names are matched on their ASCII letters and digits, like every
//! catalogue column (`LIBELLÉFORMATION` = `LIBELLEFORMATION`). A field not
//! named keeps its generic name when the file has it (`academie`, `capacite`…).

use std::collections::BTreeMap;

use crate::rules::filiere::Filiere;

use super::text::ascii_key;

/// The fields of the generic layout a catalogue's columns can be mapped to.
pub const FIELDS: [&str; 9] = [
    "uai",
    "code",
    "filiere",
    "code_type",
    "academie",
    "libelle",
    "capacite",
    "uai_gestionnaire",
    "uai_formateur",
];

/// Which column holds each field, and what the filière values mean.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueColumns {
    /// Field of [`FIELDS`] → the catalogue's column name.
    pub names: BTreeMap<String, String>,
    /// A value of the filière column (compared on its ASCII letters and
    /// digits, case ignored) → its filière.
    pub filiere_values: BTreeMap<String, Filiere>,
    /// The filière of an offer whose filière is empty or not given.
    pub default_filiere: Option<Filiere>,
}

impl CatalogueColumns {
    /// Checks a mapping as written in a pipeline file or on the command line.
    pub fn parse(
        names: &BTreeMap<String, String>,
        filiere_values: &BTreeMap<String, String>,
        default_filiere: Option<&str>,
    ) -> Result<Self, String> {
        for (field, column) in names {
            if !FIELDS.contains(&field.as_str()) {
                return Err(format!(
                    "columns: \"{field}\" is not a catalogue field (expected {})",
                    FIELDS.join(", ")
                ));
            }
            if column.trim().is_empty() {
                return Err(format!("columns.{field} names no column"));
            }
        }
        let mut values = BTreeMap::new();
        for (value, filiere) in filiere_values {
            let f = Filiere::parse(filiere).map_err(|e| format!("filiere_values.{value}: {e}"))?;
            values.insert(ascii_key(value), f);
        }
        let default_filiere = default_filiere
            .map(|f| Filiere::parse(f).map_err(|e| format!("default_filiere: {e}")))
            .transpose()?;
        Ok(CatalogueColumns {
            names: names.clone(),
            filiere_values: values,
            default_filiere,
        })
    }

    /// Reads `FIELD=COLUMN` pairs (the command line's `--column`).
    pub fn parse_pair(pair: &str) -> Result<(String, String), String> {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("\"{pair}\": expected FIELD=COLUMN (e.g. code=MEFSTAT11)"))?;
        Ok((k.trim().to_string(), v.trim().to_string()))
    }

    /// The column that holds `field`: its mapped name, else the field's own.
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.names.get(field).map_or(field, String::as_str)
    }

    /// Whether `field` was mapped explicitly (then its column must exist).
    pub fn is_mapped(&self, field: &str) -> bool {
        self.names.contains_key(field)
    }

    /// The filière of a value of the filière column: the map first, then
    /// the words of `Filiere::parse`; `Err` for a value neither knows;
    /// `Ok(None)` for an empty value without a default.
    pub fn filiere(&self, value: &str) -> Result<Option<Filiere>, String> {
        if value.trim().is_empty() {
            return Ok(self.default_filiere);
        }
        if let Some(f) = self.filiere_values.get(&ascii_key(value)) {
            return Ok(Some(*f));
        }
        Filiere::parse(value).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn maps_columns_and_filiere_values() {
        let c = CatalogueColumns::parse(
            &map(&[("uai", "UAI"), ("code", "MEFSTAT11"), ("filiere", "STATUT")]),
            &map(&[("Sous statut scolaire", "pro"), ("APPR", "apprentissage")]),
            Some("agricole"),
        )
        .unwrap();
        assert_eq!(c.column("code"), "MEFSTAT11");
        assert_eq!(c.column("libelle"), "libelle");
        assert_eq!(c.filiere("sous statut SCOLAIRE"), Ok(Some(Filiere::Pro)));
        assert_eq!(c.filiere("appr"), Ok(Some(Filiere::Apprentissage)));
        assert_eq!(c.filiere("apprentissage"), Ok(Some(Filiere::Apprentissage)));
        assert_eq!(c.filiere(""), Ok(Some(Filiere::Agricole)));
        assert!(c.filiere("CPGE").is_err());
    }

    #[test]
    fn rejects_unknown_fields_and_filieres() {
        let e = CatalogueColumns::parse(&map(&[("cfd", "X")]), &map(&[]), None).unwrap_err();
        assert!(e.contains("\"cfd\" is not a catalogue field"), "{e}");
        let e = CatalogueColumns::parse(&map(&[]), &map(&[("ST", "voie pro")]), None).unwrap_err();
        assert!(e.starts_with("filiere_values.ST"), "{e}");
        assert_eq!(
            CatalogueColumns::parse_pair("code = MEF STAT 11"),
            Ok(("code".into(), "MEF STAT 11".into()))
        );
        assert!(CatalogueColumns::parse_pair("code").is_err());
    }
}
