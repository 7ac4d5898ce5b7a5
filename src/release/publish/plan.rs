//! The plan: matching the release's files to the dataset's resources by
//! title, and the HTTP calls that follow, as `--dry-run` prints them. It
//! sends nothing: `apply.rs` makes the calls.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, Result};

use super::folder::{Release, ReleaseFile};

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
    pub(super) fn dataset_url(&self) -> String {
        format!("{}/datasets/{}/", self.base_url, self.dataset)
    }

    pub(super) fn upload_url(&self, action: &Action) -> String {
        match action {
            Action::Create => format!("{}upload/", self.dataset_url()),
            Action::Replace { id } => format!("{}resources/{id}/upload/", self.dataset_url()),
        }
    }

    pub(super) fn resource_url(&self, id: &str) -> String {
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
pub(super) fn metadata_body(file: &ReleaseFile, schema_url: Option<&str>) -> serde_json::Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::folder::read_release;
    use super::super::folder::tests::release_dir;

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
}
