//! Every input of a pipeline checked before any stage runs (issue 9): an
//! empty input folder, a header-only source file or two catalogues with one
//! name used to pass, and the run ended with a release missing what the user
//! thought it held. Each problem is one line naming the input's key in the
//! pipeline file, its path and what to do.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

use super::{expand, normalize, Pipeline};
use crate::output::record::RUN_RECORD;

/// Files an `ij` run writes: a folder holding one is an output, not an input.
const OUTPUT_MARKERS: [&str; 4] = [
    RUN_RECORD,
    "bcn_summary.json",
    "formations_referentiel.csv",
    "manifest.json",
];

impl Pipeline {
    /// Checks the inputs: each exists, is not empty, is not an output folder
    /// (of this run or any `ij` run); catalogue names and files are unique.
    pub fn validate_inputs(&self) -> Result<()> {
        let file = self.path.display();
        let mut names: BTreeMap<&str, &Path> = BTreeMap::new();
        for c in &self.catalogues {
            if let Some(first) = names.insert(&c.name, &c.path) {
                return Err(Error::usage(format!(
                    "{file}: two catalogues are named \"{}\" ({} and {}): each writes OUT/coverage/<name>/, so the second would overwrite the first; give each its own name",
                    c.name,
                    first.display(),
                    c.path.display()
                )));
            }
        }
        let out = normalize(&self.out);
        let mut seen: BTreeMap<std::path::PathBuf, &str> = BTreeMap::new();
        for (key, path) in &self.declared {
            let path = normalize(path);
            let at = |m: String| Error::file(&path, format!("{m} ({key} in {file})"));
            // The stages rewrite OUT/<stage>/: an input there would be read and overwritten.
            if let Some(stage) = self
                .stages
                .iter()
                .find(|s| path.starts_with(out.join(s.name())))
            {
                return Err(at(format!(
                    "is inside {}, which the {} stage rewrites: point it at the raw extract",
                    out.join(stage.name()).display(),
                    stage.name()
                )));
            }
            if !path.exists() {
                return Err(at("no such file or folder".into()));
            }
            let files = if path.is_dir() {
                if let Some(marker) = OUTPUT_MARKERS.iter().find(|m| path.join(m).is_file()) {
                    return Err(at(format!(
                        "is an output folder of ij (it holds {marker}), not a raw extract"
                    )));
                }
                let files = if key == "inputs.bcn" {
                    std::fs::read_dir(&path)
                        .map_err(|source| Error::Read {
                            path: path.clone(),
                            source,
                        })?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file())
                        .collect()
                } else {
                    expand(&path)?
                };
                if files.is_empty() {
                    return Err(at(if key == "inputs.bcn" {
                        "empty folder: expected the BCN tables (N_FORMATION_DIPLOME.csv, N_MEF.csv, …)".to_string()
                    } else {
                        "holds no .csv or .json file".to_string()
                    }));
                }
                files
            } else {
                vec![path.clone()]
            };
            if key == "inputs.bcn" {
                continue;
            }
            for f in files {
                if let Some(other) = seen.insert(f.clone(), key) {
                    return Err(Error::file(
                        &f,
                        format!("is listed twice ({other} and {key} in {file}): its rows would be counted twice"),
                    ));
                }
                check_not_empty(&f)
                    .map_err(|m| Error::file(&f, format!("{m} ({key} in {file})")))?;
            }
        }
        Ok(())
    }
}

/// An input file must hold data: not empty, and (for a delimited file) not
/// a header alone. Read only as far as it takes to know: a real extract
/// answers in its first lines (read whole, ×100's inputs were gigabytes
/// read, and a file's size allocated, before the run began; issue 13).
fn check_not_empty(path: &Path) -> std::result::Result<(), String> {
    use std::io::Read as _;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    // A JSON file needs one byte that is not blank; a delimited file two
    // lines with one each (a header and a row).
    let wanted = if json { 1 } else { 2 };
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut buffer = vec![0u8; 1 << 16];
    let (mut lines, mut line_has_data) = (0, false);
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read: {e}")),
        };
        for &b in &buffer[..n] {
            if b == b'\n' {
                lines += usize::from(line_has_data);
                line_has_data = false;
            } else if !b.is_ascii_whitespace() {
                line_has_data = true;
            }
            if lines + usize::from(line_has_data) >= wanted {
                return Ok(());
            }
        }
    }
    match lines + usize::from(line_has_data) {
        0 => Err("empty file: the extract may have failed".into()),
        _ => Err("has a header and no row: the extract may have failed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the pipeline file and the files it names into a fresh folder.
    fn pipeline(toml: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Result<()>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            if name.ends_with('/') {
                std::fs::create_dir_all(&p).unwrap();
            } else {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, text).unwrap();
            }
        }
        let path = dir.path().join("p.toml");
        std::fs::write(&path, toml).unwrap();
        let r = Pipeline::load(&path).and_then(|p| p.validate_inputs());
        (dir, r)
    }

    const HEAD: &str =
        "name='t'\nout='out'\nstages=['bcn','continuum','indicators']\n[inputs]\nbcn='bcn'\n";
    const BCN: (&str, &str) = (
        "bcn/N_FORMATION_DIPLOME.csv",
        "FORMATION_DIPLOME\n40025214\n",
    );

    #[test]
    fn good_inputs_pass() {
        let (_d, r) = pipeline(
            &format!("{HEAD}inserjeunes_regional='ij.csv'\n"),
            &[BCN, ("ij.csv", "a;b\n1;2\n")],
        );
        r.unwrap();
    }

    #[test]
    fn an_empty_input_folder_is_an_error() {
        let (_d, r) = pipeline(
            &format!("{HEAD}inserjeunes_regional='ij.csv'\ninserjeunes_etablissements='depp'\n"),
            &[BCN, ("ij.csv", "a;b\n1;2\n"), ("depp/README.md", "x")],
        );
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("depp: holds no .csv or .json file (inputs.inserjeunes_etablissements"),
            "{e}"
        );
        let (_d, r) = pipeline(
            &format!("{HEAD}insersup='s.csv'\n"),
            &[("bcn/", ""), ("s.csv", "a\n1\n")],
        );
        assert!(r.unwrap_err().to_string().contains("bcn: empty folder"));
    }

    #[test]
    fn a_header_only_or_empty_source_is_an_error() {
        let (_d, r) = pipeline(
            &format!("{HEAD}inserjeunes_regional='ij.csv'\n"),
            &[BCN, ("ij.csv", "a;b\n")],
        );
        let e = r.unwrap_err().to_string();
        assert!(e.contains("ij.csv: has a header and no row"), "{e}");
        let (_d, r) = pipeline(
            &format!("{HEAD}inserjeunes_regional='ij.csv'\n"),
            &[BCN, ("ij.csv", "\n")],
        );
        assert!(r.unwrap_err().to_string().contains("ij.csv: empty file"));
    }

    /// The check reads as far as it needs, in chunks: what decides may sit
    /// past the first one, and a last line needs no line end.
    #[test]
    fn a_source_is_read_as_far_as_its_second_line() {
        let dir = tempfile::tempdir().unwrap();
        let check = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            check_not_empty(&path)
        };
        let blanks = " \r\n\t".repeat(40_000);
        assert_eq!(check("a.csv", &format!("a;b\n{blanks}1;2")), Ok(()));
        assert_eq!(check("b.csv", "a;b\n1;2\n"), Ok(()));
        let e = check("c.csv", &format!("{blanks}a;b{blanks}")).unwrap_err();
        assert!(e.contains("header and no row"), "{e}");
        let e = check("d.csv", &blanks).unwrap_err();
        assert!(e.contains("empty file"), "{e}");
        assert_eq!(check("e.json", &format!("{blanks}{{}}")), Ok(()));
        let e = check("f.json", &blanks).unwrap_err();
        assert!(e.contains("empty file"), "{e}");
    }

    #[test]
    fn two_catalogues_with_one_name_are_an_error() {
        let toml = String::from(
            "name='t'\nout='out'\nstages=['bcn','continuum','indicators','coverage']\n[inputs]\nbcn='bcn'\ninsersup='s.csv'\n\
             [[inputs.catalogues]]\nname='affelnet'\npath='a.csv'\n[[inputs.catalogues]]\nname='affelnet'\npath='b.csv'\n"
        );
        let (_d, r) = pipeline(
            &toml,
            &[
                BCN,
                ("s.csv", "a\n1\n"),
                ("a.csv", "uai;code;filiere\nx;y;pro\n"),
                ("b.csv", "uai;code;filiere\nx;y;pro\n"),
            ],
        );
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(
            e.to_string()
                .contains("two catalogues are named \"affelnet\""),
            "{e}"
        );
    }

    #[test]
    fn an_output_folder_is_not_an_input() {
        let (_d, r) = pipeline(
            &format!("{HEAD}insersup='s.csv'\n").replace("bcn='bcn'", "bcn='out/bcn'"),
            &[
                ("out/bcn/formations_referentiel.csv", "x\n"),
                ("s.csv", "a\n1\n"),
            ],
        );
        assert!(r
            .unwrap_err()
            .to_string()
            .contains("which the bcn stage rewrites"));
        let (_d, r) = pipeline(
            &format!("{HEAD}insersup='s.csv'\n").replace("bcn='bcn'", "bcn='dist/bcn'"),
            &[("dist/bcn/bcn_summary.json", "{}"), ("s.csv", "a\n1\n")],
        );
        assert!(r
            .unwrap_err()
            .to_string()
            .contains("is an output folder of ij (it holds bcn_summary.json)"));
    }

    #[test]
    fn a_file_listed_twice_is_an_error() {
        let (_d, r) = pipeline(
            &format!("{HEAD}inserjeunes_regional=['ij.csv','ij.csv']\n"),
            &[BCN, ("ij.csv", "a;b\n1;2\n")],
        );
        assert!(r.unwrap_err().to_string().contains("is listed twice"));
    }
}
