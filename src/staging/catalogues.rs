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

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Location, Result};
use crate::input::encoding::{self, Encoding};
use crate::input::{self, delimited, Col, DelimitedOptions, RawTable, Row};
use crate::rules::codes::{is_code_chars, is_valid_uai};
use crate::rules::filiere::Filiere;
use crate::staging::reference::Reference;

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

    pub fn as_str(self) -> &'static str {
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
        if is_json(path) {
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
    pub fn as_str(self) -> &'static str {
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
    pub catalogue: String,
    /// Line of a CSV (header = 1), or 1-based record of a JSON array.
    pub line: u64,
    /// The establishment the offer is shown for, as given, trimmed.
    pub uai: String,
    /// Gestionnaire and formateur, when the catalogue tells them (else empty).
    pub uai_gestionnaire: String,
    pub uai_formateur: String,
    /// The code, as given (the 2020 Affelnet MEF without its trailing `0`).
    pub code: String,
    /// `Unknown` whenever the code is empty, a placeholder or ill-formed.
    pub code_type: OffreCodeType,
    /// `None`: not told, or a training no filière measures (CPGE…).
    pub filiere: Option<Filiere>,
    /// The académie as written in the catalogue (empty when it has none).
    pub academie_libelle: String,
    pub academie_code: Option<String>,
    /// INSEE code of the région.
    pub region_code: Option<String>,
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
    let catalogue = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let format = match format {
        Some(f) => f,
        None if is_json(path) => CatalogueFormat::PsupCartographie,
        None => {
            let t = input::read_table(path, &DelimitedOptions::default())?;
            let f = detect_headers(&t.headers).ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "not a known catalogue layout (columns found: {}); name its format ({}), or write it as a generic uai;code;filiere CSV",
                        t.headers.join(", "),
                        CatalogueFormat::ALL.map(|f| f.as_str()).join(", ")
                    ),
                )
            })?;
            return Ok((f, stage_table(&t, f, &catalogue, reference)?));
        }
    };
    let offres = if format == CatalogueFormat::PsupCartographie {
        read_cartographie(path, &catalogue, reference)?
    } else {
        let t = input::read_table(path, &DelimitedOptions::default())?;
        stage_table(&t, format, &catalogue, reference)?
    };
    Ok((format, offres))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A name's ASCII letters and digits, upper-cased: how columns and format
/// names are matched (`ACADƒMIE` and `Académie` both give `ACADMIE`).
fn ascii_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
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

/// Column lookup on ASCII keys, with Mac Roman repair of the values.
struct Table<'a> {
    t: &'a RawTable,
    mac_roman: bool,
}

impl<'a> Table<'a> {
    fn new(t: &'a RawTable) -> Self {
        Table {
            t,
            mac_roman: is_mac_roman(t),
        }
    }

    fn optional(&self, name: &str) -> Option<Col> {
        let key = ascii_key(name);
        let header = self.t.headers.iter().find(|h| ascii_key(h) == key)?;
        self.t.optional_column(header)
    }

    fn required(&self, name: &str) -> Result<Col> {
        self.optional(name).ok_or_else(|| {
            Error::file(
                &self.t.path,
                format!(
                    "missing required column {name} (columns found: {}); check that this is the right catalogue and format",
                    self.t.headers.join(", ")
                ),
            )
        })
    }

    fn text(&self, row: &Row, col: Option<&Col>) -> String {
        let value = col.map_or("", |c| row.get(c));
        if self.mac_roman {
            repair_mac_roman(value)
        } else {
            value.to_string()
        }
    }
}

/// Characters Windows-1252 gives for bytes that are French letters in Mac
/// Roman (0x83 É, 0x88 à, 0x8D ç, 0x8E é, 0x8F è, 0x90 ê…) and are next to
/// never written in French Windows-1252 text.
const MAC_ROMAN_MARKS: [char; 14] = [
    'ƒ', '‡', 'ˆ', '‰', 'Š', '‹', 'Ž', 'š', 'ž', 'Ÿ', '\u{81}', '\u{8D}', '\u{8F}', '\u{90}',
];

/// Whether a table read as Windows-1252 is in fact Mac Roman: it holds more
/// of Mac Roman's marks than Windows-1252's own accented letters.
fn is_mac_roman(t: &RawTable) -> bool {
    if t.format.encoding != Encoding::Windows1252 {
        return false;
    }
    let (mut marks, mut accents) = (0usize, 0usize);
    let texts = t.headers.iter().map(String::as_str);
    let fields = t.rows.iter().flat_map(|r| r.fields.iter());
    for c in texts.chain(fields).flat_map(str::chars) {
        if MAC_ROMAN_MARKS.contains(&c) {
            marks += 1;
        } else if "éèêàâçôîûùëïÉÈÀÇ".contains(c) {
            accents += 1;
        }
    }
    marks > accents
}

/// Text decoded as Windows-1252 that was Mac Roman, decoded again.
fn repair_mac_roman(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    if unmappable {
        return text.to_string();
    }
    encoding_rs::MACINTOSH
        .decode_without_bom_handling(&bytes)
        .0
        .into_owned()
}

fn new_offre(catalogue: &str, line: u64) -> Offre {
    Offre {
        catalogue: catalogue.to_string(),
        line,
        uai: String::new(),
        uai_gestionnaire: String::new(),
        uai_formateur: String::new(),
        code: String::new(),
        code_type: OffreCodeType::Unknown,
        filiere: None,
        academie_libelle: String::new(),
        academie_code: None,
        region_code: None,
        libelle: String::new(),
        capacite: None,
        problems: Vec::new(),
    }
}

fn stage_table(
    t: &RawTable,
    format: CatalogueFormat,
    catalogue: &str,
    reference: &Reference,
) -> Result<Vec<Offre>> {
    let tb = Table::new(t);
    let mut out = Vec::with_capacity(t.len());
    match format {
        CatalogueFormat::Affelnet2nde => {
            let [academie, uai, code, statut] =
                ["Académie", "ID_ETAB", "CO_MEFSTAT", "CO_STA"].map(|n| tb.required(n));
            let (academie, uai, code, statut) = (academie?, uai?, code?, statut?);
            let capacite = tb.optional("VAL_CARSCO");
            for row in t.rows() {
                let mut o = new_offre(catalogue, row.position());
                o.uai = tb.text(&row, Some(&uai));
                o.code = tb.text(&row, Some(&code));
                o.code_type = OffreCodeType::MefStat11;
                o.filiere = filiere_affelnet(&mut o, &tb.text(&row, Some(&statut)), false);
                o.academie_libelle = tb.text(&row, Some(&academie));
                o.capacite = capacite_affelnet(&mut o, &tb.text(&row, capacite.as_ref()));
                out.push(finish(o, "", reference));
            }
        }
        CatalogueFormat::Affelnet1ProSpe => {
            let uai = tb.required("Etablissement d'accueil")?;
            let libelle = tb.required("Libellé du MEF national de rattachement")?;
            let statut = tb.required("Statut Offre de formation")?;
            let ministere = tb.optional("Code Ministère");
            let capacite = tb.optional("Capacité d'affectation");
            for row in t.rows() {
                let mut o = new_offre(catalogue, row.position());
                o.uai = tb.text(&row, Some(&uai));
                o.libelle = tb.text(&row, Some(&libelle));
                let agricole = ascii_key(&tb.text(&row, ministere.as_ref())) == "AGRICULTURE";
                o.filiere = filiere_affelnet(&mut o, &tb.text(&row, Some(&statut)), agricole);
                o.capacite = capacite_affelnet(&mut o, &tb.text(&row, capacite.as_ref()));
                out.push(finish(o, "", reference));
            }
        }
        CatalogueFormat::Affelnet2020 => {
            let uai = tb.required("UAI")?;
            let academie = tb.required("ACADEMIE")?;
            let code = tb.required("CODE_FORMATION_ACCUEIL_BAN")?;
            let [ministere, type_etab, mnemonique, libelle] = [
                "MINISTERE",
                "TYPE_ETABLISSEMENT",
                "MNEMONIQUE_FORMATION_ACCUEIL",
                "LIBELLE_FORMATION_ACCUEIL_BAN",
            ]
            .map(|n| tb.optional(n));
            for row in t.rows() {
                let mut o = new_offre(catalogue, row.position());
                o.uai = tb.text(&row, Some(&uai));
                o.academie_libelle = tb.text(&row, Some(&academie));
                o.libelle = tb.text(&row, libelle.as_ref());
                let raw = tb.text(&row, Some(&code));
                // A MEF and a trailing `0` (see the module doc).
                o.code = match raw.strip_suffix('0') {
                    Some(mef) if raw.len() == 11 => mef.to_string(),
                    _ => raw,
                };
                o.code_type = OffreCodeType::Mef;
                o.filiere = filiere_affelnet_2020(
                    &tb.text(&row, type_etab.as_ref()),
                    &tb.text(&row, mnemonique.as_ref()),
                    &o.libelle,
                    &tb.text(&row, ministere.as_ref()),
                );
                out.push(finish(o, "", reference));
            }
        }
        CatalogueFormat::PsupApprentissage => {
            let uai = tb.required("UAI_AFF")?;
            let gestionnaire = tb.required("UAI_GES")?;
            let code = tb.required("CODEMEF")?;
            let [composante, academie, formation, specialite] = [
                "UAI_COMPOSANTE",
                "ACADÉMIE",
                "LIBFORMATION",
                "LIBSPÉCIALITÉ",
            ]
            .map(|n| tb.optional(n));
            for row in t.rows() {
                let mut o = new_offre(catalogue, row.position());
                o.uai = tb.text(&row, Some(&uai));
                o.uai_gestionnaire = tb.text(&row, Some(&gestionnaire));
                o.uai_formateur = tb.text(&row, composante.as_ref());
                o.code = tb.text(&row, Some(&code));
                o.code_type = OffreCodeType::Mef;
                o.filiere = Some(Filiere::Apprentissage);
                o.academie_libelle = tb.text(&row, academie.as_ref());
                let parts = [
                    tb.text(&row, formation.as_ref()),
                    tb.text(&row, specialite.as_ref()),
                ];
                o.libelle = parts
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" - ");
                out.push(finish(o, "", reference));
            }
        }
        CatalogueFormat::Generic => {
            let [uai, code, filiere] = ["uai", "code", "filiere"].map(|n| tb.required(n));
            let (uai, code, filiere) = (uai?, code?, filiere?);
            let [code_type, academie, libelle, capacite, gestionnaire, formateur] = [
                "code_type",
                "academie",
                "libelle",
                "capacite",
                "uai_gestionnaire",
                "uai_formateur",
            ]
            .map(|n| tb.optional(n));
            for row in t.rows() {
                let mut o = new_offre(catalogue, row.position());
                o.uai = tb.text(&row, Some(&uai));
                o.uai_gestionnaire = tb.text(&row, gestionnaire.as_ref());
                o.uai_formateur = tb.text(&row, formateur.as_ref());
                o.code = tb.text(&row, Some(&code));
                let declared = tb.text(&row, code_type.as_ref());
                o.code_type = OffreCodeType::parse(&declared)
                    .unwrap_or_else(|| OffreCodeType::from_shape(&o.code));
                let f = tb.text(&row, Some(&filiere));
                if !f.is_empty() {
                    o.filiere = Filiere::parse(&f).ok();
                    if o.filiere.is_none() {
                        o.problems.push(problem::UNKNOWN_FILIERE.into());
                    }
                }
                o.academie_libelle = tb.text(&row, academie.as_ref());
                o.libelle = tb.text(&row, libelle.as_ref());
                o.capacite = parse_capacite(&mut o, &tb.text(&row, capacite.as_ref()), None);
                out.push(finish(o, "", reference));
            }
        }
        CatalogueFormat::PsupCartographie => {
            return Err(Error::file(
                &t.path,
                "the Parcoursup cartographie is read from its JSON export, not a table",
            ))
        }
    }
    Ok(out)
}

/// `CO_STA` / `Statut Offre de formation`: ST voie scolaire, AP apprentissage.
fn filiere_affelnet(o: &mut Offre, statut: &str, agricole: bool) -> Option<Filiere> {
    match statut.to_ascii_uppercase().as_str() {
        "ST" if agricole => Some(Filiere::Agricole),
        "ST" => Some(Filiere::Pro),
        "AP" => Some(Filiere::Apprentissage),
        _ => {
            o.problems.push(problem::UNKNOWN_FILIERE.into());
            None
        }
    }
}

fn filiere_affelnet_2020(
    type_etab: &str,
    mnemonique: &str,
    libelle: &str,
    ministere: &str,
) -> Option<Filiere> {
    let mnemonique = mnemonique.to_uppercase();
    let apprentissage = type_etab.to_uppercase().contains("APPRENTI")
        || says_apprentissage(&libelle.to_uppercase())
        || mnemonique.starts_with("AP")
        || mnemonique.ends_with("_AP")
        || mnemonique.ends_with("-AP");
    if apprentissage {
        return Some(Filiere::Apprentissage);
    }
    match ascii_key(ministere).as_str() {
        "AGRICULTURE" => Some(Filiere::Agricole),
        "EDUCATIONNATIONALE" => Some(Filiere::Pro),
        _ => None,
    }
}

/// `APPR`, `(APPR)`, `APPRENT.`, `APPRENTISSAGE`, but not `APPROVISIONNEMENT`.
fn says_apprentissage(label: &str) -> bool {
    label
        .match_indices("APPR")
        .any(|(i, _)| !label[i + 4..].starts_with('O'))
}

/// Affelnet writes 999 for "no capacity set".
fn capacite_affelnet(o: &mut Offre, value: &str) -> Option<i64> {
    parse_capacite(o, value, Some(999))
}

fn parse_capacite(o: &mut Offre, value: &str, unset: Option<i64>) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if n >= 0 && Some(n) != unset => Some(n),
        Ok(n) if n >= 0 => None,
        _ => {
            o.problems.push(problem::INVALID_CAPACITE.into());
            None
        }
    }
}

/// Whether a code stands for no code: `AFFECTATION`, or a MEF_STAT_11 or
/// MEF whose CFD part is `99999` (`99990099999`, `23820099999`).
fn is_placeholder(code: &str, code_type: OffreCodeType) -> bool {
    code.chars().all(|c| c.is_ascii_alphabetic())
        || match code_type {
            OffreCodeType::MefStat11 => code.len() == 11 && code.ends_with("99999"),
            OffreCodeType::Mef => code.get(3..8) == Some("99999"),
            _ => false,
        }
}

/// The checks every format shares: UAIs, code, territory; then the problems
/// in their canonical order. `region_libelle`: a région name, when given.
fn finish(mut o: Offre, region_libelle: &str, reference: &Reference) -> Offre {
    if o.uai.is_empty() {
        o.problems.push(problem::EMPTY_UAI.into());
    } else if !is_valid_uai(&o.uai) {
        o.problems.push(problem::INVALID_UAI.into());
    }
    if !o.uai_gestionnaire.is_empty() && !is_valid_uai(&o.uai_gestionnaire) {
        o.problems.push(problem::INVALID_UAI_GESTIONNAIRE.into());
    }
    if !o.uai_formateur.is_empty() && !is_valid_uai(&o.uai_formateur) {
        o.problems.push(problem::INVALID_UAI_FORMATEUR.into());
    }

    if o.code.is_empty() {
        o.problems.push(problem::EMPTY_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    } else if is_placeholder(&o.code, o.code_type) {
        o.problems.push(problem::PLACEHOLDER_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    } else if !o.code_type.is_valid(&o.code) {
        o.problems.push(problem::INVALID_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    }

    // The académie: by the name written, else by a UAI's département.
    let written = o.academie_libelle.clone();
    let by_name = if written.is_empty() {
        None
    } else {
        reference
            .academie_by_name(&written)
            .or_else(|| reference.academie(&written))
    };
    if let Some(a) = by_name {
        o.academie_code = Some(a.code.clone());
        o.region_code = Some(a.region_code.clone()).filter(|r| !r.is_empty());
    } else {
        if !written.is_empty() {
            o.problems.push(problem::UNKNOWN_ACADEMIE.into());
        }
        let territoire = [&o.uai, &o.uai_formateur, &o.uai_gestionnaire]
            .into_iter()
            .find_map(|u| reference.territoire_of_uai(u));
        match territoire {
            Some(t) => {
                o.academie_code = Some(t.academie_code).filter(|c| !c.is_empty());
                o.region_code = Some(t.region_code).filter(|r| !r.is_empty());
            }
            None if written.is_empty() => o.problems.push(problem::UNKNOWN_ACADEMIE.into()),
            None => {}
        }
    }
    if !region_libelle.is_empty() {
        match reference.region_by_name(region_libelle) {
            Some(r) if o.region_code.is_none() => o.region_code = Some(r.code.clone()),
            Some(_) => {}
            None => o.problems.push(problem::UNKNOWN_REGION.into()),
        }
    }

    let rank = |p: &String| {
        problem::ALL
            .iter()
            .position(|a| a == p)
            .unwrap_or(usize::MAX)
    };
    o.problems.sort_by_key(rank);
    o.problems.dedup();
    o
}

/// The Parcoursup cartographie, an ODS export: an array of records whose
/// `fields` hold the values (ODS v1), or of flat records; `{"results": […]}`
/// (ODS v2 API) is read too.
fn read_cartographie(path: &Path, catalogue: &str, reference: &Reference) -> Result<Vec<Offre>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let (text, _) = encoding::decode(path, &bytes)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(
            path,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let expected = "expected the ODS export of fr-esr-cartographie_formations_parcoursup: an array of records, or {\"results\": [...]}";
    let records = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("results").or_else(|| map.remove("records")) {
            Some(Value::Array(items)) => items,
            _ => return Err(Error::file(path, expected)),
        },
        _ => return Err(Error::file(path, expected)),
    };
    let mut all_fields = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let Value::Object(map) = record else {
            return Err(Error::at(
                path,
                Location::Record {
                    index: i as u64 + 1,
                    field: None,
                },
                format!("not an object; {expected}"),
            ));
        };
        let fields = match map.get("fields") {
            Some(Value::Object(f)) => f,
            _ => map,
        };
        all_fields.push(fields);
    }
    if !all_fields.is_empty() && !all_fields.iter().any(|f| f.contains_key("etab_uai")) {
        return Err(Error::file(
            path,
            format!("missing required field etab_uai in every record; {expected}"),
        ));
    }
    let get = |f: &serde_json::Map<String, Value>, key: &str| -> String {
        match f.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => other.to_string(),
        }
    };
    let mut out = Vec::with_capacity(all_fields.len());
    for (i, f) in all_fields.into_iter().enumerate() {
        let mut o = new_offre(catalogue, i as u64 + 1);
        o.uai = get(f, "etab_uai");
        o.libelle = get(f, "nm");
        o.filiere = filiere_cartographie(&get(f, "app"), &get(f, "tf"), &get(f, "fl"));
        out.push(finish(o, &get(f, "region"), reference));
    }
    Ok(out)
}

/// `app` set → apprentissage; else by the types of formation `tf`
/// (`|`-separated) and, for a BTSA, the label `fl`.
fn filiere_cartographie(app: &str, tf: &str, fl: &str) -> Option<Filiere> {
    if !app.is_empty() {
        return Some(Filiere::Apprentissage);
    }
    let types: Vec<&str> = tf.split('|').map(str::trim).collect();
    if types
        .iter()
        .any(|t| t.starts_with("BTS") || t.starts_with("Mentions complémentaires"))
    {
        let label = fl.split_once('|').map_or(fl, |(_, l)| l);
        return Some(if label.starts_with("BTSA") {
            Filiere::Agricole
        } else {
            Filiere::Pro
        });
    }
    let superieur = ["Licence", "BUT", "DUT", "DEUST", "Master"];
    if types
        .iter()
        .any(|t| superieur.iter().any(|s| t.starts_with(s)))
    {
        return Some(Filiere::Superieur);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Reference {
        Reference::embedded()
    }

    /// Writes `bytes` as `name` in a temporary folder and loads it.
    fn load(
        name: &str,
        bytes: &[u8],
        format: Option<CatalogueFormat>,
    ) -> (CatalogueFormat, Vec<Offre>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        load_catalogue(&path, format, &reference()).unwrap()
    }

    fn problems(o: &Offre) -> Vec<&str> {
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
    fn affelnet2nde_keeps_every_row_and_records_problems() {
        let text = "Académie;ID_ETAB;CO_MEFSTAT;CO_STA;FL_VRECENS;VAL_CARSCO\n\
            Aix-Marseille;0131445A;23810025516;ST;N;24\n\
            Orleans;0451653C;24110022140;AP;O;999\n\
            Nvelle-Caledonie;9830001J;23810020006;ST;N;12\n\
            Reims;0081152j;;AP;O;abc\n\
            Polynesie;0131445A;99990099999;XX;N;\n";
        let (f, offres) = load("affelnet2nde.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Affelnet2nde);
        assert_eq!(offres.len(), 5);
        let o = &offres[0];
        assert_eq!(
            (o.line, o.uai.as_str(), o.code.as_str()),
            (2, "0131445A", "23810025516")
        );
        assert_eq!(o.code_type, OffreCodeType::MefStat11);
        assert_eq!(o.filiere, Some(Filiere::Pro));
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("02"), Some("93"))
        );
        assert_eq!(o.capacite, Some(24));
        assert!(o.problems.is_empty(), "{o:?}");
        // Apprentissage; 999 is "no capacity set"; Orleans is Orléans-Tours.
        assert_eq!(offres[1].filiere, Some(Filiere::Apprentissage));
        assert_eq!(offres[1].capacite, None);
        assert_eq!(offres[1].academie_code.as_deref(), Some("18"));
        // An académie the referential lacks, and a UAI whose département it lacks.
        assert_eq!(problems(&offres[2]), ["unknown_academie"]);
        assert_eq!(offres[2].academie_code, None);
        assert_eq!(
            problems(&offres[3]),
            ["invalid_uai", "empty_code", "invalid_capacite"]
        );
        assert_eq!(offres[3].code_type, OffreCodeType::Unknown);
        // Unknown académie, but the UAI gives the territory.
        let o = &offres[4];
        assert_eq!(
            problems(o),
            ["placeholder_code", "unknown_filiere", "unknown_academie"]
        );
        assert_eq!((o.academie_code.as_deref(), o.filiere), (Some("02"), None));
    }

    #[test]
    fn affelnet1pro_keeps_the_label_and_tells_agriculture() {
        let text = "Etablissement d'accueil;Sigle de l'établissement d'accueil;Libellé du MEF national de rattachement;Code Ministère;Statut Offre de formation;Capacité carte scolaire;Capacité d'affectation\n\
            0010001W;LP;1ERPRO MENUISERIE ALUMINIUM-VERRE;MINISTERE DE L'EDUCATION NATIONALE;ST;15;14\n\
            0010001W;LPA;1ERPRO AGROEQUIPEMENT;AGRICULTURE;ST;12;12\n\
            0010001W;CFA;1ERPRO AGROEQUIPEMENT;AGRICULTURE;AP;999;999\n";
        let (f, offres) = load("affelnet1PROspe.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Affelnet1ProSpe);
        let o = &offres[0];
        assert_eq!(o.libelle, "1ERPRO MENUISERIE ALUMINIUM-VERRE");
        assert_eq!((o.code.as_str(), o.code_type), ("", OffreCodeType::Unknown));
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!((o.capacite, o.filiere), (Some(14), Some(Filiere::Pro)));
        // No académie column: the UAI's (Ain → Lyon), no problem.
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("10"), Some("84"))
        );
        assert_eq!(offres[1].filiere, Some(Filiere::Agricole));
        assert_eq!(
            (offres[2].filiere, offres[2].capacite),
            (Some(Filiere::Apprentissage), None)
        );
    }

    #[test]
    fn affelnet2020_reads_padded_mac_roman_and_strips_the_mef_suffix() {
        let mut bytes = b"UAI;COMMUNE;ACADEMIE;MINISTERE;TYPE_ETABLISSEMENT;MNEMONIQUE_FORMATION_ACCUEIL;CODE_SPECIALITE_FORMATION_ACCUEIL;LIBELLE_FORMATION_ACCUEIL_BAN;CODE_FORMATION_ACCUEIL_BAN\n".to_vec();
        bytes.extend_from_slice(b"0040007L ; DIGNE      ; AIX-MARSEILLE   ; Education Nationale ; LYCEE PROFESSIONNEL  ;  1CAP2  ;  22140 ;  1CAP2  COMMERCIALISATION  ;  24122140210   \n");
        bytes.extend_from_slice(b"0451653C ; ORLEANS    ; ORLEANS-TOURS   ; Agriculture ; CENTRE DE FORMATION D APPRENTIS ;  CAP_AP  ;  3121A ;  \x83QUIPIER POLYVALENT ;  AFFECTATION \n");
        bytes.extend_from_slice(b"0142059M ; CAEN       ; CAEN            ; Agriculture ; LYCEE  ;  2DPROA  ;  21207 ;  2DPROA CONDUITE ;  27621207310 \n");
        bytes.extend_from_slice(b"         ;            ; POLYNESIE       ;  ;  ;  ;  ;  ;  \n");
        let (f, offres) = load("2020_05_12_AFFELNET.csv", &bytes, None);
        assert_eq!(f, CatalogueFormat::Affelnet2020);
        assert_eq!(offres.len(), 4);
        let o = &offres[0];
        assert_eq!(
            (o.code.as_str(), o.code_type),
            ("2412214021", OffreCodeType::Mef)
        );
        assert_eq!(
            (o.filiere, o.academie_code.as_deref()),
            (Some(Filiere::Pro), Some("02"))
        );
        assert!(o.problems.is_empty(), "{o:?}");
        let o = &offres[1];
        assert_eq!(o.libelle, "ÉQUIPIER POLYVALENT");
        assert_eq!(
            (o.filiere, o.code_type),
            (Some(Filiere::Apprentissage), OffreCodeType::Unknown)
        );
        assert_eq!(problems(o), ["placeholder_code"]);
        assert_eq!(offres[2].filiere, Some(Filiere::Agricole));
        assert_eq!(offres[2].academie_code.as_deref(), Some("70"));
        assert!(
            says_apprentissage("2NDPRO (APPR) MAINT") && says_apprentissage("1CAP2 MACON APPR")
        );
        assert!(!says_apprentissage("BAC PRO LOGIST. APPROVISIONNEMENT"));
        assert_eq!(
            problems(&offres[3]),
            ["empty_uai", "empty_code", "unknown_academie"]
        );
    }

    #[test]
    fn psup_apprentissage_matches_the_odd_header_and_repairs_labels() {
        // Mac Roman bytes, as the real file: 0x83 É, 0x8E é.
        let mut bytes = b"UAI_GES;UAI_COMPOSANTE;UAI_AFF;ACAD\x83MIE;LIBFORMATION;CODESP\x83CIALIT\x83;LIBSP\x83CIALIT\x83;CODEMEF\n".to_vec();
        bytes.extend_from_slice(b"0595821G;0595821G;0595821G;Lille;BTS - Services;11423;Management Commercial Op\x8Erationnel - en apprentissage;3113121321\n");
        bytes.extend_from_slice(
            b"0451653C;0131445A;0131445A;Cr\x8Eteil;BTS - Production;1436;Electrotechnique;\n",
        );
        bytes.extend_from_slice(b"0451653D;0131445A;0131445A;Cr\x8Eteil;BTS;1;X;31131213\n");
        let (f, offres) = load("listeFormationApprentissagePsup.csv", &bytes, None);
        assert_eq!(f, CatalogueFormat::PsupApprentissage);
        let o = &offres[0];
        assert_eq!(
            (o.code.as_str(), o.code_type),
            ("3113121321", OffreCodeType::Mef)
        );
        assert_eq!(o.filiere, Some(Filiere::Apprentissage));
        assert_eq!(
            o.libelle,
            "BTS - Services - Management Commercial Opérationnel - en apprentissage"
        );
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("09"), Some("32"))
        );
        assert!(o.problems.is_empty(), "{o:?}");
        let o = &offres[1];
        assert_eq!(
            (
                o.uai.as_str(),
                o.uai_gestionnaire.as_str(),
                o.uai_formateur.as_str()
            ),
            ("0131445A", "0451653C", "0131445A")
        );
        assert_eq!(
            (o.academie_libelle.as_str(), o.academie_code.as_deref()),
            ("Créteil", Some("24"))
        );
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!(
            problems(&offres[2]),
            ["invalid_uai_gestionnaire", "invalid_code"]
        );
    }

    #[test]
    fn cartographie_reads_ods_fields() {
        let text = r#"[
 {"datasetid": "x", "fields": {"etab_uai": "0332813D", "nm": "BTS - Services - NDRC - en apprentissage", "app": "Formations en apprentissage", "tf": "BTS - BTSA - BTSM", "fl": "11418|BTS - NDRC", "region": "Nouvelle-Aquitaine", "gta": 14117}},
 {"fields": {"etab_uai": "0330028B", "nm": "BTSA - Viticulture", "tf": "BTS - BTSA - BTSM", "fl": "1|BTSA - Viticulture", "region": "Nouvelle-Aquitaine"}},
 {"fields": {"etab_uai": "0333298F", "nm": "L1 - Psychologie", "tf": "Etudes de santé|Licence", "region": "Nouvelle-Aquitaine"}},
 {"fields": {"etab_uai": "0330021U", "nm": "CPGE - MPSI", "tf": "CPGE", "region": "Atlantide"}},
 {"etab_uai": "", "nm": "flat record"}
]"#;
        let (f, offres) = load("carto.json", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::PsupCartographie);
        assert_eq!(offres.len(), 5);
        let o = &offres[0];
        assert_eq!((o.line, o.filiere), (1, Some(Filiere::Apprentissage)));
        assert_eq!(o.libelle, "BTS - Services - NDRC - en apprentissage");
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("04"), Some("75"))
        );
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!(offres[1].filiere, Some(Filiere::Agricole));
        assert_eq!(offres[2].filiere, Some(Filiere::Superieur));
        assert_eq!(offres[3].filiere, None);
        assert_eq!(problems(&offres[3]), ["empty_code", "unknown_region"]);
        assert_eq!(
            problems(&offres[4]),
            ["empty_uai", "empty_code", "unknown_academie"]
        );
    }

    #[test]
    fn generic_tells_code_types_by_length() {
        let text = "uai;code;filiere;libelle;capacite;academie\n\
            0595821G;40025513;apprentissage;Bac pro;;Lille\n\
            0131445A;23810025513;scolaire;;24;02\n\
            0062205P;2400074;superieur;;;\n\
            0062205P;2472551333;;;;\n\
            0062205P;4002;alternance;;;\n";
        let (f, offres) = load("generic.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Generic);
        let types: Vec<_> = offres.iter().map(|o| o.code_type).collect();
        assert_eq!(
            types,
            [
                OffreCodeType::Cfd,
                OffreCodeType::MefStat11,
                OffreCodeType::Sise,
                OffreCodeType::Mef,
                OffreCodeType::Unknown
            ]
        );
        assert_eq!(offres[1].academie_code.as_deref(), Some("02"));
        assert_eq!(
            (offres[1].filiere, offres[1].capacite),
            (Some(Filiere::Pro), Some(24))
        );
        assert_eq!(offres[3].filiere, None);
        assert!(offres[3].problems.is_empty());
        assert_eq!(problems(&offres[4]), ["invalid_code", "unknown_filiere"]);
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

    #[test]
    fn repairs_mac_roman_only_when_it_is_mac_roman() {
        assert_eq!(repair_mac_roman("Cr\u{17D}teil \u{8F}"), "Créteil è");
        let t = |bytes: &[u8]| {
            delimited::read_delimited(Path::new("t.csv"), bytes, &DelimitedOptions::default())
                .unwrap()
        };
        assert!(is_mac_roman(&t(b"a;b\nLyc\x8Ee;\x88 Paris\n")));
        assert!(!is_mac_roman(&t(b"a;b\nLyc\xE9e;\xE0 Paris \x80\n")));
        assert!(!is_mac_roman(&t("a;b\nLycée;x\n".as_bytes())));
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
        if is_json(path) {
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
