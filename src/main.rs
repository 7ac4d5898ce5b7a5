//! `ij`: parse the command line, run, and turn an error into a message on
//! stderr and an exit code (1: data or validation failure, 2: usage).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
            // One line: the context, then the cause that names the file.
            let message = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("ij: {}", ij::error::escape_controls(&message));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}
