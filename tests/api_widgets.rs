//! The SVG widgets in headless Chromium (issue 11, parts 2 and 4): served by
//! `ij serve` in both themes and both directions, with the région line and
//! the filières view; each is inlined in a page whose probe script reads the
//! accessible name back (`aria-labelledby` → `<title>` and `<desc>`) and
//! measures that every text lies inside the image and overlaps no other;
//! each is screenshotted and compared with the committed image in
//! `tests/widgets/` within a tolerance (fonts may differ slightly between
//! machines). `IJ_UPDATE_WIDGETS=1` rewrites the committed images.
//!
//! Without Chromium the browser part says it is skipped and passes, except
//! under `CI=true` (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::api::release_dir;
use crate::common::http::Server;
use crate::common::{repo, run_sample};

const CASES: &[(&str, &str)] = &[
    (
        "dsfr_vertical",
        "/api/inserjeunes/certifications/40025510.svg",
    ),
    (
        "dsfr_horizontal",
        "/api/inserjeunes/certifications/40025510.svg?direction=horizontal",
    ),
    (
        "lba_vertical",
        "/api/inserjeunes/certifications/40025510.svg?theme=lba",
    ),
    (
        "lba_horizontal",
        "/api/inserjeunes/certifications/40025510.svg?theme=lba&direction=horizontal",
    ),
    (
        "region_lba_vertical",
        "/api/inserjeunes/regionales/69003/certifications/40025510.svg?theme=lba&millesime=2021_2022",
    ),
    (
        "filieres_dsfr_horizontal",
        "/api/inserjeunes/certifications/40025510.svg?vue=filieres&direction=horizontal",
    ),
];

fn chromium() -> Option<PathBuf> {
    let found = std::iter::once(PathBuf::from("/usr/bin/chromium"))
        .chain(
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join("chromium"))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        )
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "widgets: chromium is missing, and CI=true requires it"
        );
        eprintln!("widget browser test skipped: no chromium (apt-get install chromium)");
    }
    found
}

fn run_chromium(chromium: &Path, work: &Path, page: &Path, extra: &[&str]) -> String {
    let profile = tempfile::tempdir_in(work).unwrap();
    let out = Command::new("timeout")
        .args(["--kill-after=5", "60"])
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `width` and `height` of the root `<svg>`.
fn size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb: Vec<u8> = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1.min(channels - 1)], p[2.min(channels - 1)]])
        .collect();
    (info.width, info.height, rgb)
}

/// The share of pixels that differ by more than a font's anti-aliasing.
fn difference(a: &[u8], b: &[u8]) -> f64 {
    let differ = a
        .chunks(3)
        .zip(b.chunks(3))
        .filter(|(x, y)| x.iter().zip(y.iter()).any(|(p, q)| p.abs_diff(*q) > 64))
        .count();
    differ as f64 / (a.len() / 3) as f64
}

const PROBE: &str = r#"<script>
const out = [];
for (const svg of document.querySelectorAll('svg')) {
  const ids = (svg.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  const name = ids.map(id => document.getElementById(id).textContent.trim()).join(' ');
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect());
  let outside = 0, overlaps = 0;
  for (const r of texts) {
    if (r.left < box.left || r.right > box.right + 0.5 || r.top < box.top || r.bottom > box.bottom + 0.5) outside++;
  }
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i], b = texts[j];
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps++;
  }
  out.push([svg.dataset.case, svg.getAttribute('role'), texts.length, outside, overlaps, name].join('\t'));
}
document.getElementById('probe').textContent = out.join('\n');
</script>"#;

#[test]
fn widgets_render_in_chromium_with_their_figures_as_accessible_name() {
    let run = run_sample();
    let server = Server::start(&release_dir(run.path()));
    let work = tempfile::tempdir().unwrap();
    let mut page =
        String::from("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><body>\n");
    let mut svgs = Vec::new();
    for (name, target) in CASES {
        let a = server.get(target);
        assert_eq!(a.status, 200, "{target}: {}", a.text());
        assert_eq!(
            a.header("content-type"),
            Some("image/svg+xml; charset=utf-8")
        );
        let svg = a.text();
        // The text as a reader gets it (the widget escapes every apostrophe).
        let plain = svg.replace("&#39;", "'");
        // The figures the widget must state: the JSON answer's.
        let json_target = target.replace(".svg", "");
        let json = server.get(&json_target).json();
        let blocks: Vec<serde_json::Value> = if json.get("millesime").is_some() {
            vec![json]
        } else {
            json.as_object().unwrap().values().cloned().collect()
        };
        for b in &blocks {
            for (key, words) in [
                (
                    "taux_en_emploi_6_mois",
                    "sont en emploi 6 mois après la fin de la formation",
                ),
                ("taux_en_formation", "poursuivent leurs études"),
                ("taux_autres_6_mois", "sont dans d'autres cas"),
            ] {
                let v = b[key].as_i64().expect("a figure");
                assert!(
                    plain.contains(&format!("{v} % {words}")),
                    "{name}: {key} {v} not in <desc>"
                );
                assert!(
                    svg.contains(&format!(">{v} %</text>")),
                    "{name}: {key} not drawn"
                );
            }
        }
        assert!(svg.contains("Que deviennent les apprenants après cette formation ?"));
        assert!(svg.contains("Données issues du dispositif InserJeunes, promotion"));
        if name.starts_with("region") {
            assert!(svg.contains("Les chiffres pour la région"), "{name}");
        }
        if name.starts_with("filieres") {
            assert!(
                svg.contains("Pour la voie scolaire") && svg.contains("Pour la voie apprentissage")
            );
        }
        let inline = svg.replacen("<svg ", &format!("<svg data-case=\"{name}\" "), 1);
        page.push_str(&inline);
        let file = work.path().join(format!("{name}.svg"));
        std::fs::write(&file, &svg).unwrap();
        svgs.push((name, file, svg));
    }
    page.push_str("<pre id=\"probe\"></pre>\n");
    page.push_str(PROBE);
    page.push_str("</body></html>\n");
    let page_path = work.path().join("widgets.html");
    std::fs::write(&page_path, &page).unwrap();

    let Some(chromium) = chromium() else { return };
    let dom = run_chromium(&chromium, work.path(), &page_path, &["--dump-dom"]);
    let probe = &dom[dom.find("<pre id=\"probe\">").expect("probe") + 16..];
    let probe = &probe[..probe.find("</pre>").unwrap()];
    let mut seen = 0;
    for line in probe.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (name, role, texts, outside, overlaps, accessible) =
            (f[0], f[1], f[2], f[3], f[4], f[5]);
        assert_eq!(role, "img", "{name}");
        assert!(texts.parse::<u32>().unwrap() >= 10, "{name}: {texts} texts");
        assert_eq!(outside, "0", "{name}: texts outside the image");
        assert_eq!(overlaps, "0", "{name}: texts overlap");
        // The accessible name, as the browser resolves aria-labelledby:
        // the title, then the figures as a sentence.
        assert!(
            accessible.starts_with("Que deviennent les apprenants après cette formation ?"),
            "{name}: {accessible}"
        );
        assert!(
            accessible.contains(" % sont en emploi 6 mois"),
            "{name}: {accessible}"
        );
        assert!(
            accessible.contains(" % poursuivent leurs études"),
            "{name}: {accessible}"
        );
        seen += 1;
    }
    assert_eq!(seen, CASES.len(), "probe:\n{probe}");

    // Screenshots against the committed images.
    let committed = repo().join("tests/widgets");
    let update = std::env::var_os("IJ_UPDATE_WIDGETS").is_some();
    for (name, file, svg) in &svgs {
        let (w, h) = size(svg);
        let png = work.path().join(format!("{name}.png"));
        run_chromium(
            &chromium,
            work.path(),
            file,
            &[
                &format!("--window-size={w},{h}"),
                &format!("--screenshot={}", png.display()),
            ],
        );
        let (sw, sh, shot) = decode(&png);
        assert_eq!((sw, sh), (w, h), "{name}: screenshot size");
        let ink = shot
            .chunks(3)
            .filter(|p| p.iter().any(|c| *c < 200))
            .count();
        assert!(
            ink * 50 > shot.len() / 3,
            "{name}: the screenshot looks blank"
        );
        let reference = committed.join(format!("{name}.png"));
        if update {
            std::fs::create_dir_all(&committed).unwrap();
            std::fs::copy(&png, &reference).unwrap();
            continue;
        }
        assert!(
            reference.is_file(),
            "{}: missing (IJ_UPDATE_WIDGETS=1 writes it)",
            reference.display()
        );
        let (rw, rh, expected) = decode(&reference);
        assert_eq!(
            (rw, rh),
            (w, h),
            "{name}: size changed since the committed image"
        );
        let d = difference(&shot, &expected);
        assert!(
            d < 0.02,
            "{name}: {:.2} % of pixels differ from {}",
            d * 100.0,
            reference.display()
        );
    }
}
