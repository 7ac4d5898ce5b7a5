//! `ij serve` over real HTTP on loopback (issue 11): every single-item
//! route's answer on the sample release, field by field, against the
//! release's own CSV rows read here (the API's rates recomputed here from
//! the counts); bulk lists and their pagination and CSV; the millésime rules;
//! first year → terminal year; the filières view; postcodes; OpenAPI.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::http::Server;
use crate::common::{read_csv, run_sample};

type Row = HashMap<String, String>;

/// The release folder of a sample run.
pub fn release_dir(run: &Path) -> PathBuf {
    let dir = run.join("release");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    assert_eq!(versions.len(), 1, "{versions:?}");
    versions.remove(0)
}

/// `(first, last)` of a millésime written `2023` or `2022_2023`.
fn years(m: &str) -> (u16, u16) {
    match m.split_once('_') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => (m.parse().unwrap(), m.parse().unwrap()),
    }
}

/// 100 × n / d rounded half to even, written for the test.
fn share(n: Option<i64>, d: Option<i64>) -> Option<i64> {
    let (n, d) = (n?, d?);
    if d == 0 {
        return None;
    }
    let exact = 100.0 * n as f64 / d as f64;
    let floor = exact.floor();
    let frac = exact - floor;
    let r = if (frac - 0.5).abs() < 1e-9 {
        if floor as i64 % 2 == 0 {
            floor
        } else {
            floor + 1.0
        }
    } else {
        exact.round()
    };
    Some(r as i64)
}

fn int(row: &Row, col: &str) -> Option<i64> {
    let v = &row[col];
    (!v.is_empty()).then(|| v.parse().unwrap())
}

fn json_int(v: &Value, key: &str) -> Option<i64> {
    let x = &v[key];
    assert!(x.is_null() || x.is_i64(), "{key}: {x}");
    x.as_i64()
}

/// Checks an item against its release row, field by field.
fn check_item(item: &Value, row: &Row, what: &str) {
    let s = |k: &str| item[k].as_str().map(str::to_string);
    let text = |c: &str| Some(row[c].clone()).filter(|v| !v.is_empty());
    assert_eq!(s("millesime"), text("millesime"), "{what}: millesime");
    assert_eq!(s("filiere"), text("filiere"), "{what}: filiere");
    let kind = match row["code_certification_type"].as_str() {
        "mef_stat_11" => "mef11",
        k => k,
    };
    assert_eq!(item["code_certification_type"], kind, "{what}");
    assert_eq!(s("libelle"), text("libelle"), "{what}: libelle");
    assert_eq!(
        s("code_formation_diplome"),
        text("code_formation_diplome"),
        "{what}"
    );
    for c in [
        "nb_annee_term",
        "nb_poursuite_etudes",
        "nb_en_emploi_6_mois",
        "nb_en_emploi_12_mois",
        "nb_en_emploi_18_mois",
        "nb_en_emploi_24_mois",
        "nb_sortant",
    ] {
        assert_eq!(json_int(item, c), int(row, c), "{what}: {c}");
    }
    // The mapping: the API's rates divide by the final-year students.
    let formation = int(row, "part_poursuite_etudes");
    assert_eq!(json_int(item, "taux_en_formation"), formation, "{what}");
    assert_eq!(
        json_int(item, "taux_en_emploi_6_mois"),
        int(row, "part_en_emploi_6_mois"),
        "{what}"
    );
    assert_eq!(
        json_int(item, "taux_autres_6_mois"),
        int(row, "part_autres_situations_6_mois"),
        "{what}"
    );
    for m in [12, 18, 24] {
        let e = share(
            int(row, &format!("nb_en_emploi_{m}_mois")),
            int(row, "nb_annee_term"),
        );
        assert_eq!(
            json_int(item, &format!("taux_en_emploi_{m}_mois")),
            e,
            "{what}: {m} mois"
        );
        let autres = match (e, formation) {
            (Some(e), Some(f)) => Some((100 - e - f).max(0)),
            _ => None,
        };
        assert_eq!(
            json_int(item, &format!("taux_autres_{m}_mois")),
            autres,
            "{what}"
        );
    }
    // Our rates over leavers ride along under their own names.
    for m in [6, 12, 18, 24] {
        assert_eq!(
            json_int(item, &format!("ij_taux_en_emploi_{m}_mois")),
            int(row, &format!("taux_en_emploi_{m}_mois")),
            "{what}"
        );
    }
    assert!(item["taux_rupture_contrats"].is_null());
    for q in ["q1", "q2", "q3"] {
        let c = format!("salaire_12_mois_{q}");
        let expected = text(&c).map(|v| v.parse::<f64>().unwrap());
        assert_eq!(item[&c].as_f64(), expected, "{what}: {c}");
    }
    assert_eq!(
        item["formation_fermee"].as_bool(),
        Some(row["formation_fermee"] == "true"),
        "{what}"
    );
    assert_eq!(s("date_fermeture"), text("date_fermeture"), "{what}");
    assert_eq!(s("masked"), text("masked"), "{what}: masked");
    assert_eq!(s("origine"), text("origine"), "{what}: origine");
    let source = &item["donnee_source"];
    let kind = row["donnee_source_type"].as_str();
    assert_eq!(source["type_ij"], kind, "{what}");
    let (api_kind, code) = match kind {
        "ancienne" | "nouvelle" => (kind, row["donnee_source_code"].as_str()),
        _ => ("self", row["code_certification"].as_str()),
    };
    assert_eq!(source["type"], api_kind, "{what}");
    assert_eq!(source["code_certification"], code, "{what}");
    match item["familleMetier"].as_object() {
        Some(f) => assert_eq!(f["code"], row["famille_metiers_code"].as_str(), "{what}"),
        None => assert_eq!(row["famille_metiers_code"], "", "{what}"),
    }
}

/// The latest millésime of each filière in a table.
fn latest(rows: &[Row]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r["filiere"].clone()).or_default();
        if e.is_empty() || years(&r["millesime"]) > years(e) {
            *e = r["millesime"].clone();
        }
    }
    out
}

/// `2023` matches `2022_2023` and back.
fn same_cohort(a: &str, b: &str) -> bool {
    let (x, y) = (years(a), years(b));
    a == b || (x.1 == y.1 && (x.0 == x.1) != (y.0 == y.1) && x.1 - x.0 <= 1 && y.1 - y.0 <= 1)
}

#[test]
fn every_single_item_answers_the_release_rows() {
    let run = run_sample();
    let release = release_dir(run.path());
    let server = Server::start(&release);
    let base = "/api/inserjeunes";

    // National: every row, asked by its millésime.
    let national = read_csv(&release.join("certifications.csv"));
    assert!(national.len() > 20);
    for row in &national {
        let (code, m) = (&row["code_certification"], &row["millesime"]);
        let a = server.get(&format!("{base}/certifications/{code}?millesime={m}"));
        assert_eq!(a.status, 200, "{code} {m}: {}", a.text());
        assert_eq!(
            a.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let item = a.json();
        check_item(&item, row, &format!("national {code} {m}"));
        assert_eq!(item["code_certification"], code.as_str());
        assert!(item["region"].is_null());
        assert!(item["_meta"]["titre"]
            .as_str()
            .unwrap()
            .contains(code.as_str()));
    }

    // Régional: every row, by INSEE code.
    let regionales = read_csv(&release.join("regionales.csv"));
    for row in &regionales {
        let (code, m, region) = (
            &row["code_certification"],
            &row["millesime"],
            &row["region_code"],
        );
        let a = server.get(&format!(
            "{base}/regionales/{region}/certifications/{code}?millesime={m}"
        ));
        assert_eq!(a.status, 200, "{region} {code} {m}: {}", a.text());
        let item = a.json();
        check_item(&item, row, &format!("régional {region} {code} {m}"));
        assert_eq!(item["region"]["code"], region.as_str());
        assert_eq!(item["region"]["nom"], row["region_libelle"].as_str());
    }

    // Per establishment: every row.
    let formations = read_csv(&release.join("formations.csv"));
    assert!(!formations.is_empty());
    for row in &formations {
        let (code, m, uai) = (&row["code_certification"], &row["millesime"], &row["uai"]);
        let a = server.get(&format!("{base}/formations/{uai}-{code}?millesime={m}"));
        assert_eq!(a.status, 200, "{uai} {code} {m}: {}", a.text());
        let item = a.json();
        check_item(&item, row, &format!("formation {uai} {code} {m}"));
        assert_eq!(item["uai"], uai.as_str());
        assert_eq!(
            item["libelle_etablissement"].as_str().unwrap_or(""),
            row["libelle_etablissement"]
        );
        assert_eq!(item["academie"]["code"], row["academie_code"].as_str());
    }

    // Without a millésime: the latest of the filière's table, never an
    // older one; a code without it is a 404 naming the code's millésimes.
    for (table, rows) in [("certifications", &national), ("regionales", &regionales)] {
        let newest = latest(rows);
        let mut keys: BTreeSet<(String, String, String)> = BTreeSet::new();
        for r in rows.iter() {
            let place = r.get("region_code").cloned().unwrap_or_default();
            keys.insert((place, r["code_certification"].clone(), r["filiere"].clone()));
        }
        for (place, code, filiere) in keys {
            let own: Vec<&Row> = rows
                .iter()
                .filter(|r| {
                    r["code_certification"] == code
                        && r.get("region_code").cloned().unwrap_or_default() == place
                })
                .collect();
            let target = &newest[&filiere];
            let path = if table == "certifications" {
                format!("{base}/certifications/{code}")
            } else {
                format!("{base}/regionales/{place}/certifications/{code}")
            };
            let a = server.get(&path);
            // The exact millésime first, then its other form.
            let expected = own
                .iter()
                .find(|r| &r["millesime"] == target)
                .or_else(|| own.iter().find(|r| same_cohort(&r["millesime"], target)));
            match expected {
                Some(row) => {
                    assert_eq!(a.status, 200, "{path}: {}", a.text());
                    check_item(&a.json(), row, &path);
                }
                None => {
                    assert_eq!(a.status, 404, "{path}: {}", a.text());
                    let body = a.json();
                    assert_eq!(body["message"], "Pas de données pour le millésime");
                    assert_eq!(body["data"]["millesime"], target.as_str());
                    let mut available: Vec<&str> =
                        own.iter().map(|r| r["millesime"].as_str()).collect();
                    available.sort_by_key(|m| std::cmp::Reverse(years(m)));
                    assert_eq!(
                        body["data"]["millesimesDisponible"],
                        serde_json::json!(available)
                    );
                }
            }
        }
    }
    // An asked millésime the code lacks.
    let a = server.get(&format!("{base}/certifications/40025510?millesime=2015"));
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["data"]["millesime"], "2015");
    assert!(!a.json()["data"]["millesimesDisponible"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn first_years_continuum_filieres_and_postcodes() {
    let run = run_sample();
    let release = release_dir(run.path());
    let server = Server::start(&release);
    let base = "/api/inserjeunes";
    let national = read_csv(&release.join("certifications.csv"));
    let terminales = read_csv(&release.join("certifications_terminales.csv"));
    let has_rows: BTreeSet<&str> = national
        .iter()
        .map(|r| r["code_certification"].as_str())
        .collect();
    let newest = latest(&national);

    // A first year without figures of its own, with one terminal year that
    // has figures: it answers with the terminal year's.
    let mut checked = 0;
    for t in &terminales {
        let (first, term) = (&t["code_certification"], &t["code_certification_terminale"]);
        let links = terminales
            .iter()
            .filter(|x| &x["code_certification"] == first)
            .count();
        if has_rows.contains(first.as_str()) || links != 1 || !has_rows.contains(term.as_str()) {
            continue;
        }
        let a = server.get(&format!("{base}/certifications/{first}"));
        let rows: Vec<&Row> = national
            .iter()
            .filter(|r| &r["code_certification"] == term)
            .collect();
        let filiere = &rows[0]["filiere"];
        let expected = rows
            .iter()
            .find(|r| r["millesime"] == newest[filiere])
            .or_else(|| {
                rows.iter()
                    .find(|r| same_cohort(&r["millesime"], &newest[filiere]))
            });
        let Some(expected) = expected else {
            assert_eq!(a.status, 404, "{first}");
            continue;
        };
        assert_eq!(a.status, 200, "{first}: {}", a.text());
        let item = a.json();
        assert_eq!(item["code_certification"], first.as_str());
        assert_eq!(
            item["certificationsTerminales"],
            serde_json::json!([{"code_certification": term}])
        );
        assert_eq!(
            json_int(&item, "nb_annee_term"),
            int(expected, "nb_annee_term")
        );
        assert_eq!(
            json_int(&item, "taux_en_emploi_6_mois"),
            int(expected, "part_en_emploi_6_mois")
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} first years checked");

    // A code known through the continuum: its figures, and where they come from.
    let continued = national
        .iter()
        .find(|r| r["donnee_source_type"] == "ancienne")
        .expect("a continuum row in the sample");
    let (code, m) = (&continued["code_certification"], &continued["millesime"]);
    let item = server
        .get(&format!("{base}/certifications/{code}?millesime={m}"))
        .json();
    assert_eq!(item["donnee_source"]["type"], "ancienne");
    assert_eq!(
        item["donnee_source"]["code_certification"],
        continued["donnee_source_code"].as_str()
    );
    assert!(item["_meta"]["messages"][0]
        .as_str()
        .unwrap()
        .contains(continued["donnee_source_code"].as_str()));

    // The filières view: the CFD's apprenticeship row and the sum of its
    // MEFs' voie scolaire rows at the latest millésime.
    let cfd = "40025510";
    let a = server.get(&format!("{base}/certifications/{cfd}?vue=filieres"));
    assert_eq!(a.status, 200, "{}", a.text());
    let view = a.json();
    for (filiere, block) in view.as_object().unwrap() {
        let target = &newest[filiere];
        let rows: Vec<&Row> = national
            .iter()
            .filter(|r| {
                &r["filiere"] == filiere
                    && r["code_formation_diplome"] == cfd
                    && same_cohort(&r["millesime"], target)
                    && block["millesime"] == r["millesime"].as_str()
            })
            .collect();
        assert!(!rows.is_empty(), "{filiere}");
        let sum: i64 = rows.iter().map(|r| int(r, "nb_annee_term").unwrap()).sum();
        assert_eq!(block["nb_annee_term"].as_i64(), Some(sum), "{filiere}");
        let codes: BTreeSet<&str> = rows
            .iter()
            .map(|r| r["code_certification"].as_str())
            .collect();
        let got: BTreeSet<&str> = block["codes_certifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, codes, "{filiere}");
        assert_eq!(block["codes_formation_diplome"], serde_json::json!([cfd]));
    }
    assert!(view.get("pro").is_some() && view.get("apprentissage").is_some());
    // Several codes (prefixed) give the same blocks, one per filière.
    let several = server
        .get(&format!(
            "{base}/certifications/CFD:40025510|MEFSTAT11:23830025510"
        ))
        .json();
    assert_eq!(several["apprentissage"], view["apprentissage"]);
    assert_eq!(
        several["pro"]["nb_annee_term"],
        view["pro"]["nb_annee_term"]
    );

    // A postcode is its région.
    let regionales = read_csv(&release.join("regionales.csv"));
    let row = regionales
        .iter()
        .find(|r| r["region_code"] == "84")
        .expect("a row in Auvergne-Rhône-Alpes");
    let (code, m) = (&row["code_certification"], &row["millesime"]);
    let by_code = server.get(&format!(
        "{base}/regionales/84/certifications/{code}?millesime={m}"
    ));
    let by_postcode = server.get(&format!(
        "{base}/regionales/69003/certifications/{code}?millesime={m}"
    ));
    assert_eq!(by_code.status, 200);
    assert_eq!(by_code.body, by_postcode.body);
}

#[test]
fn bulk_lists_paginate_and_write_csv() {
    let run = run_sample();
    let release = release_dir(run.path());
    let server = Server::start(&release);
    let base = "/api/inserjeunes";
    for (route, table) in [
        ("certifications", "certifications"),
        ("regionales", "regionales"),
        ("formations", "formations"),
    ] {
        let rows = read_csv(&release.join(format!("{table}.csv")));
        let all = server
            .get(&format!("{base}/{route}?items_par_page=1000"))
            .json();
        assert_eq!(all["pagination"]["total"], rows.len(), "{route}");
        let items = all[table].as_array().unwrap();
        assert_eq!(items.len(), rows.len());
        for (item, row) in items.iter().zip(&rows) {
            check_item(item, row, &format!("{route} list"));
            assert!(item.get("_meta").is_none(), "bulk items carry no _meta");
        }
        // Default page size 10; pages cover the list once.
        let first = server.get(&format!("{base}/{route}.json")).json();
        assert_eq!(first["pagination"]["items_par_page"], 10);
        let per = 7;
        let pages = rows.len().div_ceil(per);
        assert_eq!(
            server
                .get(&format!("{base}/{route}?items_par_page={per}"))
                .json()["pagination"]["nombre_de_page"],
            pages
        );
        let mut seen = Vec::new();
        for page in 1..=pages + 1 {
            let p = server
                .get(&format!("{base}/{route}?items_par_page={per}&page={page}"))
                .json();
            seen.extend(p[table].as_array().unwrap().iter().cloned());
        }
        assert_eq!(&seen, items, "{route}: pages");
        // CSV: `;`, a header, one line per item.
        let csv = server.get(&format!("{base}/{route}.csv?items_par_page=1000"));
        assert_eq!(csv.status, 200);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let text = csv.text();
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), rows.len(), "{route}.csv");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (rec, row) in records.iter().zip(&rows) {
            assert_eq!(&rec[col("code_certification")], row["code_certification"]);
            assert_eq!(
                &rec[col("taux_en_emploi_6_mois")],
                row["part_en_emploi_6_mois"]
            );
            assert_eq!(&rec[col("nb_annee_term")], row["nb_annee_term"]);
        }
    }
    // Filters.
    let regionales = read_csv(&release.join("regionales.csv"));
    let in_84 = regionales
        .iter()
        .filter(|r| r["region_code"] == "84")
        .count();
    let a = server
        .get(&format!("{base}/regionales/84?items_par_page=1000"))
        .json();
    assert_eq!(a["pagination"]["total"], in_84);
    let b = server
        .get(&format!(
            "{base}/regionales?regions=69003&items_par_page=1000"
        ))
        .json();
    assert_eq!(b, a);
    let national = read_csv(&release.join("certifications.csv"));
    let m = &national[0]["millesime"];
    let code = &national[0]["code_certification"];
    let expected = national
        .iter()
        .filter(|r| &r["millesime"] == m && &r["code_certification"] == code)
        .count();
    let c = server
        .get(&format!(
            "{base}/certifications?millesimes={m}&code_certifications={code}"
        ))
        .json();
    assert_eq!(c["pagination"]["total"], expected);
}

#[test]
fn health_and_openapi_describe_what_is_served() {
    let run = run_sample();
    let release = release_dir(run.path());
    let server = Server::start(&release);
    let manifest = crate::common::read_json(&release.join("manifest.json"));
    let health = server.get("/api").json();
    assert_eq!(health["release"], manifest["version"]);
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    for t in manifest["tables"].as_array().unwrap() {
        assert_eq!(health["tables"][t["name"].as_str().unwrap()], t["rows"]);
    }
    let doc = server.get("/api/doc").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/api",
        "/api/doc",
        "/api/inserjeunes/certifications",
        "/api/inserjeunes/certifications.csv",
        "/api/inserjeunes/certifications/{codes}",
        "/api/inserjeunes/regionales",
        "/api/inserjeunes/regionales/{region}",
        "/api/inserjeunes/regionales/{region}/certifications/{codes}",
        "/api/inserjeunes/formations",
        "/api/inserjeunes/formations/{formation}",
    ] {
        let op = &paths
            .get(route)
            .unwrap_or_else(|| panic!("{route} not documented"))["get"];
        // Every documented path parameter is in the path template, and the
        // route answers (not a 404 "route inconnue").
        for p in op["parameters"].as_array().unwrap() {
            if p["in"] == "path" {
                assert!(route.contains(&format!("{{{}}}", p["name"].as_str().unwrap())));
            }
        }
        let mut concrete = route.to_string();
        for p in op["parameters"].as_array().unwrap() {
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap();
                concrete = concrete.replace(&format!("{{{name}}}"), p["example"].as_str().unwrap());
            }
        }
        let a = server.get(&concrete);
        assert!(
            a.status == 200
                || !a.json()["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Route inconnue"),
            "{concrete}: {}",
            a.status
        );
        assert!(a.status < 500, "{concrete}");
    }
    assert!(paths
        .values()
        .all(|p| p["get"]["responses"]["200"].is_object()));
}

/// The real release (called by `release::release_of_the_real_data`, which
/// builds it): real codes answer with the figures of the release's rows, at
/// the national and regional levels, as JSON and as widgets; a famille de
/// métiers' common first year, a code known through the continuum and a
/// first year without figures of its own answer too, saying where the
/// figures come from.
pub fn check_real_release(release: &Path) {
    let server = Server::start(release);
    let base = "/api/inserjeunes";
    let national = read_csv(&release.join("certifications.csv"));
    let regionales = read_csv(&release.join("regionales.csv"));
    let newest_national = latest(&national);
    let newest_regional = latest(&regionales);
    let at_latest =
        |rows: &[Row], newest: &BTreeMap<String, String>, pred: &dyn Fn(&Row) -> bool| {
            rows.iter()
                .find(|r| r["millesime"] == newest[&r["filiere"]] && pred(r))
                .cloned()
        };
    let with_rate = |r: &Row| !r["part_en_emploi_6_mois"].is_empty();
    let mut checked = Vec::new();
    for filiere in ["apprentissage", "pro"] {
        let row = at_latest(&national, &newest_national, &|r| {
            r["filiere"] == filiere && r["donnee_source_type"] == "propre" && with_rate(r)
        })
        .unwrap_or_else(|| panic!("a national {filiere} row with figures"));
        let code = &row["code_certification"];
        let a = server.get(&format!("{base}/certifications/{code}"));
        assert_eq!(a.status, 200, "{code}: {}", a.text());
        check_item(&a.json(), &row, &format!("real national {code}"));
        let svg = server
            .get(&format!("{base}/certifications/{code}.svg"))
            .text();
        let rate = &row["part_en_emploi_6_mois"];
        assert!(
            svg.contains(&format!("{rate} % sont en emploi 6 mois")),
            "{code}"
        );
        checked.push(format!("national {filiere} {code}"));

        let row = at_latest(&regionales, &newest_regional, &|r| {
            r["filiere"] == filiere && with_rate(r)
        })
        .unwrap_or_else(|| panic!("a regional {filiere} row with figures"));
        let (code, region) = (&row["code_certification"], &row["region_code"]);
        let a = server.get(&format!("{base}/regionales/{region}/certifications/{code}"));
        assert_eq!(a.status, 200, "{region} {code}: {}", a.text());
        check_item(&a.json(), &row, &format!("real regional {region} {code}"));
        let svg = server
            .get(&format!(
                "{base}/regionales/{region}/certifications/{code}.svg?theme=lba"
            ))
            .text();
        assert!(
            svg.contains("Les chiffres pour la région"),
            "{region} {code}"
        );
        checked.push(format!("regional {filiere} {region} {code}"));
    }
    // A common first year (its famille's sum) and a code of the continuum.
    for kind in ["famille_metiers", "ancienne", "nouvelle"] {
        let Some(row) = at_latest(&regionales, &newest_regional, &|r| {
            r["donnee_source_type"] == kind
        }) else {
            panic!("no regional {kind} row at the latest millésime");
        };
        let (code, region) = (&row["code_certification"], &row["region_code"]);
        let item = server
            .get(&format!("{base}/regionales/{region}/certifications/{code}"))
            .json();
        check_item(&item, &row, &format!("real {kind} {region} {code}"));
        assert_eq!(item["donnee_source"]["type_ij"], kind);
        let messages = item["_meta"]["messages"].to_string();
        let first_source = row["donnee_source_code"]
            .split('|')
            .next()
            .unwrap()
            .to_string();
        assert!(messages.contains(&first_source), "{code}: {messages}");
        checked.push(format!("{kind} {region} {code}"));
    }
    // A first year without rows of its own: its terminal year's figures.
    let terminales = read_csv(&release.join("certifications_terminales.csv"));
    let own: BTreeSet<&str> = national
        .iter()
        .map(|r| r["code_certification"].as_str())
        .collect();
    let first_year = terminales.iter().find(|t| {
        t["lien"] == "meme_formation"
            && !own.contains(t["code_certification"].as_str())
            && national.iter().any(|r| {
                r["code_certification"] == t["code_certification_terminale"]
                    && r["millesime"] == newest_national[&r["filiere"]]
                    && with_rate(r)
            })
    });
    let t = first_year.expect("a first year whose terminal year has figures");
    let item = server
        .get(&format!(
            "{base}/certifications/{}",
            t["code_certification"]
        ))
        .json();
    assert_eq!(
        item["certificationsTerminales"][0]["code_certification"],
        t["code_certification_terminale"].as_str()
    );
    assert!(!item["taux_en_emploi_6_mois"].is_null());
    checked.push(format!("first year {}", t["code_certification"]));
    eprintln!("real release through the API: {}", checked.join(", "));
}
