//! Large files kept from filling the page cache: written ones flushed
//! behind the writer and their pages let go (`WriteBehind`), read ones let
//! go behind the reader (`DropBehind`).
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
}
