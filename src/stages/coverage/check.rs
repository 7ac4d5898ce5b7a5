//! `ij coverage check`: the CI gate. Compares a current `coverage_summary.json`
//! with a committed baseline and fails when the overall coverage, or that of
//! any filière or level, fell by more than the tolerance (in points).
//! `--explain` groups the offers whose status changed by cause (old status
//! → new status, with the count and three examples), from the
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

/// Offers that moved from one status to another, grouped: the old and new
/// status (with the `via` of a covered offer), how many, and a few examples.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeGroup {
    pub before: String,
    pub after: String,
    pub count: usize,
    /// The first offers of the group, by line: (line, code).
    pub examples: Vec<(String, String)>,
}

/// Examples kept per group.
pub const EXAMPLES_PER_GROUP: usize = 3;

/// The changed offers, grouped by (old status → new status), largest group
/// first: a run that lost N_MEF gives a handful of groups, not one line per
/// offer (issue 9). Offers are matched by their line in the catalogue.
pub fn explain(baseline_dir: &Path, current_dir: &Path) -> Result<Vec<ChangeGroup>> {
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
    let mut changes: Vec<(String, String, String, String)> = Vec::new();
    for (line, (code, status)) in &c {
        let before = b
            .get(line)
            .map(|x| x.1.clone())
            .unwrap_or_else(|| "absent".into());
        if before != *status {
            changes.push((line.clone(), code.clone(), before, status.clone()));
        }
    }
    for (line, (code, status)) in &b {
        if !c.contains_key(line) {
            changes.push((line.clone(), code.clone(), status.clone(), "absent".into()));
        }
    }
    changes.sort_by_key(|x| x.0.parse::<u64>().unwrap_or(u64::MAX));
    let mut groups: BTreeMap<(String, String), ChangeGroup> = BTreeMap::new();
    for (line, code, before, after) in changes {
        let g = groups
            .entry((before.clone(), after.clone()))
            .or_insert_with(|| ChangeGroup {
                before,
                after,
                count: 0,
                examples: Vec::new(),
            });
        g.count += 1;
        if g.examples.len() < EXAMPLES_PER_GROUP {
            g.examples.push((line, code));
        }
    }
    let mut out: Vec<ChangeGroup> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.before, &a.after).cmp(&(&b.before, &b.after)))
    });
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

    fn offers(dir: &Path, rows: &[(&str, &str, &str, &str)]) {
        let mut text = String::from("line,code,status,via\n");
        for (line, code, status, via) in rows {
            text.push_str(&format!("{line},{code},{status},{via}\n"));
        }
        std::fs::write(dir.join("coverage_offers.csv"), text).unwrap();
    }

    #[test]
    fn explain_groups_changed_offers_by_cause() {
        let (b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let codes: Vec<String> = (0..6).map(|i| format!("2381002100{i}")).collect();
        offers(
            b.path(),
            &[
                ("2", &codes[0], "covered", "direct"),
                ("3", &codes[1], "covered", "terminal_year"),
                ("4", &codes[2], "covered", "direct"),
                ("5", &codes[3], "covered", "direct"),
                ("6", &codes[4], "covered", "direct"),
                ("7", &codes[5], "no_data", ""),
            ],
        );
        offers(
            c.path(),
            &[
                ("2", &codes[0], "unknown_code", ""),
                ("3", &codes[1], "unknown_code", ""),
                ("4", &codes[2], "unknown_code", ""),
                ("5", &codes[3], "unknown_code", ""),
                ("6", &codes[4], "covered", "direct"),
                ("7", &codes[5], "unknown_code", ""),
            ],
        );
        let groups = explain(b.path(), c.path()).unwrap();
        let summary: Vec<(&str, &str, usize, usize)> = groups
            .iter()
            .map(|g| {
                (
                    g.before.as_str(),
                    g.after.as_str(),
                    g.count,
                    g.examples.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("covered (direct)", "unknown_code", 3, 3),
                ("covered (terminal_year)", "unknown_code", 1, 1),
                ("no_data", "unknown_code", 1, 1),
            ]
        );
        assert_eq!(groups[0].examples[0], ("2".to_string(), codes[0].clone()));
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
