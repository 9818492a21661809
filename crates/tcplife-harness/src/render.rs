//! What the harness prints: a ladder diagram per connection, the per-packet table, and the TSV
//! that `tcplife packets --format tsv` and the plugin's `tcplife.*` fields share.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use tcplife_report::{ConnFormat, ConnWriter, LadderWriter, PacketFormat, PacketWriter};

use crate::analysis::Analysis;

pub use tcplife_report::TSV_COLUMNS;

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Exactly what `tcplife packets --format tsv` prints for the capture.
pub fn packets_tsv(analysis: &Analysis) -> String {
    packets(analysis, PacketFormat::Tsv, None)
}

fn packets(analysis: &Analysis, format: PacketFormat, conn: Option<u64>) -> String {
    let mut w = PacketWriter::new(Vec::new(), format);
    for p in &analysis.packets {
        if conn.is_none_or(|c| c == p.ann.conn_id) {
            // Writing to a Vec cannot fail.
            let _ = w.write(&p.seg, &p.ann);
        }
    }
    w.finish().map(utf8).unwrap_or_default()
}

/// The TSV lines of every packet, without the header: what tshark's fields must equal.
pub fn tsv_lines(analysis: &Analysis) -> Vec<String> {
    packets_tsv(analysis)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// `tcplife conns --format zeek` for the capture, with `#open`/`#close` at the epoch so the
/// file only changes when the verdicts do.
pub fn conns_zeek(analysis: &Analysis) -> String {
    let mut w = ConnWriter::new(Vec::new(), ConnFormat::Zeek, UNIX_EPOCH);
    for s in &analysis.in_order {
        let _ = w.write(s);
    }
    w.finish(UNIX_EPOCH).map(utf8).unwrap_or_default()
}

/// The verdicts of every connection, for people.
pub fn conn_table(analysis: &Analysis) -> String {
    let mut w = ConnWriter::new(Vec::new(), ConnFormat::Table, UNIX_EPOCH);
    for s in &analysis.in_order {
        let _ = w.write(s);
    }
    w.finish(UNIX_EPOCH).map(utf8).unwrap_or_default()
}

/// The per-packet phases and states, one line a packet.
pub fn packet_table(analysis: &Analysis, conn: Option<u64>) -> String {
    packets(analysis, PacketFormat::Table, conn)
}

/// The ladder diagram of one connection, as `tcplife ladder --conn ID` draws it.
pub fn ladder(analysis: &Analysis, conn: u64) -> String {
    let mut w = LadderWriter::new(Vec::new());
    for p in analysis.conn_packets(conn) {
        let _ = w.packet(&p.seg, &p.ann);
    }
    w.finish(analysis.summaries.get(&conn))
        .map(utf8)
        .unwrap_or_default()
}

pub fn first_conn(analysis: &Analysis) -> Option<u64> {
    analysis.summaries.keys().next().copied()
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
