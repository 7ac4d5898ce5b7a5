//! Memory as the large steps use it: freed memory given back to the
//! system between the steps of a stage, what each step touched traced
//! (`IJ_TRACE_MEMORY`), wide rows sorted and appended without a second
//! copy of them, and what a run of rows of the same text needs looked up
//! once for the run ([`ByRun`]).
//!
//! glibc's allocator keeps the small blocks a program frees for its next
//! allocations, and returns them to the system only from the top of its
//! heap. When a stage frees a large structure made of small blocks (the BCN
//! referential's strings) before a step whose allocations are large (the
//! tables' columns, which glibc maps afresh), those blocks would stay
//! resident through the step: the stage's peak (issue 13).

/// Returns the allocator's free pages to the system (`malloc_trim`), where
/// the allocator is glibc's and holds at least [`KEPT_FREE`] of them;
/// elsewhere, nothing.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallinfo2` only reads the allocator's counts; `malloc_trim`
    // only releases pages the allocator holds free, it touches no memory
    // the program owns.
    unsafe {
        let free = libc::mallinfo2().fordblks;
        if worth_returning(free) {
            libc::malloc_trim(0);
        }
    }
}

/// The free memory the allocator may keep for the next allocations rather
/// than give back. Pages given back cost a fault when touched again, and
/// on a virtual machine that hands freed pages to its host, a host fault:
/// the real run's trims gave back, then faulted in again, half of the 320
/// MiB it faulted in, and ×10's a third of its 2.1 GB. Kept below this,
/// they weigh nothing on a peak (the real run's, ×10's and ×100's peaks did
/// not move); above it (the staged rows' small blocks, the referential's
/// strings at ×100), they would stay resident beside the next step's
/// vectors (issue 13).
pub const KEPT_FREE: usize = 256 << 20;

/// Whether the allocator's free bytes are worth giving back.
fn worth_returning(free_bytes: usize) -> bool {
    free_bytes >= KEPT_FREE
}

/// With `IJ_TRACE_MEMORY` set, prints the process's resident memory and
/// its peak so far after a step (`label`) on standard error, with the wall
/// time since the first step traced and the CPU time the process has used:
/// how the steps of issue 13 were measured. Linux only; elsewhere, nothing.
pub fn trace(label: &str) {
    static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    if std::env::var_os("IJ_TRACE_MEMORY").is_none() {
        return;
    }
    let wall = FIRST.get_or_init(std::time::Instant::now).elapsed();
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let mib = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    let (cpu, faulted) = cpu_and_faults().unwrap_or((f64::NAN, 0));
    eprintln!(
        "memory: {label}: resident {} MiB, peak {} MiB; {:.3} s wall, {:.2} s CPU, {} MiB faulted in",
        mib("VmRSS:"),
        mib("VmHWM:"),
        wall.as_secs_f64(),
        cpu,
        faulted
    );
}

/// The CPU time (user and system) the process has used, and the memory it
/// has faulted in so far (its minor faults, a page each), from
/// `/proc/self/stat`: fields 10, 14 and 15, times in clock ticks of 1/100 s
/// (the value Linux gives `sysconf(_SC_CLK_TCK)` on every architecture it
/// runs). Pages touched for the first time are most of what ×100 spends
/// beyond a hundred times ×1 (issue 13): the faults say which step makes
/// them.
fn cpu_and_faults() -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command's name, in parentheses, may hold spaces: fields are
    // counted after its closing one (field 3 comes first).
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let (minor_faults, user, system) = (field(10)?, field(14)?, field(15)?);
    // SAFETY: sysconf only reads a system constant.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    Some((
        (user + system) as f64 / 100.0,
        minor_faults.saturating_mul(page) >> 20,
    ))
}

/// Drops `value` on a thread of its own, so that the caller goes on while
/// a large structure's blocks are freed one by one. Where no thread can be
/// started, the closure is dropped here, and the value with it.
pub fn drop_behind<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}

/// Sorts `rows` stably, as `slice::sort_by` would, without its buffer of
/// half the rows: the rows' places are sorted (4 bytes each), then the rows
/// are moved to theirs, one cycle at a time. For vectors of wide rows, where
/// that buffer was a step's peak (issue 13).
pub fn sort_rows_stably<T: Sync>(
    rows: &mut [T],
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) {
    let n = u32::try_from(rows.len()).expect("fewer than 2³² rows to sort");
    let mut order: Vec<u32> = (0..n).collect();
    // On every thread: the steps that sort their rows have little else
    // to do meanwhile (issue 13). rayon's sort is stable too.
    use rayon::slice::ParallelSliceMut as _;
    order.par_sort_by(|&a, &b| cmp(&rows[a as usize], &rows[b as usize]));
    move_to_order(rows, &mut order);
}

/// Sorts `rows` stably by `(bucket, key)`. `key` is computed once per row,
/// small and cheap to compare (integers, not the rows' strings behind
/// pointers: for millions of wide rows, comparing rows meant two cache
/// misses per comparison). Each bucket's places, in order, are sorted by
/// their keys, as many buckets side by side as there are threads, so that
/// only a few buckets' keys are held at a time; then the rows are moved
/// once, as [`sort_rows_stably`] moves them. Made for a level's rows, whose
/// buckets (millésime and filière) are few and large: a key and a place
/// for each of ×100's eleven million regional rows were the run's peak
/// (issue 13).
pub fn sort_rows_by_bucket_and_key<T: Sync, B: Ord, K: Ord + Send>(
    rows: &mut [T],
    bucket: impl Fn(&T) -> B,
    key: impl Fn(&T) -> K + Sync,
) {
    use rayon::prelude::*;
    let n = u32::try_from(rows.len()).expect("fewer than 2³² rows to sort");
    let mut buckets: std::collections::BTreeMap<B, Vec<u32>> = std::collections::BTreeMap::new();
    for (r, i) in rows.iter().zip(0..n) {
        buckets.entry(bucket(r)).or_default().push(i);
    }
    let mut order: Vec<u32> = Vec::with_capacity(rows.len());
    let buckets: Vec<Vec<u32>> = buckets.into_values().collect();
    let rows_read: &[T] = rows;
    for batch in buckets.chunks(rayon::current_num_threads().max(1)) {
        let sorted: Vec<Vec<u32>> = batch
            .par_iter()
            .map(|places| {
                let mut keyed: Vec<(K, u32)> = places
                    .iter()
                    .map(|&i| (key(&rows_read[i as usize]), i))
                    .collect();
                // Places are unique: an unstable sort of (key, place) is
                // the stable order of the keys.
                keyed.sort_unstable();
                keyed.into_iter().map(|(_, i)| i).collect()
            })
            .collect();
        for places in sorted {
            order.extend(places);
        }
    }
    drop(buckets);
    move_to_order(rows, &mut order);
}

/// Appends to `rows` the rows of every part, in the parts' order: a part
/// `(n, part)` gives `n` rows, which `make(part, rows, slots)` pushes into
/// `slots` from the rows already there; all parts at once, each straight
/// into its place in `rows`' spare capacity. Rows made into vectors of
/// their own, then copied after the others, touched their memory twice:
/// at a hundred times today's data, the regional fill's four million
/// derived rows spent seconds in that copy, each page of it a first touch
/// (issue 13).
///
/// Panics if a part gives another number of rows than its length says;
/// `rows` is then as it was (the rows made so far are leaked, not
/// dropped).
pub fn extend_from_parts<T, P>(
    rows: &mut Vec<T>,
    parts: Vec<(usize, P)>,
    make: impl Fn(P, &[T], &mut Slots<T>) + Sync,
) where
    T: Send + Sync,
    P: Send,
{
    use rayon::prelude::*;
    use std::mem::MaybeUninit;
    let total: usize = parts.iter().map(|(n, _)| n).sum();
    rows.reserve(total);
    let len = rows.len();
    let base = rows.as_mut_ptr();
    // SAFETY: the first `len` slots are the initialised rows, only read
    // here; the `total` slots after them lie within the capacity just
    // reserved, are written once each (every part its own range, checked
    // below) and are only counted as rows once all are written. `rows`
    // itself is not touched until then.
    let (existing, spare): (&[T], &mut [MaybeUninit<T>]) = unsafe {
        (
            std::slice::from_raw_parts(base, len),
            std::slice::from_raw_parts_mut(base.add(len).cast::<MaybeUninit<T>>(), total),
        )
    };
    let mut places = Vec::with_capacity(parts.len());
    let mut rest = spare;
    for (n, part) in parts {
        let (place, after) = rest.split_at_mut(n);
        places.push((place, part));
        rest = after;
    }
    places.into_par_iter().for_each(|(place, part)| {
        let mut slots = Slots {
            free: place.iter_mut(),
        };
        make(part, existing, &mut slots);
        assert!(slots.free.len() == 0, "a part gives the rows it counted");
    });
    // SAFETY: every slot of the `total` was written (each part filled its
    // slots, or the panic left before this line).
    unsafe { rows.set_len(len + total) };
}

/// The places a part of [`extend_from_parts`] fills, in order.
pub struct Slots<'s, T> {
    free: std::slice::IterMut<'s, std::mem::MaybeUninit<T>>,
}

impl<T> Slots<'_, T> {
    /// Puts `row` in the next place. Panics when there is none left.
    pub fn push(&mut self, row: T) {
        self.free
            .next()
            .expect("a part gives the rows it counted")
            .write(row);
    }
}

/// Moves the row at `order[i]` to `i`: each cycle of the permutation is
/// followed once, a place marked done by pointing to itself.
fn move_to_order<T>(rows: &mut [T], order: &mut [u32]) {
    for start in 0..rows.len() {
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = at as u32;
            if from == start {
                break;
            }
            // The cycle's next row, asked of the memory while this one
            // moves: each is a cache miss in a level of gigabytes (×100).
            prefetch(&rows[order[from] as usize]);
            rows.swap(at, from);
            at = from;
        }
    }
}

/// Asks the processor to bring `value`'s bytes into its caches, for a read
/// a few steps later: rows visited in another order than the one they lie
/// in (a table's order over a level's), each a cache miss once the level
/// outgrows the caches (issue 13). A hint only: it reads nothing the
/// program sees and faults on nothing; elsewhere than on x86-64, nothing.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = (value as *const T).cast::<i8>();
        let size = std::mem::size_of::<T>();
        // Every line the value touches, its last byte's included.
        let mut offset = 0;
        while offset < size {
            // SAFETY: a prefetch is a hint, valid on any address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += LINE;
        }
        if size > 0 {
            // SAFETY: as above.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(size - 1)) };
        }
    }
}

/// What a text gives, worked out once per run of rows of the same text: a
/// table sorted by key repeats its millésime, its filière, its code row
/// after row, and ×100's levels are millions of rows, each hashed or
/// parsed where once per run will do (issue 13).
pub struct ByRun<'t, T>(Option<(&'t str, T)>);

impl<T> Default for ByRun<'_, T> {
    fn default() -> Self {
        ByRun(None)
    }
}

impl<'t, T: Copy> ByRun<'t, T> {
    /// What `text` gives: the last value when it is the last text, else
    /// `work(text)`, kept for the next rows.
    pub fn get(&mut self, text: &'t str, work: impl FnOnce(&str) -> T) -> T {
        let ok: Result<T, std::convert::Infallible> = self.try_get(text, |t| Ok(work(t)));
        match ok {
            Ok(value) => value,
        }
    }

    /// [`ByRun::get`] of a work that may fail: a failure is not kept.
    pub fn try_get<E>(
        &mut self,
        text: &'t str,
        work: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, E> {
        match self.0 {
            Some((last, value)) if last == text => Ok(value),
            _ => {
                let value = work(text)?;
                self.0 = Some((text, value));
                Ok(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of the same text is worked out once; another text, or the
    /// first text again after it, again; a failure is not kept.
    #[test]
    fn by_run_works_each_run_out_once() {
        let texts = ["a", "a", "b", "b", "b", "a"];
        let mut calls = 0;
        let mut by_run = ByRun::default();
        let lengths: Vec<usize> = texts
            .iter()
            .map(|t| {
                by_run.get(t, |t| {
                    calls += 1;
                    t.len()
                })
            })
            .collect();
        assert_eq!(lengths, [1; 6]);
        assert_eq!(calls, 3);
        let mut parsed = ByRun::default();
        assert!(parsed.try_get("x", |t| t.parse::<u8>()).is_err());
        assert_eq!(parsed.try_get("7", |t| t.parse::<u8>()), Ok(7));
        assert_eq!(parsed.try_get("7", |_| "y".parse::<u8>()), Ok(7));
    }

    /// A few free megabytes are kept for the next allocations; many are
    /// given back.
    #[test]
    fn only_much_free_memory_is_given_back() {
        assert!(!worth_returning(0));
        assert!(!worth_returning(KEPT_FREE - 1));
        assert!(worth_returning(KEPT_FREE));
        assert!(worth_returning(2 << 30));
        // Whatever the allocator holds, asking is harmless.
        return_free_memory();
    }

    /// A value dropped behind is dropped, on another thread.
    #[test]
    fn a_value_dropped_behind_is_dropped_elsewhere() {
        struct Told(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Told {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        let (tell, told) = std::sync::mpsc::channel();
        drop_behind(Told(tell));
        let by = told
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("dropped");
        assert_ne!(by, std::thread::current().id());
    }

    /// Each part's rows land after the rows there, in the parts' order,
    /// made from the rows already there; a part that miscounts leaves the
    /// rows as they were.
    #[test]
    fn parts_are_appended_in_order_from_the_rows_there() {
        let mut rows: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let parts: Vec<(usize, (usize, usize))> = (0..40).map(|p| (p % 3, (p, p % 5))).collect();
        let mut expected = rows.clone();
        for &(n, (p, from)) in &parts {
            expected.extend((0..n).map(|k| format!("{}-{p}-{k}", rows[from])));
        }
        extend_from_parts(&mut rows, parts, |(p, from), there, slots| {
            for k in 0..p % 3 {
                slots.push(format!("{}-{p}-{k}", there[from]));
            }
        });
        assert_eq!(rows, expected);

        let before = rows.clone();
        let miscounted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            extend_from_parts(&mut rows, vec![(2, ()), (3, ())], |(), _, slots| {
                slots.push(String::from("x"));
                slots.push(String::from("x"));
            })
        }));
        assert!(miscounted.is_err());
        assert_eq!(rows, before);
    }

    /// By bucket, then key, ties in the rows' order: the order of one
    /// stable sort by the pair.
    #[test]
    fn rows_sorted_by_bucket_and_key_are_sorted_stably() {
        let n = 10_007usize;
        let mut rows: Vec<(usize, usize, usize)> = (0..n)
            .map(|i| ((i * 7_919) % 5, (i * 104_729) % 97, i))
            .collect();
        let mut expected = rows.clone();
        expected.sort_by_key(|r| (r.0, r.1));
        sort_rows_by_bucket_and_key(&mut rows, |r| r.0, |r| r.1);
        assert_eq!(rows, expected);
        let mut none: Vec<(usize, usize)> = Vec::new();
        sort_rows_by_bucket_and_key(&mut none, |r| r.0, |r| r.1);
        assert!(none.is_empty());
    }

    #[test]
    fn rows_sorted_in_place_keep_the_order_of_equal_keys() {
        // Keys with ties, in an order with cycles of every length.
        let keys = [3, 1, 2, 3, 0, 1, 2, 0, 3, 1, 5, 4, 4, 0];
        let mut rows: Vec<(u32, usize)> = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let mut expected = rows.clone();
        expected.sort_by_key(|r| r.0);
        sort_rows_stably(&mut rows, |a, b| a.0.cmp(&b.0));
        assert_eq!(rows, expected);
        // The tie of key 3 kept its first-seen order: rows 0, 3, 8.
        let threes: Vec<usize> = rows.iter().filter(|r| r.0 == 3).map(|r| r.1).collect();
        assert_eq!(threes, [0, 3, 8]);
    }

    #[test]
    fn sorting_nothing_or_one_row_is_a_no_op() {
        let mut none: Vec<u8> = Vec::new();
        sort_rows_stably(&mut none, u8::cmp);
        assert!(none.is_empty());
        let mut one = vec![7u8];
        sort_rows_stably(&mut one, u8::cmp);
        assert_eq!(one, [7]);
    }

    #[test]
    fn a_permutation_of_many_rows_lands_sorted() {
        // A deterministic shuffle (multiplicative step coprime with n).
        let n = 10_007usize;
        let mut rows: Vec<usize> = (0..n).map(|i| (i * 7_919) % n).collect();
        sort_rows_stably(&mut rows, usize::cmp);
        assert!(rows.iter().enumerate().all(|(i, &r)| i == r));
        // Rows owning memory are moved, not copied: each freed once, each
        // where it belongs (a duplicated or lost row would fail here, or
        // free twice).
        let mut owned: Vec<String> = (0..n).map(|i| format!("{:05}", (i * 7_919) % n)).collect();
        sort_rows_stably(&mut owned, String::cmp);
        assert!(owned
            .iter()
            .enumerate()
            .all(|(i, r)| *r == format!("{i:05}")));
    }
}
