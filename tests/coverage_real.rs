//! The real catalogues' coverage, recomputed offer by offer (issue 15).
//!
//! This file is a second, small implementation of the coverage rules the
//! README states, written from the raw files only (N_MEF, N_ and
//! V_FORMATION_DIPLOME, the famille tables, the InserJeunes regional file,
//! the académie referential) and never from `ij`'s outputs but the one it
//! checks: `coverage_offers`. Every offer of the real Affelnet 2nde
//! catalogue and of Parcoursup's apprenticeship list gets its status, level,
//! code and millésime here, and the test fails on any offer where `ij`
//! disagrees.
//!
//! The rules, as the README states them:
//! - an offer's figures are keyed by its MEF_STAT_11 in voie scolaire, by its
//!   CFD in apprenticeship; a first year also looks at its terminal year, a
//!   common first year at its famille de métiers;
//! - at each level (région, then nation) only the latest millésime of the
//!   filière at that level counts (a year and the pair ending with it are
//!   counterparts);
//! - a row is published when it has at least `seuil` students in their final
//!   year and its detail (the source gives only `nb_annee_term` under 5);
//! - national rows are the régions' sums, leaving out régions without
//!   detail when another has it;
//! - a code without a row of its own takes the figures of the nearest code
//!   of its strictly one-to-one continuum chain (a predecessor first); MEF
//!   links follow their CFDs' links;
//! - a MEF_STAT_11 on two N_MEF rows is read from the open one (else the one
//!   closed last);
//! - a common first year's row, where its specialities have detailed
//!   figures, is their sum (continuum rows included, no figure counted
//!   twice), replacing any row of its own;
//! - an offer not covered gets one reason: unknown_code, then
//!   several_terminal_formations, below_threshold, new_formation,
//!   invalid_uai, no_data.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::common::*;
use crate::real_data::{raw_table, raw_table_in, real_data, real_run};

const SEUIL: i64 = 20;

// ---- Raw files -----------------------------------------------------------------

/// A catalogue export: UTF-8 (Affelnet 2nde) or Mac Roman (Parcoursup's
/// list), `;`, no quoting.
fn raw_catalogue(path: &Path) -> (HashMap<String, usize>, Vec<Vec<String>>) {
    raw_table_in(path, encoding_rs::MACINTOSH)
}

/// ASCII letters and digits, lower-cased: `Orléans` and `Orleans` meet.
fn fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
            'î' | 'ï' | 'Î' => 'i',
            'ô' | 'ö' | 'Ô' => 'o',
            'ù' | 'û' | 'ü' | 'Û' => 'u',
            'ç' | 'Ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn uai_is_valid(uai: &str) -> bool {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    let b = uai.as_bytes();
    b.len() == 8
        && b[..7].iter().all(u8::is_ascii_digit)
        && uai[..7]
            .parse::<usize>()
            .is_ok_and(|n| LETTERS[n % 23] == b[7])
}

/// A year, or the last year of a cumulated pair: counterparts share it.
fn last_year(millesime: &str) -> u32 {
    millesime.rsplit('_').next().unwrap().parse().unwrap()
}

// ---- The BCN -------------------------------------------------------------------

#[derive(Clone)]
pub struct Mef {
    pub mef: String,
    pub dispositif: String,
    pub cfd: String,
    pub duree: u32,
    pub annee: u32,
}

pub struct Bcn {
    /// MEF_STAT_11 → its N_MEF row (the open one, else the one closed last).
    pub mefs: BTreeMap<String, Mef>,
    /// 10-character MEF → MEF_STAT_11.
    pub mef_stat: HashMap<String, String>,
    /// CFD → DATE_PREMIERE_SESSION (N_ first, then V_).
    pub cfds: HashMap<String, Option<i32>>,
    /// Strictly one-to-one links, old → new, of CFDs and of MEF_STAT_11s.
    pub successor: HashMap<String, String>,
    pub predecessor: HashMap<String, String>,
    /// A common first year's code (MEF_STAT_11 or CFD) → its specialities'
    /// codes of the same kind (terminal MEF_STAT_11s, or CFDs).
    pub specialites: BTreeMap<String, BTreeSet<String>>,
}

/// The BCN tables of a folder: the real exports' names or the sample's
/// (`nMef.csv` and `N_MEF.csv` alike: matched without case and underscores).
pub fn load_bcn(bcn: &Path) -> Bcn {
    let bcn = bcn.to_path_buf();
    let (h, rows) = raw_table(&bcn_file(&bcn, "nMef.csv"));
    let mut mefs: BTreeMap<String, Mef> = BTreeMap::new();
    let mut mef_stat = HashMap::new();
    let mut closings: HashMap<String, (u8, String)> = HashMap::new();
    for r in &rows {
        let m = Mef {
            mef: r[h["MEF"]].clone(),
            dispositif: r[h["DISPOSITIF_FORMATION"]].clone(),
            cfd: r[h["FORMATION_DIPLOME"]].clone(),
            duree: r[h["DUREE_DISPOSITIF"]].parse().unwrap_or(0),
            annee: r[h["ANNEE_DISPOSITIF"]].parse().unwrap_or(0),
        };
        let stat = r[h["MEF_STAT_11"]].clone();
        mef_stat.insert(m.mef.clone(), stat.clone());
        // A MEF_STAT_11 on two rows: the open one, else the one closed last.
        let closing = closing_date(&r[h["DATE_FERMETURE"]]);
        match closings.get(&stat) {
            Some(kept) if *kept >= closing => {}
            _ => {
                closings.insert(stat.clone(), closing);
                mefs.insert(stat, m);
            }
        }
    }

    let mut cfds: HashMap<String, Option<i32>> = HashMap::new();
    let mut links: BTreeSet<(String, String)> = BTreeSet::new();
    for file in ["nFormationDiplome_.csv", "vFormationDiplome_.csv"] {
        let (h, rows) = raw_table(&bcn_file(&bcn, file));
        for r in &rows {
            let cfd = r[h["FORMATION_DIPLOME"]].clone();
            let first = r[h["DATE_PREMIERE_SESSION"]].parse().ok();
            cfds.entry(cfd.clone()).or_insert(first);
            for i in 1..=7 {
                for (column, old_end) in [("ANCIEN_DIPLOME", false), ("NOUVEAU_DIPLOME", true)] {
                    let Some(&c) = h.get(&format!("{column}_{i}")) else {
                        continue;
                    };
                    let other = r[c].clone();
                    if other.is_empty() || other == cfd {
                        continue;
                    }
                    // A link declared by either end counts.
                    links.insert(if old_end {
                        (cfd.clone(), other)
                    } else {
                        (other, cfd.clone())
                    });
                }
            }
        }
    }

    // MEF links follow their CFDs' links: a single MEF_STAT_11 on each side,
    // else same DISPOSITIF_FORMATION and same first 4 characters.
    let mut by_cfd: HashMap<&str, Vec<(&String, &Mef)>> = HashMap::new();
    for (stat, m) in &mefs {
        by_cfd.entry(&m.cfd).or_default().push((stat, m));
    }
    let mut mef_links: BTreeSet<(String, String)> = BTreeSet::new();
    for (old, new) in &links {
        let (Some(olds), Some(news)) = (by_cfd.get(old.as_str()), by_cfd.get(new.as_str())) else {
            continue;
        };
        if olds.len() == 1 && news.len() == 1 {
            mef_links.insert((olds[0].0.clone(), news[0].0.clone()));
            continue;
        }
        for (o, om) in olds {
            for (n, nm) in news {
                if om.dispositif == nm.dispositif && o[..4] == n[..4] {
                    mef_links.insert(((*o).clone(), (*n).clone()));
                }
            }
        }
    }
    let mut successor = HashMap::new();
    let mut predecessor = HashMap::new();
    for graph in [&links, &mef_links] {
        let mut outs: HashMap<&str, usize> = HashMap::new();
        let mut ins: HashMap<&str, usize> = HashMap::new();
        for (o, n) in graph.iter() {
            *outs.entry(o).or_default() += 1;
            *ins.entry(n).or_default() += 1;
        }
        for (o, n) in graph.iter() {
            if outs[o.as_str()] == 1 && ins[n.as_str()] == 1 {
                successor.insert(o.clone(), n.clone());
                predecessor.insert(n.clone(), o.clone());
            }
        }
    }

    let specialites = familles(&bcn, &mefs);
    Bcn {
        mefs,
        mef_stat,
        cfds,
        successor,
        predecessor,
        specialites,
    }
}

/// A BCN table of `dir` whose name matches `name` but for case and underscores.
fn bcn_file(dir: &Path, name: &str) -> std::path::PathBuf {
    let key = |n: &str| n.to_lowercase().replace('_', "");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|f| key(&f.to_string_lossy()) == key(name))
        })
        .unwrap_or_else(|| panic!("{}: no {name}", dir.display()))
}

/// The familles de métiers: TG01 groupes (N_LIEN_FORMATION_GROUPE, by CFD)
/// and N_LIEN_MEF_FAMILLE_METIER (by MEF). In each family, a CFD all of
/// whose MEFs are first years is the common year; the others are its
/// specialities. A common year's MEF leads to its specialities' terminal
/// MEFs of the same duration and the same ministry (agricultural
/// dispositifs 27x–28x apart).
fn familles(bcn: &Path, mefs: &BTreeMap<String, Mef>) -> BTreeMap<String, BTreeSet<String>> {
    let mut families: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let (h, rows) = raw_table(&bcn_file(bcn, "n_groupe_formation_.csv"));
    let tg01: HashSet<String> = rows
        .iter()
        .filter(|r| r[h["TYPE_GROUPE_FORMATION"]] == "TG01")
        .map(|r| r[h["GROUPE_FORMATION"]].clone())
        .collect();
    let (h, rows) = raw_table(&bcn_file(bcn, "n_lien_formation_groupe_.csv"));
    for r in &rows {
        let g = &r[h["GROUPE_FORMATION"]];
        if tg01.contains(g) {
            families
                .entry(format!("groupe {g}"))
                .or_default()
                .insert(r[h["FORMATION_DIPLOME"]].clone());
        }
    }
    let cfd_of_mef: HashMap<&str, &str> = mefs
        .values()
        .map(|m| (m.mef.as_str(), m.cfd.as_str()))
        .collect();
    let (h, rows) = raw_table(&bcn_file(bcn, "n_lien_mef_famille_metier.csv"));
    for r in &rows {
        let f = &r[h["FAMILLE_METIER"]];
        // 999: "hors famille".
        if f == "999" {
            continue;
        }
        if let Some(cfd) = cfd_of_mef.get(r[h["MEF"]].as_str()) {
            families
                .entry(format!("famille {f}"))
                .or_default()
                .insert(cfd.to_string());
        }
    }

    let mut by_cfd: BTreeMap<&str, Vec<(&String, &Mef)>> = BTreeMap::new();
    for (stat, m) in mefs {
        by_cfd.entry(&m.cfd).or_default().push((stat, m));
    }
    let first_years_only = |cfd: &str| {
        by_cfd
            .get(cfd)
            .is_some_and(|ms| ms.iter().all(|(_, m)| m.annee == 1))
    };
    let agricole = |m: &Mef| m.dispositif.starts_with("27") || m.dispositif.starts_with("28");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for members in families.values() {
        for commune in members.iter().filter(|c| first_years_only(c)) {
            for speciality in members.iter().filter(|c| !first_years_only(c)) {
                out.entry(commune.clone())
                    .or_default()
                    .insert(speciality.clone());
                for (stat, m) in &by_cfd[commune.as_str()] {
                    let terminals = by_cfd.get(speciality.as_str()).into_iter().flatten();
                    for (t, tm) in terminals {
                        if tm.annee == tm.duree
                            && tm.duree == m.duree
                            && agricole(tm) == agricole(m)
                        {
                            out.entry((*stat).clone()).or_default().insert((*t).clone());
                        }
                    }
                }
            }
        }
    }
    out
}

/// A DATE_FERMETURE (`dd/mm/yyyy`) as a sortable key; open (empty) last.
fn closing_date(d: &str) -> (u8, String) {
    match d.split('/').collect::<Vec<_>>().as_slice() {
        [day, month, year] => (0, format!("{year}{month}{day}")),
        _ => (1, String::new()),
    }
}

impl Bcn {
    /// The terminal years of a first-year MEF_STAT_11 (empty for a terminal
    /// year, or a code N_MEF does not know): the code built with the
    /// duration as its year when N_MEF has it, else every terminal MEF of
    /// the same CFD.
    fn terminals(&self, stat: &str) -> Vec<String> {
        let Some(m) = self.mefs.get(stat) else {
            return vec![];
        };
        if m.annee >= m.duree || stat.len() != 11 {
            return vec![];
        }
        let built = format!("{}{}{}", &stat[..3], m.duree, &stat[4..]);
        if self.mefs.contains_key(&built) {
            return vec![built];
        }
        self.mefs
            .iter()
            .filter(|(_, x)| x.cfd == m.cfd && x.annee == x.duree)
            .map(|(s, _)| s.clone())
            .collect()
    }
}

// ---- Indicators ----------------------------------------------------------------

#[derive(Clone, Copy, Default, Debug)]
struct Counts {
    term: i64,
    poursuite: Option<i64>,
    sortant: Option<i64>,
}

impl Counts {
    fn detailed(&self) -> bool {
        self.poursuite.is_some() || self.sortant.is_some()
    }

    fn published(&self) -> bool {
        self.term >= SEUIL && self.detailed()
    }
}

/// (level key: région code or "", filière, code) → counts, for one millésime.
type Level = HashMap<(String, String, String), Counts>;

struct Indicators {
    /// "region" / "national" → filière → latest millésime's rows.
    levels: BTreeMap<&'static str, Level>,
    /// (level, filière) → the latest millésime there.
    latest: BTreeMap<(&'static str, String), String>,
}

fn load_indicators(real: &Path) -> Indicators {
    let rows = crate::real_data::raw_regional(real);
    let opt = |v: &str| v.parse::<i64>().ok();
    let mut all: Vec<(String, String, String, String, Counts)> = Vec::new();
    for r in &rows {
        let (filiere, code) = if r["voie"] == "apprentissage" {
            ("apprentissage", r["cfd"].clone())
        } else {
            ("pro", r["mefstat11"].clone())
        };
        let counts = Counts {
            term: r["nb_annee_term"].parse().unwrap_or(0),
            poursuite: opt(&r["nb_poursuite_etudes"]),
            sortant: opt(&r["nb_sortant"]),
        };
        all.push((
            r["millesime"].clone(),
            r["code_region"].clone(),
            filiere.to_string(),
            code,
            counts,
        ));
    }
    // National sums: régions with detail only, when any has it.
    let mut national: BTreeMap<(String, String, String), Vec<Counts>> = BTreeMap::new();
    for (m, _, f, c, counts) in &all {
        national
            .entry((m.clone(), f.clone(), c.clone()))
            .or_default()
            .push(*counts);
    }
    let sum = |members: &[Counts]| {
        let detailed = members.iter().any(Counts::detailed);
        let kept: Vec<&Counts> = members
            .iter()
            .filter(|c| !detailed || c.detailed())
            .collect();
        let known = |f: fn(&Counts) -> Option<i64>| -> Option<i64> {
            kept.iter().map(|c| f(c)).sum::<Option<i64>>()
        };
        Counts {
            term: kept.iter().map(|c| c.term).sum(),
            poursuite: known(|c| c.poursuite),
            sortant: known(|c| c.sortant),
        }
    };

    let mut ind = Indicators {
        levels: BTreeMap::new(),
        latest: BTreeMap::new(),
    };
    let mut rows_of: Vec<(&'static str, String, String, String, String, Counts)> = all
        .iter()
        .map(|(m, r, f, c, n)| ("region", m.clone(), r.clone(), f.clone(), c.clone(), *n))
        .collect();
    rows_of.extend(national.iter().map(|((m, f, c), members)| {
        (
            "national",
            m.clone(),
            String::new(),
            f.clone(),
            c.clone(),
            sum(members),
        )
    }));
    for (level, m, _, f, _, _) in &rows_of {
        let latest = ind.latest.entry((level, f.clone())).or_insert(m.clone());
        if last_year(m) > last_year(latest) {
            *latest = m.clone();
        }
    }
    for (level, m, key, f, code, counts) in rows_of {
        if last_year(&m) == last_year(&ind.latest[&(level, f.clone())]) {
            ind.levels
                .entry(level)
                .or_default()
                .insert((key, f, code), counts);
        }
    }
    ind
}

/// A row as an offer sees it, with where its figures come from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Own,
    Continuum,
    Famille,
}

struct Rows<'a> {
    bcn: &'a Bcn,
    ind: &'a Indicators,
}

impl Rows<'_> {
    fn own(&self, level: &str, key: &str, filiere: &str, code: &str) -> Option<Counts> {
        self.ind
            .levels
            .get(level)?
            .get(&(key.to_string(), filiere.to_string(), code.to_string()))
            .copied()
    }

    /// The code's own row, else the nearest of its strict continuum chain
    /// (a predecessor before a successor at the same distance), with the
    /// code whose figures it is.
    fn with_continuum(
        &self,
        level: &str,
        key: &str,
        filiere: &str,
        code: &str,
    ) -> Option<(Counts, Source, String)> {
        if let Some(c) = self.own(level, key, filiere, code) {
            return Some((c, Source::Own, code.to_string()));
        }
        let (mut back, mut forward) = (code.to_string(), code.to_string());
        let mut seen = HashSet::from([code.to_string()]);
        loop {
            let previous = self
                .bcn
                .predecessor
                .get(&back)
                .filter(|p| seen.insert((*p).clone()));
            let next = self
                .bcn
                .successor
                .get(&forward)
                .filter(|n| seen.insert((*n).clone()));
            if previous.is_none() && next.is_none() {
                return None;
            }
            for candidate in [previous, next].into_iter().flatten() {
                if let Some(c) = self.own(level, key, filiere, candidate) {
                    return Some((c, Source::Continuum, candidate.clone()));
                }
            }
            if let Some(p) = previous {
                back = p.clone();
            }
            if let Some(n) = next {
                forward = n.clone();
            }
        }
    }

    /// The row an offer sees for a code: a common first year's family sum
    /// where its specialities have detailed figures, else its own or
    /// continuum row.
    fn row(&self, level: &str, key: &str, filiere: &str, code: &str) -> Option<(Counts, Source)> {
        if let Some(specialites) = self.bcn.specialites.get(code) {
            let mut counted: HashSet<String> = HashSet::new();
            let mut members: Vec<(bool, String, Counts, String)> = specialites
                .iter()
                .filter_map(|s| {
                    self.with_continuum(level, key, filiere, s)
                        .map(|(c, source, from)| (source != Source::Own, s.clone(), c, from))
                })
                .collect();
            // Own figures first, then derived ones; by code within each.
            members.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let mut total: Option<Counts> = None;
            for (_, _, c, from) in members {
                if !c.detailed() || !counted.insert(from) {
                    continue;
                }
                let t = total.get_or_insert(Counts {
                    term: 0,
                    poursuite: Some(0),
                    sortant: Some(0),
                });
                // A missing nb_sortant is nb_annee_term − nb_poursuite_etudes.
                let sortant = c.sortant.or(c.poursuite.map(|p| c.term - p));
                t.term += c.term;
                t.poursuite = t.poursuite.zip(c.poursuite).map(|(a, b)| a + b);
                t.sortant = t.sortant.zip(sortant).map(|(a, b)| a + b);
            }
            if let Some(t) = total {
                return Some((t, Source::Famille));
            }
        }
        self.with_continuum(level, key, filiere, code)
            .map(|(c, source, _)| (c, source))
    }
}

// ---- Offers --------------------------------------------------------------------

struct Offer {
    line: usize,
    uai: String,
    /// MEF_STAT_11 (Affelnet) or MEF (Parcoursup).
    code: String,
    filiere: String,
    region: Option<String>,
}

#[derive(Debug, PartialEq, Clone)]
struct Expected {
    status: String,
    level: String,
    code: String,
    millesime: String,
}

fn regions(repo: &Path) -> (HashMap<String, String>, HashMap<String, String>) {
    let read = |file: &str, key: &str| -> HashMap<String, String> {
        let text = std::fs::read_to_string(repo.join("reference").join(file)).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(';').collect();
        let k = header.iter().position(|h| *h == key).unwrap();
        let r = header.iter().position(|h| *h == "region_code").unwrap();
        lines
            .map(|l| l.split(';').collect::<Vec<_>>())
            .map(|f| {
                let name = if key == "academie_libelle" {
                    fold(f[k])
                } else {
                    f[k].to_string()
                };
                (name, f[r].to_string())
            })
            .collect()
    };
    (
        read("academies.csv", "academie_libelle"),
        read("departements.csv", "departement_code"),
    )
}

fn expected(offer: &Offer, rows: &Rows, apprentissage_by_mef: bool) -> Expected {
    let bcn = rows.bcn;
    let not_covered = |status: &str, code: &str| Expected {
        status: status.to_string(),
        level: String::new(),
        code: code.to_string(),
        millesime: String::new(),
    };
    // The offer's MEF_STAT_11.
    let stat = if apprentissage_by_mef {
        match bcn.mef_stat.get(&offer.code) {
            Some(s) => s.clone(),
            None => return not_covered("unknown_code", ""),
        }
    } else {
        let c = &offer.code;
        let valid = c.len() == 11
            && c.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !valid || c.ends_with("99999") {
            return not_covered("unknown_code", "");
        }
        c.clone()
    };
    let f = offer.filiere.as_str();
    // Apprenticeship figures are keyed by the CFD.
    let code = if f == "apprentissage" {
        match bcn.mefs.get(&stat) {
            Some(m) => m.cfd.clone(),
            None => return not_covered("unknown_code", ""),
        }
    } else {
        stat.clone()
    };
    let commune = bcn.specialites.contains_key(&stat);
    let terminals = if commune {
        vec![]
    } else {
        bcn.terminals(&stat)
    };
    let mut candidates = vec![code.clone()];
    if commune {
        candidates.extend(bcn.specialites[&stat].iter().cloned());
    } else if terminals.len() == 1 && f != "apprentissage" {
        candidates.push(terminals[0].clone());
    }

    let mut levels = vec![];
    if let Some(r) = &offer.region {
        levels.push(("region", r.clone()));
    }
    levels.push(("national", String::new()));
    let mut masked = false;
    let mut any = false;
    for (level, key) in &levels {
        let millesime = rows.ind.latest[&(*level, f.to_string())].clone();
        let mut famille_hit: Option<&String> = None;
        for (i, candidate) in candidates.iter().enumerate() {
            let Some((counts, _)) = rows.row(level, key, f, candidate) else {
                continue;
            };
            any = true;
            if !counts.published() {
                masked = true;
                continue;
            }
            if commune && i > 0 {
                famille_hit = famille_hit.or(Some(candidate));
                continue;
            }
            return Expected {
                status: "covered".into(),
                level: level.to_string(),
                code: candidate.clone(),
                millesime,
            };
        }
        if let Some(hit) = famille_hit {
            return Expected {
                status: "covered".into(),
                level: level.to_string(),
                code: hit.clone(),
                millesime,
            };
        }
    }
    let known = if f == "apprentissage" {
        bcn.cfds.contains_key(&code)
    } else {
        bcn.mefs.contains_key(&code)
    };
    let cfd = bcn
        .mefs
        .get(&stat)
        .map(|m| m.cfd.clone())
        .unwrap_or_default();
    let first_session = bcn.cfds.get(&cfd).copied().flatten();
    let latest_any = levels
        .iter()
        .map(|(l, _)| last_year(&rows.ind.latest[&(*l, f.to_string())]))
        .max()
        .unwrap();
    let status = if !known && !any {
        "unknown_code"
    } else if !commune && terminals.len() > 1 {
        "several_terminal_formations"
    } else if masked {
        "below_threshold"
    } else if first_session.is_some_and(|s| s > latest_any as i32) {
        "new_formation"
    } else if !offer.uai.is_empty() && !uai_is_valid(&offer.uai) {
        "invalid_uai"
    } else {
        "no_data"
    };
    not_covered(status, &code)
}

/// Compares `ij`'s coverage_offers with the expectations, offer by offer.
fn compare(name: &str, offers: &[Offer], rows: &Rows, by_mef: bool, out: &Path) -> usize {
    let ours: HashMap<usize, HashMap<String, String>> =
        read_csv(&out.join("coverage").join(name).join("coverage_offers.csv"))
            .into_iter()
            .map(|r| (r["line"].parse().unwrap(), r))
            .collect();
    assert_eq!(ours.len(), offers.len(), "{name}: one row per offer");
    let mut differences: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for offer in offers {
        let e = expected(offer, rows, by_mef);
        let o = &ours[&offer.line];
        let got = Expected {
            status: o["status"].clone(),
            level: o["level"].clone(),
            code: o["code_certification"].clone(),
            millesime: o["millesime"].clone(),
        };
        if got != e {
            let cause = format!("{}/{} → ij {}/{}", e.status, e.level, got.status, got.level);
            differences.entry(cause).or_default().push(format!(
                "line {} {} {}: expected {e:?}, ij {got:?}",
                offer.line, offer.uai, offer.code
            ));
        }
        // No covered offer uses an older millésime than its filière's latest there.
        if o["status"] == "covered" {
            let level: &'static str = if o["level"] == "region" {
                "region"
            } else {
                "national"
            };
            assert_eq!(
                o["millesime"],
                rows.ind.latest[&(level, offer.filiere.clone())],
                "{name} line {}",
                offer.line
            );
        }
        // The millésime a code last had is information, and always older.
        if !o["dernier_millesime_disponible"].is_empty() {
            let latest = &rows.ind.latest[&("national", offer.filiere.clone())];
            assert!(
                o["status"] != "covered"
                    && last_year(&o["dernier_millesime_disponible"]) < last_year(latest),
                "{name} line {}",
                offer.line
            );
        }
    }
    let total: usize = differences.values().map(Vec::len).sum();
    for (cause, examples) in &differences {
        eprintln!("{name}: {} × {cause}", examples.len());
        for e in examples.iter().take(3) {
            eprintln!("    {e}");
        }
    }
    eprintln!(
        "{name}: {} of {} offers agree with the independent computation",
        offers.len() - total,
        offers.len()
    );
    total
}

#[test]
fn real_coverage_agrees_offer_by_offer_with_an_independent_computation() {
    let Some(real) = real_data() else { return };
    let out = real_run();
    let bcn = load_bcn(&real.join("bcn"));
    let ind = load_indicators(&real);
    let rows = Rows {
        bcn: &bcn,
        ind: &ind,
    };
    let (academies, departements) = regions(&repo());
    let region_of = |academie: &str, uai: &str| {
        academies
            .get(&fold(academie))
            .or_else(|| uai.get(..3).and_then(|d| departements.get(d)))
            .cloned()
    };

    let (h, raw) = raw_catalogue(&real.join("catalogues/affelnet2nde.csv"));
    let affelnet: Vec<Offer> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| Offer {
            line: i + 2,
            uai: r[h["ID_ETAB"]].clone(),
            code: r[h["CO_MEFSTAT"]].clone(),
            filiere: if r[h["CO_STA"]] == "AP" {
                "apprentissage"
            } else {
                "pro"
            }
            .into(),
            region: region_of(&r[h["Académie"]], &r[h["ID_ETAB"]]),
        })
        .collect();
    let (h, raw) = raw_catalogue(&real.join("catalogues/listeFormationApprentissagePsup.csv"));
    let psup: Vec<Offer> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| Offer {
            line: i + 2,
            uai: r[h["UAI_AFF"]].clone(),
            code: r[h["CODEMEF"]].clone(),
            filiere: "apprentissage".into(),
            region: region_of(&r[h["ACADÉMIE"]], &r[h["UAI_AFF"]]),
        })
        .collect();

    let a = compare("affelnet2nde", &affelnet, &rows, false, out);
    let p = compare("psup_apprentissage", &psup, &rows, true, out);
    assert_eq!(
        (a, p),
        (0, 0),
        "offers where ij and the independent computation differ"
    );

    // Issue 15's cases, by name.
    let offers = read_csv(&out.join("coverage/affelnet2nde/coverage_offers.csv"));
    let line = |n: &str| offers.iter().find(|o| o["line"] == n).unwrap();
    let o = line("9898");
    assert_eq!(
        (
            o["uai"].as_str(),
            o["status"].as_str(),
            o["via"].as_str(),
            o["level"].as_str()
        ),
        ("0421078U", "covered", "famille_metiers", "region")
    );
}
