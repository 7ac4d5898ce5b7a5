//! The SVG widgets (`.svg` on the single-item routes), rendered from typed
//! values: every text from the release or the request goes through `esc`,
//! nothing is templated into markup.
//!
//! Accessible: `role="img"` labelled by a `<title>` and a `<desc>` that reads
//! the figures as a sentence; text stays text; colours meet WCAG AA (4.5:1 for
//! text on its background: checked by a test).

use std::fmt::Write;

use crate::rules::exposition::emploi_scope;
use crate::rules::millesime::Millesime;

pub const TITRE: &str = "Que deviennent les apprenants après cette formation ?";
const EMPLOI: &str = "sont en emploi 6 mois après la fin de la formation";
const FORMATION: &str = "poursuivent leurs études";
const AUTRES: &str = "sont dans d'autres cas";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Dsfr,
    Lba,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Vertical,
    Horizontal,
}

/// A theme's colours and font.
struct Palette {
    font: &'static str,
    background: &'static str,
    card: &'static str,
    text: &'static str,
    muted: &'static str,
    accent: &'static str,
}

const DSFR: Palette = Palette {
    font: "Marianne, Arial, sans-serif",
    background: "#ffffff",
    card: "#f6f6f6",
    text: "#161616",
    muted: "#3a3a3a",
    accent: "#000091",
};

const LBA: Palette = Palette {
    font: "Inter, Arial, sans-serif",
    background: "#ffffff",
    card: "#f5f5fe",
    text: "#1e1e1e",
    muted: "#3a3a3a",
    accent: "#0063cb",
};

impl Theme {
    fn palette(self) -> &'static Palette {
        match self {
            Theme::Dsfr => &DSFR,
            Theme::Lba => &LBA,
        }
    }
}

/// The three figures of a block (API rates, integer percentages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trois {
    pub emploi_6_mois: Option<i64>,
    pub formation: Option<i64>,
    pub autres_6_mois: Option<i64>,
}

impl Trois {
    pub fn is_empty(&self) -> bool {
        self.emploi_6_mois.is_none() && self.formation.is_none() && self.autres_6_mois.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Bloc {
    /// "Pour la voie scolaire", in the filières view.
    pub titre: Option<String>,
    pub figures: Trois,
}

/// Everything a widget shows.
#[derive(Debug, Clone)]
pub struct Widget {
    pub theme: Theme,
    pub direction: Direction,
    /// Makes the ids of the SVG unique on a page (codes are [0-9A-Z]).
    pub id: String,
    pub code: String,
    pub libelle: String,
    pub millesime: Millesime,
    pub insersup: bool,
    pub region: Option<String>,
    pub blocs: Vec<Bloc>,
}

/// Text into SVG: `output::html::escape`.
pub use crate::output::html::escape as esc;

/// Splits `text` into lines of at most `max` characters, at spaces.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn pct(v: Option<i64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v} %"))
}

/// The footer: "Données issues du dispositif InserJeunes, promotion 2022 à 2023".
pub fn footer(millesime: Millesime, insersup: bool) -> String {
    let dispositif = if insersup { "InserSup" } else { "InserJeunes" };
    let promotion = if millesime.is_cumulated() {
        format!("promotion {} à {}", millesime.first, millesime.last)
    } else {
        format!("promotion {}", millesime.first)
    };
    format!("Données issues du dispositif {dispositif}, {promotion}")
}

/// The sentence `<desc>` reads.
pub fn description(w: &Widget) -> String {
    let mut s = format!(
        "Certification {}{}, millésime {}",
        w.code,
        if w.libelle.is_empty() {
            String::new()
        } else {
            format!(" ({})", w.libelle)
        },
        w.millesime
    );
    if let Some(r) = &w.region {
        s.push_str(&format!(", région {r}"));
    }
    s.push_str(". ");
    let scope = emploi_scope(w.millesime.last, w.insersup);
    for b in &w.blocs {
        if let Some(t) = &b.titre {
            s.push_str(&format!("{t} : "));
        }
        let say = |v: Option<i64>, what: &str| match v {
            Some(v) => format!("{v} % {what}"),
            None => format!("{what} : donnée non disponible"),
        };
        s.push_str(&format!(
            "{} {}, {}, {}. ",
            say(b.figures.emploi_6_mois, EMPLOI),
            scope,
            say(b.figures.formation, FORMATION),
            say(b.figures.autres_6_mois, AUTRES)
        ));
    }
    s.push_str(&footer(w.millesime, w.insersup));
    s.push('.');
    s
}

struct Canvas {
    body: String,
    p: &'static Palette,
}

impl Canvas {
    fn text(&mut self, x: i32, y: i32, size: i32, weight: &str, fill: &str, t: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}">{}</text>"#,
            esc(t)
        );
    }
    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{fill}"/>"#
        );
    }
}

/// The lines of a card's label and subtitle at width `w`.
fn card_lines(w: i32, label: &str, sub: Option<&str>) -> (Vec<String>, Vec<String>) {
    let chars = ((w - 24) / 7).max(12) as usize;
    (
        wrap(label, chars),
        sub.map(|s| wrap(s, chars)).unwrap_or_default(),
    )
}

fn card_height(w: i32, label: &str, sub: Option<&str>) -> i32 {
    let (lines, sub_lines) = card_lines(w, label, sub);
    16 + 30 + 8 + 17 * (lines.len() + sub_lines.len()) as i32 + 8
}

/// One figure card at (x, y), `w` × `h`.
struct Card<'a> {
    value: Option<i64>,
    label: &'a str,
    sub: Option<&'a str>,
}

fn card(c: &mut Canvas, (x, y, w, h): (i32, i32, i32, i32), card: &Card) {
    let (lines, sub_lines) = card_lines(w, card.label, card.sub);
    c.rect(x, y, w, h, c.p.card);
    let (accent, text, muted) = (c.p.accent, c.p.text, c.p.muted);
    c.text(x + 12, y + 42, 28, "700", accent, &pct(card.value));
    let mut ty = y + 42 + 22;
    for l in &lines {
        c.text(x + 12, ty, 14, "400", text, l);
        ty += 17;
    }
    for l in &sub_lines {
        c.text(x + 12, ty, 13, "400", muted, l);
        ty += 17;
    }
}

/// The widget: its heading, the cards of each block, then the footer; the
/// image is as tall as what was drawn.
pub fn render(w: &Widget) -> String {
    let mut c = Canvas {
        body: String::new(),
        p: w.theme.palette(),
    };
    let grid = Grid::of(w.direction);
    let scope = emploi_scope(w.millesime.last, w.insersup);
    let mut y = heading(&mut c, w, &grid);
    y += 12;
    for b in &w.blocs {
        y = bloc(&mut c, b, scope, &grid, y);
    }
    y += 10;
    y = footer_lines(&mut c, w, &grid, y);
    let height = y + grid.pad;
    document(
        w.theme,
        &w.id,
        grid.width,
        height,
        TITRE,
        &description(w),
        &c.body,
    )
}

/// Where things go across the widget: its width and how many cards share a
/// row follow the direction (one card a row when vertical, the three side
/// by side when horizontal).
struct Grid {
    width: i32,
    per_row: i32,
    pad: i32,
    gap: i32,
    card_w: i32,
}

impl Grid {
    fn of(direction: Direction) -> Grid {
        let (width, per_row) = match direction {
            Direction::Vertical => (320, 1),
            Direction::Horizontal => (720, 3),
        };
        let pad = 16;
        let gap = 8;
        Grid {
            width,
            per_row,
            pad,
            gap,
            card_w: (width - 2 * pad - gap * (per_row - 1)) / per_row,
        }
    }
}

/// The title and, for a regional widget, the région it is about; returns
/// the baseline of the last line.
fn heading(c: &mut Canvas, w: &Widget, g: &Grid) -> i32 {
    let p = c.p;
    let mut y = g.pad;
    let title_chars = ((g.width - 2 * g.pad) / 10) as usize;
    for l in wrap(TITRE, title_chars) {
        y += 20;
        c.text(g.pad, y, 18, "700", p.text, &l);
    }
    if let Some(r) = &w.region {
        for l in wrap(
            &format!("Les chiffres pour la région {r}"),
            ((g.width - 2 * g.pad) / 7) as usize,
        ) {
            y += 19;
            c.text(g.pad, y, 14, "400", p.muted, &l);
        }
    }
    y
}

/// One block (a filière, or the whole): its title if it has one, then its
/// three cards, `per_row` a row; returns where the next block starts.
fn bloc(c: &mut Canvas, b: &Bloc, scope: &str, g: &Grid, mut y: i32) -> i32 {
    if let Some(t) = &b.titre {
        y += 20;
        let accent = c.p.accent;
        c.text(g.pad, y, 15, "700", accent, t);
        y += 8;
    }
    let cards = [
        Card {
            value: b.figures.emploi_6_mois,
            label: EMPLOI,
            sub: Some(scope),
        },
        Card {
            value: b.figures.formation,
            label: FORMATION,
            sub: None,
        },
        Card {
            value: b.figures.autres_6_mois,
            label: AUTRES,
            sub: None,
        },
    ];
    // Cards side by side share the height of the tallest.
    let mut row_h = 0;
    for row in cards.chunks(g.per_row as usize) {
        if row_h > 0 {
            y += row_h + g.gap;
        }
        row_h = row
            .iter()
            .map(|k| card_height(g.card_w, k.label, k.sub))
            .max()
            .unwrap_or(0);
        for (col, k) in row.iter().enumerate() {
            let x = g.pad + col as i32 * (g.card_w + g.gap);
            card(c, (x, y, g.card_w, row_h), k);
        }
    }
    y + row_h + g.gap
}

/// The source and promotion under the cards; returns the baseline of the
/// last line.
fn footer_lines(c: &mut Canvas, w: &Widget, g: &Grid, mut y: i32) -> i32 {
    let muted = c.p.muted;
    for l in wrap(
        &footer(w.millesime, w.insersup),
        ((g.width - 2 * g.pad) / 6) as usize,
    ) {
        y += 15;
        c.text(g.pad, y, 12, "400", muted, &l);
    }
    y
}

fn document(
    theme: Theme,
    id: &str,
    width: i32,
    height: i32,
    title: &str,
    desc: &str,
    body: &str,
) -> String {
    let p = theme.palette();
    let id = esc(id);
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{id}-titre {id}-desc" "#,
            r#"width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{font}">"#,
            "\n<title id=\"{id}-titre\">{title}</title>\n<desc id=\"{id}-desc\">{desc}</desc>\n",
            r#"<rect width="{w}" height="{h}" fill="{bg}"/>"#,
            "\n{body}</svg>\n"
        ),
        id = id,
        w = width,
        h = height,
        font = esc(p.font),
        title = esc(title),
        desc = esc(desc),
        bg = p.background,
        body = body
    )
}

/// The image answered when there is no data and `imageOnError=true`.
pub fn render_error(theme: Theme, direction: Direction, message: &str) -> String {
    let p = theme.palette();
    let mut c = Canvas {
        body: String::new(),
        p,
    };
    let width = match direction {
        Direction::Vertical => 320,
        Direction::Horizontal => 720,
    };
    let mut y = 16;
    for l in wrap(TITRE, ((width - 32) / 10) as usize) {
        y += 20;
        c.text(16, y, 18, "700", p.text, &l);
    }
    y += 12;
    for l in wrap(message, ((width - 32) / 7) as usize) {
        y += 18;
        c.text(16, y, 14, "400", p.muted, &l);
    }
    document(theme, "ij-erreur", width, y + 16, TITRE, message, &c.body)
}

/// The empty image of `imageOnError=empty`.
pub fn render_empty(theme: Theme) -> String {
    document(
        theme,
        "ij-vide",
        1,
        1,
        "Aucune donnée",
        "Aucune donnée disponible",
        "",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(hex: &str) -> f64 {
        let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
        let ch = |s: u32| {
            let c = f64::from((v >> s) & 0xff) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(16) + 0.7152 * ch(8) + 0.0722 * ch(0)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn every_text_colour_meets_aa_on_its_backgrounds() {
        for p in [&DSFR, &LBA] {
            for bg in [p.background, p.card] {
                for fg in [p.text, p.muted, p.accent] {
                    let c = contrast(fg, bg);
                    assert!(c >= 4.5, "{fg} on {bg}: {c:.2}");
                }
            }
        }
        // The formula itself: black on white is 21:1.
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    }

    fn widget() -> Widget {
        Widget {
            theme: Theme::Dsfr,
            direction: Direction::Vertical,
            id: "ij-40025214".into(),
            code: "40025214".into(),
            libelle: "BAC PRO <Cuisine> & \"co\"".into(),
            millesime: Millesime::parse("2020_2021").unwrap(),
            insersup: false,
            region: Some("Auvergne-Rhône-Alpes".into()),
            blocs: vec![Bloc {
                titre: None,
                figures: Trois {
                    emploi_6_mois: Some(45),
                    formation: Some(30),
                    autres_6_mois: None,
                },
            }],
        }
    }

    #[test]
    fn labels_are_escaped_and_figures_read_as_a_sentence() {
        let svg = render(&widget());
        assert!(
            svg.contains("&lt;Cuisine&gt; &amp; &quot;co&quot;"),
            "{svg}"
        );
        assert!(!svg.contains("<Cuisine>"));
        assert!(svg.contains(r#"role="img""#));
        let desc = description(&widget());
        assert!(
            desc.contains(
                "45 % sont en emploi 6 mois après la fin de la formation (emploi salarié du privé)"
            ),
            "{desc}"
        );
        assert!(desc.contains("30 % poursuivent leurs études"));
        assert!(desc.contains("sont dans d'autres cas : donnée non disponible"));
        assert!(desc.contains("promotion 2020 à 2021"));
        // The région line may wrap: its words are all there, in order.
        assert!(svg.contains(">Les chiffres pour la région"), "{svg}");
        assert!(svg.contains("Auvergne-Rhône-Alpes</text>"), "{svg}");
    }

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(esc("a\u{1}b<"), "ab&lt;");
    }
}
