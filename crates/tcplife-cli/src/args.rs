//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tcplife_report::{ConnFormat, LadderFormat, PacketFormat, SummaryFormat};

const ABOUT: &str =
    "Where every TCP connection in a capture stands in its life: RFC 9293 endpoint \
states, handshake/data/teardown phases, and Zeek's conn_state and history, from pcap or pcapng \
files.";

const AFTER_HELP: &str = "\
Examples:
  tcplife conns capture.pcap                  one line per connection
  tcplife conns --format zeek *.pcap > conn.log
  tcplife packets capture.pcapng | less -S    one line per TCP segment
  tcplife ladder capture.pcap --conn 3        sequence diagram of connection 3
  tcplife summary *.pcap                      counts by ending, RTTs, unclosed connections
  tcpdump -i eth0 -w - | tcplife conns -      read standard input

Exit status: 0 success (also when frames were skipped or the capture's last record was cut
off; a warning on stderr says so), 2 bad usage or input (not a capture, unreadable, corrupt,
unsupported link type, no such connection). A closed output pipe ends tcplife quietly.";

#[derive(Parser, Debug)]
#[command(
    name = "tcplife",
    version,
    about = ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Forget a connection after this many seconds without a packet (capture time), reporting
    /// it as it stood
    #[arg(
        long = "idle-timeout",
        value_name = "SECS",
        default_value = "300",
        value_parser = parse_secs,
        global = true
    )]
    pub idle_timeout_ns: i64,

    /// A connection whose SYN got no answer for this many seconds is reported as an attempt
    /// (conn_state S0) and forgotten; later packets on its ports start a new connection. Zeek's
    /// tcp_attempt_delay; 0 turns it off
    #[arg(
        long = "attempt-timeout",
        value_name = "SECS",
        default_value = "5",
        value_parser = parse_secs_or_off,
        global = true
    )]
    pub attempt_timeout_ns: i64,

    /// Drop segments whose TCP checksum is wrong, as Zeek does unless run with -C (each only
    /// adds C/c to its connection's history; the count is reported on stderr). Off by default,
    /// like zeek -C: captures taken on a sending host have unfilled (offloaded) checksums
    #[arg(long = "verify-checksums", global = true)]
    pub verify_checksums: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One summary per connection, in the order connections end (as Zeek logs them)
    #[command(after_help = CONNS_HELP)]
    Conns(ConnsArgs),
    /// One line per TCP segment: its connection, role, event, phase, step and both states
    #[command(after_help = PACKETS_HELP)]
    Packets(PacketsArgs),
    /// Ladder (sequence) diagram of one connection: client left, server right
    #[command(after_help = LADDER_HELP)]
    Ladder(LadderArgs),
    /// The captures at a glance: counts by ending and conn_state, handshake RTT percentiles,
    /// the servers with most resets and refusals, the unclosed connections
    #[command(after_help = SUMMARY_HELP)]
    Summary(SummaryArgs),
}

const CONNS_HELP: &str = "\
Formats:
  table  aligned columns for people (default when standard output is a terminal)
  zeek   Zeek conn.log TSV with #fields/#types header, tcplife_* columns after Zeek's
         (default when standard output is a file or pipe)
  json   one JSON object per line, keys as in Zeek's JSON logs plus tcplife_*

Several files are read one after the other, each with its own connection numbering.

Examples:
  tcplife conns capture.pcap
  tcplife conns --format zeek capture.pcap | zeek-cut id.orig_h conn_state history
  tcplife conns --format json a.pcap b.pcapng | jq -r .tcplife_ending
  zcat big.pcap.gz | tcplife conns --idle-timeout 60 -";

const PACKETS_HELP: &str = "\
Formats:
  table  fixed-width columns for people (default when standard output is a terminal)
  tsv    tab-separated with a header line (default when standard output is a file or pipe);
         columns are the Wireshark plugin's tcplife.* fields, printed exactly as
         `tshark -T fields` prints them, with Wireshark's frame number first
  json   one JSON object per line, with the segment's addresses, flags, seq/ack and length

Examples:
  tcplife packets capture.pcap
  tcplife packets --format tsv capture.pcap > tcplife.tsv
  tcplife packets --format json capture.pcap | jq 'select(.phase == \"teardown\")'";

const LADDER_HELP: &str = "\
Each arrow is one segment with its flags, relative sequence and acknowledgement numbers
(Wireshark-style: the SYN is 0) and payload length; beside it the frame number, time since
the connection's first packet, phase and step, both endpoints' states after the segment, and
the event. Connections are numbered from 1 in order of their first packet, as in the `conn`
column of `tcplife packets`.

--format svg draws the same as a picture for a report: client lifeline left, server right,
one slanted arrow per segment labelled with flags, seq, ack and len, the phases as coloured
bands, both states after each segment beside the lifelines (bold where the segment changed
them), the frame number and time on the left, step and event on the right, and how the
connection ended below. --format html is a page with that picture and the packet table.
Pictures draw the first 1000 segments of a connection.

Examples:
  tcplife ladder capture.pcap
  tcplife ladder capture.pcap --conn 4
  tcplife ladder --format svg capture.pcap > conn1.svg
  tcplife ladder --format html capture.pcap --conn 2 > conn2.html";

const SUMMARY_HELP: &str = "\
Every number is computed from the connections `tcplife conns` lists for the same files:
counts by `tcplife_ending` and `conn_state`; handshake RTT (SYN to the ACK completing it)
min, nearest-rank percentiles p50/p90/p95/p99 (the value of rank ceil(p/100*n), always one
of the connections' RTTs) and max, over the connections whose handshake completed; servers
(responder address and port) by connections reset and by connections refused; and the
unclosed connections (ending half-closed, unanswered, handshake incomplete, never closed or
midstream). Several files are summarised together.

Formats:
  table  sections for people (default)
  json   one JSON object, keys as in `tcplife conns --format json`, RTTs in seconds

Examples:
  tcplife summary capture.pcap
  tcplife summary --top 3 a.pcap b.pcapng
  tcplife summary --format json capture.pcap | jq .by_ending";

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Output format
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: SummaryFormatArg,
    /// Longest list of servers and of unclosed connections (counts cover every connection)
    #[arg(long, value_name = "N", default_value = "10")]
    pub top: usize,
    /// Capture files (pcap or pcapng); `-` reads standard input
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LadderFormatArg {
    Text,
    Svg,
    Html,
}

impl From<LadderFormatArg> for LadderFormat {
    fn from(f: LadderFormatArg) -> LadderFormat {
        match f {
            LadderFormatArg::Text => LadderFormat::Text,
            LadderFormatArg::Svg => LadderFormat::Svg,
            LadderFormatArg::Html => LadderFormat::Html,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SummaryFormatArg {
    Table,
    Json,
}

impl From<SummaryFormatArg> for SummaryFormat {
    fn from(f: SummaryFormatArg) -> SummaryFormat {
        match f {
            SummaryFormatArg::Table => SummaryFormat::Table,
            SummaryFormatArg::Json => SummaryFormat::Json,
        }
    }
}

#[derive(Args, Debug)]
pub struct ConnsArgs {
    /// Output format [default: table on a terminal, zeek otherwise]
    #[arg(long, short, value_enum)]
    pub format: Option<ConnFormatArg>,
    /// Capture files (pcap or pcapng); `-` reads standard input
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PacketsArgs {
    /// Output format [default: table on a terminal, tsv otherwise]
    #[arg(long, short, value_enum)]
    pub format: Option<PacketFormatArg>,
    /// Capture file (pcap or pcapng); `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct LadderArgs {
    /// Output format: text for the terminal, or a picture (SVG, or an HTML page with the SVG and
    /// the packet table)
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: LadderFormatArg,
    /// Capture file (pcap or pcapng); `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Connection to draw, numbered from 1 in order of first packet [default: 1]
    #[arg(long, short, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
    pub conn: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConnFormatArg {
    Table,
    Zeek,
    Json,
}

impl From<ConnFormatArg> for ConnFormat {
    fn from(f: ConnFormatArg) -> ConnFormat {
        match f {
            ConnFormatArg::Table => ConnFormat::Table,
            ConnFormatArg::Zeek => ConnFormat::Zeek,
            ConnFormatArg::Json => ConnFormat::Json,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PacketFormatArg {
    Table,
    Tsv,
    Json,
}

impl From<PacketFormatArg> for PacketFormat {
    fn from(f: PacketFormatArg) -> PacketFormat {
        match f {
            PacketFormatArg::Table => PacketFormat::Table,
            PacketFormatArg::Tsv => PacketFormat::Tsv,
            PacketFormatArg::Json => PacketFormat::Json,
        }
    }
}

/// Seconds (fractions allowed) to nanoseconds.
fn parse_secs(s: &str) -> Result<i64, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    // Up to ~292 years of nanoseconds fit an i64; a century is plenty.
    if !(secs > 0.0 && secs <= 3.2e9) {
        return Err(format!("`{s}` must be more than 0 and at most 3200000000"));
    }
    Ok((secs * 1e9).round() as i64)
}

/// Like `parse_secs`, where 0 means "off".
fn parse_secs_or_off(s: &str) -> Result<i64, String> {
    match s.trim().parse::<f64>() {
        Ok(0.0) => Ok(0),
        _ => parse_secs(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn idle_timeout_parses_seconds() {
        assert_eq!(parse_secs("300"), Ok(300_000_000_000));
        assert_eq!(parse_secs("0.5"), Ok(500_000_000));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("nan").is_err());
        assert!(parse_secs("inf").is_err());
        assert!(parse_secs("ten").is_err());
        assert_eq!(parse_secs_or_off("0"), Ok(0));
        assert_eq!(parse_secs_or_off("5"), Ok(5_000_000_000));
        assert!(parse_secs_or_off("-1").is_err());
    }
}
