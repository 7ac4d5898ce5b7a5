//! SHA-256 of files, computed once: while a file is written (on a thread
//! of its own, `BackgroundFile`), or by reading a file that was not
//! (`sha256_file`).
//! A release lists every file's hash three times (its version, the
//! datapackage, the manifest); hashing as it writes spares reading each
//! file back three times.
//!
//! A file written so is also remembered by its
//! identity (device, inode, size, modification and change times): `ij run`
//! records every stage folder's hashes in `run.json` right after the stage,
//! and its release checks them again, and neither reads back a file this
//! process wrote and nobody changed since (issue 13: two SHA-256 passes
//! over every table, 4 % of a run's CPU). Any change to the file (its
//! content, its size, a `touch`, a rename into it) changes its identity,
//! and the file is read and hashed again.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::output::page_cache::{DirectFile, WriteBehind};

/// A file's SHA-256 (lower-case hex) and size (`run.json` records them as
/// `output::record::FileHash`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileDigest {
    pub sha256: String,
    pub bytes: u64,
}

impl FileDigest {
    /// Reads the file in full.
    pub fn of(path: &Path) -> Result<FileDigest> {
        Ok(FileDigest {
            sha256: sha256_file(path)?,
            bytes: file_len(path)?,
        })
    }
}

/// A file written and hashed on a thread of its own: the bytes written
/// are gathered in blocks of [`BackgroundFile::BLOCK`] bytes, which the
/// thread hashes and hands to the kernel while the writer goes on making
/// the next ones. A table's CSV is made in parallel batches that
/// `output::csv` then writes one after the other: written and hashed in line, each
/// batch's write left a core idle (issue 13). A write error is returned by
/// [`BackgroundFile::finish_file`], the first one met. A large file is
/// flushed behind its writing (`page_cache::WriteBehind`).
pub struct BackgroundFile {
    block: Vec<u8>,
    blocks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Blocks the thread is done with, to be filled again.
    emptied: std::sync::mpsc::Receiver<Vec<u8>>,
    worker: Option<std::thread::JoinHandle<std::io::Result<(File, FileDigest)>>>,
}

impl BackgroundFile {
    /// The size of a block handed to the thread.
    pub const BLOCK: usize = 1 << 20;
    /// Blocks waiting for the thread, at most: the writer waits beyond.
    const QUEUED: usize = 4;

    /// A file later stages may read again: written through the page
    /// cache, a large one flushed behind (`page_cache::WriteBehind`).
    pub fn new(file: File) -> BackgroundFile {
        BackgroundFile::spawn(Sink::Cached(file, WriteBehind::default()))
    }

    /// A file this run does not read again (a table's CSV): written past
    /// the page cache where the file system allows it
    /// (`page_cache::DirectFile`).
    pub fn past_cache(file: File) -> BackgroundFile {
        BackgroundFile::spawn(match DirectFile::new(file) {
            Ok(direct) => Sink::Direct(direct),
            Err(file) => Sink::Cached(file, WriteBehind::default()),
        })
    }

    fn spawn(sink: Sink) -> BackgroundFile {
        let (blocks, queue) = std::sync::mpsc::sync_channel::<Vec<u8>>(Self::QUEUED);
        let (give_back, emptied) = std::sync::mpsc::channel::<Vec<u8>>();
        let worker = std::thread::spawn(move || {
            let (mut sink, mut hasher, mut bytes) = (sink, Sha256::new(), 0u64);
            let mut failed = None;
            // Every block is taken, even after an error, for the writer
            // never to wait on a full queue.
            for mut block in queue {
                if failed.is_none() {
                    match sink.write_all(&block) {
                        Ok(()) => {
                            hasher.update(&block);
                            bytes += block.len() as u64;
                        }
                        Err(e) => failed = Some(e),
                    }
                }
                block.clear();
                let _ = give_back.send(block);
            }
            match failed {
                Some(e) => Err(e),
                None => sink.finish().map(|file| {
                    let digest = FileDigest {
                        sha256: to_hex(&hasher.finalize()),
                        bytes,
                    };
                    (file, digest)
                }),
            }
        });
        BackgroundFile {
            block: Vec::with_capacity(Self::BLOCK),
            blocks: Some(blocks),
            emptied,
            worker: Some(worker),
        }
    }

    /// Hands the block gathered so far to the thread.
    fn hand_over(&mut self) -> std::io::Result<()> {
        let next = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(Self::BLOCK));
        let full = std::mem::replace(&mut self.block, next);
        let blocks = self.blocks.as_ref().expect("open until finished");
        blocks.send(full).map_err(|_| {
            std::io::Error::other("the thread writing the file stopped before its end")
        })
    }

    /// Waits for the thread and returns the file's digest (see
    /// `finish_file_identified`).
    pub fn finish_file(self) -> std::io::Result<FileDigest> {
        self.finish_file_identified().map(|(digest, _)| digest)
    }

    /// Hands over the last block, waits for the thread, and returns the
    /// file's digest, remembered, and its identity (`None` where there is
    /// none, or when its size disagrees with the bytes written).
    pub(crate) fn finish_file_identified(
        mut self,
    ) -> std::io::Result<(FileDigest, Option<Identity>)> {
        if !self.block.is_empty() {
            self.hand_over()?;
        }
        drop(self.blocks.take());
        let worker = self.worker.take().expect("finished once");
        let (file, digest) = worker
            .join()
            .map_err(|_| std::io::Error::other("the thread writing the file panicked"))??;
        let identity = file
            .metadata()
            .ok()
            .and_then(|metadata| remember(&metadata, &digest));
        Ok((digest, identity))
    }
}

/// Where a [`BackgroundFile`]'s thread writes its blocks.
enum Sink {
    Cached(File, WriteBehind),
    Direct(DirectFile),
}

impl Sink {
    fn write_all(&mut self, block: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Cached(file, behind) => file
                .write_all(block)
                .and_then(|()| behind.wrote(file, block.len())),
            Sink::Direct(direct) => direct.write_all(block),
        }
    }

    fn finish(self) -> std::io::Result<File> {
        match self {
            Sink::Cached(mut file, _) => file.flush().map(|()| file),
            Sink::Direct(direct) => direct.finish(),
        }
    }
}

impl Write for BackgroundFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.block.is_empty() && self.block.len() + buf.len() > Self::BLOCK {
            self.hand_over()?;
        }
        self.block.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// The bytes reach the file when the thread takes them: only
    /// [`BackgroundFile::finish_file`] waits for that.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What identifies a file's content without reading it, as long as
/// nobody sets its times back: where it is (device, inode), its size, and
/// when its content and its inode last changed (to the nanosecond; the
/// change time cannot be set by a program, only moved on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Identity {
    #[cfg(unix)]
    fn of(metadata: &std::fs::Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt as _;
        Some(Identity {
            device: metadata.dev(),
            inode: metadata.ino(),
            len: metadata.len(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        })
    }

    /// Elsewhere, no identity: every file is read.
    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Option<Identity> {
        None
    }

    /// Whether the two identities are of the same file with the same
    /// content: all but the change time, which a new link moves.
    fn same_content(&self, other: &Identity) -> bool {
        (self.device, self.inode, self.len, self.modified)
            == (other.device, other.inode, other.len, other.modified)
    }

    /// The identity of the file at `path` now.
    pub(crate) fn of_path(path: &Path) -> Option<Identity> {
        Identity::of(&std::fs::metadata(path).ok()?)
    }
}

/// The SHA-256 of the files this process wrote through a `BackgroundFile`.
fn written() -> &'static Mutex<HashMap<Identity, String>> {
    static WRITTEN: OnceLock<Mutex<HashMap<Identity, String>>> = OnceLock::new();
    WRITTEN.get_or_init(Default::default)
}

/// Remembers the file's digest under its identity, returned; `None` when
/// it has none, or when its size disagrees with the digest's (the writer
/// did not see every byte).
fn remember(metadata: &std::fs::Metadata, digest: &FileDigest) -> Option<Identity> {
    let identity = Identity::of(metadata).filter(|i| i.len == digest.bytes)?;
    let mut known = written().lock().unwrap_or_else(|p| p.into_inner());
    known.insert(identity, digest.sha256.clone());
    Some(identity)
}

/// The SHA-256 remembered for the file at `path`, if this process wrote it
/// and it has not changed since.
fn recall(path: &Path) -> Option<String> {
    recall_identity(&Identity::of_path(path)?)
}

fn recall_identity(identity: &Identity) -> Option<String> {
    let known = written().lock().unwrap_or_else(|p| p.into_inner());
    known.get(identity).cloned()
}

/// Gives `to` the content of the file at `from` without reading it, when
/// this process wrote `from` through a `BackgroundFile` and nobody changed
/// it since: as a second name of the same file (a hard link: no byte is
/// copied), or, where a link cannot be made (another file system), a copy
/// the kernel makes. Returns the digest `from` was written with; `None`
/// (and `to` possibly begun) when `from` is not such a file or changed
/// meanwhile.
///
/// Linked, the two names share their content: a file edited in place under
/// one name changes under the other. `ij` never edits a file in place (it
/// writes a new one and renames it), and `ij publish` checks every file of
/// a release against its manifest before sending it.
pub fn link_known(from: &Path, to: &Path) -> Result<Option<FileDigest>> {
    let write_error = |source| Error::Write {
        path: to.to_path_buf(),
        source,
    };
    let Some(before) = Identity::of_path(from) else {
        return Ok(None);
    };
    let Some(sha256) = recall_identity(&before) else {
        return Ok(None);
    };
    let digest = FileDigest {
        sha256,
        bytes: before.len,
    };
    remove_existing(to)?;
    if std::fs::hard_link(from, to).is_ok() {
        // A link moves the file's change time, not its content's.
        let linked = std::fs::metadata(to).ok();
        let now = linked.as_ref().and_then(Identity::of);
        if now.is_some_and(|now| now.same_content(&before)) {
            remember(linked.as_ref().expect("its identity was read"), &digest);
            return Ok(Some(digest));
        }
        std::fs::remove_file(to).map_err(write_error)?;
        return Ok(None);
    }
    let bytes = std::fs::copy(from, to).map_err(write_error)?;
    if Identity::of_path(from) != Some(before) || bytes != before.len {
        return Ok(None);
    }
    if let Ok(metadata) = std::fs::metadata(to) {
        remember(&metadata, &digest);
    }
    Ok(Some(digest))
}

/// Removes the file at `to`, if any: a file given a new content is
/// replaced, never written into, for it could be another file's second name.
fn remove_existing(to: &Path) -> Result<()> {
    match std::fs::remove_file(to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Write {
            path: to.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// [`link_known`], else a copy whose bytes are hashed as they pass.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<FileDigest> {
    if let Some(digest) = link_known(from, to)? {
        return Ok(digest);
    }
    let read_error = |source| Error::Read {
        path: from.to_path_buf(),
        source,
    };
    let write_error = |source| Error::Write {
        path: to.to_path_buf(),
        source,
    };
    let mut source = File::open(from).map_err(read_error)?;
    remove_existing(to)?;
    let target = File::create(to).map_err(write_error)?;
    let mut target = BackgroundFile::new(target);
    std::io::copy(&mut source, &mut target).map_err(write_error)?;
    target.finish_file().map_err(write_error)
}

/// The SHA-256 of a file: remembered if this process wrote it through a
/// `BackgroundFile` and it is unchanged since, else read in full.
pub fn sha256_file(path: &Path) -> Result<String> {
    if let Some(sha256) = recall(path) {
        return Ok(sha256);
    }
    let mut file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(to_hex(&hasher.finalize()))
}

/// A file's size.
pub fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_while_writing_gives_the_files_hash() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, parts: &[&[u8]]| {
            let mut w = BackgroundFile::new(File::create(dir.path().join(name)).unwrap());
            for part in parts {
                w.write_all(part).unwrap();
            }
            w.finish_file().unwrap()
        };
        let d = write("t.csv", &[b"a,b\n", b"1,2\n"]);
        assert_eq!(d.bytes, 8);
        assert_eq!(d.sha256, to_hex(&Sha256::digest(b"a,b\n1,2\n")));
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            write("abc", &[b"abc"]).sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// A file written through a `BackgroundFile` is not read back while it
    /// is unchanged; changed in any way, even to the same size and with its
    /// modification time set back, it is read and hashed again.
    #[test]
    fn a_file_written_is_remembered_until_it_changes() {
        use std::io::{Seek, SeekFrom};
        let sha = |bytes: &[u8]| to_hex(&Sha256::digest(bytes));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut w = BackgroundFile::new(File::create(&path).unwrap());
        w.write_all(b"a,b\n1,2\n").unwrap();
        let d = w.finish_file().unwrap();
        assert_eq!(d.sha256, sha(b"a,b\n1,2\n"));
        assert_eq!(recall(&path), Some(d.sha256.clone()), "remembered");
        assert_eq!(sha256_file(&path).unwrap(), d.sha256);

        // The same size, the modification time set back: read again. (A
        // pause first: an older kernel's times move by a clock tick.)
        std::thread::sleep(std::time::Duration::from_millis(30));
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(b"9").unwrap();
        f.set_modified(modified).unwrap();
        drop(f);
        assert_eq!(recall(&path), None);
        assert_eq!(sha256_file(&path).unwrap(), sha(b"a,b\n9,2\n"));

        // Another file renamed into its place: read.
        let other = dir.path().join("u.csv");
        std::fs::write(&other, b"a,b\n1,2\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(recall(&path), None);
        assert_eq!(sha256_file(&path).unwrap(), d.sha256);
    }

    /// Written on its own thread, over several blocks and in writes of
    /// any size, a file has its bytes and their digest, and is remembered;
    /// a write the kernel refuses is the finish's error.
    #[test]
    fn a_file_written_on_its_own_thread_has_its_bytes_and_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let bytes: Vec<u8> = (0..3 * BackgroundFile::BLOCK + 12_345)
            .map(|i| b"0123456789,\n"[i % 12])
            .collect();
        let mut w = BackgroundFile::new(File::create(&path).unwrap());
        for part in bytes.chunks(BackgroundFile::BLOCK / 3 + 7) {
            w.write_all(part).unwrap();
        }
        w.write_all(&[]).unwrap();
        let (d, identity) = w.finish_file_identified().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(d.sha256, to_hex(&Sha256::digest(&bytes)));
        assert_eq!(d.bytes, bytes.len() as u64);
        assert_eq!(identity, Identity::of_path(&path));
        assert_eq!(recall(&path), Some(d.sha256));

        // A file opened for reading only: the thread's write fails.
        let read_only = File::open(&path).unwrap();
        let mut w = BackgroundFile::new(read_only);
        w.write_all(&bytes).unwrap();
        assert!(w.finish_file().is_err());
    }

    /// A file this process wrote gets a second name (the same file) and
    /// keeps its digest, remembered for both names; a file it did not write
    /// is copied, its bytes hashed as they pass. Either way the digest is
    /// of the bytes under the new name.
    #[test]
    fn a_link_or_a_copy_has_the_digest_of_its_bytes() {
        use std::os::unix::fs::MetadataExt as _;
        let sha = |bytes: &[u8]| to_hex(&Sha256::digest(bytes));
        let dir = tempfile::tempdir().unwrap();
        let (written, linked) = (dir.path().join("w.csv"), dir.path().join("l.csv"));
        let mut w = BackgroundFile::new(File::create(&written).unwrap());
        w.write_all(b"a,b\n1,2\n").unwrap();
        w.finish_file().unwrap();
        std::fs::write(&linked, b"an older file").unwrap();
        let d = link_known(&written, &linked)
            .unwrap()
            .expect("written here");
        assert_eq!(
            (d.sha256.as_str(), d.bytes),
            (sha(b"a,b\n1,2\n").as_str(), 8)
        );
        assert_eq!(std::fs::read(&linked).unwrap(), b"a,b\n1,2\n");
        let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(inode(&linked), inode(&written), "one file, two names");
        assert_eq!(recall(&linked), Some(d.sha256.clone()));
        assert_eq!(recall(&written), Some(d.sha256));

        let (other, copy) = (dir.path().join("o.csv"), dir.path().join("c.csv"));
        std::fs::write(&other, b"x\n").unwrap();
        assert_eq!(link_known(&other, &copy).unwrap(), None, "not written here");
        let d = link_or_copy(&other, &copy).unwrap();
        assert_eq!((d.sha256.as_str(), d.bytes), (sha(b"x\n").as_str(), 2));
        assert_eq!(std::fs::read(&copy).unwrap(), b"x\n");
        assert_ne!(inode(&copy), inode(&other), "a copy");
    }
}
