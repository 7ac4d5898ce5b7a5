//! The `pilotage` table and `ij pilotage` (issue 14), checked against a
//! classification recomputed here from the raw regional counts: the pooled
//! references of each diploma level, the quadrants (ties at the reference
//! count as at or above it), the national quartiles and labels, and the Q4
//! count of each région. Nothing here reads `ij`'s figures to compute the
//! expectations: only the raw regional file and the BCN tables.
//!
//! On the sample (every run) and on the real regional file (real-data suite).
//! The page of `ij pilotage` is opened in headless Chromium.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::common::*;
use crate::coverage_real::{load_bcn, Bcn};
use crate::real_data::{raw_regional_file, real_data, real_run};

const SEUIL: i64 = 20;

/// One raw regional row's counts.
#[derive(Clone, Copy, Default)]
struct Raw {
    term: Option<i64>,
    poursuite: Option<i64>,
    sortant: Option<i64>,
    emploi: Option<i64>,
}

impl Raw {
    fn read(r: &HashMap<String, String>) -> Raw {
        let n = |k: &str| r[k].parse::<i64>().ok();
        let (term, poursuite) = (n("nb_annee_term"), n("nb_poursuite_etudes"));
        Raw {
            term,
            poursuite,
            // A missing nb_sortant is nb_annee_term − nb_poursuite_etudes.
            sortant: n("nb_sortant").or_else(|| Some(term? - poursuite?)),
            emploi: n("nb_en_emploi_6_mois"),
        }
    }
}

/// Whether a raw row is a usable indicator row; the sample holds rows any
/// loader must reject (a millésime with a letter, an unknown voie, a negative
/// count, more in employment than leavers, no code).
fn usable(r: &HashMap<String, String>) -> bool {
    let millesime_ok = r["millesime"]
        .split('_')
        .all(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()));
    let code = if r["voie"] == "apprentissage" {
        &r["cfd"]
    } else {
        &r["mefstat11"]
    };
    let counts_ok = r
        .iter()
        .filter(|(k, _)| k.starts_with("nb_"))
        .all(|(_, v)| v.is_empty() || v.parse::<i64>().is_ok_and(|n| n >= 0));
    let c = Raw::read(r);
    let emploi_ok = match (c.emploi, c.sortant) {
        (Some(e), Some(s)) => e <= s,
        _ => true,
    };
    millesime_ok
        && matches!(r["voie"].as_str(), "scolaire" | "apprentissage")
        && !code.is_empty()
        && counts_ok
        && emploi_ok
}

/// Runs `ij`, asserting it succeeded; returns what it printed on stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = ij(args);
    assert!(
        out.status.success(),
        "ij {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `100 n / d` rounded half to even.
fn percent(n: i64, d: i64) -> i64 {
    let (q, r) = (100 * n / d, 100 * n % d);
    if 2 * r > d || (2 * r == d && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

/// n1/d1 ≥ n2/d2, exactly.
fn at_least((n1, d1): (i64, i64), (n2, d2): (i64, i64)) -> bool {
    i128::from(n1) * i128::from(d2) >= i128::from(n2) * i128::from(d1)
}

/// (millésime, filière, région, code) → (position, reason).
type Positions = BTreeMap<(String, String, String, String), (String, String)>;

struct Expected {
    positions: Positions,
    /// (millésime, filière, code) → national label of the summed régions.
    labels: BTreeMap<(String, String, String), String>,
}

/// The classification of every raw regional row of a non-common-year code.
fn expected(regional: &Path, bcn: &Bcn) -> Expected {
    let rows = raw_regional_file(regional);
    let commune: BTreeSet<&String> = bcn.specialites.keys().collect();
    let mut raw: Vec<(String, String, String, String, String, Raw)> = Vec::new();
    for r in rows.iter().filter(|r| usable(r)) {
        let (filiere, code) = if r["voie"] == "apprentissage" {
            ("apprentissage", r["cfd"].clone())
        } else {
            ("pro", r["mefstat11"].clone())
        };
        if commune.contains(&code) {
            continue;
        }
        let cfd = if filiere == "apprentissage" {
            Some(code.clone())
        } else {
            bcn.mefs.get(&code).map(|m| m.cfd.clone())
        };
        let niveau = cfd.map(|c| c[..3].to_string()).unwrap_or_default();
        raw.push((
            r["millesime"].clone(),
            filiere.to_string(),
            r["code_region"].clone(),
            code,
            niveau,
            Raw::read(r),
        ));
    }
    // Pools: (millésime, filière, région, level) → (Σ emploi, Σ sortant), (Σ poursuite, Σ term).
    type Pool = ((i64, i64), (i64, i64));
    let mut pools: BTreeMap<(String, String, String, String), Pool> = BTreeMap::new();
    for (m, f, region, _, niveau, c) in &raw {
        let p = pools
            .entry((m.clone(), f.clone(), region.clone(), niveau.clone()))
            .or_default();
        if let (Some(e), Some(s)) = (c.emploi, c.sortant) {
            p.0 .0 += e;
            p.0 .1 += s;
        }
        if let (Some(q), Some(t)) = (c.poursuite, c.term) {
            p.1 .0 += q;
            p.1 .1 += t;
        }
    }
    let mut positions = Positions::new();
    for (m, f, region, code, niveau, c) in &raw {
        let pool = pools[&(m.clone(), f.clone(), region.clone(), niveau.clone())];
        let hors = |why: &str| ("hors_quadrant".to_string(), why.to_string());
        let position = match c.term {
            None => hors("donnees_manquantes"),
            Some(t) if t < SEUIL => hors("effectif_sous_seuil"),
            Some(t) => match (c.poursuite, c.emploi, c.sortant) {
                (None, _, _) => hors("donnees_manquantes"),
                (Some(_), _, Some(s)) if s < SEUIL => hors("sortants_sous_seuil"),
                (Some(q), Some(e), Some(s)) => {
                    if niveau.is_empty() || pool.0 .1 < SEUIL || pool.1 .1 < SEUIL {
                        hors("reference_absente")
                    } else {
                        let emploi_ok = at_least((e, s), pool.0);
                        let poursuite_ok = at_least((q, t), pool.1);
                        let q = match (emploi_ok, poursuite_ok) {
                            (true, true) => "Q1",
                            (true, false) => "Q2",
                            (false, true) => "Q3",
                            (false, false) => "Q4",
                        };
                        (q.to_string(), String::new())
                    }
                }
                _ => hors("donnees_manquantes"),
            },
        };
        positions.insert(
            (m.clone(), f.clone(), region.clone(), code.clone()),
            position,
        );
    }

    // National sums: régions with detail only, when any has it; a count is
    // known in the sum only where every summed row knows it.
    let mut national: BTreeMap<(String, String, String, String), Vec<Raw>> = BTreeMap::new();
    for (m, f, _, code, niveau, c) in &raw {
        national
            .entry((m.clone(), f.clone(), niveau.clone(), code.clone()))
            .or_default()
            .push(*c);
    }
    let mut rates: BTreeMap<(String, String, String, String), i64> = BTreeMap::new();
    for (key, members) in &national {
        let detailed = |c: &&Raw| c.poursuite.is_some() || c.sortant.is_some();
        let any = members.iter().any(|c| detailed(&c));
        let kept: Vec<&Raw> = members.iter().filter(|c| !any || detailed(c)).collect();
        let sum = |f: fn(&Raw) -> Option<i64>| kept.iter().map(|c| f(c)).sum::<Option<i64>>();
        if let (Some(e), Some(s)) = (sum(|c| c.emploi), sum(|c| c.sortant)) {
            if s >= SEUIL && !key.2.is_empty() {
                rates.insert(key.clone(), percent(e, s));
            }
        }
    }
    let mut by_level: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    for ((m, f, niveau, _), rate) in &rates {
        by_level
            .entry((m.clone(), f.clone(), niveau.clone()))
            .or_default()
            .push(*rate);
    }
    let quartile = |v: &mut Vec<i64>, p: f64| {
        v.sort_unstable();
        let h = p * (v.len() - 1) as f64;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] as f64 + (v[hi] - v[lo]) as f64 * (h - h.floor())
    };
    let mut labels = BTreeMap::new();
    for ((m, f, niveau, code), rate) in &rates {
        let v = by_level
            .get_mut(&(m.clone(), f.clone(), niveau.clone()))
            .unwrap();
        let (q1, q3) = (quartile(v, 0.25), quartile(v, 0.75));
        let r = *rate as f64;
        let label = if r >= q3 {
            "tres_favorable"
        } else if r > q1 {
            "dans_la_moyenne"
        } else {
            "plutot_difficile"
        };
        labels.insert((m.clone(), f.clone(), code.clone()), label.to_string());
    }
    Expected { positions, labels }
}

/// Compares `pilotage.csv` with the expectations; returns the regional
/// positions found, by position.
fn compare(out: &Path, e: &Expected, check_labels: bool) -> BTreeMap<String, usize> {
    let rows = read_csv(&out.join("indicators/pilotage.csv"));
    let mut ours: HashMap<(String, String, String, String), &HashMap<String, String>> =
        HashMap::new();
    let mut national: HashMap<(String, String, String), &HashMap<String, String>> = HashMap::new();
    for r in &rows {
        if r["donnee_source_type"] != "propre" {
            continue;
        }
        let code = r["code_certification"].clone();
        if r["niveau_geographique"] == "region" {
            ours.insert(
                (
                    r["millesime"].clone(),
                    r["filiere"].clone(),
                    r["region_code"].clone(),
                    code,
                ),
                r,
            );
        } else {
            national.insert((r["millesime"].clone(), r["filiere"].clone(), code), r);
        }
    }
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut differences = Vec::new();
    for (key, (position, why)) in &e.positions {
        let Some(r) = ours.get(key) else {
            differences.push(format!("{key:?}: no row"));
            continue;
        };
        if (&r["position"], &r["raison_hors_quadrant"]) != (position, why) {
            differences.push(format!(
                "{key:?}: expected {position} {why}, ij {} {}",
                r["position"], r["raison_hors_quadrant"]
            ));
        }
        *found.entry(position.clone()).or_default() += 1;
    }
    if check_labels {
        for (key, label) in &e.labels {
            match national.get(key) {
                Some(r) if &r["libelle_emploi"] == label => {}
                Some(r) => differences.push(format!(
                    "national {key:?}: expected {label}, ij {}",
                    r["libelle_emploi"]
                )),
                None => differences.push(format!("national {key:?}: no row")),
            }
        }
    }
    for d in differences.iter().take(10) {
        eprintln!("{d}");
    }
    assert!(differences.is_empty(), "{} differences", differences.len());
    found
}

#[test]
fn the_samples_quadrants_equal_an_independent_classification() {
    let out = run_sample();
    let e = expected(
        &fixtures("inserjeunes/ij_region_data.csv"),
        &load_bcn(&fixtures("bcn")),
    );
    let found = compare(out.path(), &e, false);
    // The sample exercises several positions.
    assert!(found.len() >= 4, "{found:?}");
    // Common first years are never classified.
    let rows = read_csv(&out.path().join("indicators/pilotage.csv"));
    let family = rows
        .iter()
        .find(|r| r["donnee_source_type"] == "famille_metiers")
        .expect("a family row");
    assert_eq!(family["position"], "non_classe");
    // Every indicator table says which jobs its employment rates count.
    for table in [
        "certifications",
        "regionales",
        "formations",
        "etablissements",
        "pilotage",
    ] {
        let rows = read_csv(&out.path().join(format!("indicators/{table}.csv")));
        for r in &rows {
            let last: u32 = r["millesime"].rsplit('_').next().unwrap().parse().unwrap();
            let expected = match (r["filiere"].as_str(), last) {
                ("superieur", _) => "prive_public",
                (_, ..=2021) => "prive",
                (_, 2022) => "prive_public_partiel",
                _ => "prive_public",
            };
            assert_eq!(r["perimetre_emploi"], expected, "{table}: {r:?}");
        }
    }
}

#[test]
fn ij_pilotage_prints_writes_and_refuses_an_unknown_region() {
    let out = run_sample();
    let run = s(out.path());
    let text = stdout_of(&["pilotage", "--run", run, "--region", "84"]);
    assert!(text.contains("Auvergne-Rhône-Alpes"), "{text}");
    let csv = out.path().join("pilotage/pilotage_q4_84.csv");
    let q4 = read_csv(&csv);
    let table = read_csv(&out.path().join("indicators/pilotage.csv"));
    let latest = |f: &str| {
        table
            .iter()
            .filter(|r| r["filiere"] == f && r["region_code"] == "84")
            .map(|r| r["millesime"].clone())
            .max()
    };
    let expected = table
        .iter()
        .filter(|r| {
            r["region_code"] == "84"
                && r["position"] == "Q4"
                && Some(r["millesime"].clone()) == latest(&r["filiere"])
        })
        .count();
    assert_eq!(q4.len(), expected);
    assert!(out.path().join("pilotage/pilotage_84.html").is_file());
    // By académie: Lyon (10) is in région 84.
    let by_academie = stdout_of(&["pilotage", "--run", run, "--academie", "10"]);
    assert!(by_academie.contains("académie de Lyon"), "{by_academie}");
    let err = ij_err(&["pilotage", "--run", run, "--region", "99"], 2);
    assert!(err.contains("--region 99"), "{err}");
}

#[test]
fn the_pilotage_page_renders_in_chromium() {
    let out = run_sample();
    ij_ok(&["pilotage", "--run", s(out.path()), "--region", "84"]);
    let page = out.path().join("pilotage/pilotage_84.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, nothing fetched (the SVG namespace is a name, not a fetch).
    for outside in ["<script", "src=", "href=", "<link", "url("] {
        assert!(!html.contains(outside), "the page holds {outside}");
    }
    let Some(chromium) = crate::coverage_report::chromium() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dom = crate::coverage_report::run_chromium(&chromium, work.path(), &page, &["--dump-dom"]);
    let svgs = dom.matches("<svg role=\"img\"").count();
    assert!(svgs >= 1, "{dom}");
    let q4 = read_csv(&out.path().join("pilotage/pilotage_q4_84.csv")).len();
    assert_eq!(dom.matches("class=\"dot q4\"").count(), q4);
    let png = work.path().join("page.png");
    crate::coverage_report::run_chromium(
        &chromium,
        work.path(),
        &page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1000,1200",
        ],
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a screenshot with content"
    );
}

#[test]
fn real_quadrants_labels_and_q4_counts_equal_an_independent_classification() {
    let Some(real) = real_data() else { return };
    let out = real_run();
    let e = expected(
        &real.join("inserjeunes/ij_region_data.csv"),
        &load_bcn(&real.join("bcn")),
    );
    let found = compare(out, &e, true);
    for q in ["Q1", "Q2", "Q3", "Q4"] {
        assert!(found.get(q).copied().unwrap_or(0) > 300, "{q}: {found:?}");
    }
    eprintln!(
        "real pilotage: {found:?}; {} national labels",
        e.labels.len()
    );

    // The Q4 count per région in each filière's latest millésime, as the run prints it.
    let summary = read_json(&out.join("indicators/indicators_summary.json"));
    let mut counts_84 = 0;
    for filiere in ["pro", "apprentissage"] {
        let latest = e
            .positions
            .keys()
            .filter(|k| k.1 == filiere)
            .map(|k| k.0.clone())
            .max()
            .unwrap();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for ((m, f, region, _), (position, _)) in &e.positions {
            if m == &latest && f == filiere {
                *counts.entry(region.clone()).or_default() += usize::from(position == "Q4");
            }
        }
        let printed = &summary["pilotage_q4"][filiere];
        assert_eq!(printed["millesime"], latest.as_str());
        for (region, n) in &counts {
            assert_eq!(printed["regions"][region], *n as u64, "{filiere} {region}");
        }
        counts_84 += counts["84"];
    }

    // `ij pilotage --region 84` lists the same Q4 formations.
    // Written outside the shared real run, which other tests list.
    let written = tempfile::tempdir().unwrap();
    let text = stdout_of(&[
        "pilotage",
        "--run",
        s(out),
        "--region",
        "84",
        "--out",
        s(written.path()),
    ]);
    let q4 = read_csv(&written.path().join("pilotage_q4_84.csv"));
    assert!(
        q4.len() >= counts_84,
        "{} listed, {counts_84} of own figures",
        q4.len()
    );
    for r in &q4 {
        assert!(text.contains(&r["code_certification"]), "{text}");
    }
}
