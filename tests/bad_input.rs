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

#[test]
fn a_code_of_the_wrong_length() {
    let err = bcn_error(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            t.replacen(";23810025510;", ";2381002551;", 1)
        })
    });
    assert!(err.contains("N_MEF.csv:2:18 (MEF_STAT_11)"), "{err}");
    assert!(
        err.contains("\"2381002551\" is not a MEF_STAT_11 of 11 characters"),
        "{err}"
    );
}

#[test]
fn a_bad_date() {
    let err = bcn_error(|d| {
        edit(&d.join("N_MEF.csv"), |t| {
            t.replacen(";01/09/2014;", ";31/09/2014;", 1)
        })
    });
    assert!(err.contains("N_MEF.csv:2:8 (DATE_OUVERTURE)"), "{err}");
    assert!(err.contains("is not a date (expected DD/MM/YYYY"), "{err}");
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
    assert!(
        err.contains("no BCN table N_FORMATION_DIPLOME in this folder"),
        "{err}"
    );
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
