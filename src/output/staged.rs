//! Atomic outputs, for every stage and the release: the one place where `ij`
//! renames anything into place.
//!
//! A stage (or a release) writes all its files into a hidden folder beside
//! its destination, `.ij-tmp-<name>-<pid>`. Only when every file is written
//! is that folder swapped with the destination, as a whole:
//! - no folder there yet: one `rename`;
//! - a previous one: one `renameat2(RENAME_EXCHANGE)` (Linux), which swaps
//!   the two folders atomically, so the destination is never missing and
//!   never half new; the old folder, now at the temporary path, is removed
//!   only once the swap is done;
//! - where the exchange is not supported (another OS, a file system without
//!   it), the old folder is renamed aside to `.ij-old-<name>-<pid>`, the new
//!   one renamed in, the old one removed. A run killed between those two
//!   renames leaves the old folder aside: the next run (or any `StagedDir`
//!   beside it) puts it back before doing anything else.
//!
//! Temporary folders of dead processes (`.ij-tmp-…`, `.ij-old-…` whose pid is
//! not running) are removed by the next run (`clean_dead`). A single file
//! (`run.json`) is written beside its destination and renamed over it
//! (`write_file_atomic`).
//!
//! An existing destination is replaced only when it is an earlier output of
//! `ij` (it holds a `*_summary.json` or a `manifest.json`, or only names the
//! new folder also has): a `--out` pointing at a folder of the user's is an
//! error, never a deletion.
//!
//! **Test only**: `IJ_FAIL_AT=<n>` makes the process exit (status 97, as if
//! killed: no cleanup runs) just before its n-th rename, so that tests can
//! check that a kill at any rename leaves every folder wholly old or wholly
//! new. `IJ_RENAME_EXCHANGE=0` forces the two-rename fallback.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::output::table::{CsvOptions, OutTable};

/// The prefixes of the temporary names this module creates.
const TMP_PREFIX: &str = ".ij-tmp-";
const OLD_PREFIX: &str = ".ij-old-";

/// Renames done so far by this process (for `IJ_FAIL_AT`).
static RENAMES: AtomicUsize = AtomicUsize::new(0);

pub struct StagedDir {
    /// Where the folder lands; `None` until `commit_as` names it (a release
    /// is named after its content).
    target: Option<PathBuf>,
    tmp: PathBuf,
    notes: Vec<String>,
    committed: bool,
}

impl StagedDir {
    /// Prepares a staging folder beside `target`, which `commit` replaces.
    pub fn new(target: &Path) -> Result<StagedDir> {
        let parent = parent_of(target);
        let name = file_name(target);
        let mut staged = StagedDir::beside(&parent, &name)?;
        staged.target = Some(target.to_path_buf());
        Ok(staged)
    }

    /// A staging folder in `parent`, for a destination named later
    /// (`commit_as`); `label` names the temporary folder.
    pub fn beside(parent: &Path, label: &str) -> Result<StagedDir> {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
        clean_dead(parent)?;
        let tmp = parent.join(format!("{TMP_PREFIX}{label}-{}", std::process::id()));
        if tmp.exists() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        std::fs::create_dir(&tmp).map_err(|source| Error::Write {
            path: tmp.clone(),
            source,
        })?;
        Ok(StagedDir {
            target: None,
            tmp,
            notes: Vec::new(),
            committed: false,
        })
    }

    /// The folder files are written into before they are committed.
    pub fn dir(&self) -> &Path {
        &self.tmp
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
        std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
    }

    /// Writes a table as `<name>.csv` and `<name>.parquet`.
    pub fn write_table(&mut self, table: &OutTable, csv: &CsvOptions) -> Result<()> {
        let written = table.write(&self.tmp, csv)?;
        self.note_written(&table.name, &written);
        Ok(())
    }

    /// Adds what the stage's report should say about a table written
    /// chunk by chunk into `dir()` (`output::table::TableWriter`).
    pub fn note_written(&mut self, table: &str, written: &crate::output::table::Written) {
        self.notes.extend(written.formula_note(table));
    }

    /// Adds what the stage's report should say about a file written
    /// directly into `dir()`.
    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Swaps the staged folder with its target. Returns what the stage's
    /// report should say about its files (`notes`).
    pub fn commit(self) -> Result<Vec<String>> {
        let target = self
            .target
            .clone()
            .expect("StagedDir::new names its target; use commit_as otherwise");
        self.commit_as(&target)
    }

    /// Swaps the staged folder with `target` (created or replaced as a whole).
    pub fn commit_as(mut self, target: &Path) -> Result<Vec<String>> {
        swap_into(&self.tmp, target)?;
        self.committed = true;
        Ok(std::mem::take(&mut self.notes))
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, renamed over it.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = parent_of(path);
    std::fs::create_dir_all(&parent).map_err(|source| Error::Write {
        path: parent.clone(),
        source,
    })?;
    let tmp = parent.join(format!(
        "{TMP_PREFIX}{}-{}",
        file_name(path),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|source| Error::Write {
        path: tmp.clone(),
        source,
    })?;
    rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into())
}

/// Puts the folder `tmp` at `target`, replacing a previous `target` as a whole.
fn swap_into(tmp: &Path, target: &Path) -> Result<()> {
    let write_error = |source| Error::Write {
        path: target.to_path_buf(),
        source,
    };
    if !target.exists() {
        return rename(tmp, target);
    }
    check_replaceable(target, tmp)?;
    match exchange(tmp, target) {
        Ok(()) => {
            // `tmp` now holds the previous folder.
            let _ = std::fs::remove_dir_all(tmp);
            return Ok(());
        }
        Err(e) if !exchange_unsupported(&e) => return Err(write_error(e)),
        Err(_) => {}
    }
    let aside = parent_of(target).join(format!(
        "{OLD_PREFIX}{}-{}",
        file_name(target),
        std::process::id()
    ));
    if aside.exists() {
        let _ = std::fs::remove_dir_all(&aside);
    }
    rename(target, &aside)?;
    if let Err(e) = rename(tmp, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

/// One rename, counted for `IJ_FAIL_AT`.
fn rename(from: &Path, to: &Path) -> Result<()> {
    fail_point();
    std::fs::rename(from, to).map_err(|source| Error::Write {
        path: to.to_path_buf(),
        source,
    })
}

/// Test only: exits, as a kill would, before the n-th rename of `IJ_FAIL_AT=n`.
fn fail_point() {
    let n = RENAMES.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(at) = std::env::var("IJ_FAIL_AT")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        if n == at {
            eprintln!("ij: IJ_FAIL_AT={at}: stopped before rename {n} (test only)");
            std::process::exit(97);
        }
    }
}

/// Swaps two paths atomically (both must exist).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    if std::env::var("IJ_RENAME_EXCHANGE").as_deref() == Ok("0") {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    fail_point();
    // SAFETY: both are valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

fn exchange_unsupported(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    if matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    ) {
        return true;
    }
    e.kind() == std::io::ErrorKind::Unsupported
}

/// Refuses to replace a folder `ij` did not write: its files would be lost.
fn check_replaceable(target: &Path, new: &Path) -> Result<()> {
    if !target.is_dir() {
        return Err(Error::file(
            target,
            "exists and is not a folder: ij writes a folder there; remove the file or choose another --out",
        ));
    }
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with(".ij-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let new_names = names(new);
    let foreign: Vec<String> = names(target)
        .into_iter()
        .filter(|n| !new_names.contains(n))
        .collect();
    if foreign.is_empty() || is_ij_output(target) {
        return Ok(());
    }
    let mut shown = foreign.clone();
    shown.sort();
    shown.truncate(5);
    Err(Error::file(
        target,
        format!(
            "holds {} entr{} ij did not write ({}{}); ij replaces its output folders as a whole and would delete them: choose an empty or new --out",
            foreign.len(),
            if foreign.len() == 1 { "y" } else { "ies" },
            shown.join(", "),
            if foreign.len() > 5 { ", …" } else { "" }
        ),
    ))
}

/// An earlier output of `ij`: a stage folder (`*_summary.json`), a release
/// (`manifest.json`), or a folder of such folders (`coverage/`).
fn is_ij_output(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut subfolders = 0;
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "manifest.json" || name.ends_with("_summary.json") {
            return true;
        }
        if name.starts_with(".ij-") {
            continue;
        }
        if !e.path().is_dir() || !is_ij_output(&e.path()) {
            return false;
        }
        subfolders += 1;
    }
    subfolders > 0
}

/// Removes the temporary folders and files of dead `ij` processes in `dir`,
/// and puts back a folder left aside by a run killed between its two renames.
pub fn clean_dead(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let (prefix, rest) = if let Some(rest) = name.strip_prefix(TMP_PREFIX) {
            (TMP_PREFIX, rest)
        } else if let Some(rest) = name.strip_prefix(OLD_PREFIX) {
            (OLD_PREFIX, rest)
        } else {
            continue;
        };
        let Some((original, pid)) = rest.rsplit_once('-') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let path = e.path();
        let original = dir.join(original);
        if prefix == OLD_PREFIX && !original.exists() {
            std::fs::rename(&path, &original).map_err(|source| Error::Write {
                path: original.clone(),
                source,
            })?;
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a way to tell, keep the folder: cleaning is only tidiness.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_folder_is_replaced_as_a_whole_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("a_summary.json"), "old\n").unwrap();
        std::fs::write(target.join("gone.csv"), "old\n").unwrap();
        {
            let mut staged = StagedDir::new(&target).unwrap();
            staged.write_bytes("a_summary.json", b"new\n").unwrap();
            // Dropped without commit: a failed run.
        }
        assert_eq!(entries(&target), ["a_summary.json", "gone.csv"]);
        assert_eq!(entries(dir.path()), ["out"], "no temp folder left");
        let mut staged = StagedDir::new(&target).unwrap();
        staged.write_bytes("a_summary.json", b"new\n").unwrap();
        staged.commit().unwrap();
        // The old folder's other file went with it: the stage's outputs are its new ones only.
        assert_eq!(entries(&target), ["a_summary.json"]);
        assert_eq!(
            std::fs::read_to_string(target.join("a_summary.json")).unwrap(),
            "new\n"
        );
        assert_eq!(entries(dir.path()), ["out"]);
    }

    #[test]
    fn a_folder_ij_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("mine");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("thesis.tex"), "precious").unwrap();
        let mut staged = StagedDir::new(&target).unwrap();
        staged.write_bytes("bcn_summary.json", b"{}\n").unwrap();
        let e = staged.commit().unwrap_err().to_string();
        assert!(e.contains("1 entry ij did not write (thesis.tex)"), "{e}");
        assert_eq!(entries(&target), ["thesis.tex"]);
        assert_eq!(entries(dir.path()), ["mine"]);
    }

    #[test]
    fn the_fallback_swap_and_the_recovery_of_a_folder_left_aside() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("v1");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("manifest.json"), "old").unwrap();
        // A run killed between its two renames (pid 0 is never a running `ij`)
        // left the old folder aside and nothing at the target.
        let aside = dir.path().join(".ij-old-v1-4194304");
        std::fs::rename(&target, &aside).unwrap();
        std::fs::create_dir(dir.path().join(".ij-tmp-v1-4194304")).unwrap();
        clean_dead(dir.path()).unwrap();
        assert_eq!(entries(dir.path()), ["v1"]);
        assert_eq!(
            std::fs::read_to_string(target.join("manifest.json")).unwrap(),
            "old"
        );
        let mut staged = StagedDir::beside(dir.path(), "release").unwrap();
        staged.write_bytes("manifest.json", b"new").unwrap();
        staged.commit_as(&target).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("manifest.json")).unwrap(),
            "new"
        );
        assert_eq!(entries(dir.path()), ["v1"]);
    }

    #[test]
    fn a_single_file_is_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        write_file_atomic(&path, b"1").unwrap();
        write_file_atomic(&path, b"2").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "2");
        assert_eq!(entries(dir.path()), ["run.json"]);
    }
}
