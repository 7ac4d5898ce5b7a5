//! Atomic outputs: a stage writes every file into a hidden temporary folder
//! next to its destination, and only when all of them were written are they
//! renamed into place. A run that fails half-way leaves the previous outputs
//! as they were, and no temporary folder behind.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::table::{CsvOptions, OutTable};

pub struct StagedDir {
    target: PathBuf,
    tmp: PathBuf,
    files: Vec<String>,
    committed: bool,
}

impl StagedDir {
    /// Prepares a staging folder for outputs that will land in `target`.
    pub fn new(target: &Path) -> Result<StagedDir> {
        std::fs::create_dir_all(target).map_err(|source| Error::Write {
            path: target.to_path_buf(),
            source,
        })?;
        let tmp = target.join(format!(".ij-tmp-{}", std::process::id()));
        if tmp.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        std::fs::create_dir(&tmp).map_err(|source| Error::Write {
            path: tmp.clone(),
            source,
        })?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            tmp,
            files: Vec::new(),
            committed: false,
        })
    }

    /// The folder files are written into before they are committed.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes a JSON document (pretty, with a final newline).
    pub fn write_json(&mut self, file_name: &str, value: &impl serde::Serialize) -> Result<()> {
        let path = self.tmp.join(file_name);
        let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
        text.push('\n');
        self.write_bytes(file_name, text.as_bytes())
    }

    pub fn write_bytes(&mut self, file_name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.tmp.join(file_name);
        std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })?;
        self.files.push(file_name.to_string());
        Ok(())
    }

    /// Writes several tables at once, in parallel (each as CSV and Parquet).
    pub fn write_tables(&mut self, tables: &[OutTable], csv: &CsvOptions) -> Result<()> {
        use rayon::prelude::*;
        let tmp = &self.tmp;
        tables
            .par_iter()
            .map(|t| t.write(tmp, csv))
            .collect::<Result<Vec<()>>>()?;
        for t in tables {
            self.files.push(format!("{}.csv", t.name));
            self.files.push(format!("{}.parquet", t.name));
        }
        Ok(())
    }

    /// Writes a table as `<name>.csv` and `<name>.parquet`.
    pub fn write_table(&mut self, table: &OutTable, csv: &CsvOptions) -> Result<()> {
        table.write(&self.tmp, csv)?;
        self.files.push(format!("{}.csv", table.name));
        self.files.push(format!("{}.parquet", table.name));
        Ok(())
    }

    /// Renames every written file into the target folder. Returns their final paths.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.files.len());
        for name in &self.files {
            let from = self.tmp.join(name);
            let to = self.target.join(name);
            std::fs::rename(&from, &to).map_err(|source| Error::Write {
                path: to.clone(),
                source,
            })?;
            done.push(to);
        }
        self.committed = true;
        let _ = std::fs::remove_dir_all(&self.tmp);
        Ok(done)
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_land_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("a.json"), "old\n").unwrap();
        {
            let mut staged = StagedDir::new(&target).unwrap();
            staged.write_bytes("a.json", b"new\n").unwrap();
            // Dropped without commit: a failed run.
        }
        assert_eq!(
            std::fs::read_to_string(target.join("a.json")).unwrap(),
            "old\n"
        );
        assert_eq!(
            std::fs::read_dir(&target).unwrap().count(),
            1,
            "no temp folder left"
        );
        let mut staged = StagedDir::new(&target).unwrap();
        staged.write_bytes("a.json", b"new\n").unwrap();
        staged.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("a.json")).unwrap(),
            "new\n"
        );
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    }
}
