//! `ij`: parse the command line, run, and turn an error into a message on
//! stderr and an exit code (1: data or validation failure, 2: usage).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = ij::cli::Cli::parse();
    match ij::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`ij … | head`) is not a failure.
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            let usage = matches!(e.downcast_ref::<ij::Error>(), Some(ij::Error::Usage(_)));
            // One line: the context, then the cause that names the file. A
            // cause its parent already quotes (`cannot read: {source}`) is
            // not repeated.
            let mut message = String::new();
            for cause in e.chain().map(|c| c.to_string()) {
                if message.contains(&cause) {
                    continue;
                }
                if !message.is_empty() {
                    message.push_str(": ");
                }
                message.push_str(&cause);
            }
            eprintln!("ij: {}", ij::error::escape_controls(&message));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// glibc gives each thread that allocates its own arena and keeps freed
/// memory there: on the real run that was a fifth of the peak resident
/// memory (494 MiB with the default, 413 MiB with two arenas, same time;
/// and a little faster; NOTES.md, issue 13). Two match the 2-core machines
/// `ij` is measured on; on more cores, more arenas may pay: not measured.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
