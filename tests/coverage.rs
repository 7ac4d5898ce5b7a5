//! The `coverage` stage on the embedded sample: every offer gets one status,
//! offers in = offers out, the CI gate. The real catalogues are checked
//! offer by offer in `coverage_real.rs`.

use std::path::Path;

use crate::common::*;

/// Data lines of a catalogue file (header excluded, blank lines ignored).
fn data_lines(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes)
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn every_offer_of_every_sample_catalogue_gets_one_status() {
    let out = run_sample();
    for (name, file) in [
        ("affelnet2nde", "catalogues/affelnet2nde.csv"),
        (
            "psup_apprentissage",
            "catalogues/listeFormationApprentissagePsup.csv",
        ),
        ("generique", "catalogues/generic.csv"),
    ] {
        let dir = out.path().join("coverage").join(name);
        let offers = read_csv(&dir.join("coverage_offers.csv"));
        assert_eq!(
            offers.len(),
            data_lines(&fixtures(file)),
            "{name}: offers in = offers out"
        );
        let statuses = [
            "covered",
            "below_threshold",
            "new_formation",
            "unknown_code",
            "invalid_uai",
            "several_terminal_formations",
            "no_data",
        ];
        for o in &offers {
            assert!(statuses.contains(&o["status"].as_str()), "{o:?}");
            assert_eq!(o["covered"] == "true", o["status"] == "covered");
            assert_eq!(o["via"].is_empty(), o["status"] != "covered", "{o:?}");
        }
        let summary = read_json(&dir.join("coverage_summary.json"));
        let n = |v: &serde_json::Value| v.as_u64().unwrap() as usize;
        assert_eq!(n(&summary["offers"]), offers.len());
        let by_status: usize = summary["by_status"]
            .as_object()
            .unwrap()
            .values()
            .map(n)
            .sum();
        assert_eq!(by_status, offers.len());
        let covered = offers.iter().filter(|o| o["status"] == "covered").count();
        assert_eq!(n(&summary["covered"]), covered);
        let waterfall = summary["waterfall"].as_array().unwrap();
        assert_eq!(n(&waterfall.last().unwrap()["covered"]), covered);
        assert!(dir.join("coverage_report.html").is_file());
    }
}

#[test]
fn bad_offers_still_get_a_status() {
    let out = run_sample();
    let offers = read_csv(&out.path().join("coverage/affelnet2nde/coverage_offers.csv"));
    let by_line = |line: &str| offers.iter().find(|o| o["line"] == line).unwrap();
    // fixtures/catalogues/affelnet2nde.csv: line 16 is in an académie the
    // referential does not know, line 17 has a bad UAI, line 18 no code,
    // line 20 a placeholder code.
    assert!(by_line("16")["problemes"].contains("unknown_academie"));
    assert!(by_line("17")["problemes"].contains("invalid_uai"));
    assert_eq!(by_line("18")["status"], "unknown_code");
    assert_eq!(by_line("20")["status"], "unknown_code");
}

#[test]
fn the_ci_gate_fails_on_a_regression_and_passes_otherwise() {
    let out = run_sample();
    let current = out
        .path()
        .join("coverage/affelnet2nde/coverage_summary.json");
    let baseline = repo().join("coverage/baseline/affelnet2nde/coverage_summary.json");
    let stdout = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let ok = ij(&[
        "coverage",
        "check",
        "--baseline",
        s(&baseline),
        "--current",
        s(&current),
    ]);
    assert!(
        ok.status.success(),
        "the committed baseline matches the sample: {}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // A baseline 10 points higher: the current run is a regression.
    let mut high = read_json(&current);
    high["coverage_rate"] = serde_json::json!(high["coverage_rate"].as_f64().unwrap() + 10.0);
    let high_path = out.path().join("high/coverage_summary.json");
    std::fs::create_dir_all(high_path.parent().unwrap()).unwrap();
    std::fs::write(&high_path, serde_json::to_string(&high).unwrap()).unwrap();
    let fail = ij(&[
        "coverage",
        "check",
        "--baseline",
        s(&high_path),
        "--current",
        s(&current),
        "--tolerance",
        "1",
    ]);
    assert_eq!(fail.status.code(), Some(1));
    assert!(
        stdout(&fail).contains("REGRESSION") && stdout(&fail).contains("overall"),
        "{}",
        stdout(&fail)
    );
    assert!(String::from_utf8_lossy(&fail.stderr).contains("coverage check failed"));
    // Within the tolerance, it passes.
    let pass = ij(&[
        "coverage",
        "check",
        "--baseline",
        s(&high_path),
        "--current",
        s(&current),
        "--tolerance",
        "10.5",
    ]);
    assert!(pass.status.success());
}

#[test]
fn explain_groups_the_offers_whose_status_changed() {
    let out = run_sample();
    let dir = out.path().join("coverage/affelnet2nde");
    let before = out.path().join("before");
    std::fs::create_dir_all(&before).unwrap();
    std::fs::copy(
        dir.join("coverage_summary.json"),
        before.join("coverage_summary.json"),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("coverage_offers.csv")).unwrap();
    // Pretend offer line 19 was covered in the baseline.
    let changed: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("affelnet2nde.csv,19,") {
                l.replace(",unknown_code,false,", ",covered,true,")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(
        before.join("coverage_offers.csv"),
        changed.join("\n") + "\n",
    )
    .unwrap();
    let o = ij(&[
        "coverage",
        "check",
        "--baseline",
        s(&before.join("coverage_summary.json")),
        "--current",
        s(&dir.join("coverage_summary.json")),
        "--explain",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("1 offers changed status, in 1 groups"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  covered → unknown_code: 1 offers, e.g. line 19 (code 23810025599)"),
        "{stdout}"
    );
}

#[test]
fn the_coverage_report_says_the_threshold_the_run_used() {
    // The sample with seuil = 10: the summary records it, the report says it.
    let out = tempfile::tempdir().unwrap();
    let default = std::fs::read_to_string(repo().join("pipelines/default.toml")).unwrap();
    let pipeline = default
        .replace("root = \"..\"", &format!("root = \"{}\"", repo().display()))
        .replace("seuil = 20", "seuil = 10");
    assert!(pipeline.contains("seuil = 10"), "the sample sets its seuil");
    let file = out.path().join("seuil10.toml");
    std::fs::write(&file, pipeline).unwrap();
    ij_ok(&["run", s(&file), "--out", s(out.path()), "--quiet"]);
    let dir = out.path().join("coverage/affelnet2nde");
    let summary = read_json(&dir.join("coverage_summary.json"));
    assert_eq!(summary["seuil"], 10);
    assert_eq!(summary["continuum_policy"], "strict");
    let html = std::fs::read_to_string(dir.join("coverage_report.html")).unwrap();
    assert!(html.contains("seuil de 10 élèves"), "{html}");
    assert!(!html.contains("de 20 élèves"), "the report must not say 20");

    // Nor does the release: its README and schemas say 10.
    let release = std::fs::read_dir(out.path().join("release"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .expect("a release folder");
    let mut said_10 = false;
    for entry in std::fs::read_dir(&release).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".json") || name.ends_with(".md")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for twenty in [
            "moins de 20 ",
            "seuil de 20 ",
            "de 20 inscrits",
            "de 20 élèves",
        ] {
            assert!(!text.contains(twenty), "{name} says \"{twenty}\"");
        }
        said_10 |= text.contains("moins de 10 inscrits");
    }
    assert!(said_10, "the release states its threshold");
}
