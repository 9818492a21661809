//! Connection table: finds each segment's connection, and retires connections as they finish.

use crate::model::{Annotation, ConnSummary};
use crate::segment::Segment;

/// Tracker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// A connection with no packet for this long (capture time) is summarised and forgotten.
    pub idle_timeout_ns: i64,
    /// How long a closed or reset connection is kept to absorb late packets (Zeek's
    /// `tcp_close_delay`).
    pub close_linger_ns: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout_ns: 300 * 1_000_000_000,
            close_linger_ns: 5 * 1_000_000_000,
        }
    }
}

/// The connection table.
pub struct Tracker {
    config: Config,
    finished: Vec<ConnSummary>,
}

impl Tracker {
    pub fn new(config: Config) -> Self {
        Tracker {
            config,
            finished: Vec::new(),
        }
    }

    /// Annotates one segment and advances its connection's state.
    pub fn process(&mut self, seg: &Segment) -> Annotation {
        let _ = (seg, self.config);
        todo!("engine in progress")
    }

    /// Connections that finished (closed and lingered, idle, or replaced by a reuse of their
    /// ports) since the last call.
    pub fn take_finished(&mut self) -> std::vec::Drain<'_, ConnSummary> {
        self.finished.drain(..)
    }

    /// End of capture: summaries of every connection still tracked, in first-packet order.
    pub fn finish(&mut self) -> Vec<ConnSummary> {
        self.finished.drain(..).collect()
    }

    /// How many connections are tracked right now.
    pub fn open_connections(&self) -> usize {
        0
    }
}
