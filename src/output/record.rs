//! What ties a run's stage folders together: the SHA-256 of every file each
//! stage wrote, recorded in `OUT/run.json` by `ij run` and checked by
//! `ij release`, which refuses stage folders that do not belong to the run
//! the record describes (a stage rewritten alone, or by another run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::digest::sha256_file;

/// The name of the run record written under a pipeline's `out` (by
/// `pipeline`, read by `release`: both take the name from here).
pub const RUN_RECORD: &str = "run.json";

/// A file's SHA-256 and size, as `run.json` records it.
pub use crate::output::digest::FileDigest as FileHash;

/// The stages a pipeline can list, in the order they must run. Here, below
/// `pipeline` (which runs them) and `release` (which reads the run record
/// they are written in), so that both name a stage by this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Bcn,
    Continuum,
    Indicators,
    Coverage,
    Release,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Bcn,
        Stage::Continuum,
        Stage::Indicators,
        Stage::Coverage,
        Stage::Release,
    ];

    /// The name `name` writes (in `run.json`), read back.
    pub fn parse(value: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == value)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Bcn => "bcn",
            Stage::Continuum => "continuum",
            Stage::Indicators => "indicators",
            Stage::Coverage => "coverage",
            Stage::Release => "release",
        }
    }
}

/// Every file under `dir` (relative path with `/` → SHA-256), hidden
/// entries (`.ij-…` temporary folders, the lock) left out. Files are hashed
/// in parallel: a run hashes every stage folder once to record it and once
/// more when the release checks it (issue 13).
pub fn folder_hashes(dir: &Path) -> Result<BTreeMap<String, String>> {
    use rayon::prelude::*;
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files
        .into_par_iter()
        .map(|(rel, path)| Ok((rel, sha256_file(&path)?)))
        .collect()
}

/// The files under `dir`, with their paths relative to it.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .collect::<std::io::Result<_>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let path = e.path();
        if path.is_dir() {
            walk(&path, &format!("{rel}/"), out)?;
        } else {
            out.push((rel, path));
        }
    }
    Ok(())
}

/// Checks that the folder `dir` holds exactly the files `recorded`, with the
/// same SHA-256; the error says which file differs and how.
pub fn check_folder(dir: &Path, recorded: &BTreeMap<String, String>) -> Result<()> {
    let found = folder_hashes(dir)?;
    let differs = |rel: &str, how: &str| {
        Err(Error::file(
            &dir.join(rel),
            format!(
                "{how}: this stage folder does not belong to the run recorded in run.json (a stage run alone, another run, or a run stopped half-way); run the pipeline again, nothing was published"
            ),
        ))
    };
    for (rel, sha) in recorded {
        match found.get(rel) {
            None => return differs(rel, "missing, though run.json records it"),
            Some(s) if s != sha => return differs(rel, "not the content run.json records"),
            Some(_) => {}
        }
    }
    if let Some(rel) = found.keys().find(|k| !recorded.contains_key(*k)) {
        return differs(rel, "not recorded in run.json");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_name_reads_back_as_its_stage() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.name()), Some(stage));
        }
        assert_eq!(Stage::parse("Release"), None, "as run.json writes it");
        assert!(Stage::ALL.windows(2).all(|w| w[0] < w[1]), "in run order");
    }

    #[test]
    fn a_folder_matches_its_record_or_says_which_file_differs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.csv"), "a\n").unwrap();
        std::fs::write(dir.path().join("sub/b.json"), "{}\n").unwrap();
        std::fs::create_dir(dir.path().join(".ij-tmp-x-1")).unwrap();
        let record = folder_hashes(dir.path()).unwrap();
        assert_eq!(record.keys().collect::<Vec<_>>(), ["a.csv", "sub/b.json"]);
        check_folder(dir.path(), &record).unwrap();
        std::fs::write(dir.path().join("a.csv"), "b\n").unwrap();
        let e = check_folder(dir.path(), &record).unwrap_err().to_string();
        assert!(e.contains("a.csv: not the content run.json records"), "{e}");
        std::fs::write(dir.path().join("a.csv"), "a\n").unwrap();
        std::fs::write(dir.path().join("c.csv"), "c\n").unwrap();
        let e = check_folder(dir.path(), &record).unwrap_err().to_string();
        assert!(e.contains("c.csv: not recorded in run.json"), "{e}");
    }
}
