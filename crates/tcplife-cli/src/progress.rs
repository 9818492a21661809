//! A one-line progress indicator on stderr, for runs long enough to wonder about.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// Nothing is drawn before this, so short runs never flash a progress line.
const QUIET_START: Duration = Duration::from_secs(1);
const REDRAW: Duration = Duration::from_millis(250);

pub struct Progress {
    enabled: bool,
    name: String,
    total: Option<u64>,
    start: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    pub fn new(name: &str, total_bytes: Option<u64>) -> Progress {
        Progress {
            // Only when the results go elsewhere: on a shared terminal the progress line would
            // land in the middle of output lines.
            enabled: io::stderr().is_terminal() && !io::stdout().is_terminal(),
            name: name.to_string(),
            total: total_bytes.filter(|&t| t > 0),
            start: Instant::now(),
            last_draw: None,
        }
    }

    pub fn update(&mut self, bytes: u64, segments: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.start) < QUIET_START
            || self
                .last_draw
                .is_some_and(|t| now.duration_since(t) < REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        let secs = now.duration_since(self.start).as_secs_f64();
        let rate = segments as f64 / secs.max(1e-9);
        let done = match self.total {
            Some(t) => format!("{:5.1}% ", (bytes as f64 * 100.0 / t as f64).min(100.0)),
            None => format!("{} MB ", bytes >> 20),
        };
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Ktcplife: {}: {done}{segments} segments, {:.0} k/s",
            self.name,
            rate / 1000.0
        );
        let _ = err.flush();
    }

    pub fn clear(&mut self) {
        if self.last_draw.take().is_some() {
            let _ = write!(io::stderr(), "\r\x1b[K");
        }
    }
}
