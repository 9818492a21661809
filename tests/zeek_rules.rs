//! Zeek's rules that change conn.log (issue 9), each on a capture this test writes itself with
//! tcplife-gen's writer: Ethernet/IPv4/TCP frames with real checksums (or a deliberately wrong
//! one, or a payload cut off by the snap length), run through `tcplife conns --format zeek`.
//! Expected conn_state/history/missed_bytes follow Zeek's source rule for rule (see the
//! scenario tests in crates/tcplife-engine/tests/scenarios.rs for the per-packet view).

use std::path::PathBuf;
use std::process::Command;

use tcplife_gen::{CaptureWriter, Format};
use tcplife_tests::workspace_bin;

const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
const CLIENT: ([u8; 4], u16) = ([10, 0, 0, 1], 50000);

/// One frame to write: who sends, flags, seq, ack, payload length, and how it is spoiled.
struct Pkt {
    t: i64,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    len: usize,
    bad_checksum: bool,
    /// Store only the headers (as a snap length of 54 would).
    cut: bool,
}

struct Capture {
    pkts: Vec<Pkt>,
    t: i64,
    server: ([u8; 4], u16),
}

fn flag_bits(s: &str) -> u8 {
    s.chars()
        .map(|c| match c {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            _ => panic!("flag {c}"),
        })
        .fold(0, |a, b| a | b)
}

impl Capture {
    fn new(server_port: u16) -> Capture {
        Capture {
            pkts: Vec::new(),
            t: 1_700_000_000 * SEC,
            server: ([10, 0, 0, 2], server_port),
        }
    }
    fn wait(&mut self, ns: i64) -> &mut Self {
        self.t += ns;
        self
    }
    fn push(&mut self, from_client: bool, f: &str, seq: u32, ack: u32, len: usize) -> &mut Self {
        self.t += MS;
        self.pkts.push(Pkt {
            t: self.t,
            from_client,
            flags: flag_bits(f),
            seq,
            ack,
            len,
            bad_checksum: false,
            cut: false,
        });
        self
    }
    fn c(&mut self, f: &str, seq: u32, ack: u32, len: usize) -> &mut Self {
        self.push(true, f, seq, ack, len)
    }
    fn s(&mut self, f: &str, seq: u32, ack: u32, len: usize) -> &mut Self {
        self.push(false, f, seq, ack, len)
    }
    fn bad(&mut self) -> &mut Self {
        self.pkts.last_mut().unwrap().bad_checksum = true;
        self
    }
    fn cut(&mut self) -> &mut Self {
        self.pkts.last_mut().unwrap().cut = true;
        self
    }

    fn write(&self, name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "tcplife-zeek-rules-{}-{name}.pcap",
            std::process::id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        let mut w = CaptureWriter::new(std::io::BufWriter::new(file), Format::Pcap, 65535).unwrap();
        for p in &self.pkts {
            let (src, dst) = if p.from_client {
                (CLIENT, self.server)
            } else {
                (self.server, CLIENT)
            };
            let frame = frame(src, dst, p);
            let stored = if p.cut { &frame[..54] } else { &frame[..] };
            w.write(p.t, stored, frame.len()).unwrap();
        }
        w.finish().unwrap();
        path
    }
}

fn sum16(data: &[u8], mut sum: u32) -> u32 {
    for pair in data.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        sum += hi | lo;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 + 20-byte TCP header + zero payload, checksums filled in.
fn frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), p: &Pkt) -> Vec<u8> {
    let tcp_len = 20 + p.len;
    let ip_len = 20 + tcp_len;
    let mut f = vec![0u8; 14 + ip_len];
    f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src.0);
    ip[16..20].copy_from_slice(&dst.0);
    let c = fold(sum16(ip, 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let tcp = &mut f[34..];
    tcp[0..2].copy_from_slice(&src.1.to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.1.to_be_bytes());
    tcp[4..8].copy_from_slice(&p.seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&p.ack.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = p.flags;
    tcp[14..16].copy_from_slice(&64000u16.to_be_bytes());
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.0);
    pseudo.extend_from_slice(&dst.0);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
    let mut c = fold(sum16(tcp, sum16(&pseudo, 0)));
    if p.bad_checksum {
        c ^= 0x5a5a;
    }
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    f
}

/// (conn_state, history, missed_bytes) per connection, in conn.log order, and stderr.
fn conns(path: &PathBuf, flags: &[&str]) -> (Vec<(String, String, u64)>, String) {
    let out = Command::new(workspace_bin("tcplife"))
        .args(["conns", "--format", "zeek"])
        .args(flags)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let col = |n: &str| fields.iter().position(|f| *f == n).unwrap();
    let (st, hi, mi) = (col("conn_state"), col("history"), col("missed_bytes"));
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[st].to_string(), f[hi].to_string(), f[mi].parse().unwrap())
        })
        .collect();
    (rows, String::from_utf8(out.stderr).unwrap())
}

fn row(state: &str, history: &str, missed: u64) -> (String, String, u64) {
    (state.to_string(), history.to_string(), missed)
}

#[test]
fn attempt_timer_splits_an_unanswered_attempt_from_what_follows() {
    let mut c = Capture::new(42181);
    c.c("S", 100, 0, 0)
        .wait(SEC)
        .c("A", 101, 301, 0)
        .c("PA", 101, 301, 10)
        .wait(5 * SEC)
        .c("PA", 111, 301, 10)
        .c("A", 121, 301, 0)
        .c("FA", 121, 301, 0);
    let path = c.write("attempt");
    let (rows, _) = conns(&path, &[]);
    assert_eq!(rows, [row("S0", "SAD", 0), row("SH", "DAF", 0)]);
    // With the timer off, one connection as before.
    let (rows, _) = conns(&path, &["--attempt-timeout", "0"]);
    assert_eq!(rows, [row("SH", "SADF", 0)]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn content_gaps_from_acks_above_missing_bytes() {
    let mut c = Capture::new(42181);
    c.c("S", 100, 0, 0)
        .s("SA", 300, 101, 0)
        .c("A", 101, 301, 0)
        .c("PA", 101, 301, 10)
        .s("A", 301, 121, 0)
        .s("PA", 301, 121, 10)
        .c("A", 121, 321, 0)
        .s("PA", 301, 121, 10)
        .c("R", 121, 0, 0);
    let path = c.write("gaps");
    let (rows, _) = conns(&path, &[]);
    assert_eq!(rows, [row("RSTO", "ShADaGdgtR", 20)]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn payload_cut_by_the_snap_length_is_a_gap_once_acked() {
    let mut c = Capture::new(42181);
    c.c("S", 100, 0, 0)
        .s("SA", 300, 101, 0)
        .c("A", 101, 301, 0)
        .c("PA", 101, 301, 100)
        .cut()
        .s("A", 301, 201, 0)
        .c("FA", 201, 301, 0)
        .s("FA", 301, 202, 0)
        .c("A", 202, 302, 0);
    let path = c.write("cut");
    let (rows, _) = conns(&path, &[]);
    assert_eq!(rows, [row("SF", "ShADaGFf", 100)]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn reordered_handshake_flips_after_the_syn() {
    let mut c = Capture::new(5555);
    c.s("SA", 300, 101, 0)
        .c("S", 100, 0, 0)
        .c("A", 101, 301, 0)
        .c("PA", 101, 301, 10)
        .s("A", 301, 111, 0)
        .s("PA", 301, 111, 20)
        .c("FA", 111, 321, 0)
        .s("FA", 321, 112, 0)
        .c("A", 112, 322, 0);
    let path = c.write("reordered");
    let (rows, _) = conns(&path, &[]);
    assert_eq!(rows, [row("SF", "Hs^ADadFf", 0)]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn bad_checksums_are_dropped_only_when_verified() {
    let mut c = Capture::new(42181);
    c.c("S", 100, 0, 0)
        .s("SA", 300, 101, 0)
        .c("A", 101, 301, 0)
        .c("PA", 101, 301, 10)
        .bad()
        .c("PA", 101, 301, 10)
        .s("A", 301, 111, 0)
        .s("PA", 301, 111, 5)
        .bad()
        .c("FA", 111, 301, 0)
        .s("FA", 301, 112, 0)
        .c("A", 112, 302, 0);
    let path = c.write("checksum");
    let (rows, err) = conns(&path, &["--verify-checksums"]);
    assert_eq!(rows, [row("SF", "ShACDacFf", 0)]);
    assert!(
        err.contains("skipped 2 of 10 frames: 2 bad-checksum"),
        "stderr: {err}"
    );
    let (rows, err) = conns(&path, &[]);
    assert_eq!(rows, [row("SF", "ShADTadFf", 0)]);
    assert!(err.is_empty(), "stderr: {err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn close_timer_runs_from_the_close_not_from_later_packets() {
    let mut c = Capture::new(42181);
    c.c("S", 100, 0, 0)
        .s("SA", 300, 101, 0)
        .c("A", 101, 301, 0)
        .s("R", 301, 0, 0)
        .wait(3 * SEC)
        .c("A", 101, 301, 0)
        .wait(3 * SEC)
        .c("PA", 101, 301, 5);
    let path = c.write("close");
    let (rows, _) = conns(&path, &[]);
    assert_eq!(rows, [row("RSTR", "ShAr", 0), row("OTH", "D", 0)]);
    std::fs::remove_file(path).unwrap();
}

/// Frames whose segment the slicer calls `integrity`, by frame number.
fn frames_marked(path: &std::path::Path, integrity: tcplife_engine::Integrity) -> Vec<u64> {
    let mut r = tcplife_capture::open_path(path).unwrap();
    let mut out = Vec::new();
    while let Some(seg) = r.next_segment() {
        let seg = seg.unwrap();
        if seg.integrity == integrity {
            out.push(seg.frame);
        }
    }
    out
}

/// The slicer's TCP checksum verdicts equal Wireshark's, frame for frame: on loopback captures
/// with offloaded checksums (all wrong), on third-party captures with some wrong, and on the
/// generator's IPv4/IPv6 traffic (all right).
#[test]
fn checksum_verdicts_match_tshark() {
    let root = tcplife_tests::project_root();
    let shared = tcplife_tests::shared_captures();
    let files = [
        root.join("tests/samples/concurrent.pcapng"),
        shared.join("wireshark/rsasnakeoil2.pcap"),
        shared.join("wireshark/dmgr.pcapng"),
        shared.join("zeek/tcp-http-with-padding.pcap"),
        shared.join("perf/echo-connections.pcap"),
    ];
    let mut bad_total = 0;
    for f in &files {
        let out = Command::new("tshark")
            .args(["-n", "-o", "tcp.check_checksum:TRUE", "-r"])
            .arg(f)
            .args([
                "-Y",
                "tcp.checksum.status==0",
                "-T",
                "fields",
                "-e",
                "frame.number",
            ])
            .output()
            .unwrap();
        let want: Vec<u64> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        let got = frames_marked(f, tcplife_engine::Integrity::BadChecksum);
        assert_eq!(got, want, "{}", f.display());
        bad_total += got.len();
    }
    assert_eq!(bad_total, 160 + 33 + 25 + 11);

    let path = std::env::temp_dir().join(format!(
        "tcplife-zeek-rules-{}-gen.pcap",
        std::process::id()
    ));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let opts = tcplife_gen::Options {
        connections: 300,
        ipv6_percent: 50,
        ..Default::default()
    };
    tcplife_gen::write_capture(opts, Format::Pcap, file, |_| {}).unwrap();
    assert!(frames_marked(&path, tcplife_engine::Integrity::BadChecksum).is_empty());
    assert!(frames_marked(&path, tcplife_engine::Integrity::Truncated).is_empty());
    std::fs::remove_file(path).unwrap();
}
