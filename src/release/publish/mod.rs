//! `ij publish dist/<version> --dataset ID`: uploads a release's files to a
//! data.gouv.fr dataset, creating a resource per file or replacing the one
//! with the same title (the file name), then setting its description, type
//! and schema link.
//!
//! Endpoints used (data.gouv.fr API v1, served by udata; sources: the API
//! reference <https://www.data.gouv.fr/api/1/swagger.json> and udata's
//! `udata/core/dataset/api.py`, routes `upload_new_dataset_resource`,
//! `upload_dataset_resource` and `resource`):
//! - `GET  {base}/datasets/{dataset}/`: the dataset, with
//!   `resources: [{id, title, url, …}]`. Public; the key is sent when set, so
//!   that a private dataset can be read.
//! - `POST {base}/datasets/{dataset}/upload/`: multipart/form-data with one
//!   part `file`; answers 201 and the new resource (`id`, `url`; its title is
//!   the file name).
//! - `POST {base}/datasets/{dataset}/resources/{rid}/upload/`: the same body;
//!   replaces the resource's file, answers 200 and the resource.
//! - `PUT  {base}/datasets/{dataset}/resources/{rid}/`: JSON
//!   `{title, description, type, schema: {url}}`; answers 200.
//!
//! Write calls carry `X-API-KEY`, read from an environment variable (never a
//! flag or a file: a key in a shell history or a repository is a leaked key),
//! and never printed: plans show `$DATAGOUV_API_KEY` in its place.
//!
//! Safety rules, so that a release is never half-published silently:
//! - the release folder is checked first (datapackage.json parses, every file
//!   it lists exists, with the size and SHA-256 it declares); a broken release
//!   uploads nothing;
//! - the dataset is read first (in dry-run too, unless `--offline`): titles
//!   that match two resources stop the command before any upload;
//! - `--dry-run` (the default) prints the exact calls and sends no write call;
//! - 5xx answers and connection failures are retried (3 times by default,
//!   with a doubling backoff); before retrying the creation of a resource the
//!   dataset is read again, so that a creation that did happen but answered
//!   5xx is not made twice;
//! - 401/403 stops everything at once (the key is wrong or lacks rights on
//!   the dataset): the other files are reported "not attempted";
//! - 413 (file too large) and other 4xx fail that file only; the others go on;
//! - the report lists every file (created, replaced, failed and why, not
//!   attempted) and the command exits non-zero when one is not published.
//!   Running it again is safe: published files are found by title and replaced.
//!
//! Schema links: each table's `<table>.schema.json` is published too, first,
//! and the CSV and Parquet resources link to its URL on data.gouv.fr.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;

mod apply;
mod folder;
mod http;
mod plan;
mod report;

pub use folder::{read_release, FileKind, Release, ReleaseFile};
pub use http::Failure;
pub use plan::{
    parse_dataset_resources, plan_publication, Action, Call, CallBody, Plan, PlannedFile,
    RemoteResource,
};
pub use report::{FileReport, Outcome, PublishReport};

use apply::{execute, fetch_resources};
use http::Client;
use report::print_report;

pub const DEFAULT_BASE_URL: &str = "https://www.data.gouv.fr/api/1";
/// The environment variable that holds the API key, unless `--api-key-env`.
pub const DEFAULT_API_KEY_ENV: &str = "DATAGOUV_API_KEY";
/// The environment variable that sets the base URL when `--base-url` is absent.
pub const BASE_URL_ENV: &str = "DATAGOUV_API_URL";
pub const DATAPACKAGE_FILE: &str = "datapackage.json";
const README_FILE: &str = "README.md";
const CHANGELOG_FILE: &str = super::diff::CHANGELOG_FILE;
const USER_AGENT: &str = concat!("ij/", env!("CARGO_PKG_VERSION"), " (ij publish)");

/// `--dry-run` (the default) or `--apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishMode {
    DryRun,
    Apply,
}

/// An API key. Its `Debug` does not show it, so it cannot leak in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// `None` for an empty key.
    pub fn new(key: &str) -> Option<ApiKey> {
        let key = key.trim();
        (!key.is_empty()).then(|| ApiKey(key.to_string()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Checks `--api-key-env`: the NAME of an environment variable. A value
/// that is not a name, or looks like a key (long, without `_`), is refused
/// without ever being shown: it may be the key itself, given by mistake.
pub fn check_api_key_env(var: &str) -> std::result::Result<(), String> {
    let is_name = !var.is_empty()
        && var.len() <= 64
        && !var.starts_with(|c: char| c.is_ascii_digit())
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let looks_like_key = var.len() >= 24 && !var.contains('_');
    if is_name && !looks_like_key {
        return Ok(());
    }
    Err(format!(
        "--api-key-env takes the name of an environment variable (letters, digits and _, such as {DEFAULT_API_KEY_ENV}), \
         not a key; the value given ({} characters) is not shown: if it was your API key, set it in a variable \
         (export {DEFAULT_API_KEY_ENV}=…) and consider it exposed in your shell history",
        var.chars().count()
    ))
}

/// Parses `--timeout` (seconds, 1 to 3600).
pub fn parse_timeout(seconds: &str) -> std::result::Result<Duration, String> {
    match seconds.trim().parse::<f64>() {
        Ok(s) if (1.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "\"{seconds}\": expected a number of seconds between 1 and 3600"
        )),
    }
}

/// The default `--timeout` of each call.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;

/// The key in environment variable `var`, if set and not empty.
pub fn api_key_from_env(var: &str) -> Option<ApiKey> {
    std::env::var(var).ok().and_then(|k| ApiKey::new(&k))
}

/// `--base-url` when given, else `$DATAGOUV_API_URL`, else data.gouv.fr.
pub fn resolve_base_url(flag: Option<&str>) -> std::result::Result<String, String> {
    match flag {
        Some(url) => parse_base_url(url),
        None => match std::env::var(BASE_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => {
                parse_base_url(&url).map_err(|e| format!("{BASE_URL_ENV}: {e}"))
            }
            _ => Ok(DEFAULT_BASE_URL.to_string()),
        },
    }
}

/// Checks an API base URL (`http(s)://host/api/1`); drops a final `/`.
pub fn parse_base_url(url: &str) -> std::result::Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.contains(char::is_whitespace)
    {
        return Err(format!(
            "\"{url}\": expected an http(s) URL such as {DEFAULT_BASE_URL}"
        ));
    }
    Ok(url.to_string())
}

/// Checks a dataset id or slug (what follows `/datasets/` in its page URL).
pub fn parse_dataset_id(id: &str) -> std::result::Result<String, String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id.to_string())
    } else {
        Err(format!(
            "\"{id}\": expected a dataset id or slug (letters, digits, - and _), as in https://www.data.gouv.fr/fr/datasets/<id>/"
        ))
    }
}

/// Parses `--retry-backoff` (seconds, 0 to 600, decimals allowed).
pub fn parse_backoff(seconds: &str) -> std::result::Result<Duration, String> {
    match seconds.trim().parse::<f64>() {
        Ok(s) if (0.0..=600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "\"{seconds}\": expected a number of seconds between 0 and 600"
        )),
    }
}

/// How failed calls are retried: `retries` more attempts after the first,
/// waiting `backoff`, then twice as long each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retries: u32,
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry `n` (1-based).
    fn wait(&self, n: u32) -> Duration {
        self.backoff
            .saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
    }
}

/// `ij publish` once its command line is parsed.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    /// The release folder (`dist/<version>`).
    pub release: PathBuf,
    /// The dataset id or slug.
    pub dataset: String,
    /// The API base URL, without a final `/`.
    pub base_url: String,
    pub mode: PublishMode,
    /// Do not read the dataset: the plan then creates every file.
    pub offline: bool,
    /// Required for `--apply`.
    pub api_key: Option<ApiKey>,
    /// The variable the key came from, named in plans and messages.
    pub api_key_env: String,
    pub retry: RetryPolicy,
    /// Connect, read and write timeout of each call.
    pub timeout: Duration,
}

impl PublishSettings {
    /// Settings with the defaults: dry run, data.gouv.fr, 3 retries.
    pub fn new(release: &Path, dataset: &str) -> PublishSettings {
        PublishSettings {
            release: release.to_path_buf(),
            dataset: dataset.to_string(),
            base_url: DEFAULT_BASE_URL.to_string(),
            mode: PublishMode::DryRun,
            offline: false,
            api_key: None,
            api_key_env: DEFAULT_API_KEY_ENV.to_string(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

/// Runs `ij publish`: checks the release, reads the dataset, then prints the
/// plan (dry run) or makes the calls and prints the report (apply), on `out`.
/// A report with failures is `Ok`: see `PublishReport::into_result`.
pub fn run_publish(
    settings: &PublishSettings,
    out: &mut dyn Write,
) -> anyhow::Result<PublishReport> {
    check_apply_settings(settings)?;
    let release = read_release(&settings.release)?;
    let client = Client::new(settings);
    let remote = if settings.offline {
        None
    } else {
        Some(fetch_resources(&client, settings, out)?)
    };
    let plan = plan_publication(
        &release,
        &settings.dataset,
        &settings.base_url,
        remote.as_deref(),
    )?;
    let summary = plan_summary(&plan, &release.version, &settings.dataset);
    match settings.mode {
        PublishMode::DryRun => dry_run(&plan, settings, &summary, out),
        PublishMode::Apply => {
            writeln!(out, "ij publish: {summary}")?;
            let report = execute(&plan, &client, remote.as_deref().unwrap_or_default(), out)?;
            print_report(&report, out)?;
            Ok(report)
        }
    }
}

/// `--apply` reads the dataset and needs a key: refused before anything is
/// read, with what to do.
fn check_apply_settings(settings: &PublishSettings) -> Result<(), Error> {
    if settings.mode != PublishMode::Apply {
        return Ok(());
    }
    if settings.offline {
        return Err(Error::usage(
            "--offline goes with --dry-run only: --apply must read the dataset to replace its resources",
        ));
    }
    if settings.api_key.is_none() {
        return Err(Error::usage(format!(
            "--apply needs an API key in the environment variable {} (never on the command line); \
             create one on data.gouv.fr (your profile, \"Clé d'API\")",
            settings.api_key_env
        )));
    }
    Ok(())
}

/// One line saying what the plan does: files to replace and to create.
fn plan_summary(plan: &Plan, version: &str, dataset: &str) -> String {
    let creates = plan
        .files
        .iter()
        .filter(|f| f.action == Action::Create)
        .count();
    format!(
        "{} files of release {version} to dataset {dataset}: {} to replace, {creates} to create{}",
        plan.files.len(),
        plan.files.len() - creates,
        if plan.checked_remote {
            format!(" (the dataset has {} resources)", plan.remote_resources)
        } else {
            " (--offline: existing resources not looked up, all shown as new)".to_string()
        }
    )
}

/// The dry run: the calls `--apply` would make, printed; every file planned.
fn dry_run(
    plan: &Plan,
    settings: &PublishSettings,
    summary: &str,
    out: &mut dyn Write,
) -> anyhow::Result<PublishReport> {
    writeln!(
        out,
        "ij publish: dry run, nothing is sent; --apply makes these calls"
    )?;
    writeln!(out, "ij publish: {summary}")?;
    if plan.checked_remote {
        writeln!(out, "GET {} (done)", plan.dataset_url())?;
    }
    for call in plan.calls(&settings.api_key_env) {
        writeln!(out, "{call}")?;
    }
    let files = plan
        .files
        .iter()
        .map(|p| FileReport {
            name: p.file.name.clone(),
            bytes: p.file.bytes,
            outcome: Outcome::Planned(p.action.clone()),
            note: None,
        })
        .collect();
    Ok(PublishReport {
        dataset: settings.dataset.clone(),
        mode: PublishMode::DryRun,
        files,
        stopped: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows() {
        let key = ApiKey::new(" secret ").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(key.expose(), "secret");
        assert!(ApiKey::new("  ").is_none());
    }

    #[test]
    fn urls_and_ids_are_checked() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8/api/1/").unwrap(),
            "http://127.0.0.1:8/api/1"
        );
        assert!(parse_base_url("www.data.gouv.fr/api/1").is_err());
        assert!(parse_dataset_id("insertion-pro-2024").is_ok());
        assert!(parse_dataset_id("a/../b").is_err());
    }

    #[test]
    fn api_key_env_takes_a_name_never_a_key() {
        assert!(check_api_key_env("DATAGOUV_API_KEY").is_ok());
        assert!(check_api_key_env("MY_KEY_2").is_ok());
        let key = "eyJhbGciOiJIUzUxMiJ9.eyJ1c2VyIjoiNWYzYyJ9.sig";
        for bad in [key, "0f3a9c5e7b2d4e6f8a1b3c5d7e9f0a2b", "", "A B"] {
            let e = check_api_key_env(bad).unwrap_err();
            if !bad.is_empty() {
                assert!(!e.contains(bad), "the value is never shown: {e}");
            }
            assert!(e.contains("not a key"), "{e}");
        }
    }

    #[test]
    fn backoffs_are_seconds() {
        assert_eq!(parse_backoff("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_backoff("-1").is_err());
        assert!(parse_backoff("NaN").is_err());
    }

    #[test]
    fn retries_wait_twice_as_long_each_time() {
        let retry = RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(100),
        };
        assert_eq!(retry.wait(1), Duration::from_millis(100));
        assert_eq!(retry.wait(3), Duration::from_millis(400));
    }
}
