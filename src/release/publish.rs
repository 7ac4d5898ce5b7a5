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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

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
            timeout: Duration::from_secs(300),
        }
    }
}

// ---------------------------------------------------------------------------
// The release folder

/// What a file of the release is; files are uploaded in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `<table>.schema.json`: first, so that tables can link to it.
    TableSchema,
    Csv,
    Parquet,
    /// Another file listed in datapackage.json.
    Other,
    DataPackage,
    Readme,
    Changelog,
}

impl FileKind {
    /// The resource `type` on data.gouv.fr.
    fn resource_type(self) -> &'static str {
        match self {
            FileKind::Csv | FileKind::Parquet | FileKind::Other => "main",
            _ => "documentation",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FileKind::Csv => "text/csv",
            FileKind::Parquet => "application/vnd.apache.parquet",
            FileKind::TableSchema | FileKind::DataPackage => "application/json",
            FileKind::Readme | FileKind::Changelog => "text/markdown",
            FileKind::Other => "application/octet-stream",
        }
    }
}

/// A file to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// The file name: the resource's title on data.gouv.fr.
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub kind: FileKind,
    pub description: String,
    /// The name of the schema file the resource links to.
    pub schema: Option<String>,
}

/// A checked release folder and the files to publish, in upload order.
#[derive(Debug, Clone)]
pub struct Release {
    pub dir: PathBuf,
    pub version: String,
    pub files: Vec<ReleaseFile>,
}

/// Title, description and primary key of a table, from its schema.
#[derive(Default)]
struct TableInfo {
    title: Option<String>,
    description: Option<String>,
    primary_key: Vec<String>,
}

/// Reads and checks a release folder: datapackage.json parses and every file
/// it lists exists, with the `bytes` and `sha256:` `hash` it declares. All
/// problems are reported together; any of them means nothing is uploaded.
pub fn read_release(dir: &Path) -> Result<Release> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: not a release folder (expected dist/<version>, written by the release stage)",
            dir.display()
        )));
    }
    let package_path = dir.join(DATAPACKAGE_FILE);
    let text = std::fs::read_to_string(&package_path).map_err(|e| {
        Error::file(
            &package_path,
            format!(
                "cannot read ({e}); a release folder holds datapackage.json, written by the release stage: \
                 rebuild the release; nothing was uploaded"
            ),
        )
    })?;
    let package: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(
            &package_path,
            format!("invalid JSON ({e}); rebuild the release; nothing was uploaded"),
        )
    })?;
    let resources = package
        .get("resources")
        .and_then(serde_json::Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            Error::file(
                &package_path,
                "no `resources` list; rebuild the release; nothing was uploaded",
            )
        })?;
    let version = package
        .get("version")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| super::diff::release_name(dir));

    let mut problems = Vec::new();
    let mut files: Vec<ReleaseFile> = Vec::new();
    let add = |files: &mut Vec<ReleaseFile>, file: ReleaseFile| {
        if !files.iter().any(|f| f.path == file.path) {
            files.push(file);
        }
    };
    for (index, resource) in resources.iter().enumerate() {
        let label = resource
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map_or_else(
                || format!("resource {}", index + 1),
                |n| format!("resource `{n}`"),
            );
        let paths: Vec<&str> = match resource.get("path") {
            Some(serde_json::Value::String(p)) => vec![p.as_str()],
            Some(serde_json::Value::Array(ps)) => ps.iter().filter_map(|p| p.as_str()).collect(),
            _ => Vec::new(),
        };
        if paths.is_empty() {
            problems.push(format!("{label} has no `path`"));
            continue;
        }
        let info = table_info(dir, resource, &paths, &mut problems);
        for rel in paths {
            let Some(path) = checked_path(dir, rel, &label, &mut problems) else {
                continue;
            };
            let Some(bytes) = check_file(&path, rel, resource, &mut problems) else {
                continue;
            };
            let kind = match Path::new(rel).extension().and_then(|e| e.to_str()) {
                Some("csv") => FileKind::Csv,
                Some("parquet") => FileKind::Parquet,
                _ => FileKind::Other,
            };
            let stem = file_stem(rel);
            // The schema the package names, else `<table>.schema.json` beside.
            let schema_path = match resource.get("schema").and_then(serde_json::Value::as_str) {
                Some(schema_rel)
                    if checked_path(dir, schema_rel, &label, &mut Vec::new()).is_some() =>
                {
                    dir.join(schema_rel)
                }
                _ => path.with_file_name(format!("{stem}.schema.json")),
            };
            let schema = schema_path
                .is_file()
                .then(|| schema_path.file_name())
                .flatten()
                .map(|n| n.to_string_lossy().into_owned());
            add(
                &mut files,
                release_file(
                    &path,
                    bytes,
                    kind,
                    describe(kind, &stem, &info, &version),
                    schema.clone(),
                ),
            );
            if kind == FileKind::Csv || kind == FileKind::Parquet {
                // The other format of the table, when the package lists only one.
                let (other, other_kind) = match kind {
                    FileKind::Csv => (path.with_extension("parquet"), FileKind::Parquet),
                    _ => (path.with_extension("csv"), FileKind::Csv),
                };
                if let Ok(meta) = std::fs::metadata(&other) {
                    let description = describe(other_kind, &stem, &info, &version);
                    add(
                        &mut files,
                        release_file(&other, meta.len(), other_kind, description, schema.clone()),
                    );
                }
            }
            if let Ok(meta) = std::fs::metadata(&schema_path) {
                let description = describe(FileKind::TableSchema, &stem, &info, &version);
                add(
                    &mut files,
                    release_file(
                        &schema_path,
                        meta.len(),
                        FileKind::TableSchema,
                        description,
                        None,
                    ),
                );
            }
        }
    }
    for (name, kind) in [
        (DATAPACKAGE_FILE, FileKind::DataPackage),
        (README_FILE, FileKind::Readme),
        (CHANGELOG_FILE, FileKind::Changelog),
    ] {
        let path = dir.join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            let description = describe(kind, "", &TableInfo::default(), &version);
            add(
                &mut files,
                release_file(&path, meta.len(), kind, description, None),
            );
        }
    }
    // Resources are found by title, which is the file name: two files with one
    // name in two folders would replace each other.
    let mut names = BTreeMap::new();
    for f in &files {
        if let Some(first) = names.insert(f.name.clone(), f.path.clone()) {
            problems.push(format!(
                "{} and {} have the same file name, and so would have the same title on data.gouv.fr",
                first.display(),
                f.path.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::file(
            dir,
            format!(
                "the release is incomplete, nothing was uploaded: {}; rebuild the release",
                problems.join("; ")
            ),
        ));
    }
    files.sort_by_key(|f| f.kind);
    Ok(Release {
        dir: dir.to_path_buf(),
        version,
        files,
    })
}

fn release_file(
    path: &Path,
    bytes: u64,
    kind: FileKind,
    description: String,
    schema: Option<String>,
) -> ReleaseFile {
    ReleaseFile {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: path.to_path_buf(),
        bytes,
        kind,
        description,
        schema: schema.filter(|_| matches!(kind, FileKind::Csv | FileKind::Parquet)),
    }
}

fn file_stem(rel: &str) -> String {
    Path::new(rel)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `rel` inside `dir`, refusing absolute paths and `..`.
fn checked_path(dir: &Path, rel: &str, label: &str, problems: &mut Vec<String>) -> Option<PathBuf> {
    let inside = Path::new(rel)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !inside || rel.contains("://") {
        problems.push(format!(
            "{label}: path \"{rel}\" is not a file inside the release folder"
        ));
        return None;
    }
    Some(dir.join(rel))
}

/// The file's size, once checked against `bytes` and `hash` (only `sha256:`
/// hashes are checked: Frictionless' default, unprefixed MD5, is not).
fn check_file(
    path: &Path,
    rel: &str,
    resource: &serde_json::Value,
    problems: &mut Vec<String>,
) -> Option<u64> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        _ => {
            problems.push(format!("{rel} is listed in datapackage.json but missing"));
            return None;
        }
    };
    // With several paths, `bytes` and `hash` are the whole resource's.
    let single = resource
        .get("path")
        .is_some_and(serde_json::Value::is_string);
    if let Some(expected) = resource
        .get("bytes")
        .and_then(serde_json::Value::as_u64)
        .filter(|_| single)
    {
        if expected != meta.len() {
            problems.push(format!(
                "{rel} has {} bytes, datapackage.json says {expected} (truncated or rewritten?)",
                meta.len()
            ));
            return None;
        }
    }
    if let Some(expected) = resource
        .get("hash")
        .and_then(serde_json::Value::as_str)
        .and_then(|h| h.strip_prefix("sha256:"))
        .filter(|_| single)
    {
        match sha256_file(path) {
            Ok(found) if found.eq_ignore_ascii_case(expected) => {}
            Ok(found) => {
                problems.push(format!(
                    "{rel} has SHA-256 {found}, datapackage.json says {expected}"
                ));
                return None;
            }
            Err(e) => {
                problems.push(format!("{rel}: cannot read ({e})"));
                return None;
            }
        }
    }
    Some(meta.len())
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The table's title, description and key: from its schema (inline in the
/// package, a path it gives, or `<table>.schema.json`), else the package.
fn table_info(
    dir: &Path,
    resource: &serde_json::Value,
    paths: &[&str],
    problems: &mut Vec<String>,
) -> TableInfo {
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let schema = match resource.get("schema") {
        Some(serde_json::Value::Object(_)) => resource.get("schema").cloned(),
        Some(serde_json::Value::String(rel)) => read_schema(dir, rel, problems),
        _ => {
            let stem = file_stem(paths[0]);
            let rel = Path::new(paths[0]).with_file_name(format!("{stem}.schema.json"));
            let rel = rel.to_string_lossy();
            dir.join(rel.as_ref())
                .is_file()
                .then(|| read_schema(dir, &rel, problems))
                .flatten()
        }
    };
    let schema = schema.unwrap_or(serde_json::Value::Null);
    TableInfo {
        title: text(&schema, "title").or_else(|| text(resource, "title")),
        description: text(&schema, "description").or_else(|| text(resource, "description")),
        primary_key: match schema.get("primaryKey") {
            Some(serde_json::Value::String(k)) => vec![k.clone()],
            Some(serde_json::Value::Array(ks)) => ks
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        },
    }
}

fn read_schema(dir: &Path, rel: &str, problems: &mut Vec<String>) -> Option<serde_json::Value> {
    let path = checked_path(dir, rel, "schema", problems)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("schema {rel} is listed but cannot be read ({e})"));
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("schema {rel} is not valid JSON ({e})"));
            None
        }
    }
}

/// The resource description on data.gouv.fr, in French as the portal is.
fn describe(kind: FileKind, stem: &str, info: &TableInfo, version: &str) -> String {
    let head = || {
        let mut head = info.title.clone().unwrap_or_else(|| stem.to_string());
        if let Some(d) = &info.description {
            head.push_str("\n\n");
            head.push_str(d);
        }
        head
    };
    let key = if info.primary_key.is_empty() {
        String::new()
    } else {
        format!(" Clé primaire : {}.", info.primary_key.join(", "))
    };
    match kind {
        FileKind::Csv => format!(
            "{}\n\nFichier CSV (UTF-8, séparateur virgule, une ligne d'en-tête), publication {version}.{key} \
             Schéma : {stem}.schema.json.",
            head()
        ),
        FileKind::Parquet => format!(
            "{}\n\nFichier Parquet, mêmes colonnes que {stem}.csv, publication {version}.{key} \
             Schéma : {stem}.schema.json.",
            head()
        ),
        FileKind::TableSchema => format!(
            "Schéma (Frictionless Table Schema) de {stem}.csv et {stem}.parquet : colonnes, types, \
             clé primaire. Publication {version}."
        ),
        FileKind::Other => format!("{}\n\nPublication {version}.", head()),
        FileKind::DataPackage => format!(
            "Description de la publication {version} (Frictionless Data Package) : liste des fichiers, \
             schémas, tailles et empreintes."
        ),
        FileKind::Readme => {
            format!("Documentation de la publication {version} : tables, définitions, sources.")
        }
        FileKind::Changelog => {
            format!("Changements de la publication {version} par rapport à la précédente.")
        }
    }
}

// ---------------------------------------------------------------------------
// The plan

/// A resource of the dataset, as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteResource {
    pub id: String,
    pub title: String,
}

/// The resources of a `GET /datasets/{id}/` answer.
pub fn parse_dataset_resources(body: &str) -> std::result::Result<Vec<RemoteResource>, String> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let resources = value
        .get("resources")
        .and_then(serde_json::Value::as_array)
        .ok_or("the answer has no `resources` list")?;
    Ok(resources
        .iter()
        .filter_map(|r| {
            Some(RemoteResource {
                id: r.get("id")?.as_str()?.to_string(),
                title: r
                    .get("title")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect())
}

/// Create a resource, or replace the file of an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Replace { id: String },
}

#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub file: ReleaseFile,
    pub action: Action,
}

/// What `--apply` will do, file by file.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dataset: String,
    pub base_url: String,
    /// False with `--offline`: existing resources were not looked up.
    pub checked_remote: bool,
    /// How many resources the dataset had.
    pub remote_resources: usize,
    pub files: Vec<PlannedFile>,
}

/// Matches the release's files to the dataset's resources by title. Two
/// resources with the title of one file is an error: which to replace?
pub fn plan_publication(
    release: &Release,
    dataset: &str,
    base_url: &str,
    remote: Option<&[RemoteResource]>,
) -> Result<Plan> {
    let mut by_title: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in remote.unwrap_or_default() {
        by_title
            .entry(r.title.as_str())
            .or_default()
            .push(r.id.as_str());
    }
    let mut ambiguous = Vec::new();
    let files = release
        .files
        .iter()
        .map(|file| {
            let action = match by_title.get(file.name.as_str()).map(Vec::as_slice) {
                None | Some([]) => Action::Create,
                Some([id]) => Action::Replace { id: id.to_string() },
                Some(ids) => {
                    ambiguous.push(format!("{} ({})", file.name, ids.join(", ")));
                    Action::Create
                }
            };
            PlannedFile {
                file: file.clone(),
                action,
            }
        })
        .collect();
    if !ambiguous.is_empty() {
        return Err(Error::usage(format!(
            "dataset {dataset}: several resources have the title of a release file, so which to replace \
             is unclear: {}; delete the extra ones on data.gouv.fr, then run again; nothing was uploaded",
            ambiguous.join("; ")
        )));
    }
    Ok(Plan {
        dataset: dataset.to_string(),
        base_url: base_url.to_string(),
        checked_remote: remote.is_some(),
        remote_resources: remote.map_or(0, <[_]>::len),
        files,
    })
}

/// The body of a call, as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallBody {
    None,
    /// multipart/form-data with one part `file`.
    File {
        name: String,
        bytes: u64,
    },
    Json(String),
}

/// One HTTP call, as printed by `--dry-run` (the key is shown as `$VAR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: CallBody,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            write!(f, " | {name}: {value}")?;
        }
        match &self.body {
            CallBody::None => Ok(()),
            CallBody::File { name, bytes } => write!(f, " | file={name} ({bytes} bytes)"),
            CallBody::Json(json) => write!(f, " | {json}"),
        }
    }
}

impl Plan {
    fn dataset_url(&self) -> String {
        format!("{}/datasets/{}/", self.base_url, self.dataset)
    }

    fn upload_url(&self, action: &Action) -> String {
        match action {
            Action::Create => format!("{}upload/", self.dataset_url()),
            Action::Replace { id } => format!("{}resources/{id}/upload/", self.dataset_url()),
        }
    }

    fn resource_url(&self, id: &str) -> String {
        format!("{}resources/{id}/", self.dataset_url())
    }

    /// The write calls `--apply` makes, in order. Values known only once a
    /// call is answered are shown as `<…>`.
    pub fn calls(&self, api_key_env: &str) -> Vec<Call> {
        let key = ("X-API-KEY".to_string(), format!("${api_key_env}"));
        let mut calls = Vec::new();
        for planned in &self.files {
            let file = &planned.file;
            calls.push(Call {
                method: "POST",
                url: self.upload_url(&planned.action),
                headers: vec![
                    key.clone(),
                    (
                        "Content-Type".to_string(),
                        "multipart/form-data; boundary=<boundary>".to_string(),
                    ),
                ],
                body: CallBody::File {
                    name: file.name.clone(),
                    bytes: file.bytes,
                },
            });
            let id = match &planned.action {
                Action::Create => format!("<id of new {}>", file.name),
                Action::Replace { id } => id.clone(),
            };
            let schema_url = file.schema.as_ref().map(|s| format!("<url of {s}>"));
            calls.push(Call {
                method: "PUT",
                url: self.resource_url(&id),
                headers: vec![
                    key.clone(),
                    ("Content-Type".to_string(), "application/json".to_string()),
                ],
                body: CallBody::Json(metadata_body(file, schema_url.as_deref()).to_string()),
            });
        }
        calls
    }
}

/// The JSON of `PUT /datasets/{id}/resources/{rid}/`.
fn metadata_body(file: &ReleaseFile, schema_url: Option<&str>) -> serde_json::Value {
    let mut body = serde_json::json!({
        "title": file.name,
        "description": file.description,
        "type": file.kind.resource_type(),
    });
    if let Some(url) = schema_url {
        body["schema"] = serde_json::json!({ "url": url });
    }
    body
}

// ---------------------------------------------------------------------------
// HTTP

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API answered with an error status.
    Status { status: u16, message: String },
    /// No answer: connection refused or reset, timeout, DNS.
    Transport { message: String, retryable: bool },
    /// A local file could not be read.
    Local(String),
}

impl Failure {
    fn is_retryable(&self) -> bool {
        match self {
            Failure::Status { status, .. } => *status >= 500,
            Failure::Transport { retryable, .. } => *retryable,
            Failure::Local(_) => false,
        }
    }

    fn is_auth(&self) -> bool {
        matches!(
            self,
            Failure::Status {
                status: 401 | 403,
                ..
            }
        )
    }

    /// The same failure, saying how many attempts were made.
    fn after(self, attempts: u32) -> Failure {
        let more = |message: String| format!("{message} (after {attempts} attempts)");
        match self {
            Failure::Status { status, message } => Failure::Status {
                status,
                message: more(message),
            },
            Failure::Transport { message, retryable } => Failure::Transport {
                message: more(message),
                retryable,
            },
            Failure::Local(message) => Failure::Local(more(message)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { message, .. } => f.write_str(message),
            Failure::Transport { message, .. } => write!(f, "no answer: {message}"),
            Failure::Local(message) => f.write_str(message),
        }
    }
}

/// A successful answer.
struct Reply {
    status: u16,
    body: String,
}

enum Body<'a> {
    None,
    Json(String),
    File(&'a ReleaseFile),
}

struct Client {
    agent: ureq::Agent,
    api_key: Option<ApiKey>,
    retry: RetryPolicy,
}

impl Client {
    fn new(settings: &PublishSettings) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(settings.timeout.min(Duration::from_secs(30)))
            .timeout_read(settings.timeout)
            .timeout_write(settings.timeout)
            // A redirected POST would turn into a GET: report it instead.
            .redirects(0)
            .user_agent(USER_AGENT)
            .build();
        Client {
            agent,
            api_key: settings.api_key.clone(),
            retry: settings.retry.clone(),
        }
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        body: &Body<'_>,
    ) -> std::result::Result<Reply, Failure> {
        let mut request = self
            .agent
            .request(method, url)
            .set("Accept", "application/json");
        if let Some(key) = &self.api_key {
            request = request.set("X-API-KEY", key.expose());
        }
        let result = match body {
            Body::None => request.call(),
            Body::Json(json) => request
                .set("Content-Type", "application/json")
                .send_string(json),
            Body::File(file) => {
                let upload = Multipart::new(file);
                let content = std::fs::File::open(&file.path).map_err(|e| {
                    Failure::Local(format!("{}: cannot read ({e})", file.path.display()))
                })?;
                request
                    .set("Content-Type", &upload.content_type())
                    .set("Content-Length", &upload.len(file.bytes).to_string())
                    .send(upload.reader(content))
            }
        };
        match result {
            Ok(response) => {
                let status = response.status();
                let reason = response.status_text().to_string();
                let location = response.header("Location").map(str::to_string);
                let body = response.into_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    Ok(Reply { status, body })
                } else {
                    let mut message = status_message(status, &reason, &body);
                    if let Some(location) = location {
                        message.push_str(&format!(
                            " (redirected to {location}; check --base-url, it should end with /api/1)"
                        ));
                    }
                    Err(Failure::Status { status, message })
                }
            }
            Err(ureq::Error::Status(status, response)) => {
                let reason = response.status_text().to_string();
                let body = response.into_string().unwrap_or_default();
                Err(Failure::Status {
                    status,
                    message: status_message(status, &reason, &body),
                })
            }
            Err(ureq::Error::Transport(transport)) => Err(Failure::Transport {
                retryable: matches!(
                    transport.kind(),
                    ureq::ErrorKind::Dns | ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Io
                ),
                // Not its Display, which repeats the URL the caller names.
                message: [
                    Some(transport.kind().to_string()),
                    transport.message().map(str::to_string),
                    std::error::Error::source(&transport).map(|e| e.to_string()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
            }),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are
    /// spent; `attempt` gets the retry number (0 for the first try).
    fn with_retries<T>(
        &self,
        out: &mut dyn Write,
        what: &str,
        mut attempt: impl FnMut(u32) -> std::result::Result<T, Failure>,
    ) -> std::result::Result<T, Failure> {
        let mut n = 0;
        loop {
            match attempt(n) {
                Err(failure) if failure.is_retryable() && n < self.retry.retries => {
                    n += 1;
                    let wait = self.retry.wait(n);
                    let _ = writeln!(
                        out,
                        "  {what}: {failure}; retry {n} of {} in {:.1} s",
                        self.retry.retries,
                        wait.as_secs_f64()
                    );
                    std::thread::sleep(wait);
                }
                Err(failure) if n > 0 => return Err(failure.after(n + 1)),
                other => return other,
            }
        }
    }
}

/// `413 Payload Too Large: <the API's message>`.
fn status_message(status: u16, reason: &str, body: &str) -> String {
    let detail = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get("message") {
            Some(serde_json::Value::String(m)) => Some(m.clone()),
            _ => v.get("errors").map(|e| e.to_string()),
        })
        .or_else(|| {
            // A short plain-text answer is worth showing; an HTML page is not.
            let text = body.trim();
            (!text.is_empty() && !text.starts_with('<') && text.len() <= 300)
                .then(|| text.to_string())
        });
    let reason = if reason.is_empty() { "error" } else { reason };
    match detail {
        Some(d) => format!("{status} {reason}: {d}"),
        None => format!("{status} {reason}"),
    }
}

/// The multipart/form-data framing around a file (RFC 7578), streamed so a
/// large file is never held in memory.
struct Multipart {
    boundary: String,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Multipart {
    fn new(file: &ReleaseFile) -> Multipart {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let boundary = format!("ij-{nanos:x}-{:x}", std::process::id());
        // Quotes and line breaks would end the header: percent-encode them,
        // as browsers do (HTML, multipart/form-data encoding algorithm).
        let filename = file
            .name
            .replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {}\r\n\r\n",
            file.kind.content_type()
        )
        .into_bytes();
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
        Multipart {
            boundary,
            head,
            tail,
        }
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn len(&self, file_bytes: u64) -> u64 {
        self.head.len() as u64 + file_bytes + self.tail.len() as u64
    }

    fn reader(self, content: std::fs::File) -> impl Read {
        std::io::Cursor::new(self.head)
            .chain(content)
            .chain(std::io::Cursor::new(self.tail))
    }
}

// ---------------------------------------------------------------------------
// Running

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Dry run: what `--apply` would do.
    Planned(Action),
    Created {
        id: String,
    },
    Replaced {
        id: String,
    },
    Failed {
        reason: String,
    },
    NotAttempted {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub bytes: u64,
    pub outcome: Outcome,
    /// A remark on a published file (a schema link that could not be set).
    pub note: Option<String>,
}

/// Every file of the release and what became of it.
#[derive(Debug, Clone)]
pub struct PublishReport {
    pub dataset: String,
    pub mode: PublishMode,
    pub files: Vec<FileReport>,
    /// Why the publication stopped before the end (401/403).
    pub stopped: Option<String>,
}

impl PublishReport {
    /// Files that were not published (failed or not attempted).
    pub fn failures(&self) -> usize {
        self.files
            .iter()
            .filter(|f| {
                matches!(
                    f.outcome,
                    Outcome::Failed { .. } | Outcome::NotAttempted { .. }
                )
            })
            .count()
    }

    pub fn is_success(&self) -> bool {
        self.failures() == 0 && self.stopped.is_none()
    }

    /// An error when some file was not published, for the exit code.
    pub fn into_result(self) -> anyhow::Result<()> {
        if self.is_success() {
            return Ok(());
        }
        anyhow::bail!(
            "publication to dataset {} incomplete: {} of {} files not published{} (see the report above); \
             fix the cause and run again: files already published are replaced, not duplicated",
            self.dataset,
            self.failures(),
            self.files.len(),
            self.stopped
                .as_deref()
                .map(|s| format!(", stopped: {s}"))
                .unwrap_or_default()
        )
    }
}

/// Runs `ij publish`: checks the release, reads the dataset, then prints the
/// plan (dry run) or makes the calls and prints the report (apply), on `out`.
/// A report with failures is `Ok`: see `PublishReport::into_result`.
pub fn run_publish(
    settings: &PublishSettings,
    out: &mut dyn Write,
) -> anyhow::Result<PublishReport> {
    if settings.mode == PublishMode::Apply {
        if settings.offline {
            return Err(Error::usage(
                "--offline goes with --dry-run only: --apply must read the dataset to replace its resources",
            )
            .into());
        }
        if settings.api_key.is_none() {
            return Err(Error::usage(format!(
                "--apply needs an API key in the environment variable {} (never on the command line); \
                 create one on data.gouv.fr (your profile, \"Clé d'API\")",
                settings.api_key_env
            ))
            .into());
        }
    }
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

    let creates = plan
        .files
        .iter()
        .filter(|f| f.action == Action::Create)
        .count();
    let summary = format!(
        "{} files of release {} to dataset {}: {} to replace, {creates} to create{}",
        plan.files.len(),
        release.version,
        settings.dataset,
        plan.files.len() - creates,
        if plan.checked_remote {
            format!(" (the dataset has {} resources)", plan.remote_resources)
        } else {
            " (--offline: existing resources not looked up, all shown as new)".to_string()
        }
    );
    match settings.mode {
        PublishMode::DryRun => {
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
        PublishMode::Apply => {
            writeln!(out, "ij publish: {summary}")?;
            let report = execute(&plan, &client, remote.as_deref().unwrap_or_default(), out)?;
            print_report(&report, out)?;
            Ok(report)
        }
    }
}

fn fetch_resources(
    client: &Client,
    settings: &PublishSettings,
    out: &mut dyn Write,
) -> anyhow::Result<Vec<RemoteResource>> {
    let url = format!("{}/datasets/{}/", settings.base_url, settings.dataset);
    let reply = client
        .with_retries(out, &format!("GET {url}"), |_| {
            client.send_once("GET", &url, &Body::None)
        })
        .map_err(|failure| {
            let hint = match &failure {
                Failure::Status { status: 404, .. } | Failure::Status { status: 410, .. } => {
                    format!(
                        "; check --dataset (the id or slug of the dataset's page) and --base-url{}",
                        if settings.api_key.is_none() {
                            format!(", and for a private dataset set {}", settings.api_key_env)
                        } else {
                            String::new()
                        }
                    )
                }
                f if f.is_auth() => format!(
                    "; the API key in {} was refused: check it and its rights on the dataset",
                    settings.api_key_env
                ),
                _ => String::new(),
            };
            anyhow::anyhow!("GET {url}: {failure}{hint}; nothing was uploaded")
        })?;
    parse_dataset_resources(&reply.body).map_err(|e| {
        anyhow::anyhow!("GET {url}: {e}; is --base-url the API (…/api/1)? nothing was uploaded")
    })
}

/// Makes the plan's calls, file by file.
fn execute(
    plan: &Plan,
    client: &Client,
    remote: &[RemoteResource],
    out: &mut dyn Write,
) -> std::io::Result<PublishReport> {
    let known: BTreeSet<&str> = remote.iter().map(|r| r.id.as_str()).collect();
    let mut schema_urls: BTreeMap<String, String> = BTreeMap::new();
    let mut files = Vec::new();
    let mut stopped: Option<String> = None;
    for planned in &plan.files {
        let file = &planned.file;
        if let Some(reason) = &stopped {
            files.push(FileReport {
                name: file.name.clone(),
                bytes: file.bytes,
                outcome: Outcome::NotAttempted {
                    reason: format!("not attempted: {reason}"),
                },
                note: None,
            });
            continue;
        }
        let done = publish_file(plan, client, planned, &known, &mut schema_urls, out);
        if let Outcome::Failed { reason } = &done.outcome {
            writeln!(out, "  {}: FAILED: {reason}", file.name)?;
        }
        files.push(FileReport {
            name: file.name.clone(),
            bytes: file.bytes,
            outcome: done.outcome,
            note: done.note,
        });
        if done.key_refused {
            stopped = Some(
                "the API refused the key (401/403), so every other call would fail too".to_string(),
            );
        }
    }
    Ok(PublishReport {
        dataset: plan.dataset.clone(),
        mode: PublishMode::Apply,
        files,
        stopped,
    })
}

/// What became of one file.
struct Published {
    outcome: Outcome,
    note: Option<String>,
    /// A 401 or 403: the other files are not attempted.
    key_refused: bool,
}

impl Published {
    fn failed(reason: String, key_refused: bool) -> Published {
        Published {
            outcome: Outcome::Failed { reason },
            note: None,
            key_refused,
        }
    }
}

/// Uploads one file and sets its metadata.
fn publish_file(
    plan: &Plan,
    client: &Client,
    planned: &PlannedFile,
    known: &BTreeSet<&str>,
    schema_urls: &mut BTreeMap<String, String>,
    out: &mut dyn Write,
) -> Published {
    let file = &planned.file;
    let mut action = planned.action.clone();
    let mut recheck_note = None;
    let upload = client.with_retries(out, &format!("POST {}", file.name), |retry| {
        if retry > 0 && action == Action::Create {
            // The failed creation may have happened all the same: look before
            // creating the resource twice.
            if let Ok(reply) = client.send_once("GET", &plan.dataset_url(), &Body::None) {
                if let Ok(resources) = parse_dataset_resources(&reply.body) {
                    if let Some(r) = resources
                        .iter()
                        .find(|r| r.title == file.name && !known.contains(r.id.as_str()))
                    {
                        action = Action::Replace { id: r.id.clone() };
                        recheck_note = Some(format!(
                            "the failed creation had created resource {}; its file was replaced",
                            r.id
                        ));
                    }
                }
            }
        }
        client.send_once("POST", &plan.upload_url(&action), &Body::File(file))
    });
    let reply = match upload {
        Ok(reply) => {
            let _ = writeln!(
                out,
                "{} POST {} file={} ({} bytes)",
                reply.status,
                plan.upload_url(&action),
                file.name,
                file.bytes
            );
            reply
        }
        Err(failure) => {
            let reason = match &failure {
                Failure::Status { status: 413, .. } => format!(
                    "{failure}: {} ({} bytes) is larger than the API accepts in one upload; \
                     publish the Parquet file instead, or a compressed or split file, or upload it from \
                     the dataset's page on data.gouv.fr",
                    file.name, file.bytes
                ),
                f if f.is_auth() => format!(
                    "{failure}: the API key was refused (wrong, expired, or without rights on dataset {})",
                    plan.dataset
                ),
                _ => format!("{failure}; the file was not uploaded"),
            };
            return Published::failed(reason, failure.is_auth());
        }
    };
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
    let id = match &action {
        Action::Replace { id } => id.clone(),
        Action::Create => match answer.get("id").and_then(serde_json::Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                return Published::failed(
                    format!(
                        "the upload was answered {} without a resource id: the file may be on the \
                         dataset without its description; check the dataset's page",
                        reply.status
                    ),
                    false,
                )
            }
        },
    };
    if file.kind == FileKind::TableSchema {
        if let Some(url) = answer.get("url").and_then(serde_json::Value::as_str) {
            schema_urls.insert(file.name.clone(), url.to_string());
        }
    }
    let mut notes: Vec<String> = recheck_note.into_iter().collect();
    let schema_url = file.schema.as_ref().and_then(|s| {
        let url = schema_urls.get(s).cloned();
        if url.is_none() {
            notes.push(format!("schema link not set: {s} was not published"));
        }
        url
    });
    let body = metadata_body(file, schema_url.as_deref()).to_string();
    let url = plan.resource_url(&id);
    let update = client.with_retries(out, &format!("PUT {}", file.name), |_| {
        client.send_once("PUT", &url, &Body::Json(body.clone()))
    });
    if let Ok(reply) = &update {
        let _ = writeln!(out, "{} PUT {url} ({} metadata)", reply.status, file.name);
    }
    if let Err(failure) = update {
        let prefix = if failure.is_auth() {
            format!("{failure}: the API key was refused")
        } else {
            failure.to_string()
        };
        return Published::failed(
            format!(
                "{prefix}: the file was uploaded (resource {id}) but its title, description and \
                 schema link were not set"
            ),
            failure.is_auth(),
        );
    }
    Published {
        // A creation retried as a replacement still created the resource.
        outcome: match planned.action {
            Action::Create => Outcome::Created { id },
            Action::Replace { .. } => Outcome::Replaced { id },
        },
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        key_refused: false,
    }
}

fn print_report(report: &PublishReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "ij publish: report for dataset {}", report.dataset)?;
    let (mut created, mut replaced) = (0, 0);
    for f in &report.files {
        let line = match &f.outcome {
            Outcome::Created { id } => {
                created += 1;
                format!(
                    "published  {} ({} bytes) → new resource {id}",
                    f.name, f.bytes
                )
            }
            Outcome::Replaced { id } => {
                replaced += 1;
                format!("replaced   {} ({} bytes) → resource {id}", f.name, f.bytes)
            }
            Outcome::Failed { reason } => format!("FAILED     {}: {reason}", f.name),
            Outcome::NotAttempted { reason } => format!("NOT SENT   {}: {reason}", f.name),
            Outcome::Planned(_) => format!("planned    {}", f.name),
        };
        match &f.note {
            Some(note) => writeln!(out, "  {line} ({note})")?,
            None => writeln!(out, "  {line}")?,
        }
    }
    writeln!(
        out,
        "ij publish: {created} published, {replaced} replaced, {} not published",
        report.failures()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        std::fs::write(dir.join(rel), text).unwrap();
    }

    fn release_dir() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "t.csv", "k,v\n1,a\n");
        write(d, "t.parquet", "PAR1 not a real parquet file PAR1");
        write(
            d,
            "t.schema.json",
            r#"{"title": "Table T", "description": "Une table.", "primaryKey": ["k"]}"#,
        );
        write(d, "README.md", "# r\n");
        write(
            d,
            "datapackage.json",
            r#"{"name": "ij", "version": "2025-06", "resources": [{"name": "t", "path": "t.csv", "schema": "t.schema.json", "bytes": 8}]}"#,
        );
        tmp
    }

    #[test]
    fn a_release_lists_tables_in_both_formats_their_schemas_and_documents() {
        let tmp = release_dir();
        let release = read_release(tmp.path()).unwrap();
        let names: Vec<&str> = release.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "t.schema.json",
                "t.csv",
                "t.parquet",
                "datapackage.json",
                "README.md"
            ]
        );
        assert_eq!(release.version, "2025-06");
        let csv = &release.files[1];
        assert_eq!(csv.schema.as_deref(), Some("t.schema.json"));
        assert!(
            csv.description.starts_with("Table T\n\nUne table."),
            "{}",
            csv.description
        );
        assert!(csv.description.contains("Clé primaire : k."));
    }

    #[test]
    fn an_incomplete_release_is_refused_with_every_problem() {
        let tmp = release_dir();
        write(
            tmp.path(),
            "datapackage.json",
            r#"{"resources": [{"path": "t.csv", "bytes": 99}, {"path": "u.csv"}, {"path": "../x.csv"},
                {"path": "t.csv", "hash": "sha256:00"}]}"#,
        );
        let e = read_release(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("nothing was uploaded"), "{e}");
        assert!(
            e.contains("t.csv has 8 bytes, datapackage.json says 99"),
            "{e}"
        );
        assert!(
            e.contains("u.csv is listed in datapackage.json but missing"),
            "{e}"
        );
        assert!(
            e.contains("\"../x.csv\" is not a file inside the release folder"),
            "{e}"
        );
        assert!(e.contains("t.csv has SHA-256 "), "{e}");
        std::fs::remove_file(tmp.path().join("datapackage.json")).unwrap();
        let e = read_release(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("datapackage.json: cannot read"), "{e}");
    }

    #[test]
    fn files_replace_resources_with_their_title() {
        let tmp = release_dir();
        let release = read_release(tmp.path()).unwrap();
        let remote = [
            RemoteResource {
                id: "r1".into(),
                title: "t.csv".into(),
            },
            RemoteResource {
                id: "r2".into(),
                title: "autre.pdf".into(),
            },
        ];
        let plan = plan_publication(&release, "ds", "http://x/api/1", Some(&remote)).unwrap();
        assert_eq!(plan.files[1].action, Action::Replace { id: "r1".into() });
        assert_eq!(plan.files[0].action, Action::Create);
        let calls: Vec<String> = plan.calls("KEYVAR").iter().map(|c| c.to_string()).collect();
        assert_eq!(
            calls[2],
            "POST http://x/api/1/datasets/ds/resources/r1/upload/ | X-API-KEY: $KEYVAR \
             | Content-Type: multipart/form-data; boundary=<boundary> | file=t.csv (8 bytes)"
        );
        assert!(calls[3].starts_with("PUT http://x/api/1/datasets/ds/resources/r1/ "));
        assert!(
            calls[3].contains(r#""schema":{"url":"<url of t.schema.json>"}"#),
            "{}",
            calls[3]
        );
        assert!(calls[1]
            .starts_with("PUT http://x/api/1/datasets/ds/resources/<id of new t.schema.json>/"));

        let twice = [
            remote[0].clone(),
            RemoteResource {
                id: "r3".into(),
                title: "t.csv".into(),
            },
        ];
        let e = plan_publication(&release, "ds", "http://x/api/1", Some(&twice)).unwrap_err();
        assert!(e.to_string().contains("t.csv (r1, r3)"), "{e}");
    }

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

    #[test]
    fn error_answers_are_summed_up() {
        assert_eq!(
            status_message(400, "Bad Request", r#"{"message": "Validation error"}"#),
            "400 Bad Request: Validation error"
        );
        assert_eq!(
            status_message(413, "Request Entity Too Large", "<html>…</html>"),
            "413 Request Entity Too Large"
        );
    }
}
