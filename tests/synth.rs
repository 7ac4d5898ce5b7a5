//! `ij synth` (issue 13): deterministic synthetic inputs in the real layouts,
//! whose pipeline runs end to end and, at ×1, gives tables of the real run's
//! size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::real_data::{real_data, real_run};

fn synth(scale: &str, seed: &str, out: &Path) {
    ij_ok(&[
        "synth",
        "--scale",
        scale,
        "--seed",
        seed,
        "--out",
        s(out),
        "--quiet",
    ]);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    synth("0.05", "7", &a);
    synth("0.05", "7", &b);
    synth("0.05", "8", &c);
    let (sa, sb, sc) = (snapshot(&a), snapshot(&b), snapshot(&c));
    assert!(
        sa.len() >= 20,
        "expected the BCN, InserJeunes, InserSup and catalogue files, got {}",
        sa.len()
    );
    assert_eq!(sa, sb, "the same scale and seed must give the same bytes");
    assert_ne!(sa, sc, "another seed must give other data");
    // Writing again over an earlier synth folder replaces it, byte for byte.
    synth("0.05", "7", &a);
    assert_eq!(snapshot(&a), sb);
}

#[test]
fn refuses_a_folder_it_did_not_write_and_a_bad_scale() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let err = ij_err(&["synth", "--scale", "0.05", "--out", s(dir.path())], 2);
    assert!(err.contains("was not written by ij synth"), "{err}");
    assert!(dir.path().join("keep.txt").is_file());
    let err = ij_err(
        &["synth", "--scale", "0", "--out", s(&dir.path().join("x"))],
        2,
    );
    assert!(err.contains("--scale"), "{err}");
}

/// Data rows of every CSV table the stages wrote, by `stage/…/table` (the
/// release copies them, so it is left out; rejects depend on the inputs'
/// defects).
fn table_rows(run: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (path, bytes) in snapshot(run) {
        let name = path.to_string_lossy().to_string();
        // Only the stages' own folders: other tests write beside them in the
        // shared real run (`ij pilotage` writes `p84/`).
        let stage = ["bcn/", "continuum/", "indicators/", "coverage/"];
        if !stage.iter().any(|p| name.starts_with(p))
            || !name.ends_with(".csv")
            || name.contains("rejects")
        {
            continue;
        }
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        out.insert(name, reader.records().count());
    }
    out
}

/// Synthetic inputs at `scale` (seed 1) and their pipeline's outputs.
fn synth_run(scale: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    synth(scale, "1", &data);
    let out = dir.path().join("run");
    let pipeline = data.join("pipeline.toml");
    ij_ok(&["run", s(&pipeline), "--out", s(&out), "--quiet"]);
    (dir, out)
}

#[test]
fn the_synthetic_pipeline_runs_end_to_end() {
    let (_dir, out) = synth_run("0.05");
    let rows = table_rows(&out);
    for table in [
        "bcn/formations_referentiel.csv",
        "continuum/continuum_links.csv",
        "continuum/continuum_lineage.csv",
        "indicators/regionales.csv",
        "indicators/certifications.csv",
        "indicators/familles_specialites.csv",
        "coverage/affelnet2nde/coverage_offers.csv",
        "coverage/psup_apprentissage/coverage_offers.csv",
    ] {
        assert!(
            rows.get(table).copied().unwrap_or(0) > 0,
            "{table} is empty: {rows:?}"
        );
    }
    // Every regional row the generator wrote is read, and kept or rejected.
    let summary = read_json(&out.join("indicators/indicators_summary.json"));
    let text = summary.to_string();
    assert!(text.contains("ij_region_data.csv"), "{text}");
    let offers = read_csv(&out.join("coverage/affelnet2nde/coverage_offers.csv"));
    let covered = offers.iter().filter(|o| o["status"] == "covered").count();
    assert!(
        covered * 2 > offers.len(),
        "most synthetic offers are covered: {covered} of {}",
        offers.len()
    );
    assert!(std::fs::read_dir(out.join("release"))
        .unwrap()
        .next()
        .is_some());
}

#[test]
fn synthetic_x1_tables_are_the_real_runs_size() {
    if real_data().is_none() {
        return;
    }
    let real = table_rows(real_run());
    let (_dir, out) = synth_run("1");
    let synthetic = table_rows(&out);
    let mut off = Vec::new();
    eprintln!("{:<55} {:>9} {:>9}", "table", "real", "synth ×1");
    for (table, &n) in &real {
        let m = synthetic.get(table).copied().unwrap_or(0);
        eprintln!("{table:<55} {n:>9} {m:>9}");
        if (m as f64 - n as f64).abs() > 0.10 * n as f64 {
            off.push(format!("{table}: real {n}, synthetic {m}"));
        }
    }
    assert!(
        off.is_empty(),
        "tables more than 10 % off the real run's size:\n{}",
        off.join("\n")
    );
}
