//! The changelog: a `ReleaseDiff` rendered as the French Markdown that the
//! release stage puts in `CHANGELOG.md`, with French number formats.

use std::fmt::Write as _;

use super::{CoverageDiff, ReleaseDiff, TableDiff, HEADLINE_COLUMNS};

/// The changelog, in French Markdown. `old_name` and `new_name` name the
/// releases (the release stage passes the version, as the new release is
/// still in its staging folder).
pub fn render_changelog(diff: &ReleaseDiff, old_name: &str, new_name: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Changements de {new_name} par rapport à {old_name}\n");
    if diff.is_empty() {
        let _ = writeln!(
            md,
            "Aucun changement : les {} tables et les taux de couverture sont identiques.",
            diff.tables.len()
        );
        return md;
    }
    if !diff.ruptures.is_empty() {
        let _ = writeln!(md, "## Attention : rupture de comparabilité de l'emploi\n");
        for r in &diff.ruptures {
            let _ = writeln!(md, "- {}", r.phrase());
        }
        let _ = writeln!(md);
    }
    render_tables(&mut md, diff);
    render_coverages(&mut md, diff);
    md
}

/// The tables: how many were compared, those added, removed or unchanged,
/// then each changed one in detail.
fn render_tables(md: &mut String, diff: &ReleaseDiff) {
    let changed_tables = diff.tables.iter().filter(|t| !t.is_unchanged()).count();
    let _ = writeln!(
        md,
        "{} comparée{} par clé primaire, dont {} avec des changements.",
        plural(diff.tables.len(), "table", "tables"),
        if diff.tables.len() > 1 { "s" } else { "" },
        changed_tables
    );
    for (title, tables) in [
        ("Tables nouvelles", &diff.tables_added),
        ("Tables retirées", &diff.tables_removed),
    ] {
        if tables.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n{title} :");
        for t in tables {
            let _ = writeln!(
                md,
                "- `{}` ({})",
                t.table,
                plural(t.rows, "ligne", "lignes")
            );
        }
    }
    let unchanged: Vec<String> = diff
        .tables
        .iter()
        .filter(|t| t.is_unchanged())
        .map(|t| format!("`{}`", t.table))
        .collect();
    if !unchanged.is_empty() {
        let _ = writeln!(md, "\nTables sans changement : {}.", unchanged.join(", "));
    }
    for t in diff.tables.iter().filter(|t| !t.is_unchanged()) {
        render_table(md, t);
    }
}

/// The coverage section, when either release has coverage: the catalogues
/// with the same rates, those added or removed, then each changed one.
fn render_coverages(md: &mut String, diff: &ReleaseDiff) {
    if diff.coverage.is_empty()
        && diff.coverage_added.is_empty()
        && diff.coverage_removed.is_empty()
    {
        return;
    }
    let _ = writeln!(md, "\n## Couverture");
    let same: Vec<String> = diff
        .coverage
        .iter()
        .filter(|c| c.is_unchanged())
        .map(|c| format!("`{}`", c.path))
        .collect();
    if !same.is_empty() || !diff.coverage_added.is_empty() || !diff.coverage_removed.is_empty() {
        let _ = writeln!(md);
    }
    if !same.is_empty() {
        let _ = writeln!(md, "- taux inchangés : {}", same.join(", "));
    }
    for rel in &diff.coverage_added {
        let _ = writeln!(md, "- `{rel}` : nouveau");
    }
    for rel in &diff.coverage_removed {
        let _ = writeln!(md, "- `{rel}` : retiré");
    }
    for c in diff.coverage.iter().filter(|c| !c.is_unchanged()) {
        render_coverage(md, c);
    }
}

/// A table with changes: a title that sums them up, then the details.
fn render_table(md: &mut String, t: &TableDiff) {
    let mut title = format!(
        "{} ajoutée{}, {} supprimée{}, {} modifiée{}",
        plural(t.added, "ligne", "lignes"),
        if t.added > 1 { "s" } else { "" },
        t.removed,
        if t.removed > 1 { "s" } else { "" },
        t.changed,
        if t.changed > 1 { "s" } else { "" },
    );
    if !t.columns_changed.is_empty() {
        let mut names: Vec<String> = t
            .columns_changed
            .iter()
            .take(HEADLINE_COLUMNS)
            .map(|c| format!("{} ({})", c.column, c.count))
            .collect();
        if t.columns_changed.len() > HEADLINE_COLUMNS {
            names.push("…".to_string());
        }
        let _ = write!(
            title,
            " (colonnes les plus modifiées : {})",
            names.join(", ")
        );
    }
    let _ = writeln!(md, "\n## {} — {title}\n", t.table);
    let _ = writeln!(
        md,
        "- lignes : {} → {} ; inchangées : {} (clé : {})",
        t.rows_old,
        t.rows_new,
        t.unchanged,
        t.primary_key.join(", ")
    );
    if t.columns_changed.len() > HEADLINE_COLUMNS {
        let all: Vec<String> = t
            .columns_changed
            .iter()
            .map(|c| format!("{} ({})", c.column, c.count))
            .collect();
        let _ = writeln!(md, "- colonnes modifiées : {}", all.join(", "));
    }
    if !t.added_columns.is_empty() {
        let _ = writeln!(md, "- colonnes ajoutées : {}", code_list(&t.added_columns));
    }
    if !t.removed_columns.is_empty() {
        let _ = writeln!(
            md,
            "- colonnes retirées : {}",
            code_list(&t.removed_columns)
        );
    }
    render_masked(md, t);
    for (label, keys, total) in [
        ("ajoutées", &t.sample_added, t.added),
        ("supprimées", &t.sample_removed, t.removed),
        ("modifiées", &t.sample_changed, t.changed),
    ] {
        if keys.is_empty() {
            continue;
        }
        let shown: Vec<String> = keys
            .iter()
            .map(|k| format!("`{}`", k.join(" · ")))
            .collect();
        let more = if total > keys.len() { ", …" } else { "" };
        let _ = writeln!(
            md,
            "- exemples de lignes {label} : {}{more}",
            shown.join(", ")
        );
    }
}

fn render_masked(md: &mut String, t: &TableDiff) {
    match (t.masked_old, t.masked_new) {
        (Some(old), Some(new)) if old != new => {
            let delta = new as i64 - old as i64;
            let _ = writeln!(md, "- lignes masquées : {old} → {new} ({delta:+})");
        }
        (Some(_), Some(_)) | (None, None) => {}
        (old, new) => {
            let show = |n: Option<usize>| n.map_or("—".to_string(), |n| n.to_string());
            let _ = writeln!(md, "- lignes masquées : {} → {}", show(old), show(new));
        }
    }
}

fn render_coverage(md: &mut String, c: &CoverageDiff) {
    let _ = writeln!(md, "\n### {}\n", c.path);
    let _ = writeln!(md, "| périmètre | avant | après | écart |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let mut rows = vec![("ensemble".to_string(), c.coverage_rate)];
    rows.extend(c.by_filiere.iter().map(|f| (f.filiere.clone(), f.rate)));
    for (label, rate) in rows {
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} |",
            format_rate(rate.old),
            format_rate(rate.new),
            rate.delta().map_or("—".to_string(), format_points)
        );
    }
}

/// `81.2` → `81,2 %` (French decimal comma; the summary's rate, already
/// rounded half to even to one decimal by `rules::rates`).
fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{r:.1} %").replace('.', ","),
        None => "—".to_string(),
    }
}

/// A difference of rates, in points: `+1,8 pt`, `-0,4 pt`, `=` when it rounds to 0.
fn format_points(delta: f64) -> String {
    if (delta * 10.0).round() == 0.0 {
        return "=".to_string();
    }
    format!("{delta:+.1} pt").replace('.', ",")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

fn code_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_written_the_french_way() {
        assert_eq!(format_rate(Some(81.25)), "81,2 %");
        assert_eq!(format_rate(None), "—");
        assert_eq!(format_points(1.8), "+1,8 pt");
        assert_eq!(format_points(-0.4), "-0,4 pt");
        assert_eq!(format_points(0.01), "=");
    }
}
