//! Files kept from filling the page cache: a table's CSV written past it
//! (`DirectFile`), other large files flushed behind the writer and their
//! pages let go (`WriteBehind`), read ones let go behind the reader
//! (`DropBehind`).
//!
//! Why (issue 13): a ×100 run writes 6 GB of tables and reads them back
//! once, for the release's checks. Every page the kernel takes for its
//! cache is a page of memory touched for the first time, and on the
//! virtual machines the tool runs on, a first touch is what costs: there,
//! 3 GB written into the page cache took 14 s of system time, and 2 s when
//! the file's pages were written out and let go every 32 MiB, the cache
//! taking the same few pages again and again (the disk writes 2.5 GB/s; a
//! file read back from it with its pages let go behind, 3 GB/s). This is
//! what databases do for the same reason (PostgreSQL's `*_flush_after`).
//! Files under a window (32 MiB) are left alone: the real run's largest
//! table is 20 MB, and its release reads its tables back from the cache.
//! The cost: a large file is written at the disk's pace (two windows
//! ahead of it at most) rather than the cache's, which on a slow disk
//! makes its writing slower, on its own thread; the kernel would make the
//! writer wait in any case once a few gigabytes were waiting for the disk.
//!
//! Both are hints to the kernel: where they are not available (another
//! system, a file system that does not flush ranges), files are written
//! and read as usual.

use std::fs::File;

/// The bytes written (or read) between two hints. Large enough for the
/// disk to write a window in one go, small enough for the pages of two
/// windows to be few.
const WINDOW: u64 = 32 << 20;

/// Flushes a file written from its start, a window at a time, and lets go
/// of the pages of the window before (written to disk by then). Call
/// [`WriteBehind::wrote`] after each write.
#[derive(Debug)]
pub struct WriteBehind {
    window: u64,
    /// Bytes written so far.
    written: u64,
    /// Bytes handed to the disk so far (a whole number of windows).
    flushed: u64,
    /// Set when the file system refused a flush: the file is then written
    /// as any other.
    off: bool,
}

impl Default for WriteBehind {
    fn default() -> Self {
        WriteBehind::with_window(WINDOW)
    }
}

impl WriteBehind {
    fn with_window(window: u64) -> WriteBehind {
        WriteBehind {
            window,
            written: 0,
            flushed: 0,
            off: false,
        }
    }

    /// Records `n` more bytes written to `file`. An error is the disk's
    /// (a flush that failed): the file's bytes did not all reach it.
    pub fn wrote(&mut self, file: &File, n: usize) -> std::io::Result<()> {
        self.written += n as u64;
        while !self.off && self.written - self.flushed >= self.window {
            let start = self.flushed;
            self.flushed += self.window;
            match flush_window(file, start, self.window) {
                Ok(()) => {}
                Err(e) if is_disk_error(&e) => return Err(e),
                Err(_) => self.off = true,
            }
        }
        Ok(())
    }
}

/// Starts writing the window at `start` (of `len` bytes) out, waits for
/// the one before it and lets its pages go.
#[cfg(target_os = "linux")]
fn flush_window(file: &File, start: u64, window: u64) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd as _;
    let fd = file.as_raw_fd();
    let len = window as libc::off64_t;
    let check = |rc: libc::c_int| {
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: `fd` is an open file's for the call's length; both calls
    // only act on the kernel's pages of the file's range.
    unsafe {
        check(libc::sync_file_range(
            fd,
            start as libc::off64_t,
            len,
            libc::SYNC_FILE_RANGE_WRITE,
        ))?;
        if let Some(before) = start.checked_sub(window) {
            check(libc::sync_file_range(
                fd,
                before as libc::off64_t,
                len,
                libc::SYNC_FILE_RANGE_WAIT_BEFORE
                    | libc::SYNC_FILE_RANGE_WRITE
                    | libc::SYNC_FILE_RANGE_WAIT_AFTER,
            ))?;
            // A hint: when the kernel does not take it, the pages stay.
            libc::posix_fadvise(fd, before as libc::off_t, len, libc::POSIX_FADV_DONTNEED);
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn flush_window(_: &File, _: u64, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// A failed write-out (the bytes are lost), as against a file system that
/// does not flush ranges.
fn is_disk_error(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EIO | libc::ENOSPC | libc::EDQUOT)
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = e;
        false
    }
}

/// Reads a file through, letting go of the pages of each window read
/// (the file is read once: the cache would keep pages nobody reads
/// again, and take fresh ones for the next).
pub struct DropBehind {
    file: File,
    window: u64,
    /// Bytes read so far.
    read: u64,
    /// Bytes let go so far (a whole number of windows).
    dropped: u64,
}

impl DropBehind {
    pub fn new(file: File) -> DropBehind {
        DropBehind::with_window(file, WINDOW)
    }

    fn with_window(file: File, window: u64) -> DropBehind {
        DropBehind {
            file,
            window,
            read: 0,
            dropped: 0,
        }
    }
}

impl std::io::Read for DropBehind {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        while self.read - self.dropped >= self.window {
            drop_window(&self.file, self.dropped, self.window);
            self.dropped += self.window;
        }
        Ok(n)
    }
}

#[cfg(target_os = "linux")]
fn drop_window(file: &File, start: u64, window: u64) {
    use std::os::unix::io::AsRawFd as _;
    // SAFETY: a hint on an open file's range; it touches no memory of ours.
    // When the kernel does not take it, the pages stay.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            start as libc::off_t,
            window as libc::off_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_window(_: &File, _: u64, _: u64) {}

/// The alignment a write past the page cache asks of its buffer's address,
/// its length and its place in the file: a multiple of the block size of
/// every disk Linux knows (512 or 4096 bytes).
const ALIGN: usize = 4096;

/// The bytes a [`DirectFile`] gathers before it writes them.
const DIRECT_BLOCK: usize = 1 << 20;

/// A file written past the page cache (`O_DIRECT`), for a file this run
/// does not read again (a table's CSV: later stages read its Parquet).
///
/// Why (issue 13): on the virtual machines the tool runs on, every page
/// the kernel takes for its cache is memory the host gives the guest
/// again, at a fault each: 60 MB written (the real run's CSVs) cost
/// 0.27–0.37 s of system time through the cache, 0.03 s past it, measured
/// here with a small C program writing 1 MiB blocks. The bytes go straight
/// from this buffer to the disk, a mebibyte at a time; the last, partial
/// block is written through the cache.
///
/// Where the file system refuses (`EINVAL`: tmpfs before Linux 6.6,
/// network file systems, another system), the file is written as any
/// other, from where it was.
pub struct DirectFile {
    file: File,
    /// `DIRECT_BLOCK` bytes from `start` are the aligned block; the vector
    /// is one alignment longer so that such a place exists in it.
    buffer: Vec<u8>,
    start: usize,
    /// Bytes waiting in the block.
    filled: usize,
    /// Whether writes still go past the cache.
    direct: bool,
}

impl DirectFile {
    /// Sets the file (opened for writing, empty) to be written past the
    /// cache; `Err(file)`, untouched, where the system does not allow it.
    pub fn new(file: File) -> std::result::Result<DirectFile, File> {
        if set_direct(&file, true).is_err() {
            return Err(file);
        }
        let buffer = vec![0u8; DIRECT_BLOCK + ALIGN];
        // Computed rather than asked of `align_offset`, which may answer
        // that it cannot.
        let start = (ALIGN - buffer.as_ptr() as usize % ALIGN) % ALIGN;
        Ok(DirectFile {
            file,
            buffer,
            start,
            filled: 0,
            direct: true,
        })
    }

    pub fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let n = (DIRECT_BLOCK - self.filled).min(bytes.len());
            let at = self.start + self.filled;
            self.buffer[at..at + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled == DIRECT_BLOCK {
                self.write_out(DIRECT_BLOCK)?;
            }
        }
        Ok(())
    }

    /// Writes what is left (its whole blocks past the cache, the rest
    /// through it) and returns the file.
    pub fn finish(mut self) -> std::io::Result<File> {
        let whole = self.filled / ALIGN * ALIGN;
        if whole > 0 {
            self.write_out(whole)?;
        }
        if self.filled > 0 {
            self.buffered()?;
            self.write_out(self.filled)?;
        }
        Ok(self.file)
    }

    /// Writes the block's first `len` bytes (a multiple of `ALIGN` while
    /// writing past the cache) and moves the rest to its start.
    fn write_out(&mut self, len: usize) -> std::io::Result<()> {
        use std::io::Write as _;
        let (mut at, end) = (self.start, self.start + len);
        while at < end {
            let rest = &self.buffer[at..end];
            if !self.direct {
                (&self.file).write_all(rest)?;
                break;
            }
            match (&self.file).write(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    at += n;
                    // A short write leaves the file's end out of line:
                    // the rest goes through the cache.
                    if n % ALIGN != 0 {
                        self.buffered()?;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // The file system would not write this past the cache
                // after all: nothing was written, the rest goes through it.
                Err(e) if e.raw_os_error() == Some(EINVAL) => self.buffered()?,
                Err(e) => return Err(e),
            }
        }
        let (from, to) = (self.start + len, self.start + self.filled);
        self.buffer.copy_within(from..to, self.start);
        self.filled -= len;
        Ok(())
    }

    /// From here on, writes go through the cache.
    fn buffered(&mut self) -> std::io::Result<()> {
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

/// Turns `O_DIRECT` on or off for the open file.
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd as _;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is an open file's for both calls, which read and set
    // its status flags only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let flags = if on {
            flags | libc::O_DIRECT
        } else {
            flags & !libc::O_DIRECT
        };
        if libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, _: bool) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// A file written and read through windows keeps every byte, in
    /// order, whatever the size of the writes.
    #[test]
    fn bytes_written_and_read_behind_are_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut file = File::create(&path).unwrap();
        let window = 1 << 16;
        let mut behind = WriteBehind::with_window(window);
        let mut expected = Vec::new();
        // Writes of odd sizes across three and a half windows.
        let mut i = 0u32;
        while (expected.len() as u64) < 3 * window + window / 2 {
            let chunk: Vec<u8> = (0..10_007u32).map(|j| (i ^ j) as u8).collect();
            file.write_all(&chunk).unwrap();
            behind.wrote(&file, chunk.len()).unwrap();
            expected.extend_from_slice(&chunk);
            i += 1;
        }
        assert_eq!(behind.flushed, 3 * window);
        drop(file);
        let mut read = Vec::new();
        let mut reader = DropBehind::with_window(File::open(&path).unwrap(), window);
        reader.read_to_end(&mut read).unwrap();
        assert_eq!(reader.dropped, 3 * window);
        assert!(read == expected, "the bytes read back differ");
    }

    /// A file written past the cache keeps every byte, in order, whatever
    /// the size of the writes, past a block and with a partial last one;
    /// and so it does when it turns to the cache halfway (as after a
    /// file system's refusal).
    #[test]
    fn bytes_written_past_the_cache_are_the_bytes() {
        // In the project's folder rather than the system's temporary one,
        // which may be a tmpfs that refuses `O_DIRECT`.
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        for turn_halfway in [false, true] {
            let path = dir.path().join(format!("t{turn_halfway}.csv"));
            let mut expected = Vec::new();
            let file = File::create(&path).unwrap();
            let mut writer = match DirectFile::new(file) {
                Ok(writer) => writer,
                // Refused: the file is handed back as it was, for the
                // caller to write through the cache.
                Err(mut file) => {
                    file.write_all(b"plain").unwrap();
                    drop(file);
                    assert_eq!(std::fs::read(&path).unwrap(), b"plain");
                    continue;
                }
            };
            let mut i = 0u32;
            while expected.len() < 2 * DIRECT_BLOCK + 3 * ALIGN + 17 {
                let size = [1, 4095, 4096, 10_007, DIRECT_BLOCK + 5][i as usize % 5];
                let chunk: Vec<u8> = (0..size as u32).map(|j| (i ^ j) as u8).collect();
                writer.write_all(&chunk).unwrap();
                expected.extend_from_slice(&chunk);
                i += 1;
                if turn_halfway && i == 4 {
                    writer.buffered().unwrap();
                }
            }
            drop(writer.finish().unwrap());
            let read = std::fs::read(&path).unwrap();
            assert_eq!(read.len(), expected.len());
            assert!(read == expected, "the bytes read back differ");
        }
    }
}
