//! The InserJeunes files per certification: regional (`ij_region_data.csv`)
//! and national. Both share one loader ([`load_certifications`]), which
//! checks the code, the région and the counts of each row; the layouts are
//! described in the parent module.

use std::path::Path;

use crate::error::Result;
use crate::input::{Col, RawTable, Row};
use crate::rules::codes::{check_code, Code, CodeType};
use crate::rules::filiere::Filiere;
use crate::staging::mesures::{
    kept_rates, Counts, MesureRow, Niveau, Origin, Salaires, SourceRates, Staged,
};
use crate::staging::reference::Reference;

use super::fields::*;
use super::{HORIZONS, PERCENT};

/// Loads an InserJeunes regional file (`ij_region_data.csv`): one
/// [`MesureRow`] per millésime × filière × certification × région.
pub fn load_regional(path: &Path, reference: &Reference) -> Result<Staged> {
    load_certifications(path, Level::Region(reference))
}

/// Loads an InserJeunes national file: one [`MesureRow`] per millésime ×
/// filière × certification, with salaries where the file has them.
pub fn load_national(path: &Path) -> Result<Staged> {
    load_certifications(path, Level::National)
}

enum Level<'a> {
    National,
    Region(&'a Reference),
}

struct CertificationColumns {
    millesime: Col,
    voie: Col,
    cfd: Option<Col>,
    mefstat11: Option<Col>,
    code_region: Option<Col>,
    code_region_ij: Option<Col>,
    nb_annee_term: Col,
    nb_poursuite_etudes: Col,
    nb_sortant: Col,
    /// `nb_en_emploi_{6,12,18,24}_mois`.
    nb_en_emploi: [Col; 4],
    /// `taux_emploi_{6,12,18,24}_mois`.
    taux_emploi: [Col; 4],
    taux_poursuite_etudes: Col,
    /// `salaire_12_mois_q{1,2,3}`, optional.
    salaires: [Option<Col>; 3],
}

impl CertificationColumns {
    fn find(table: &RawTable, level: &Level) -> Result<CertificationColumns> {
        let [millesime, voie, nb_annee_term, nb_poursuite_etudes, nb_sortant, taux_poursuite_etudes] =
            table.columns([
                "millesime",
                "voie",
                "nb_annee_term",
                "nb_poursuite_etudes",
                "nb_sortant",
                "taux_poursuite_etudes",
            ])?;
        let cfd = table.optional_column("cfd");
        let mefstat11 = table.optional_column("mefstat11");
        if cfd.is_none() && mefstat11.is_none() {
            // Reported as the missing column `cfd`, with the columns found.
            table.column("cfd")?;
        }
        let (code_region, code_region_ij) = match level {
            Level::National => (None, None),
            Level::Region(_) => {
                let insee = table.optional_column("code_region");
                let ij = table.optional_column("code_region_ij");
                if insee.is_none() && ij.is_none() {
                    table.column("code_region")?;
                }
                (insee, ij)
            }
        };
        Ok(CertificationColumns {
            millesime,
            voie,
            cfd,
            mefstat11,
            code_region,
            code_region_ij,
            nb_annee_term,
            nb_poursuite_etudes,
            nb_sortant,
            nb_en_emploi: horizon_columns(table, "nb_en_emploi_{}_mois")?,
            taux_emploi: horizon_columns(table, "taux_emploi_{}_mois")?,
            taux_poursuite_etudes,
            salaires: [
                "salaire_12_mois_q1",
                "salaire_12_mois_q2",
                "salaire_12_mois_q3",
            ]
            .map(|name| table.optional_column(name)),
        })
    }
}

/// The four columns `pattern` names for 6, 12, 18 and 24 months (`{}` is the horizon).
fn horizon_columns(table: &RawTable, pattern: &str) -> Result<[Col; 4]> {
    let mut cols = Vec::with_capacity(4);
    for h in HORIZONS {
        cols.push(table.column(&pattern.replace("{}", &h.to_string()))?);
    }
    Ok(cols.try_into().expect("one column per horizon"))
}

fn load_certifications(path: &Path, level: Level) -> Result<Staged> {
    let open = |table: &RawTable| CertificationColumns::find(table, &level);
    load_in_chunks(path, open, |cols, table, out| {
        let collector: &Collector = out;
        let staged = stage_each_row(table, |row| {
            stage_certification(&row, cols, &level, collector.origin(&row))
        });
        for (row, staged) in table.rows().zip(staged) {
            match staged {
                Ok(m) => out.push_row(&row, m),
                Err(reason) => out.reject(&row, reason),
            }
        }
    })
}

fn stage_certification(
    row: &Row,
    cols: &CertificationColumns,
    level: &Level,
    origin: Origin,
) -> Checked<MesureRow> {
    let millesime = parse_millesime(row.get(&cols.millesime))?;
    let filiere = parse_voie(row.get(&cols.voie))?;
    let (code_certification, code_certification_type) = certification_code(row, cols, filiere)?;
    let niveau = match level {
        Level::National => Niveau::National,
        Level::Region(reference) => Niveau::Region(resolve_region(
            reference,
            cols.code_region.as_ref().map_or("", |c| row.get(c)),
            cols.code_region_ij.as_ref().map_or("", |c| row.get(c)),
        )?),
    };
    let count = |col: &Col| parse_count(col.name(), row.get(col));
    let [e6, e12, e18, e24] = &cols.nb_en_emploi;
    let counts = Counts {
        nb_annee_term: count(&cols.nb_annee_term)?,
        nb_poursuite_etudes: count(&cols.nb_poursuite_etudes)?,
        nb_sortant: count(&cols.nb_sortant)?,
        nb_en_emploi_6_mois: count(e6)?,
        nb_en_emploi_12_mois: count(e12)?,
        nb_en_emploi_18_mois: count(e18)?,
        nb_en_emploi_24_mois: count(e24)?,
        nb_diplome: None,
    };
    check_counts(&counts)?;
    let rate = |col: &Col| parse_number(col.name(), row.get(col), &PERCENT);
    let [t6, t12, t18, t24] = &cols.taux_emploi;
    let source_rates = SourceRates {
        taux_en_emploi_6_mois: rate(t6)?,
        taux_en_emploi_12_mois: rate(t12)?,
        taux_en_emploi_18_mois: rate(t18)?,
        taux_en_emploi_24_mois: rate(t24)?,
        taux_poursuite_etudes: rate(&cols.taux_poursuite_etudes)?,
        ..SourceRates::default()
    };
    let salaire = |col: &Option<Col>| match col {
        Some(c) => parse_salaire(c.name(), row.get(c)),
        None => Ok(None),
    };
    let [q1, q2, q3] = &cols.salaires;
    let salaires = Salaires {
        salaire_12_mois_q1: salaire(q1)?,
        salaire_12_mois_q2: salaire(q2)?,
        salaire_12_mois_q3: salaire(q3)?,
    };
    check_quartiles(&salaires)?;
    Ok(MesureRow {
        millesime,
        filiere,
        code_certification,
        code_certification_type,
        niveau,
        source_rates: kept_rates(&counts, source_rates),
        counts: counts.into(),
        salaires: salaires.into(),
        libelle_etablissement: None,
        origin,
    })
}

/// The voie of an InserJeunes row: `scolaire` (pro), `apprentissage`, or
/// `agricole`; higher education is InserSup's, not InserJeunes's.
fn parse_voie(value: &str) -> Checked<Filiere> {
    match Filiere::parse(value) {
        Ok(Filiere::Superieur) => Err(reason(
            "unknown_voie",
            format!("\"{value}\" is higher education (InserSup), not an InserJeunes voie"),
        )),
        Ok(filiere) => Ok(filiere),
        Err(message) => Err(reason("unknown_voie", message)),
    }
}

/// The code a row is keyed by: the CFD for apprentissage, the MEF_STAT_11
/// for the voie scolaire. The other code column, if filled, is not read.
fn certification_code(
    row: &Row,
    cols: &CertificationColumns,
    filiere: Filiere,
) -> Checked<(Code, CodeType)> {
    let code_type = filiere.code_type();
    let (col, other, name) = match code_type {
        CodeType::Cfd => (&cols.cfd, &cols.mefstat11, "cfd"),
        _ => (&cols.mefstat11, &cols.cfd, "mefstat11"),
    };
    let value = col.as_ref().map_or("", |c| row.get(c));
    if value.is_empty() {
        let hint = other
            .as_ref()
            .and_then(|c| row.opt(c))
            .map(|o| format!(" ({} holds \"{o}\": is the voie right?)", name_of(other)))
            .unwrap_or_default();
        return Err(reason(
            "missing_code",
            format!(
                "voie {filiere} is keyed by {}, but {name} is empty{hint}",
                code_type.expected()
            ),
        ));
    }
    check_code(code_type, value).map_err(|m| reason("invalid_code", format!("{name}: {m}")))?;
    if code_type == CodeType::MefStat11 {
        crate::rules::codes::check_mef_stat_11_end(value)
            .map_err(|m| reason("invalid_code", format!("{name}: {m}")))?;
        if let Some(cfd) = other.as_ref().and_then(|c| row.opt(c)) {
            crate::rules::codes::mef_matches_cfd(value, cfd)
                .map_err(|m| reason("mef_cfd_mismatch", m))?;
        }
    }
    Ok((Code::from(value), code_type))
}

fn name_of(col: &Option<Col>) -> &str {
    col.as_ref().map_or("", |c| c.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::staging::inserjeunes::test_support::{fixture, write};
    use crate::staging::inserjeunes::{reason_tag, rejects_by_tag};

    const REGIONAL_HEADER: &str = "id;millesime;code_region_ij;code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes";

    /// A regional file holding `rows` under the real header.
    fn regional(rows: &[&str]) -> Staged {
        let text = format!("{REGIONAL_HEADER}\n{}\n", rows.join("\n"));
        let (_dir, path) = write("ij_region_data.csv", &text);
        let staged = load_regional(&path, &Reference::embedded()).unwrap();
        assert!(staged.balances());
        staged
    }

    /// The one reject of a one-row regional file.
    fn regional_reject(row: &str) -> String {
        let staged = regional(&[row]);
        assert_eq!(staged.rejects.len(), 1, "{row}: {:?}", staged.rows);
        staged.rejects[0].reason.clone()
    }

    // A good apprentissage row for IDF: 40 students, 12 go on, 28 leave.
    const GOOD: &str =
        "x;2021_2022;10;11;apprentissage;40025510;;40;18;19;20;15;12;28;64;68;71;54;30";

    #[test]
    fn regional_row_is_typed() {
        let staged = regional(&[GOOD]);
        assert_eq!(staged.rows.len(), 1);
        let m = &staged.rows[0];
        assert_eq!(m.millesime.to_string(), "2021_2022");
        assert_eq!(m.filiere, Filiere::Apprentissage);
        assert_eq!(m.code_certification, "40025510");
        assert_eq!(m.code_certification_type, CodeType::Cfd);
        assert_eq!(m.niveau, Niveau::Region("11".into()));
        assert_eq!(m.counts.get().nb_annee_term, Some(40));
        assert_eq!(m.counts.get().nb_sortant, Some(28));
        assert_eq!(m.counts.get().nb_en_emploi_6_mois, Some(15));
        assert_eq!(m.counts.get().nb_en_emploi_24_mois, Some(20));
        // Beside counts, the source's rates are checked, then let go
        // (`kept_rates`): only a row without counts publishes them.
        assert!(m.source_rates.is_empty());
        assert_eq!(m.origin.line, 2);
        let rates_only =
            regional(&["x;2021_2022;10;11;apprentissage;40025510;;;;;;;;;64;68;71;54;30"]);
        let m = &rates_only.rows[0];
        assert!(m.counts.is_empty());
        assert_eq!(m.source_rates.taux_en_emploi_6_mois, Some(54.0));
        assert_eq!(m.source_rates.taux_en_emploi_12_mois, Some(64.0));
        assert_eq!(m.source_rates.taux_en_emploi_24_mois, Some(71.0));
        assert_eq!(m.source_rates.taux_poursuite_etudes, Some(30.0));
    }

    #[test]
    fn scolaire_is_pro_keyed_by_mef_stat_11() {
        let staged = regional(&["x;2022_2023;01;84;scolaire;;23830025513;25;;;;;25;;;;;;100"]);
        let m = &staged.rows[0];
        assert_eq!(m.filiere, Filiere::Pro);
        assert_eq!(m.code_certification_type, CodeType::MefStat11);
        // nb_sortant empty stays empty: the stage fills it.
        assert_eq!(m.counts.get().nb_sortant, None);
        assert_eq!(m.counts.get().nb_poursuite_etudes, Some(25));
    }

    #[test]
    fn region_from_the_insee_code_or_the_inserjeunes_code() {
        let r = Reference::embedded();
        // InserJeunes 10 is Île-de-France, INSEE 11 (DOMAIN.md).
        assert_eq!(resolve_region(&r, "", "10"), Ok("11".into()));
        assert_eq!(resolve_region(&r, "11", ""), Ok("11".into()));
        assert_eq!(resolve_region(&r, "11", "10"), Ok("11".into()));
        assert_eq!(resolve_region(&r, "84", "01"), Ok("84".into()));
        assert_eq!(resolve_region(&r, "", "1"), Ok("84".into()));
        // An INSEE code that is not one falls back on the InserJeunes code.
        assert_eq!(resolve_region(&r, "99", "17"), Ok("52".into()));
        let staged = regional(&[GOOD.replace(";10;11;", ";10;;").as_str()]);
        assert_eq!(staged.rows[0].niveau, Niveau::Region("11".into()));
    }

    #[test]
    fn rejects_regions_that_disagree_or_are_unknown() {
        let reason = regional_reject(&GOOD.replace(";10;11;", ";01;11;"));
        assert!(reason.starts_with("region_mismatch: "), "{reason}");
        assert!(
            reason.contains("\"11\"") && reason.contains("\"01\""),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";10;11;", ";99;98;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";10;11;", ";;;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";10;11;", ";99;11;"));
        assert!(reason.starts_with("unknown_region: "), "{reason}");
    }

    #[test]
    fn rejects_unknown_millesime_and_voie() {
        let reason = regional_reject(&GOOD.replace("2021_2022", "20x9"));
        assert!(
            reason.starts_with("unknown_millesime: \"20x9\" is not a millésime"),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace("apprentissage", "alternance"));
        assert!(reason.starts_with("unknown_voie: "), "{reason}");
        let reason = regional_reject(&GOOD.replace("apprentissage", "superieur"));
        assert!(reason.starts_with("unknown_voie: "), "{reason}");
    }

    #[test]
    fn rejects_missing_or_invalid_codes() {
        // Apprentissage keyed by a CFD, but only a MEF_STAT_11 is given.
        let reason = regional_reject(&GOOD.replace(";40025510;;", ";;23830025510;"));
        assert!(reason.starts_with("missing_code: "), "{reason}");
        assert!(reason.contains("23830025510"), "{reason}");
        // A MEF_STAT_11 in the cfd column.
        let reason = regional_reject(&GOOD.replace(";40025510;;", ";23830025510;;"));
        assert!(reason.starts_with("invalid_code: cfd: "), "{reason}");
        let reason = regional_reject(
            "x;2021_2022;10;11;scolaire;;2383002551;40;18;19;20;15;12;28;64;68;71;54;30",
        );
        assert!(reason.starts_with("invalid_code: mefstat11: "), "{reason}");
    }

    #[test]
    fn rejects_bad_counts() {
        let reason = regional_reject(&GOOD.replace(";40;18;", ";40.5;18;"));
        assert!(
            reason.starts_with("invalid_number: nb_annee_term"),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";40;18;", ";abc;18;"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";40;18;", ";40;-18;"));
        assert!(
            reason.starts_with("negative_count: nb_en_emploi_12_mois"),
            "{reason}"
        );
        // A re-saved file's `40.0` is still a whole number.
        let staged = regional(&[GOOD.replace(";40;18;", ";40.0;18;").as_str()]);
        assert_eq!(staged.rows[0].counts.get().nb_annee_term, Some(40));
    }

    #[test]
    fn rejects_inconsistent_counts() {
        // 29 in employment at 6 months out of 28 leavers.
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";29;12;28;"));
        assert_eq!(
            reason,
            "emploi_above_sortants: nb_en_emploi_6_mois (29) is above nb_sortant (28)"
        );
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";15;41;28;"));
        assert!(
            reason.starts_with("poursuite_above_annee_term: "),
            "{reason}"
        );
        let reason = regional_reject(&GOOD.replace(";15;12;28;", ";15;;41;"));
        assert!(
            reason.starts_with("sortants_above_annee_term: "),
            "{reason}"
        );
    }

    #[test]
    fn rejects_rates_outside_0_to_100() {
        let reason = regional_reject(&GOOD.replace(";54;30", ";154;30"));
        assert_eq!(
            reason,
            "rate_out_of_range: taux_emploi_6_mois is 154, expected 0 to 100"
        );
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;-1"));
        assert!(reason.starts_with("rate_out_of_range: "), "{reason}");
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;n/a"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
        // Not published: missing.
        let staged = regional(&[GOOD.replace(";54;30", ";nd;30").as_str()]);
        assert_eq!(staged.rows[0].source_rates.taux_en_emploi_6_mois, None);
        let reason = regional_reject(&GOOD.replace(";54;30", ";54;x"));
        assert!(reason.starts_with("invalid_number: "), "{reason}");
    }

    #[test]
    fn a_duplicate_key_keeps_the_first_row() {
        let other_region = GOOD.replace(";10;11;", ";01;84;");
        let scolaire =
            "x;2021_2022;10;11;scolaire;;23830025510;40;18;19;20;15;12;28;64;68;71;54;30";
        let staged = regional(&[GOOD, &other_region, scolaire, GOOD]);
        assert_eq!(staged.rows.len(), 3);
        assert_eq!(staged.rejects.len(), 1);
        let reject = &staged.rejects[0];
        assert_eq!(reject.line, 5);
        assert_eq!(
            reject.reason,
            "duplicate_key: 2021_2022 apprentissage 40025510 in région 11 is already on line 2 (the first row is kept)"
        );
        assert_eq!(reason_tag(&reject.reason), "duplicate_key");
    }

    #[test]
    fn a_missing_column_is_a_file_error() {
        let text = REGIONAL_HEADER.replace(";nb_sortant;", ";nb_sortants;") + "\n" + GOOD + "\n";
        let (_dir, path) = write("ij_region_data.csv", &text);
        let err = load_regional(&path, &Reference::embedded())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ij_region_data.csv") && err.contains("nb_sortant"),
            "{err}"
        );
        let err = load_regional(Path::new("/nonexistent/ij.csv"), &Reference::embedded());
        assert!(err.is_err());
    }

    #[test]
    fn regional_fixture() {
        let staged = load_regional(&fixture("ij_region_data.csv"), &Reference::embedded()).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows_read, 48);
        assert_eq!(staged.rows.len(), 44);
        let tags = rejects_by_tag(&staged.rejects);
        let expected: BTreeMap<String, usize> = [
            ("emploi_above_sortants", 1),
            ("negative_count", 1),
            ("unknown_millesime", 1),
            ("unknown_voie", 1),
        ]
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect();
        assert_eq!(tags, expected);
        // The source's rates are integer percentages, rounded half to even.
        for m in &staged.rows {
            let c = m.counts.get();
            let pct = |n: Option<i64>, d: Option<i64>| {
                crate::rules::rates::percentage(n, d).map(|p| p as f64)
            };
            if m.source_rates.taux_en_emploi_6_mois.is_some() {
                assert_eq!(
                    m.source_rates.taux_en_emploi_6_mois,
                    pct(c.nb_en_emploi_6_mois, c.nb_sortant),
                    "{m:?}"
                );
            }
            if m.source_rates.taux_poursuite_etudes.is_some() {
                assert_eq!(
                    m.source_rates.taux_poursuite_etudes,
                    pct(c.nb_poursuite_etudes, c.nb_annee_term),
                    "{m:?}"
                );
            }
        }
        let regions: std::collections::BTreeSet<_> =
            staged.rows.iter().map(|m| m.niveau.clone()).collect();
        assert_eq!(regions.len(), 4);
    }

    #[test]
    fn national_fixture_with_salaries() {
        let staged = load_national(&fixture("national.csv")).unwrap();
        assert!(staged.balances());
        assert_eq!((staged.rows.len(), staged.rejects.len()), (7, 0));
        assert!(staged.rows.iter().all(|m| m.niveau == Niveau::National));
        assert!(staged
            .rows
            .iter()
            .all(|m| m.millesime.to_string() == "2023"));
        let cap = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "24120022140")
            .unwrap();
        // Decimal comma.
        assert_eq!(cap.salaires.salaire_12_mois_q1, Some(1290.5));
        assert_eq!(cap.salaires.salaire_12_mois_q3, Some(1575.25));
        let bac = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "40025513")
            .unwrap();
        assert_eq!(bac.salaires.salaire_12_mois_q1, Some(1450.5));
        let small = staged
            .rows
            .iter()
            .find(|m| m.code_certification == "46321218")
            .unwrap();
        assert_eq!(*small.salaires, Salaires::default());
        assert!(small.source_rates.is_empty());
    }

    #[test]
    fn national_salaries_are_checked() {
        let header = "millesime;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes;salaire_12_mois_q1;salaire_12_mois_q2;salaire_12_mois_q3";
        let text = format!(
            "{header}\n\
             2023;apprentissage;40025513;;980;520;;;470;250;730;71;;;64;26;1 450,5;1602;1790\n\
             2023;apprentissage;50022140;;1210;610;;;560;310;900;68;;;62;26;1380;abc;1690\n\
             2023;apprentissage;50022141;;1210;610;;;560;310;900;68;;;62;26;1380;1700;1690\n\
             2023;apprentissage;40025513;;1;;;;;;;;;;;;;;\n"
        );
        let (_dir, path) = write("national.csv", &text);
        let staged = load_national(&path).unwrap();
        assert!(staged.balances());
        assert_eq!(staged.rows[0].salaires.salaire_12_mois_q1, Some(1450.5));
        let tags: Vec<&str> = staged
            .rejects
            .iter()
            .map(|r| reason_tag(&r.reason))
            .collect();
        assert_eq!(
            tags,
            [
                "invalid_number",
                "salaire_quartiles_out_of_order",
                "duplicate_key"
            ]
        );
        assert!(staged.rejects[2].reason.contains("nationally"));
    }
}
