//! tcplife's capture layer: pcap/pcapng files (or stdin) in, [`Segment`]s for the engine out.
//!
//! ```no_run
//! let mut reader = tcplife_capture::open_path("capture.pcapng")?;
//! for seg in &mut reader {
//!     let seg = seg?;
//!     println!("frame {} {}:{} -> {}:{} {}", seg.frame, seg.src, seg.src_port, seg.dst, seg.dst_port, seg.flags);
//! }
//! eprintln!("{} frames, {}", reader.frames_read(), reader.skip_counts());
//! # Ok::<(), tcplife_capture::CaptureError>(())
//! ```
//!
//! [`slice_frame`] is the pure per-frame part, also used by the Wireshark plugin on the frame
//! bytes Wireshark hands it, so the CLI and the plugin see identical segments.

#![forbid(unsafe_code)]

mod reader;
mod skip;
mod slice;

pub use reader::{open_path, CaptureError, CaptureFormat, CaptureReader, Interface};
pub use skip::SkipCounts;
pub use slice::{slice_frame, LinkType, SkipReason};
pub use tcplife_engine::{Flags, Segment};

#[cfg(test)]
mod tests;
