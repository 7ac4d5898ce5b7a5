//! Issue 9: every real export accepted, and what is missing said out loud.
//! Each test takes a fixture written in a real layout (fixtures/bcn_variants,
//! fixtures/annuaire, fixtures/catalogues/own_columns.csv) and checks its
//! expected outcome: a reject with its reason, a clear error before any stage
//! runs, or a warning naming what is missing and what it costs.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A copy of fixtures/bcn that `change` may edit.
fn bcn_copy(change: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures("bcn"), dir.path());
    change(dir.path());
    dir
}

fn variant(name: &str) -> PathBuf {
    fixtures("bcn_variants").join(name)
}

/// `ij bcn` on a folder: its stderr and output folder.
fn run_bcn(bcn: &Path) -> (String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let err = ij_ok(&["bcn", "--bcn", s(bcn), "--out", s(out.path())]);
    (err, out)
}

#[test]
fn a_malformed_key_in_a_2020_v_formation_diplome_is_a_reject() {
    // The 2020 export, dated name and older columns, holds `36C250N`.
    let bcn = bcn_copy(|d| {
        std::fs::remove_file(d.join("V_FORMATION_DIPLOME.csv")).unwrap();
        std::fs::copy(
            variant("v_formation_diplome_15072020.csv"),
            d.join("v_formation_diplome_15072020.csv"),
        )
        .unwrap();
    });
    let (err, out) = run_bcn(bcn.path());
    let rejects = read_csv(&out.path().join("bcn_rejects.csv"));
    let bad: Vec<_> = rejects
        .iter()
        .filter(|r| r["table"] == "V_FORMATION_DIPLOME")
        .collect();
    assert_eq!(bad.len(), 1, "{rejects:?}");
    assert_eq!(
        (bad[0]["line"].as_str(), bad[0]["code"].as_str()),
        ("4", "36C250N")
    );
    assert_eq!(
        bad[0]["reason"],
        "FORMATION_DIPLOME: \"36C250N\" is not a CFD of 8 characters [0-9A-Z] (found 7 characters)"
    );
    let codes: Vec<String> = read_csv(&out.path().join("formations_referentiel.csv"))
        .into_iter()
        .map(|r| r["code_certification"].clone())
        .collect();
    assert!(!codes.contains(&"36C250N".to_string()));
    assert!(
        codes.contains(&"36X32405".to_string()),
        "the rows after it are read"
    );
    // 5 rows = 1 already in N_ + 3 written + 1 rejected.
    assert!(
        err.contains("V_FORMATION_DIPLOME: 5 rows read = 3 written + 1 already in another table + 1 rejected"),
        "{err}"
    );
    let summary = read_json(&out.path().join("bcn_summary.json"));
    let found = summary["tables_found"].as_array().unwrap();
    assert!(found.iter().any(|t| t["table"] == "V_FORMATION_DIPLOME"
        && t["file"] == "v_formation_diplome_15072020.csv"
        && t["rows"] == 5));
}

#[test]
fn an_enquete_51_export_without_link_columns_is_read_by_bcn_and_continuum() {
    let with_e51 = bcn_copy(|d| {
        std::fs::copy(
            variant("n_formation_diplome_enquete_51_2024.csv"),
            d.join("n_formation_diplome_enquete_51_2024.csv"),
        )
        .unwrap();
    });
    let (_, out) = run_bcn(with_e51.path());
    let referentiel = read_csv(&out.path().join("formations_referentiel.csv"));
    let added = referentiel
        .iter()
        .find(|r| r["code_certification"] == "56T33401")
        .expect("the code only ENQUETE_51 has");
    assert_eq!(added["source_table"], "N_FORMATION_DIPLOME_ENQUETE_51");
    let kept = referentiel
        .iter()
        .find(|r| r["code_certification"] == "40025513")
        .unwrap();
    assert_eq!(kept["source_table"], "N_FORMATION_DIPLOME", "N_ wins");

    // Its rows carry no links: the continuum is the one without it.
    let continuum = |bcn: &Path| {
        let out = tempfile::tempdir().unwrap();
        ij_ok(&["continuum", "--bcn", s(bcn), "--out", s(out.path())]);
        std::fs::read(out.path().join("continuum_links.csv")).unwrap()
    };
    assert_eq!(continuum(with_e51.path()), continuum(&fixtures("bcn")));
}

#[test]
fn a_folder_without_n_mef_runs_and_says_what_it_costs() {
    let bcn = bcn_copy(|d| std::fs::remove_file(d.join("N_MEF.csv")).unwrap());
    let (err, out) = run_bcn(bcn.path());
    assert!(
        err.contains("warning: N_MEF absent: MEF_STAT_11 codes cannot be resolved; voie scolaire offers will be unknown_code"),
        "{err}"
    );
    let summary = read_json(&out.path().join("bcn_summary.json"));
    let missing = summary["tables_missing"].as_array().unwrap();
    let mef = missing.iter().find(|m| m["table"] == "N_MEF").unwrap();
    assert_eq!(mef["state"], "absent");
    assert!(mef["disables"]
        .as_str()
        .unwrap()
        .starts_with("MEF_STAT_11 codes cannot be resolved"));
    assert_eq!(summary["codes_mef_stat_11"], 0);
}

#[test]
fn a_header_only_n_mef_is_missing_too() {
    let bcn = bcn_copy(|d| {
        std::fs::copy(variant("N_MEF_header_only.csv"), d.join("N_MEF.csv")).unwrap();
    });
    let (err, out) = run_bcn(bcn.path());
    assert!(
        err.contains(
            "warning: N_MEF has a header and no row: MEF_STAT_11 codes cannot be resolved"
        ),
        "{err}"
    );
    let summary = read_json(&out.path().join("bcn_summary.json"));
    let mef = summary["tables_missing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["table"] == "N_MEF")
        .cloned()
        .unwrap();
    assert_eq!(mef["state"], "header_only");
}

#[test]
fn a_folder_without_the_famille_tables_says_families_are_lost() {
    let bcn = bcn_copy(|d| {
        for f in [
            "n_groupe_formation_.csv",
            "n_lien_formation_groupe_.csv",
            "N_FAMILLE_METIER_SPEC_PRO.csv",
            "n_lien_mef_famille_metier.csv",
        ] {
            std::fs::remove_file(d.join(f)).unwrap();
        }
    });
    let (err, out) = run_bcn(bcn.path());
    for table in [
        "N_GROUPE_FORMATION",
        "N_LIEN_FORMATION_GROUPE",
        "N_FAMILLE_METIER_SPEC_PRO",
        "N_LIEN_MEF_FAMILLE_METIER",
    ] {
        assert!(
            err.contains(&format!(
                "warning: {table} absent: no famille de métiers: common first years"
            )),
            "{table}: {err}"
        );
    }
    let summary = read_json(&out.path().join("bcn_summary.json"));
    assert_eq!(summary["codes_with_famille_metiers"], 0);
}

/// A pipeline file in a fresh folder whose `root` is the repository; returns
/// the folder (holding `p.toml`, and `out/` once run).
fn pipeline(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name = 'issue9'\nroot = '{}'\nout = '{}'\n{body}",
        repo().display(),
        dir.path().join("out").display()
    );
    std::fs::write(dir.path().join("p.toml"), text).unwrap();
    dir
}

const SAMPLE_INPUTS: &str = "bcn = 'fixtures/bcn'
inserjeunes_regional = 'fixtures/inserjeunes/ij_region_data.csv'
inserjeunes_national = 'fixtures/inserjeunes/national.csv'
inserjeunes_formations = 'fixtures/inserjeunes/formation_fine_lycee_pro.csv'
inserjeunes_etablissements = 'fixtures/inserjeunes/fr-en-inserjeunes-cfa.csv'
";

#[test]
fn an_empty_input_folder_is_an_error_before_any_stage() {
    let empty = tempfile::tempdir().unwrap();
    let dir = pipeline(&format!(
        "stages = ['bcn', 'continuum', 'indicators']\n[inputs]\n{SAMPLE_INPUTS}insersup = '{}'\n",
        empty.path().display()
    ));
    let err = ij_err(&["run", s(&dir.path().join("p.toml"))], 1);
    assert!(
        err.contains(&format!(
            "{}: holds no .csv or .json file (inputs.insersup in",
            empty.path().display()
        )),
        "{err}"
    );
    assert!(!dir.path().join("out").exists(), "no stage ran");
}

#[test]
fn two_catalogues_with_one_name_are_an_error_before_any_stage() {
    let dir = pipeline(&format!(
        "stages = ['bcn', 'continuum', 'indicators', 'coverage']\n[inputs]\n{SAMPLE_INPUTS}\
         [[inputs.catalogues]]\nname = 'affelnet'\npath = 'fixtures/catalogues/affelnet2nde.csv'\n\
         [[inputs.catalogues]]\nname = 'affelnet'\npath = 'fixtures/catalogues/generic.csv'\n"
    ));
    let err = ij_err(&["run", s(&dir.path().join("p.toml"))], 2);
    assert!(
        err.contains("two catalogues are named \"affelnet\""),
        "{err}"
    );
    assert!(!dir.path().join("out").exists(), "no stage ran");
}

/// Statuses by line of a coverage_offers.csv.
fn statuses(path: &Path) -> Vec<(String, String, String)> {
    read_csv(path)
        .into_iter()
        .map(|r| (r["uai"].clone(), r["code"].clone(), r["status"].clone()))
        .collect()
}

#[test]
fn a_catalogue_with_its_own_column_names_is_measured_without_editing_it() {
    // The first 17 offers of affelnet2nde.csv, in another platform's header
    // and words: the same offers must get the same statuses.
    let dir = pipeline(&format!(
        "stages = ['bcn', 'continuum', 'indicators', 'coverage']\n[inputs]\n{SAMPLE_INPUTS}\
         [[inputs.catalogues]]\nname = 'affelnet'\npath = 'fixtures/catalogues/affelnet2nde.csv'\n\
         [[inputs.catalogues]]\nname = 'own'\npath = 'fixtures/catalogues/own_columns.csv'\n\
         columns = {{ uai = 'UAI', code = 'MEFSTAT11', filiere = 'STATUT', libelle = 'LIBELLÉFORMATION', capacite = 'CAPACITE' }}\n\
         filiere_values = {{ 'Sous statut scolaire' = 'pro', 'Apprentissage' = 'apprentissage' }}\n"
    ));
    ij_ok(&["run", s(&dir.path().join("p.toml")), "--quiet"]);
    let out = dir.path().join("out/coverage");
    let affelnet = statuses(&out.join("affelnet/coverage_offers.csv"));
    let own = statuses(&out.join("own/coverage_offers.csv"));
    assert_eq!(own.len(), 17);
    assert_eq!(own, affelnet[..17]);
    let offers = read_csv(&out.join("own/coverage_offers.csv"));
    assert_eq!(offers[0]["libelle"], "Offre 23810025516");
    assert_eq!(offers[0]["capacite"], "24");
    assert_eq!(offers[2]["filiere"], "apprentissage");

    // The same on the command line.
    let cli_out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "coverage",
        "--catalogue",
        "fixtures/catalogues/own_columns.csv",
        "--column",
        "uai=UAI",
        "--column",
        "code=MEFSTAT11",
        "--column",
        "filiere=STATUT",
        "--filiere-value",
        "Sous statut scolaire=pro",
        "--filiere-value",
        "Apprentissage=apprentissage",
        "--bcn-out",
        s(&dir.path().join("out/bcn")),
        "--indicators-out",
        s(&dir.path().join("out/indicators")),
        "--out",
        s(cli_out.path()),
    ]);
    assert_eq!(statuses(&cli_out.path().join("coverage_offers.csv")), own);

    // A column name the file lacks is a clear error.
    let err = ij_err(
        &[
            "coverage",
            "--catalogue",
            "fixtures/catalogues/own_columns.csv",
            "--column",
            "uai=UAI",
            "--column",
            "code=CODE_MEF",
            "--bcn-out",
            s(&dir.path().join("out/bcn")),
            "--indicators-out",
            s(&dir.path().join("out/indicators")),
            "--out",
            s(cli_out.path()),
        ],
        1,
    );
    assert!(
        err.contains("own_columns.csv: missing column CODE_MEF (columns.code)"),
        "{err}"
    );
}

#[test]
fn both_annuaire_layouts_and_acce_label_establishments_and_close_offers() {
    let dir = pipeline(&format!(
        "stages = ['bcn', 'continuum', 'indicators', 'coverage']\n[inputs]\n{SAMPLE_INPUTS}\
         annuaire = ['fixtures/annuaire/fr-en-annuaire-education-2026.csv', 'fixtures/annuaire/fr-en-annuaire-education-2023.csv', 'fixtures/annuaire/acce_etablissements.csv']\n\
         [[inputs.catalogues]]\nname = 'affelnet'\npath = 'fixtures/catalogues/affelnet2nde.csv'\n"
    ));
    let err = ij_ok(&["run", s(&dir.path().join("p.toml"))]);
    // 3 + 3 + 3 rows: one invalid UAI (0690045A), two UAIs already read.
    assert!(
        err.contains("establishment directory: 7 UAIs (2 closed), 1 rows with an invalid UAI skipped, 2 repeated UAIs"),
        "{err}"
    );
    let out = dir.path().join("out");
    let formations = read_csv(&out.join("indicators/formations.csv"));
    let canuts: Vec<_> = formations
        .iter()
        .filter(|r| r["uai"] == "0690046A")
        .collect();
    assert!(!canuts.is_empty());
    for r in &canuts {
        // From the 2023 layout (listed before ACCE, which names it otherwise).
        assert_eq!(r["nature_uai_libelle"], "LYCEE PROFESSIONNEL");
        assert_eq!(r["etat_etablissement"], "ouvert");
        assert_eq!(r["libelle_etablissement"], "Lycée professionnel des Canuts");
    }
    let etablissements = read_csv(&out.join("indicators/etablissements.csv"));
    let cfa: Vec<_> = etablissements
        .iter()
        .filter(|r| r["uai"] == "0690122H")
        .collect();
    assert!(!cfa.is_empty());
    assert!(cfa
        .iter()
        .all(|r| r["nature_uai_libelle"] == "CENTRE DE FORMATION D'APPRENTIS"));
    let unknown: Vec<_> = etablissements
        .iter()
        .filter(|r| r["uai"] == "0754475G")
        .collect();
    assert!(unknown
        .iter()
        .all(|r| r["nature_uai_libelle"].is_empty() && r["etat_etablissement"].is_empty()));

    // Coverage: 0133396W (FERME in the 2026 layout, A FERMER in 2023) and
    // 0930120A (ACCE etat 3) are closed; everything else keeps its status.
    let with = statuses(&out.join("coverage/affelnet/coverage_offers.csv"));
    let baseline = statuses(&repo().join("coverage/baseline/affelnet2nde/coverage_offers.csv"));
    for (w, b) in with.iter().zip(&baseline) {
        if w.0 == "0133396W" || w.0 == "0930120A" {
            assert_eq!(w.2, "closed_establishment", "{w:?}");
        } else {
            assert_eq!(w, b);
        }
    }
    let summary = read_json(&out.join("coverage/affelnet/coverage_summary.json"));
    assert_eq!(summary["by_status"]["closed_establishment"], 2);
}

#[test]
fn explain_on_two_runs_differing_by_a_missing_n_mef_prints_a_few_groups() {
    let bcn = bcn_copy(|d| std::fs::remove_file(d.join("N_MEF.csv")).unwrap());
    let run = |bcn: &Path| {
        let dir = pipeline(&format!(
            "stages = ['bcn', 'continuum', 'indicators', 'coverage']\n[inputs]\n{}\
             [[inputs.catalogues]]\nname = 'affelnet'\npath = 'fixtures/catalogues/affelnet2nde.csv'\n",
            SAMPLE_INPUTS.replace("'fixtures/bcn'", &format!("'{}'", bcn.display()))
        ));
        ij_ok(&["run", s(&dir.path().join("p.toml")), "--quiet"]);
        dir
    };
    let (full, without) = (run(&fixtures("bcn")), run(bcn.path()));
    let summary =
        |d: &tempfile::TempDir| d.path().join("out/coverage/affelnet/coverage_summary.json");
    let o = ij(&[
        "coverage",
        "check",
        "--baseline",
        s(&summary(&full)),
        "--current",
        s(&summary(&without)),
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(1), "coverage fell: a regression");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let groups: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).collect();
    // Every covered offer became unknown_code: one group per old `via`.
    let changed = read_csv(
        &full
            .path()
            .join("out/coverage/affelnet/coverage_offers.csv"),
    )
    .iter()
    .filter(|r| r["status"] == "covered")
    .count();
    assert!(
        stdout.contains(&format!("{changed} offers changed status")),
        "{stdout}"
    );
    assert!(groups.len() <= 5, "{stdout}");
    assert!(
        groups.iter().all(|g| g.contains("→ unknown_code: ")),
        "{stdout}"
    );
    assert!(groups[0].contains(", e.g. line "), "{stdout}");
}
