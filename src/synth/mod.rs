//! `ij synth`: deterministic synthetic inputs in the real layouts, N times
//! the real files' row counts, with a pipeline file that runs them — to
//! measure how `ij` scales before the real data grows (issue 13).
//!
//! Everything is drawn from one seeded [`prng::Rng`]: the same scale and
//! seed give the same bytes. The folder is written beside its destination
//! and renamed into place, like every other `ij` output.

mod bcn;
mod catalogues;
mod inserjeunes;
pub mod prng;
mod universe;
mod writer;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use prng::Rng;
use universe::Universe;
use writer::write_err;

/// The file that marks a folder as written by `ij synth` (and may be replaced).
pub const PIPELINE_FILE: &str = "pipeline.toml";

#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Row counts relative to the real files' (1.0 = the same size).
    pub scale: f64,
    pub seed: u64,
    pub out: PathBuf,
}

/// What was written, for the command's report.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    pub formations: usize,
    pub mefs: usize,
    pub etablissements: usize,
    pub regional_rows: u64,
    pub affelnet_offers: u64,
    pub pipeline: PathBuf,
}

pub fn generate(opts: &SynthOptions) -> Result<SynthSummary> {
    if !(opts.scale.is_finite() && opts.scale > 0.0 && opts.scale <= 1000.0) {
        return Err(Error::usage(format!(
            "--scale {}: expected a number above 0 and at most 1000 (1 = the real files' size)",
            opts.scale
        )));
    }
    let out = &opts.out;
    if out.exists()
        && !out.join(PIPELINE_FILE).is_file()
        && fs::read_dir(out)
            .map_err(|e| read_err(out, e))?
            .next()
            .is_some()
    {
        return Err(Error::usage(format!(
            "{}: exists, is not empty and was not written by ij synth (no {PIPELINE_FILE}); choose another --out",
            out.display()
        )));
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| write_err(parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "synth".into());
    let tmp = parent.join(format!(".{name}.synth-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = write_all(opts, &tmp);
    match result {
        Ok(summary) => {
            if out.exists() {
                fs::remove_dir_all(out).map_err(|e| write_err(out, e))?;
            }
            fs::rename(&tmp, out).map_err(|e| write_err(out, e))?;
            Ok(SynthSummary {
                pipeline: out.join(PIPELINE_FILE),
                ..summary
            })
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn read_err(path: &Path, source: std::io::Error) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write_all(opts: &SynthOptions, dir: &Path) -> Result<SynthSummary> {
    let root = Rng::new(opts.seed);
    let u = Universe::build(opts.scale, &root);
    let sub = |p: &str| -> Result<PathBuf> {
        let d = dir.join(p);
        fs::create_dir_all(&d).map_err(|e| write_err(&d, e))?;
        Ok(d)
    };
    bcn::write(&u, &sub("bcn")?)?;
    let ij = sub("inserjeunes")?;
    let regional_rows = inserjeunes::write_regional(
        &u,
        &mut root.fork("regional"),
        &ij.join("ij_region_data.csv"),
    )?;
    inserjeunes::write_cfa(
        &u,
        &mut root.fork("cfa"),
        &ij.join("fr-en-inserjeunes-cfa.csv"),
    )?;
    inserjeunes::write_depp(
        &u,
        &mut root.fork("depp"),
        &sub("inserjeunes/depp_valeur_ajoutee")?,
    )?;
    inserjeunes::write_insersup(&u, &mut root.fork("insersup"), &sub("insersup")?)?;
    let cat = sub("catalogues")?;
    let affelnet_offers = catalogues::write_affelnet(
        &u,
        &mut root.fork("affelnet"),
        &cat.join("affelnet2nde.csv"),
    )?;
    catalogues::write_psup(
        &u,
        &mut root.fork("psup"),
        &cat.join("listeFormationApprentissagePsup.csv"),
    )?;
    let pipeline = dir.join(PIPELINE_FILE);
    fs::write(&pipeline, pipeline_toml(opts)).map_err(|e| write_err(&pipeline, e))?;
    Ok(SynthSummary {
        formations: u.formations.len(),
        mefs: u.mefs.len(),
        etablissements: u.etablissements.len(),
        regional_rows,
        affelnet_offers,
        pipeline,
    })
}

/// The pipeline file: the stages of `pipelines/real.toml` on the synthetic
/// files, paths relative to the folder, outputs under `out/` in it.
fn pipeline_toml(opts: &SynthOptions) -> String {
    format!(
        r#"# Written by `ij synth --scale {scale} --seed {seed}`: synthetic inputs in the
# real layouts, {scale} times the real files' row counts. Run: ij run {PIPELINE_FILE}
name = "synth"
description = "Synthetic inputs, scale {scale}, seed {seed}"

root = "."
out = "out"

stages = ["bcn", "continuum", "indicators", "coverage", "release"]

[inputs]
bcn = "bcn"
inserjeunes_regional = "inserjeunes/ij_region_data.csv"
inserjeunes_etablissements = ["inserjeunes/fr-en-inserjeunes-cfa.csv", "inserjeunes/depp_valeur_ajoutee"]
insersup = "insersup"

[[inputs.catalogues]]
name = "affelnet2nde"
path = "catalogues/affelnet2nde.csv"
format = "affelnet-2nde"

[[inputs.catalogues]]
name = "psup_apprentissage"
path = "catalogues/listeFormationApprentissagePsup.csv"
format = "psup-apprentissage"

[settings]
csv_separator = ","
seuil = 20
continuum_policy = "strict"
"#,
        scale = opts.scale,
        seed = opts.seed
    )
}
