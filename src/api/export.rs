//! `ij api export RELEASE_DIR --out DIR`: the single-item answers of the
//! latest millésimes as a static tree, at the paths the server answers
//! (`api/inserjeunes/certifications/40025214.json`, `….svg`,
//! `api/inserjeunes/regionales/84/certifications/40025214.json`,
//! `api/inserjeunes/formations/0630003L-40025214.json`), plus `index.json`,
//! `api/index.json` (= `GET /api`) and `api/doc/index.json` (= `GET /api/doc`).
//! Every file holds the bytes `routes::answer` gives the server for the
//! same request. Written in a temporary folder, renamed into place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::api::query::millesime_candidates;
use crate::api::route_table::RouteId;
use crate::api::routes::answer;
use crate::api::Api;
use crate::error::{Error, Result};
use crate::rules::niveau::NiveauGeographique;

/// What was written.
#[derive(Debug, Default)]
pub struct ExportReport {
    pub files: usize,
    /// Requests answered other than 200 (no figure to show), not written.
    pub skipped: usize,
}

/// The (place, code) pairs of a level at the latest millésime of their filière.
fn latest_keys(api: &Api, level: NiveauGeographique) -> BTreeSet<(String, String)> {
    let table = api.data.table(level);
    table
        .rows
        .iter()
        .filter(|r| {
            table
                .latest(r.filiere)
                .is_some_and(|m| millesime_candidates(m).contains(&r.millesime))
        })
        .map(|r| {
            let place = match level {
                NiveauGeographique::National => String::new(),
                NiveauGeographique::Region => r.region_code.as_deref().unwrap_or("").to_string(),
                NiveauGeographique::Etablissement => r.uai.as_deref().unwrap_or("").to_string(),
            };
            (place, r.code.to_string())
        })
        .collect()
}

fn write(dir: &Path, relative: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
}

pub fn export(api: &Api, out: &Path) -> Result<ExportReport> {
    if out.exists() && !out.join("index.json").is_file() {
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(Error::usage(format!(
                "{}: exists and is not an earlier export (no index.json): choose an empty or new folder",
                out.display()
            )));
        }
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| Error::Write {
        path: parent.to_path_buf(),
        source,
    })?;
    let tmp: PathBuf = parent.join(format!(
        ".{}.tmp-{}",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    if tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let result = write_tree(api, &tmp);
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|source| Error::Write {
            path: out.to_path_buf(),
            source,
        })?;
    }
    std::fs::rename(&tmp, out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(report)
}

fn write_tree(api: &Api, dir: &Path) -> Result<ExportReport> {
    let mut report = ExportReport::default();
    let mut files: Vec<String> = Vec::new();
    let mut put =
        |relative: String, id: RouteId, path: &[&str], report: &mut ExportReport| -> Result<()> {
            let reply = answer(api, id, path, None);
            if reply.status != 200 {
                report.skipped += 1;
                return Ok(());
            }
            write(dir, &relative, &reply.body)?;
            files.push(relative);
            report.files += 1;
            Ok(())
        };
    put("api/index.json".into(), RouteId::Health, &[], &mut report)?;
    put("api/doc/index.json".into(), RouteId::Doc, &[], &mut report)?;
    for ext in ["json", "svg"] {
        for (_, code) in latest_keys(api, NiveauGeographique::National) {
            let leaf = format!("{code}.{ext}");
            put(
                format!("api/inserjeunes/certifications/{leaf}"),
                RouteId::Certification,
                &[&leaf],
                &mut report,
            )?;
        }
        for (region, code) in latest_keys(api, NiveauGeographique::Region) {
            let leaf = format!("{code}.{ext}");
            put(
                format!("api/inserjeunes/regionales/{region}/certifications/{leaf}"),
                RouteId::Regionale,
                &[&region, &leaf],
                &mut report,
            )?;
        }
        for (uai, code) in latest_keys(api, NiveauGeographique::Etablissement) {
            let leaf = format!("{uai}-{code}.{ext}");
            put(
                format!("api/inserjeunes/formations/{leaf}"),
                RouteId::Formation,
                &[&leaf],
                &mut report,
            )?;
        }
    }
    files.sort();
    let index = json!({
        "release": api.data.version,
        "version": env!("CARGO_PKG_VERSION"),
        "files": files,
    });
    let bytes = serde_json::to_vec_pretty(&index).expect("JSON");
    write(dir, "index.json", &bytes)?;
    report.files += 1;
    Ok(report)
}
