//! `coverage_report.html` in a real browser (issue 4, part 4): a summary built
//! by hand is rendered, then headless Chromium opens the page four times:
//! as it is, to dump its DOM and check the five charts and their bars; with a
//! probe script added, to measure what the browser laid out (charts and bars
//! of non-zero size, no text cut by its chart or overlapping another); as it
//! is again, for a screenshot that must not be blank; and printed to PDF.
//!
//! The page must fetch nothing: the test checks that the HTML names no
//! outside resource, and Chromium runs with every host name mapped to nowhere.
//!
//! Without Chromium (`/usr/bin/chromium` or `chromium` on `PATH`) the browser
//! test says it is skipped and passes, except under `CI=true`, where `.ci/run`
//! installs Debian's `chromium` and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ij::stages::coverage::model::{rate, CoverageSummary, Example, Share, WaterfallStep};
use ij::stages::coverage::report::render_report;

/// Each chart and the bars it must draw for `summary()`.
const CHARTS: [(&str, usize); 5] = [
    ("waterfall", 6),
    ("filiere", 3),
    ("niveau_diplome", 4),
    ("academie", 5),
    ("region", 4),
];

fn share(covered: usize, offers: usize) -> Share {
    Share {
        offers,
        covered,
        coverage_rate: rate(covered, offers),
    }
}

/// A realistic Affelnet-like catalogue: 1 250 offers, 3 filières, 5 académies.
fn summary() -> CoverageSummary {
    let (offers, covered) = (1250, 1003);
    let mut s = CoverageSummary {
        catalogue: "affelnet_2024_offres.csv".into(),
        format: "affelnet".into(),
        offers,
        covered,
        coverage_rate: rate(covered, offers),
        ..Default::default()
    };
    for (k, n) in [
        ("covered", 1003),
        ("below_threshold", 121),
        ("new_formation", 64),
        ("unknown_code", 31),
        ("invalid_uai", 9),
        ("several_terminal_formations", 14),
        ("no_data", 8),
    ] {
        s.by_status.insert(k.into(), n);
    }
    for (k, n) in [
        ("direct", 702),
        ("continuum", 118),
        ("terminal_year", 97),
        ("uai_reconciliation", 12),
    ] {
        s.by_via.insert(k.into(), n);
    }
    for (k, n) in [("etablissement", 929), ("region", 51), ("national", 23)] {
        s.by_level.insert(k.into(), n);
    }
    for (k, c, o) in [
        ("pro", 640, 760),
        ("apprentissage", 331, 440),
        ("agricole", 32, 50),
    ] {
        s.by_filiere.insert(k.into(), share(c, o));
    }
    for (k, c, o) in [
        ("3 (CAP)", 301, 390),
        ("4 (Bac pro)", 560, 650),
        ("5 (BTS)", 120, 170),
        ("Mention complémentaire", 22, 40),
    ] {
        s.by_niveau_diplome.insert(k.into(), share(c, o));
    }
    for (k, c, o) in [
        ("Clermont-Ferrand", 201, 240),
        ("Créteil", 310, 400),
        ("Lyon", 250, 300),
        ("Nouvelle-Calédonie", 12, 40),
        ("Rennes", 230, 270),
    ] {
        s.by_academie.insert(k.into(), share(c, o));
    }
    for (k, c, o) in [
        ("Auvergne-Rhône-Alpes", 451, 540),
        ("Bretagne", 230, 270),
        ("Île-de-France", 310, 400),
        ("Nouvelle-Calédonie", 12, 40),
    ] {
        s.by_region.insert(k.into(), share(c, o));
    }
    // The labels of `coverage::waterfall_steps`, without the famille de métiers.
    let steps = [
        ("direct", "Code de l'offre, dans l'établissement", 702),
        ("continuum", "+ continuum (codes rénovés)", 118),
        ("terminal_year", "+ année terminale", 97),
        ("uai_reconciliation", "+ rapprochement d'UAI", 12),
        ("region", "+ repli régional", 51),
        ("national", "+ repli national", 23),
    ];
    let mut cumul = 0;
    for (step, label, added) in steps {
        cumul += added;
        s.waterfall.push(WaterfallStep {
            step: step.into(),
            label: label.into(),
            added,
            covered: cumul,
            coverage_rate: rate(cumul, offers),
        });
    }
    let examples = [
        (
            "below_threshold",
            14,
            "0630003L",
            "50022137",
            "CAP Maroquinerie",
            "Clermont-Ferrand",
        ),
        (
            "below_threshold",
            88,
            "0691234X",
            "40030001",
            "Bac pro Métiers de l'accueil",
            "Lyon",
        ),
        (
            "new_formation",
            203,
            "0350001A",
            "32033422",
            "BTS Cyber <option A> & \"B\"",
            "Rennes",
        ),
        (
            "unknown_code",
            7,
            "0930042K",
            "4002X",
            "Libellé inconnu",
            "Créteil",
        ),
    ];
    for (status, line, uai, code, libelle, academie) in examples {
        s.examples.entry(status.into()).or_default().push(Example {
            line,
            uai: uai.into(),
            code: code.into(),
            libelle: libelle.into(),
            academie: academie.into(),
        });
    }
    s
}

/// Chromium, or `None` (with a message) when it is absent outside CI.
pub fn chromium() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("chromium"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let found = std::iter::once(PathBuf::from("/usr/bin/chromium"))
        .chain(on_path)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "coverage report: chromium is missing, and CI=true requires it \
             (apt-get install chromium)"
        );
        eprintln!("coverage report browser test skipped: no chromium (apt-get install chromium)");
    }
    found
}

/// Runs headless Chromium on `page` with `extra` arguments, 60 s at most and
/// no network; returns its stdout.
pub fn run_chromium(chromium: &Path, work: &Path, page: &Path, extra: &[&str]) -> String {
    let profile = tempfile::tempdir_in(work).unwrap();
    let started = Instant::now();
    let out = Command::new("timeout")
        .args(["--kill-after=5", "60"])
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("timeout and chromium run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "chromium {extra:?} failed ({}):\n{stderr}",
        out.status
    );
    eprintln!(
        "chromium {extra:?}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

/// The `<svg …data-chart="name"…>…</svg>` element of a serialized DOM.
fn chart<'a>(dom: &'a str, name: &str) -> &'a str {
    let at = dom
        .find(&format!("data-chart=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} chart"));
    let start = dom[..at].rfind("<svg").expect("<svg");
    let end = start + dom[start..].find("</svg>").expect("</svg>");
    &dom[start..end]
}

#[test]
fn coverage_report_fetches_nothing() {
    let html = render_report(&summary(), "Couverture du catalogue Affelnet 2024");
    for outside in [
        "http:", "https:", "//", "src=", "href=", "url(", "@import", "<link", "<script", "<img",
        "<iframe",
    ] {
        assert!(
            !html.contains(outside),
            "the report refers to something outside: {outside}"
        );
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[test]
fn coverage_report_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let html = render_report(&summary(), "Couverture du catalogue Affelnet 2024");
    let page = work.path().join("coverage_report.html");
    std::fs::write(&page, &html).unwrap();

    // 1. The DOM as Chromium parsed it: five accessible charts with their bars.
    let dom = run_chromium(&chromium, work.path(), &page, &["--dump-dom"]);
    for (name, bars) in CHARTS {
        let svg = chart(&dom, name);
        assert!(
            svg.contains("role=\"img\"") && svg.contains("aria-label=\""),
            "{name}: {svg}"
        );
        assert!(svg.contains("<title>"), "{name} has no <title>");
        assert_eq!(svg.matches("class=\"bar\"").count(), bars, "{name}: bars");
    }
    assert!(dom.contains("80,2&nbsp;%") && dom.contains("BTS Cyber &lt;option A&gt; &amp; \"B\""));

    // 2. What the browser laid out, measured by a script in a copy of the page
    //    (the page itself forbids scripts).
    let csp = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("CSP");
    let csp_end = csp + html[csp..].find('>').unwrap() + 1;
    let probe = format!("{}{}", &html[..csp], &html[csp_end..]).replace("</body>", PROBE);
    let probe_page = work.path().join("probe.html");
    std::fs::write(&probe_page, probe).unwrap();
    let measured = run_chromium(&chromium, work.path(), &probe_page, &["--dump-dom"]);
    let start = measured.find("<pre id=\"probe\">").expect("the probe ran") + 16;
    let lines = &measured[start..start + measured[start..].find("</pre>").unwrap()];
    let mut seen = 0;
    for line in lines.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f[0] == "page" {
            assert!(
                f[1].parse::<u32>().unwrap() <= 1280,
                "the page overflows sideways: {line}"
            );
            continue;
        }
        let n = |i: usize| f[i].parse::<u32>().unwrap();
        let bars = CHARTS
            .iter()
            .find(|(c, _)| *c == f[0])
            .expect("a known chart")
            .1 as u32;
        assert!(
            n(1) >= 600 && n(2) >= 100,
            "{} is laid out too small: {line}",
            f[0]
        );
        assert_eq!((n(3), n(4)), (bars, bars), "{}: bars drawn: {line}", f[0]);
        assert_eq!(n(5), 0, "{}: text cut by the chart's frame: {line}", f[0]);
        assert_eq!(n(6), 0, "{}: texts overlap: {line}", f[0]);
        seen += 1;
    }
    assert_eq!(seen, CHARTS.len(), "probe output:\n{lines}");

    // 3. A screenshot of the page itself: a 1280×2000 PNG with something on it.
    let png = work.path().join("coverage_report.png");
    run_chromium(
        &chromium,
        work.path(),
        &page,
        &[&format!("--screenshot={}", png.display())],
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((&bytes[12..16], be(16), be(20)), (&b"IHDR"[..], 1280, 2000));
    // A blank 1280×2000 page compresses to 12 KB, a page of text to 40 KB; this
    // one, with its charts, to about 180 KB.
    assert!(
        bytes.len() > 100_000,
        "the screenshot looks blank: {} bytes",
        bytes.len()
    );

    // 4. Printed: a PDF of a few A4 pages.
    let pdf = work.path().join("coverage_report.pdf");
    let print = format!("--print-to-pdf={}", pdf.display());
    run_chromium(
        &chromium,
        work.path(),
        &page,
        &["--no-pdf-header-footer", &print],
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let is_page = |w: &[u8]| w.starts_with(b"/Type /Page") && w[11] != b's';
    let pages = bytes.windows(12).filter(|w| is_page(w)).count();
    assert!((2..=10).contains(&pages), "{pages} printed pages");
    if let Some(keep) = std::env::var_os("IJ_KEEP_REPORT") {
        std::fs::copy(&page, Path::new(&keep).join("coverage_report.html")).unwrap();
        std::fs::copy(&png, Path::new(&keep).join("coverage_report.png")).unwrap();
    }
}

/// For each chart: `name width height bars bars_drawn texts_cut texts_overlapping`,
/// then `page scroll_width`, in a `<pre id="probe">`.
const PROBE: &str = r#"<script>
const lines = [];
for (const svg of document.querySelectorAll('svg[data-chart]')) {
  const box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
  const bars = [...svg.querySelectorAll('rect.bar')];
  const drawn = bars.filter(r => {
    const b = r.getBoundingClientRect();
    return b.width > 0 && b.height > 0;
  });
  const texts = [...svg.querySelectorAll('text')].map(t => t.getBBox());
  const cut = texts.filter(b => b.x < vb.x || b.y < vb.y
    || b.x + b.width > vb.x + vb.width || b.y + b.height > vb.y + vb.height);
  let overlaps = 0;
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i], b = texts[j];
    const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
    const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
    if (w > 1 && h > 1) overlaps++;
  }
  lines.push([svg.dataset.chart, Math.round(box.width), Math.round(box.height),
    bars.length, drawn.length, cut.length, overlaps].join(' '));
}
lines.push('page ' + document.documentElement.scrollWidth);
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = lines.join('\n');
document.body.append(pre);
</script></body>"#;
