//! One run at a time per output folder: `OUT/.ij-lock`, locked for the whole
//! run. The lock is the operating system's (`flock`), so a killed run
//! releases it; a second run into the same `--out` fails at once. The file
//! stays empty: two runs leave byte-identical folders.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

pub const LOCK_FILE: &str = ".ij-lock";

/// Held while the run writes; released when dropped (or the process ends).
#[derive(Debug)]
pub struct OutLock {
    _file: File,
}

/// Locks `out` (created if needed) or fails at once.
pub fn lock_out(out: &Path) -> Result<OutLock> {
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let path = out.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(Error::usage(format!(
                "{}: another ij run is writing into this folder (it holds {LOCK_FILE}); wait for it to end, or give another --out",
                out.display(),
            )));
        }
        Err(TryLockError::Error(source)) => {
            return Err(Error::Write { path, source });
        }
    }
    Ok(OutLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_folder_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_out(dir.path()).unwrap();
        let e = lock_out(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("another ij run is writing into this folder"),
            "{e}"
        );
        drop(first);
        lock_out(dir.path()).unwrap();
    }
}
