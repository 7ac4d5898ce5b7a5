//! `ij pilotage`: the formations of a région that lead to few jobs (issue 14).
//!
//! Reads the `pilotage` table a run (or a release) holds, keeps one région's
//! rows of one millésime (the latest of each filière by default), and gives
//! its Q4 formations ("peu insérantes": below the average of their diploma
//! level on both employment and further study), sorted by their gap to the
//! employment reference, most below first. Prints them, writes them as CSV
//! and Parquet, and writes a self-contained HTML page (`page`) with a scatter
//! of every classified formation's gaps. The figures are the table's: this
//! module classifies nothing itself (`rules::pilotage` and
//! `stages::indicators::pilotage` do).

pub mod page;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::{self, DelimitedOptions};
use crate::output::{CsvOptions, OutTable};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;
use crate::rules::pilotage::Position;
use crate::staging::reference::Reference;

/// A row of the `pilotage` table, as much as the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Ligne {
    pub millesime: Millesime,
    pub filiere: Filiere,
    pub region_code: String,
    pub code_certification: String,
    pub libelle: String,
    pub libelle_niveau_diplome: String,
    pub donnee_source_type: String,
    pub nb_annee_term: Option<i64>,
    pub taux_en_emploi_6_mois: Option<i64>,
    pub taux_poursuite_etudes: Option<i64>,
    pub taux_devenir_favorable: Option<i64>,
    pub reference_taux_en_emploi_6_mois: Option<i64>,
    pub reference_taux_poursuite_etudes: Option<i64>,
    pub ecart_taux_en_emploi_6_mois: Option<i64>,
    pub ecart_taux_poursuite_etudes: Option<i64>,
    pub position: Position,
}

/// Finds `pilotage.csv` in a run folder (`indicators/`) or a release folder.
pub fn locate(dir: &Path) -> Result<PathBuf> {
    for candidate in [
        dir.join("indicators/pilotage.csv"),
        dir.join("pilotage.csv"),
    ] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::usage(format!(
        "{}: no pilotage.csv here nor in indicators/: give the output folder of `ij run` \
         (or a release folder)",
        dir.display()
    )))
}

/// Reads a `pilotage.csv` (any separator the input layer reads).
pub fn read(path: &Path) -> Result<Vec<Ligne>> {
    let t = input::read_table(path, &DelimitedOptions::default())?;
    let niveau = t.column("niveau_geographique")?;
    let [millesime, filiere, region, code, libelle, niveau_diplome, source, term] = t.columns([
        "millesime",
        "filiere",
        "region_code",
        "code_certification",
        "libelle",
        "libelle_niveau_diplome",
        "donnee_source_type",
        "nb_annee_term",
    ])?;
    let [emploi, poursuite, favorable, ref_emploi, ref_poursuite, ecart_emploi, ecart_poursuite, position] =
        t.columns([
            "taux_en_emploi_6_mois",
            "taux_poursuite_etudes",
            "taux_devenir_favorable",
            "reference_taux_en_emploi_6_mois",
            "reference_taux_poursuite_etudes",
            "ecart_taux_en_emploi_6_mois",
            "ecart_taux_poursuite_etudes",
            "position",
        ])?;
    let mut out = Vec::new();
    for row in t.rows() {
        if NiveauGeographique::parse(row.get(&niveau)) != Some(NiveauGeographique::Region) {
            continue;
        }
        let int = |c| -> Result<Option<i64>> {
            let v = row.get(c);
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| row.error(c, format!("\"{v}\" is not an integer")))
        };
        out.push(Ligne {
            millesime: Millesime::parse(row.get(&millesime))
                .map_err(|e| row.error(&millesime, e))?,
            filiere: Filiere::parse(row.get(&filiere)).map_err(|e| row.error(&filiere, e))?,
            region_code: row.get(&region).to_string(),
            code_certification: row.get(&code).to_string(),
            libelle: row.get(&libelle).to_string(),
            libelle_niveau_diplome: row.get(&niveau_diplome).to_string(),
            donnee_source_type: row.get(&source).to_string(),
            nb_annee_term: int(&term)?,
            taux_en_emploi_6_mois: int(&emploi)?,
            taux_poursuite_etudes: int(&poursuite)?,
            taux_devenir_favorable: int(&favorable)?,
            reference_taux_en_emploi_6_mois: int(&ref_emploi)?,
            reference_taux_poursuite_etudes: int(&ref_poursuite)?,
            ecart_taux_en_emploi_6_mois: int(&ecart_emploi)?,
            ecart_taux_poursuite_etudes: int(&ecart_poursuite)?,
            position: Position::parse(row.get(&position)).ok_or_else(|| {
                row.error(
                    &position,
                    "expected Q1, Q2, Q3, Q4, hors_quadrant or non_classe",
                )
            })?,
        });
    }
    Ok(out)
}

/// One filière's formations of the région in one millésime.
#[derive(Debug, Clone, PartialEq)]
pub struct Vue {
    pub filiere: Filiere,
    pub millesime: Millesime,
    /// Every formation classified in a quadrant (for the scatter).
    pub classees: Vec<Ligne>,
    /// The Q4 formations, most below the employment reference first.
    pub q4: Vec<Ligne>,
    /// Formations outside the quadrants, and common first years.
    pub hors_quadrant: usize,
}

/// The région's views: per filière, its latest millésime there (or `millesime`).
pub fn select(rows: &[Ligne], region: &str, millesime: Option<Millesime>) -> Vec<Vue> {
    let here: Vec<&Ligne> = rows.iter().filter(|r| r.region_code == region).collect();
    let mut latest: BTreeMap<Filiere, Millesime> = BTreeMap::new();
    for r in &here {
        let m = latest.entry(r.filiere).or_insert(r.millesime);
        if r.millesime > *m {
            *m = r.millesime;
        }
    }
    let mut vues = Vec::new();
    for (filiere, newest) in latest {
        let m = millesime.unwrap_or(newest);
        let of_view: Vec<&Ligne> = here
            .iter()
            .copied()
            .filter(|r| r.filiere == filiere && r.millesime == m)
            .collect();
        if of_view.is_empty() {
            continue;
        }
        let classees: Vec<Ligne> = of_view
            .iter()
            .filter(|r| {
                matches!(
                    r.position,
                    Position::Q1 | Position::Q2 | Position::Q3 | Position::Q4
                )
            })
            .map(|r| (*r).clone())
            .collect();
        let mut q4: Vec<Ligne> = classees
            .iter()
            .filter(|r| r.position == Position::Q4)
            .cloned()
            .collect();
        q4.sort_by(|a, b| {
            (
                a.ecart_taux_en_emploi_6_mois,
                a.ecart_taux_poursuite_etudes,
                &a.code_certification,
            )
                .cmp(&(
                    b.ecart_taux_en_emploi_6_mois,
                    b.ecart_taux_poursuite_etudes,
                    &b.code_certification,
                ))
        });
        vues.push(Vue {
            filiere,
            millesime: m,
            hors_quadrant: of_view.len() - classees.len(),
            classees,
            q4,
        });
    }
    vues
}

/// The région asked for: a région code, or an académie (through its
/// départements, the académie's région: the figures are regional).
pub fn resolve_region(
    reference: &Reference,
    region: Option<&str>,
    academie: Option<&str>,
) -> Result<(String, String)> {
    match (region, academie) {
        (Some(code), None) => {
            let r = reference.region(code).ok_or_else(|| {
                Error::usage(format!(
                    "--region {code}: not a région code (INSEE: 11, 84, 93…)"
                ))
            })?;
            Ok((r.code.clone(), r.libelle.clone()))
        }
        (None, Some(code)) => {
            let a = reference
                .academie(code)
                .or_else(|| reference.academie_by_name(code))
                .ok_or_else(|| {
                    Error::usage(format!("--academie {code}: not an académie code or name"))
                })?;
            let r = reference.region(&a.region_code).ok_or_else(|| {
                Error::usage(format!(
                    "académie {}: its région is not in the referential",
                    a.libelle
                ))
            })?;
            Ok((
                r.code.clone(),
                format!("{} (académie de {})", r.libelle, a.libelle),
            ))
        }
        _ => Err(Error::usage(
            "ij pilotage needs --region CODE or --academie CODE",
        )),
    }
}

/// The Q4 formations as an output table.
pub fn q4_table(vues: &[Vue]) -> OutTable {
    let rows: Vec<&Ligne> = vues.iter().flat_map(|v| &v.q4).collect();
    let mut t = OutTable::new("pilotage_q4");
    t.str("millesime", rows.iter().map(|r| r.millesime.text()))
        .str("filiere", rows.iter().map(|r| r.filiere.as_str()))
        .str("region_code", rows.iter().map(|r| &r.region_code))
        .str(
            "code_certification",
            rows.iter().map(|r| &r.code_certification),
        )
        .str("libelle", rows.iter().map(|r| &r.libelle))
        .str(
            "libelle_niveau_diplome",
            rows.iter().map(|r| &r.libelle_niveau_diplome),
        )
        .str(
            "donnee_source_type",
            rows.iter().map(|r| &r.donnee_source_type),
        )
        .int("nb_annee_term", rows.iter().map(|r| r.nb_annee_term))
        .int(
            "taux_en_emploi_6_mois",
            rows.iter().map(|r| r.taux_en_emploi_6_mois),
        )
        .int(
            "reference_taux_en_emploi_6_mois",
            rows.iter().map(|r| r.reference_taux_en_emploi_6_mois),
        )
        .int(
            "ecart_taux_en_emploi_6_mois",
            rows.iter().map(|r| r.ecart_taux_en_emploi_6_mois),
        )
        .int(
            "taux_poursuite_etudes",
            rows.iter().map(|r| r.taux_poursuite_etudes),
        )
        .int(
            "reference_taux_poursuite_etudes",
            rows.iter().map(|r| r.reference_taux_poursuite_etudes),
        )
        .int(
            "ecart_taux_poursuite_etudes",
            rows.iter().map(|r| r.ecart_taux_poursuite_etudes),
        )
        .int(
            "taux_devenir_favorable",
            rows.iter().map(|r| r.taux_devenir_favorable),
        );
    t
}

/// Writes the table and the page into a temporary folder inside `out_dir`,
/// then renames each file into place: the files of other régions in the
/// folder stay, and a failure leaves no half-written file.
fn write_beside(out_dir: &Path, table: &OutTable, page: &str, html: &str) -> Result<Vec<PathBuf>> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(write_error(out_dir))?;
    let tmp = out_dir.join(format!(".ij-tmp-pilotage-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(write_error(&tmp))?;
    let result = (|| {
        table.write(&tmp, &CsvOptions::default())?;
        std::fs::write(tmp.join(page), html).map_err(write_error(&tmp.join(page)))?;
        let mut written = Vec::new();
        for name in [
            format!("{}.csv", table.name),
            format!("{}.parquet", table.name),
            page.to_string(),
        ] {
            let to = out_dir.join(&name);
            std::fs::rename(tmp.join(&name), &to).map_err(write_error(&to))?;
            written.push(to);
        }
        Ok(written)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// What `ij pilotage` was asked.
pub struct PilotageArgs<'a> {
    pub run: &'a Path,
    pub region: Option<&'a str>,
    pub academie: Option<&'a str>,
    pub millesime: Option<Millesime>,
    pub out: Option<&'a Path>,
}

/// Reads, selects, writes the CSV, Parquet and HTML page, and returns the
/// text to print and the files written.
pub fn run(args: &PilotageArgs) -> Result<(String, Vec<PathBuf>)> {
    let reference = Reference::embedded();
    let (region, libelle) = resolve_region(&reference, args.region, args.academie)?;
    let path = locate(args.run)?;
    let rows = read(&path)?;
    let vues = select(&rows, &region, args.millesime);
    if vues.is_empty() {
        return Err(Error::usage(format!(
            "{}: no formation of région {region}{} in the pilotage table",
            path.display(),
            args.millesime
                .map(|m| format!(" in {m}"))
                .unwrap_or_default()
        )));
    }
    let mut text = format!("Formations peu insérantes (Q4) — {libelle}\n");
    for v in &vues {
        text.push_str(&format!(
            "\n{} {}: {} Q4 of {} formations classified ({} outside the quadrants)\n",
            v.filiere.as_str(),
            v.millesime,
            v.q4.len(),
            v.classees.len(),
            v.hors_quadrant
        ));
        text.push_str("  code         emploi (réf, écart)   poursuite (réf, écart)  libellé\n");
        for r in &v.q4 {
            let n = |v: Option<i64>| v.map_or("–".to_string(), |x| x.to_string());
            text.push_str(&format!(
                "  {:<12} {:>3} % ({:>3}, {:>4})   {:>3} % ({:>3}, {:>4})     {} ({})\n",
                r.code_certification,
                n(r.taux_en_emploi_6_mois),
                n(r.reference_taux_en_emploi_6_mois),
                n(r.ecart_taux_en_emploi_6_mois),
                n(r.taux_poursuite_etudes),
                n(r.reference_taux_poursuite_etudes),
                n(r.ecart_taux_poursuite_etudes),
                r.libelle,
                r.libelle_niveau_diplome
            ));
        }
    }
    let out_dir = args
        .out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| args.run.join("pilotage"));
    let suffix = match args.millesime {
        Some(m) => format!("{region}_{m}"),
        None => region.clone(),
    };
    let mut table = q4_table(&vues);
    table.name = format!("pilotage_q4_{suffix}");
    let html = page::render(&libelle, &vues);
    let written = write_beside(&out_dir, &table, &format!("pilotage_{suffix}.html"), &html)?;
    Ok((text, written))
}
