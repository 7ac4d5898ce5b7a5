//! The real-data suite: the stages on the real public extracts of
//! `../shared/data/real` (or `$IJ_REAL_DATA`), checked against figures each
//! test computes by itself from the raw files, with code independent of the
//! stages' (plain string splitting, a union-find instead of a search).
//!
//! When the folder is absent (a user's fresh clone) the suite says so and
//! passes; under `CI=true` its absence is a failure.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use crate::common::*;

/// The real-data folder, or `None` (with a message) when it is absent.
pub fn real_data() -> Option<PathBuf> {
    let dir = std::env::var_os("IJ_REAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/real"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "real-data suite: {} is missing, and CI=true requires it",
            dir.display()
        );
    }
    eprintln!(
        "real-data suite skipped: {} is absent (set IJ_REAL_DATA to run it)",
        dir.display()
    );
    None
}

/// The real pipeline's outputs, run once per test binary and shared by the
/// tests that only read them (under cargo's per-target temporary folder).
pub fn real_run() -> &'static std::path::Path {
    static RUN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("real-run");
        let _ = std::fs::remove_dir_all(&out);
        ij_ok(&["run", "pipelines/real.toml", "--out", s(&out), "--quiet"]);
        out
    })
}

/// A raw BCN export as header → index and rows of fields: `;`-separated, no
/// quoting, Windows-1252 or UTF-8 (with or without BOM).
pub fn raw_table(path: &std::path::Path) -> (HashMap<String, usize>, Vec<Vec<String>>) {
    raw_table_in(path, encoding_rs::WINDOWS_1252)
}

/// The same, with `fallback` for a file that is not UTF-8.
pub fn raw_table_in(
    path: &std::path::Path,
    fallback: &'static encoding_rs::Encoding,
) -> (HashMap<String, usize>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}').to_string(),
        Err(_) => fallback.decode(&bytes).0.into_owned(),
    };
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header: HashMap<String, usize> = lines
        .next()
        .unwrap()
        .split(';')
        .enumerate()
        .map(|(i, h)| (h.trim().to_string(), i))
        .collect();
    let rows = lines
        .map(|l| {
            l.trim_end_matches('\r')
                .split(';')
                .map(|f| f.trim().to_string())
                .collect()
        })
        .collect();
    (header, rows)
}

fn find(parent: &UnionFind, x: usize) -> usize {
    let mut x = x;
    while parent.0[x] != x {
        x = parent.0[x];
    }
    x
}

struct UnionFind(Vec<usize>);

#[test]
fn continuum_summary_matches_an_independent_count() {
    let Some(real) = real_data() else { return };
    let bcn = real.join("bcn");
    let out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "continuum",
        "--bcn",
        s(&bcn),
        "--out",
        s(out.path()),
        "--quiet",
    ]);
    let summary = read_json(&out.path().join("continuum_summary.json"));

    let (h, rows) = raw_table(&bcn.join("nFormationDiplome_.csv"));
    let code_of = |r: &Vec<String>| r[h["FORMATION_DIPLOME"]].clone();
    let codes: HashSet<String> = rows.iter().map(code_of).collect();
    // (old, new) → (declared by old, declared by new)
    let mut links: BTreeMap<(String, String), (bool, bool)> = BTreeMap::new();
    for r in &rows {
        let me = code_of(r);
        for i in 1..=7 {
            let a = &r[h[&format!("ANCIEN_DIPLOME_{i}")]];
            if !a.is_empty() && *a != me {
                links.entry((a.clone(), me.clone())).or_default().1 = true;
            }
            let n = &r[h[&format!("NOUVEAU_DIPLOME_{i}")]];
            if !n.is_empty() && *n != me {
                links.entry((me.clone(), n.clone())).or_default().0 = true;
            }
        }
    }
    let mut out_degree: HashMap<&str, usize> = HashMap::new();
    let mut in_degree: HashMap<&str, usize> = HashMap::new();
    for (a, n) in links.keys() {
        *out_degree.entry(a).or_default() += 1;
        *in_degree.entry(n).or_default() += 1;
    }
    let nodes: BTreeSet<&str> = links
        .keys()
        .flat_map(|(a, n)| [a.as_str(), n.as_str()])
        .collect();
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut uf = UnionFind((0..nodes.len()).collect());
    for (a, n) in links.keys() {
        let (ra, rn) = (find(&uf, index[a.as_str()]), find(&uf, index[n.as_str()]));
        uf.0[ra] = rn;
    }
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for i in 0..nodes.len() {
        *sizes.entry(find(&uf, i)).or_default() += 1;
    }

    // MEF projection, recomputed from N_MEF.
    let (mh, mrows) = raw_table(&bcn.join("nMef.csv"));
    let mut mefs: HashMap<String, BTreeSet<(String, String)>> = HashMap::new();
    for r in &mrows {
        mefs.entry(r[mh["FORMATION_DIPLOME"]].clone())
            .or_default()
            .insert((
                r[mh["MEF_STAT_11"]].clone(),
                r[mh["DISPOSITIF_FORMATION"]].clone(),
            ));
    }
    let mut mef_links: BTreeSet<(String, String)> = BTreeSet::new();
    let mut unresolved = 0;
    for (a, n) in links.keys() {
        let (Some(olds), Some(news)) = (mefs.get(a), mefs.get(n)) else {
            continue;
        };
        let old_codes: BTreeSet<&String> = olds.iter().map(|m| &m.0).collect();
        let new_codes: BTreeSet<&String> = news.iter().map(|m| &m.0).collect();
        if old_codes.len() == 1 && new_codes.len() == 1 {
            let (o, n) = (old_codes.first().unwrap(), new_codes.first().unwrap());
            if o != n {
                mef_links.insert(((*o).clone(), (*n).clone()));
            }
            continue;
        }
        for (o, od) in olds {
            let matches: Vec<&String> = news
                .iter()
                .filter(|(n, nd)| nd == od && n[..4] == o[..4])
                .map(|(n, _)| n)
                .collect();
            if matches.is_empty() {
                unresolved += 1;
            }
            for n in matches {
                if n != o {
                    mef_links.insert((o.clone(), n.clone()));
                }
            }
        }
    }

    let expected = serde_json::json!({
        "codes": codes.len(),
        "links": links.len(),
        "one_sided_declarations": links.values().filter(|(o, n)| o != n).count(),
        "one_to_one_links": links.keys().filter(|(a, n)| out_degree[a.as_str()] == 1 && in_degree[n.as_str()] == 1).count(),
        "codes_with_several_successors": out_degree.values().filter(|d| **d > 1).count(),
        "codes_with_several_predecessors": in_degree.values().filter(|d| **d > 1).count(),
        "dangling_codes": nodes.iter().filter(|c| !codes.contains(**c)).count(),
        "lineage_components": sizes.len(),
        "largest_component": sizes.values().max().copied().unwrap_or(0),
        "mef_links": mef_links.len(),
        "mef_links_unresolved": unresolved,
    });
    assert_eq!(summary, expected);
    // The real file is known to hold links (SOURCES.md): guard against an empty read.
    assert!(links.len() > 1000, "{} links", links.len());
}

#[test]
fn bcn_referentiel_holds_every_real_code_once() {
    let Some(real) = real_data() else { return };
    let bcn = real.join("bcn");
    let out = tempfile::tempdir().unwrap();
    ij_ok(&["bcn", "--bcn", s(&bcn), "--out", s(out.path()), "--quiet"]);
    let rows = read_csv(&out.path().join("formations_referentiel.csv"));

    let (nh, n) = raw_table(&bcn.join("nFormationDiplome_.csv"));
    let (vh, v) = raw_table(&bcn.join("vFormationDiplome_.csv"));
    let (mh, m) = raw_table(&bcn.join("nMef.csv"));
    let mut cfds: BTreeSet<String> = n
        .iter()
        .map(|r| r[nh["FORMATION_DIPLOME"]].clone())
        .collect();
    cfds.extend(v.iter().map(|r| r[vh["FORMATION_DIPLOME"]].clone()));
    let mefs: BTreeSet<String> = m.iter().map(|r| r[mh["MEF_STAT_11"]].clone()).collect();

    let of_type = |t: &str| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| r["code_certification_type"] == t)
            .map(|r| r["code_certification"].clone())
            .collect()
    };
    assert_eq!(of_type("cfd"), cfds);
    assert_eq!(of_type("mef_stat_11"), mefs);
    assert_eq!(rows.len(), cfds.len() + mefs.len(), "one row per code");

    // Labels: LIBELLE_COURT + " " + LIBELLE_STAT_33 of N_ for a CFD of N_.
    let first = &n[0];
    let cfd = &first[nh["FORMATION_DIPLOME"]];
    let expected = format!(
        "{} {}",
        first[nh["LIBELLE_COURT"]], first[nh["LIBELLE_STAT_33"]]
    );
    let row = rows
        .iter()
        .find(|r| &r["code_certification"] == cfd)
        .unwrap();
    assert_eq!(row["libelle"], expected.trim());

    // Rows read = written + merged + rejected, per table.
    let summary = read_json(&out.path().join("bcn_summary.json"));
    for table in summary["tables"].as_array().unwrap() {
        let k = |key: &str| table[key].as_u64().unwrap();
        assert_eq!(
            k("rows_read"),
            k("rows_written") + k("rows_merged") + k("rows_rejected") + k("rows_used_as_lookup")
        );
    }
}

#[test]
fn the_bcn_api_json_folder_reads_like_the_csv_exports() {
    let Some(real) = real_data() else { return };
    let out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "bcn",
        "--bcn",
        s(&real.join("bcn/bcn_api_json")),
        "--out",
        s(out.path()),
        "--quiet",
    ]);
    let rows = read_csv(&out.path().join("formations_referentiel.csv"));
    // One record in each of N_FORMATION_DIPLOME, V_FORMATION_DIPLOME, N_MEF and
    // N_DIPLOME_SISE (SOURCES.md), with different codes.
    assert_eq!(rows.len(), 4);
    let niveau = rows
        .iter()
        .find(|r| r["code_certification"] == "14545678")
        .unwrap();
    assert_eq!(niveau["niveau_formation_diplome"], "463");
    assert_eq!(niveau["date_ouverture"], "2022-07-31");
}

#[test]
fn the_real_pipeline_runs_end_to_end() {
    let Some(_) = real_data() else { return };
    let out = tempfile::tempdir().unwrap();
    ij_ok(&[
        "run",
        "pipelines/real.toml",
        "--out",
        s(out.path()),
        "--quiet",
    ]);
    assert!(out
        .path()
        .join("continuum/continuum_links.parquet")
        .is_file());
}

/// The real regional file, as rows of column → value.
pub fn raw_regional(real: &std::path::Path) -> Vec<HashMap<String, String>> {
    raw_regional_file(&real.join("inserjeunes/ij_region_data.csv"))
}

/// An InserJeunes regional file (`ij_region_data.csv` layout) as rows by column.
pub fn raw_regional_file(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(';')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(';').map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn real_regional_rates_equal_the_sources_own_rates() {
    let Some(real) = real_data() else { return };
    let out = real_run();
    let regionales = read_csv(&out.join("indicators/regionales.csv"));
    let mut ours: HashMap<(String, String, String), HashMap<String, String>> = regionales
        .iter()
        .filter(|r| r["donnee_source_type"] == "propre" && r["origine"] == "source")
        .map(|r| {
            (
                (
                    r["millesime"].clone(),
                    r["code_certification"].clone(),
                    r["region_code"].clone(),
                ),
                r.clone(),
            )
        })
        .collect();
    // A common first year's own row gives way to its family's sum (issue 15)
    // and is listed in familles_specialites instead, with its own figures.
    let family_rows: HashSet<(String, String, String)> = regionales
        .iter()
        .filter(|r| r["donnee_source_type"] == "famille_metiers")
        .map(|r| {
            (
                r["millesime"].clone(),
                r["code_certification"].clone(),
                r["region_code"].clone(),
            )
        })
        .collect();
    let mut replaced = 0;
    for r in replaced_own_rows(out, "region") {
        let key = (
            r["millesime"].clone(),
            r["code_certification"].clone(),
            r["region_code"].clone(),
        );
        assert!(
            family_rows.contains(&key),
            "{key:?} replaced by no family row"
        );
        assert!(ours.insert(key, r).is_none());
        replaced += 1;
    }
    assert!(replaced > 0, "the real data has common years with own rows");
    let raw = raw_regional(&real);
    let mut compared = 0;
    let mut half_up_2019 = 0;
    for r in &raw {
        let code = if r["voie"] == "apprentissage" {
            &r["cfd"]
        } else {
            &r["mefstat11"]
        };
        let key = (
            r["millesime"].clone(),
            code.clone(),
            r["code_region"].clone(),
        );
        let row = ours
            .get(&key)
            .unwrap_or_else(|| panic!("no row for {key:?}"));
        for (mine, theirs) in [
            ("taux_en_emploi_6_mois", "taux_emploi_6_mois"),
            ("taux_en_emploi_12_mois", "taux_emploi_12_mois"),
            ("taux_en_emploi_18_mois", "taux_emploi_18_mois"),
            ("taux_en_emploi_24_mois", "taux_emploi_24_mois"),
            ("taux_poursuite_etudes", "taux_poursuite_etudes"),
        ] {
            if !row[mine].is_empty() && !r[theirs].is_empty() {
                compared += 1;
                if row[mine] != r[theirs] {
                    // The only difference allowed: in millésime 2019_2020 the
                    // source rounded exact halves up (52.5 → 53) where every
                    // later millésime, and we, round them to even (52).
                    let (n, d) = ratio(r, mine);
                    let half = (200 * n) % d == 0 && (200 * n / d) % 2 == 1;
                    let up = ((200 * n / d) + 1) / 2;
                    assert!(
                        r["millesime"] == "2019_2020" && half && r[theirs] == up.to_string(),
                        "{mine} of {key:?}: ours {} theirs {}",
                        row[mine],
                        r[theirs]
                    );
                    half_up_2019 += 1;
                }
            }
            // We never publish a rate the source withheld.
            if r[theirs].is_empty() {
                assert_eq!(row[mine], "", "{mine} of {key:?}: the source withheld it");
            }
        }
    }
    // Every real row is in the table (none rejected) and most rates were compared.
    assert_eq!(raw.len(), ours.len());
    assert!(compared > 50_000, "{compared} rates compared");
    eprintln!("{compared} rates compared; {half_up_2019} exact halves of 2019_2020 rounded up by the source");
}

/// The numerator and divisor of one of our rates, from a raw regional row.
fn ratio(r: &HashMap<String, String>, rate: &str) -> (i64, i64) {
    let n = |k: &str| r[k].parse::<i64>().unwrap();
    let t = n("nb_annee_term");
    let p = n("nb_poursuite_etudes");
    let sortant = r["nb_sortant"].parse::<i64>().unwrap_or(t - p);
    match rate {
        "taux_poursuite_etudes" => (p, t),
        _ => {
            let months = rate
                .trim_start_matches("taux_en_emploi_")
                .trim_end_matches("_mois");
            (n(&format!("nb_en_emploi_{months}_mois")), sortant)
        }
    }
}

/// The own rows of common first years that their family's sum replaced at
/// a level, as `familles_specialites` lists them (keyed like the level's
/// table: `code_certification` is the common year's own code).
fn replaced_own_rows(out: &std::path::Path, niveau: &str) -> Vec<HashMap<String, String>> {
    read_csv(&out.join("indicators/familles_specialites.csv"))
        .into_iter()
        .filter(|r| {
            r["niveau_geographique"] == niveau
                && r["raison_hors_somme"] == "ligne_propre_remplacee"
                && r["donnee_source_type"] == "propre"
        })
        .inspect(|r| assert_eq!(r["code_certification"], r["code_certification_specialite"]))
        .collect()
}

#[test]
fn real_national_rows_are_the_sums_of_the_regions() {
    let Some(real) = real_data() else { return };
    let out = real_run();
    let mut national: HashMap<(String, String), HashMap<String, String>> =
        read_csv(&out.join("indicators/certifications.csv"))
            .into_iter()
            .filter(|r| r["origine"] == "somme_regions" && r["donnee_source_type"] == "propre")
            .map(|r| ((r["millesime"].clone(), r["code_certification"].clone()), r))
            .collect();
    // Common first years' own sums, replaced by their families' (issue 15).
    for r in replaced_own_rows(out, "national") {
        let key = (r["millesime"].clone(), r["code_certification"].clone());
        assert!(national.insert(key, r).is_none());
    }
    // Per key: (sum over rows with detail, sum over all rows, any row with detail).
    // The source gives no detail under 5 students; such rows are left out of
    // a sum that has detailed rows (see indicators::summable).
    let mut groups: BTreeMap<(String, String), (i64, i64, bool)> = BTreeMap::new();
    for r in raw_regional(&real) {
        let code = if r["voie"] == "apprentissage" {
            r["cfd"].clone()
        } else {
            r["mefstat11"].clone()
        };
        let t = r["nb_annee_term"].parse::<i64>().unwrap_or(0);
        let detailed = !r["nb_poursuite_etudes"].is_empty() || !r["nb_sortant"].is_empty();
        let g = groups.entry((r["millesime"].clone(), code)).or_default();
        g.1 += t;
        if detailed {
            g.0 += t;
            g.2 = true;
        }
    }
    let sums: BTreeMap<(String, String), i64> = groups
        .into_iter()
        .map(|(k, (detailed_sum, all, any))| (k, if any { detailed_sum } else { all }))
        .collect();
    assert_eq!(national.len(), sums.len());
    for (key, total) in &sums {
        assert_eq!(national[key]["nb_annee_term"], total.to_string(), "{key:?}");
    }
}

#[test]
fn real_establishment_files_stage_every_row() {
    use ij::staging::inserjeunes::load_etablissements;
    use ij::staging::reference::Reference;
    let Some(real) = real_data() else { return };
    let reference = Reference::embedded();
    let dir = real.join("inserjeunes/depp_valeur_ajoutee");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(real.join("inserjeunes/fr-en-inserjeunes-cfa.csv"));
    files.sort();
    let letters = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    for path in files {
        let staged = load_etablissements(&path, &reference).unwrap();
        // Independently: data lines, breakdown rows ("dont …"), bad check letters.
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let lines: Vec<&str> = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .collect();
        let fields = |l: &str| -> Vec<String> {
            l.split(';')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect()
        };
        let breakdowns = lines
            .iter()
            .filter(|l| {
                fields(l)
                    .iter()
                    .any(|f| f.to_lowercase().starts_with("dont "))
            })
            .count();
        let bad_uai = lines
            .iter()
            .filter(|l| {
                let f = fields(l);
                let uai = f
                    .iter()
                    .find(|v| v.len() == 8 && v[..7].bytes().all(|b| b.is_ascii_digit()));
                uai.is_some_and(|u| {
                    let n: usize = u[..7].parse().unwrap();
                    u.as_bytes()[7] != letters[n % 23]
                })
            })
            .count();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(staged.rows_read, lines.len(), "{name}");
        assert!(staged.balances(), "{name}");
        assert_eq!(staged.skipped.values().sum::<usize>(), breakdowns, "{name}");
        assert_eq!(
            staged.rejects.len(),
            bad_uai,
            "{name}: {:?}",
            staged.rejects.first()
        );
        assert_eq!(
            staged.etablissements.len(),
            lines.len() - breakdowns - bad_uai,
            "{name}"
        );
    }
}
