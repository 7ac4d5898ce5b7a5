//! Reading and checking a release folder: datapackage.json, the files it
//! lists (size and SHA-256), the tables' schemas, and the description each
//! file gets on data.gouv.fr. Nothing here talks to the network.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

use super::{CHANGELOG_FILE, DATAPACKAGE_FILE, README_FILE};

const MANIFEST_FILE: &str = "manifest.json";

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
    pub(super) fn resource_type(self) -> &'static str {
        match self {
            FileKind::Csv | FileKind::Parquet | FileKind::Other => "main",
            _ => "documentation",
        }
    }

    pub(super) fn content_type(self) -> &'static str {
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
/// it lists exists, with the `bytes` and `sha256:` `hash` it declares, and
/// every file manifest.json lists has the SHA-256 it gives. All problems are
/// reported together; any of them means nothing is uploaded.
pub fn read_release(dir: &Path) -> Result<Release> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: not a release folder (expected dist/<version>, written by the release stage)",
            dir.display()
        )));
    }
    let package = read_package(dir)?;
    let resources = package_resources(dir, &package)?;
    let version = package
        .get("version")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| super::super::diff::release_name(dir));

    let mut problems = Vec::new();
    let mut files = Files::default();
    for (index, resource) in resources.iter().enumerate() {
        resource_files(dir, resource, index, &version, &mut files, &mut problems);
    }
    for (name, kind) in [
        (DATAPACKAGE_FILE, FileKind::DataPackage),
        (README_FILE, FileKind::Readme),
        (CHANGELOG_FILE, FileKind::Changelog),
    ] {
        let path = dir.join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            let description = describe(kind, "", &TableInfo::default(), &version);
            files.add(release_file(&path, meta.len(), kind, description, None));
        }
    }
    let mut files = files.0;
    check_unique_names(&files, &mut problems);
    check_manifest(dir, &files, &mut problems);
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

/// `datapackage.json`, parsed: without it (or unreadable) there is no
/// release to check, so this one stops at once.
fn read_package(dir: &Path) -> Result<serde_json::Value> {
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
    serde_json::from_str(&text).map_err(|e| {
        Error::file(
            &package_path,
            format!("invalid JSON ({e}); rebuild the release; nothing was uploaded"),
        )
    })
}

/// The package's `resources`, which must list at least one.
fn package_resources<'p>(
    dir: &Path,
    package: &'p serde_json::Value,
) -> Result<&'p Vec<serde_json::Value>> {
    package
        .get("resources")
        .and_then(serde_json::Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            Error::file(
                &dir.join(DATAPACKAGE_FILE),
                "no `resources` list; rebuild the release; nothing was uploaded",
            )
        })
}

/// The files to upload, each path once (a table's other format or schema
/// may be reached from two resources).
#[derive(Default)]
struct Files(Vec<ReleaseFile>);

impl Files {
    fn add(&mut self, file: ReleaseFile) {
        if !self.0.iter().any(|f| f.path == file.path) {
            self.0.push(file);
        }
    }
}

/// One resource of the package: each file it lists, checked, then the
/// table's other format and its schema when they are beside it.
fn resource_files(
    dir: &Path,
    resource: &serde_json::Value,
    index: usize,
    version: &str,
    files: &mut Files,
    problems: &mut Vec<String>,
) {
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
        return;
    }
    let info = table_info(dir, resource, &paths, problems);
    for rel in paths {
        let table = TableFiles {
            dir,
            resource,
            label: &label,
            info: &info,
            version,
        };
        table.add(rel, files, problems);
    }
}

/// What the files of one resource share: where they are, the resource,
/// its label for problems, its table's title and description.
struct TableFiles<'a> {
    dir: &'a Path,
    resource: &'a serde_json::Value,
    label: &'a str,
    info: &'a TableInfo,
    version: &'a str,
}

impl TableFiles<'_> {
    /// One path of the resource, checked (it exists, with the size and hash
    /// declared), then the table's other format and its schema beside it.
    fn add(&self, rel: &str, files: &mut Files, problems: &mut Vec<String>) {
        let Some(path) = checked_path(self.dir, rel, self.label, problems) else {
            return;
        };
        let Some(bytes) = check_file(&path, rel, self.resource, problems) else {
            return;
        };
        let kind = match Path::new(rel).extension().and_then(|e| e.to_str()) {
            Some("csv") => FileKind::Csv,
            Some("parquet") => FileKind::Parquet,
            _ => FileKind::Other,
        };
        let stem = file_stem(rel);
        // The schema the package names, else `<table>.schema.json` beside.
        let named = self
            .resource
            .get("schema")
            .and_then(serde_json::Value::as_str);
        let schema_path = match named {
            Some(schema_rel)
                if checked_path(self.dir, schema_rel, self.label, &mut Vec::new()).is_some() =>
            {
                self.dir.join(schema_rel)
            }
            _ => path.with_file_name(format!("{stem}.schema.json")),
        };
        let schema = schema_path
            .is_file()
            .then(|| schema_path.file_name())
            .flatten()
            .map(|n| n.to_string_lossy().into_owned());
        let describe = |kind| describe(kind, &stem, self.info, self.version);
        files.add(release_file(
            &path,
            bytes,
            kind,
            describe(kind),
            schema.clone(),
        ));
        if kind == FileKind::Csv || kind == FileKind::Parquet {
            // The other format of the table, when the package lists only one.
            let (other, other_kind) = match kind {
                FileKind::Csv => (path.with_extension("parquet"), FileKind::Parquet),
                _ => (path.with_extension("csv"), FileKind::Csv),
            };
            if let Ok(meta) = std::fs::metadata(&other) {
                let description = describe(other_kind);
                files.add(release_file(
                    &other,
                    meta.len(),
                    other_kind,
                    description,
                    schema,
                ));
            }
        }
        if let Ok(meta) = std::fs::metadata(&schema_path) {
            let kind = FileKind::TableSchema;
            files.add(release_file(
                &schema_path,
                meta.len(),
                kind,
                describe(kind),
                None,
            ));
        }
    }
}

/// Resources are found by title, which is the file name: two files with one
/// name in two folders would replace each other.
fn check_unique_names(files: &[ReleaseFile], problems: &mut Vec<String>) {
    let mut names = BTreeMap::new();
    for f in files {
        if let Some(first) = names.insert(f.name.clone(), f.path.clone()) {
            problems.push(format!(
                "{} and {} have the same file name, and so would have the same title on data.gouv.fr",
                first.display(),
                f.path.display()
            ));
        }
    }
}

/// Every file `manifest.json` lists (CSV, Parquet, schemas, JSON, HTML,
/// README) exists with the SHA-256 and size it gives, and every file to
/// upload is listed: a truncated Parquet or a replaced schema is caught
/// before the first call, in a dry run too.
fn check_manifest(dir: &Path, files: &[ReleaseFile], problems: &mut Vec<String>) {
    let path = dir.join(MANIFEST_FILE);
    let manifest: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{MANIFEST_FILE} is not valid JSON ({e})"));
                return;
            }
        },
        Err(e) => {
            problems.push(format!(
                "{MANIFEST_FILE} cannot be read ({e}): every file is checked against it before upload"
            ));
            return;
        }
    };
    let mut listed = BTreeMap::new();
    for entry in manifest
        .get("outputs")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(rel), Some(sha)) = (
            entry.get("path").and_then(serde_json::Value::as_str),
            entry.get("sha256").and_then(serde_json::Value::as_str),
        ) else {
            problems.push(format!(
                "{MANIFEST_FILE}: an output without path or sha256: {entry}"
            ));
            continue;
        };
        let Some(file) = checked_path(dir, rel, MANIFEST_FILE, problems) else {
            continue;
        };
        match sha256_file(&file) {
            Ok(found) if found.eq_ignore_ascii_case(sha) => {}
            Ok(found) => problems.push(format!(
                "{rel} has SHA-256 {found}, {MANIFEST_FILE} says {sha} (truncated, replaced or rewritten?)"
            )),
            Err(e) => problems.push(format!("{rel} is listed in {MANIFEST_FILE} but cannot be read ({e})")),
        }
        listed.insert(file, ());
    }
    for f in files {
        if !listed.contains_key(&f.path) {
            problems.push(format!(
                "{} is not listed in {MANIFEST_FILE}: it is not part of the release as built",
                f.name
            ));
        }
    }
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        std::fs::write(dir.join(rel), text).unwrap();
    }

    pub(in super::super) fn release_dir() -> tempfile::TempDir {
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
        write_manifest(d);
        tmp
    }

    /// `manifest.json` listing every file of `d` with its SHA-256.
    pub(in super::super) fn write_manifest(d: &Path) {
        let mut outputs = Vec::new();
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != MANIFEST_FILE)
            .collect();
        names.sort();
        for n in names {
            outputs
                .push(serde_json::json!({"path": n, "sha256": sha256_file(&d.join(&n)).unwrap()}));
        }
        let m = serde_json::json!({ "outputs": outputs });
        write(d, MANIFEST_FILE, &m.to_string());
    }

    #[test]
    fn a_file_that_differs_from_the_manifest_is_refused_before_any_call() {
        let tmp = release_dir();
        // A truncated Parquet and a replaced schema, datapackage.json unchanged.
        write(tmp.path(), "t.parquet", "PAR1 trunc");
        write(tmp.path(), "t.schema.json", r#"{"title": "autre"}"#);
        let e = read_release(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("nothing was uploaded"), "{e}");
        assert!(e.contains("t.parquet has SHA-256"), "{e}");
        assert!(e.contains("t.schema.json has SHA-256"), "{e}");
        std::fs::remove_file(tmp.path().join(MANIFEST_FILE)).unwrap();
        let e = read_release(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("manifest.json cannot be read"), "{e}");
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
}
