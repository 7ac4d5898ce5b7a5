//! The checks of a CSV decided on the typed rows it is written from.
//!
//! A table's CSV and Parquet written together by this process from the
//! same rows (`output::table::TableWriter`) say nothing those rows do not:
//! each cell's text is a function of its value (an integer's digits, a
//! date's `AAAA-MM-JJ`, `true` or `false`, a number's shortest exact
//! writing, a text as it is, with a `'` before a formula-like one,
//! `rules::spreadsheet`), the header is the columns' names, and the writer
//! writes UTF-8 without a BOM and `\n` after each line. So the checks of
//! [`super::validate_csv`] can be decided on the values as they are written,
//! and the release need not read the CSV back (issue 13: reading every CSV
//! back was nearly all of a release's time, and at ×100 six gigabytes of
//! reads; decoding the Parquet again instead cost as much).
//!
//! [`TypedRows`] only ever says that a table is clear. A problem, or a cell
//! whose text it cannot vouch for (a key cell missing, which a CSV cannot
//! tell from an empty text; a key not strictly above the one before),
//! makes it say nothing (and so does a `\r` in the CSV, which the encoding
//! check reports: the writer watches its bytes for one, `TableWriter`):
//! the release then reads the CSV back and checks it as any other, and the
//! messages name its lines as before.

use std::cmp::Ordering;

use polars::prelude::{AnyValue, Column, DataFrame, DataType};

use super::{check_cell, check_range};
use crate::release::keys::{adjacent_key_orders, key_cmp, key_of};
use crate::release::pattern::Pattern;
use crate::release::schema::{
    compile, source_columns, table_schema, Field, FieldType, TableSchema, COVERAGE_TABLE, TABLES,
};
use crate::rules::spreadsheet::neutralise;

/// What a table's checks depend on: its fields' types and constraints, in
/// order, and its primary key (a schema's titles and descriptions do not
/// change a check).
#[derive(Debug, Clone, PartialEq)]
pub struct Checks {
    fields: Vec<Field>,
    primary_key: Vec<String>,
}

impl Checks {
    pub fn of(schema: &TableSchema) -> Checks {
        let fields = schema
            .fields
            .iter()
            .map(|f| Field {
                description: String::new(),
                example: String::new(),
                ..f.clone()
            })
            .collect();
        Checks {
            fields,
            primary_key: schema.primary_key.clone(),
        }
    }
}

/// A table's typed rows, checked a chunk at a time as they are written.
pub struct TypedRows {
    checks: Checks,
    /// Each field's pattern, compiled.
    patterns: Vec<Option<Pattern>>,
    /// Whether each field is one of the primary key's.
    in_key: Vec<bool>,
    /// The key of the last row checked.
    last_key: Option<Vec<AnyValue<'static>>>,
    /// No doubt so far.
    clear: bool,
}

impl TypedRows {
    /// The checks of the release table a stage writes as `source` (its
    /// file's name: `regionales`, `coverage_offers`), with the columns of
    /// `first`, its first chunk. `None` for a table the release does not
    /// publish, or whose schema it could not build (the release says why).
    pub fn for_stage_table(source: &str, first: &DataFrame) -> Option<TypedRows> {
        let doc = TABLES
            .iter()
            .find(|t| t.source == source)
            .or((COVERAGE_TABLE.source == source).then_some(&COVERAGE_TABLE))?;
        let columns = source_columns(first).ok()?;
        let schema = table_schema(doc, source, "", &columns, "").ok()?;
        TypedRows::new(&schema)
    }

    /// The checks of `schema`; `None` when a pattern does not compile (the
    /// CSV's checks will say so).
    pub fn new(schema: &TableSchema) -> Option<TypedRows> {
        let patterns = schema
            .fields
            .iter()
            .map(|f| compile(f).ok())
            .collect::<Option<_>>()?;
        Some(TypedRows {
            in_key: schema
                .fields
                .iter()
                .map(|f| schema.primary_key.contains(&f.name))
                .collect(),
            checks: Checks::of(schema),
            patterns,
            last_key: None,
            clear: true,
        })
    }

    /// Checks the next rows: every cell against its field, no key cell
    /// missing, each key strictly above the one before. Columns other than
    /// the schema's fields, in order, or of a type whose text this does
    /// not know, are a doubt too.
    pub fn check(&mut self, rows: &DataFrame) {
        if !self.clear || rows.height() == 0 {
            return;
        }
        let columns = rows.columns();
        let same_columns = columns.len() == self.checks.fields.len()
            && columns
                .iter()
                .zip(&self.checks.fields)
                .all(|(c, f)| c.name() == &f.name);
        if !same_columns {
            self.clear = false;
            return;
        }
        // The columns on every thread, beside the keys: the check runs
        // while the CSV and the Parquet are written, and one thread of it
        // was the last to finish each of the large tables (issue 13).
        use rayon::prelude::*;
        let (fields, patterns, in_key) = (&self.checks.fields, &self.patterns, &self.in_key);
        let (ascending, cells_clear) = rayon::join(
            || self.keys_ascend_from(rows),
            || {
                (0..columns.len())
                    .into_par_iter()
                    .all(|i| column_clear(&columns[i], &fields[i], &patterns[i], in_key[i]))
            },
        );
        self.last_key = ascending.1;
        self.clear = ascending.0 && cells_clear;
    }

    /// Whether each row's key is strictly above the one before, from the
    /// last row checked; and the key of the rows' last row, the next
    /// chunk's `last_key`.
    fn keys_ascend_from(&self, rows: &DataFrame) -> (bool, Option<Vec<AnyValue<'static>>>) {
        let key: Vec<&str> = self.checks.primary_key.iter().map(String::as_str).collect();
        if key.is_empty() {
            return (true, None);
        }
        let first = key_of(rows, 0, &key);
        let after_last = self
            .last_key
            .as_ref()
            .is_none_or(|last| key_cmp(last, &first) == Some(Ordering::Less));
        let ascending = after_last
            && adjacent_key_orders(rows, &key)
                .is_some_and(|orders| orders.iter().all(|o| *o == Ordering::Less));
        (ascending, Some(key_of(rows, rows.height() - 1, &key)))
    }

    /// What the rows were checked against, when every one was clear.
    pub fn finish(self) -> Option<Checks> {
        self.clear.then_some(self.checks)
    }
}

/// Whether every cell of one column passes, each as its CSV text would be.
fn column_clear(column: &Column, field: &Field, pattern: &Option<Pattern>, in_key: bool) -> bool {
    let series = column.as_materialized_series();
    let text_constraints =
        field.constraints.pattern.is_some() || field.constraints.values.is_some();
    // A missing cell is written empty, as an empty text is.
    let passes = |text: &str| check_cell(field, pattern, text).is_ok();
    let missing = || !in_key && passes("");
    match (series.dtype(), field.kind) {
        (DataType::String, FieldType::String) => {
            let Ok(values) = series.str() else {
                return false;
            };
            if !text_constraints {
                // Any text is a string: only a missing one can fail. Its
                // characters are not read (a table's texts are gathered
                // from everywhere in memory: reading each was most of the
                // checks' time).
                return values
                    .iter()
                    .all(|value| value.is_some_and(|t| !t.is_empty()) || missing());
            }
            // The text of the cell before that passed: the same outcome.
            // Compared where it lies, or, when short enough to lie in the
            // column's own views (polars keeps texts of up to 12 bytes
            // there), by its bytes; a long one's bytes lie anywhere in
            // memory, and are read only to be checked.
            let mut last: Option<&str> = None;
            let same = |a: &str, b: &str| {
                a.len() == b.len() && (a.as_ptr() == b.as_ptr() || (a.len() <= 12 && a == b))
            };
            values.iter().all(|value| match value {
                None | Some("") => missing(),
                Some(text) if last.is_some_and(|l| same(l, text)) => true,
                Some(text) => {
                    last = Some(text);
                    passes(&neutralise(text))
                }
            })
        }
        (DataType::Int64, FieldType::Integer | FieldType::Number) => {
            let Ok(values) = series.i64() else {
                return false;
            };
            values.iter().all(|value| match value {
                None => missing(),
                Some(n) if text_constraints => passes(&n.to_string()),
                // The range, on the number the text reads as (`check_type`).
                Some(n) => in_range(field, n as f64),
            })
        }
        (DataType::Float64, FieldType::Number) if !text_constraints => {
            let Ok(values) = series.f64() else {
                return false;
            };
            // A finite number is written in digits that read back as it.
            values.iter().all(|value| match value {
                None => missing(),
                Some(x) => x.is_finite() && in_range(field, x),
            })
        }
        (DataType::Boolean, FieldType::Boolean) => {
            let Ok(values) = series.bool() else {
                return false;
            };
            values.iter().all(|value| match value {
                None => missing(),
                Some(b) => passes(if b { "true" } else { "false" }),
            })
        }
        (DataType::Date, FieldType::Date) => {
            let Ok(values) = series.date() else {
                return false;
            };
            // Dates repeat (a closing date for many rows): each is written
            // out once in a row.
            let mut last: Option<(i32, bool)> = None;
            values.physical().iter().all(|value| {
                let Some(days) = value else {
                    return missing();
                };
                if let Some((_, clear)) = last.filter(|&(day, _)| day == days) {
                    return clear;
                }
                // A date of four-digit year is a date: its text is read
                // only for a pattern or an enum.
                let clear = date_of(days).is_some_and(|date| {
                    !text_constraints || passes(&date.format("%Y-%m-%d").to_string())
                });
                last = Some((days, clear));
                clear
            })
        }
        // A column of missing values only.
        (DataType::Null, _) => (0..series.len()).all(|_| missing()),
        _ => false,
    }
}

/// Whether `x` is within the field's minimum and maximum (`check_range`;
/// the message, for a problem, is the CSV's checks' to give).
fn in_range(field: &Field, x: f64) -> bool {
    let c = &field.constraints;
    check_range(c.minimum, c.maximum, "", x).is_ok()
}

/// The date `days` after 1970-01-01, when the CSV writer writes it as the
/// date check wants it (`%Y-%m-%d`, a year of four digits); `None` for a
/// year before 0 or after 9999.
fn date_of(days: i32) -> Option<chrono::NaiveDate> {
    use chrono::Datelike as _;
    // Day 1 of the common era is 719,163 days before 1970-01-01.
    let date = chrono::NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)?;
    (0..=9999).contains(&date.year()).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{CsvOptions, OutTable};
    use chrono::NaiveDate;

    /// A table's rows, each column as a stage builds it.
    struct Rows {
        /// An empty code is a missing one.
        codes: Vec<&'static str>,
        filieres: Vec<&'static str>,
        taux: Vec<Option<i64>>,
        libelles: Vec<&'static str>,
        salaires: Vec<Option<f64>>,
        fermes: Vec<bool>,
        dates: Vec<Option<NaiveDate>>,
    }

    fn clean() -> Rows {
        let day = NaiveDate::from_ymd_opt(2024, 8, 31);
        Rows {
            codes: vec!["40023203", "40025510", "50022137"],
            filieres: vec!["apprentissage", "pro", "pro"],
            taux: vec![Some(0), None, Some(100)],
            libelles: vec!["=SOMME(A1)", "CAP", ""],
            salaires: vec![Some(1.5), None, Some(1234.25)],
            fermes: vec![true, false, false],
            dates: vec![day, None, day],
        }
    }

    fn table(rows: &Rows) -> OutTable {
        let mut t = OutTable::new("t");
        t.str("code_certification", rows.codes.iter().copied())
            .str("filiere", rows.filieres.iter().copied())
            .int("taux_en_emploi_6_mois", rows.taux.iter().copied())
            .str("libelle", rows.libelles.iter().copied())
            .float("salaire_12_mois_q1", rows.salaires.iter().copied())
            .bool("formation_fermee", rows.fermes.iter().copied())
            .date("date_fermeture", rows.dates.iter().copied());
        t
    }

    fn schema_of(t: &OutTable) -> TableSchema {
        let doc = crate::release::schema::TABLE_T;
        let columns = source_columns(&t.to_dataframe().unwrap()).unwrap();
        table_schema(&doc, "t", "t", &columns, "0").unwrap()
    }

    /// What the typed rows say of a table, and what the checks of the CSV
    /// the writer makes of it find (the reference: the CSV read back).
    fn both(chunks: &[Rows]) -> (bool, usize) {
        let tables: Vec<OutTable> = chunks.iter().map(table).collect();
        let schema = schema_of(&tables[0]);
        let mut typed = TypedRows::new(&schema).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut writer =
            crate::output::table::TableWriter::create(dir.path(), "t", &CsvOptions::default())
                .unwrap();
        for t in tables {
            typed.check(&t.to_dataframe().unwrap());
            writer.write(t).unwrap();
        }
        writer.finish().unwrap();
        let csv = std::fs::read(dir.path().join("t.csv")).unwrap();
        let outcome = super::super::validate_bytes(&csv, "t.csv", &schema, b',').unwrap();
        (typed.finish().is_some(), outcome.problem_count)
    }

    /// Clear rows are clear both ways, and rows with any problem the CSV's
    /// checks find are never said clear.
    #[test]
    fn rows_said_clear_are_clear_in_their_csv() {
        assert_eq!(both(&[clean()]), (true, 0), "clean");
        type Change = fn(&mut Rows);
        let cases: Vec<(&str, Change)> = vec![
            ("above the maximum", |r| r.taux[0] = Some(120)),
            ("below the minimum", |r| r.taux[2] = Some(-1)),
            ("pattern", |r| r.codes[1] = "4002-55"),
            ("enum", |r| r.filieres[0] = "lycee"),
            ("key missing", |r| r.codes[0] = ""),
            ("key repeated", |r| r.codes[2] = "40025510"),
            ("not a number", |r| r.salaires[0] = Some(f64::NAN)),
            ("below zero", |r| r.salaires[0] = Some(-0.5)),
        ];
        for (what, change) in cases {
            let mut rows = clean();
            change(&mut rows);
            let (clear, problems) = both(&[rows]);
            assert!(problems > 0, "{what}: the CSV's checks find it");
            assert!(!clear, "{what}: not said clear");
        }
        // A doubt where the CSV is fine: keys distinct but not ascending.
        let mut rows = clean();
        rows.codes.swap(0, 1);
        assert_eq!(both(&[rows]), (false, 0), "keys out of order");
    }

    /// The keys are compared across chunks: a chunk starting at the last
    /// key of the one before is a repeated key.
    #[test]
    fn keys_strictly_ascend_across_chunks() {
        let first = clean();
        let mut next = clean();
        next.codes = vec!["50022137", "50022138", "50022139"];
        let (clear, problems) = both(&[first, next]);
        assert!(problems > 0 && !clear);
        let mut next = clean();
        next.codes = vec!["50022138", "50022139", "50022140"];
        assert_eq!(both(&[clean(), next]), (true, 0));
    }

    /// The dates the writer writes in four-digit years, and only them;
    /// their text is what the date check reads.
    #[test]
    fn dates_as_the_writer_writes_them() {
        let day = |y, m, d| {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
        };
        let text = |days| date_of(days).map(|d| d.format("%Y-%m-%d").to_string());
        for (y, m, d, expected) in [
            (2024, 8, 31, "2024-08-31"),
            (1969, 12, 31, "1969-12-31"),
            (999, 1, 2, "0999-01-02"),
        ] {
            assert_eq!(text(day(y, m, d)).as_deref(), Some(expected));
            let text = text(day(y, m, d)).unwrap();
            let field = crate::release::schema::field_of(
                crate::release::schema::column_doc("date_fermeture").unwrap(),
                false,
            );
            assert!(check_cell(&field, &None, &text).is_ok(), "{text}");
        }
        assert_eq!(text(day(10_000, 1, 1)), None);
        assert_eq!(text(day(-1, 12, 31)), None);
    }
}
