//! `--apply`: reading the dataset's resources, then uploading each file and
//! setting its metadata, in plan order, stopping on a refused key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::folder::{FileKind, ReleaseFile};
use super::http::{Body, Client, Failure, Reply};
use super::plan::{
    metadata_body, parse_dataset_resources, Action, Plan, PlannedFile, RemoteResource,
};
use super::report::{FileReport, Outcome, PublishReport};
use super::{PublishMode, PublishSettings};

pub(super) fn fetch_resources(
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
pub(super) fn execute(
    plan: &Plan,
    client: &Client,
    remote: &[RemoteResource],
    out: &mut dyn Write,
) -> std::io::Result<PublishReport> {
    let known: BTreeSet<&str> = remote.iter().map(|r| r.id.as_str()).collect();
    let mut schema_urls: BTreeMap<String, String> = BTreeMap::new();
    let mut files = Vec::new();
    let mut stopped: Option<String> = None;
    let total = plan.files.len();
    for (index, planned) in plan.files.iter().enumerate() {
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
        // Progress, so that a slow server is seen to be slow.
        writeln!(
            out,
            "[{}/{total}] uploading {} ({} bytes)…",
            index + 1,
            file.name,
            file.bytes
        )?;
        out.flush()?;
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
    let (reply, action, recheck_note) = match upload(plan, client, planned, known, out) {
        Ok(uploaded) => uploaded,
        Err(failure) => return upload_failed(plan, file, &failure),
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
    if let Err(failed) = set_metadata(plan, client, file, &id, schema_url.as_deref(), out) {
        return failed;
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

/// The file's POST, retried; a creation retried is first looked for on the
/// dataset (the failed attempt may have created it), and replaced if there.
/// The reply, the action finally taken, and a note when it changed.
fn upload(
    plan: &Plan,
    client: &Client,
    planned: &PlannedFile,
    known: &BTreeSet<&str>,
    out: &mut dyn Write,
) -> std::result::Result<(Reply, Action, Option<String>), Failure> {
    let file = &planned.file;
    let mut action = planned.action.clone();
    let mut recheck_note = None;
    let reply = client.with_retries(out, &format!("POST {}", file.name), |retry| {
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
    })?;
    let _ = writeln!(
        out,
        "{} POST {} file={} ({} bytes)",
        reply.status,
        plan.upload_url(&action),
        file.name,
        file.bytes
    );
    Ok((reply, action, recheck_note))
}

/// Why an upload failed, with what to do: a file too large for one upload,
/// a refused key (the other files are not attempted), or the API's error.
fn upload_failed(plan: &Plan, file: &ReleaseFile, failure: &Failure) -> Published {
    let reason = match failure {
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
    Published::failed(reason, failure.is_auth())
}

/// The resource's title, description and schema link (a PUT, retried):
/// the file itself is already on the dataset.
fn set_metadata(
    plan: &Plan,
    client: &Client,
    file: &ReleaseFile,
    id: &str,
    schema_url: Option<&str>,
    out: &mut dyn Write,
) -> std::result::Result<(), Published> {
    let body = metadata_body(file, schema_url).to_string();
    let url = plan.resource_url(id);
    let update = client.with_retries(out, &format!("PUT {}", file.name), |_| {
        client.send_once("PUT", &url, &Body::Json(body.clone()))
    });
    match update {
        Ok(reply) => {
            let _ = writeln!(out, "{} PUT {url} ({} metadata)", reply.status, file.name);
            Ok(())
        }
        Err(failure) => {
            let prefix = if failure.is_auth() {
                format!("{failure}: the API key was refused")
            } else {
                failure.to_string()
            };
            Err(Published::failed(
                format!(
                    "{prefix}: the file was uploaded (resource {id}) but its title, description and \
                     schema link were not set"
                ),
                failure.is_auth(),
            ))
        }
    }
}
