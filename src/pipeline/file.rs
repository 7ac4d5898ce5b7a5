//! The pipeline file as written (TOML), before its paths are resolved:
//! `[inputs]`, `[[inputs.catalogues]]`, `[settings]`, and what each turns
//! into for the stages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::expand;
use super::Stage;
use crate::error::{Error, Result};
use crate::rules::continuum::ContinuumPolicy;
use crate::stages::coverage::CatalogueInput;
use crate::stages::indicators::{IndicatorsOptions, SourceFiles, SourceKind};
use crate::staging::catalogues::{CatalogueColumns, CatalogueFormat};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_root")]
    pub root: PathBuf,
    pub out: PathBuf,
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub settings: Settings,
}

fn default_root() -> PathBuf {
    PathBuf::from(".")
}

/// Where the raw extracts are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// The folder of BCN tables.
    pub bcn: Option<PathBuf>,
    /// InserJeunes by région (layout of `ij_region_data.csv`).
    #[serde(default)]
    pub inserjeunes_regional: Paths,
    /// InserJeunes national by certification.
    #[serde(default)]
    pub inserjeunes_national: Paths,
    /// InserJeunes by establishment and formation ("formation fine").
    #[serde(default)]
    pub inserjeunes_formations: Paths,
    /// Establishment-wide InserJeunes figures (CFA open data, DEPP files).
    #[serde(default)]
    pub inserjeunes_etablissements: Paths,
    /// InserSup (higher education), CSV open data or API JSON.
    #[serde(default)]
    pub insersup: Paths,
    /// Platform catalogues whose coverage the `coverage` stage measures.
    #[serde(default)]
    pub catalogues: Vec<CatalogueEntry>,
    /// Establishment directories (annuaire de l'éducation, ACCE exports):
    /// UAI labels, nature, académie, région, open or closed (issue 9).
    #[serde(default)]
    pub annuaire: Paths,
    /// Files (or folders) whose encoding is declared rather than detected:
    /// `"path" = "windows-1252"` or `"utf-8"`.
    #[serde(default)]
    pub encodings: BTreeMap<PathBuf, String>,
}

/// `[[inputs.catalogues]]`: a catalogue, its name (the output folder) and,
/// optionally, its format (detected from its columns otherwise).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    pub name: String,
    pub path: PathBuf,
    pub format: Option<String>,
    /// The catalogue's own column names: `{ uai = "UAI", code = "MEFSTAT11", … }`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// What the values of its filière column mean: `{ ST = "pro", AP = "apprentissage" }`.
    #[serde(default)]
    pub filiere_values: BTreeMap<String, String>,
    /// The filière of offers whose filière is empty or not given.
    pub default_filiere: Option<String>,
}

/// One path or a list; a folder stands for the `.csv` and `.json` files in it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    #[default]
    None,
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl Paths {
    pub(super) fn list(&self) -> Vec<PathBuf> {
        match self {
            Paths::None => Vec::new(),
            Paths::One(p) => vec![p.clone()],
            Paths::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The CSV separator of outputs: "," (default) or ";".
    pub csv_separator: Option<String>,
    /// The diffusion threshold on `nb_annee_term` (default 20).
    pub seuil: Option<i64>,
    /// `strict` (default: one-to-one chains only) or `lineage`.
    pub continuum_policy: Option<String>,
    /// The date `formation_fermee` is judged at (YYYY-MM-DD); by default the
    /// 1st of September after the latest millésime.
    pub date_reference: Option<String>,
    /// The release's folder name; by default `<name>-<hash of its tables>`.
    pub release_version: Option<String>,
    /// A date written in the release (YYYY-MM-DD); none by default, so two
    /// runs give the same bytes.
    pub release_date: Option<String>,
}

impl Inputs {
    /// Every input as declared (its key, its resolved path), for `validate`.
    pub(super) fn declared(&self, resolve: &dyn Fn(&PathBuf) -> PathBuf) -> Vec<(String, PathBuf)> {
        let mut declared: Vec<(String, PathBuf)> = Vec::new();
        if let Some(b) = &self.bcn {
            declared.push(("inputs.bcn".into(), resolve(b)));
        }
        for (key, paths) in [
            ("inputs.inserjeunes_regional", &self.inserjeunes_regional),
            ("inputs.inserjeunes_national", &self.inserjeunes_national),
            (
                "inputs.inserjeunes_formations",
                &self.inserjeunes_formations,
            ),
            (
                "inputs.inserjeunes_etablissements",
                &self.inserjeunes_etablissements,
            ),
            ("inputs.insersup", &self.insersup),
            ("inputs.annuaire", &self.annuaire),
        ] {
            declared.extend(paths.list().iter().map(|p| (key.to_string(), resolve(p))));
        }
        for c in &self.catalogues {
            declared.push((format!("inputs.catalogues {}", c.name), resolve(&c.path)));
        }
        declared
    }

    /// The indicators stage's source files (folders expanded), and the
    /// source paths given as folders.
    pub(super) fn sources(
        &self,
        resolve: &dyn Fn(&PathBuf) -> PathBuf,
    ) -> Result<(SourceFiles, Vec<PathBuf>)> {
        let mut sources = SourceFiles::default();
        let mut input_folders = Vec::new();
        for (kind, paths) in [
            (SourceKind::InserjeunesRegional, &self.inserjeunes_regional),
            (SourceKind::InserjeunesNational, &self.inserjeunes_national),
            (
                SourceKind::InserjeunesFormations,
                &self.inserjeunes_formations,
            ),
            (
                SourceKind::InserjeunesEtablissements,
                &self.inserjeunes_etablissements,
            ),
            (SourceKind::Insersup, &self.insersup),
        ] {
            for p in paths.list() {
                if resolve(&p).is_dir() {
                    input_folders.push(resolve(&p));
                }
                for f in expand(&resolve(&p))? {
                    sources.files.push((kind, f));
                }
            }
        }
        Ok((sources, input_folders))
    }
}

impl Settings {
    /// The indicators stage's options: `seuil`, `continuum_policy`,
    /// `date_reference`, with the establishment directory's files.
    pub(super) fn indicators(
        &self,
        annuaire: Vec<PathBuf>,
        usage: impl Fn(String) -> Error,
    ) -> Result<IndicatorsOptions> {
        Ok(IndicatorsOptions {
            seuil: self.seuil.unwrap_or(crate::rules::rates::SEUIL_DEFAUT),
            policy: match &self.continuum_policy {
                Some(p) => ContinuumPolicy::parse(p)
                    .map_err(|m| usage(format!("settings.continuum_policy: {m}")))?,
                None => ContinuumPolicy::Strict,
            },
            date_reference: match &self.date_reference {
                Some(d) => Some(
                    crate::rules::dates::parse_date(d)
                        .map_err(|m| usage(format!("settings.date_reference: {m}")))?
                        .ok_or_else(|| usage("settings.date_reference is empty".into()))?,
                ),
                None => None,
            },
            annuaire,
        })
    }
}

impl CatalogueEntry {
    /// The coverage stage's input for this catalogue (`path` resolved):
    /// its name checked, its format and column mapping read.
    pub(super) fn input(
        &self,
        path: PathBuf,
        usage: impl Fn(String) -> Error,
    ) -> Result<CatalogueInput> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            return Err(usage(format!(
                "inputs.catalogues: name \"{}\" must be letters, digits, - or _ (it names a folder)",
                self.name
            )));
        }
        let format = match &self.format {
            Some(f) => Some(
                CatalogueFormat::parse(f)
                    .map_err(|m| usage(format!("inputs.catalogues {}: {m}", self.name)))?,
            ),
            None => None,
        };
        let mapped = !self.columns.is_empty()
            || !self.filiere_values.is_empty()
            || self.default_filiere.is_some();
        let columns = if mapped {
            Some(
                CatalogueColumns::parse(
                    &self.columns,
                    &self.filiere_values,
                    self.default_filiere.as_deref(),
                )
                .map_err(|m| usage(format!("inputs.catalogues {}: {m}", self.name)))?,
            )
        } else {
            None
        };
        if columns.is_some() && format.is_some_and(|f| f != CatalogueFormat::Generic) {
            return Err(usage(format!(
                "inputs.catalogues {}: `columns` reads the file as the generic layout; drop `format`",
                self.name
            )));
        }
        Ok(CatalogueInput {
            name: self.name.clone(),
            path,
            format,
            columns,
        })
    }
}
