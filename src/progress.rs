//! A spinner for stages that take more than a second, on stderr.
//!
//! Short stages print nothing until they are done, so a fast pipeline's output
//! stays a clean list of summaries. `--quiet` (for CI) turns it off, and so
//! does a stderr that is not a terminal (indicatif hides itself then).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct StageProgress {
    bar: Option<ProgressBar>,
    done: Arc<AtomicBool>,
}

impl StageProgress {
    pub fn start(message: String, quiet: bool) -> StageProgress {
        if quiet {
            return StageProgress {
                bar: None,
                done: Arc::new(AtomicBool::new(true)),
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
        );
        bar.set_message(message);
        let done = Arc::new(AtomicBool::new(false));
        let (b, d) = (bar.clone(), done.clone());
        thread::spawn(move || {
            thread::sleep(SHOW_AFTER);
            if !d.load(Ordering::SeqCst) {
                b.set_draw_target(ProgressDrawTarget::stderr());
                b.enable_steady_tick(Duration::from_millis(120));
            }
        });
        StageProgress {
            bar: Some(bar),
            done,
        }
    }

    pub fn finish(self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
