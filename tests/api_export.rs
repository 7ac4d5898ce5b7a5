//! `ij api export` (issue 11, part 3): the static tree, served by a plain
//! static file server (`python3 -m http.server`), gives the same bytes as
//! `ij serve` for the same URLs.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::release_dir;
use crate::common::http::{get, Server};
use crate::common::{ij_ok, read_json, run_sample, s};

struct Static(Child);

impl Drop for Static {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_static_tree_holds_the_servers_bytes() {
    let run = run_sample();
    let release = release_dir(run.path());
    let out = run.path().join("api-static");
    ij_ok(&["api", "export", s(&release), "--out", s(&out), "--quiet"]);
    let index = read_json(&out.join("index.json"));
    let files: Vec<String> = index["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    let count = |prefix: &str, ext: &str| {
        files
            .iter()
            .filter(|f| f.starts_with(prefix) && f.ends_with(ext))
            .count()
    };
    assert!(count("api/inserjeunes/certifications/", ".json") >= 10);
    assert!(count("api/inserjeunes/certifications/", ".svg") >= 10);
    assert!(count("api/inserjeunes/regionales/", ".json") >= 10);
    assert!(count("api/inserjeunes/formations/", ".json") >= 1);

    // A second export of the same release: the same bytes.
    let again = run.path().join("api-static-2");
    ij_ok(&["api", "export", s(&release), "--out", s(&again), "--quiet"]);
    for f in &files {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }

    let server = Server::start(&release);
    let port = free_port();
    let python = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            s(&out),
        ])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(python) = python else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is required in CI"
        );
        eprintln!("api export static-server test skipped: no python3");
        return;
    };
    let _guard = Static(python);
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut compared = 0;
    for f in files.iter().filter(|f| f.starts_with("api/inserjeunes/")) {
        let url = format!("/{f}");
        let from_static = get(&addr, &url);
        let from_server = server.get(&url);
        assert_eq!(from_static.status, 200, "{url}");
        assert_eq!(from_server.status, 200, "{url}");
        assert_eq!(from_static.body, from_server.body, "{url}");
        compared += 1;
    }
    assert!(compared >= 30, "{compared} files compared");
}
