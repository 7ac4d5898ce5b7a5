//! `ij coverage check`: the CI gate. Compares a current `coverage_summary.json`
//! with a committed baseline and fails when the overall coverage, or that of
//! any filière or level, fell by more than the tolerance (in points).
//! `--explain` lists the offers whose status changed, from the
//! `coverage_offers.csv` files beside the two summaries.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{self, DelimitedOptions};
use crate::stages::coverage::level_shares;
use crate::stages::coverage::model::{CoverageSummary, Share};

/// One figure compared.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Movement {
    /// `overall`, `filiere:pro`, `level:region`…
    pub figure: String,
    pub baseline: f64,
    pub current: f64,
    /// Points, current − baseline.
    pub delta: f64,
    pub regression: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    pub tolerance: f64,
    pub movements: Vec<Movement>,
    pub regressions: usize,
}

pub fn read_summary(path: &Path) -> Result<CoverageSummary> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::file(
            path,
            format!(
                "not a coverage_summary.json: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Compares the two summaries; a figure absent from one side counts as 0 there.
pub fn compare(
    baseline: &CoverageSummary,
    current: &CoverageSummary,
    tolerance: f64,
) -> CheckResult {
    let mut movements = Vec::new();
    let mut push = |figure: String, b: f64, c: f64| {
        let delta = ((c - b) * 10.0).round() / 10.0;
        movements.push(Movement {
            figure,
            baseline: b,
            current: c,
            delta,
            regression: delta < -tolerance,
        });
    };
    push(
        "overall".into(),
        baseline.coverage_rate,
        current.coverage_rate,
    );
    let groups = |prefix: &str,
                  b: &BTreeMap<String, Share>,
                  c: &BTreeMap<String, Share>,
                  push: &mut dyn FnMut(String, f64, f64)| {
        let keys: std::collections::BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        for k in keys {
            let rate = |m: &BTreeMap<String, Share>| m.get(k).map_or(0.0, |s| s.coverage_rate);
            push(format!("{prefix}:{k}"), rate(b), rate(c));
        }
    };
    groups(
        "filiere",
        &baseline.by_filiere,
        &current.by_filiere,
        &mut push,
    );
    groups(
        "level",
        &level_shares(baseline),
        &level_shares(current),
        &mut push,
    );
    let regressions = movements.iter().filter(|m| m.regression).count();
    CheckResult {
        tolerance,
        movements,
        regressions,
    }
}

/// Offers whose status changed: (line, code, baseline status, current status).
pub fn explain(
    baseline_dir: &Path,
    current_dir: &Path,
) -> Result<Vec<(String, String, String, String)>> {
    let load = |dir: &Path| -> Result<BTreeMap<String, (String, String)>> {
        let path = dir.join("coverage_offers.csv");
        let t = input::read_table(&path, &DelimitedOptions::default())?;
        let [line, code, status] = t.columns(["line", "code", "status"])?;
        let via = t.optional_column("via");
        Ok(t.rows()
            .map(|r| {
                let st = match via.as_ref().map(|v| r.get(v)).filter(|v| !v.is_empty()) {
                    Some(v) => format!("{} ({v})", r.get(&status)),
                    None => r.get(&status).to_string(),
                };
                (r.get(&line).to_string(), (r.get(&code).to_string(), st))
            })
            .collect())
    };
    let (b, c) = (load(baseline_dir)?, load(current_dir)?);
    let mut out = Vec::new();
    for (line, (code, status)) in &c {
        let before = b
            .get(line)
            .map(|x| x.1.clone())
            .unwrap_or_else(|| "absent".into());
        if before != *status {
            out.push((line.clone(), code.clone(), before, status.clone()));
        }
    }
    for (line, (code, status)) in &b {
        if !c.contains_key(line) {
            out.push((line.clone(), code.clone(), status.clone(), "absent".into()));
        }
    }
    out.sort_by_key(|x| x.0.parse::<u64>().unwrap_or(u64::MAX));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(overall: f64, pro: f64) -> CoverageSummary {
        let mut s = CoverageSummary {
            offers: 100,
            coverage_rate: overall,
            covered: overall as usize,
            ..CoverageSummary::default()
        };
        s.by_filiere.insert(
            "pro".into(),
            Share {
                offers: 50,
                covered: (pro / 2.0) as usize,
                coverage_rate: pro,
            },
        );
        s.by_level.insert("region".into(), overall as usize);
        s
    }

    #[test]
    fn a_fall_beyond_the_tolerance_is_a_regression() {
        let r = compare(&summary(40.0, 50.0), &summary(39.6, 48.0), 0.5);
        let pro = r
            .movements
            .iter()
            .find(|m| m.figure == "filiere:pro")
            .unwrap();
        assert_eq!((pro.delta, pro.regression), (-2.0, true));
        let overall = &r.movements[0];
        assert_eq!((overall.delta, overall.regression), (-0.4, false));
        assert_eq!(
            r.regressions, 2,
            "pro and level:region fell by more than 0.5"
        );
    }

    #[test]
    fn gains_and_stability_pass() {
        let r = compare(&summary(40.0, 50.0), &summary(41.0, 50.0), 0.0);
        assert_eq!(r.regressions, 0);
    }

    #[test]
    fn a_vanished_filiere_counts_as_zero() {
        let mut current = summary(40.0, 50.0);
        current.by_filiere.clear();
        let r = compare(&summary(40.0, 50.0), &current, 1.0);
        assert!(r
            .movements
            .iter()
            .any(|m| m.figure == "filiere:pro" && m.regression));
    }
}
