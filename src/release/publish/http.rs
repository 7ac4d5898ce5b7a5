//! The HTTP side of `ij publish`: the client (one call, then retries with
//! backoff), why a call failed, and the streamed multipart/form-data body
//! around a file. What to call, and when, is left to `apply.rs`.

use std::fmt;
use std::io::{Read, Write};
use std::time::Duration;

use super::folder::ReleaseFile;
use super::{ApiKey, PublishSettings, RetryPolicy, USER_AGENT};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API answered with an error status.
    Status { status: u16, message: String },
    /// No answer: connection refused or reset, timeout, DNS.
    Transport { message: String, retryable: bool },
    /// A local file could not be read.
    Local(String),
}

impl Failure {
    fn is_retryable(&self) -> bool {
        match self {
            Failure::Status { status, .. } => *status >= 500,
            Failure::Transport { retryable, .. } => *retryable,
            Failure::Local(_) => false,
        }
    }

    pub(super) fn is_auth(&self) -> bool {
        matches!(
            self,
            Failure::Status {
                status: 401 | 403,
                ..
            }
        )
    }

    /// The same failure, saying how many attempts were made.
    fn after(self, attempts: u32) -> Failure {
        let more = |message: String| format!("{message} (after {attempts} attempts)");
        match self {
            Failure::Status { status, message } => Failure::Status {
                status,
                message: more(message),
            },
            Failure::Transport { message, retryable } => Failure::Transport {
                message: more(message),
                retryable,
            },
            Failure::Local(message) => Failure::Local(more(message)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { message, .. } => f.write_str(message),
            Failure::Transport { message, .. } => write!(f, "no answer: {message}"),
            Failure::Local(message) => f.write_str(message),
        }
    }
}

/// A successful answer.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: String,
}

pub(super) enum Body<'a> {
    None,
    Json(String),
    File(&'a ReleaseFile),
}

pub(super) struct Client {
    agent: ureq::Agent,
    api_key: Option<ApiKey>,
    retry: RetryPolicy,
}

impl Client {
    pub(super) fn new(settings: &PublishSettings) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(settings.timeout.min(Duration::from_secs(30)))
            .timeout_read(settings.timeout)
            .timeout_write(settings.timeout)
            // A redirected POST would turn into a GET: report it instead.
            .redirects(0)
            .user_agent(USER_AGENT)
            .build();
        Client {
            agent,
            api_key: settings.api_key.clone(),
            retry: settings.retry.clone(),
        }
    }

    pub(super) fn send_once(
        &self,
        method: &str,
        url: &str,
        body: &Body<'_>,
    ) -> std::result::Result<Reply, Failure> {
        let mut request = self
            .agent
            .request(method, url)
            .set("Accept", "application/json");
        if let Some(key) = &self.api_key {
            request = request.set("X-API-KEY", key.expose());
        }
        let result = match body {
            Body::None => request.call(),
            Body::Json(json) => request
                .set("Content-Type", "application/json")
                .send_string(json),
            Body::File(file) => {
                let upload = Multipart::new(file);
                let content = std::fs::File::open(&file.path).map_err(|e| {
                    Failure::Local(format!("{}: cannot read ({e})", file.path.display()))
                })?;
                request
                    .set("Content-Type", &upload.content_type())
                    .set("Content-Length", &upload.len(file.bytes).to_string())
                    .send(upload.reader(content))
            }
        };
        match result {
            Ok(response) => {
                let status = response.status();
                let reason = response.status_text().to_string();
                let location = response.header("Location").map(str::to_string);
                let body = response.into_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    Ok(Reply { status, body })
                } else {
                    let mut message = status_message(status, &reason, &body);
                    if let Some(location) = location {
                        message.push_str(&format!(
                            " (redirected to {location}; check --base-url, it should end with /api/1)"
                        ));
                    }
                    Err(Failure::Status { status, message })
                }
            }
            Err(ureq::Error::Status(status, response)) => {
                let reason = response.status_text().to_string();
                let body = response.into_string().unwrap_or_default();
                Err(Failure::Status {
                    status,
                    message: status_message(status, &reason, &body),
                })
            }
            Err(ureq::Error::Transport(transport)) => Err(Failure::Transport {
                retryable: matches!(
                    transport.kind(),
                    ureq::ErrorKind::Dns | ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Io
                ),
                // Not its Display, which repeats the URL the caller names.
                message: [
                    Some(transport.kind().to_string()),
                    transport.message().map(str::to_string),
                    std::error::Error::source(&transport).map(|e| e.to_string()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
            }),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are
    /// spent; `attempt` gets the retry number (0 for the first try).
    pub(super) fn with_retries<T>(
        &self,
        out: &mut dyn Write,
        what: &str,
        mut attempt: impl FnMut(u32) -> std::result::Result<T, Failure>,
    ) -> std::result::Result<T, Failure> {
        let mut n = 0;
        loop {
            match attempt(n) {
                Err(failure) if failure.is_retryable() && n < self.retry.retries => {
                    n += 1;
                    let wait = self.retry.wait(n);
                    let _ = writeln!(
                        out,
                        "  {what}: {failure}; retry {n} of {} in {:.1} s",
                        self.retry.retries,
                        wait.as_secs_f64()
                    );
                    std::thread::sleep(wait);
                }
                Err(failure) if n > 0 => return Err(failure.after(n + 1)),
                other => return other,
            }
        }
    }
}

/// `413 Payload Too Large: <the API's message>`.
fn status_message(status: u16, reason: &str, body: &str) -> String {
    let detail = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get("message") {
            Some(serde_json::Value::String(m)) => Some(m.clone()),
            _ => v.get("errors").map(|e| e.to_string()),
        })
        .or_else(|| {
            // A short plain-text answer is worth showing; an HTML page is not.
            let text = body.trim();
            (!text.is_empty() && !text.starts_with('<') && text.len() <= 300)
                .then(|| text.to_string())
        });
    let reason = if reason.is_empty() { "error" } else { reason };
    match detail {
        Some(d) => format!("{status} {reason}: {d}"),
        None => format!("{status} {reason}"),
    }
}

/// The multipart/form-data framing around a file (RFC 7578), streamed so a
/// large file is never held in memory.
struct Multipart {
    boundary: String,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Multipart {
    fn new(file: &ReleaseFile) -> Multipart {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let boundary = format!("ij-{nanos:x}-{:x}", std::process::id());
        // Quotes and line breaks would end the header: percent-encode them,
        // as browsers do (HTML, multipart/form-data encoding algorithm).
        let filename = file
            .name
            .replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {}\r\n\r\n",
            file.kind.content_type()
        )
        .into_bytes();
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
        Multipart {
            boundary,
            head,
            tail,
        }
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn len(&self, file_bytes: u64) -> u64 {
        self.head.len() as u64 + file_bytes + self.tail.len() as u64
    }

    fn reader(self, content: std::fs::File) -> impl Read {
        std::io::Cursor::new(self.head)
            .chain(content)
            .chain(std::io::Cursor::new(self.tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_summed_up() {
        assert_eq!(
            status_message(400, "Bad Request", r#"{"message": "Validation error"}"#),
            "400 Bad Request: Validation error"
        );
        assert_eq!(
            status_message(413, "Request Entity Too Large", "<html>…</html>"),
            "413 Request Entity Too Large"
        );
    }
}
