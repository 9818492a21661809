//! tcplife's engine: TCP segments in, per-packet lifecycle annotations and per-connection
//! summaries out. Pure: no I/O, no `unsafe`, nothing about capture formats or Wireshark.
//!
//! ```
//! use tcplife_engine::{Config, Tracker};
//! let mut tracker = Tracker::new(Config::default());
//! # let segments: Vec<tcplife_engine::Segment> = vec![];
//! for seg in &segments {
//!     let annotation = tracker.process(seg);
//!     println!("{} {}", annotation.frame, annotation.phase.as_str());
//!     for finished in tracker.take_finished() {
//!         println!("{}", finished.conn_state.as_str());
//!     }
//! }
//! let rest = tracker.finish();
//! # assert!(rest.is_empty());
//! ```

#![forbid(unsafe_code)]

mod conn;
mod model;
mod rfc;
mod segment;
mod seq;
mod tracker;
mod zeek;

pub use model::*;
pub use segment::{Flags, Segment};
pub use tracker::{Config, Tracker};
