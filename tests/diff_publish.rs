//! `ij diff` on the two hand-made releases of `fixtures/releases/`, and
//! `ij publish` against a local HTTP/1.1 server on 127.0.0.1 that records
//! each request (method, path, headers, body) and answers as the data.gouv.fr
//! API does, errors included (401, 413, 5xx). The tests call the library
//! (`ij::release::{diff, publish}`) directly.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ij::release::diff::{self, DiffSettings, Target};
use ij::release::publish::{
    self, Action, ApiKey, Outcome, PublishMode, PublishReport, PublishSettings, RetryPolicy,
};

use crate::common;

const KEY: &str = "test-key-0123456789";
const DATASET: &str = "insertion-des-jeunes";

fn releases() -> PathBuf {
    common::fixtures("releases")
}

// ---------------------------------------------------------------------------
// ij diff

#[test]
fn diff_counts_rows_added_removed_and_changed_by_primary_key() {
    let d = diff::diff_releases(&releases().join("old"), &releases().join("new")).unwrap();
    let names: Vec<&str> = d.tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(names, ["certifications", "formations"]);
    assert_eq!(d.tables_added.len(), 1);
    assert_eq!(d.tables_added[0].table, "continuum_links");
    assert_eq!(d.tables_added[0].rows, 2);
    assert!(d.tables_removed.is_empty());

    let c = &d.tables[0];
    assert_eq!(
        c.primary_key,
        ["millesime", "filiere", "code_certification"]
    );
    assert_eq!((c.rows_old, c.rows_new), (5, 6));
    assert_eq!((c.added, c.removed, c.changed, c.unchanged), (2, 1, 3, 1));
    let columns: Vec<(&str, usize)> = c
        .columns_changed
        .iter()
        .map(|c| (c.column.as_str(), c.count))
        .collect();
    assert_eq!(columns, [("taux_en_emploi_6_mois", 2), ("libelle", 1)]);
    assert_eq!(
        c.sample_added,
        [
            vec!["2024", "pro", "40025214"],
            vec!["2024", "pro", "40025215"]
        ]
    );
    assert_eq!(
        c.sample_removed,
        [vec!["2023", "apprentissage", "50022137"]]
    );
    assert_eq!(c.sample_changed.len(), 3);
    assert_eq!((c.masked_old, c.masked_new), (Some(1), Some(2)));

    let f = &d.tables[1];
    assert_eq!(f.added_columns, ["region"]);
    assert_eq!(f.removed_columns, ["taux_poursuite_etudes"]);
    assert_eq!((f.changed, f.unchanged), (1, 1));
    assert_eq!((f.masked_old, f.masked_new), (None, None));
}

#[test]
fn diff_compares_coverage_rates_overall_and_by_filiere() {
    let d = diff::diff_releases(&releases().join("old"), &releases().join("new")).unwrap();
    assert_eq!(d.coverage.len(), 1);
    let cov = &d.coverage[0];
    assert_eq!(cov.path, "affelnet/coverage_summary.json");
    assert_eq!(
        (cov.coverage_rate.old, cov.coverage_rate.new),
        (Some(80.0), Some(82.5))
    );
    let by: Vec<(&str, Option<f64>, Option<f64>)> = cov
        .by_filiere
        .iter()
        .map(|f| (f.filiere.as_str(), f.rate.old, f.rate.new))
        .collect();
    assert_eq!(
        by,
        [
            ("agricole", None, Some(75.0)),
            ("apprentissage", Some(75.0), Some(75.0)),
            ("pro", Some(83.3), Some(85.0)),
        ]
    );
}

#[test]
fn changelog_is_french_deterministic_and_as_expected() {
    let d = diff::diff_releases(&releases().join("old"), &releases().join("new")).unwrap();
    let md = diff::render_changelog(&d, "old", "new");
    assert_eq!(md, diff::render_changelog(&d, "old", "new"));
    assert!(md.contains(
        "## certifications — 2 lignes ajoutées, 1 supprimée, 3 modifiées \
         (colonnes les plus modifiées : taux_en_emploi_6_mois (2), libelle (1))"
    ));
    assert!(md.contains("- lignes masquées : 1 → 2 (+1)"));
    assert!(md.contains("| ensemble | 80,0 % | 82,5 % | +2,5 pt |"));
    let expected = std::fs::read_to_string(releases().join("CHANGELOG.expected.md")).unwrap();
    assert_eq!(
        md, expected,
        "the changelog changed; if on purpose, update fixtures/releases/CHANGELOG.expected.md"
    );
}

#[test]
fn diff_of_a_release_with_itself_is_empty() {
    let d = diff::diff_releases(&releases().join("new"), &releases().join("new")).unwrap();
    assert!(d.is_empty());
    assert!(diff::render_changelog(&d, "a", "a").contains("Aucun changement"));
}

#[test]
fn run_diff_writes_json_to_a_file_and_markdown_to_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("diff.json");
    let settings = DiffSettings {
        old: releases().join("old"),
        new: releases().join("new"),
        json: Some(Target::File(json.clone())),
        markdown: Some(Target::Stdout),
    };
    let mut stdout = Vec::new();
    diff::run_diff(&settings, &mut stdout).unwrap();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.starts_with("# Changements de new par rapport à old"),
        "{stdout}"
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["tables"][0]["table"], "certifications");
    assert_eq!(
        value["tables"][0]["columns_changed"][0]["column"],
        "taux_en_emploi_6_mois"
    );
    assert_eq!(value["tables"][0]["masked_new"], 2);
    assert_eq!(value["coverage"][0]["by_filiere"][2]["new"], 85.0);
}

#[test]
fn diff_refuses_a_key_present_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("new");
    copy_tree(&releases().join("new"), &new);
    let path = new.join("certifications.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("2023,pro,40025214,CAP CUISINE,1,2,\n");
    std::fs::write(&path, text).unwrap();
    let e = diff::diff_releases(&releases().join("old"), &new)
        .unwrap_err()
        .to_string();
    assert!(e.contains("certifications.csv:8"), "{e}");
    assert!(
        e.contains(
            "(millesime, filiere, code_certification) = (2023, pro, 40025214) appears twice"
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// A local stand-in for the data.gouv.fr API

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Names in lower case.
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    fn is_write(&self) -> bool {
        self.method != "GET"
    }

    /// The `file` part of a multipart/form-data body: (filename, bytes).
    /// Panics when the body is not well-formed multipart with that part.
    fn multipart_file(&self) -> (String, Vec<u8>) {
        let content_type = self.header("content-type").expect("Content-Type");
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or_else(|| panic!("not multipart: {content_type}"));
        let open = format!("--{boundary}\r\n");
        let close = format!("\r\n--{boundary}--\r\n");
        assert!(
            self.body.starts_with(open.as_bytes()),
            "body does not open with the boundary"
        );
        assert!(
            self.body.ends_with(close.as_bytes()),
            "body does not close with the boundary"
        );
        let inner = &self.body[open.len()..self.body.len() - close.len()];
        let split = find(inner, b"\r\n\r\n").expect("part headers");
        let part_headers = String::from_utf8(inner[..split].to_vec()).unwrap();
        assert!(
            part_headers.contains("Content-Disposition: form-data; name=\"file\"; filename=\""),
            "{part_headers}"
        );
        let filename = part_headers
            .split("filename=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        (filename, inner[split + 4..].to_vec())
    }

    fn json(&self) -> serde_json::Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A scripted answer.
struct Reply {
    status: u16,
    body: String,
}

fn reply(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        body: body.to_string(),
    }
}

/// A server answering at most `max_requests` requests, one per connection,
/// for at most 30 s; `finish` stops it and returns what it received.
struct Server {
    base_url: String,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Request>>,
}

impl Server {
    fn start(
        max_requests: usize,
        mut handler: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base_url = format!("http://{}/api/1", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut received = Vec::new();
            while received.len() < max_requests
                && !stopped.load(Ordering::SeqCst)
                && Instant::now() < deadline
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(request) = serve_one(stream, &mut handler) {
                            received.push(request);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            received
        });
        Server {
            base_url,
            stop,
            thread,
        }
    }

    fn finish(self) -> Vec<Request> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the server thread")
    }
}

fn serve_one(stream: TcpStream, handler: &mut impl FnMut(&Request) -> Reply) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{line}");
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("a header line");
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        body.resize(length.parse().expect("Content-Length"), 0);
        reader.read_exact(&mut body).ok()?;
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    let answer = handler(&request);
    let reason = match answer.status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        413 => "Request Entity Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    };
    let content_type = if answer.body.starts_with('<') {
        "text/html"
    } else {
        "application/json"
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        answer.status,
        answer.body.len(),
        answer.body
    );
    let _ = stream.flush();
    Some(request)
}

/// The API's behaviour for a dataset holding `existing` resources (title → id):
/// GET lists them, an upload creates (201, id `new-<file>`) or replaces (200),
/// PUT answers the resource. `fault` may answer instead, given the request,
/// its upload's file name and how many times that method and path were seen.
fn api(
    existing: &[(&str, &str)],
    mut fault: impl FnMut(&Request, Option<&str>, usize) -> Option<Reply> + Send + 'static,
) -> impl FnMut(&Request) -> Reply + Send + 'static {
    let mut resources: Vec<(String, String)> = existing
        .iter()
        .map(|(t, id)| (t.to_string(), id.to_string()))
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let dataset = format!("/api/1/datasets/{DATASET}/");
    move |request| {
        let count = seen
            .entry(format!("{} {}", request.method, request.path))
            .or_default();
        *count += 1;
        let filename = request
            .path
            .ends_with("upload/")
            .then(|| request.multipart_file().0);
        if let Some(answer) = fault(request, filename.as_deref(), *count) {
            return answer;
        }
        let rest = request
            .path
            .strip_prefix(&dataset)
            .expect("a path under the dataset");
        let url = |name: &str| format!("https://static.data.gouv.fr/resources/{DATASET}/{name}");
        match (request.method.as_str(), rest) {
            ("GET", "") => {
                let list: Vec<serde_json::Value> = resources
                    .iter()
                    .map(|(title, id)| serde_json::json!({"id": id, "title": title, "url": url(title)}))
                    .collect();
                reply(200, serde_json::json!({"id": DATASET, "resources": list}))
            }
            ("POST", "upload/") => {
                let name = filename.unwrap();
                let id = format!("new-{name}");
                resources.push((name.clone(), id.clone()));
                reply(
                    201,
                    serde_json::json!({"id": id, "title": name, "url": url(&name), "success": true}),
                )
            }
            ("POST", upload) if upload.starts_with("resources/") => {
                let name = filename.unwrap();
                let id = upload.split('/').nth(1).unwrap();
                reply(
                    200,
                    serde_json::json!({"id": id, "title": name, "url": url(&name), "success": true}),
                )
            }
            ("PUT", resource) if resource.starts_with("resources/") => {
                let id = resource.split('/').nth(1).unwrap();
                let mut body = request.json();
                body["id"] = id.into();
                reply(200, body)
            }
            _ => reply(
                404,
                serde_json::json!({"message": "Not found", "status": 404}),
            ),
        }
    }
}

fn no_fault(_: &Request, _: Option<&str>, _: usize) -> Option<Reply> {
    None
}

fn settings(base_url: &str, release: &Path, mode: PublishMode) -> PublishSettings {
    let mut s = PublishSettings::new(release, DATASET);
    s.base_url = base_url.to_string();
    s.mode = mode;
    s.api_key = ApiKey::new(KEY);
    s.retry = RetryPolicy {
        retries: 3,
        backoff: Duration::from_millis(1),
    };
    s.timeout = Duration::from_secs(5);
    s
}

fn publish(settings: &PublishSettings) -> (anyhow::Result<PublishReport>, String) {
    let mut out = Vec::new();
    let result = publish::run_publish(settings, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains(KEY), "the API key was printed:\n{out}");
    (result, out)
}

fn outcome<'a>(report: &'a PublishReport, name: &str) -> &'a Outcome {
    &report
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))
        .outcome
}

/// The 8 files of `fixtures/releases/new`, in upload order.
const NEW_FILES: [&str; 8] = [
    "certifications.schema.json",
    "formations.schema.json",
    "continuum_links.schema.json",
    "certifications.csv",
    "formations.csv",
    "continuum_links.csv",
    "datapackage.json",
    "README.md",
];

fn uploads<'a>(requests: &'a [Request], name: &str) -> Vec<&'a Request> {
    requests
        .iter()
        .filter(|r| r.path.ends_with("upload/") && r.multipart_file().0 == name)
        .collect()
}

// ---------------------------------------------------------------------------
// ij publish

#[test]
fn dry_run_reads_the_dataset_prints_every_call_and_writes_nothing() {
    let server = Server::start(10, api(&[("certifications.csv", "r-cert")], no_fault));
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::DryRun,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, format!("/api/1/datasets/{DATASET}/"));
    assert!(report.is_success());
    assert_eq!(
        outcome(&report, "certifications.csv"),
        &Outcome::Planned(Action::Replace {
            id: "r-cert".into()
        })
    );
    assert_eq!(
        outcome(&report, "formations.csv"),
        &Outcome::Planned(Action::Create)
    );

    let base = &s.base_url;
    assert!(out.contains("dry run, nothing is sent"), "{out}");
    assert!(
        out.contains(&format!(
        "POST {base}/datasets/{DATASET}/resources/r-cert/upload/ | X-API-KEY: $DATAGOUV_API_KEY | \
         Content-Type: multipart/form-data; boundary=<boundary> | file=certifications.csv ("
    )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "POST {base}/datasets/{DATASET}/upload/ | X-API-KEY"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "PUT {base}/datasets/{DATASET}/resources/r-cert/ | "
        )),
        "{out}"
    );
    assert!(
        out.contains(r#""schema":{"url":"<url of certifications.schema.json>"}"#),
        "{out}"
    );
    // One line per call: 2 per file, after the two header lines and the GET.
    assert_eq!(out.lines().count(), 3 + 2 * NEW_FILES.len(), "{out}");
}

#[test]
fn dry_run_offline_sends_nothing_at_all() {
    let server = Server::start(10, api(&[], no_fault));
    let mut s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::DryRun,
    );
    s.offline = true;
    s.api_key = None;
    let (result, out) = publish(&s);
    assert!(server.finish().is_empty());
    assert!(result.unwrap().is_success());
    assert!(out.contains("--offline"), "{out}");
}

#[test]
fn apply_creates_new_resources_and_replaces_existing_ones_by_title() {
    let existing = [
        ("certifications.csv", "r-cert"),
        ("README.md", "r-readme"),
        ("autre.pdf", "r-x"),
    ];
    let server = Server::start(40, api(&existing, no_fault));
    let release = releases().join("new");
    let s = settings(&server.base_url, &release, PublishMode::Apply);
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();
    assert!(report.is_success(), "{out}");

    // GET, then an upload and a metadata update per file, in order.
    assert_eq!(requests.len(), 1 + 2 * NEW_FILES.len(), "{out}");
    for (i, name) in NEW_FILES.iter().enumerate() {
        let (upload, update) = (&requests[1 + 2 * i], &requests[2 + 2 * i]);
        assert_eq!(upload.method, "POST");
        let (filename, bytes) = upload.multipart_file();
        assert_eq!(&filename, name);
        assert_eq!(
            bytes,
            std::fs::read(release.join(name)).unwrap(),
            "{name}: bytes differ"
        );
        assert_eq!(update.method, "PUT");
        assert_eq!(update.json()["title"], *name);
    }
    for r in requests.iter().filter(|r| r.is_write()) {
        assert_eq!(r.header("x-api-key"), Some(KEY), "{} {}", r.method, r.path);
    }

    let dataset = format!("/api/1/datasets/{DATASET}");
    let cert = uploads(&requests, "certifications.csv");
    assert_eq!(cert[0].path, format!("{dataset}/resources/r-cert/upload/"));
    assert_eq!(
        outcome(&report, "certifications.csv"),
        &Outcome::Replaced {
            id: "r-cert".into()
        }
    );
    assert_eq!(
        uploads(&requests, "README.md")[0].path,
        format!("{dataset}/resources/r-readme/upload/")
    );
    assert_eq!(
        uploads(&requests, "formations.csv")[0].path,
        format!("{dataset}/upload/")
    );
    assert_eq!(
        outcome(&report, "formations.csv"),
        &Outcome::Created {
            id: "new-formations.csv".into()
        }
    );

    // The metadata of a new resource goes to the id the upload answered, with
    // the schema's title and a link to the schema file just published.
    let put = requests
        .iter()
        .find(|r| r.method == "PUT" && r.path == format!("{dataset}/resources/new-formations.csv/"))
        .expect("PUT of formations.csv");
    let body = put.json();
    assert_eq!(body["type"], "main");
    assert!(body["description"]
        .as_str()
        .unwrap()
        .starts_with("Indicateurs par établissement et formation"));
    assert_eq!(
        body["schema"]["url"],
        format!("https://static.data.gouv.fr/resources/{DATASET}/formations.schema.json")
    );
    assert!(out.contains("report for dataset"), "{out}");
    assert!(report.into_result().is_ok());
}

#[test]
fn a_refused_key_stops_at_once_and_says_why() {
    let server = Server::start(
        10,
        api(&[], |r: &Request, _: Option<&str>, _: usize| {
            r.is_write().then(|| {
                reply(
                    401,
                    serde_json::json!({"message": "Invalid API Key", "status": 401}),
                )
            })
        }),
    );
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::Apply,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    assert_eq!(
        requests.len(),
        2,
        "one GET and the first upload only: {requests:?}"
    );
    match outcome(&report, NEW_FILES[0]) {
        Outcome::Failed { reason } => {
            assert!(
                reason.starts_with("401 Unauthorized: Invalid API Key"),
                "{reason}"
            );
            assert!(reason.contains("the API key was refused"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for name in &NEW_FILES[1..] {
        assert!(
            matches!(outcome(&report, name), Outcome::NotAttempted { .. }),
            "{name}"
        );
    }
    assert!(report.stopped.is_some());
    assert!(out.contains("NOT SENT"), "{out}");
    let e = report.into_result().unwrap_err().to_string();
    assert!(e.contains("8 of 8 files not published"), "{e}");
}

#[test]
fn a_file_too_large_fails_alone_and_the_others_are_published() {
    let server = Server::start(
        40,
        api(&[], |_: &Request, file: Option<&str>, _: usize| {
            (file == Some("certifications.csv")).then(|| Reply {
                status: 413,
                body: "<html><head><title>413 Request Entity Too Large</title></head></html>"
                    .into(),
            })
        }),
    );
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::Apply,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    // 413 is not retried, and no metadata is set for a file that is not there.
    assert_eq!(uploads(&requests, "certifications.csv").len(), 1);
    assert_eq!(requests.len(), 1 + 2 * NEW_FILES.len() - 1);
    match outcome(&report, "certifications.csv") {
        Outcome::Failed { reason } => {
            assert!(
                reason.starts_with("413 Request Entity Too Large"),
                "{reason}"
            );
            assert!(reason.contains("Parquet"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for name in NEW_FILES.iter().filter(|n| **n != "certifications.csv") {
        assert!(
            matches!(outcome(&report, name), Outcome::Created { .. }),
            "{name}"
        );
    }
    assert!(out.contains("FAILED     certifications.csv: 413"), "{out}");
    let e = report.into_result().unwrap_err().to_string();
    assert!(e.contains("1 of 8 files not published"), "{e}");
}

#[test]
fn a_server_error_is_retried_then_succeeds() {
    let server = Server::start(
        40,
        api(
            &[("certifications.csv", "r-cert")],
            |_: &Request, file: Option<&str>, n: usize| {
                (file == Some("certifications.csv") && n == 1)
                    .then(|| reply(503, serde_json::json!({"message": "Service Unavailable"})))
            },
        ),
    );
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::Apply,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    let cert = uploads(&requests, "certifications.csv");
    assert_eq!(cert.len(), 2);
    assert!(cert
        .iter()
        .all(|r| r.path.ends_with("/resources/r-cert/upload/")));
    assert!(
        out.contains("503 Service Unavailable: Service Unavailable; retry 1 of 3"),
        "{out}"
    );
    assert!(report.is_success(), "{out}");
}

#[test]
fn a_creation_answered_5xx_that_did_happen_is_not_made_twice() {
    // The first upload of formations.csv creates the resource, then answers
    // 502 (a proxy timing out); the retry must replace it, not create another.
    let server = Server::start(40, {
        let mut inner = api(&[], no_fault);
        let mut failed_once = false;
        move |r: &Request| {
            let answer = inner(r);
            let creation = r.path == format!("/api/1/datasets/{DATASET}/upload/")
                && r.multipart_file().0 == "formations.csv";
            if creation && !failed_once {
                failed_once = true;
                return reply(502, serde_json::json!({"message": "Bad Gateway"}));
            }
            answer
        }
    });
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::Apply,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    let formations = uploads(&requests, "formations.csv");
    assert_eq!(formations.len(), 2, "{out}");
    assert!(formations[0]
        .path
        .ends_with(&format!("/datasets/{DATASET}/upload/")));
    assert!(formations[1]
        .path
        .ends_with("/resources/new-formations.csv/upload/"));
    assert_eq!(requests.iter().filter(|r| r.method == "GET").count(), 2);
    assert_eq!(
        outcome(&report, "formations.csv"),
        &Outcome::Created {
            id: "new-formations.csv".into()
        }
    );
    assert!(report.is_success(), "{out}");
}

#[test]
fn a_persistent_server_error_is_reported_after_the_retries() {
    let server = Server::start(
        60,
        api(&[], |r: &Request, _: Option<&str>, _: usize| {
            (r.method == "PUT" && r.path.contains("README.md"))
                .then(|| reply(500, serde_json::json!({"message": "Internal Server Error"})))
        }),
    );
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::Apply,
    );
    let (result, out) = publish(&s);
    let requests = server.finish();
    let report = result.unwrap();

    let puts = requests
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("README.md"))
        .count();
    assert_eq!(puts, 4, "1 try and 3 retries");
    match outcome(&report, "README.md") {
        Outcome::Failed { reason } => {
            assert!(reason.contains("(after 4 attempts)"), "{reason}");
            assert!(
                reason.contains("the file was uploaded (resource new-README.md)"),
                "{reason}"
            );
        }
        other => panic!("{other:?}\n{out}"),
    }
    assert!(!report.is_success());
}

#[test]
fn a_broken_release_uploads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&releases().join("new"), tmp.path());
    std::fs::remove_file(tmp.path().join("formations.csv")).unwrap();
    let server = Server::start(10, api(&[], no_fault));
    let s = settings(&server.base_url, tmp.path(), PublishMode::Apply);
    let (result, _) = publish(&s);
    assert!(server.finish().is_empty(), "nothing may be sent");
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("formations.csv is listed in datapackage.json but missing"),
        "{e}"
    );
    assert!(e.contains("nothing was uploaded"), "{e}");
}

#[test]
fn apply_without_a_key_is_a_usage_error_naming_the_variable() {
    let mut s = settings(
        "http://127.0.0.1:9/api/1",
        &releases().join("new"),
        PublishMode::Apply,
    );
    s.api_key = None;
    s.api_key_env = "MY_KEY".into();
    let (result, _) = publish(&s);
    let e = result.unwrap_err();
    assert!(matches!(
        e.downcast_ref::<ij::error::Error>(),
        Some(ij::error::Error::Usage(_))
    ));
    assert!(e.to_string().contains("environment variable MY_KEY"), "{e}");
}

#[test]
fn an_unknown_dataset_says_what_to_check() {
    let server = Server::start(5, |_: &Request| {
        reply(
            404,
            serde_json::json!({"message": "Not Found", "status": 404}),
        )
    });
    let s = settings(
        &server.base_url,
        &releases().join("new"),
        PublishMode::DryRun,
    );
    let (result, _) = publish(&s);
    assert_eq!(server.finish().len(), 1, "a 404 is not retried");
    let e = result.unwrap_err().to_string();
    assert!(e.contains("404 Not Found"), "{e}");
    assert!(e.contains("check --dataset"), "{e}");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
