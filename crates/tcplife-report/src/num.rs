//! Number and small-value formatting shared by the formats.

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::OnceLock;

use tcplife_engine::Flags;

#[inline]
pub(crate) fn u64(out: &mut impl Write, n: u64) -> io::Result<()> {
    out.write_all(itoa::Buffer::new().format(n).as_bytes())
}

/// Writes `n` as exactly `digits` decimal digits, zero-padded (`n` must fit).
#[inline]
fn padded(out: &mut impl Write, n: u64, digits: usize) -> io::Result<()> {
    const ZEROS: &[u8; 9] = b"000000000";
    let mut buf = itoa::Buffer::new();
    let s = buf.format(n).as_bytes();
    out.write_all(&ZEROS[..digits.saturating_sub(s.len())])?;
    out.write_all(s)
}

/// An IP address as `Display` writes it; IPv4 without the formatting machinery, since every
/// JSON packet line has two.
#[inline]
pub(crate) fn ip(out: &mut impl Write, addr: IpAddr) -> io::Result<()> {
    match addr {
        IpAddr::V4(a) => {
            let [a, b, c, d] = a.octets();
            let mut buf = itoa::Buffer::new();
            out.write_all(buf.format(a).as_bytes())?;
            for o in [b, c, d] {
                out.write_all(b".")?;
                out.write_all(buf.format(o).as_bytes())?;
            }
            Ok(())
        }
        IpAddr::V6(a) => write!(out, "{a}"),
    }
}

/// Seconds with 6 decimals, rounded to the nearest microsecond: what Zeek prints for `time`
/// and `interval` values (`%.6f`).
pub(crate) fn secs6(out: &mut impl Write, ns: i64) -> io::Result<()> {
    let us = (i128::from(ns).unsigned_abs() + 500) / 1000;
    if ns < 0 && us != 0 {
        out.write_all(b"-")?;
    }
    // An i64 of nanoseconds is at most ~9.2e15 microseconds: fits u64.
    let us = us as u64;
    u64(out, us / 1_000_000)?;
    out.write_all(b".")?;
    padded(out, us % 1_000_000, 6)
}

/// Seconds with exactly 9 decimals (`0.000123000`), the plugin's `tcplife.handshake_rtt` form.
pub(crate) fn secs9(out: &mut impl Write, ns: u64) -> io::Result<()> {
    u64(out, ns / 1_000_000_000)?;
    out.write_all(b".")?;
    padded(out, ns % 1_000_000_000, 9)
}

/// Milliseconds with 3 decimals, for people.
pub(crate) fn millis3(ns: u64) -> String {
    let mut v = Vec::with_capacity(16);
    millis3_to(&mut v, ns).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("digits are ASCII")
}

/// [`millis3`] written to `out`, without a `String` per value.
pub(crate) fn millis3_to(out: &mut impl Write, ns: u64) -> io::Result<()> {
    let us = (ns + 500) / 1000;
    u64(out, us / 1000)?;
    out.write_all(b".")?;
    padded(out, us % 1000, 3)
}

pub(crate) fn secs6_string(ns: i64) -> String {
    let mut v = Vec::with_capacity(24);
    secs6(&mut v, ns).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("digits are ASCII")
}

/// A JSON string literal. The engine's strings are ASCII, but any text is escaped correctly.
pub(crate) fn json_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        if esc.is_empty() {
            write!(out, "\\u{b:04x}")?;
        } else {
            out.write_all(esc)?;
        }
        start = i + 1;
    }
    out.write_all(&bytes[start..])?;
    out.write_all(b"\"")
}

/// `SYN,ACK`-style names of all 256 flag combinations, built once so that per-packet output
/// does not go through `fmt` for them.
pub fn flags_str(flags: Flags) -> &'static str {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (0..=255u8).map(|b| Flags(b).to_string()).collect());
    &names[usize::from(flags.0)]
}

/// An address and port as people write them: `10.0.0.1:80`, `[2001:db8::1]:443`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub IpAddr, pub u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// Zeek's `#open`/`#close` timestamp form, `2026-11-26-06-07-39`, in UTC (Zeek uses local
/// time; UTC keeps runs comparable across machines).
pub fn zeek_datetime(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let rem = unix_secs.rem_euclid(86_400);
    // Civil-from-days (H. Hinnant's algorithm): proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
