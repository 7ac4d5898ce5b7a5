//! `ij serve` under bad requests and concurrent clients (issue 11, part 5):
//! every answer is a clear 4xx with a JSON reason, never a 5xx, and the
//! server keeps answering good requests the same bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::api::release_dir;
use crate::common::http::{get, Server};
use crate::common::run_sample;

#[test]
fn bad_requests_get_4xx_with_a_reason() {
    let run = run_sample();
    let server = Server::start(&release_dir(run.path()));
    let b = "/api/inserjeunes";
    let long = "x".repeat(10_000);
    let many_codes = vec!["40025510"; 200].join(",");
    let cases: Vec<(String, u16)> = vec![
        ("/nope".into(), 404),
        ("/api/inserjeunes".into(), 404),
        (format!("{b}/certification/40025510"), 404),
        (format!("{b}/certifications/4002551"), 404), // a SISE code without data
        (format!("{b}/certifications/400255"), 400),
        (format!("{b}/certifications/4002551%3C"), 400),
        (format!("{b}/certifications/XYZ:40025510"), 400),
        (format!("{b}/certifications/CFD:2500200"), 400),
        (format!("{b}/certifications/{many_codes}"), 400),
        (format!("{b}/certifications/40025510.pdf"), 400),
        (format!("{b}/certifications/40025510?millesime=23"), 400),
        (
            format!("{b}/certifications/40025510?millesime=2021_2023"),
            400,
        ),
        (format!("{b}/certifications/40025510?theme=dark"), 400),
        (
            format!("{b}/certifications/40025510.svg?direction=diagonal"),
            400,
        ),
        (
            format!("{b}/certifications/40025510.svg?imageOnError=peut-etre"),
            400,
        ),
        (format!("{b}/certifications/40025510?vue=toutes"), 400),
        (format!("{b}/certifications/40025510?millesime=%ZZ"), 400),
        (format!("{b}/certifications?items_par_page=100000"), 400),
        (format!("{b}/certifications?items_par_page=0"), 400),
        (format!("{b}/certifications?page=-1"), 400),
        (format!("{b}/certifications?millesimes=demain"), 400),
        (format!("{b}/certifications?code_certifications=abc"), 400),
        (format!("{b}/regionales/99/certifications/40025510"), 400),
        (format!("{b}/regionales/00000/certifications/40025510"), 400),
        (format!("{b}/regionales/abc"), 400),
        (format!("{b}/regionales?regions=999"), 400),
        (format!("{b}/formations/0630003X-40025510"), 400),
        (format!("{b}/formations/0630003L"), 400),
        (format!("{b}/formations/0630003L-40025510,40025513"), 400),
        (format!("{b}/formations?uais=123"), 400),
        (format!("{b}/formations?academies=99"), 400),
        (format!("{b}/certifications/40025510?q={long}"), 414),
        (format!("{b}/certifications/{long}"), 414),
        (format!("{b}/certifications/..%2F..%2Fetc%2Fpasswd"), 400),
        (format!("{b}/../../etc/passwd"), 404),
        (
            "/api/inserjeunes/certifications/%2e%2e/%2e%2e/Cargo.toml".into(),
            404,
        ),
        (format!("{b}/formations/..%2F..%2FCargo.toml"), 400),
    ];
    for (target, status) in &cases {
        let a = server.get(target);
        assert_eq!(a.status, *status, "{target}: {}", a.text());
        let body = a.json();
        assert_eq!(body["statusCode"], *status, "{target}");
        let message = body["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && message.len() < 300,
            "{target}: {message}"
        );
    }
    // A widget without data answers as `imageOnError` says.
    let svg = server.get(&format!("{b}/certifications/4002551.svg?imageOnError=true"));
    assert_eq!(svg.status, 200);
    assert!(svg.text().starts_with("<svg"));
    assert!(svg.text().contains("Pas de données"));
    let empty = server.get(&format!(
        "{b}/certifications/4002551.svg?imageOnError=empty"
    ));
    assert_eq!(
        (empty.status, empty.header("content-type")),
        (200, Some("image/svg+xml; charset=utf-8"))
    );
    assert_eq!(
        server
            .get(&format!("{b}/certifications/4002551.svg"))
            .status,
        404
    );
    // Not GET.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
    // Garbage instead of HTTP: the connection is closed or answered 4xx.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"\x00\x01 not http at all\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let head = String::from_utf8_lossy(&raw);
    assert!(head.is_empty() || head.starts_with("HTTP/1.1 4"), "{head}");
    // Still serving.
    assert_eq!(server.get("/api").status, 200);
}

#[test]
fn concurrent_clients_get_the_same_answers() {
    let run = run_sample();
    let server = Server::start(&release_dir(run.path()));
    let targets = [
        "/api/inserjeunes/certifications/40025510",
        "/api/inserjeunes/certifications/40025510.svg?theme=lba",
        "/api/inserjeunes/regionales/84?items_par_page=50",
        "/api/inserjeunes/certifications?items_par_page=1000",
        "/api/inserjeunes/certifications/nope",
        "/api/inserjeunes/formations?items_par_page=100000",
    ];
    let expected: Vec<_> = targets.iter().map(|t| server.get(t)).collect();
    let addr = server.addr.clone();
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let addr = addr.clone();
            let expected = expected.clone();
            std::thread::spawn(move || {
                for n in 0..40 {
                    let k = (i + n) % targets.len();
                    let a = get(&addr, targets[k]);
                    assert!(a.status < 500, "{}: {}", targets[k], a.status);
                    assert_eq!(a.status, expected[k].status, "{}", targets[k]);
                    assert_eq!(a.body, expected[k].body, "{}", targets[k]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread");
    }
}
