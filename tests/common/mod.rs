//! Shared helpers: run `ij`, locate fixtures, read output CSVs.

#![allow(dead_code)]

pub mod http;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures(sub: &str) -> PathBuf {
    repo().join("fixtures").join(sub)
}

/// Runs `ij` with the arguments, from the repository root.
pub fn ij(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ij"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("ij runs")
}

/// Runs `ij`, asserting it succeeded; returns its stderr.
pub fn ij_ok(args: &[&str]) -> String {
    let out = ij(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ij {args:?} failed:\n{stderr}");
    stderr
}

/// Runs `ij`, asserting it failed with `code`; returns its stderr.
pub fn ij_err(args: &[&str], code: i32) -> String {
    let out = ij(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "ij {args:?}:\n{stderr}");
    stderr
}

/// Runs the default pipeline (the embedded sample) into a fresh folder.
pub fn run_sample() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "run",
        "pipelines/default.toml",
        "--out",
        s(out.path()),
        "--quiet",
    ]);
    out
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// An output CSV as rows of column → value.
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// Copies a fixture folder into `dest`, so a test can break one file.
pub fn copy_dir(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dest.join(entry.file_name())).unwrap();
        }
    }
}

/// Every file under `dir` (relative path) with its bytes.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}
