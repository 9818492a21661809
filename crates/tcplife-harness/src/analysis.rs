//! Feeding a capture to the engine, keeping each segment beside what the engine said about it.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use tcplife_engine::{Annotation, Config, ConnSummary, Run, Segment, Sink};

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

/// What the run hands out, kept in order.
#[derive(Default)]
struct Keep {
    packets: Vec<Packet>,
    in_order: Vec<ConnSummary>,
}

impl Sink for Keep {
    type Stop = std::convert::Infallible;
    fn packet(&mut self, seg: &Segment, ann: Annotation) -> Result<(), Self::Stop> {
        self.packets.push(Packet {
            seg: seg.clone(),
            ann,
        });
        Ok(())
    }
    fn finished(&mut self, summary: ConnSummary) -> Result<(), Self::Stop> {
        self.in_order.push(summary);
        Ok(())
    }
}

pub fn analyse(path: &Path) -> Result<Analysis, String> {
    let mut reader = tcplife_capture::open_path(path).map_err(|e| e.to_string())?;
    let mut run = Run::new(Config::default(), Keep::default());
    for seg in &mut reader {
        let seg = seg.map_err(|e| format!("{}: {e}", path.display()))?;
        let frame = seg.frame;
        // An engine bug must show up as a failed check naming the frame, not as a harness crash
        // that leaves the reader guessing.
        catch_unwind(AssertUnwindSafe(|| run.segment(&seg)))
            .map_err(|e| format!("the engine panicked on frame {frame}: {}", panic_text(&e)))?
            .unwrap_or_else(|never| match never {});
    }
    let Keep { packets, in_order } = catch_unwind(AssertUnwindSafe(|| run.finish()))
        .map_err(|e| format!("the engine panicked at the end: {}", panic_text(&e)))?
        .unwrap_or_else(|never| match never {});
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
