//! tcplife's engine: TCP segments in, per-packet lifecycle annotations and per-connection
//! summaries out. Pure: no I/O, no `unsafe`, nothing about capture formats or Wireshark.
//!
//! Run a capture with [`run`] (or a [`Run`], fed one segment at a time) and a [`Sink`] that
//! receives each annotation and each connection summary; the run drains finished connections
//! itself.
//!
//! ```
//! use std::convert::Infallible;
//! use tcplife_engine::{run, Annotation, Config, ConnSummary, Segment, Sink};
//!
//! struct Print;
//! impl Sink for Print {
//!     type Stop = Infallible;
//!     fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), Infallible> {
//!         println!("{} {}", a.frame, a.phase.as_str());
//!         Ok(())
//!     }
//!     fn finished(&mut self, c: ConnSummary) -> Result<(), Infallible> {
//!         println!("{}", c.conn_state.as_str());
//!         Ok(())
//!     }
//! }
//! # let segments: Vec<Segment> = vec![];
//! let _ = run(Config::default(), &segments, Print);
//! ```

#![forbid(unsafe_code)]

mod conn;
mod model;
mod rfc;
mod run;
mod segment;
mod seq;
mod tracker;
mod zeek;

pub use model::*;
pub use run::{run, Collect, Run, Sink};
pub use segment::{Flags, Integrity, Segment};
pub use tracker::{Config, Tracker};
