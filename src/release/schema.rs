//! The release's Table Schemas.
//!
//! Every published column is described once, in `dictionary::DICTIONARY`
//! (type, French description, example, constraints), and every published
//! table once, in `dictionary::TABLES` (title, description, primary key). A
//! table's Table Schema (`<table>.schema.json`, in the form
//! schema.data.gouv.fr and Validata expect) is built from the two, in the
//! order of the table's columns. A column the dictionary does not know is a
//! build error: nothing ships undocumented.
//!
//! This module describes; `validate` checks the CSVs against what it writes.

use polars::prelude::DataType;
use serde::{Deserialize, Serialize};

pub use crate::release::dictionary::{
    column_doc, ColumnDoc, FieldType, TableDoc, COVERAGE_TABLE, DICTIONARY, PATTERN_CFD,
    PATTERN_CODE_CERTIFICATION, PATTERN_MEF_STAT_11, PATTERN_MILLESIME, PATTERN_SISE, PATTERN_UAI,
    TABLES,
};
use crate::release::pattern::Pattern;

// ---- Table Schema documents ----------------------------------------------------

/// The `$schema` of the Table Schemas, as schema.data.gouv.fr writes it.
pub const TABLE_SCHEMA_PROFILE: &str = "https://frictionlessdata.io/schemas/table-schema.json";

/// A Table Schema (`<table>.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSchema {
    #[serde(rename = "$schema")]
    pub profile: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub country_code: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<License>,
    pub fields: Vec<Field>,
    pub missing_values: Vec<String>,
    pub primary_key: Vec<String>,
}

impl TableSchema {
    /// The descriptions with the run's threshold in place of the dictionary's
    /// placeholder.
    pub fn with_seuil(mut self, seuil: i64) -> TableSchema {
        let fill = |text: &mut String| {
            *text = text.replace(
                crate::release::dictionary::SEUIL_PLACEHOLDER,
                &seuil.to_string(),
            );
        };
        fill(&mut self.description);
        for f in &mut self.fields {
            fill(&mut f.description);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct License {
    pub name: String,
    pub title: String,
    pub path: String,
}

impl License {
    /// Licence Ouverte 2.0 (Etalab).
    pub fn etalab() -> License {
        License {
            name: "etalab-2.0".into(),
            title: "Licence Ouverte / Open Licence version 2.0".into(),
            path: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub format: String,
    pub description: String,
    pub example: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_values: Option<Vec<String>>,
    pub constraints: Constraints,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
}

/// A column of a table to publish: its name and the type its Parquet holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceColumn {
    pub name: String,
    /// `None` for a column whose values are all missing (no type to read).
    pub kind: Option<FieldType>,
}

/// Builds the Table Schema of a table whose columns are `columns`, in order.
/// Fails on a column the dictionary does not know, or whose Parquet type is
/// not the dictionary's, naming it.
pub fn table_schema(
    doc: &TableDoc,
    name: &str,
    title: &str,
    columns: &[SourceColumn],
    version: &str,
) -> Result<TableSchema, String> {
    let mut fields = Vec::with_capacity(columns.len());
    for c in columns {
        let field = match doc.column(&c.name) {
            Some(d) => {
                if let Some(kind) = c.kind {
                    if kind != d.kind {
                        return Err(format!(
                            "column `{}` holds {} values, but the release dictionary (src/release/dictionary.rs) describes it as {}; fix the stage or the dictionary",
                            c.name,
                            kind.as_str(),
                            d.kind.as_str()
                        ));
                    }
                }
                let in_key = doc.primary_key.contains(&d.name);
                let mut field = field_of(d, in_key);
                if doc.optional.contains(&d.name) && !in_key {
                    field.constraints.required = false;
                }
                field
            }
            None => {
                return Err(format!(
                    "column `{}` is not described in the release dictionary (src/release/dictionary.rs): describe it (type, French description, example, constraints) before publishing it",
                    c.name
                ))
            }
        };
        fields.push(field);
    }
    for key in doc.primary_key {
        if !columns.iter().any(|c| c.name == *key) {
            return Err(format!(
                "the primary key column `{key}` is missing from the table"
            ));
        }
    }
    Ok(TableSchema {
        profile: TABLE_SCHEMA_PROFILE.into(),
        name: name.into(),
        title: title.into(),
        description: doc.description.into(),
        country_code: "FR".into(),
        version: version.into(),
        licenses: vec![License::etalab()],
        fields,
        missing_values: vec![String::new()],
        primary_key: doc.primary_key.iter().map(|k| k.to_string()).collect(),
    })
}

pub(crate) fn field_of(d: &ColumnDoc, in_key: bool) -> Field {
    let boolean = d.kind == FieldType::Boolean;
    Field {
        name: d.name.into(),
        kind: d.kind,
        format: "default".into(),
        description: d.description.into(),
        example: d.example.into(),
        true_values: boolean.then(|| vec!["true".to_string()]),
        false_values: boolean.then(|| vec!["false".to_string()]),
        constraints: Constraints {
            // Flags are always written (true or false).
            required: d.required || in_key || boolean,
            pattern: d.pattern.map(str::to_string),
            values: (!d.values.is_empty())
                .then(|| d.values.iter().map(|v| v.to_string()).collect()),
            minimum: d.minimum,
            maximum: d.maximum,
        },
    }
}

/// A table keyed by its `code_certification`, for tests.
#[cfg(test)]
pub(crate) const TABLE_T: TableDoc = TableDoc {
    source: "t",
    stage: "indicators",
    title: "t",
    description: "t",
    primary_key: &["code_certification"],
    optional: &[],
    overrides: &[],
};

/// The columns of a frame as a release publishes them: their names and
/// Table Schema types; an error names a column of a type it cannot publish.
pub fn source_columns(df: &polars::prelude::DataFrame) -> Result<Vec<SourceColumn>, String> {
    df.columns()
        .iter()
        .map(|c| {
            Ok(SourceColumn {
                name: c.name().to_string(),
                kind: field_type(c.dtype()).ok_or_else(|| {
                    format!(
                        "column `{}` has the Parquet type {}, which a release cannot publish",
                        c.name(),
                        c.dtype()
                    )
                })?,
            })
        })
        .collect()
}

/// The Table Schema type of a Parquet column; `Some(None)` for a column of
/// nulls only, `None` for a type a release does not publish.
pub fn field_type(dtype: &DataType) -> Option<Option<FieldType>> {
    Some(Some(match dtype {
        DataType::String => FieldType::String,
        DataType::Boolean => FieldType::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => FieldType::Integer,
        DataType::Float32 | DataType::Float64 => FieldType::Number,
        DataType::Date => FieldType::Date,
        DataType::Null => return Some(None),
        _ => return None,
    }))
}

/// Compiles a field's pattern, if any.
pub fn compile(field: &Field) -> Result<Option<Pattern>, String> {
    field
        .constraints
        .pattern
        .as_deref()
        .map(Pattern::compile)
        .transpose()
        .map_err(|e| format!("field `{}`: {e}", field.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_key_is_described() {
        for t in TABLES.iter().chain([&COVERAGE_TABLE]) {
            for k in t.primary_key {
                assert!(column_doc(k).is_some(), "{}: key {k}", t.source);
            }
        }
    }

    #[test]
    fn unknown_columns_fail() {
        let cols = vec![
            SourceColumn {
                name: "code_certification".into(),
                kind: Some(FieldType::String),
            },
            SourceColumn {
                name: "colonne_mystere".into(),
                kind: Some(FieldType::Integer),
            },
        ];
        let e = table_schema(&TABLES[0], "t", "T", &cols, "1").unwrap_err();
        assert!(e.contains("`colonne_mystere` is not described"), "{e}");
    }

    #[test]
    fn overrides_and_optional_columns() {
        let cols: Vec<SourceColumn> = ["catalogue", "line", "uai", "filiere"]
            .iter()
            .map(|n| SourceColumn {
                name: n.to_string(),
                kind: None,
            })
            .collect();
        let s = table_schema(&COVERAGE_TABLE, "c", "C", &cols, "1").unwrap();
        assert_eq!(
            s.fields[2].constraints.pattern, None,
            "raw UAI of a catalogue"
        );
        assert!(!s.fields[3].constraints.required);
        assert!(s.fields[0].constraints.required);
    }

    #[test]
    fn a_type_mismatch_names_the_column() {
        let cols = vec![SourceColumn {
            name: "code_certification".into(),
            kind: Some(FieldType::Integer),
        }];
        let e = table_schema(&TABLES[0], "t", "T", &cols, "1").unwrap_err();
        assert!(e.contains("`code_certification` holds integer"), "{e}");
    }

    #[test]
    fn schema_json_has_the_expected_keys() {
        let cols = vec![SourceColumn {
            name: "code_certification".into(),
            kind: Some(FieldType::String),
        }];
        let s = table_schema(&TABLES[0], "t", "T", &cols, "1").unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["$schema"], TABLE_SCHEMA_PROFILE);
        assert_eq!(v["missingValues"], serde_json::json!([""]));
        assert_eq!(v["primaryKey"], serde_json::json!(["code_certification"]));
        assert_eq!(v["fields"][0]["constraints"]["required"], true);
        assert_eq!(
            v["fields"][0]["constraints"]["pattern"],
            PATTERN_CODE_CERTIFICATION
        );
        let back: TableSchema = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
