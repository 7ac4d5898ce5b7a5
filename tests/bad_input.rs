//! Bad input gets one clear line (file, line, column, what was expected) and
//! a non-zero exit. Each test breaks one file of a copy of fixtures/bcn.

use std::path::Path;

use crate::common::*;

/// Copies fixtures/bcn, lets `breaker` spoil it, runs `ij bcn`, returns stderr.
fn bcn_error(breaker: impl FnOnce(&Path)) -> String {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures("bcn"), dir.path());
    breaker(dir.path());
    let out = tempfile::tempdir().unwrap();
    let err = ij_err(&["bcn", "--bcn", s(dir.path()), "--out", s(out.path())], 1);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected:\n{err}"
    );
    err
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

#[test]
fn a_truncated_row() {
    let err = bcn_error(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
            lines[4] = lines[4].split(';').take(10).collect::<Vec<_>>().join(";");
            lines.join("\n") + "\n"
        })
    });
    assert!(
        err.contains("N_MEF.csv:5:11 (NB_OPTION_OBLIGATOIRE)"),
        "{err}"
    );
    assert!(
        err.contains("expected 22 fields like the header, found 10"),
        "{err}"
    );
}

#[test]
fn an_unknown_encoding() {
    let err = bcn_error(|d| {
        let text = std::fs::read_to_string(d.join("n_groupe_formation_.csv")).unwrap();
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        std::fs::write(d.join("n_groupe_formation_.csv"), bytes).unwrap();
    });
    assert!(
        err.contains("n_groupe_formation_.csv: unsupported encoding UTF-16"),
        "{err}"
    );
}

#[test]
fn a_missing_column() {
    let err = bcn_error(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            t.replacen("MEF_STAT_11;", "MEF_STAT_ONZE;", 1)
        })
    });
    assert!(
        err.contains("N_MEF.csv: missing required column MEF_STAT_11"),
        "{err}"
    );
}

#[test]
fn an_empty_file() {
    let err = bcn_error(|d| std::fs::write(d.join("V_FORMATION_DIPLOME.csv"), "").unwrap());
    assert!(err.contains("V_FORMATION_DIPLOME.csv: empty file"), "{err}");
}

/// Copies fixtures/bcn, lets `breaker` spoil it, runs `ij bcn` (which must
/// succeed: a row-level problem is a reject, issue 9), returns bcn_rejects.
fn bcn_rejects(breaker: impl FnOnce(&Path)) -> Vec<std::collections::HashMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures("bcn"), dir.path());
    breaker(dir.path());
    let out = tempfile::tempdir().unwrap();
    ij_ok(&["bcn", "--bcn", s(dir.path()), "--out", s(out.path())]);
    read_csv(&out.path().join("bcn_rejects.csv"))
}

/// The one reject of `table` at `line`.
fn only_reject<'a>(
    rejects: &'a [std::collections::HashMap<String, String>],
    table: &str,
    line: &str,
) -> &'a std::collections::HashMap<String, String> {
    let found: Vec<_> = rejects
        .iter()
        .filter(|r| r["table"] == table && r["line"] == line)
        .collect();
    assert_eq!(found.len(), 1, "{rejects:?}");
    found[0]
}

#[test]
fn a_code_of_the_wrong_length_is_a_reject() {
    let rejects = bcn_rejects(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            t.replacen(";23810025510;", ";2381002551;", 1)
        })
    });
    // The sample's own rejects, and this one: N_MEF line 2.
    let r = only_reject(&rejects, "N_MEF", "2");
    assert_eq!(r["code"], "2381002551");
    assert_eq!(
        r["reason"],
        "MEF_STAT_11: \"2381002551\" is not a MEF_STAT_11 of 11 characters [0-9A-Z] (found 10 characters)"
    );
}

#[test]
fn a_bad_date_is_a_reject() {
    let rejects = bcn_rejects(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            t.replacen(";01/09/2014;", ";31/09/2014;", 1)
        })
    });
    let r = only_reject(&rejects, "N_MEF", "2");
    assert!(
        r["reason"].starts_with("DATE_OUVERTURE: ")
            && r["reason"].contains("is not a date (expected DD/MM/YYYY"),
        "{r:?}"
    );
}

#[test]
fn a_table_whose_keys_are_mostly_malformed_is_unusable() {
    let err = bcn_error(|d| {
        edit(&d.join("V_FORMATION_DIPLOME.csv"), |t| {
            let mut lines = t.lines();
            let header = lines.next().unwrap().to_string();
            let rows: Vec<String> = lines.map(|l| format!("x{}", &l[1..])).collect();
            format!("{header}\n{}\n", rows.join("\n"))
        })
    });
    assert!(err.contains("V_FORMATION_DIPLOME.csv: "), "{err}");
    assert!(
        err.contains("rows rejected (first, line 2: FORMATION_DIPLOME: "),
        "{err}"
    );
    assert!(err.contains("the table is unusable as a whole"), "{err}");
}

#[test]
fn a_bad_json_record() {
    let err = bcn_error(|d| {
        edit(&d.join("N_NIVEAU_FORMATION_DIPLOME.json"), |t| {
            t.replacen("{", "[", 1)
        })
    });
    assert!(
        err.contains("N_NIVEAU_FORMATION_DIPLOME.json: invalid JSON"),
        "{err}"
    );
}

#[test]
fn a_folder_without_the_bcn_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = ij_err(
        &["continuum", "--bcn", s(dir.path()), "--out", s(out.path())],
        1,
    );
    assert!(err.contains("no BCN table N_FORMATION_DIPLOME ("), "{err}");
    let err = ij_err(&["bcn", "--bcn", "no/such/dir", "--out", s(out.path())], 2);
    assert!(err.contains("no/such/dir: no such folder"), "{err}");
}

#[test]
fn a_bad_pipeline_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        "name='x'\nout='o'\nstages=['bcn','coverge']\n[inputs]\nbcn='b'\n",
    )
    .unwrap();
    let err = ij_err(&["run", s(&path)], 2);
    assert!(err.contains("p.toml:3: unknown variant `coverge`"), "{err}");
}
