//! The lifecycle at a glance: how the connections of one or more captures ended, counted, with
//! handshake RTT percentiles, the servers that reset or refuse most, and the connections that
//! were never closed.
//!
//! Everything here is computed from the same [`ConnSummary`] values `tcplife conns` prints, so
//! every number can be checked against that output: a count is a number of conns rows, an RTT
//! percentile is one of the rows' `rtt` values (nearest-rank, no interpolation).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;

use tcplife_engine::{ConnState, ConnSummary, Ending};

use crate::num::{self, json_str, millis3, secs6, Endpoint};
use crate::table::{Align, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    /// Aligned sections for people.
    Table,
    /// One JSON object.
    Json,
}

/// Every ending, in the order the summary lists ties.
pub const ENDINGS: [Ending; 9] = [
    Ending::ClosedNormally,
    Ending::Refused,
    Ending::ResetByClient,
    Ending::ResetByServer,
    Ending::HalfClosed,
    Ending::Unanswered,
    Ending::HandshakeIncomplete,
    Ending::NeverClosed,
    Ending::Midstream,
];

/// The position of `e` in [`ENDINGS`]. Exhaustive, so a new ending cannot be forgotten here.
fn ending_index(e: Ending) -> usize {
    match e {
        Ending::ClosedNormally => 0,
        Ending::Refused => 1,
        Ending::ResetByClient => 2,
        Ending::ResetByServer => 3,
        Ending::HalfClosed => 4,
        Ending::Unanswered => 5,
        Ending::HandshakeIncomplete => 6,
        Ending::NeverClosed => 7,
        Ending::Midstream => 8,
    }
}

fn conn_state_index(s: ConnState) -> usize {
    ConnState::ALL
        .iter()
        .position(|x| *x == s)
        .expect("ConnState::ALL lists every state")
}

/// True for the endings of a connection that was closed neither by FINs nor by a RST: the
/// connection (or the attempt) was still open when the capture ended or it went idle.
pub const fn is_unclosed(e: Ending) -> bool {
    match e {
        Ending::ClosedNormally
        | Ending::Refused
        | Ending::ResetByClient
        | Ending::ResetByServer => false,
        Ending::HalfClosed
        | Ending::Unanswered
        | Ending::HandshakeIncomplete
        | Ending::NeverClosed
        | Ending::Midstream => true,
    }
}

/// The percentiles the summary reports, in percent.
pub const PERCENTILES: [u32; 4] = [50, 90, 95, 99];

/// The nearest-rank percentile of ascending `sorted` values: the smallest value with at least
/// `p` percent of the values at or below it, i.e. the value of rank `ceil(p/100 * n)` (1-based).
/// Always one of the values, never an interpolation. `None` for no values.
pub fn nearest_rank(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p.min(100)) * n).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

#[derive(Clone, Copy, Default)]
struct ServerCounts {
    conns: u64,
    reset_by_client: u64,
    reset_by_server: u64,
    refused: u64,
}

impl ServerCounts {
    fn resets(&self) -> u64 {
        self.reset_by_client + self.reset_by_server
    }
}

/// One connection of the unclosed list, kept as the conns output shows it.
struct Unclosed {
    file: Option<usize>,
    conn_id: u64,
    uid: String,
    client: Endpoint,
    server: Endpoint,
    conn_state: ConnState,
    history: String,
    ending: Ending,
    client_state: &'static str,
    server_state: &'static str,
    end_reason: &'static str,
    first_frame: u64,
    last_frame: u64,
}

/// Counts connections as they are added; written once at the end.
pub struct Summary {
    top: usize,
    files: Vec<String>,
    connections: u64,
    by_ending: [u64; ENDINGS.len()],
    by_conn_state: [u64; ConnState::ALL.len()],
    rtts: Vec<u64>,
    servers: BTreeMap<(IpAddr, u16), ServerCounts>,
    unclosed_total: u64,
    /// The first `top` unclosed connections, in the order they were added.
    unclosed: Vec<Unclosed>,
}

impl Summary {
    /// `top` bounds the lists (servers by resets, by refusals, unclosed connections); the
    /// counts always cover every connection.
    pub fn new(top: usize) -> Summary {
        Summary {
            top,
            files: Vec::new(),
            connections: 0,
            by_ending: [0; ENDINGS.len()],
            by_conn_state: [0; ConnState::ALL.len()],
            rtts: Vec::new(),
            servers: BTreeMap::new(),
            unclosed_total: 0,
            unclosed: Vec::new(),
        }
    }

    /// Connections added from now on come from the capture `name` (named in the unclosed list
    /// when there are several files, since each file numbers its connections from 1).
    pub fn begin_file(&mut self, name: &str) {
        self.files.push(name.to_string());
    }

    /// The capture begun last could not be read at all: it is not counted as a file.
    pub fn forget_file(&mut self) {
        self.files.pop();
    }

    pub fn add(&mut self, c: &ConnSummary) {
        self.connections += 1;
        self.by_ending[ending_index(c.ending)] += 1;
        self.by_conn_state[conn_state_index(c.conn_state)] += 1;
        if let Some(rtt) = c.handshake_rtt_ns {
            self.rtts.push(rtt);
        }
        let s = self.servers.entry((c.resp_h, c.resp_p)).or_default();
        s.conns += 1;
        match c.ending {
            Ending::ResetByClient => s.reset_by_client += 1,
            Ending::ResetByServer => s.reset_by_server += 1,
            Ending::Refused => s.refused += 1,
            _ => {}
        }
        if is_unclosed(c.ending) {
            self.unclosed_total += 1;
            if self.unclosed.len() < self.top {
                self.unclosed.push(Unclosed {
                    file: self.files.len().checked_sub(1),
                    conn_id: c.conn_id,
                    uid: c.uid.clone(),
                    client: Endpoint(c.orig_h, c.orig_p),
                    server: Endpoint(c.resp_h, c.resp_p),
                    conn_state: c.conn_state,
                    history: c.history.to_string(),
                    ending: c.ending,
                    client_state: c.client_state.as_str(),
                    server_state: c.server_state.as_str(),
                    end_reason: c.end_reason.as_str(),
                    first_frame: c.first_frame,
                    last_frame: c.last_frame,
                });
            }
        }
    }

    pub fn connections(&self) -> u64 {
        self.connections
    }

    pub fn count_ending(&self, e: Ending) -> u64 {
        self.by_ending[ending_index(e)]
    }

    pub fn count_conn_state(&self, s: ConnState) -> u64 {
        self.by_conn_state[conn_state_index(s)]
    }

    /// Handshake RTTs in ns, ascending (only connections whose handshake completed).
    fn sorted_rtts(&self) -> Vec<u64> {
        let mut v = self.rtts.clone();
        v.sort_unstable();
        v
    }

    /// Servers with at least one connection for which `key` is non-zero, most first, ties by
    /// address and port; at most `top`.
    fn top_servers(&self, key: impl Fn(&ServerCounts) -> u64) -> Vec<(Endpoint, ServerCounts)> {
        let mut v: Vec<_> = self
            .servers
            .iter()
            .filter(|(_, c)| key(c) > 0)
            .map(|(&(h, p), c)| (Endpoint(h, p), *c))
            .collect();
        // Stable sort: ties keep the map's address/port order.
        v.sort_by_key(|(_, c)| std::cmp::Reverse(key(c)));
        v.truncate(self.top);
        v
    }

    pub fn write(&self, out: &mut impl Write, format: SummaryFormat) -> io::Result<()> {
        match format {
            SummaryFormat::Table => self.write_table(out),
            SummaryFormat::Json => self.write_json(out),
        }?;
        out.flush()
    }

    fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        let n = self.connections;
        writeln!(
            out,
            "{n} TCP connection{} in {} file{}",
            plural(n),
            self.files.len(),
            plural(self.files.len() as u64)
        )?;

        writeln!(out, "\nby ending")?;
        let mut t = Table::new(&[
            ("ending", Align::Left),
            ("conns", Align::Right),
            ("%", Align::Right),
        ]);
        for (e, k) in by_count(&ENDINGS, &self.by_ending) {
            t.row(out, vec![e.as_str().into(), k.to_string(), percent(k, n)])?;
        }
        t.flush(out)?;

        writeln!(out, "\nby conn_state (Zeek)")?;
        let mut t = Table::new(&[
            ("conn_state", Align::Left),
            ("conns", Align::Right),
            ("%", Align::Right),
        ]);
        for (s, k) in by_count(&ConnState::ALL, &self.by_conn_state) {
            t.row(out, vec![s.as_str().into(), k.to_string(), percent(k, n)])?;
        }
        t.flush(out)?;

        let rtts = self.sorted_rtts();
        writeln!(
            out,
            "\nhandshake RTT in ms, SYN to the ACK completing it (nearest-rank percentiles over the {} connection{} with a completed handshake)",
            rtts.len(),
            plural(rtts.len() as u64)
        )?;
        if rtts.is_empty() {
            writeln!(out, "  none")?;
        } else {
            let mut t = Table::new(&[
                ("min", Align::Right),
                ("p50", Align::Right),
                ("p90", Align::Right),
                ("p95", Align::Right),
                ("p99", Align::Right),
                ("max", Align::Right),
            ]);
            let mut cells = vec![millis3(rtts[0])];
            for p in PERCENTILES {
                cells.push(nearest_rank(&rtts, p).map_or_else(String::new, millis3));
            }
            cells.push(millis3(rtts[rtts.len() - 1]));
            t.row(out, cells)?;
            t.flush(out)?;
        }

        let resets = self.top_servers(ServerCounts::resets);
        writeln!(
            out,
            "\nservers with the most resets (ending reset by client or by server)"
        )?;
        if resets.is_empty() {
            writeln!(out, "  none")?;
        } else {
            let mut t = Table::new(&[
                ("server", Align::Left),
                ("resets", Align::Right),
                ("by client", Align::Right),
                ("by server", Align::Right),
                ("conns", Align::Right),
            ]);
            for (ep, c) in resets {
                t.row(
                    out,
                    vec![
                        ep.to_string(),
                        c.resets().to_string(),
                        c.reset_by_client.to_string(),
                        c.reset_by_server.to_string(),
                        c.conns.to_string(),
                    ],
                )?;
            }
            t.flush(out)?;
        }

        let refused = self.top_servers(|c| c.refused);
        writeln!(
            out,
            "\nservers with the most refusals (ending refused: the SYN answered by a RST)"
        )?;
        if refused.is_empty() {
            writeln!(out, "  none")?;
        } else {
            let mut t = Table::new(&[
                ("server", Align::Left),
                ("refused", Align::Right),
                ("conns", Align::Right),
            ]);
            for (ep, c) in refused {
                t.row(
                    out,
                    vec![ep.to_string(), c.refused.to_string(), c.conns.to_string()],
                )?;
            }
            t.flush(out)?;
        }

        writeln!(
            out,
            "\nunclosed connections (closed neither by FINs nor by a RST): {}",
            self.unclosed_total
        )?;
        if self.unclosed_total > 0 {
            self.unclosed_table(out)?;
        }
        let shown = self.unclosed.len() as u64;
        if self.unclosed_total > shown {
            writeln!(
                out,
                "  ... {} more (--top N shows more; tcplife conns lists all)",
                self.unclosed_total - shown
            )?;
        }
        Ok(())
    }

    fn unclosed_table(&self, out: &mut impl Write) -> io::Result<()> {
        const WITH_FILE: &[(&str, Align)] = &[
            ("file", Align::Left),
            ("conn", Align::Right),
            ("client", Align::Left),
            ("", Align::Left),
            ("server", Align::Left),
            ("conn_state", Align::Left),
            ("history", Align::Left),
            ("ending", Align::Left),
            ("client end", Align::Left),
            ("server end", Align::Left),
            ("left the tracker", Align::Left),
        ];
        let several = self.files.len() > 1;
        let mut t = Table::new(if several { WITH_FILE } else { &WITH_FILE[1..] });
        for u in &self.unclosed {
            let mut cells = Vec::with_capacity(WITH_FILE.len());
            if several {
                cells.push(self.file_name(u.file).to_string());
            }
            cells.extend([
                u.conn_id.to_string(),
                u.client.to_string(),
                "->".to_string(),
                u.server.to_string(),
                u.conn_state.as_str().to_string(),
                if u.history.is_empty() {
                    "-".to_string()
                } else {
                    u.history.clone()
                },
                u.ending.as_str().to_string(),
                u.client_state.to_string(),
                u.server_state.to_string(),
                u.end_reason.to_string(),
            ]);
            t.row(out, cells)?;
        }
        t.flush(out)
    }

    fn file_name(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.files.get(i))
            .map_or("-", String::as_str)
    }

    fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{\"files\":[")?;
        for (i, f) in self.files.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_str(out, f)?;
        }
        out.write_all(b"],\"connections\":")?;
        num::u64(out, self.connections)?;

        out.write_all(b",\"by_ending\":{")?;
        for (i, e) in ENDINGS.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_str(out, e.as_str())?;
            out.write_all(b":")?;
            num::u64(out, self.by_ending[i])?;
        }
        out.write_all(b"},\"by_conn_state\":{")?;
        for (i, s) in ConnState::ALL.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_str(out, s.as_str())?;
            out.write_all(b":")?;
            num::u64(out, self.by_conn_state[i])?;
        }

        // Seconds with 6 decimals, as `tcplife conns --format json` writes tcplife_handshake_rtt.
        let rtts = self.sorted_rtts();
        out.write_all(b"},\"handshake_rtt\":{\"percentile\":\"nearest-rank\",\"connections\":")?;
        num::u64(out, rtts.len() as u64)?;
        let mut stats: Vec<(String, Option<u64>)> = vec![("min".into(), rtts.first().copied())];
        for p in PERCENTILES {
            stats.push((format!("p{p}"), nearest_rank(&rtts, p)));
        }
        stats.push(("max".into(), rtts.last().copied()));
        for (name, v) in stats {
            out.write_all(b",")?;
            json_str(out, &name)?;
            out.write_all(b":")?;
            match v {
                Some(ns) => secs6(out, ns as i64)?,
                None => out.write_all(b"null")?,
            }
        }

        out.write_all(b"},\"top_reset_servers\":[")?;
        for (i, (ep, c)) in self.top_servers(ServerCounts::resets).iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_server(out, ep)?;
            for (k, v) in [
                ("resets", c.resets()),
                ("by_client", c.reset_by_client),
                ("by_server", c.reset_by_server),
                ("connections", c.conns),
            ] {
                write!(out, ",\"{k}\":{v}")?;
            }
            out.write_all(b"}")?;
        }
        out.write_all(b"],\"top_refusing_servers\":[")?;
        for (i, (ep, c)) in self.top_servers(|c| c.refused).iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_server(out, ep)?;
            write!(
                out,
                ",\"refused\":{},\"connections\":{}}}",
                c.refused, c.conns
            )?;
        }

        out.write_all(b"],\"unclosed_total\":")?;
        num::u64(out, self.unclosed_total)?;
        out.write_all(b",\"unclosed\":[")?;
        for (i, u) in self.unclosed.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"{\"file\":")?;
            json_str(out, self.file_name(u.file))?;
            write!(out, ",\"tcplife_conn_id\":{},\"uid\":", u.conn_id)?;
            json_str(out, &u.uid)?;
            out.write_all(b",\"id.orig_h\":\"")?;
            num::ip(out, u.client.0)?;
            write!(out, "\",\"id.orig_p\":{},\"id.resp_h\":\"", u.client.1)?;
            num::ip(out, u.server.0)?;
            write!(out, "\",\"id.resp_p\":{}", u.server.1)?;
            out.write_all(b",\"conn_state\":")?;
            json_str(out, u.conn_state.as_str())?;
            out.write_all(b",\"history\":")?;
            json_str(out, &u.history)?;
            for (k, v) in [
                ("tcplife_ending", u.ending.as_str()),
                ("tcplife_client_state", u.client_state),
                ("tcplife_server_state", u.server_state),
                ("tcplife_end_reason", u.end_reason),
            ] {
                write!(out, ",\"{k}\":")?;
                json_str(out, v)?;
            }
            write!(
                out,
                ",\"tcplife_first_frame\":{},\"tcplife_last_frame\":{}}}",
                u.first_frame, u.last_frame
            )?;
        }
        out.write_all(b"]}\n")
    }
}

fn json_server(out: &mut impl Write, ep: &Endpoint) -> io::Result<()> {
    out.write_all(b"{\"id.resp_h\":\"")?;
    num::ip(out, ep.0)?;
    write!(out, "\",\"id.resp_p\":{}", ep.1)
}

/// The non-zero counts, most first, ties in `names` order.
fn by_count<T: Copy>(names: &[T], counts: &[u64]) -> Vec<(T, u64)> {
    let mut v: Vec<(T, u64)> = names
        .iter()
        .zip(counts)
        .filter(|(_, &k)| k > 0)
        .map(|(&t, &k)| (t, k))
        .collect();
    v.sort_by_key(|&(_, k)| std::cmp::Reverse(k));
    v
}

/// `k` of `n` in percent with one decimal, rounded half up, in integers so that it never
/// prints `33.299999`.
fn percent(k: u64, n: u64) -> String {
    if n == 0 {
        return "-".into();
    }
    let tenths = (u128::from(k) * 1000 + u128::from(n) / 2) / u128::from(n);
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcplife_engine::{EndReason, Role, TcpState};

    fn conn(id: u64, server: &str, port: u16, ending: Ending, rtt_us: Option<u64>) -> ConnSummary {
        let conn_state = match ending {
            Ending::ClosedNormally => ConnState::SF,
            Ending::Refused => ConnState::REJ,
            Ending::ResetByClient => ConnState::RSTO,
            Ending::ResetByServer => ConnState::RSTR,
            Ending::Unanswered => ConnState::S0,
            _ => ConnState::S1,
        };
        ConnSummary {
            conn_id: id,
            uid: format!("C{id}"),
            ts_ns: 0,
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: 40000 + id as u16,
            resp_h: server.parse().unwrap(),
            resp_p: port,
            duration_ns: 1,
            orig_bytes: 0,
            resp_bytes: 0,
            conn_state,
            missed_bytes: 0,
            history: "ShAD".into(),
            orig_pkts: 1,
            orig_ip_bytes: 40,
            resp_pkts: 1,
            resp_ip_bytes: 40,
            ending,
            first_closer: Some(Role::Client),
            client_state: TcpState::Established,
            server_state: TcpState::Established,
            handshake_rtt_ns: rtt_us.map(|us| us * 1000),
            first_frame: 1,
            last_frame: 2,
            end_reason: EndReason::EndOfCapture,
        }
    }

    #[test]
    fn nearest_rank_is_the_value_of_rank_ceil_pn() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&v, 95), Some(10));
        assert_eq!(nearest_rank(&v, 99), Some(10));
        assert_eq!(nearest_rank(&v, 0), Some(1));
        assert_eq!(nearest_rank(&v, 100), Some(10));
        assert_eq!(nearest_rank(&[7, 8, 9, 10, 11], 50), Some(9));
        assert_eq!(nearest_rank(&[42], 99), Some(42));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn percent_rounds_half_up_in_tenths() {
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(2, 3), "66.7");
        assert_eq!(percent(1, 8), "12.5");
        assert_eq!(percent(3, 3), "100.0");
        assert_eq!(percent(0, 0), "-");
    }

    #[test]
    fn counts_lists_and_limits() {
        let mut s = Summary::new(1);
        s.begin_file("a.pcap");
        s.add(&conn(1, "10.0.0.9", 80, Ending::ResetByServer, Some(3000)));
        s.add(&conn(2, "10.0.0.9", 80, Ending::ResetByClient, Some(1000)));
        s.add(&conn(3, "10.0.0.8", 22, Ending::Refused, None));
        s.begin_file("b.pcap");
        s.add(&conn(1, "10.0.0.8", 22, Ending::ResetByServer, Some(2000)));
        s.add(&conn(2, "10.0.0.7", 25, Ending::NeverClosed, Some(4000)));
        s.add(&conn(3, "10.0.0.7", 25, Ending::Unanswered, None));
        s.begin_file("unreadable");
        s.forget_file();
        assert_eq!(s.connections(), 6);
        assert_eq!(s.count_ending(Ending::ResetByServer), 2);
        assert_eq!(s.count_conn_state(ConnState::RSTR), 2);

        let mut out = Vec::new();
        s.write(&mut out, SummaryFormat::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        // Rows by count, ties in enum order; RTTs 1, 2, 3, 4 ms: p50 is rank 2, p90 rank 4;
        // --top 1 keeps one server per list and one unclosed connection of two.
        let expected = "\
6 TCP connections in 2 files

by ending
ending           conns     %
reset by server      2  33.3
refused              1  16.7
reset by client      1  16.7
unanswered           1  16.7
never closed         1  16.7

by conn_state (Zeek)
conn_state  conns     %
RSTR            2  33.3
S0              1  16.7
S1              1  16.7
REJ             1  16.7
RSTO            1  16.7

handshake RTT in ms, SYN to the ACK completing it (nearest-rank percentiles over the 4 connections with a completed handshake)
  min    p50    p90    p95    p99    max
1.000  2.000  4.000  4.000  4.000  4.000

servers with the most resets (ending reset by client or by server)
server       resets  by client  by server  conns
10.0.0.9:80       2          1          1      2

servers with the most refusals (ending refused: the SYN answered by a RST)
server       refused  conns
10.0.0.8:22        1      2

unclosed connections (closed neither by FINs nor by a RST): 2
file    conn  client              server       conn_state  history  ending        client end   server end   left the tracker
b.pcap     2  10.0.0.1:40002  ->  10.0.0.7:25  S1          ShAD     never closed  ESTABLISHED  ESTABLISHED  end of capture
  ... 1 more (--top N shows more; tcplife conns lists all)
";
        assert_eq!(text, expected);

        let mut out = Vec::new();
        s.write(&mut out, SummaryFormat::Json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["files"], serde_json::json!(["a.pcap", "b.pcap"]));
        assert_eq!(v["connections"], 6);
        assert_eq!(v["by_ending"]["reset by server"], 2);
        assert_eq!(v["by_ending"]["closed normally"], 0);
        assert_eq!(v["by_conn_state"]["RSTR"], 2);
        assert_eq!(v["handshake_rtt"]["connections"], 4);
        assert_eq!(v["handshake_rtt"]["p50"].as_f64(), Some(0.002));
        assert_eq!(v["handshake_rtt"]["max"].as_f64(), Some(0.004));
        assert_eq!(v["top_reset_servers"][0]["id.resp_h"], "10.0.0.9");
        assert_eq!(v["top_reset_servers"][0]["by_client"], 1);
        assert_eq!(v["top_refusing_servers"][0]["id.resp_p"], 22);
        assert_eq!(v["top_refusing_servers"][0]["connections"], 2);
        assert_eq!(v["unclosed_total"], 2);
        assert_eq!(v["unclosed"][0]["file"], "b.pcap");
        assert_eq!(v["unclosed"][0]["tcplife_conn_id"], 2);
        assert_eq!(v["unclosed"][0]["tcplife_ending"], "never closed");
        assert_eq!(v["unclosed"].as_array().unwrap().len(), 1);
    }
}
