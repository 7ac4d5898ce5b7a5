//! The HTML page of `ij pilotage`: self-contained (no script, no outside
//! resource, a Content-Security-Policy that forbids both), one section per
//! filière with a scatter of every classified formation and the table of
//! its Q4 formations.
//!
//! The scatter plots each formation's gaps to the references of its diploma
//! level: employment across, further study up. The two reference lines are
//! the axes through zero, so formations of every level share one chart and
//! the quadrants read directly (Q4, bottom left, in red and numbered like
//! the table). Every text comes from the data and is escaped.

use std::fmt::Write as _;

use super::{Ligne, Vue};
use crate::output::html::escape;
use crate::rules::pilotage::Position;

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem 1.5rem;color:#1e1e1e}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
.note{background:#f6f8fa;border-left:4px solid #6a6af4;padding:.6rem 1rem}
svg{display:block;max-width:100%;height:auto}
svg text{font-size:12px;fill:#1e1e1e}
.axis{stroke:#3a3a3a;stroke-width:1.5}.frame{fill:none;stroke:#ccd}
.dot{fill:#8a8a8a;fill-opacity:.55}.q4{fill:#c9191e}
svg text.q4label{fill:#c9191e;font-size:11px;font-weight:bold}
svg text.quadrant{fill:#5a5a5a;font-size:13px;font-weight:bold}
svg text.small{font-size:11px;fill:#5a5a5a}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f3f7}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
";

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 480.0;
const MARGIN: f64 = 56.0;
/// How many Q4 formations the scatter numbers.
const NUMBERED: usize = 10;

/// The page for one région.
pub fn render(region: &str, vues: &[Vue]) -> String {
    let title = format!("Formations peu insérantes — {}", escape(region));
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <section class=\"note\"><p>Chaque formation est comparée à la moyenne des formations \
         du même niveau de diplôme dans la région et au même millésime (somme des effectifs sur \
         somme des effectifs). Q4 : en dessous de la moyenne à la fois pour l'emploi salarié à \
         6 mois et pour la poursuite d'études ; ce sont les formations « peu insérantes ». Les \
         taux ne sont calculés qu'au-dessus du seuil de diffusion ; les formations sans taux et \
         les secondes communes ne sont pas classées.</p></section>\n"
    );
    for v in vues {
        section(&mut out, v);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn section(out: &mut String, v: &Vue) {
    let filiere = match v.filiere.as_str() {
        "pro" => "voie professionnelle scolaire",
        "apprentissage" => "apprentissage",
        "agricole" => "enseignement agricole",
        other => other,
    };
    let _ = write!(
        out,
        "<section id=\"{f}\">\n<h2>{filiere}, millésime {m} : {q} formation{s} en Q4 sur {n} \
         classée{s2}</h2>\n",
        f = escape(v.filiere.as_str()),
        m = escape(&v.millesime.to_string()),
        q = v.q4.len(),
        s = if v.q4.len() > 1 { "s" } else { "" },
        n = v.classees.len(),
        s2 = if v.classees.len() > 1 { "s" } else { "" },
    );
    scatter(out, v, filiere);
    if v.q4.is_empty() {
        out.push_str("<p>Aucune formation en Q4.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>n°</th><th>code</th><th>formation</th><th>niveau</th>\
         <th class=\"num\">emploi à 6 mois</th><th class=\"num\">référence</th>\
         <th class=\"num\">écart</th><th class=\"num\">poursuite d'études</th>\
         <th class=\"num\">référence</th><th class=\"num\">écart</th></tr></thead>\n<tbody>\n",
    );
    for (i, r) in v.q4.iter().enumerate() {
        let pct = |x: Option<i64>| x.map_or("–".to_string(), |x| format!("{x} %"));
        let pts = |x: Option<i64>| x.map_or("–".to_string(), |x| format!("{x:+}"));
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            i + 1,
            escape(&r.code_certification),
            escape(&r.libelle),
            escape(&r.libelle_niveau_diplome),
            pct(r.taux_en_emploi_6_mois),
            pct(r.reference_taux_en_emploi_6_mois),
            pts(r.ecart_taux_en_emploi_6_mois),
            pct(r.taux_poursuite_etudes),
            pct(r.reference_taux_poursuite_etudes),
            pts(r.ecart_taux_poursuite_etudes),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// The gap of a row on each axis (classified rows have both).
fn gaps(r: &Ligne) -> Option<(i64, i64)> {
    Some((
        r.ecart_taux_en_emploi_6_mois?,
        r.ecart_taux_poursuite_etudes?,
    ))
}

/// The scatter plot of one filière: the frame and its labels, the axes,
/// then the points.
fn scatter(out: &mut String, v: &Vue, filiere: &str) {
    let plot = Plot::of(v);
    scatter_frame(out, v, filiere);
    scatter_axes(out, &plot);
    scatter_points(out, v, &plot);
    out.push_str("</svg>\n</figure>\n");
}

/// The plot's scale: gaps in points of percentage mapped to SVG
/// coordinates, over a range symmetric around the reference.
struct Plot {
    range: f64,
}

impl Plot {
    /// A symmetric range in steps of 10 points, at least ±20, wide enough
    /// for the furthest classified row.
    fn of(v: &Vue) -> Plot {
        let reach = v
            .classees
            .iter()
            .filter_map(gaps)
            .map(|(x, y)| x.abs().max(y.abs()))
            .max()
            .unwrap_or(0);
        Plot {
            range: ((reach + 9) / 10 * 10).max(20) as f64,
        }
    }

    fn x(&self, g: i64) -> f64 {
        MARGIN + (g as f64 + self.range) / (2.0 * self.range) * (WIDTH - 2.0 * MARGIN)
    }

    fn y(&self, g: i64) -> f64 {
        HEIGHT - MARGIN - (g as f64 + self.range) / (2.0 * self.range) * (HEIGHT - 2.0 * MARGIN)
    }

    /// Where a row's gaps are drawn: a point beyond the range is drawn on
    /// its edge.
    fn at(&self, (gx, gy): (i64, i64)) -> (f64, f64) {
        let limit = self.range as i64;
        (
            self.x(gx.clamp(-limit, limit)),
            self.y(gy.clamp(-limit, limit)),
        )
    }
}

/// The opening of the figure: its accessible title and description (what
/// a screen reader says of the plot) and the frame.
fn scatter_frame(out: &mut String, v: &Vue, filiere: &str) {
    let _ = write!(
        out,
        "<figure>\n<svg role=\"img\" aria-labelledby=\"t-{f} d-{f}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\" class=\"scatter\">\n\
         <title id=\"t-{f}\">Écarts à la moyenne du niveau, {filiere}</title>\n\
         <desc id=\"d-{f}\">{n} formations classées ; {q} en Q4, en dessous de la moyenne de leur \
         niveau pour l'emploi à 6 mois et pour la poursuite d'études.</desc>\n\
         <rect class=\"frame\" x=\"{MARGIN}\" y=\"{MARGIN}\" width=\"{w}\" height=\"{h}\"/>\n",
        f = escape(v.filiere.as_str()),
        n = v.classees.len(),
        q = v.q4.len(),
        w = WIDTH - 2.0 * MARGIN,
        h = HEIGHT - 2.0 * MARGIN,
    );
}

/// The two reference lines, the quadrants' names in their corners, the
/// axes' titles and the range at their ends: what a reader needs to read a
/// point's position as a gap to the reference.
fn scatter_axes(out: &mut String, plot: &Plot) {
    let range = plot.range;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{x0:.1}\" y1=\"{MARGIN}\" x2=\"{x0:.1}\" y2=\"{yb:.1}\"/>\n\
         <line class=\"axis\" x1=\"{MARGIN}\" y1=\"{y0:.1}\" x2=\"{xr:.1}\" y2=\"{y0:.1}\"/>\n",
        x0 = plot.x(0),
        y0 = plot.y(0),
        yb = HEIGHT - MARGIN,
        xr = WIDTH - MARGIN,
    );
    for (label, gx, gy, anchor) in [
        ("Q1", range as i64, range as i64, "end"),
        ("Q2", range as i64, -(range as i64), "end"),
        ("Q3", -(range as i64), range as i64, "start"),
        ("Q4", -(range as i64), -(range as i64), "start"),
    ] {
        let dy = if gy > 0 { 16.0 } else { -8.0 };
        let dx = if anchor == "end" { -6.0 } else { 6.0 };
        let _ = writeln!(
            out,
            "<text class=\"quadrant\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{label}</text>",
            plot.x(gx) + dx,
            plot.y(gy) + dy
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Écart au taux d'emploi à 6 mois \
         de référence (points)</text>\n\
         <text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">Écart au taux \
         de poursuite d'études de référence (points)</text>\n\
         <text class=\"small\" x=\"{MARGIN}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
         <text class=\"small\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">+{}</text>\n",
        WIDTH / 2.0,
        HEIGHT - 14.0,
        HEIGHT / 2.0,
        HEIGHT - MARGIN + 16.0,
        -(range as i64),
        WIDTH - MARGIN,
        HEIGHT - MARGIN + 16.0,
        range as i64,
    );
}

/// The classified rows as points: the others first, then Q4 on top; the
/// furthest below are numbered as in the table (numbering all of them
/// would only draw a blot), the rest named in their tooltip only.
fn scatter_points(out: &mut String, v: &Vue, plot: &Plot) {
    for r in v.classees.iter().filter(|r| r.position != Position::Q4) {
        let Some((cx, cy)) = gaps(r).map(|g| plot.at(g)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "<circle class=\"dot\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3.5\"/>"
        );
    }
    for (i, r) in v.q4.iter().enumerate() {
        let q4_number = i + 1;
        let Some((cx, cy)) = gaps(r).map(|g| plot.at(g)) else {
            continue;
        };
        if q4_number > NUMBERED {
            let _ = writeln!(
                out,
                "<circle class=\"dot q4\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4.5\"><title>{} {}</title></circle>",
                escape(&r.code_certification),
                escape(&r.libelle)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "<circle class=\"dot q4\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4.5\"><title>{} {}</title></circle>\n\
             <text class=\"q4label\" x=\"{:.1}\" y=\"{:.1}\">{q4_number}</text>",
            escape(&r.code_certification),
            escape(&r.libelle),
            cx + 5.0,
            cy - 5.0
        );
    }
}
