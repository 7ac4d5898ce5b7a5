//! Giving freed memory back to the system between the steps of a stage.
//!
//! glibc's allocator keeps the small blocks a program frees for its next
//! allocations, and returns them to the system only from the top of its
//! heap. When a stage frees a large structure made of small blocks (the BCN
//! referential's strings) before a step whose allocations are large (the
//! tables' columns, which glibc maps afresh), those blocks would stay
//! resident through the step: the stage's peak (issue 13).

/// Returns the allocator's free pages to the system (`malloc_trim`), where
/// the allocator is glibc's; elsewhere, nothing.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases pages the allocator holds free;
    // it touches no memory the program owns.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// With `IJ_TRACE_MEMORY` set, prints the process's resident memory and
/// its peak so far after a step (`label`) on standard error: how the
/// steps of issue 13 were measured. Linux only; elsewhere, nothing.
pub fn trace(label: &str) {
    if std::env::var_os("IJ_TRACE_MEMORY").is_none() {
        return;
    }
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
    eprintln!(
        "memory: {label}: resident {} MiB, peak {} MiB",
        mib("VmRSS:"),
        mib("VmHWM:")
    );
}
