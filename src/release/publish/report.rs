//! The report of `ij publish --apply`: what became of every file, the
//! exit status it sets, and its printing.

use std::io::Write;

use super::plan::Action;
use super::PublishMode;

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Dry run: what `--apply` would do.
    Planned(Action),
    Created {
        id: String,
    },
    Replaced {
        id: String,
    },
    Failed {
        reason: String,
    },
    NotAttempted {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub bytes: u64,
    pub outcome: Outcome,
    /// A remark on a published file (a schema link that could not be set).
    pub note: Option<String>,
}

/// Every file of the release and what became of it.
#[derive(Debug, Clone)]
pub struct PublishReport {
    pub dataset: String,
    pub mode: PublishMode,
    pub files: Vec<FileReport>,
    /// Why the publication stopped before the end (401/403).
    pub stopped: Option<String>,
}

impl PublishReport {
    /// Files that were not published (failed or not attempted).
    pub fn failures(&self) -> usize {
        self.files
            .iter()
            .filter(|f| {
                matches!(
                    f.outcome,
                    Outcome::Failed { .. } | Outcome::NotAttempted { .. }
                )
            })
            .count()
    }

    pub fn is_success(&self) -> bool {
        self.failures() == 0 && self.stopped.is_none()
    }

    /// An error when some file was not published, for the exit code.
    pub fn into_result(self) -> anyhow::Result<()> {
        if self.is_success() {
            return Ok(());
        }
        anyhow::bail!(
            "publication to dataset {} incomplete: {} of {} files not published{} (see the report above); \
             fix the cause and run again: files already published are replaced, not duplicated",
            self.dataset,
            self.failures(),
            self.files.len(),
            self.stopped
                .as_deref()
                .map(|s| format!(", stopped: {s}"))
                .unwrap_or_default()
        )
    }
}

pub(super) fn print_report(report: &PublishReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "ij publish: report for dataset {}", report.dataset)?;
    let (mut created, mut replaced) = (0, 0);
    for f in &report.files {
        let line = match &f.outcome {
            Outcome::Created { id } => {
                created += 1;
                format!(
                    "published  {} ({} bytes) → new resource {id}",
                    f.name, f.bytes
                )
            }
            Outcome::Replaced { id } => {
                replaced += 1;
                format!("replaced   {} ({} bytes) → resource {id}", f.name, f.bytes)
            }
            Outcome::Failed { reason } => format!("FAILED     {}: {reason}", f.name),
            Outcome::NotAttempted { reason } => format!("NOT SENT   {}: {reason}", f.name),
            Outcome::Planned(_) => format!("planned    {}", f.name),
        };
        match &f.note {
            Some(note) => writeln!(out, "  {line} ({note})")?,
            None => writeln!(out, "  {line}")?,
        }
    }
    writeln!(
        out,
        "ij publish: {created} published, {replaced} replaced, {} not published",
        report.failures()
    )
}
