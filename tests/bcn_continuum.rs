//! The `bcn` and `continuum` stages and `ij run` on the embedded sample.
//!
//! The expected figures below are derived by hand from the design of
//! fixtures/bcn (see fixtures/README.md), not copied from the program's output.

use crate::common::*;

#[test]
fn the_sample_pipeline_writes_every_stage() {
    let out = run_sample();
    for file in [
        "bcn/formations_referentiel.csv",
        "bcn/formations_referentiel.parquet",
        "bcn/bcn_rejects.csv",
        "bcn/bcn_summary.json",
        "continuum/continuum_links.csv",
        "continuum/continuum_links.parquet",
        "continuum/continuum_lineage.csv",
        "continuum/continuum_lineage.parquet",
        "continuum/continuum_summary.json",
    ] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }
}

#[test]
fn continuum_summary_of_the_sample() {
    let out = run_sample();
    let summary = read_json(&out.path().join("continuum/continuum_summary.json"));
    // fixtures/bcn/N_FORMATION_DIPLOME.csv holds 20 codes (the last 5, for the
    // familles de métiers of issue 6, declare no link) and these declarations:
    //   40025510 → 40025513 (both ends)      40025513 → 40025516 (old end only)
    //   50022106 → 50022140 (both), → 50022141 (old end only): a split
    //   32031308 → 32031310 (new end only), 32031309 → 32031310 (both): a merge
    //   40023200 → 40023203 (both)           01033410 → 01033499 (absent code)
    //   50033405 lists itself: dropped.
    let expected = serde_json::json!({
        "codes": 20,
        "links": 8,
        "one_sided_declarations": 4,
        "one_to_one_links": 4,
        "codes_with_several_successors": 1,
        "codes_with_several_predecessors": 1,
        "dangling_codes": 1,
        "lineage_components": 5,
        "largest_component": 3,
        // MEFs: 3 + 3 (bac pro, 3 years each), 2 + 2 (the CAP split),
        // 2 + 2 (the BTS merge); the agricultural MEF of 40023200 has no
        // counterpart of its dispositif: unresolved.
        "mef_links": 14,
        "mef_links_unresolved": 1,
    });
    assert_eq!(summary, expected);
}

#[test]
fn continuum_links_and_lineage_of_the_sample() {
    let out = run_sample();
    let links = read_csv(&out.path().join("continuum/continuum_links.csv"));
    let link = |a: &str, n: &str| {
        links
            .iter()
            .find(|l| l["ancien_code"] == a && l["nouveau_code"] == n)
            .unwrap_or_else(|| panic!("no link {a} → {n}"))
    };
    assert_eq!(link("50022106", "50022141")["link_type"], "split");
    assert_eq!(link("50022106", "50022141")["declared_by"], "ancien");
    assert_eq!(link("32031308", "32031310")["link_type"], "merge");
    assert_eq!(link("32031308", "32031310")["declared_by"], "nouveau");
    assert_eq!(link("01033410", "01033499")["nouveau_in_bcn"], "false");
    let mef = link("23830025510", "23830025513");
    assert_eq!(mef["code_certification_type"], "mef_stat_11");
    assert_eq!(mef["via_cfd_ancien"], "40025510");
    assert_eq!(mef["mef_rule"], "same_dispositif_and_prefix");
    assert_eq!(mef["lineage_id"], "L-23830025510");

    let lineage = read_csv(&out.path().join("continuum/continuum_lineage.csv"));
    let rel = lineage
        .iter()
        .find(|r| r["code_certification"] == "40025516" && r["related_code"] == "40025510")
        .expect("40025510 is an ancestor of 40025516");
    assert_eq!(rel["relation"], "ancetre");
    assert_eq!(rel["hops"], "2");
    assert_eq!(rel["one_to_one_path"], "true");
    let split = lineage
        .iter()
        .find(|r| r["code_certification"] == "50022140" && r["related_code"] == "50022106")
        .unwrap();
    assert_eq!(split["one_to_one_path"], "false");
}

#[test]
fn bcn_referentiel_of_the_sample() {
    let out = run_sample();
    let rows = read_csv(&out.path().join("bcn/formations_referentiel.csv"));
    // 20 CFDs of N_, 3 more from V_ (its 4th row is also in N_); 37 N_MEF rows
    // with one MEF_STAT_11 twice; 3 SISE codes.
    assert_eq!(rows.len(), 23 + 36 + 3);
    let row = |code: &str| {
        rows.iter()
            .find(|r| r["code_certification"] == code)
            .unwrap_or_else(|| panic!("{code} missing"))
    };
    let cfd = row("40025513");
    assert_eq!(cfd["code_certification_type"], "cfd");
    assert_eq!(cfd["libelle"], "BAC PRO MAINT. VEHICULES OPT.A VOIT.");
    assert_eq!(cfd["niveau_diplome"], "4");
    assert_eq!(cfd["type_diplome"], "BAC PRO");
    assert_eq!(cfd["date_fermeture"], "2025-08-31");
    assert_eq!(cfd["source_table"], "N_FORMATION_DIPLOME");
    // Windows-1252 decoded.
    assert_eq!(row("50033405")["libelle"], "CAP PÂTISSIER");
    // Apprenticeship-only title from the V_ view, bare quotes kept.
    assert_eq!(row("26Z13999")["source_table"], "V_FORMATION_DIPLOME");
    assert_eq!(row("26Z13999")["niveau_diplome"], "6");
    assert!(row("36X32405")["libelle_long"].contains("\"CPES\""));
    // The MEF_STAT_11 on two N_MEF rows keeps the open one.
    let mef = row("23830025513");
    assert_eq!(mef["mef"], "2472551333");
    assert_eq!(mef["code_formation_diplome"], "40025513");
    assert_eq!(
        (
            mef["duree_dispositif"].as_str(),
            mef["annee_dispositif"].as_str()
        ),
        ("3", "3")
    );
    // Famille de métiers through N_GROUPE_FORMATION (TG01 only).
    assert_eq!(row("23810020006")["famille_metiers_code"], "G0003");
    assert_eq!(
        row("40025516")["famille_metiers_code"],
        "",
        "G0021 is TG02, not a famille"
    );
    // Higher education, '|'-separated.
    assert_eq!(row("2400074")["type_diplome"], "LIC PRO");

    // The duplicate MEF_STAT_11, and 3 rows of n_lien_mef_famille_metier.csv
    // (an unknown `_temp` family, family 999, a MEF absent from N_MEF: see
    // tests/familles.rs); rejects are sorted by table, then line.
    let rejects = read_csv(&out.path().join("bcn/bcn_rejects.csv"));
    assert_eq!(rejects.len(), 4);
    let mef_rejects: Vec<_> = rejects.iter().filter(|r| r["table"] == "N_MEF").collect();
    assert_eq!(mef_rejects.len(), 1);
    assert_eq!(mef_rejects[0]["code"], "23830025513");
    assert!(mef_rejects[0]["reason"].contains("duplicate MEF_STAT_11"));

    let summary = read_json(&out.path().join("bcn/bcn_summary.json"));
    for table in summary["tables"].as_array().unwrap() {
        let n = |k: &str| table[k].as_u64().unwrap();
        assert_eq!(
            n("rows_read"),
            n("rows_written") + n("rows_merged") + n("rows_rejected") + n("rows_used_as_lookup"),
            "{table}"
        );
    }
}

#[test]
fn parquet_has_the_csv_rows_and_proper_types() {
    use polars::prelude::*;
    let out = run_sample();
    let path = out.path().join("bcn/formations_referentiel.parquet");
    let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    let csv_rows = read_csv(&out.path().join("bcn/formations_referentiel.csv"));
    assert_eq!(df.height(), csv_rows.len());
    let dtype = |c: &str| df.column(c).unwrap().dtype().clone();
    assert_eq!(dtype("code_certification"), DataType::String);
    assert_eq!(dtype("date_ouverture"), DataType::Date);
    assert_eq!(dtype("duree_dispositif"), DataType::Int64);
    let links = ParquetReader::new(
        std::fs::File::open(out.path().join("continuum/continuum_links.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    assert_eq!(
        links.column("ancien_in_bcn").unwrap().dtype(),
        &DataType::Boolean
    );
}

#[test]
fn two_runs_write_byte_identical_outputs() {
    let a = run_sample();
    let b = run_sample();
    let (sa, sb) = (snapshot(a.path()), snapshot(b.path()));
    assert!(!sa.is_empty());
    assert_eq!(sa.len(), sb.len());
    for ((pa, ba), (pb, bb)) in sa.iter().zip(&sb) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs between two runs", pa.display());
    }
}

#[test]
fn a_failed_stage_leaves_the_previous_outputs_untouched() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("bcn");
    ij_ok(&["bcn", "--bcn", s(&fixtures("bcn")), "--out", s(&target)]);
    let before = snapshot(&target);

    let broken = tempfile::tempdir().unwrap();
    copy_dir(&fixtures("bcn"), broken.path());
    let mef = broken.path().join("N_MEF.csv");
    let text = std::fs::read_to_string(&mef).unwrap();
    let cut = text.len() - 40; // the last row loses its last fields
    std::fs::write(&mef, &text[..cut]).unwrap();
    let err = ij_err(&["bcn", "--bcn", s(broken.path()), "--out", s(&target)], 1);
    assert!(err.contains("no output was changed"), "{err}");
    assert_eq!(
        snapshot(&target),
        before,
        "outputs changed, or a temporary folder was left"
    );
}

#[test]
fn stages_run_alone_with_a_semicolon_separator() {
    let out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "continuum",
        "--bcn",
        s(&fixtures("bcn")),
        "--out",
        s(out.path()),
        "--csv-separator",
        ";",
    ]);
    let text = std::fs::read_to_string(out.path().join("continuum_links.csv")).unwrap();
    assert!(text.starts_with("code_certification_type;ancien_code;nouveau_code;"));
}

#[test]
fn help_teaches_with_examples() {
    let out = ij(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Examples:") && help.contains("ij run"),
        "{help}"
    );
    for cmd in ["run", "bcn", "continuum"] {
        let out = ij(&[cmd, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Examples:"), "ij {cmd} --help:\n{help}");
    }
}
