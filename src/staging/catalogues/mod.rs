//! Staging of the platforms' catalogues: the offers of training that
//! Affelnet, Parcoursup or any other platform shows, read onto one model of an
//! offer (`Offre`: UAI, code and its type, filière, académie and région,
//! label, capacity), for the coverage stage (issue 4).
//!
//! Unlike the other loaders, a catalogue reader never rejects a row: every
//! data row becomes exactly one `Offre` (offers in = offers out), and what is
//! wrong with it (bad UAI, unknown académie, empty code…) is recorded in its
//! `problems` (see `problem`). Only an unreadable file or a missing required
//! column is an error. The reader joins nothing but the embedded territorial
//! referential: codes are checked for their form, not looked up in the BCN.
//!
//! Layouts (see `../shared/data/real/SOURCES.md`):
//! - `affelnet2nde.csv` (`Académie;ID_ETAB;CO_MEFSTAT;CO_STA;…;VAL_CARSCO`):
//!   code = `CO_MEFSTAT`, a first-year MEF_STAT_11; `CO_STA` ST → `pro`,
//!   AP → `apprentissage`. The file does not tell agricultural offers (no
//!   ministry column, and agricultural MEF_STAT_11 share their prefixes with
//!   the Éducation nationale's): they are `pro` here, and the coverage stage
//!   can tell them by the N_MEF `DISPOSITIF_FORMATION` (270–279).
//!   `VAL_CARSCO` 999 means "no capacity set" (6,600 real rows, mostly AP):
//!   capacity `None`. Codes `99990099999` and `…99999` are placeholders.
//! - `affelnet1PROspe.csv` (labels as headers): no code at all, only
//!   "Libellé du MEF national de rattachement", kept as the label (the offer
//!   gets `empty_code`); no académie column (taken from the UAI); `Statut
//!   Offre de formation` as `CO_STA`, and `Code Ministère` AGRICULTURE makes
//!   a voie scolaire offer `agricole`; capacity "Capacité d'affectation".
//! - `2020_05_12_AFFELNET.csv` (space-padded, Mac Roman): on the real file,
//!   `CODE_FORMATION_ACCUEIL_BAN` is not a MEF_STAT_11 but a 10-character MEF
//!   followed by `0` (4,936 rows, every one an N_MEF MEF, none an N_MEF
//!   MEF_STAT_11): the code kept is that MEF. `AFFECTATION` (1,832 rows, the
//!   académies' own MEFs) is a placeholder; 15 académie codes ending in `A`
//!   (`2472520E31A`) are `invalid_code`. Filière: `apprentissage` when the
//!   establishment is a CFA or the mnemonic or label says so (`CAP_AP`,
//!   `(APPR)`, `APPRENTIS.`), else `agricole` for the ministry of Agriculture,
//!   `pro` for the Éducation nationale, none otherwise.
//! - `listeFormationApprentissagePsup.csv` (Parcoursup's apprenticeship list,
//!   Mac Roman): `uai` = `UAI_AFF`, `uai_formateur` = `UAI_COMPOSANTE`,
//!   `uai_gestionnaire` = `UAI_GES`; code = `CODEMEF`, a 10-character MEF
//!   (resolved to its CFD by the coverage stage); filière `apprentissage`;
//!   label `LIBFORMATION - LIBSPÉCIALITÉ`, as Parcoursup's `nm`.
//! - `fr-esr-cartographie_formations_parcoursup.json` (ODS v1 export: an
//!   array of `{"fields": {…}}`, or flat records): no BCN code (`fl` is
//!   Parcoursup's, `code_formation` the MESR's), so the code is empty; `uai`
//!   = `etab_uai`, label = `nm`, région by name. Filière: `apprentissage`
//!   when `app` is set; else by `tf`: BTS and mentions complémentaires →
//!   `pro` (`agricole` for a BTSA), licence, BUT, DUT, DEUST, master →
//!   `superieur`; none for the rest (CPGE, écoles, DN MADE…), which no
//!   InserJeunes or InserSup figure covers.
//! - generic CSV, for any other platform: columns `uai;code;filiere`
//!   (required), and optionally `code_type` (`cfd`, `mef_stat_11`, `sise`,
//!   `mef`; else told by the code's length: 8 CFD, 11 MEF_STAT_11, 7 SISE,
//!   10 MEF), `academie` (name or code), `libelle`, `capacite`,
//!   `uai_gestionnaire`, `uai_formateur`. `filiere` takes the words of
//!   `Filiere::parse`; empty means none.
//!
//! The académie is read by name (`Reference::academie_by_name`); a name it
//! does not know (`Nvelle-Caledonie`, `Polynesie`) is `unknown_academie`, and
//! the UAI's département then gives the territory when it can. A catalogue
//! without an académie column takes it from the UAI (no problem recorded
//! unless that fails too).
//!
//! Both Mac Roman files are decoded as Windows-1252 by the input layer
//! (`ACADƒMIE`, `LycŽe`); when a Windows-1252 table shows Mac Roman's marks,
//! its texts are re-decoded here, and columns are matched on their ASCII
//! letters and digits only, so `ACADƒMIE` and `ACADÉMIE` both match.

mod cartographie;
pub mod columns;
mod tables;
mod text;

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{self, delimited, DelimitedOptions, RawTable};
use crate::rules::codes::{is_code_chars, Code};
use crate::rules::filiere::Filiere;
use crate::staging::reference::Reference;

use cartographie::read_cartographie;
pub use columns::CatalogueColumns;
use tables::stage_table;
use text::{ascii_key, is_mac_roman, text_is_mac_roman};

/// What can be wrong with an offer, as written in `Offre::problems`.
pub mod problem {
    pub const EMPTY_UAI: &str = "empty_uai";
    /// Not 7 digits and the right check letter (`0081152j`).
    pub const INVALID_UAI: &str = "invalid_uai";
    pub const INVALID_UAI_GESTIONNAIRE: &str = "invalid_uai_gestionnaire";
    pub const INVALID_UAI_FORMATEUR: &str = "invalid_uai_formateur";
    pub const EMPTY_CODE: &str = "empty_code";
    /// A code that does not have the form of its type.
    pub const INVALID_CODE: &str = "invalid_code";
    /// A stand-in for a code: `99990099999`, `AFFECTATION`.
    pub const PLACEHOLDER_CODE: &str = "placeholder_code";
    /// A filière value the reader does not understand (`CO_STA` not ST/AP).
    pub const UNKNOWN_FILIERE: &str = "unknown_filiere";
    /// The académie written is unknown, or none could be found.
    pub const UNKNOWN_ACADEMIE: &str = "unknown_academie";
    /// The région written is unknown (cartographie).
    pub const UNKNOWN_REGION: &str = "unknown_region";
    pub const INVALID_CAPACITE: &str = "invalid_capacite";

    /// Every problem, in the order they are listed on an offer.
    pub const ALL: [&str; 11] = [
        EMPTY_UAI,
        INVALID_UAI,
        INVALID_UAI_GESTIONNAIRE,
        INVALID_UAI_FORMATEUR,
        EMPTY_CODE,
        INVALID_CODE,
        PLACEHOLDER_CODE,
        UNKNOWN_FILIERE,
        UNKNOWN_ACADEMIE,
        UNKNOWN_REGION,
        INVALID_CAPACITE,
    ];
}

/// The catalogue layouts `load_catalogue` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CatalogueFormat {
    #[serde(rename = "affelnet-2nde")]
    Affelnet2nde,
    #[serde(rename = "affelnet-1pro")]
    Affelnet1ProSpe,
    #[serde(rename = "affelnet-2020")]
    Affelnet2020,
    #[serde(rename = "psup-apprentissage")]
    PsupApprentissage,
    #[serde(rename = "psup-cartographie")]
    PsupCartographie,
    #[serde(rename = "generic")]
    Generic,
}

impl CatalogueFormat {
    pub const ALL: [CatalogueFormat; 6] = [
        CatalogueFormat::Affelnet2nde,
        CatalogueFormat::Affelnet1ProSpe,
        CatalogueFormat::Affelnet2020,
        CatalogueFormat::PsupApprentissage,
        CatalogueFormat::PsupCartographie,
        CatalogueFormat::Generic,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CatalogueFormat::Affelnet2nde => "affelnet-2nde",
            CatalogueFormat::Affelnet1ProSpe => "affelnet-1pro",
            CatalogueFormat::Affelnet2020 => "affelnet-2020",
            CatalogueFormat::PsupApprentissage => "psup-apprentissage",
            CatalogueFormat::PsupCartographie => "psup-cartographie",
            CatalogueFormat::Generic => "generic",
        }
    }

    /// Reads a format's name, ignoring case, `-` and `_` (`affelnet2nde`,
    /// `affelnet-1pro`, `affelnet1PROspe`, `psup_apprentissage`…).
    pub fn parse(value: &str) -> Result<Self, String> {
        match ascii_key(value).as_str() {
            "AFFELNET2NDE" => Ok(CatalogueFormat::Affelnet2nde),
            "AFFELNET1PRO" | "AFFELNET1PROSPE" => Ok(CatalogueFormat::Affelnet1ProSpe),
            "AFFELNET2020" => Ok(CatalogueFormat::Affelnet2020),
            "PSUPAPPRENTISSAGE" => Ok(CatalogueFormat::PsupApprentissage),
            "PSUPCARTOGRAPHIE" | "CARTOGRAPHIE" => Ok(CatalogueFormat::PsupCartographie),
            "GENERIC" => Ok(CatalogueFormat::Generic),
            _ => Err(format!(
                "\"{value}\" is not a catalogue format (expected one of {})",
                CatalogueFormat::ALL.map(|f| f.as_str()).join(", ")
            )),
        }
    }

    /// The format of a file, told by its header's columns (a `.json` file is
    /// the Parcoursup cartographie); `None` when unreadable or not a catalogue.
    pub fn detect(path: &Path) -> Option<Self> {
        if input::is_json(path) {
            return Some(CatalogueFormat::PsupCartographie);
        }
        let bytes = std::fs::read(path).ok()?;
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        let header =
            delimited::read_delimited(path, &bytes[..end], &DelimitedOptions::default()).ok()?;
        detect_headers(&header.headers)
    }
}

impl std::fmt::Display for CatalogueFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of code an offer carries. `crate::rules::codes::CodeType` plus
/// the 10-character MEF, which catalogues use and the coverage stage resolves
/// to its CFD through N_MEF, and `Unknown` (no code, or not a usable one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffreCodeType {
    MefStat11,
    Cfd,
    Sise,
    Mef,
    Unknown,
}

impl OffreCodeType {
    pub const ALL: [OffreCodeType; 5] = [
        OffreCodeType::MefStat11,
        OffreCodeType::Cfd,
        OffreCodeType::Sise,
        OffreCodeType::Mef,
        OffreCodeType::Unknown,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OffreCodeType::MefStat11 => "mef_stat_11",
            OffreCodeType::Cfd => "cfd",
            OffreCodeType::Sise => "sise",
            OffreCodeType::Mef => "mef",
            OffreCodeType::Unknown => "unknown",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match ascii_key(value).as_str() {
            "MEFSTAT11" => Some(OffreCodeType::MefStat11),
            "CFD" => Some(OffreCodeType::Cfd),
            "SISE" => Some(OffreCodeType::Sise),
            "MEF" => Some(OffreCodeType::Mef),
            _ => None,
        }
    }

    /// The type told by a code's length alone (generic catalogues).
    pub fn from_shape(code: &str) -> Self {
        match code.len() {
            8 => OffreCodeType::Cfd,
            11 => OffreCodeType::MefStat11,
            7 => OffreCodeType::Sise,
            10 => OffreCodeType::Mef,
            _ => OffreCodeType::Unknown,
        }
    }

    /// Whether `code` has this type's form: its length, `[0-9A-Z]`.
    pub fn is_valid(self, code: &str) -> bool {
        let len = match self {
            OffreCodeType::MefStat11 => 11,
            OffreCodeType::Cfd => 8,
            OffreCodeType::Sise => 7,
            OffreCodeType::Mef => 10,
            OffreCodeType::Unknown => return false,
        };
        code.len() == len && is_code_chars(code)
    }
}

/// One offer of a catalogue: one data row of its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Offre {
    /// The catalogue's file name.
    pub catalogue: Code,
    /// Line of a CSV (header = 1), or 1-based record of a JSON array.
    pub line: u64,
    /// The establishment the offer is shown for, as given, trimmed.
    pub uai: Code,
    /// Gestionnaire and formateur, when the catalogue tells them (else empty).
    pub uai_gestionnaire: Code,
    pub uai_formateur: Code,
    /// The code, as given (the 2020 Affelnet MEF without its trailing `0`).
    pub code: Code,
    /// `Unknown` whenever the code is empty, a placeholder or ill-formed.
    pub code_type: OffreCodeType,
    /// `None`: not told, or a training no filière measures (CPGE…).
    pub filiere: Option<Filiere>,
    /// The académie as written in the catalogue (empty when it has none).
    pub academie_libelle: Code,
    pub academie_code: Option<Code>,
    /// INSEE code of the région.
    pub region_code: Option<Code>,
    pub libelle: String,
    pub capacite: Option<i64>,
    /// Names from `problem`, in the order of `problem::ALL`.
    pub problems: Vec<String>,
}

/// Counts of a catalogue's offers, for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CatalogueSummary {
    pub offres: usize,
    pub by_problem: BTreeMap<String, usize>,
    /// By filière name, `none` for offers without one.
    pub by_filiere: BTreeMap<String, usize>,
}

pub fn summarize_offres(offres: &[Offre]) -> CatalogueSummary {
    let mut s = CatalogueSummary {
        offres: offres.len(),
        ..CatalogueSummary::default()
    };
    for o in offres {
        for p in &o.problems {
            *s.by_problem.entry(p.clone()).or_default() += 1;
        }
        let f = o.filiere.map_or("none", Filiere::as_str);
        *s.by_filiere.entry(f.to_string()).or_default() += 1;
    }
    s
}

/// Reads a catalogue, in `format` or the one detected from its header; every
/// data row becomes one `Offre`.
pub fn load_catalogue(
    path: &Path,
    format: Option<CatalogueFormat>,
    reference: &Reference,
) -> Result<(CatalogueFormat, Vec<Offre>)> {
    load_catalogue_with(path, format, None, reference)
}

/// [`load_catalogue`], with the catalogue's own column names when given: the
/// file is then read as the generic layout under those names (issue 9).
pub fn load_catalogue_with(
    path: &Path,
    format: Option<CatalogueFormat>,
    columns: Option<&CatalogueColumns>,
    reference: &Reference,
) -> Result<(CatalogueFormat, Vec<Offre>)> {
    let mut offres = Vec::new();
    let each = |chunk| {
        offres.extend(chunk);
        Ok(())
    };
    let format = for_each_offer_chunk(path, format, columns, reference, usize::MAX, |_| {}, each)?;
    Ok((format, offres))
}

/// Reads a catalogue as [`load_catalogue_with`] does, handing its offers to
/// `each` in file order, at most `chunk_rows` at a time, so that a national
/// catalogue is measured without holding every offer (issue 13). Returns the
/// format read. The JSON cartographie comes in one chunk (it is small).
/// Before the first chunk, `counted` is told the offers a delimited
/// catalogue holds (a row each) when they can be counted without reading
/// them (`delimited::count_rows`).
pub fn for_each_offer_chunk(
    path: &Path,
    format: Option<CatalogueFormat>,
    columns: Option<&CatalogueColumns>,
    reference: &Reference,
    chunk_rows: usize,
    counted: impl FnOnce(usize),
    mut each: impl FnMut(Vec<Offre>) -> Result<()>,
) -> Result<CatalogueFormat> {
    let catalogue = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let generic = CatalogueColumns::default();
    let mapped = columns.is_some();
    let columns = match columns {
        Some(_) if format.is_some_and(|f| f != CatalogueFormat::Generic) => {
            return Err(Error::usage(format!(
                "{}: a catalogue with its own column names is read as the generic layout; drop its format ({})",
                path.display(),
                format.map_or("", CatalogueFormat::as_str)
            )));
        }
        Some(columns) => columns,
        None => &generic,
    };
    let format = match format {
        _ if mapped => Some(CatalogueFormat::Generic),
        None if input::is_json(path) => Some(CatalogueFormat::PsupCartographie),
        f => f,
    };
    if format == Some(CatalogueFormat::PsupCartographie) {
        each(read_cartographie(path, &catalogue, reference)?)?;
        return Ok(CatalogueFormat::PsupCartographie);
    }
    let mut detected = format;
    let mut stage = |t: RawTable, mac_roman: bool| -> Result<()> {
        let format = match detected {
            Some(f) => f,
            None => *detected.insert(detect_headers(&t.headers).ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "not a known catalogue layout (columns found: {}); name its format ({}), or its columns (columns = {{ uai = \"…\", code = \"…\", filiere = \"…\" }} in the pipeline file, --column FIELD=COLUMN for ij coverage)",
                        t.headers.join(", "),
                        CatalogueFormat::ALL.map(|f| f.as_str()).join(", ")
                    ),
                )
            })?),
        };
        each(stage_table(
            &t, format, columns, &catalogue, reference, mac_roman,
        )?)
    };
    let bytes = input::read_bytes(path)?;
    if input::is_json(path) {
        let t = input::json::read_json(path, &bytes)?;
        let mac_roman = is_mac_roman(&t);
        stage(t, mac_roman)?;
    } else {
        let (text, encoding) = input::encoding::decode(path, &bytes)?;
        let mac_roman = text_is_mac_roman(encoding, &text);
        let options = DelimitedOptions::default();
        if let Some(rows) = delimited::count_rows(&text, &options) {
            counted(rows);
        }
        delimited::read_text_in_chunks(path, &text, encoding, &options, chunk_rows, |t| {
            stage(t, mac_roman)
        })?;
    }
    Ok(detected.expect("detected from the first chunk"))
}

fn detect_headers(headers: &[String]) -> Option<CatalogueFormat> {
    let keys: Vec<String> = headers.iter().map(|h| ascii_key(h)).collect();
    let has = |name: &str| keys.contains(&ascii_key(name));
    if has("ID_ETAB") && has("CO_MEFSTAT") {
        Some(CatalogueFormat::Affelnet2nde)
    } else if has("Etablissement d'accueil") && has("Libellé du MEF national de rattachement") {
        Some(CatalogueFormat::Affelnet1ProSpe)
    } else if has("UAI") && has("CODE_FORMATION_ACCUEIL_BAN") {
        Some(CatalogueFormat::Affelnet2020)
    } else if has("UAI_GES") && has("CODEMEF") {
        Some(CatalogueFormat::PsupApprentissage)
    } else if has("uai") && has("code") {
        Some(CatalogueFormat::Generic)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    pub(super) fn reference() -> Reference {
        Reference::embedded()
    }

    /// Writes `bytes` as `name` in a temporary folder and loads it.
    pub(super) fn load(
        name: &str,
        bytes: &[u8],
        format: Option<CatalogueFormat>,
    ) -> (CatalogueFormat, Vec<Offre>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        load_catalogue(&path, format, &reference()).unwrap()
    }

    pub(super) fn problems(o: &Offre) -> Vec<&str> {
        o.problems.iter().map(String::as_str).collect()
    }

    #[test]
    fn parses_format_names() {
        for (name, f) in [
            ("affelnet2nde", CatalogueFormat::Affelnet2nde),
            ("affelnet-1pro", CatalogueFormat::Affelnet1ProSpe),
            ("affelnet1PROspe", CatalogueFormat::Affelnet1ProSpe),
            ("affelnet-2020", CatalogueFormat::Affelnet2020),
            ("psup_apprentissage", CatalogueFormat::PsupApprentissage),
            ("psup-cartographie", CatalogueFormat::PsupCartographie),
            ("Generic", CatalogueFormat::Generic),
        ] {
            assert_eq!(CatalogueFormat::parse(name), Ok(f), "{name}");
        }
        for f in CatalogueFormat::ALL {
            assert_eq!(CatalogueFormat::parse(f.as_str()), Ok(f));
        }
        assert!(CatalogueFormat::parse("onisep")
            .unwrap_err()
            .contains("affelnet-2nde"));
    }

    #[test]
    fn detects_formats_by_header() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text, f) in [
            (
                "a.csv",
                "Académie;ID_ETAB;CO_MEFSTAT;CO_STA\n",
                Some(CatalogueFormat::Affelnet2nde),
            ),
            (
                "b.csv",
                "Etablissement d'accueil;Libellé du MEF national de rattachement\n",
                Some(CatalogueFormat::Affelnet1ProSpe),
            ),
            (
                "c.csv",
                "UAI;ACADEMIE;CODE_FORMATION_ACCUEIL_BAN\n",
                Some(CatalogueFormat::Affelnet2020),
            ),
            (
                "d.csv",
                "UAI_GES;UAI_AFF;ACAD\u{192}MIE;CODEMEF\n",
                Some(CatalogueFormat::PsupApprentissage),
            ),
            (
                "e.csv",
                "uai;code;filiere\n",
                Some(CatalogueFormat::Generic),
            ),
            ("f.json", "[]", Some(CatalogueFormat::PsupCartographie)),
            ("g.csv", "CFD;LIBELLE\n", None),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(CatalogueFormat::detect(&path), f, "{name}");
        }
        assert_eq!(
            CatalogueFormat::detect(&dir.path().join("absent.csv")),
            None
        );
    }

    #[test]
    fn a_missing_required_column_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "uai;filiere\n0595821G;pro\n").unwrap();
        let e = load_catalogue(&path, Some(CatalogueFormat::Generic), &reference()).unwrap_err();
        assert!(
            e.to_string().contains("missing required column code"),
            "{e}"
        );
        let e = load_catalogue(&path, None, &reference()).unwrap_err();
        assert!(
            e.to_string().contains("not a known catalogue layout"),
            "{e}"
        );
        let e = load_catalogue(&dir.path().join("none.csv"), None, &reference()).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    /// The offers of `fixtures/catalogues/` with a problem, as `line: problems`.
    fn fixture_problems(name: &str) -> (CatalogueFormat, Vec<Offre>, Vec<String>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/catalogues")
            .join(name);
        let (f, offres) = load_catalogue(&path, None, &reference()).unwrap();
        let with_problems = offres
            .iter()
            .filter(|o| !o.problems.is_empty())
            .map(|o| format!("{}: {}", o.line, o.problems.join(",")))
            .collect();
        (f, offres, with_problems)
    }

    #[test]
    fn the_fixtures_read_as_documented() {
        let (f, offres, p) = fixture_problems("affelnet2nde.csv");
        assert_eq!((f, offres.len()), (CatalogueFormat::Affelnet2nde, 20));
        assert_eq!(
            p,
            [
                "16: unknown_academie",
                "17: invalid_uai",
                "18: empty_code",
                "20: placeholder_code"
            ]
        );
        let s = summarize_offres(&offres);
        assert_eq!(
            (s.by_filiere["pro"], s.by_filiere["apprentissage"]),
            (16, 4)
        );
        let academies: Vec<_> = offres
            .iter()
            .map(|o| o.academie_code.as_deref().unwrap_or("-"))
            .collect();
        assert_eq!(academies[7..12], ["18", "12", "70", "24", "28"]);

        let (f, offres, p) = fixture_problems("listeFormationApprentissagePsup.csv");
        assert_eq!((f, offres.len()), (CatalogueFormat::PsupApprentissage, 8));
        assert_eq!(p, ["6: empty_code", "9: invalid_uai,invalid_uai_formateur"]);
        assert_eq!(offres[5].academie_libelle, "Créteil");
        assert_eq!(offres[1].uai_gestionnaire, "0754475G");
        assert_eq!(offres[1].uai, "0750508V");

        let (f, offres, p) = fixture_problems("generic.csv");
        assert_eq!((f, offres.len()), (CatalogueFormat::Generic, 6));
        assert_eq!(p, ["7: invalid_code,unknown_filiere"]);
    }

    /// Counts a catalogue's data rows without the reader: lines but the
    /// header for a CSV, records for a JSON array.
    fn count_rows(path: &Path) -> usize {
        let bytes = std::fs::read(path).unwrap();
        if input::is_json(path) {
            match serde_json::from_slice::<Value>(&bytes).unwrap() {
                Value::Array(items) => items.len(),
                Value::Object(m) => m["results"].as_array().map_or(0, Vec::len),
                _ => 0,
            }
        } else {
            let lines = bytes
                .split(|&b| b == b'\n')
                .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
                .count();
            lines.saturating_sub(1)
        }
    }

    #[test]
    fn every_real_catalogue_row_becomes_one_offer() {
        let root = std::env::var_os("IJ_REAL_DATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real"));
        let dir = root.join("catalogues");
        if !dir.is_dir() {
            eprintln!("skipped: no real catalogues in {}", dir.display());
            return;
        }
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        let reference = reference();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(format) = CatalogueFormat::detect(&path) else {
                eprintln!("{name}: not a catalogue of offers, skipped");
                continue;
            };
            let (f, offres) = load_catalogue(&path, None, &reference).unwrap();
            assert_eq!(f, format);
            assert_eq!(
                offres.len(),
                count_rows(&path),
                "{name}: offers in = offers out"
            );
            let s = summarize_offres(&offres);
            eprintln!(
                "{name} ({f}): {} offers; problems {:?}; filières {:?}",
                s.offres, s.by_problem, s.by_filiere
            );
        }
    }
}
