//! What the harness prints: a ladder diagram per connection, the per-packet table, and the TSV
//! that `tcplife packets --format tsv` and the plugin's `tcplife.*` fields share.

use std::fmt::Write as _;

use tcplife_engine::{Annotation, ConnSummary, Role};

use crate::analysis::Analysis;

/// The per-packet columns shared by the CLI's TSV and the plugin's fields (without `tcplife.`).
pub const TSV_COLUMNS: [&str; 11] = [
    "frame",
    "conn",
    "role",
    "event",
    "phase",
    "step",
    "client_state",
    "server_state",
    "conn_state",
    "history",
    "handshake_rtt",
];

/// Seconds with nanosecond digits: how tshark prints a relative-time field.
pub fn rtt_text(ns: Option<u64>) -> String {
    ns.map(|ns| format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000))
        .unwrap_or_default()
}

pub fn tsv_row(a: &Annotation) -> Vec<String> {
    vec![
        a.frame.to_string(),
        a.conn_id.to_string(),
        a.role.as_str().into(),
        a.event.as_str().into(),
        a.phase.as_str().into(),
        a.step.to_string(),
        a.client_state.as_str().into(),
        a.server_state.as_str().into(),
        a.conn_state.as_str().into(),
        a.history.to_string(),
        rtt_text(a.handshake_rtt_ns),
    ]
}

pub fn packets_tsv(analysis: &Analysis) -> String {
    let mut out = TSV_COLUMNS.join("\t");
    out.push('\n');
    for p in &analysis.packets {
        out.push_str(&tsv_row(&p.ann).join("\t"));
        out.push('\n');
    }
    out
}

/// The per-connection verdicts, one line each, for the samples' expected files.
pub const CONN_COLUMNS: [&str; 15] = [
    "conn",
    "orig_p",
    "resp_p",
    "conn_state",
    "history",
    "ending",
    "first_closer",
    "client_state",
    "server_state",
    "orig_bytes",
    "resp_bytes",
    "orig_pkts",
    "resp_pkts",
    "first_frame",
    "last_frame",
];

pub fn conns_tsv(analysis: &Analysis) -> String {
    let mut out = CONN_COLUMNS.join("\t");
    out.push('\n');
    for s in analysis.summaries.values() {
        out.push_str(&conn_row(s).join("\t"));
        out.push('\n');
    }
    out
}

pub fn conn_row(s: &ConnSummary) -> Vec<String> {
    vec![
        s.conn_id.to_string(),
        s.orig_p.to_string(),
        s.resp_p.to_string(),
        s.conn_state.as_str().into(),
        s.history.to_string(),
        s.ending.as_str().into(),
        s.first_closer.map_or("-", |r| r.as_str()).into(),
        s.client_state.as_str().into(),
        s.server_state.as_str().into(),
        s.orig_bytes.to_string(),
        s.resp_bytes.to_string(),
        s.orig_pkts.to_string(),
        s.resp_pkts.to_string(),
        s.first_frame.to_string(),
        s.last_frame.to_string(),
    ]
}

/// Columns padded to their widest cell, for people.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The per-packet phases and states, one line a packet.
pub fn packet_table(analysis: &Analysis, conn: Option<u64>) -> String {
    let mut rows = vec![TSV_COLUMNS[..10].iter().map(|s| s.to_string()).collect()];
    for p in &analysis.packets {
        if conn.is_some_and(|c| c != p.ann.conn_id) {
            continue;
        }
        let mut row = tsv_row(&p.ann);
        row.truncate(10);
        rows.push(row);
    }
    aligned(&rows)
}

const ARROW: usize = 40;

/// The ladder diagram of one connection: client on the left, server on the right, one arrow per
/// segment with its flags, relative seq/ack and length, the phase and both states beside it.
pub fn ladder(analysis: &Analysis, conn: u64) -> String {
    let pkts = analysis.conn_packets(conn);
    let Some(first) = pkts.first() else {
        return String::new();
    };
    let (client, server) = if first.ann.role == Role::Client {
        (
            (first.seg.src, first.seg.src_port),
            (first.seg.dst, first.seg.dst_port),
        )
    } else {
        (
            (first.seg.dst, first.seg.dst_port),
            (first.seg.src, first.seg.src_port),
        )
    };
    // Relative sequence numbers, as Wireshark shows them: from each side's first seq (its ISN
    // when the SYN was captured).
    let isn = |role: Role| -> Option<u32> {
        pkts.iter()
            .find(|p| p.ann.role == role && (p.seg.flags.syn() || !p.seg.flags.rst()))
            .map(|p| p.seg.seq)
    };
    let (c_isn, s_isn) = (isn(Role::Client), isn(Role::Server));
    let rel = |v: u32, base: Option<u32>| base.map_or(v, |b| v.wrapping_sub(b));
    let mut out = String::new();
    let left = format!("client {}:{}", client.0, client.1);
    let right = format!("server {}:{}", server.0, server.1);
    // The two endpoint columns and the arrow between them span 13 + 1 + ARROW + 1 + 13.
    let half = (28 + ARROW) / 2;
    let _ = writeln!(
        out,
        "{:>5}  {left:<half$}{right:>half$}  phase (event)",
        "frame"
    );
    for p in &pkts {
        let (own, peer) = match p.ann.role {
            Role::Client => (c_isn, s_isn),
            Role::Server => (s_isn, c_isn),
        };
        let mut label = format!("{} seq={}", p.seg.flags, rel(p.seg.seq, own));
        if p.seg.flags.ack() {
            let _ = write!(label, " ack={}", rel(p.seg.ack, peer));
        }
        if p.seg.payload_len > 0 {
            let _ = write!(label, " len={}", p.seg.payload_len);
        }
        let arrow = arrow(&label, p.ann.role == Role::Client);
        let step = p.ann.step.to_string();
        let _ = writeln!(
            out,
            "{:>5}  {:<13} {} {:<13} {}{}{} ({})",
            p.ann.frame,
            p.ann.client_state.as_str(),
            arrow,
            p.ann.server_state.as_str(),
            p.ann.phase.as_str(),
            if step.is_empty() { "" } else { " " },
            step,
            p.ann.event.as_str(),
        );
    }
    out
}

fn arrow(label: &str, rightwards: bool) -> String {
    let body = format!(" {label} ");
    let fill = ARROW.saturating_sub(body.chars().count() + 3);
    if rightwards {
        format!("--{body}{}>", "-".repeat(fill))
    } else {
        format!("<{}{body}--", "-".repeat(fill))
    }
}

/// The verdicts of every connection, for people.
pub fn conn_table(analysis: &Analysis) -> String {
    let mut rows: Vec<Vec<String>> = vec![CONN_COLUMNS.iter().map(|s| s.to_string()).collect()];
    rows.extend(analysis.summaries.values().map(conn_row));
    aligned(&rows)
}

pub fn first_conn(analysis: &Analysis) -> Option<u64> {
    analysis.summaries.keys().next().copied()
}
