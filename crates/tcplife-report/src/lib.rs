//! tcplife's output formats: per-connection summaries (aligned table, Zeek conn.log, JSON lines),
//! per-packet annotations (table, TSV, JSON lines), the ladder diagram of one connection (text,
//! SVG or HTML) and the
//! summary of a whole capture (counts by ending, RTT percentiles, unclosed connections).
//!
//! Pure formatting: everything writes to an [`std::io::Write`] and reads only engine values, so
//! the CLI, the tests and any other front end print byte-identical output. Hot paths (packet TSV
//! and JSON) write through `itoa` and static strings, with no allocation per packet.
//!
//! ```
//! use tcplife_report::{PacketFormat, PacketWriter};
//! let mut out = Vec::new();
//! let w = PacketWriter::new(&mut out, PacketFormat::Tsv);
//! w.finish().unwrap();
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "frame\tconn\trole\tevent\tphase\tstep\tclient_state\tserver_state\tconn_state\thistory\thandshake_rtt\n"
//! );
//! ```

#![forbid(unsafe_code)]

mod conns;
mod ladder;
mod num;
mod packets;
mod summary;
mod svg;
mod table;

pub use conns::{ConnFormat, ConnWriter, ZEEK_FIELDS};
pub use ladder::LadderWriter;
pub use num::{flags_str, zeek_datetime, Endpoint};
pub use packets::{PacketFormat, PacketWriter, TSV_COLUMNS};
pub use summary::{is_unclosed, nearest_rank, Summary, SummaryFormat, ENDINGS, PERCENTILES};
pub use svg::{LadderFormat, LadderOutput, LadderPicture, MAX_DRAWN};

#[cfg(test)]
mod tests;
