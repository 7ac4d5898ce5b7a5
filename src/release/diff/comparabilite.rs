//! The employment-scope break between millésimes (issue 14): public-sector
//! employment is counted from the 2022 leavers on (`rules::perimetre`), so
//! employment rates of millésimes on both sides of the break are not
//! comparable. The diff says so when the latest millésimes of the two
//! releases sit on both sides, and when one table of the new release holds
//! millésimes of several scopes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::perimetre::PerimetreEmploi;

use super::tables::{csv_error, open_csv};

/// A warning about employment figures that are not comparable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rupture {
    pub table: String,
    pub filiere: String,
    /// The latest millésime of the filière in the old and the new release
    /// (the same for a warning about one release's own millésimes).
    pub millesime_old: String,
    pub millesime_new: String,
    pub perimetre_old: String,
    pub perimetre_new: String,
}

impl Rupture {
    /// In French, for the changelog and the terminal.
    pub fn phrase(&self) -> String {
        if self.millesime_old == self.millesime_new {
            format!(
                "`{}` ({}) : la nouvelle publication mêle des millésimes de périmètres d'emploi \
                 différents, jusqu'à {} ({}) : ses taux d'emploi ne se comparent pas d'un \
                 millésime à l'autre de part et d'autre de la rupture de 2022.",
                self.table, self.filiere, self.millesime_new, self.perimetre_new
            )
        } else {
            format!(
                "`{}` ({}) : le dernier millésime passe de {} ({}) à {} ({}) ; les taux d'emploi \
                 ne sont pas comparables (l'emploi public est compté à partir des sortants de 2022).",
                self.table,
                self.filiere,
                self.millesime_old,
                self.perimetre_old,
                self.millesime_new,
                self.perimetre_new
            )
        }
    }
}

/// Per filière, the millésimes of a table; none when it has no such columns.
fn millesimes(path: &Path) -> Result<Option<BTreeMap<Filiere, BTreeSet<Millesime>>>> {
    let (headers, mut reader) = open_csv(path)?;
    let position = |name: &str| headers.iter().position(|h| h == name);
    let (Some(m), Some(f)) = (position("millesime"), position("filiere")) else {
        return Ok(None);
    };
    let mut out: BTreeMap<Filiere, BTreeSet<Millesime>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let (Some(Ok(millesime)), Some(Ok(filiere))) = (
            record.get(m).map(Millesime::parse),
            record.get(f).map(Filiere::parse),
        ) else {
            continue;
        };
        out.entry(filiere).or_default().insert(millesime);
    }
    Ok(Some(out))
}

fn latest(set: &BTreeSet<Millesime>) -> Option<Millesime> {
    set.iter().copied().max_by_key(|m| (m.last, m.first))
}

/// The warnings for one table present in both releases.
pub(super) fn ruptures(table: &str, old: &Path, new: &Path) -> Result<Vec<Rupture>> {
    let (Some(old), Some(new)) = (millesimes(old)?, millesimes(new)?) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (filiere, new_set) in &new {
        let Some(newest) = latest(new_set) else {
            continue;
        };
        let scope = |m: Millesime| PerimetreEmploi::of(*filiere, m);
        let rupture = |old_m: Millesime| Rupture {
            table: table.to_string(),
            filiere: filiere.as_str().to_string(),
            millesime_old: old_m.to_string(),
            millesime_new: newest.to_string(),
            perimetre_old: scope(old_m).as_str().to_string(),
            perimetre_new: scope(newest).as_str().to_string(),
        };
        match old.get(filiere).and_then(latest) {
            Some(previous) if scope(previous) != scope(newest) => out.push(rupture(previous)),
            _ => {
                // Within the new release: millésimes of several scopes.
                if let Some(oldest) = new_set.iter().copied().min_by_key(|m| (m.last, m.first)) {
                    if scope(oldest) != scope(newest) {
                        let mut r = rupture(newest);
                        r.perimetre_old = scope(oldest).as_str().to_string();
                        out.push(r);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, rows: &[(&str, &str)]) -> std::path::PathBuf {
        let mut text = "millesime,filiere,code_certification\n".to_string();
        for (m, f) in rows {
            text.push_str(&format!("{m},{f},40025214\n"));
        }
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_new_millesime_across_the_break_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let old = write(
            dir.path(),
            "old.csv",
            &[("2021_2022", "pro"), ("2021_2022", "superieur")],
        );
        let new = write(
            dir.path(),
            "new.csv",
            &[
                ("2021_2022", "pro"),
                ("2022_2023", "pro"),
                ("2022_2023", "superieur"),
            ],
        );
        let r = ruptures("regionales", &old, &new).unwrap();
        assert_eq!(r.len(), 1, "InserSup has no break: {r:?}");
        assert_eq!(
            (r[0].perimetre_old.as_str(), r[0].perimetre_new.as_str()),
            ("prive_public_partiel", "prive_public")
        );
        assert!(r[0].phrase().contains("2021_2022"));
    }

    #[test]
    fn a_release_spanning_the_break_is_reported_once_per_filiere() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            ("2019_2020", "apprentissage"),
            ("2022_2023", "apprentissage"),
        ];
        let old = write(dir.path(), "old.csv", &rows);
        let new = write(dir.path(), "new.csv", &rows);
        let r = ruptures("regionales", &old, &new).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].perimetre_old, "prive");
        assert_eq!(r[0].millesime_old, r[0].millesime_new);
    }

    #[test]
    fn the_same_scope_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let old = write(dir.path(), "old.csv", &[("2022_2023", "pro")]);
        let new = write(
            dir.path(),
            "new.csv",
            &[("2023_2024", "pro"), ("2022_2023", "pro")],
        );
        assert!(ruptures("regionales", &old, &new).unwrap().is_empty());
    }
}
