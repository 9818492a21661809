//! Per-connection summaries: an aligned table, Zeek's conn.log TSV, or JSON lines.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use tcplife_engine::ConnSummary;

use crate::num::{self, json_str, secs6, Endpoint};
use crate::table::{Align, Cells, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnFormat {
    /// Aligned columns for people.
    Table,
    /// Zeek's conn.log TSV, with tcplife's columns after Zeek's.
    Zeek,
    /// One JSON object per line, keys named as in Zeek's JSON logs.
    Json,
}

/// The conn.log columns, Zeek's first (in Zeek's order) and then tcplife's, with Zeek types.
pub const ZEEK_FIELDS: [(&str, &str); 27] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("tcplife_conn_id", "count"),
    ("tcplife_ending", "string"),
    ("tcplife_first_closer", "string"),
    ("tcplife_client_state", "string"),
    ("tcplife_server_state", "string"),
    ("tcplife_handshake_rtt", "interval"),
];

const TABLE_COLUMNS: &[(&str, Align)] = &[
    ("conn", Align::Right),
    ("client", Align::Left),
    ("", Align::Left),
    ("server", Align::Left),
    ("conn_state", Align::Left),
    ("history", Align::Left),
    ("ending", Align::Left),
    ("closed first", Align::Left),
    ("client end", Align::Left),
    ("server end", Align::Left),
    ("duration(s)", Align::Right),
    ("rtt(ms)", Align::Right),
    ("pkts c/s", Align::Right),
    ("bytes c/s", Align::Right),
];

/// Writes connection summaries in the order they are given (the engine's order: as each
/// connection finishes, like Zeek).
pub struct ConnWriter<W: Write> {
    out: W,
    format: ConnFormat,
    open_time: SystemTime,
    table: Table,
    started: bool,
    file: Option<String>,
    /// Each row is built here and handed to `out` whole.
    line: Vec<u8>,
    /// The table's cells of each row, reused.
    cells: Cells,
}

impl<W: Write> ConnWriter<W> {
    /// `open_time` is what Zeek's `#open` line shows (the CLI passes the current time).
    pub fn new(out: W, format: ConnFormat, open_time: SystemTime) -> Self {
        ConnWriter {
            out,
            format,
            open_time,
            table: Table::new(TABLE_COLUMNS),
            started: false,
            file: None,
            line: Vec::with_capacity(512),
            cells: Cells::default(),
        }
    }

    /// Marks the start of another input file when several are summarised together: the table
    /// starts a new section headed by the file's name, JSON objects gain a `tcplife_file` key,
    /// and the Zeek log (which has no such column) is unchanged.
    pub fn begin_file(&mut self, name: &str) -> io::Result<()> {
        if self.format == ConnFormat::Table {
            if self.started {
                self.table.flush(&mut self.out)?;
                self.out.write_all(b"\n")?;
            }
            writeln!(self.out, "# {name}")?;
            self.table = Table::new(TABLE_COLUMNS);
            self.started = true;
        }
        self.file = Some(name.to_string());
        Ok(())
    }

    pub fn write(&mut self, c: &ConnSummary) -> io::Result<()> {
        self.start()?;
        match self.format {
            ConnFormat::Table => {
                table_cells(&mut self.cells, c)?;
                self.table.row_cells(&mut self.out, &self.cells)
            }
            ConnFormat::Zeek | ConnFormat::Json => {
                let line = &mut self.line;
                line.clear();
                if self.format == ConnFormat::Zeek {
                    zeek_row(line, c)?;
                } else {
                    json_row(line, c, self.file.as_deref())?;
                }
                self.out.write_all(line)
            }
        }
    }

    /// Ends the output (the table's held-back rows, Zeek's `#close` line) and hands back the
    /// writer, flushed.
    pub fn finish(mut self, close_time: SystemTime) -> io::Result<W> {
        self.start()?;
        match self.format {
            ConnFormat::Table => self.table.flush(&mut self.out)?,
            ConnFormat::Zeek => writeln!(
                self.out,
                "#close\t{}",
                num::zeek_datetime(unix_secs(close_time))
            )?,
            ConnFormat::Json => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.format == ConnFormat::Zeek {
            let out = &mut self.out;
            out.write_all(
                b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n",
            )?;
            writeln!(
                out,
                "#open\t{}",
                num::zeek_datetime(unix_secs(self.open_time))
            )?;
            out.write_all(b"#fields")?;
            for (name, _) in ZEEK_FIELDS {
                write!(out, "\t{name}")?;
            }
            out.write_all(b"\n#types")?;
            for (_, ty) in ZEEK_FIELDS {
                write!(out, "\t{ty}")?;
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A Zeek or JSON row being laid out in the writer's reused line. Written straight into the
/// `Vec` rather than through `num`'s `io::Write` forms: a SYN flood makes this a per-packet
/// path, and the generic forms cost a `Result` and a `memcpy` call per piece (callgrind: 3,460
/// instructions a conn.log row before this).
struct Row<'a>(&'a mut Vec<u8>);

impl Row<'_> {
    #[inline]
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    #[inline]
    fn u64(&mut self, n: u64) {
        self.raw(itoa::Buffer::new().format(n).as_bytes());
    }

    /// `n` as exactly `digits` decimal digits (`n` < 10^digits).
    #[inline]
    fn padded(&mut self, mut n: u64, digits: usize) {
        let mut buf = [b'0'; 9];
        for d in buf[..digits].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.raw(&buf[..digits]);
    }

    /// [`num::secs6`]: seconds with 6 decimals, rounded to the nearest microsecond.
    fn secs6(&mut self, ns: i64) {
        // |i64::MIN| + 500 still fits a u64.
        let us = (ns.unsigned_abs() + 500) / 1000;
        if ns < 0 && us != 0 {
            self.0.push(b'-');
        }
        self.u64(us / 1_000_000);
        self.0.push(b'.');
        self.padded(us % 1_000_000, 6);
    }

    /// [`num::ip`]: IPv4 dotted, IPv6 as `Display` writes it.
    fn ip(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.ipv4(a.octets()),
            IpAddr::V6(a) => self.ipv6(a),
        }
    }

    fn ipv4(&mut self, octets: [u8; 4]) {
        for (i, o) in octets.into_iter().enumerate() {
            if i > 0 {
                self.0.push(b'.');
            }
            if o >= 100 {
                self.0.push(b'0' + o / 100);
            }
            if o >= 10 {
                self.0.push(b'0' + o / 10 % 10);
            }
            self.0.push(b'0' + o % 10);
        }
    }

    /// What `Ipv6Addr`'s `Display` writes (RFC 5952: lower-case hex without leading zeros, the
    /// first longest run of two or more zero groups as `::`, IPv4-mapped addresses as
    /// `::ffff:a.b.c.d`), without `fmt`'s machinery, which cost more than the rest of the row.
    fn ipv6(&mut self, a: Ipv6Addr) {
        if let Some(v4) = a.to_ipv4_mapped() {
            self.raw(b"::ffff:");
            self.ipv4(v4.octets());
            return;
        }
        let seg = a.segments();
        let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
        for (i, &g) in seg.iter().enumerate() {
            if g == 0 {
                if run_len == 0 {
                    run = i;
                }
                run_len += 1;
                if run_len > best_len {
                    (best, best_len) = (run, run_len);
                }
            } else {
                run_len = 0;
            }
        }
        if best_len > 1 {
            self.groups(&seg[..best]);
            self.raw(b"::");
            self.groups(&seg[best + best_len..]);
        } else {
            self.groups(&seg);
        }
    }

    fn groups(&mut self, groups: &[u16]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, &g) in groups.iter().enumerate() {
            if i > 0 {
                self.0.push(b':');
            }
            let mut started = false;
            for shift in [12, 8, 4, 0] {
                let d = (g >> shift) & 0xf;
                if d != 0 || started || shift == 0 {
                    self.0.push(HEX[usize::from(d)]);
                    started = true;
                }
            }
        }
    }

    /// `,"key":n`.
    fn json_count(&mut self, key: &str, n: u64) {
        self.raw(b",\"");
        self.raw(key.as_bytes());
        self.raw(b"\":");
        self.u64(n);
    }

    /// `,"key":"value"` for the engine's fixed words (no escaping needed).
    fn json_text(&mut self, key: &str, value: &str) {
        self.raw(b",\"");
        self.raw(key.as_bytes());
        self.raw(b"\":\"");
        self.raw(value.as_bytes());
        self.0.push(b'"');
    }
}

fn zeek_row(line: &mut Vec<u8>, c: &ConnSummary) -> io::Result<()> {
    let mut out = Row(line);
    out.secs6(c.ts_ns);
    out.0.push(b'\t');
    out.raw(c.uid.as_bytes());
    out.0.push(b'\t');
    out.ip(c.orig_h);
    out.0.push(b'\t');
    out.u64(u64::from(c.orig_p));
    out.0.push(b'\t');
    out.ip(c.resp_h);
    out.0.push(b'\t');
    out.u64(u64::from(c.resp_p));
    out.raw(b"\ttcp\t-\t");
    // Zeek sets duration and the byte counts only when the duration is positive.
    if c.duration_ns > 0 {
        out.secs6(c.duration_ns as i64);
        out.0.push(b'\t');
        out.u64(c.orig_bytes);
        out.0.push(b'\t');
        out.u64(c.resp_bytes);
    } else {
        out.raw(b"-\t-\t-");
    }
    out.0.push(b'\t');
    out.raw(c.conn_state.as_str().as_bytes());
    out.raw(b"\t-\t-\t");
    out.u64(c.missed_bytes);
    out.0.push(b'\t');
    // Zeek leaves an empty history unset.
    out.raw(if c.history.is_empty() {
        b"-"
    } else {
        c.history.as_bytes()
    });
    for n in [c.orig_pkts, c.orig_ip_bytes, c.resp_pkts, c.resp_ip_bytes] {
        out.0.push(b'\t');
        out.u64(n);
    }
    out.raw(b"\t-\t");
    out.u64(c.conn_id);
    for s in [
        c.ending.as_str(),
        c.first_closer.map_or("-", |r| r.as_str()),
        c.client_state.as_str(),
        c.server_state.as_str(),
    ] {
        out.0.push(b'\t');
        out.raw(s.as_bytes());
    }
    out.0.push(b'\t');
    match c.handshake_rtt_ns {
        Some(ns) => out.secs6(ns as i64),
        None => out.0.push(b'-'),
    }
    out.0.push(b'\n');
    Ok(())
}

fn json_row(line: &mut Vec<u8>, c: &ConnSummary, file: Option<&str>) -> io::Result<()> {
    let mut out = Row(line);
    out.raw(b"{\"ts\":");
    out.secs6(c.ts_ns);
    out.raw(b",\"uid\":");
    json_str(out.0, &c.uid)?;
    out.raw(b",\"id.orig_h\":\"");
    out.ip(c.orig_h);
    out.raw(b"\",\"id.orig_p\":");
    out.u64(u64::from(c.orig_p));
    out.raw(b",\"id.resp_h\":\"");
    out.ip(c.resp_h);
    out.raw(b"\",\"id.resp_p\":");
    out.u64(u64::from(c.resp_p));
    out.raw(b",\"proto\":\"tcp\",\"duration\":");
    out.secs6(c.duration_ns as i64);
    out.json_count("orig_bytes", c.orig_bytes);
    out.json_count("resp_bytes", c.resp_bytes);
    out.json_text("conn_state", c.conn_state.as_str());
    out.json_count("missed_bytes", c.missed_bytes);
    out.raw(b",\"history\":");
    json_str(out.0, &c.history)?;
    out.json_count("orig_pkts", c.orig_pkts);
    out.json_count("orig_ip_bytes", c.orig_ip_bytes);
    out.json_count("resp_pkts", c.resp_pkts);
    out.json_count("resp_ip_bytes", c.resp_ip_bytes);
    out.json_count("tcplife_conn_id", c.conn_id);
    out.json_text("tcplife_ending", c.ending.as_str());
    match c.first_closer {
        Some(r) => out.json_text("tcplife_first_closer", r.as_str()),
        None => out.raw(b",\"tcplife_first_closer\":null"),
    }
    out.json_text("tcplife_client_state", c.client_state.as_str());
    out.json_text("tcplife_server_state", c.server_state.as_str());
    out.raw(b",\"tcplife_handshake_rtt\":");
    match c.handshake_rtt_ns {
        Some(ns) => out.secs6(ns as i64),
        None => out.raw(b"null"),
    }
    out.json_count("tcplife_first_frame", c.first_frame);
    out.json_count("tcplife_last_frame", c.last_frame);
    out.json_text("tcplife_end_reason", c.end_reason.as_str());
    if let Some(f) = file {
        out.raw(b",\"tcplife_file\":");
        json_str(out.0, f)?;
    }
    out.raw(b"}\n");
    Ok(())
}

fn table_cells(cells: &mut Cells, c: &ConnSummary) -> io::Result<()> {
    cells.clear();
    num::u64(cells.buf(), c.conn_id)?;
    cells.end();
    write!(cells.buf(), "{}", Endpoint(c.orig_h, c.orig_p))?;
    cells.end();
    cells.push("->");
    write!(cells.buf(), "{}", Endpoint(c.resp_h, c.resp_p))?;
    cells.end();
    cells.push(c.conn_state.as_str());
    cells.push(&c.history);
    cells.push(c.ending.as_str());
    cells.push(c.first_closer.map_or("-", |r| r.as_str()));
    cells.push(c.client_state.as_str());
    cells.push(c.server_state.as_str());
    secs6(cells.buf(), c.duration_ns as i64)?;
    cells.end();
    match c.handshake_rtt_ns {
        Some(ns) => num::millis3_to(cells.buf(), ns)?,
        None => cells.buf().push(b'-'),
    }
    cells.end();
    write!(cells.buf(), "{}/{}", c.orig_pkts, c.resp_pkts)?;
    cells.end();
    write!(cells.buf(), "{}/{}", c.orig_bytes, c.resp_bytes)?;
    cells.end();
    Ok(())
}

#[cfg(test)]
mod row_tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn written(f: impl FnOnce(&mut Row<'_>)) -> String {
        let mut v = Vec::new();
        f(&mut Row(&mut v));
        String::from_utf8(v).unwrap()
    }

    /// Every address whose eight groups are each 0, 1, 0xffff or 0xab0 (all zero runs, the
    /// IPv4-mapped form, leading zeros dropped), written as `Display` writes it.
    #[test]
    fn ipv6_as_display_writes_it() {
        let choices = [0u16, 1, 0xffff, 0x0ab0];
        for n in 0..4usize.pow(8) {
            let mut g = [0u16; 8];
            for (i, x) in g.iter_mut().enumerate() {
                *x = choices[n / 4usize.pow(i as u32) % 4];
            }
            let a = Ipv6Addr::from(g);
            assert_eq!(written(|r| r.ip(IpAddr::V6(a))), a.to_string());
        }
    }

    #[test]
    fn ipv4_and_seconds_as_num_writes_them() {
        for a in [
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [10, 0, 99, 100],
            [1, 20, 200, 9],
        ] {
            let a = IpAddr::V4(Ipv4Addr::from(a));
            let mut want = Vec::new();
            num::ip(&mut want, a).unwrap();
            assert_eq!(written(|r| r.ip(a)).into_bytes(), want);
        }
        for ns in [
            0,
            499,
            500,
            999_999_499,
            1_700_000_000_123_456_789,
            -1,
            -500,
            -501,
            i64::MIN,
            i64::MAX,
        ] {
            let mut want = Vec::new();
            secs6(&mut want, ns).unwrap();
            assert_eq!(written(|r| r.secs6(ns)).into_bytes(), want, "{ns}");
        }
    }
}
