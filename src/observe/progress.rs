//! Terminal progress bar over a run's steps, showing simulated day and ETA.
//!
//! Drawn only when stderr is a terminal and the user did not ask for quiet; otherwise every
//! call is a cheap no-op. Redraws at most every ~100 ms, so its cost does not scale with the
//! number of steps.
//!
//! Reads: step counter and simulated time. Writes: stderr (terminal only).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Minimum interval between redraws.
const REDRAW: Duration = Duration::from_millis(100);

/// A progress bar that is silent unless stderr is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
    last: Instant,
}

impl Progress {
    /// A bar over `total_steps` steps; hidden when `quiet` or stderr is not a terminal.
    pub fn new(total_steps: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let b = ProgressBar::with_draw_target(Some(total_steps), ProgressDrawTarget::stderr())
                .with_style(style);
            b.set_message("day 0");
            b
        });
        Self {
            bar,
            last: Instant::now(),
        }
    }

    /// True when the bar is drawn.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Reports that `step` steps are done at simulated day `time_d` (redraws if due).
    pub fn update(&mut self, step: u64, time_d: f64) {
        let Some(bar) = &self.bar else { return };
        let now = Instant::now();
        if now.duration_since(self.last) >= REDRAW {
            self.last = now;
            bar.set_position(step);
            bar.set_message(format!("day {time_d:.1}"));
        }
    }

    /// Removes the bar (the caller prints the outcome).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
