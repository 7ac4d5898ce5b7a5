//! The `indicators` stage on the embedded sample: the rules of issue 3
//! checked against figures the tests compute from the fixture files
//! themselves (see fixtures/README.md for what each row is for).

use std::collections::HashMap;
use std::path::Path;

use crate::common::*;

/// Runs the sample pipeline, with `policy` as continuum policy.
fn run_sample(policy: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("pipelines/default.toml"))
        .unwrap()
        .replace("root = \"..\"", &format!("root = \"{}\"", repo().display()))
        .replace(
            "continuum_policy = \"strict\"",
            &format!("continuum_policy = \"{policy}\""),
        );
    let pipeline = out.path().join("p.toml");
    std::fs::write(&pipeline, text).unwrap();
    ij_ok(&["run", s(&pipeline), "--out", s(out.path()), "--quiet"]);
    out
}

/// The raw regional fixture, as rows of column → value (`;`, BOM, no quoting).
fn raw_regional() -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(fixtures("inserjeunes/ij_region_data.csv")).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    lines
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(';').map(str::to_string))
                .collect()
        })
        .collect()
}

fn int(v: &str) -> Option<i64> {
    v.parse().ok()
}

/// 100 × n / d rounded half to even, in floating point (the stage uses integers).
fn pct(n: Option<i64>, d: Option<i64>) -> Option<i64> {
    let (n, d) = (n? as f64, d? as f64);
    (d > 0.0).then(|| (100.0 * n / d).round_ties_even() as i64)
}

fn region_rows(out: &Path) -> Vec<HashMap<String, String>> {
    read_csv(&out.join("indicators/regionales.csv"))
}

fn find<'a>(
    rows: &'a [HashMap<String, String>],
    millesime: &str,
    code: &str,
    region: &str,
) -> Option<&'a HashMap<String, String>> {
    rows.iter().find(|r| {
        r["millesime"] == millesime && r["code_certification"] == code && r["region_code"] == region
    })
}

#[test]
fn regional_rates_follow_the_formulas_and_match_the_source() {
    let out = run_sample("strict");
    let rows = region_rows(out.path());
    let mut checked = 0;
    for raw in raw_regional() {
        let code = if raw["voie"] == "apprentissage" {
            &raw["cfd"]
        } else {
            &raw["mefstat11"]
        };
        let Some(row) = find(&rows, &raw["millesime"], code, &raw["code_region"]) else {
            continue; // a rejected row (checked elsewhere)
        };
        if row["donnee_source_type"] != "propre" {
            continue;
        }
        let t = int(&raw["nb_annee_term"]);
        let p = int(&raw["nb_poursuite_etudes"]);
        let s = int(&raw["nb_sortant"]).or_else(|| Some(t? - p?));
        let e6 = int(&raw["nb_en_emploi_6_mois"]);
        let published = t.is_some_and(|t| t >= 20);
        let employment = published && s.is_some_and(|s| s >= 20);
        let expect = |v: Option<i64>, shown: bool| {
            v.filter(|_| shown)
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            row["taux_en_emploi_6_mois"],
            expect(pct(e6, s), employment),
            "{raw:?}"
        );
        assert_eq!(
            row["taux_poursuite_etudes"],
            expect(pct(p, t), published),
            "{raw:?}"
        );
        assert_eq!(
            row["part_en_emploi_6_mois"],
            expect(pct(e6, t), published),
            "{raw:?}"
        );
        assert_eq!(row["nb_sortant"], expect(s, published), "{raw:?}");
        // Where the source gives its own rate, ours is the same.
        for (ours, theirs) in [
            ("taux_en_emploi_6_mois", "taux_emploi_6_mois"),
            ("taux_en_emploi_12_mois", "taux_emploi_12_mois"),
            ("taux_poursuite_etudes", "taux_poursuite_etudes"),
        ] {
            if !raw[theirs].is_empty() && !row[ours].is_empty() {
                assert_eq!(row[ours], raw[theirs], "{ours} of {raw:?}");
            }
        }
        // The devenir shares sum to 100.
        if let (Some(a), Some(b), Some(c)) = (
            int(&row["part_en_emploi_6_mois"]),
            int(&row["part_poursuite_etudes"]),
            int(&row["part_autres_situations_6_mois"]),
        ) {
            assert!(a + b + c == 100 || (a + b > 100 && c == 0), "{row:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 44, "every good row of the fixture is checked");
}

#[test]
fn under_the_threshold_only_nb_annee_term_is_published() {
    let out = run_sample("strict");
    let rows = region_rows(out.path());
    let small: Vec<_> = rows
        .iter()
        .filter(|r| int(&r["nb_annee_term"]).is_some_and(|t| t < 20))
        .collect();
    assert!(!small.is_empty());
    for r in small {
        assert_eq!(r["masked"], "sous_seuil", "{r:?}");
        for col in [
            "nb_sortant",
            "nb_poursuite_etudes",
            "nb_en_emploi_6_mois",
            "taux_en_emploi_6_mois",
            "taux_poursuite_etudes",
            "part_autres_situations_6_mois",
        ] {
            assert_eq!(r[col], "", "{col} of {r:?}");
        }
    }
}

#[test]
fn the_strict_continuum_fills_both_directions_without_overwriting() {
    let out = run_sample("strict");
    let rows = region_rows(out.path());
    let old = find(&rows, "2021_2022", "40025510", "11").expect("own row");
    assert_eq!(old["donnee_source_type"], "propre");
    // Its successor has no 2021_2022 row of its own: it takes the old code's.
    let new = find(&rows, "2021_2022", "40025513", "11").unwrap();
    assert_eq!(
        (
            new["donnee_source_type"].as_str(),
            new["donnee_source_code"].as_str(),
            new["donnee_source_hops"].as_str(),
            new["donnee_source_link"].as_str()
        ),
        ("ancienne", "40025510", "1", "one_to_one")
    );
    assert_eq!(new["nb_annee_term"], old["nb_annee_term"]);
    assert_eq!(new["taux_en_emploi_6_mois"], old["taux_en_emploi_6_mois"]);
    // Two revisions down the strict chain.
    assert_eq!(
        find(&rows, "2021_2022", "40025516", "11").unwrap()["donnee_source_hops"],
        "2"
    );
    // In 2022_2023 the old code takes its successor's figures.
    let back = find(&rows, "2022_2023", "40025510", "11").unwrap();
    assert_eq!(
        (
            back["donnee_source_type"].as_str(),
            back["donnee_source_code"].as_str()
        ),
        ("nouvelle", "40025513")
    );
    // A merge and a split are not one-to-one: nothing under the strict policy.
    assert!(rows.iter().all(|r| r["code_certification"] != "32031310"));
    assert!(find(&rows, "2021_2022", "50022140", "11").is_none());
}

#[test]
fn the_lineage_policy_sums_a_merge_and_carries_rates_over_a_split() {
    let out = run_sample("lineage");
    let rows = region_rows(out.path());
    let raw = raw_regional();
    let raw_t = |code: &str, region: &str| {
        raw.iter()
            .find(|r| {
                r["millesime"] == "2021_2022" && r["cfd"] == code && r["code_region"] == region
            })
            .and_then(|r| int(&r["nb_annee_term"]))
    };
    let merged = rows
        .iter()
        .find(|r| r["millesime"] == "2021_2022" && r["code_certification"] == "32031310")
        .expect("the merge is filled");
    let region = merged["region_code"].clone();
    assert_eq!(merged["donnee_source_link"], "merge");
    assert_eq!(merged["donnee_source_code"], "32031308|32031309");
    let expected = raw_t("32031308", &region).unwrap() + raw_t("32031309", &region).unwrap();
    assert_eq!(merged["nb_annee_term"], expected.to_string());

    let split = find(&rows, "2021_2022", "50022140", "11").expect("the split is filled");
    let source = find(&rows, "2021_2022", "50022106", "11").unwrap();
    assert_eq!(split["donnee_source_link"], "split");
    assert_eq!(
        split["taux_poursuite_etudes"],
        source["taux_poursuite_etudes"]
    );
    assert_eq!(
        split["nb_annee_term"], "",
        "a split carries rates, not counts"
    );
}

#[test]
fn the_national_level_is_summed_from_the_regions_when_no_national_file_has_it() {
    let out = run_sample("strict");
    let national = read_csv(&out.path().join("indicators/certifications.csv"));
    let raw = raw_regional();
    let expected: i64 = raw
        .iter()
        .filter(|r| r["millesime"] == "2021_2022" && r["cfd"] == "40025510")
        .filter_map(|r| int(&r["nb_annee_term"]))
        .sum();
    let row = national
        .iter()
        .find(|r| r["millesime"] == "2021_2022" && r["code_certification"] == "40025510")
        .unwrap();
    assert_eq!(row["origine"], "somme_regions");
    assert_eq!(row["nb_annee_term"], expected.to_string());
    // The national file's own rows say so, and carry salaries.
    let own = national
        .iter()
        .find(|r| r["millesime"] == "2023" && r["code_certification"] == "40025513")
        .unwrap();
    assert_eq!(own["origine"], "source");
    assert!(!own["salaire_12_mois_q1"].is_empty());
}

#[test]
fn every_input_row_is_written_rejected_or_skipped() {
    let out = run_sample("strict");
    let summary = read_json(&out.path().join("indicators/indicators_summary.json"));
    let files = summary["files"].as_array().unwrap();
    assert_eq!(files.len(), 8);
    let mut rejected = 0;
    for f in files {
        let n = |k: &str| f[k].as_u64().unwrap();
        assert_eq!(
            n("rows_read"),
            n("rows_written") + n("rows_rejected") + n("rows_skipped"),
            "{f}"
        );
        rejected += n("rows_rejected");
    }
    let rejects = read_csv(&out.path().join("indicators/indicators_rejects.csv"));
    assert_eq!(rejects.len() as u64, rejected);
    assert!(rejects
        .iter()
        .all(|r| !r["reason"].is_empty() && !r["file"].is_empty()));
    let reasons: Vec<&str> = rejects
        .iter()
        .map(|r| r["reason"].split(':').next().unwrap())
        .collect();
    for expected in [
        "invalid_uai",
        "unknown_millesime",
        "negative_count",
        "emploi_above_sortants",
        "unknown_voie",
    ] {
        assert!(reasons.contains(&expected), "{expected} in {reasons:?}");
    }
}

#[test]
fn a_first_year_leads_to_its_terminal_certifications() {
    let out = run_sample("strict");
    let rows = read_csv(&out.path().join("indicators/certifications_terminales.csv"));
    let of = |code: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| r["code_certification"] == code)
            .map(|r| (r["code_certification_terminale"].clone(), r["lien"].clone()))
            .collect()
    };
    assert_eq!(
        of("23810025516"),
        vec![("23830025516".into(), "meme_formation".into())]
    );
    // The common first year of famille G0003 leads to both of its specialities.
    assert_eq!(
        of("23810020006"),
        vec![
            ("23830023102".into(), "famille_metiers".into()),
            ("23830023203".into(), "famille_metiers".into())
        ]
    );
}

#[test]
fn establishments_get_their_territory_from_the_uai() {
    let out = run_sample("strict");
    let rows = read_csv(&out.path().join("indicators/formations.csv"));
    assert!(!rows.is_empty());
    for r in &rows {
        let dept = &r["uai"][..3];
        assert_eq!(r["departement_code"], dept, "{r:?}");
        assert!(
            !r["academie_code"].is_empty() && !r["region_code"].is_empty(),
            "{r:?}"
        );
    }
}

/// `ij indicators --etablissements FOLDER` reads the folder's files, as a
/// pipeline file's folder entry does: the same table as listing them.
#[test]
fn a_folder_on_the_command_line_stands_for_its_files() {
    let run = run_sample("strict");
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("depp");
    std::fs::create_dir(&folder).unwrap();
    let files = [
        "depp-2022-etablissements-2019_2020-pro.csv",
        "depp-2022-etablissements-2022_2023-apprentissage.csv",
    ];
    for f in files {
        std::fs::copy(repo().join("fixtures/inserjeunes").join(f), folder.join(f)).unwrap();
    }
    let (bcn, continuum) = (run.path().join("bcn"), run.path().join("continuum"));
    let stage = |out: &Path, sources: &[&Path]| {
        let mut args = vec![
            "indicators",
            "--bcn-out",
            s(&bcn),
            "--continuum-out",
            s(&continuum),
            "--out",
            s(out),
            "--quiet",
        ];
        for src in sources {
            args.extend(["--etablissements", s(src)]);
        }
        ij_ok(&args);
        std::fs::read(out.join("etablissements.csv")).unwrap()
    };
    let listed: Vec<std::path::PathBuf> = files.iter().map(|f| folder.join(f)).collect();
    let listed: Vec<&Path> = listed.iter().map(|p| p.as_path()).collect();
    let by_file = stage(&tmp.path().join("by-file"), &listed);
    let by_folder = stage(&tmp.path().join("by-folder"), &[&folder]);
    assert_eq!(by_folder, by_file);
    // Both files were read: rows of both millésimes are in the table.
    let text = String::from_utf8(by_folder).unwrap();
    assert!(
        text.contains("2019_2020") && text.contains("2022_2023"),
        "{text:.300}"
    );
}
