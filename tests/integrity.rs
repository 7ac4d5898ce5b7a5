//! Issue 10: nothing silently wrong, nothing half-done. Runs killed at every
//! rename, two runs into one folder, stage folders from two runs, and the
//! release's independence from where the run was started.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ij, ij_err, ij_ok, read_json, repo, s, snapshot};

/// The sample pipeline with absolute paths, a fixed release version and
/// `seuil`: two seuils give two runs whose indicators and coverage differ.
fn sample_pipeline(dir: &Path, name: &str, seuil: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("pipelines/default.toml")).unwrap();
    let text = text
        .replace("root = \"..\"", &format!("root = \"{}\"", s(&repo())))
        .replace(
            "seuil = 20",
            &format!("seuil = {seuil}\nrelease_version = \"v1\""),
        );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

type Files = Vec<(PathBuf, Vec<u8>)>;

/// Each stage folder and the release `v1`, as files and bytes.
fn folders(out: &Path) -> BTreeMap<&'static str, Option<Files>> {
    ["bcn", "continuum", "indicators", "coverage", "release/v1"]
        .into_iter()
        .map(|f| {
            let dir = out.join(f);
            (f, dir.is_dir().then(|| snapshot(&dir)))
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .args(["-a", s(from), s(to)])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Every entry under `dir` whose name starts with `.ij-tmp-` or `.ij-old-`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(".ij-tmp-") || name.starts_with(".ij-old-") {
                found.push(p.clone());
            }
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    found
}

#[test]
fn a_kill_at_any_rename_leaves_every_folder_wholly_old_or_wholly_new() {
    let tmp = tempfile::tempdir().unwrap();
    let old_pipeline = sample_pipeline(tmp.path(), "old.toml", 20);
    let new_pipeline = sample_pipeline(tmp.path(), "new.toml", 10);
    let old_out = tmp.path().join("old");
    let new_out = tmp.path().join("new");
    ij_ok(&["run", s(&old_pipeline), "--out", s(&old_out), "--quiet"]);
    ij_ok(&["run", s(&new_pipeline), "--out", s(&new_out), "--quiet"]);
    let old = folders(&old_out);
    let new = folders(&new_out);
    assert_ne!(old["indicators"], new["indicators"], "the two runs differ");
    assert_ne!(old["release/v1"], new["release/v1"]);

    // With the atomic exchange (the default on Linux), then with the
    // two-rename fallback.
    for exchange in ["1", "0"] {
        let mut refused = 0;
        let mut kill_points = 0;
        for n in 1.. {
            let out = tmp.path().join(format!("kill-{exchange}-{n}"));
            copy_tree(&old_out, &out);
            let run = Command::new(env!("CARGO_BIN_EXE_ij"))
                .args(["run", s(&new_pipeline), "--out", s(&out), "--quiet"])
                .env("IJ_FAIL_AT", n.to_string())
                .env("IJ_RENAME_EXCHANGE", exchange)
                .current_dir(repo())
                .output()
                .unwrap();
            if run.status.success() {
                assert_eq!(folders(&out), new, "a run not stopped is wholly new");
                assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
                break;
            }
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(97), "{stderr}");
            kill_points += 1;
            let mut aside_seen = false;
            for (folder, files) in folders(&out) {
                let wholly_old = files == old[folder];
                let wholly_new = files == new[folder];
                // Only the fallback can leave a folder aside, never half of it.
                let aside = files.is_none()
                    && exchange == "0"
                    && leftovers(&out).iter().any(|p| {
                        p.file_name()
                            .unwrap()
                            .to_string_lossy()
                            .starts_with(&format!(
                                ".ij-old-{}-",
                                Path::new(folder).file_name().unwrap().to_string_lossy()
                            ))
                            && Some(snapshot(p)) == old[folder]
                    });
                aside_seen |= aside;
                assert!(
                    wholly_old || wholly_new || aside,
                    "kill before rename {n} (exchange {exchange}): {folder} is neither wholly old nor wholly new"
                );
                if exchange == "1" {
                    assert!(files.is_some(), "{folder} disappeared at rename {n}");
                }
            }
            // A release from this folder never mixes two runs: either the
            // stages match run.json, or it is refused.
            let release = ij(&[
                "release",
                "--run",
                s(&out),
                "--out",
                s(&tmp.path().join(format!("rel-{exchange}-{n}"))),
                "--quiet",
            ]);
            if !release.status.success() {
                let e = String::from_utf8_lossy(&release.stderr);
                assert!(
                    e.contains("does not belong to the run recorded in run.json"),
                    "{e}"
                );
                refused += 1;
            }
            // The next run puts things right and leaves no temporary folder.
            if n % 4 == 0 || aside_seen {
                ij_ok(&["run", s(&new_pipeline), "--out", s(&out), "--quiet"]);
                assert_eq!(folders(&out), new);
                assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
            }
            std::fs::remove_dir_all(&out).unwrap();
        }
        assert!(kill_points >= 10, "{kill_points} renames in a sample run");
        assert!(
            refused > 0,
            "some kill points leave a stage newer than run.json"
        );
    }
}

#[test]
fn a_second_run_into_the_same_out_stops_at_once_saying_why() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path()).unwrap();
    // Another run holds the lock (here, this test).
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.path().join(".ij-lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let started = std::time::Instant::now();
    let e = ij_err(&["run", "--out", s(out.path()), "--quiet"], 2);
    assert!(started.elapsed().as_secs() < 20, "it did not wait");
    assert!(
        e.contains("another ij run is writing into this folder (it holds .ij-lock)"),
        "{e}"
    );
    assert!(!out.path().join("bcn").exists(), "nothing was written");
    drop(lock);
    ij_ok(&["run", "--out", s(out.path()), "--quiet"]);
}

#[test]
fn the_temporary_folders_of_dead_runs_are_removed_by_the_next_run() {
    let out = tempfile::tempdir().unwrap();
    // pid 4194304 is above Linux's largest pid: a dead process.
    for dead in [".ij-tmp-bcn-4194304", "release/.ij-tmp-release-4194304"] {
        let d = out.path().join(dead);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("big.csv"), "x".repeat(1000)).unwrap();
    }
    ij_ok(&["run", "--out", s(out.path()), "--quiet"]);
    assert!(
        leftovers(out.path()).is_empty(),
        "{:?}",
        leftovers(out.path())
    );
}

#[test]
fn a_release_refuses_stage_folders_of_two_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ij_ok(&["run", "--out", s(&out), "--quiet"]);
    // The indicators stage run again alone, with another seuil.
    ij_ok(&[
        "indicators",
        "--bcn-out",
        s(&out.join("bcn")),
        "--continuum-out",
        s(&out.join("continuum")),
        "--regional",
        "fixtures/inserjeunes/ij_region_data.csv",
        "--seuil",
        "5",
        "--out",
        s(&out.join("indicators")),
        "--quiet",
    ]);
    let e = ij_err(
        &[
            "release",
            "--run",
            s(&out),
            "--out",
            s(&tmp.path().join("rel")),
        ],
        1,
    );
    assert!(
        e.contains("does not belong to the run recorded in run.json"),
        "{e}"
    );
    assert!(e.contains("indicators"), "{e}");
    assert!(!tmp.path().join("rel").join("v1").exists());
}

#[test]
fn a_folder_ij_did_not_write_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let e = ij_err(
        &["bcn", "--bcn", "fixtures/bcn", "--out", s(&mine), "--quiet"],
        1,
    );
    assert!(e.contains("1 entry ij did not write (notes.txt)"), "{e}");
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn settings_and_paths_are_checked_before_any_stage_rewrites_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = sample_pipeline(tmp.path(), "good.toml", 20);
    ij_ok(&["run", s(&good), "--out", s(&out), "--quiet"]);
    let before = snapshot(&out);
    let text = std::fs::read_to_string(&good).unwrap();
    for (name, broken, expected) in [
        (
            "version.toml",
            text.replace("release_version = \"v1\"", "release_version = \"../v1\""),
            "--version \"../v1\"",
        ),
        (
            "catalogue.toml",
            text.replace(
                "fixtures/catalogues/generic.csv",
                "fixtures/catalogues/nope.csv",
            ),
            "inputs.catalogues generique",
        ),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, broken).unwrap();
        let e = ij_err(&["run", s(&path), "--out", s(&out), "--quiet"], 2);
        assert!(e.contains(expected), "{e}");
        assert_eq!(snapshot(&out), before, "{name}: no stage ran");
    }
}

#[test]
fn an_out_inside_an_input_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bcn = tmp.path().join("bcn");
    crate::common::copy_dir(&repo().join("fixtures/bcn"), &bcn);
    let text = "name = 't'\nout = 'bcn/out'\nstages = ['bcn']\n[inputs]\nbcn = 'bcn'\n";
    let path = tmp.path().join("p.toml");
    std::fs::write(&path, text).unwrap();
    let e = ij_err(&["run", s(&path), "--quiet"], 2);
    assert!(
        e.contains("overlap: a run would read its own outputs"),
        "{e}"
    );
    assert!(!bcn.join("out").exists());
}

#[test]
fn previous_must_be_a_release() {
    let tmp = tempfile::tempdir().unwrap();
    let out = crate::common::run_sample();
    let e = ij_err(
        &[
            "release",
            "--run",
            s(out.path()),
            "--out",
            s(&tmp.path().join("rel")),
            "--previous",
            "fixtures/bcn",
        ],
        2,
    );
    assert!(
        e.contains("--previous fixtures/bcn: not a release folder"),
        "{e}"
    );
}

#[test]
fn the_release_names_inputs_by_file_name_and_sha256_wherever_the_run_started() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = sample_pipeline(tmp.path(), "p.toml", 20);
    let from_repo = tmp.path().join("a");
    ij_ok(&["run", s(&pipeline), "--out", s(&from_repo), "--quiet"]);
    // The same run, started from another folder.
    let elsewhere = tmp.path().join("b");
    let run = Command::new(env!("CARGO_BIN_EXE_ij"))
        .args(["run", s(&pipeline), "--out", s(&elsewhere), "--quiet"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let a = snapshot(&from_repo.join("release/v1"));
    let b = snapshot(&elsewhere.join("release/v1"));
    assert_eq!(a, b, "the release does not depend on where the run started");
    let manifest = read_json(&from_repo.join("release/v1/manifest.json"));
    let first = &manifest["inputs"][0];
    assert_eq!(first["file"], "N_FORMATION_DIPLOME.csv");
    assert!(first.get("path").is_none());
    let expected = {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(repo().join("fixtures/bcn/N_FORMATION_DIPLOME.csv")).unwrap();
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(first["sha256"], expected.as_str());
    assert_eq!(manifest["pipeline"]["file"], "p.toml");
    let readme = std::fs::read_to_string(from_repo.join("release/v1/README.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "- `N_FORMATION_DIPLOME.csv` (20 lignes, SHA-256 `{expected}`)"
        )),
        "{readme}"
    );
    assert!(!readme.contains("fixtures/"), "no local path in the README");
}

// ---- Values: rejects with their reason ----------------------------------------

const REGIONAL_HEADER: &str = "id;millesime;code_region_ij;code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes";

/// Runs the indicators stage on the sample's BCN and continuum with one
/// regional file; returns the output folder.
fn indicators_on(dir: &Path, regional: &str, etablissements: Option<&str>) -> PathBuf {
    let sample = dir.join("sample");
    if !sample.is_dir() {
        ij_ok(&["run", "--out", s(&sample), "--quiet"]);
    }
    let file = dir.join("regional.csv");
    std::fs::write(&file, regional).unwrap();
    let out = dir.join("ind");
    let mut args = vec![
        "indicators".to_string(),
        "--bcn-out".into(),
        s(&sample.join("bcn")).into(),
        "--continuum-out".into(),
        s(&sample.join("continuum")).into(),
        "--regional".into(),
        s(&file).into(),
        "--out".into(),
        s(&out).into(),
        "--quiet".into(),
    ];
    if let Some(text) = etablissements {
        let cfa = dir.join("cfa.csv");
        std::fs::write(&cfa, text).unwrap();
        args.extend(["--etablissements".into(), s(&cfa).to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ij_ok(&args);
    out
}

/// The rejects of the indicators stage: (line, reason).
fn rejects(out: &Path) -> Vec<(String, String)> {
    crate::common::read_csv(&out.join("indicators_rejects.csv"))
        .into_iter()
        .map(|r| (r["line"].clone(), r["reason"].clone()))
        .collect()
}

#[test]
fn values_that_should_be_rejected_are_rejected_with_their_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let row =
        |id: u32, millesime: &str, ij: &str, insee: &str, cfd: &str, mef: &str, counts: &str| {
            format!("{id};{millesime};{ij};{insee};scolaire;{cfd};{mef};{counts}")
        };
    let good = "40;10;11;12;13;14;20;20;;;;;";
    let (mef, huge, above) = (
        "23830025510",
        "5000000000000000000;;;;;;;;;;;",
        "40;10;11;12;13;25;20;;;;;",
    );
    let lines = [
        REGIONAL_HEADER.to_string(),
        // 2-3: two régions at 5e18 would sum to a negative national count.
        row(1, "2021_2022", "10", "11", "", mef, huge),
        row(2, "2021_2022", "01", "84", "", mef, huge),
        // 4: a MEF_STAT_11 of letters.
        row(3, "2021_2022", "10", "11", "", "ABCDEFGHIJK", good),
        // 5: a MEF_STAT_11 that does not match its CFD.
        row(4, "2021_2022", "10", "11", "40025513", mef, good),
        // 6: more continuing and leaving than in final year.
        row(5, "2021_2022", "10", "11", "", mef, above),
        // 7-9: millésimes that are not one year or two consecutive ones.
        row(6, "2021_2023", "10", "11", "", mef, good),
        row(7, "2022_2022", "10", "11", "", mef, good),
        row(8, "2020_2021_2022", "10", "11", "", mef, good),
    ];
    let cfa = "Année;UAI;Libellé;Région;DEVENIR Part poursuite études;DEVENIR Part en emploi 6 mois;DEVENIR Part autre situation 6 mois;Part contrats apprentissage interrompus;Taux poursuite études;Taux emploi 6 mois;Taux emploi 6 mois attendu;VA emploi 6 mois;Taux emploi 12 mois;Taux emploi 18 mois;Taux emploi 24 mois;num_ligne\n\
cumul 2023-2024;0690122H;CFA des métiers de l'automobile, Lyon;AUVERGNE-RHONE-ALPES;90.0;90.0;90.0;;31.0;72.0;70.0;2.0;78.0;;;1.0\n";
    let out = indicators_on(tmp.path(), &(lines.join("\n") + "\n"), Some(cfa));
    let found = rejects(&out);
    let expect = |line: &str, reason: &str| {
        assert!(
            found
                .iter()
                .any(|(l, r)| l == line && r.starts_with(reason)),
            "line {line}: no reject starting {reason:?} in {found:?}"
        );
    };
    expect("2", "count_too_large: nb_annee_term is 5000000000000000000");
    expect("3", "count_too_large");
    expect(
        "4",
        "invalid_code: mefstat11: \"ABCDEFGHIJK\" is not a MEF_STAT_11",
    );
    expect(
        "5",
        "mef_cfd_mismatch: MEF_STAT_11 \"23830025510\" does not belong to CFD \"40025513\"",
    );
    expect("6", "poursuite_plus_sortants_above_annee_term: nb_poursuite_etudes + nb_sortant (45) is above nb_annee_term (40)");
    expect("7", "unknown_millesime: \"2021_2023\"");
    expect("8", "unknown_millesime: \"2022_2022\"");
    expect("9", "unknown_millesime: \"2020_2021_2022\"");
    expect(
        "2",
        "devenir_not_100: the devenir shares (emploi + poursuite + autres) sum to 270",
    );
    // Nothing of them reached a table: no negative count, no rewritten millésime.
    for table in ["certifications", "regionales"] {
        for r in crate::common::read_csv(&out.join(format!("{table}.csv"))) {
            assert!(!r["nb_annee_term"].starts_with('-'), "{table}: {r:?}");
            assert!(!["2022", "2020_2022", "2021_2023"].contains(&r["millesime"].as_str()));
        }
    }
    assert!(crate::common::read_csv(&out.join("etablissements.csv")).is_empty());
}

// ---- Reading ------------------------------------------------------------------

/// `ij bcn` on the sample's BCN folder with one file replaced by `bytes`.
fn bcn_with(dir: &Path, file: &str, bytes: &[u8]) -> std::process::Output {
    let bcn = dir.join("bcn");
    crate::common::copy_dir(&repo().join("fixtures/bcn"), &bcn);
    std::fs::write(bcn.join(file), bytes).unwrap();
    ij(&[
        "bcn",
        "--bcn",
        s(&bcn),
        "--out",
        s(&dir.join("out")),
        "--quiet",
    ])
}

fn fails_with(out: &std::process::Output, expected: &str) {
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(e.contains(expected), "{expected:?} not in: {e}");
}

/// `text` with each U+0001 replaced by `É` in Windows-1252 (byte 0xC9).
fn windows_1252_e(text: &str) -> Vec<u8> {
    text.bytes()
        .map(|b| if b == 1 { 0xC9 } else { b })
        .collect()
}

/// A row of N_DIPLOME_SISE.csv (`|`-separated) with its code and label.
fn sise_row(code: &str, libelle: &str) -> String {
    format!("{code}|40||DEG|{libelle}||310|M|39|413|||01/09/2014||12/05/2023|O\n")
}

/// The sample's N_DIPLOME_SISE.csv (ASCII, `|`), with `f` applied to its text.
fn sise_file(f: impl Fn(&str) -> String) -> Vec<u8> {
    let text = std::fs::read_to_string(repo().join("fixtures/bcn/N_DIPLOME_SISE.csv")).unwrap();
    f(&text).into_bytes()
}

#[test]
fn reading_is_never_silently_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let case = |name: &str| {
        let d = tmp.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let original = std::fs::read(repo().join("fixtures/bcn/N_DIPLOME_SISE.csv")).unwrap();
    let header_end = original.iter().position(|&b| b == b'\n').unwrap() + 1;

    // One invalid byte in an otherwise UTF-8 file (its labels hold accents).
    let mut bytes = sise_file(|t| format!("{t}{}", sise_row("2600001", "SANTÉ")));
    bytes.extend_from_slice(&windows_1252_e(&sise_row("2600002", "\u{1}COLE")));
    let out = bcn_with(&case("byte"), "N_DIPLOME_SISE.csv", &bytes);
    fails_with(&out, "is not UTF-8, in a file otherwise UTF-8");

    // A NUL byte after a BOM.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(&original[..header_end]);
    bytes.extend_from_slice(b"26\x0000001|40||DEG|Y||310|M|39|413|||01/09/2014||12/05/2023|O\n");
    fails_with(
        &bcn_with(&case("nul"), "N_DIPLOME_SISE.csv", &bytes),
        "N_DIPLOME_SISE.csv:2: NUL byte at column 3",
    );

    // A BOM in the middle of the file.
    let bytes = sise_file(|t| format!("{t}\u{feff}{}", sise_row("2600002", "Y")));
    let out = bcn_with(&case("bom"), "N_DIPLOME_SISE.csv", &bytes);
    fails_with(&out, "byte-order mark (U+FEFF)");

    // A duplicated column name.
    let bytes = sise_file(|t| {
        let (head, rest) = t.split_once('\n').unwrap();
        let head = head.trim_end_matches('\r');
        let rest: String = rest.lines().map(|l| format!("{l}|\n")).collect();
        format!("{head}|DIPLOME_SISE\n{rest}")
    });
    fails_with(
        &bcn_with(&case("dup"), "N_DIPLOME_SISE.csv", &bytes),
        "is also column 1",
    );

    // A CRLF file: the error names the line an editor shows.
    let bytes = sise_file(|t| {
        let mut t = t.replace('\n', "\r\n");
        t.push_str("TOO_SHORT\r\n");
        t
    });
    let lines = String::from_utf8_lossy(&bytes).matches('\n').count();
    fails_with(
        &bcn_with(&case("crlf"), "N_DIPLOME_SISE.csv", &bytes),
        &format!("N_DIPLOME_SISE.csv:{lines}:2"),
    );

    // Control characters in bad input are escaped in the message. (A bad
    // code in a row is now a reject, issue 9: a duplicated column name with
    // an escape sequence is still an error that names it.)
    let bytes = sise_file(|t| {
        let mut lines = t.lines();
        let header = lines.next().unwrap();
        let mut out = format!("{header}|X\u{1b}[2J|X\u{1b}[2J\n");
        for l in lines {
            out.push_str(&format!("{l}||\n"));
        }
        out
    });
    let out = bcn_with(&case("ctl"), "N_DIPLOME_SISE.csv", &bytes);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !e.contains('\u{1b}'),
        "raw escape sent to the terminal: {e:?}"
    );
    assert!(e.contains("\\u{1b}[2J"), "{e}");
}

/// `ij bcn` with `row` added to N_DIPLOME_SISE.csv; the referential's row `code`.
fn referentiel_row_with(dir: &Path, row: &str, code: &str) -> HashMap<String, String> {
    let bytes = sise_file(|t| format!("{t}{row}"));
    let out = bcn_with(dir, "N_DIPLOME_SISE.csv", &bytes);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    crate::common::read_csv(&dir.join("out/formations_referentiel.csv"))
        .into_iter()
        .find(|r| r["code_certification"] == code)
        .expect("the row is read")
}

#[test]
fn quoting_is_per_field_so_a_stray_quote_stays_text() {
    let tmp = tempfile::tempdir().unwrap();
    // One properly quoted field, and a label that starts with a quote.
    let row = referentiel_row_with(
        tmp.path(),
        &sise_row("\"2600003\"", "\"Diplome d'etat\" en 4 ans"),
        "2600003",
    );
    assert_eq!(row["libelle"], "\"Diplome d'etat\" en 4 ans");
}

#[test]
fn a_declared_encoding_decodes_a_file_as_told() {
    let tmp = tempfile::tempdir().unwrap();
    let bcn = tmp.path().join("bcn");
    crate::common::copy_dir(&repo().join("fixtures/bcn"), &bcn);
    // UTF-8 accents and one Windows-1252 byte: an error unless declared.
    let mut bytes = sise_file(|t| format!("{t}{}", sise_row("2600004", "SANTÉ")));
    bytes.extend_from_slice(&windows_1252_e(&sise_row("2600005", "\u{1}COLE")));
    std::fs::write(bcn.join("N_DIPLOME_SISE.csv"), &bytes).unwrap();
    let pipeline = |declared: &str| {
        let p = tmp.path().join("p.toml");
        std::fs::write(
            &p,
            format!("name = 't'\nout = 'out'\nstages = ['bcn']\n[inputs]\nbcn = 'bcn'\n{declared}"),
        )
        .unwrap();
        p
    };
    let e = ij_err(&["run", s(&pipeline("")), "--quiet"], 1);
    assert!(
        e.contains("declare the file's encoding under [inputs.encodings]"),
        "{e}"
    );
    let p = pipeline("[inputs.encodings]\n'bcn/N_DIPLOME_SISE.csv' = 'windows-1252'\n");
    ij_ok(&["run", s(&p), "--quiet"]);
    let rows = crate::common::read_csv(&tmp.path().join("out/bcn/formations_referentiel.csv"));
    let libelle = |code: &str| {
        rows.iter()
            .find(|r| r["code_certification"] == code)
            .unwrap()["libelle"]
            .clone()
    };
    assert_eq!(libelle("2600005"), "ÉCOLE", "decoded as declared");
}

// ---- Outputs: cells a spreadsheet would run -----------------------------------

#[test]
fn a_formula_in_a_label_is_neutralised_in_csv_only_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let formula = "=HYPERLINK(\"http://x.example\",\"clic\")";
    let quoted = format!("\"{}\"", formula.replace('"', "\"\""));
    let row = referentiel_row_with(tmp.path(), &sise_row("2600006", &quoted), "2600006");
    assert_eq!(row["libelle"], format!("'{formula}"), "CSV: shown as text");
    let df = polars::prelude::ParquetReader::new(
        std::fs::File::open(tmp.path().join("out/formations_referentiel.parquet")).unwrap(),
    );
    use polars::prelude::SerReader;
    let df = df.finish().unwrap();
    let libelles: Vec<Option<&str>> = df
        .column("libelle")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert!(
        libelles.contains(&Some(formula)),
        "Parquet: the value as it was"
    );
    // The run says so.
    let report = ij_ok(&[
        "bcn",
        "--bcn",
        s(&tmp.path().join("bcn")),
        "--out",
        s(&tmp.path().join("out2")),
    ]);
    assert!(
        report
            .contains("formations_referentiel: 2 text cell(s) starting like a spreadsheet formula"),
        "{report}"
    );
}

// ---- Publishing ------------------------------------------------------------------

#[test]
fn publish_checks_every_file_against_the_manifest_even_in_a_dry_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ij_ok(&["run", "--out", s(&run), "--quiet"]);
    let release = std::fs::read_dir(run.join("release"))
        .unwrap()
        .find_map(|e| {
            let p = e.unwrap().path();
            p.is_dir().then_some(p)
        })
        .unwrap();
    for (name, change) in [
        ("certifications.parquet", "truncated"),
        ("certifications.schema.json", "replaced"),
    ] {
        let copy = tmp.path().join(format!("copy-{change}"));
        copy_tree(&release, &copy);
        let path = copy.join(name);
        let bytes = std::fs::read(&path).unwrap();
        let changed = if change == "truncated" {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            b"{\"fields\": []}".to_vec()
        };
        std::fs::write(&path, changed).unwrap();
        let e = ij_err(&["publish", s(&copy), "--dataset", "x", "--offline"], 1);
        assert!(e.contains(&format!("{name} has SHA-256")), "{e}");
        assert!(e.contains("nothing was uploaded"), "{e}");
    }
    // The untouched release passes the same dry run.
    ij_ok(&["publish", s(&release), "--dataset", "x", "--offline"]);
}

#[test]
fn an_api_key_given_as_the_variable_name_is_refused_and_never_printed() {
    let key = "0f3a9c5e7b2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f";
    let out = ij(&[
        "publish",
        "fixtures/releases/new",
        "--dataset",
        "x",
        "--offline",
        "--api-key-env",
        key,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("takes the name of an environment variable"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(key) && !stdout.contains(key),
        "the key was printed"
    );
}

#[test]
fn a_server_that_never_answers_fails_after_the_timeout_not_300_seconds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let e = ij_err(
        &[
            "publish",
            "fixtures/releases/new",
            "--dataset",
            "x",
            "--base-url",
            &format!("http://127.0.0.1:{port}/api/1"),
            "--timeout",
            "1",
            "--retries",
            "0",
        ],
        1,
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    assert!(e.contains("nothing was uploaded"), "{e}");
}
