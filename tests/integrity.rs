//! Issue 10: nothing silently wrong, nothing half-done. Runs killed at every
//! rename, two runs into one folder, stage folders from two runs, and the
//! release's independence from where the run was started.

use std::collections::BTreeMap;
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
