//! The ladder (sequence) diagram of one connection: client on the left, server on the right,
//! one arrow per segment.

use std::io::{self, Write};

use tcplife_engine::{Annotation, ConnSummary, Phase, Role, Segment, TcpState};

use crate::num::{flags_str, millis3, secs6_string, Endpoint};

/// Characters between the two vertical bars.
const ARROW: usize = 50;

/// Writes one connection's segments as a ladder, as they come.
pub struct LadderWriter<W: Write> {
    out: W,
    started: bool,
    t0: i64,
    labels: SegmentLabels,
    phase_width: usize,
    state_width: usize,
}

impl<W: Write> LadderWriter<W> {
    pub fn new(out: W) -> Self {
        LadderWriter {
            out,
            started: false,
            t0: 0,
            labels: SegmentLabels::default(),
            // Room for the longest phase with a step, `teardown 2+3/4`; anything longer pushes.
            phase_width: Phase::Teardown.as_str().len() + " 2+3/4".len(),
            state_width: TcpState::ALL
                .iter()
                .map(|s| s.as_str().len())
                .max()
                .unwrap_or(0),
        }
    }

    /// Adds one segment of the connection (the caller filters by `conn_id`).
    pub fn packet(&mut self, seg: &Segment, ann: &Annotation) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.t0 = seg.ts_ns;
            let (client, server) = match ann.role {
                Role::Client => (
                    Endpoint(seg.src, seg.src_port),
                    Endpoint(seg.dst, seg.dst_port),
                ),
                Role::Server => (
                    Endpoint(seg.dst, seg.dst_port),
                    Endpoint(seg.src, seg.src_port),
                ),
            };
            self.header(ann.conn_id, client, server)?;
        }
        let label = self.labels.label(seg, ann.role);
        let arrow = arrow(&label, ann.role);
        let phase = if ann.step.is_none() {
            ann.phase.as_str().to_string()
        } else {
            format!("{} {}", ann.phase.as_str(), ann.step)
        };
        let line = format!(
            "{:>6}  {:>10}  {arrow}  {phase:<pw$}  {:<sw$}  {:<sw$}  {}\n",
            ann.frame,
            secs6_string(seg.ts_ns - self.t0),
            ann.client_state.as_str(),
            ann.server_state.as_str(),
            ann.event.as_str(),
            pw = self.phase_width,
            sw = self.state_width,
        );
        self.out.write_all(line.as_bytes())
    }

    /// Ends the diagram with how the connection ended, when its summary is known, and hands
    /// back the writer, flushed.
    pub fn finish(mut self, summary: Option<&ConnSummary>) -> io::Result<W> {
        if let Some(c) = summary {
            let [ended, finals] = ending_lines(c);
            writeln!(self.out, "\n{ended}")?;
            writeln!(self.out, "{finals}")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self, conn_id: u64, client: Endpoint, server: Endpoint) -> io::Result<()> {
        writeln!(
            self.out,
            "connection {conn_id}: client {client}  <->  server {server}\n"
        )?;
        writeln!(
            self.out,
            "{:>6}  {:>10}  {:<w$}  {:<pw$}  {:<sw$}  {:<sw$}  event",
            "frame",
            "time",
            format!("client{:>w2$}", "server", w2 = ARROW + 2 - "client".len()),
            "phase",
            "client",
            "server",
            w = ARROW + 2,
            pw = self.phase_width,
            sw = self.state_width,
        )
    }
}

/// The two lines that end a ladder: how the connection ended, and its final states and figures.
pub(crate) fn ending_lines(c: &ConnSummary) -> [String; 2] {
    [
        format!(
            "ended: {} (conn_state {}, history {}); first to close: {}",
            c.ending.as_str(),
            c.conn_state.as_str(),
            if c.history.is_empty() {
                "-"
            } else {
                &c.history
            },
            c.first_closer.map_or("nobody", |r| r.as_str()),
        ),
        format!(
            "final states: client {}, server {}; handshake RTT {}; duration {} s; packets {} from client, {} from server",
            c.client_state.as_str(),
            c.server_state.as_str(),
            c.handshake_rtt_ns
                .map_or_else(|| "unknown".to_string(), |ns| format!("{} ms", millis3(ns))),
            secs6_string(c.duration_ns as i64),
            c.orig_pkts,
            c.resp_pkts,
        ),
    ]
}

/// An arrow's text, `SYN,ACK seq=0 ack=1 len=0`, with sequence and acknowledgement numbers
/// relative to each side's base, as Wireshark shows them. Shared by the text and SVG ladders so
/// that both say the same.
#[derive(Default)]
pub(crate) struct SegmentLabels {
    /// Each side's sequence number base (client, server), Wireshark-style: the ISN when the SYN
    /// was seen, else one less than the first sequence number known, so data starts at 1.
    base: [Option<u32>; 2],
}

impl SegmentLabels {
    pub(crate) fn label(&mut self, seg: &Segment, role: Role) -> String {
        let (me, peer) = match role {
            Role::Client => (0, 1),
            Role::Server => (1, 0),
        };
        let f = seg.flags;
        let base = *self.base[me].get_or_insert(if f.syn() {
            seg.seq
        } else {
            seg.seq.wrapping_sub(1)
        });
        let mut label = format!("{} seq={}", flags_str(f), seg.seq.wrapping_sub(base));
        if f.ack() {
            // The peer's base from what this side acknowledges, when the peer was not seen yet:
            // an ACK of n acknowledges everything before n.
            let peer_base = *self.base[peer].get_or_insert(seg.ack.wrapping_sub(1));
            label.push_str(&format!(" ack={}", seg.ack.wrapping_sub(peer_base)));
        }
        label.push_str(&format!(" len={}", seg.payload_len));
        label
    }
}

/// `|-- SYN seq=0 len=0 ------>|` from the client, `|<------ SYN,ACK ... --|` from the server:
/// the label sits at the sender's end.
fn arrow(label: &str, from: Role) -> String {
    let dashes = ARROW.saturating_sub(label.len() + 5).max(1);
    let fill = "-".repeat(dashes);
    match from {
        Role::Client => format!("|-- {label} {fill}>|"),
        Role::Server => format!("|<{fill} {label} --|"),
    }
}
