//! `coverage_report.html`: the coverage summary as one self-contained page
//! that people read in a browser or print (issue 4, part 4).
//!
//! The page is plain HTML5 in French with inline CSS and inline SVG charts:
//! no script, no font, no image, no link to anything outside the file (a
//! Content-Security-Policy forbids every fetch). It shows the headline rate,
//! the waterfall of the coverage steps, bar charts by filière, niveau de
//! diplôme, académie and région, the statuses, and the uncovered reasons with
//! example offers. Every chart is an `<svg data-chart="…">` whose bars are
//! `<rect class="bar">`, which `tests/coverage_report.rs` checks in Chromium.
//!
//! Rendering is pure and deterministic: the summary's maps are ordered, ties
//! are broken by name, nothing depends on the clock. Writing the file is the
//! stage's `run`'s job.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{rate, CoverageSummary, Share, Status, WaterfallStep};
use crate::rules::niveau::NiveauGeographique;

/// Writes into a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// Inline style sheet. System fonts only; print is black on white and never
/// splits a chart or a table across pages.
const CSS: &str = "\
:root{--bar:#1f5a99;--base:#a9c3e0;--track:#e6eaf0;--ink:#1a1a1a;--muted:#555}
body{font-family:system-ui,'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:var(--ink);\
background:#fff;margin:0 auto;padding:1.5rem;max-width:1040px;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;\
border-bottom:2px solid var(--track);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.meta{color:var(--muted);margin:0}.headline{font-size:1.25rem;margin:.8rem 0}
.headline strong{font-size:1.8rem;color:var(--bar)}
figure{margin:0 0 1rem}figcaption{color:var(--muted);font-size:.9rem}
svg{display:block;max-width:100%;height:auto}
svg text{font-family:inherit;font-size:13px;fill:var(--ink)}
svg .small{font-size:11px;fill:var(--muted)}
.bar{fill:var(--bar)}.base{fill:var(--base)}.track{fill:var(--track)}
.grid{stroke:#d0d5dc}.axis{stroke:#888}.link{stroke:#888;stroke-dasharray:3 3}
.overall{stroke:#b3261e;stroke-width:1.5;stroke-dasharray:4 3}
svg text.overall{fill:#b3261e;stroke:none}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #ccd;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f0f3f7}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.empty{color:var(--muted);font-style:italic}
.note{background:#f6f8fa;border-left:4px solid var(--base);padding:.6rem 1rem}
@page{size:A4;margin:14mm}
@media print{body{padding:0;max-width:none;font-size:10pt}\
:root{--bar:#333;--base:#aaa;--track:#e8e8e8;--ink:#000;--muted:#000}\
body,.headline strong{color:#000;background:#fff}svg text.overall{fill:#000}.overall{stroke:#000}\
figure,svg,table,.reason,.note{break-inside:avoid;page-break-inside:avoid}\
h2,h3{break-after:avoid;page-break-after:avoid}th,.note{background:#fff}}
";

const HOW_TO_READ: &str = "<section class=\"note\">\n<h2>Comment lire ce rapport</h2>\n\
<p>Une offre est <strong>couverte</strong> quand un indicateur InserJeunes ou InserSup est \
publié pour elle : au niveau de l'établissement, à défaut au niveau régional ou national, \
trouvé par le code de la formation lui-même, par son continuum (les codes qui l'ont précédée \
ou remplacée à la BCN) ou par l'année terminale à laquelle mène une première année. {SEUIL}\
</p>\n<p>La cascade montre, étape par étape, la \
part des offres couvertes en cumul et ce que chaque étape ajoute. Les barres donnent le taux \
de couverture de chaque groupe ; le trait pointillé rouge marque le taux de l'ensemble. Chaque \
offre non couverte a une seule raison ; les raisons sont détaillées avec des exemples en fin \
de rapport.</p>\n";

/// French labels of the keys of `by_filiere` (`rules::filiere`).
const FILIERES: [(&str, &str); 4] = [
    ("pro", "Voie professionnelle scolaire"),
    ("apprentissage", "Apprentissage"),
    ("agricole", "Enseignement agricole"),
    ("superieur", "Enseignement supérieur"),
];

/// Renders the whole page. `title` is the page's heading (escaped like the data).
pub fn render_report(summary: &CoverageSummary, title: &str) -> String {
    let s = summary;
    let (title, catalogue, format) = (escape(title), escape(&s.catalogue), escape(&s.format));
    let mut out = String::with_capacity(64 * 1024);
    w!(
        out,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<header>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Catalogue : <strong>{catalogue}</strong> — format \
         {format}</p>\n"
    );
    headline(&mut out, s);
    out.push_str("</header>\n<main>\n");
    how_to_read(&mut out, s);
    out.push_str("</section>\n");
    out.push_str("<section>\n<h2>Étapes de la couverture</h2>\n");
    waterfall(&mut out, &s.waterfall, s.offers, "waterfall");
    out.push_str("</section>\n");
    if !s.waterfall_region.is_empty() {
        out.push_str(
            "<section>\n<h2>Étapes de la couverture, à partir du niveau régional</h2>\n\
             <p>Les mêmes étapes quand l'indicateur est cherché d'abord au niveau de la région \
             de l'offre : ce que chacune apporte là où les données par établissement manquent.</p>\n",
        );
        waterfall(&mut out, &s.waterfall_region, s.offers, "waterfall_region");
        out.push_str("</section>\n");
    }
    breakdowns(&mut out, s);
    statuses(&mut out, s);
    reasons(&mut out, s);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The report's headline: the share of offers with an indicator.
fn headline(out: &mut String, s: &CoverageSummary) {
    let pct = fmt_pct(s.coverage_rate);
    match (s.offers, s.covered) {
        (0, _) => out.push_str("<p class=\"headline\">Aucune offre dans ce catalogue.</p>\n"),
        (1, c) => {
            let has = if c == 1 { "a un " } else { "n'a pas d'" };
            w!(
                out,
                "<p class=\"headline\"><strong>{pct}</strong> : la seule offre du catalogue \
                 {has}indicateur.</p>\n"
            );
        }
        (n, c) => {
            let (n, c, couvertes) = (fmt_int(n), fmt_int(c), plural(c, "offre couverte"));
            w!(
                out,
                "<p class=\"headline\"><strong>{pct}</strong> des {n} offres ont un indicateur \
                 ({c} {couvertes}).</p>\n"
            );
        }
    }
}

/// How to read the figures: the threshold and the millésime each filière
/// was read in, as the run used them.
fn how_to_read(out: &mut String, s: &CoverageSummary) {
    // The threshold the indicators were computed with (issue 12: never a
    // fixed 20).
    let seuil = match s.seuil {
        Some(n) => {
            format!("Aucun taux n'est publié sous le seuil de {n} élèves en année terminale.")
        }
        None => "Aucun taux n'est publié sous le seuil de diffusion.".to_string(),
    };
    out.push_str(&HOW_TO_READ.replace("{SEUIL}", &seuil));
    // The millésime rule (issue 15): which millésime each filière was read in.
    if !s.millesimes.is_empty() {
        let used: Vec<String> = s
            .millesimes
            .iter()
            .map(|(f, by_level)| {
                let levels: Vec<String> = by_level
                    .iter()
                    .map(|(level, m)| format!("{} {}", escape(level_libelle(level)), escape(m)))
                    .collect();
                format!(
                    "{} : {}",
                    escape(Breakdown::Filiere.libelle(f)),
                    levels.join(", ")
                )
            })
            .collect();
        w!(
            out,
            "<p>Millésime utilisé : à chaque niveau, le dernier millésime de la filière à ce \
             niveau ({}). Une offre dont les codes n'ont de chiffres que dans un millésime plus \
             ancien n'est pas couverte (le fichier des offres donne ce millésime à titre \
             d'information).</p>\n",
            used.join(" ; ")
        );
    }
}

/// One chart per breakdown of the summary (filière, level, académie,
/// région).
fn breakdowns(out: &mut String, s: &CoverageSummary) {
    for breakdown in Breakdown::ALL {
        let (key, name) = (breakdown.key(), breakdown.name());
        let map = breakdown.of(s);
        let mut rows: Vec<(&str, &Share)> =
            map.iter().map(|(k, v)| (breakdown.libelle(k), v)).collect();
        if breakdown.by_rate() {
            // Highest rate first; ties by name, so the order never depends on the run.
            rows.sort_by(|a, b| {
                b.1.coverage_rate
                    .total_cmp(&a.1.coverage_rate)
                    .then(a.0.cmp(b.0))
            });
        }
        w!(out, "<section>\n<h2>Couverture par {name}</h2>\n");
        bars(out, key, name, &rows, s.coverage_rate);
        out.push_str("</section>\n");
    }
}

/// The waterfall: one column per step, what was covered before the step
/// (pale) under what the step adds (`class="bar"`), labelled with both.
fn waterfall(out: &mut String, steps: &[WaterfallStep], offers: usize, chart: &str) {
    if steps.is_empty() {
        w!(
            out,
            "<p class=\"empty\" data-chart-empty=\"{chart}\">aucune donnée</p>\n"
        );
        return;
    }
    let (width, left, right, top, plot_h) = (960.0, 56.0, 16.0, 48.0, 260.0);
    let col = (width - left - right) / steps.len() as f64;
    let bar_w = (col * 0.62).min(96.0);
    let (height, x_end, y0) = (top + plot_h + 82.0, width - right, top + plot_h);
    let y = |v: f64| top + plot_h * (1.0 - clamp_rate(v) / 100.0);
    let (n, first) = (steps.len(), fmt_pct(steps[0].coverage_rate));
    let last = fmt_pct(steps[n - 1].coverage_rate);
    w!(
        out,
        "<figure>\n<svg data-chart=\"{chart}\" role=\"img\" aria-label=\"Cascade de la \
         couverture : {n} étapes, de {first} à {last} des offres couvertes\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n\
         <title>Cascade de la couverture : part des offres couvertes après chaque étape</title>\n"
    );
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let (ty, t, tx) = (y(tick), fmt_pct(tick), left - 6.0);
        w!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{x_end}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/>\
             <text class=\"small\" x=\"{tx}\" y=\"{:.1}\" text-anchor=\"end\">{t}</text>\n",
            ty + 4.0
        );
    }
    let mut before = 0.0;
    for (i, step) in steps.iter().enumerate() {
        let after = step.coverage_rate;
        let pts = fmt_pts(if offers > 0 {
            rate(step.added, offers)
        } else {
            after - before
        });
        let (label, cumul) = (escape(&step.label), fmt_pct(after));
        let (count, offres) = (fmt_int(step.added), plural(step.added, "offre"));
        let x = left + col * i as f64 + (col - bar_w) / 2.0;
        let (cx, y1, y2) = (x + bar_w / 2.0, y(before), y(after));
        let (base_h, top_y, add_h) = (y0 - y1, y2.min(y1), (y1 - y2).abs().max(1.0));
        let (l1, l2) = (top_y - 20.0, top_y - 6.0);
        w!(
            out,
            "<g><title>{label} : +{count} {offres} ({pts}), {cumul} en cumul</title>\n\
             <rect class=\"base\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar_w:.1}\" \
             height=\"{base_h:.1}\"/><rect class=\"bar\" x=\"{x:.1}\" y=\"{top_y:.1}\" \
             width=\"{bar_w:.1}\" height=\"{add_h:.1}\"/>\n<text x=\"{cx:.1}\" y=\"{l1:.1}\" \
             text-anchor=\"middle\" font-weight=\"bold\">{cumul}</text><text class=\"small\" \
             x=\"{cx:.1}\" y=\"{l2:.1}\" text-anchor=\"middle\">{pts}</text>\n"
        );
        if i + 1 < n {
            let (x1, x2) = (x + bar_w, x + col);
            w!(
                out,
                "<path class=\"link\" d=\"M{x1:.1} {y2:.1}H{x2:.1}\"/>\n"
            );
        }
        // 13 px text: about 13 px per em; keep 6 px between columns.
        for (k, line) in wrap(&step.label, (col - 6.0) / 13.0, 3).iter().enumerate() {
            let (ly, line) = (y0 + 18.0 + 16.0 * k as f64, escape(line));
            w!(
                out,
                "<text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{line}</text>\n"
            );
        }
        out.push_str("</g>\n");
        before = after;
    }
    w!(
        out,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{x_end}\" y1=\"{y0}\" y2=\"{y0}\"/>\n</svg>\n\
         <figcaption>En foncé, ce que chaque étape ajoute (en points de pourcentage des \
         offres) ; en clair, ce qui était déjà couvert avant elle.</figcaption>\n</figure>\n"
    );
    waterfall_table(out, steps);
}

/// The waterfall's figures as a table, for screen readers and copying.
fn waterfall_table(out: &mut String, steps: &[WaterfallStep]) {
    out.push_str(
        "<table>\n<thead><tr><th>Étape</th><th class=\"num\">Offres ajoutées</th>\
         <th class=\"num\">Couvertes en cumul</th><th class=\"num\">Taux</th></tr></thead>\n\
         <tbody>\n",
    );
    for st in steps {
        let cells = [
            format!("+{}", fmt_int(st.added)),
            fmt_int(st.covered),
            fmt_pct(st.coverage_rate),
        ];
        row(out, &st.label, &cells);
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Horizontal bars, one row per group: label, rate bar over a 0–100 % track,
/// and the rate with its counts in a column of its own (so nothing overlaps).
fn bars(out: &mut String, key: &str, name: &str, rows: &[(&str, &Share)], overall: f64) {
    if rows.is_empty() {
        return w!(
            out,
            "<p class=\"empty\" data-chart-empty=\"{key}\">aucune donnée</p>\n"
        );
    }
    let (label_w, track_w, row_h, top, width) = (250.0, 500.0, 24.0, 26.0, 960.0);
    let (n, s) = (rows.len(), if rows.len() > 1 { "s" } else { "" });
    let bottom = top + row_h * n as f64;
    let height = bottom + 26.0;
    let x_of = |v: f64| label_w + track_w * clamp_rate(v) / 100.0;
    w!(
        out,
        "<figure>\n<svg data-chart=\"{key}\" role=\"img\" aria-label=\"Taux de couverture par \
         {name} ({n} groupe{s})\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\">\n<title>Taux de couverture par {name}</title>\n"
    );
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let (x, t, ty) = (x_of(tick), fmt_pct(tick), bottom + 16.0);
        w!(
            out,
            "<line class=\"grid\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{bottom}\"/>\
             <text class=\"small\" x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\">{t}</text>\n"
        );
    }
    let (lx, vx) = (label_w - 8.0, label_w + track_w + 10.0);
    for (i, (label, share)) in rows.iter().enumerate() {
        let (ty, by) = (top + row_h * i as f64 + 17.0, top + row_h * i as f64 + 4.0);
        let (full, short) = (escape(label), escape(&fit(label, (label_w - 14.0) / 13.0)));
        let p = fmt_pct(share.coverage_rate);
        let (c, o, offres) = (
            fmt_int(share.covered),
            fmt_int(share.offers),
            plural(share.offers, "offre"),
        );
        let bw = x_of(share.coverage_rate) - label_w;
        w!(
            out,
            "<g><title>{full} : {p} ({c} sur {o} {offres})</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{short}</text>\
             <rect class=\"track\" x=\"{label_w}\" y=\"{by}\" width=\"{track_w}\" height=\"16\"/>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{by}\" width=\"{bw:.1}\" height=\"16\"/>\
             <text x=\"{vx}\" y=\"{ty}\">{p} ({c} / {o})</text></g>\n"
        );
    }
    let (ox, oy, p) = (x_of(overall), top - 6.0, fmt_pct(overall));
    let anchor = if overall > 80.0 { "end" } else { "middle" };
    w!(
        out,
        "<line class=\"overall\" x1=\"{ox:.1}\" x2=\"{ox:.1}\" y1=\"{oy}\" y2=\"{bottom}\"/>\
         <text class=\"small overall\" x=\"{ox:.1}\" y=\"14\" text-anchor=\"{anchor}\">ensemble : \
         {p}</text>\n</svg>\n</figure>\n"
    );
}

/// Statuses: every known one, then any other key of the summary.
fn statuses(out: &mut String, s: &CoverageSummary) {
    out.push_str(
        "<section>\n<h2>Statuts des offres</h2>\n<table>\n<thead><tr><th>Statut</th>\
         <th class=\"num\">Offres</th><th class=\"num\">Part</th></tr></thead>\n<tbody>\n",
    );
    let known = Status::ALL.map(|st| st.as_str().to_string());
    let others = s.by_status.keys().filter(|k| !known.contains(k)).cloned();
    for key in known.iter().cloned().chain(others) {
        let n = s.by_status.get(&key).copied().unwrap_or(0);
        row(
            out,
            status_libelle(&key),
            &[fmt_int(n), fmt_pct(rate(n, s.offers))],
        );
    }
    let n = fmt_int(s.offers);
    let p = fmt_pct(if s.offers > 0 { 100.0 } else { 0.0 });
    w!(
        out,
        "</tbody>\n<tfoot><tr><th>Total</th><th class=\"num\">{n}</th><th class=\"num\">{p}</th>\
         </tr></tfoot>\n</table>\n</section>\n"
    );
}

/// Uncovered reasons, most frequent first, each with its example offers.
fn reasons(out: &mut String, s: &CoverageSummary) {
    let covered = Status::Covered.as_str();
    let mut reasons: BTreeMap<&str, usize> = s.examples.keys().map(|k| (k.as_str(), 0)).collect();
    reasons.extend(
        s.by_status
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.as_str(), *n)),
    );
    reasons.remove(covered);
    let mut reasons: Vec<(&str, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out.push_str("<section>\n<h2>Principales raisons de non-couverture</h2>\n");
    if reasons.is_empty() {
        out.push_str("<p class=\"empty\">aucune donnée</p>\n");
    }
    for (key, n) in reasons {
        let (libelle, count) = (escape(status_libelle(key)), fmt_int(n));
        let (offres, p) = (plural(n, "offre"), fmt_pct(rate(n, s.offers)));
        w!(
            out,
            "<div class=\"reason\">\n<h3>{libelle} — {count} {offres} ({p})</h3>\n"
        );
        let examples = s.examples.get(key).map_or(&[][..], |v| v.as_slice());
        if examples.is_empty() {
            out.push_str("<p class=\"empty\">aucun exemple</p>\n</div>\n");
            continue;
        }
        out.push_str(
            "<table>\n<thead><tr><th class=\"num\">Ligne</th><th>UAI</th><th>Code</th>\
             <th>Libellé</th><th>Académie</th></tr></thead>\n<tbody>\n",
        );
        for e in examples {
            let cells = [&e.uai, &e.code, &e.libelle, &e.academie].map(|c| escape(c));
            let [uai, code, libelle, academie] = cells;
            w!(
                out,
                "<tr><td class=\"num\">{}</td><td>{uai}</td><td>{code}</td><td>{libelle}</td>\
                 <td>{academie}</td></tr>\n",
                e.line
            );
        }
        out.push_str("</tbody>\n</table>\n</div>\n");
    }
    out.push_str("</section>\n");
}

/// A table row: an escaped label, then right-aligned figures.
fn row(out: &mut String, label: &str, cells: &[String]) {
    w!(out, "<tr><td>{}</td>", escape(label));
    for cell in cells {
        w!(out, "<td class=\"num\">{cell}</td>");
    }
    out.push_str("</tr>\n");
}

fn status_libelle(key: &str) -> &str {
    Status::ALL
        .iter()
        .find(|s| s.as_str() == key)
        .map_or(key, |s| s.libelle())
}

/// A level's French label, from its key in the summary.
fn level_libelle(key: &str) -> &str {
    NiveauGeographique::parse(key).map_or(key, |l| l.libelle())
}

/// The summary's breakdowns, one chart each, in the report's order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Breakdown {
    Filiere,
    NiveauDiplome,
    Academie,
    Region,
}

impl Breakdown {
    const ALL: [Breakdown; 4] = [
        Breakdown::Filiere,
        Breakdown::NiveauDiplome,
        Breakdown::Academie,
        Breakdown::Region,
    ];

    /// The chart's key in the page (`data-chart`).
    fn key(self) -> &'static str {
        match self {
            Breakdown::Filiere => "filiere",
            Breakdown::NiveauDiplome => "niveau_diplome",
            Breakdown::Academie => "academie",
            Breakdown::Region => "region",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Breakdown::Filiere => "filière",
            Breakdown::NiveauDiplome => "niveau de diplôme",
            Breakdown::Academie => "académie",
            Breakdown::Region => "région",
        }
    }

    fn of(self, s: &CoverageSummary) -> &BTreeMap<String, Share> {
        match self {
            Breakdown::Filiere => &s.by_filiere,
            Breakdown::NiveauDiplome => &s.by_niveau_diplome,
            Breakdown::Academie => &s.by_academie,
            Breakdown::Region => &s.by_region,
        }
    }

    /// Territories are ranked by their rate; filières and levels keep
    /// their own order.
    fn by_rate(self) -> bool {
        matches!(self, Breakdown::Academie | Breakdown::Region)
    }

    /// A group's label: French for a filière, the key itself otherwise.
    fn libelle(self, key: &str) -> &str {
        match FILIERES.iter().find(|(k, _)| *k == key) {
            Some((_, libelle)) if self == Breakdown::Filiere => libelle,
            _ => key,
        }
    }
}

/// Text into the report: `output::html::escape`.
pub use crate::output::html::escape;

/// `1234567` → `1 234 567`, with narrow no-break spaces (French usage).
fn fmt_int(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// `45.1` → `45,1`; not a number → `–`.
fn fmt_rate(r: f64) -> String {
    if !r.is_finite() {
        return "–".into();
    }
    format!("{:.1}", r).replace('.', ",").replace("-0,0", "0,0")
}

/// `45.1` → `45,1 %`, with a no-break space before the sign.
fn fmt_pct(r: f64) -> String {
    format!("{}\u{a0}%", fmt_rate(r))
}

/// Percentage points a step adds: `+4,5 pts`.
fn fmt_pts(r: f64) -> String {
    format!(
        "+{}\u{a0}pt{}",
        fmt_rate(r),
        if r.abs() >= 2.0 { "s" } else { "" }
    )
}

/// `offre` → `offres` past one (appending an `s` to each word).
fn plural(n: usize, words: &str) -> String {
    match n {
        0 | 1 => words.to_string(),
        _ => words
            .split(' ')
            .map(|w| format!("{w}s"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A rate within 0–100 for drawing; not a number → 0.
fn clamp_rate(r: f64) -> f64 {
    if r.is_nan() {
        0.0
    } else {
        r.clamp(0.0, 100.0)
    }
}

/// Rough width of a character in ems in a sans-serif font, on the wide side
/// (DejaVu Sans is the usual fallback), so that labels are cut before their
/// column ends rather than after.
fn em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | 'I' | '\'' | '.' | ',' | ':' | ';' | '!' | '|' | ' ' => 0.34,
        'f' | 't' | 'r' | '(' | ')' | '-' | '/' => 0.45,
        'm' | 'w' | 'M' | 'W' | '—' | '…' | '%' => 1.0,
        c if c.is_uppercase() => 0.72,
        _ => 0.62,
    }
}

fn ems(s: &str) -> f64 {
    s.chars().map(em).sum()
}

/// The label if it fits in `max` ems, else its start and an ellipsis.
fn fit(s: &str, max: f64) -> String {
    if ems(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut width = em('…');
    for c in s.chars() {
        width += em(c);
        if width > max {
            break;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Word-wraps a label into at most `lines` lines of `max` ems, the last one
/// cut with an ellipsis when the label is longer.
fn wrap(s: &str, max: f64, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in s.split_whitespace() {
        match out.last_mut() {
            Some(line) if ems(line) + em(' ') + ems(word) <= max => {
                line.push(' ');
                line.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
    }
    let cut = out.len() > lines;
    out.truncate(lines);
    let last = out.len().saturating_sub(1);
    for (i, line) in out.iter_mut().enumerate() {
        let more = if cut && i == last { " …" } else { "" };
        *line = fit(&format!("{line}{more}"), max);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHARTS: [&str; 5] = [
        "waterfall",
        "filiere",
        "niveau_diplome",
        "academie",
        "region",
    ];

    /// A small `coverage_summary.json`, with characters to escape.
    fn summary() -> CoverageSummary {
        serde_json::from_str(
            r#"{"catalogue": "affelnet <2024> & \"co\"", "format": "affelnet",
            "offers": 1000, "covered": 451, "coverage_rate": 45.1,
            "by_status": {"covered": 451, "no_data": 549}, "by_via": {}, "by_level": {},
            "by_filiere": {"pro": {"offers": 600, "covered": 300, "coverage_rate": 50.0}},
            "by_niveau_diplome": {"3": {"offers": 1000, "covered": 451, "coverage_rate": 45.1}},
            "by_academie": {"Lyon": {"offers": 400, "covered": 100, "coverage_rate": 25.0},
                "Créteil": {"offers": 600, "covered": 351, "coverage_rate": 58.5}},
            "by_region": {"Île-de-France":
                {"offers": 1000, "covered": 451, "coverage_rate": 45.1}},
            "waterfall": [{"step": "direct", "label": "Code <direct>", "added": 451,
                "covered": 451, "coverage_rate": 45.1}],
            "examples": {"no_data": [{"line": 12, "uai": "0630003L", "code": "40025214",
                "libelle": "CAP <script>alert('x')</script>", "academie": "Clermont-Ferrand"}]}}"#,
        )
        .expect("a valid summary")
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"a & b < c > d " e ' f"#),
            "a &amp; b &lt; c &gt; d &quot; e &#39; f"
        );
        let html = render_report(&summary(), "Rapport <test>");
        assert!(html.contains("affelnet &lt;2024&gt; &amp; &quot;co&quot;"));
        assert!(html.contains("<h1>Rapport &lt;test&gt;</h1>"));
        assert!(html.contains("Code &lt;direct&gt;"));
        assert!(html.contains("CAP &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn every_chart_is_an_accessible_svg_with_bars() {
        let html = render_report(&summary(), "t");
        for chart in CHARTS {
            let start = html.find(&format!("data-chart=\"{chart}\"")).expect(chart);
            let svg = &html[html[..start].rfind("<svg").unwrap()..];
            let svg = &svg[..svg.find("</svg>").unwrap()];
            assert!(
                svg.contains("role=\"img\"") && svg.contains("aria-label=\""),
                "{chart}"
            );
            assert!(
                svg.contains("<title>") && svg.contains("<rect class=\"bar\""),
                "{chart}"
            );
        }
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
        assert!(html.contains("<td>Sous le seuil de diffusion</td>") && html.contains("0630003L"));
        assert!(html.contains("Pas de donnée — 549 offres"));
    }

    #[test]
    fn academies_are_sorted_by_rate_and_output_is_deterministic() {
        let html = render_report(&summary(), "t");
        // Créteil 58,5 % before Lyon 25,0 %.
        let academie = &html[html.find("data-chart=\"academie\"").unwrap()..];
        assert!(academie.find(">Créteil<").unwrap() < academie.find(">Lyon<").unwrap());
        assert_eq!(html, render_report(&summary(), "t"));
    }

    #[test]
    fn an_empty_summary_says_aucune_donnee() {
        let html = render_report(&CoverageSummary::default(), "vide");
        assert!(!html.contains("<svg") && html.contains("Aucune offre dans ce catalogue."));
        for chart in CHARTS {
            assert!(html.contains(&format!("data-chart-empty=\"{chart}\">aucune donnée")));
        }
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(fmt_pct(45.1), "45,1\u{a0}%");
        assert_eq!(fmt_pct(100.0), "100,0\u{a0}%");
        assert_eq!(fmt_pct(-0.0), "0,0\u{a0}%");
        assert_eq!(fmt_rate(f64::NAN), "–");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(fmt_pts(4.5), "+4,5\u{a0}pts");
        assert_eq!(plural(2, "offre couverte"), "offres couvertes");
        let html = render_report(&summary(), "t");
        assert!(html.contains("<strong>45,1\u{a0}%</strong> des 1\u{202f}000 offres ont un"));
    }

    #[test]
    fn labels_are_cut_and_wrapped_to_fit() {
        assert_eq!(fit("Lyon", 10.0), "Lyon");
        assert_eq!(fit("PROVENCE-ALPES-CÔTE D'AZUR", 10.0), "PROVENCE-ALP…");
        assert_eq!(
            wrap("Année terminale de la formation", 9.0, 3),
            ["Année terminale", "de la formation"]
        );
        assert_eq!(wrap("un deux trois quatre", 5.0, 2), ["un deux", "trois …"]);
    }
}
