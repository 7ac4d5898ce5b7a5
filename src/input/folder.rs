//! Finds a BCN table in a folder by its file name.
//!
//! BCN extracts come named in many ways (`N_FORMATION_DIPLOME.csv`,
//! `n_formation_diplome.csv`, `nFormationDiplome_.csv`, `N_MEF.json`): a file
//! matches a table when its name, lower-cased with everything but letters and
//! digits removed, starts with the table's name and does not go on with a
//! letter (so `nformationdiplome` does not match `N_FORMATION_DIPLOME_ENQUETE_51`).
//! A date before or after the name is allowed (`n_mef_15072020.csv`,
//! `2024-09_N_MEF.csv`: issue 9), as the exports of past years were named.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The key a file or table name is compared by.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

const EXTENSIONS: [&str; 4] = ["csv", "txt", "tsv", "json"];

/// The file holding `table` (e.g. `N_FORMATION_DIPLOME`) in `dir`, if any.
/// Two candidate files are an error: the user must say which one to read.
pub fn find_table(dir: &Path, table: &str) -> Result<Option<PathBuf>> {
    let wanted = name_key(table);
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(ext)) {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let key = name_key(stem);
        let key = key.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(rest) = key.strip_prefix(&wanted) {
            if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                found.push(path);
            }
        }
    }
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(Error::file(
            dir,
            format!(
                "several files hold the BCN table {table}: {}; keep one",
                found
                    .iter()
                    .map(|p| p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_table_whatever_its_spelling() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "nFormationDiplome_.csv",
            "N_FORMATION_DIPLOME_ENQUETE_51.csv",
            "N_MEF.json",
            "n_mef_stat.csv",
            "README.md",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let found = |t| {
            find_table(dir.path(), t)
                .unwrap()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(
            found("N_FORMATION_DIPLOME").as_deref(),
            Some("nFormationDiplome_.csv")
        );
        assert_eq!(
            found("N_FORMATION_DIPLOME_ENQUETE_51").as_deref(),
            Some("N_FORMATION_DIPLOME_ENQUETE_51.csv")
        );
        assert_eq!(found("N_MEF").as_deref(), Some("N_MEF.json"));
        assert_eq!(found("V_FORMATION_DIPLOME"), None);
    }

    #[test]
    fn dated_exports_are_found() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "n_mef_15072020.csv",
            "2024-09_V_FORMATION_DIPLOME.csv",
            "n_formation_diplome_enquete_51_2024.csv",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let found = |t| {
            find_table(dir.path(), t)
                .unwrap()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(found("N_MEF").as_deref(), Some("n_mef_15072020.csv"));
        assert_eq!(
            found("V_FORMATION_DIPLOME").as_deref(),
            Some("2024-09_V_FORMATION_DIPLOME.csv")
        );
        assert_eq!(
            found("N_FORMATION_DIPLOME_ENQUETE_51").as_deref(),
            Some("n_formation_diplome_enquete_51_2024.csv")
        );
        assert_eq!(found("N_FORMATION_DIPLOME"), None);
    }

    #[test]
    fn two_candidates_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("N_MEF.csv"), "x").unwrap();
        std::fs::write(dir.path().join("nMef.json"), "x").unwrap();
        let e = find_table(dir.path(), "N_MEF").unwrap_err().to_string();
        assert!(e.contains("several files"), "{e}");
    }
}
