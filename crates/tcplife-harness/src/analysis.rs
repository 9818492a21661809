//! Feeding a capture to the engine, keeping each segment beside what the engine said about it.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use tcplife_engine::{Annotation, Config, ConnSummary, Segment, Tracker};

pub struct Packet {
    pub seg: Segment,
    pub ann: Annotation,
}

pub struct Analysis {
    pub packets: Vec<Packet>,
    /// By connection id.
    pub summaries: BTreeMap<u64, ConnSummary>,
    /// In the engine's order (as each connection finished), as the CLI prints them.
    pub in_order: Vec<ConnSummary>,
    pub frames: u64,
    /// Frames that are not TCP (the capture probes), as the capture layer counted them.
    pub skipped: String,
}

impl Analysis {
    pub fn conn_packets(&self, conn: u64) -> Vec<&Packet> {
        self.packets
            .iter()
            .filter(|p| p.ann.conn_id == conn)
            .collect()
    }
}

pub fn analyse(path: &Path) -> Result<Analysis, String> {
    let mut reader = tcplife_capture::open_path(path).map_err(|e| e.to_string())?;
    let mut tracker = Tracker::new(Config::default());
    let mut packets = Vec::new();
    let mut in_order = Vec::new();
    for seg in &mut reader {
        let seg = seg.map_err(|e| format!("{}: {e}", path.display()))?;
        let frame = seg.frame;
        // An engine bug must show up as a failed check naming the frame, not as a harness crash
        // that leaves the reader guessing.
        let ann = catch_unwind(AssertUnwindSafe(|| tracker.process(&seg)))
            .map_err(|e| format!("the engine panicked on frame {frame}: {}", panic_text(&e)))?;
        in_order.extend(tracker.take_finished());
        packets.push(Packet { seg, ann });
    }
    let rest = catch_unwind(AssertUnwindSafe(|| tracker.finish()))
        .map_err(|e| format!("the engine panicked at the end: {}", panic_text(&e)))?;
    in_order.extend(rest);
    let summaries = in_order.iter().map(|s| (s.conn_id, s.clone())).collect();
    Ok(Analysis {
        packets,
        summaries,
        in_order,
        frames: reader.frames_read(),
        skipped: reader.skip_counts().to_string(),
    })
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
