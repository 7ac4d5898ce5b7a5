//! The InserJeunes files of the synthetic universe (the regional file, the
//! CFA open-data file, the DEPP "valeur ajoutée" files) and InserSup's API
//! JSON, in the real layouts.

use std::path::Path;

use super::prng::{quantile, Rng};
use super::universe::{upper_ascii, Universe, MILLESIMES, REGIONS};
use super::writer::{Encoding, Lines};
use crate::error::Result;

/// `nb_annee_term` of the real regional file by quantile: 11 % under 5,
/// 38 % under the seuil of 20, median 30, 90th percentile 239.
const ANNEE_TERM: &[(f64, f64)] = &[
    (0.0, 1.0),
    (0.05, 2.0),
    (0.08, 3.0),
    (0.11, 4.5),
    (0.15, 6.0),
    (0.2, 9.0),
    (0.25, 11.0),
    (0.3, 15.0),
    (0.38, 20.0),
    (0.45, 25.0),
    (0.5, 30.0),
    (0.6, 45.0),
    (0.7, 68.0),
    (0.8, 116.0),
    (0.85, 161.0),
    (0.9, 239.0),
    (0.95, 435.0),
    (0.98, 790.0),
    (0.995, 1655.0),
    (1.0, 6000.0),
];

const REGIONAL_HEADER: &str = "id;millesime;code_region_ij;code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois;taux_emploi_18_mois;taux_emploi_24_mois;taux_emploi_6_mois;taux_poursuite_etudes";

fn pct(n: u64, d: u64) -> u64 {
    (200 * n + d) / (2 * d)
}

/// One row of counts: `nb_annee_term` from the code's place in the
/// distribution, further studies about 38 %, employment about 55 % of leavers.
fn counts(rng: &mut Rng, size: f64) -> [u64; 7] {
    let u = (0.75 * size + 0.25 * rng.unit()).clamp(0.0, 1.0);
    let term = quantile(ANNEE_TERM, u).round().max(1.0) as u64;
    let poursuite = (term as f64 * (0.2 + 0.36 * rng.unit())).round() as u64;
    let sortant = term - poursuite.min(term);
    let e6 = (sortant as f64 * (0.35 + 0.4 * rng.unit())).round() as u64;
    let e12 = (e6 + (sortant - e6) / 5).min(sortant);
    let e18 = (e12 + (sortant - e12) / 6).min(sortant);
    let e24 = (e18 + (sortant - e18) / 8).min(sortant);
    [term, e12, e18, e24, e6, poursuite, sortant]
}

/// The regional file: one row per millésime × voie × code × région the
/// code is taught in (about one in eight left out at random).
pub fn write_regional(u: &Universe, rng: &mut Rng, path: &Path) -> Result<u64> {
    let mut out = Lines::create(path, Encoding::Utf8Bom)?;
    out.line(REGIONAL_HEADER)?;
    let mut rows = 0;
    let terminal = terminal_mefs(u);
    for year in MILLESIMES {
        let millesime = format!("{}_{year}", year - 1);
        for voie in ["apprentissage", "scolaire"] {
            for (f, code) in regional_codes(u, voie, &terminal) {
                let formation = &u.formations[f];
                if !formation.surveyed_in(year) {
                    continue;
                }
                for &r in &formation.regions {
                    if rng.chance(0.12) {
                        continue;
                    }
                    let (insee, ij, _, _) = REGIONS[r];
                    let c = counts(rng, formation.size);
                    let (cfd, mef) = if voie == "scolaire" {
                        ("", code)
                    } else {
                        (code, "")
                    };
                    let figures = regional_figures(&c);
                    out.line(&format!(
                        "{millesime}_{ij}_{voie}_{code};{millesime};{ij};{insee};{voie};{cfd};{mef};{figures}"
                    ))?;
                    rows += 1;
                }
            }
        }
    }
    out.finish()?;
    Ok(rows)
}

/// Voie scolaire rows are keyed by the terminal year's MEF_STAT_11: the
/// terminal MEFs of the school formations, common first years left out
/// (they have no terminal year of their own).
fn terminal_mefs(u: &Universe) -> Vec<(usize, &str)> {
    u.mefs
        .iter()
        .filter(|m| m.scolaire && m.annee == m.duree && !u.formations[m.formation].commune)
        .map(|m| (m.formation, m.mef_stat_11.as_str()))
        .collect()
}

/// The codes a voie has rows for: the surveyed terminal MEFs for the voie
/// scolaire, the surveyed formations' CFDs for apprenticeship.
fn regional_codes<'u>(
    u: &'u Universe,
    voie: &str,
    terminal: &[(usize, &'u str)],
) -> Vec<(usize, &'u str)> {
    if voie == "scolaire" {
        terminal
            .iter()
            .filter(|(f, _)| u.formations[*f].survey_scolaire)
            .copied()
            .collect()
    } else {
        (0..u.formations.len())
            .filter(|&f| u.formations[f].survey_apprentissage)
            .map(|f| (f, u.formations[f].cfd.as_str()))
            .collect()
    }
}

/// A row's counts and rates, masked as the source masks them: under 5
/// students only `nb_annee_term`, under 20 the counts without rates, and
/// the employment rates only with at least 20 leavers.
fn regional_figures(c: &[u64; 7]) -> String {
    if c[0] < 5 {
        // Under 5 students the source gives nb_annee_term only.
        return format!("{};;;;;;;;;;;", c[0]);
    }
    let rates = if c[0] < 20 {
        ";;;;".to_string()
    } else {
        let t = |n| {
            if c[6] >= 20 {
                pct(n, c[6]).to_string()
            } else {
                String::new()
            }
        };
        format!(
            "{};{};{};{};{}",
            t(c[1]),
            t(c[2]),
            t(c[3]),
            t(c[4]),
            pct(c[5], c[0])
        )
    };
    format!(
        "{};{};{};{};{};{};{};{rates}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    )
}

fn rate(rng: &mut Rng, lo: f64, hi: f64) -> u64 {
    (lo + (hi - lo) * rng.unit()).round() as u64
}

/// The CFA open-data file: one row per CFA and year it has figures for.
pub fn write_cfa(u: &Universe, rng: &mut Rng, path: &Path) -> Result<()> {
    let mut out = Lines::create(path, Encoding::Utf8Bom)?;
    out.line("Année;UAI;Libellé;Région;DEVENIR Part poursuite études;DEVENIR Part en emploi 6 mois;DEVENIR Part autre situation 6 mois;Part contrats apprentissage interrompus;Taux poursuite études;Taux emploi 6 mois;Taux emploi 6 mois attendu;VA emploi 6 mois;Taux emploi 12 mois;Taux emploi 18 mois;Taux emploi 24 mois;num_ligne")?;
    let mut n = 10_000;
    for year in 2019..=2024 {
        for e in u
            .etablissements
            .iter()
            .filter(|e| e.cfa && e.depuis <= year)
        {
            let poursuite = rate(rng, 10.0, 50.0);
            let emploi = rate(rng, 20.0, 100.0 - poursuite as f64);
            let autre = 100 - poursuite - emploi;
            let taux = rate(rng, 45.0, 90.0);
            let attendu = rate(rng, 50.0, 85.0);
            let t12 = (taux + rate(rng, 0.0, 8.0)).min(100);
            let late = if year >= 2022 {
                format!("{:.1};{:.1}", t12 as f64, t12 as f64)
            } else {
                ";".to_string()
            };
            out.line(&format!(
                "cumul {}-{year};{};{};{};{poursuite}.0;{emploi}.0;{autre}.0;;{poursuite}.0;{taux}.0;{attendu}.0;{}.0;{t12}.0;{late};{n}.0",
                year - 1,
                e.uai,
                e.libelle,
                upper_ascii(REGIONS[e.region].2),
                taux as i64 - attendu as i64,
            ))?;
            n += 1;
        }
    }
    out.finish()
}

/// The ten DEPP files, 2018_2019 to 2022_2023, pro and apprentissage, each
/// year with its own header (blank column names and quotes up to 2019_2020).
pub fn write_depp(u: &Universe, rng: &mut Rng, dir: &Path) -> Result<()> {
    const Q: &str = "\"n°UAI de l'établissement\";\"Libellé de l'établissement\";\"Région\"";
    const H: &str = "n°UAI de l'établissement;Libellé de l'établissement;Région";
    for year in 2019..=2023 {
        for cfa in [false, true] {
            let voie = if cfa { "apprentissage" } else { "pro" };
            let name = format!("depp-2022-etablissements-{}_{year}-{voie}.csv", year - 1);
            let header = match (year, cfa) {
                (2019, true) => format!("{Q};;;\"Taux\";\"Taux attendu\";\"Valeur ajoutée\";;;"),
                (2019, false) => format!("{Q};;;\"Taux\";\"Taux attendu\";\"Valeur ajoutée\";;;"),
                (2020, true) => format!("{Q};;;\"Taux\";\"Taux attendu\";\"Valeur ajoutée\";"),
                (2020, false) => format!("{Q};\"Dont apprentis en EPLE\";;\"Taux\";\"Taux attendu\";\"Valeur ajoutée\";"),
                (_, true) => format!("{H};Taux de poursuite d'études;Taux;Taux attendu;Valeur ajoutée;Part en poursuite d'études ;Part en emploi 6 mois après la sortie ;Part des autres situations "),
                (_, false) => format!("{H};Dont apprentis en EPLE;Taux de poursuite d'études;Taux;Taux attendu;Valeur ajoutée;Part en poursuite d'études;Part en emploi 6 mois après la sortie;Part des autres situations"),
            };
            let mut out = Lines::create(&dir.join(name), Encoding::Utf8)?;
            out.line(&header)?;
            for e in u
                .etablissements
                .iter()
                .filter(|e| e.cfa == cfa && e.depuis <= year)
            {
                let region = upper_ascii(REGIONS[e.region].2);
                let kinds: &[&str] = if !cfa
                    && e.uai
                        .ends_with(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J'])
                {
                    &["ensemble", "dont apprentis", "dont élèves en voie pro sco"]
                } else if cfa {
                    &[""]
                } else {
                    &["ensemble"]
                };
                for kind in kinds {
                    let p = rate(rng, 10.0, 60.0);
                    let taux = rate(rng, 30.0, 85.0);
                    let attendu = rate(rng, 35.0, 80.0);
                    let va = taux as i64 - attendu as i64;
                    let emploi = rate(rng, 10.0, 100.0 - p as f64);
                    let autre = 100 - p - emploi;
                    let line = match (year, cfa) {
                        (2019, true) => format!("\"{}\";\"{}\";\"{region}\";{p};{};{taux};{attendu};{va};{};{};{}", e.uai, e.libelle, p + 2, taux + 1, taux + 2, taux + 3),
                        (2019, false) => format!("\"{}\";\"{}\";\"{region}\";\"{kind}\";{p};{taux};{attendu};{va};{};{};{}", e.uai, e.libelle, taux + 1, taux + 2, taux + 3),
                        (2020, true) => format!("\"{}\";\"{}\";\"{region}\";;{p};{taux};{attendu};{va};{}", e.uai, e.libelle, taux + 1),
                        (2020, false) => format!("\"{}\";\"{}\";\"{region}\";\"{kind}\";{p};{taux};{attendu};{va};{}", e.uai, e.libelle, taux + 1),
                        (_, true) => format!("{};{};{region};{p};{taux};{attendu};{va};{p};{emploi};{autre}", e.uai, e.libelle),
                        (_, false) => format!("{};{};{region};{kind};{p};{taux};{attendu};{va};{p};{emploi};{autre}", e.uai, e.libelle),
                    };
                    out.line(&line)?;
                }
            }
            out.finish()?;
        }
    }
    Ok(())
}

/// InserSup's API JSON (`{"results": [...]}`), one record per SISE diploma
/// and establishment; the real folder holds two such files of one record.
pub fn write_insersup(u: &Universe, rng: &mut Rng, dir: &Path) -> Result<()> {
    let universities: Vec<_> = u.etablissements.iter().filter(|e| e.cfa).collect();
    for (name, n) in [
        ("formations.json", 1.0),
        ("formationsMillesimesMixtes.json", 1.0),
    ] {
        let mut out = Lines::create(&dir.join(name), Encoding::Utf8)?;
        out.line("{\n    \"results\": [")?;
        let count = super::universe::scaled(n, u.scale);
        for i in 0..count {
            let e = rng.pick(&universities);
            let diplomes = rng.range(40, 200) as u64;
            let sortants = diplomes / 2;
            let pour = diplomes - sortants;
            let d = |k: u64| (sortants * k / 10).min(sortants);
            let t = |n: u64| format!("{:.1}", n as f64 * 100.0 / diplomes as f64).replace('.', ",");
            let sep = if i + 1 < count { "," } else { "" };
            out.line(&format!(
                r#"        {{
            "diplome": "{:07}", "libelle_diplome": "GESTION", "type_diplome_long": "licence_pro",
            "etablissement": "{}", "denomination_principale": "{}", "domaine": "DEG",
            "discipline": "Sciences économiques", "secteur_disciplinaire": "SCIENCES DE GESTION",
            "nb_inscrits": "{}", "nb_diplomes": "{diplomes}", "nb_sortants": "{sortants}", "nb_poursuivants": "{pour}",
            "taux_poursuivant": "{}", "annee_universitaire": "2020-2021",
            "nb_in_dsn_6": "{}", "nb_in_dsn_12": "{}", "nb_in_dsn_18": "{}", "nb_in_dsn_24": "{}", "nb_in_dsn_30": "na",
            "taux_in_dsn_6": "{}", "taux_in_dsn_12": "{}", "taux_in_dsn_18": "{}", "taux_in_dsn_24": "{}", "taux_in_dsn_30": "na",
            "taux_autre_6": "na", "taux_autre_12": "na", "taux_autre_18": "na", "taux_autre_24": "na", "taux_autre_30": "na",
            "salaire_q1_national_diplome_12": "nd", "salaire_q2_national_diplome_12": "nd", "salaire_q3_national_diplome_12": "nd"
        }}{sep}"#,
                2_400_074 + i,
                e.uai,
                e.libelle,
                diplomes + 18,
                t(pour),
                d(4), d(5), d(6), d(7),
                t(d(4)), t(d(5)), t(d(6)), t(d(7)),
            ))?;
        }
        out.line("    ]\n}")?;
        out.finish()?;
    }
    Ok(())
}
