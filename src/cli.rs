//! The command line: clap definitions, one struct per subcommand, and the
//! thin functions that turn them into calls of the library.

// The doc comments below are the commands' `--help` text, written for a
// terminal (`dist/<version>`, bare URLs), not for rustdoc's HTML.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

use std::path::PathBuf;
use std::time::Duration;

use crate::release::publish;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::output::CsvOptions;
use crate::pipeline::Pipeline;
use crate::progress::StageProgress;
use crate::rules::continuum::ContinuumPolicy;
use crate::rules::millesime::Millesime;
use crate::stages::coverage::CatalogueInput;
use crate::stages::indicators::{IndicatorsOptions, SourceFiles, SourceKind};
use crate::stages::{self, StageContext, StageReport};
use crate::staging::catalogues::{CatalogueColumns, CatalogueFormat};

#[derive(Debug, Parser)]
#[command(
    name = "ij",
    version,
    about = "Offline pipeline for the InserJeunes / InserSup indicators",
    long_about = "ij reads the raw statistical extracts (BCN nomenclature, InserJeunes, InserSup), \
follows the continuum of revised trainings, and writes CSV and Parquet tables for open-data releases.\n\n\
Start with `ij run` (the default pipeline on the embedded sample), or run one stage on its own.",
    after_help = "Examples:\n  ij run                                   # pipelines/default.toml, the embedded sample\n  ij run pipelines/real.toml --out /tmp/ij # the real extracts of ../shared/data/real\n  ij bcn --bcn fixtures/bcn --out out/bcn  # one stage on its own"
)]
pub struct Cli {
    /// Print only errors (for CI): no progress, no stage details.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the stages of a pipeline file, in order.
    #[command(
        after_help = "Examples:\n  ij run\n  ij run pipelines/real.toml\n  ij run pipelines/default.toml --out /tmp/sample --quiet\n\nEach stage writes OUT/<stage>/, swapped in as a whole once the stage succeeded: a failed or killed run \
leaves every stage folder and the release wholly old or wholly new. One run at a time per OUT (a second one \
stops at once); OUT/run.json records every input's and output's SHA-256."
    )]
    Run(RunArgs),
    /// Build the formation referential (one row per CFD, MEF_STAT_11, SISE code) from BCN tables.
    #[command(
        after_help = "Examples:\n  ij bcn --bcn fixtures/bcn --out out/bcn\n  ij bcn --bcn ../shared/data/real/bcn --out /tmp/bcn\n\nThe folder may hold CSV exports or BCN API JSON; tables are found by name \
(N_FORMATION_DIPLOME.csv, nFormationDiplome_.csv, n_mef_15072020.csv, N_MEF.json…). Writes formations_referentiel.{csv,parquet}, \
bcn_rejects.{csv,parquet} and bcn_summary.json. A row with a malformed key or value goes to bcn_rejects with its reason; \
a table absent or holding only a header is listed with what its absence costs (\"warning: N_MEF absent: …\")."
    )]
    Bcn(BcnArgs),
    /// Build the continuum: links between old and new codes of revised trainings, and their lineages.
    #[command(
        after_help = "Examples:\n  ij continuum --bcn fixtures/bcn --out out/continuum\n\nReads N_FORMATION_DIPLOME (ANCIEN_DIPLOME_n / NOUVEAU_DIPLOME_n) and N_MEF. Writes \
continuum_links.{csv,parquet}, continuum_lineage.{csv,parquet} and continuum_summary.json."
    )]
    Continuum(BcnArgs),
    /// Build the indicator tables (national, regional, per establishment) from InserJeunes and InserSup extracts.
    #[command(
        after_help = "Examples:\n  ij indicators --bcn-out dist/sample/bcn --continuum-out dist/sample/continuum \\\n      --regional fixtures/inserjeunes/ij_region_data.csv --out out/indicators\n  ij indicators --bcn-out out/bcn --continuum-out out/continuum --insersup fr-esr-insersup.csv --seuil 20 --policy lineage --out out/ind\n\nReads the outputs of `ij bcn` and `ij continuum`. Writes certifications, regionales, formations, etablissements, \
certifications_terminales and indicators_rejects (CSV and Parquet) and indicators_summary.json. Rates are integer percentages rounded half to even; \
under the threshold (--seuil) only nb_annee_term is published and `masked` says why."
    )]
    Indicators(IndicatorsArgs),
    /// Measure how much of a platform's catalogue the indicators cover, and why the rest is not; `ij coverage check` is the CI gate.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  ij coverage --catalogue fixtures/catalogues/affelnet2nde.csv --bcn-out dist/sample/bcn \\\n      --indicators-out dist/sample/indicators --out out/coverage\n  ij coverage check --baseline coverage/baseline/affelnet2nde/coverage_summary.json \\\n      --current dist/sample/coverage/affelnet2nde/coverage_summary.json --tolerance 0.5 --explain\n\n\
Every offer gets one status: covered (via direct, continuum, terminal_year, famille_metiers or uai_reconciliation; \
at the etablissement, region or national level), or below_threshold, new_formation, unknown_code, invalid_uai, \
several_terminal_formations, closed_establishment (with --annuaire), no_data.\n\n\
A catalogue in no known layout is read under its own column names:\n  ij coverage --catalogue psup.csv --column uai=UAI --column code=MEFSTAT11 --column filiere=STATUT \\\n      --filiere-value ST=pro --filiere-value AP=apprentissage --bcn-out … --indicators-out … --out …\n Writes coverage_offers (CSV, Parquet), coverage_summary.json and coverage_report.html."
    )]
    Coverage(CoverageArgs),
    /// Write synthetic inputs in the real layouts, N times the real files' size, with a pipeline file that runs them.
    #[command(
        after_help = "Examples:\n  ij synth --scale 1 --seed 1 --out /tmp/synth1 && ij run /tmp/synth1/pipeline.toml --quiet\n  ij synth --scale 10 --out /tmp/synth10\n  ij synth --scale 0.05 --out /tmp/tiny\n\n\
Writes BCN exports (N_/V_FORMATION_DIPLOME with revision chains, splits, merges and one-sided links, N_MEF, familles de métiers), \
the InserJeunes regional file, the CFA and DEPP establishment files, InserSup API JSON, an Affelnet 2nde and a Parcoursup \
apprenticeship catalogue, and pipeline.toml (outputs under OUT/out/). Row counts are SCALE times the real files' with the same shapes \
(codes per level, régions, share under the seuil); the same scale and seed give the same bytes. Nomenclature tables \
(niveaux) keep their size. The folder is written beside OUT and renamed into place; an existing OUT is replaced only if ij synth wrote it."
    )]
    Synth(SynthArgs),
    /// Build a release folder for data.gouv.fr from a pipeline run: CSV, Parquet, Table Schemas, datapackage.json, README.md, manifest.json.
    #[command(
        after_help = "Examples:\n  ij release --run dist/sample --out dist/releases\n  ij release --run dist/real --out dist/releases --version 2024-11 --date 2024-11-30 --previous dist/releases/2024-10\n\n\
The release is built in a temporary folder, validated (every CSV against its Table Schema: types, patterns, enums, \
primary key) and renamed into OUT/<version>/ only when every check passed. Without --version the folder is named \
after the pipeline and a hash of its tables, and two builds of the same inputs are byte-identical."
    )]
    Release(ReleaseArgs),
    /// What changed between two releases: rows added, removed and changed per table, masked rows, coverage.
    #[command(
        after_help = "Examples:\n  ij diff dist/v1 dist/v2                   # the changelog (Markdown, in French) on stdout\n  ij diff dist/v1 dist/v2 --json            # JSON on stdout instead\n  ij diff dist/v1 dist/v2 --json diff.json --changelog /tmp/CHANGELOG.md\n\n\
Rows are matched by each table's primary key (primaryKey of <table>.schema.json, else the first column) and compared as text; \
coverage rates are compared between coverage_summary*.json files at the same path. `ij release --previous` writes the same Markdown as CHANGELOG.md."
    )]
    Diff(DiffArgs),
    /// Upload a release to a data.gouv.fr dataset: a dry run that prints every call, unless --apply.
    #[command(
        after_help = "Examples:\n  ij publish dist/v2 --dataset insertion-des-jeunes   # dry run: prints every call\n  DATAGOUV_API_KEY=... ij publish dist/v2 --dataset insertion-des-jeunes --apply\n  ij publish dist/v2 --dataset 5f3c0a9e --base-url https://demo.data.gouv.fr/api/1 --apply\n\n\
Each file (CSV, Parquet, <table>.schema.json, datapackage.json, README.md, CHANGELOG.md) replaces the resource with its title (the file name) or becomes a new one; \
its description and schema link are set. The API key is read from $DATAGOUV_API_KEY (or --api-key-env), never from the command line. \
The release is checked first (a file missing, or not matching datapackage.json or manifest.json: nothing is sent, in a dry run too). \
Each call times out after --timeout seconds (60); a line is printed as each file starts uploading. 5xx and network errors are retried; \
401/403 stop at once; the report lists every file and the exit status is 1 if one was not published. Running again is safe."
    )]
    Publish(PublishArgs),
    /// The formations of a région that lead to few jobs (Q4 of the pilotage table), printed, as CSV and as an HTML page.
    #[command(
        after_help = "Examples:\n  ij pilotage --run dist/real --region 84\n  ij pilotage --run dist/real --academie 10 --millesime 2022_2023\n  ij pilotage --run dist/releases/real-1234 --region 11 --out /tmp/pilotage\n\n\
Each formation is compared with the pooled rates of its diploma level in the same région and millésime (pilotage table of the \
indicators stage). Q4: below the reference on both employment at 6 months and further study, the \"formations peu insérantes\". \
Without --millesime, the latest of each filière. An académie stands for its région (the figures are regional). Writes \
pilotage_q4_<région>.{csv,parquet} and pilotage_<région>.html under --out (default RUN/pilotage)."
    )]
    Pilotage(PilotageCommandArgs),
    /// Serve a release as the partners' API (the routes and widgets of the Exposition InserJeunes API).
    #[command(
        after_help = "Examples:\n  ij serve dist/sample/release/<version>\n  ij serve dist/real/release/<version> --addr 0.0.0.0:8080\n  curl http://127.0.0.1:8080/api/inserjeunes/certifications/40025214\n\n\
Loads the release's Parquet tables once, then answers GET /api (health), /api/doc (OpenAPI 3), \
/api/inserjeunes/certifications[/{codes}], /regionales[/{region}[/certifications/{codes}]], /formations[/{uai}-{code}] \
as JSON, CSV (lists) or SVG widgets (single items). Read-only; put it behind a reverse proxy for TLS (see README)."
    )]
    Serve(crate::api::cli::ServeArgs),
    /// The partners' API as static files: `ij api export`.
    Api(crate::api::cli::ApiArgs),
}

#[derive(Debug, Args)]
pub struct PilotageCommandArgs {
    /// The output folder of `ij run` (or a release folder) holding the pilotage table.
    #[arg(long, default_value = "dist/sample")]
    pub run: PathBuf,
    /// The région, by INSEE code (84 Auvergne-Rhône-Alpes, 11 Île-de-France…).
    #[arg(long, conflicts_with = "academie")]
    pub region: Option<String>,
    /// An académie, by code or name: its région's formations.
    #[arg(long)]
    pub academie: Option<String>,
    /// One millésime (2022_2023) instead of the latest of each filière.
    #[arg(long, value_parser = parse_millesime)]
    pub millesime: Option<Millesime>,
    /// Where to write the CSV and the page.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_millesime(s: &str) -> Result<Millesime, String> {
    Millesime::parse(s)
}

fn run_pilotage_command(args: &PilotageCommandArgs) -> anyhow::Result<()> {
    let (text, written) = crate::pilotage::run(&crate::pilotage::PilotageArgs {
        run: &args.run,
        region: args.region.as_deref(),
        academie: args.academie.as_deref(),
        millesime: args.millesime,
        out: args.out.as_deref(),
    })?;
    print!("{text}");
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The previous release folder.
    pub old: PathBuf,
    /// The new release folder.
    pub new: PathBuf,
    /// Write the diff as JSON to FILE; without FILE, on stdout instead of the Markdown.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Write the Markdown changelog to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub changelog: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The release folder (dist/<version>).
    pub release: PathBuf,
    /// The dataset's id or slug (as in https://www.data.gouv.fr/fr/datasets/<id>/).
    #[arg(long, value_parser = publish::parse_dataset_id)]
    pub dataset: String,
    /// Print the calls, send no write call (the default).
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
    /// Make the calls.
    #[arg(long)]
    pub apply: bool,
    /// With --dry-run: do not read the dataset either (every file is shown as new).
    #[arg(long, conflicts_with = "apply")]
    pub offline: bool,
    /// The API base URL [default: $DATAGOUV_API_URL, else https://www.data.gouv.fr/api/1].
    #[arg(long, value_name = "URL", value_parser = publish::parse_base_url)]
    pub base_url: Option<String>,
    /// The NAME of the environment variable that holds the API key (never the key itself).
    #[arg(long, value_name = "VAR", default_value = publish::DEFAULT_API_KEY_ENV)]
    pub api_key_env: String,
    /// Seconds each call may take (connect, send, answer) before it is failed and retried.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = publish::parse_timeout)]
    pub timeout: Duration,
    /// How many times a call answered 5xx, or not answered, is retried.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Seconds before the first retry, doubled at each retry.
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = publish::parse_backoff)]
    pub retry_backoff: Duration,
}

fn run_diff_command(args: &DiffArgs) -> anyhow::Result<()> {
    use crate::release::diff::{run_diff, DiffSettings, Target};
    let target = |path: &PathBuf| match path.to_str() {
        Some("-") => Target::Stdout,
        _ => Target::File(path.clone()),
    };
    let json = args.json.as_ref().map(target);
    let markdown = match (&args.changelog, &json) {
        (Some(path), _) => Some(Target::File(path.clone())),
        (None, Some(Target::Stdout)) => None,
        (None, _) => Some(Target::Stdout),
    };
    let settings = DiffSettings {
        old: args.old.clone(),
        new: args.new.clone(),
        json,
        markdown,
    };
    run_diff(&settings, &mut std::io::stdout().lock())?;
    Ok(())
}

fn run_publish_command(args: &PublishArgs) -> anyhow::Result<()> {
    use crate::release::publish::{PublishMode, PublishSettings, RetryPolicy};
    let mut settings = PublishSettings::new(&args.release, &args.dataset);
    settings.base_url =
        publish::resolve_base_url(args.base_url.as_deref()).map_err(crate::error::Error::usage)?;
    settings.mode = if args.apply {
        PublishMode::Apply
    } else {
        PublishMode::DryRun
    };
    settings.offline = args.offline;
    // Checked here, not by clap, whose message would print the value.
    publish::check_api_key_env(&args.api_key_env).map_err(crate::error::Error::usage)?;
    settings.api_key = publish::api_key_from_env(&args.api_key_env);
    settings.timeout = args.timeout;
    settings.api_key_env = args.api_key_env.clone();
    settings.retry = RetryPolicy {
        retries: args.retries,
        backoff: args.retry_backoff,
    };
    publish::run_publish(&settings, &mut std::io::stdout().lock())?.into_result()
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The output folder of a pipeline run (holding bcn/, continuum/, indicators/, run.json…).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Where the release folder is created (OUT/<version>/).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The release's name (default: <pipeline>-<hash of its tables>).
    #[arg(long)]
    pub version: Option<String>,
    /// A date to write in the release (YYYY-MM-DD); none by default.
    #[arg(long)]
    pub date: Option<String>,
    /// A previous release: CHANGELOG.md says what changed since.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// CSV separator of the release's files.
    #[arg(long, default_value = ",", value_parser = CsvOptions::parse_separator)]
    pub csv_separator: u8,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(subcommand)]
    pub check: Option<CoverageCommand>,
    /// The catalogue of offers (Affelnet, Parcoursup, or the generic `uai;code;filiere` CSV).
    #[arg(long, value_name = "FILE", required = true)]
    pub catalogue: Option<PathBuf>,
    /// Its layout, when detection by columns is not wanted: affelnet-2nde, affelnet-1pro,
    /// affelnet-2020, psup-apprentissage, psup-cartographie, generic.
    #[arg(long, value_parser = CatalogueFormat::parse)]
    pub format: Option<CatalogueFormat>,
    /// A name for the catalogue in reports (default: the file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The catalogue's own column for a field, as FIELD=COLUMN (repeatable): uai, code,
    /// filiere, code_type, academie, libelle, capacite, uai_gestionnaire, uai_formateur.
    /// The file is then read as the generic layout under those names.
    #[arg(long, value_name = "FIELD=COLUMN")]
    pub column: Vec<String>,
    /// What a value of the filière column means, as VALUE=FILIERE (repeatable), e.g. ST=pro.
    #[arg(long, value_name = "VALUE=FILIERE")]
    pub filiere_value: Vec<String>,
    /// The filière of offers whose filière is empty or not given (pro, apprentissage, agricole, superieur).
    #[arg(long, value_name = "FILIERE")]
    pub default_filiere: Option<String>,
    /// Establishment directories (annuaire de l'éducation, ACCE export): offers of a closed
    /// UAI get the status closed_establishment. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub annuaire: Vec<PathBuf>,
    /// The output folder of the `bcn` stage.
    #[arg(long, value_name = "DIR", required = true)]
    pub bcn_out: Option<PathBuf>,
    /// The output folder of the `indicators` stage.
    #[arg(long, value_name = "DIR", required = true)]
    pub indicators_out: Option<PathBuf>,
    /// The folder to write into.
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CoverageCommand {
    /// Fail when coverage fell by more than the tolerance against a baseline.
    #[command(
        after_help = "Examples:\n  ij coverage check --baseline coverage/baseline/affelnet2nde/coverage_summary.json \\\n      --current dist/sample/coverage/affelnet2nde/coverage_summary.json\n  ij coverage check --baseline old.json --current new.json --tolerance 1 --explain\n\n\
Compares the overall coverage and that of every filière and level; exits 1 when one fell by more than --tolerance points. \
--explain groups the offers whose status changed by cause (old status → new status, with the count and three examples), \
from the coverage_offers.csv beside each summary."
    )]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The committed coverage_summary.json to compare with.
    #[arg(long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// The coverage_summary.json of this run.
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// How many points of coverage may be lost before the check fails.
    #[arg(long, default_value_t = 0.0)]
    pub tolerance: f64,
    /// Group the offers whose status changed by cause (old → new status, count, three examples).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub struct IndicatorsArgs {
    /// The output folder of the `bcn` stage.
    #[arg(long, value_name = "DIR")]
    pub bcn_out: PathBuf,
    /// The output folder of the `continuum` stage.
    #[arg(long, value_name = "DIR")]
    pub continuum_out: PathBuf,
    /// InserJeunes by région (layout of ij_region_data.csv); a file, or a folder for its .csv and .json files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub regional: Vec<PathBuf>,
    /// InserJeunes national by certification; a file, or a folder for its .csv and .json files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub national: Vec<PathBuf>,
    /// InserJeunes by establishment and formation ("formation fine"); a file, or a folder for its .csv and .json files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub formations: Vec<PathBuf>,
    /// Establishment-wide figures (CFA open data, DEPP files); a file, or a folder for its .csv and .json files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub etablissements: Vec<PathBuf>,
    /// InserSup extracts (open-data CSV or API JSON); a file, or a folder for its .csv and .json files; repeatable.
    #[arg(long, value_name = "PATH")]
    pub insersup: Vec<PathBuf>,
    /// Establishment directories (annuaire de l'éducation 2023 or 2026 layout, ACCE export):
    /// names, nature and closed status of the UAIs of formations and etablissements. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub annuaire: Vec<PathBuf>,
    /// The folder to write into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Diffusion threshold on nb_annee_term.
    #[arg(long, default_value_t = crate::rules::rates::SEUIL_DEFAUT)]
    pub seuil: i64,
    /// Continuum policy: strict (one-to-one chains) or lineage (also merges and splits).
    #[arg(long, default_value = "strict", value_parser = ContinuumPolicy::parse)]
    pub policy: ContinuumPolicy,
    /// The date formation_fermee is judged at (YYYY-MM-DD).
    #[arg(long, value_parser = parse_iso_date)]
    pub date_reference: Option<chrono::NaiveDate>,
    /// CSV separator of the outputs.
    #[arg(long, default_value = ",", value_parser = CsvOptions::parse_separator)]
    pub csv_separator: u8,
}

fn parse_iso_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::rules::dates::parse_date(s)?.ok_or_else(|| "empty date".to_string())
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file.
    #[arg(default_value = "pipelines/default.toml")]
    pub pipeline: PathBuf,
    /// Write under this folder instead of the pipeline's `out`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BcnArgs {
    /// The folder holding the BCN tables.
    #[arg(long, value_name = "DIR")]
    pub bcn: PathBuf,
    /// The folder to write the stage's outputs into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV separator of the outputs.
    #[arg(long, default_value = ",", value_parser = CsvOptions::parse_separator)]
    pub csv_separator: u8,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(args) => run_pipeline(&args, quiet),
        Command::Bcn(args) => run_single("bcn", &args, quiet, stages::bcn::run),
        Command::Continuum(args) => run_single("continuum", &args, quiet, stages::continuum::run),
        Command::Indicators(args) => run_indicators(&args, quiet),
        Command::Release(args) => run_release(&args, quiet),
        Command::Diff(args) => run_diff_command(&args),
        Command::Publish(args) => run_publish_command(&args),
        Command::Pilotage(args) => run_pilotage_command(&args),
        Command::Serve(args) => crate::api::cli::run_serve(&args, quiet),
        Command::Api(args) => crate::api::cli::run_api(&args, quiet),
        Command::Synth(args) => run_synth(&args, quiet),
        Command::Coverage(args) => match &args.check {
            Some(CoverageCommand::Check(check)) => run_check(check),
            None => run_coverage(&args, quiet),
        },
    }
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Row counts relative to the real files' (1 = the same size; 0.05 and 100 work).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed of the generator: the same scale and seed give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder (replaced if an earlier ij synth wrote it).
    #[arg(long)]
    pub out: PathBuf,
}

fn run_synth(args: &SynthArgs, quiet: bool) -> anyhow::Result<()> {
    let summary = crate::synth::generate(&crate::synth::SynthOptions {
        scale: args.scale,
        seed: args.seed,
        out: args.out.clone(),
    })?;
    if !quiet {
        eprintln!(
            "synth: {} formations, {} MEFs, {} establishments, {} regional rows, {} Affelnet offers → {}",
            summary.formations,
            summary.mefs,
            summary.etablissements,
            summary.regional_rows,
            summary.affelnet_offers,
            summary.pipeline.display()
        );
    }
    Ok(())
}

fn run_coverage(args: &CoverageArgs, quiet: bool) -> anyhow::Result<()> {
    let (Some(path), Some(bcn_out), Some(indicators_out), Some(out)) = (
        &args.catalogue,
        &args.bcn_out,
        &args.indicators_out,
        &args.out,
    ) else {
        return Err(crate::Error::usage(
            "ij coverage needs --catalogue, --bcn-out, --indicators-out and --out",
        )
        .into());
    };
    let name = args.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "catalogue".into())
    });
    let columns = if args.column.is_empty()
        && args.filiere_value.is_empty()
        && args.default_filiere.is_none()
    {
        None
    } else {
        let pairs = |v: &[String]| -> Result<std::collections::BTreeMap<String, String>, String> {
            v.iter().map(|p| CatalogueColumns::parse_pair(p)).collect()
        };
        let usage = |m: String| crate::Error::usage(format!("ij coverage: {m}"));
        Some(
            CatalogueColumns::parse(
                &pairs(&args.column).map_err(usage)?,
                &pairs(&args.filiere_value).map_err(usage)?,
                args.default_filiere.as_deref(),
            )
            .map_err(usage)?,
        )
    };
    let catalogue = CatalogueInput {
        name,
        path: path.clone(),
        format: args.format,
        columns,
    };
    let ctx = StageContext {
        out_dir: out.clone(),
        csv: CsvOptions::default(),
    };
    let progress = StageProgress::start("coverage".to_string(), quiet);
    let report = stages::coverage::run(&catalogue, bcn_out, indicators_out, &ctx, &args.annuaire);
    progress.finish();
    let report = report.context("stage coverage failed; no output was changed")?;
    if !quiet {
        print_report(&report, out);
    }
    Ok(())
}

fn run_release(args: &ReleaseArgs, quiet: bool) -> anyhow::Result<()> {
    let options = crate::release::build::ReleaseOptions {
        version: args.version.clone(),
        date: args.date.clone(),
        csv_separator: args.csv_separator,
        previous: args.previous.clone(),
    };
    // No pipeline may rewrite the run folder while the release reads it.
    let _lock = if args.run.is_dir() {
        Some(crate::output::lock::lock_out(&args.run)?)
    } else {
        None
    };
    let progress = StageProgress::start("release".to_string(), quiet);
    let report = crate::release::build::run_release(&args.run, &options, &args.out);
    progress.finish();
    let report = report.context("release failed; no release folder was changed")?;
    if !quiet {
        print_report(&report, &args.out);
    }
    Ok(())
}

fn run_check(args: &CheckArgs) -> anyhow::Result<()> {
    use crate::stages::coverage::check;
    let baseline = check::read_summary(&args.baseline)?;
    let current = check::read_summary(&args.current)?;
    let result = check::compare(&baseline, &current, args.tolerance);
    for m in result.movements.iter().filter(|m| m.delta != 0.0) {
        println!(
            "{} {:<28} {:>6.1} % → {:>6.1} % ({:+.1} points)",
            if m.regression {
                "REGRESSION"
            } else {
                "moved     "
            },
            m.figure,
            m.baseline,
            m.current,
            m.delta
        );
    }
    if args.explain {
        let dir = |p: &std::path::Path| {
            p.parent()
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf()
        };
        let groups = check::explain(&dir(&args.baseline), &dir(&args.current))?;
        let changed: usize = groups.iter().map(|g| g.count).sum();
        println!(
            "{changed} offers changed status, in {} groups (old status → new status):",
            groups.len()
        );
        for g in &groups {
            let examples: Vec<String> = g
                .examples
                .iter()
                .map(|(line, code)| format!("line {line} (code {code})"))
                .collect();
            println!(
                "  {} → {}: {} offers, e.g. {}",
                g.before,
                g.after,
                g.count,
                examples.join(", ")
            );
        }
    }
    if result.regressions > 0 {
        return Err(anyhow::anyhow!(
            "coverage check failed: {} figure(s) fell by more than {} points against {}",
            result.regressions,
            args.tolerance,
            args.baseline.display()
        ));
    }
    println!(
        "coverage check passed: {:.1} % (baseline {:.1} %), no figure fell by more than {} points",
        current.coverage_rate, baseline.coverage_rate, args.tolerance
    );
    Ok(())
}

fn run_indicators(args: &IndicatorsArgs, quiet: bool) -> anyhow::Result<()> {
    let mut sources = SourceFiles::default();
    for (kind, files) in [
        (SourceKind::InserjeunesRegional, &args.regional),
        (SourceKind::InserjeunesNational, &args.national),
        (SourceKind::InserjeunesFormations, &args.formations),
        (SourceKind::InserjeunesEtablissements, &args.etablissements),
        (SourceKind::Insersup, &args.insersup),
    ] {
        // A folder stands for its files, as in a pipeline file.
        for path in files {
            for file in crate::pipeline::expand(path)? {
                sources.files.push((kind, file));
            }
        }
    }
    let options = IndicatorsOptions {
        seuil: args.seuil,
        policy: args.policy,
        date_reference: args.date_reference,
        annuaire: args.annuaire.clone(),
    };
    let ctx = StageContext {
        out_dir: args.out.clone(),
        csv: CsvOptions {
            separator: args.csv_separator,
        },
    };
    let progress = StageProgress::start("indicators".to_string(), quiet);
    let report =
        stages::indicators::run(&sources, &args.bcn_out, &args.continuum_out, &options, &ctx);
    progress.finish();
    let report = report.context("stage indicators failed; no output was changed")?;
    if !quiet {
        print_report(&report, &ctx.out_dir);
    }
    Ok(())
}

fn run_single(
    name: &str,
    args: &BcnArgs,
    quiet: bool,
    stage: fn(&std::path::Path, &StageContext) -> crate::error::Result<StageReport>,
) -> anyhow::Result<()> {
    let ctx = StageContext {
        out_dir: args.out.clone(),
        csv: CsvOptions {
            separator: args.csv_separator,
        },
    };
    let progress = StageProgress::start(format!("{name}: reading {}", args.bcn.display()), quiet);
    let report = stage(&args.bcn, &ctx);
    progress.finish();
    let report = report.with_context(|| format!("stage {name} failed; no output was changed"))?;
    if !quiet {
        print_report(&report, &ctx.out_dir);
    }
    Ok(())
}

fn run_pipeline(args: &RunArgs, quiet: bool) -> anyhow::Result<()> {
    let mut pipeline = Pipeline::load(&args.pipeline)?;
    if let Some(out) = &args.out {
        pipeline.out = out.clone();
    }
    // Settings and paths first (a pipeline file that points to nothing is a
    // usage error, exit 2), then what every input holds (issue 9, exit 1).
    pipeline.preflight()?;
    pipeline.validate_inputs()?;
    for (path, encoding) in &pipeline.encodings {
        crate::input::encoding::declare(path, *encoding);
    }
    // One run at a time in `out`; what dead runs left there goes first.
    let _lock = crate::output::lock::lock_out(&pipeline.out)?;
    crate::output::staged::clean_dead(&pipeline.out)?;
    if !quiet {
        eprintln!(
            "ij: pipeline {} ({}): {} → {}",
            pipeline.name,
            args.pipeline.display(),
            pipeline
                .stages
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(" → "),
            pipeline.out.display()
        );
    }
    let started = std::time::Instant::now();
    let mut reports = Vec::new();
    let mut hashes = crate::pipeline::RunHashes::default();
    for &stage in &pipeline.stages {
        let progress = StageProgress::start(stage.name().to_string(), quiet);
        let report = pipeline.run_stage(stage);
        progress.finish();
        let report = report.with_context(|| {
            format!(
                "stage {} of pipeline {} failed; its previous outputs in {} are unchanged",
                stage.name(),
                pipeline.name,
                pipeline.stage_dir(stage).display()
            )
        })?;
        if !quiet {
            print_report(&report, &pipeline.stage_dir(stage));
        }
        reports.push(report);
        // What ran so far, for the release's manifest (no timings: reproducible).
        pipeline.write_run_record(&reports, &mut hashes)?;
    }
    if !quiet {
        eprintln!(
            "ij: pipeline {} done in {:.2} s",
            pipeline.name,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn print_report(report: &StageReport, out_dir: &std::path::Path) {
    eprintln!(
        "{}: done in {:.2} s → {}",
        report.stage,
        report.elapsed.as_secs_f64(),
        out_dir.display()
    );
    for input in &report.inputs {
        let format = match &input.format {
            Some(f) => format!(
                ", {}{}",
                f.encoding.name(),
                f.delimiter
                    .map(|d| format!(", '{}'-separated", d.escape_default()))
                    .unwrap_or_else(|| ", JSON".to_string())
            ),
            None => String::new(),
        };
        eprintln!(
            "  read {} ({} rows{format})",
            input.path.display(),
            input.rows
        );
    }
    for line in &report.details {
        eprintln!("  {}", crate::error::escape_controls(line));
    }
}
