//! The command line of the API: `ij serve` and `ij api export` (the `ij`
//! command line, `src/cli.rs`, wires them in; nothing here reads it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use crate::api::{export, server, Api};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The release folder (`release/<version>/`, as `ij release` writes it).
    pub release: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Worker threads answering requests.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(subcommand)]
    pub command: ApiCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Write the API's single-item answers (JSON and SVG, latest millésimes) as a static tree.
    #[command(
        after_help = "Examples:\n  ij api export dist/sample/release/<version> --out dist/api\n  python3 -m http.server -d dist/api 8000   # then GET /api/inserjeunes/certifications/40025214.json\n\n\
Writes one JSON and one SVG per certification (national), per région × certification and per formation (UAI × code), \
for the latest millésime of each filière, at the paths `ij serve` answers, with the same bytes; and index.json listing them. \
Codes without figures to show are skipped (the server answers them 404)."
    )]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The release folder.
    pub release: PathBuf,
    /// The folder to write (replaced if it holds an earlier export).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run_serve(args: &ServeArgs, quiet: bool) -> anyhow::Result<()> {
    let start = Instant::now();
    let api = Api::load(&args.release)?;
    if !quiet {
        eprintln!(
            "ij serve: release {} loaded in {:.2} s ({} national, {} regional, {} establishment rows)",
            api.data.version,
            start.elapsed().as_secs_f64(),
            api.data.national.rows.len(),
            api.data.regionales.rows.len(),
            api.data.formations.rows.len()
        );
    }
    server::serve(api, args.addr, args.threads)?;
    Ok(())
}

pub fn run_api(args: &ApiArgs, quiet: bool) -> anyhow::Result<()> {
    match &args.command {
        ApiCommand::Export(e) => {
            let api = Api::load(&e.release)?;
            let report = export::export(&api, &e.out)?;
            if !quiet {
                eprintln!(
                    "ij api export: {} files written under {} ({} answers without figures skipped)",
                    report.files,
                    e.out.display(),
                    report.skipped
                );
            }
            Ok(())
        }
    }
}
