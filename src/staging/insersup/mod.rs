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
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::input::table::FormatKind;
use crate::input::{self, json, DelimitedOptions, RawTable};
use crate::rules::codes::Code;
use crate::rules::millesime::Millesime;
use crate::staging::mesures::{MesureRow, Niveau, Reject, Staged};

mod columns;
mod values;

use columns::Columns;

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
    let mut kept: HashMap<(Millesime, Code, String), u64> = HashMap::new();

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

#[cfg(test)]
mod tests {
    use super::values::millesime_annee_universitaire;
    use super::*;
    use crate::rules::codes::CodeType;
    use crate::rules::filiere::Filiere;
    use crate::staging::mesures::Salaires;

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
            assert_eq!(row.counts.get().nb_en_emploi_6_mois, None, "{missing}");
            assert_eq!(row.salaires.salaire_12_mois_q1, None, "{missing}");
            assert_eq!(row.counts.get().nb_en_emploi_12_mois, Some(25));
            // Rates, on a row without counts (where they are kept).
            let rest = format!(";;;;;;{missing};46,3;{missing};1850;2100");
            let staged = stage_csv(&[line("0062205P", "2400074", "2021", &rest)]);
            let row = only_row(&staged);
            assert_eq!(row.source_rates.taux_en_emploi_6_mois, None, "{missing}");
            assert_eq!(row.source_rates.taux_en_emploi_12_mois, Some(46.3));
        }
    }

    #[test]
    fn reads_decimal_commas_and_thousands_spaces() {
        let rest = "54;65;23;25;26;27;42,6;46.3;1 650,5;1850;2100";
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", rest)]);
        let row = only_row(&staged);
        assert_eq!(row.salaires.salaire_12_mois_q1, Some(1650.5));
        assert_eq!(row.salaires.salaire_12_mois_q2, Some(1850.0));
        // Rates are kept where a row has no counts (`kept_rates`).
        let rest = ";;;;;;42,6;46.3;1 650,5;1850;2100";
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", rest)]);
        let row = only_row(&staged);
        assert_eq!(row.source_rates.taux_en_emploi_6_mois, Some(42.6));
        assert_eq!(row.source_rates.taux_en_emploi_12_mois, Some(46.3));
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
        let c = only_row(&staged).counts.get();
        assert_eq!(
            (c.nb_sortant, c.nb_poursuite_etudes, c.nb_annee_term),
            (Some(54), Some(65), Some(119))
        );
        let rest = "54;nd;23;25;26;27;42,6;46,3;1650;1850;2100";
        let staged = stage_csv(&[line("0062205P", "2400074", "2021", rest)]);
        let c = only_row(&staged).counts.get();
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
        assert_eq!(row.counts.get().nb_en_emploi_24_mois, Some(27));
        assert_eq!(row.counts.get().nb_diplome, None);
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
        assert_eq!(staged.rows[0].counts.get().nb_sortant, Some(54));
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
        assert_eq!(row.counts.get().nb_annee_term, Some(119));
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
        let c = r.counts.get();
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
        // Its rates (54.6 % go on studying…) are read and checked, then
        // let go beside its counts (`kept_rates`): the counts are published.
        assert!(r.source_rates.is_empty());
        assert_eq!(*r.salaires, Salaires::default());

        let r = by_code("2500200");
        assert_eq!(r.millesime.to_string(), "2020_2021");
        assert_eq!(r.counts.get().nb_sortant, Some(130));

        // `diplome_consol` when `diplome` is absent; `**` keeps one year.
        let r = by_code("0000002");
        assert_eq!(r.millesime.to_string(), "2022");
        assert_eq!(r.counts.get().nb_sortant, Some(12));
        assert_eq!(r.salaires.salaire_12_mois_q2, Some(1720.0));
        assert_eq!(r.counts.get().nb_en_emploi_18_mois, None);
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
        assert_eq!(staged.rows[2].counts.get().nb_annee_term, Some(15));
        // Its rates (42.6 % in a job at 6 months) are checked, then let go
        // beside its counts (`kept_rates`).
        assert!(staged.rows[0].source_rates.is_empty());
        assert_eq!(staged.rows[0].counts.get().nb_en_emploi_6_mois, Some(23));
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
        assert_eq!(one.rows[0].counts.get().nb_annee_term, Some(119));

        let mixed = load_insersup(&dir.join("formationsMillesimesMixtes.json")).unwrap();
        assert!(mixed.balances());
        assert_eq!((mixed.rows.len(), mixed.rejects.len()), (2, 0));
        let millesimes: Vec<String> = mixed.rows.iter().map(|r| r.millesime.to_string()).collect();
        assert_eq!(millesimes, ["2021", "2020_2021"]);
        assert_eq!(mixed.rows[1].counts.get().nb_sortant, Some(130));
    }
}
