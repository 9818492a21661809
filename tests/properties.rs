//! Invariants of the reader and the engine, checked on generated inputs (proptest):
//! - every segment gets exactly one annotation, and every segment is counted in exactly one
//!   connection summary, whatever the segments are;
//! - a connection's verdicts do not depend on how the capture is read: pcap or pcapng, all at
//!   once or in the short reads of a pipe, a file or standard input;
//! - each endpoint's state only moves forward along RFC 9293's transitions (section 3.3.2),
//!   plus "any state to CLOSED on a RST", on traffic a real network can produce (real
//!   conversations with segments lost, duplicated and reordered before the capture point).

use std::collections::HashMap;
use std::io::{self, Cursor, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use tcplife_capture::CaptureReader;
use tcplife_engine::{Annotation, Collect, Config, ConnSummary, Flags, Role, Segment, TcpState};
use tcplife_gen::{Format, Options};

fn run_engine(segs: &[Segment]) -> (Vec<Annotation>, Vec<ConnSummary>) {
    let out = Collect::run(Config::default(), segs);
    (out.annotations, out.summaries)
}

fn generate(opts: Options, format: Format) -> Vec<u8> {
    let mut bytes = Vec::new();
    tcplife_gen::write_capture(opts, format, &mut bytes, |_| {}).expect("in memory");
    bytes
}

fn read_all(r: impl Read) -> Vec<Segment> {
    CaptureReader::new(r)
        .expect("a capture")
        .map(|s| s.expect("readable"))
        .collect()
}

/// A reader that hands out its bytes in the given chunk sizes, like a pipe does.
struct Trickle<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    k: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.sizes[self.k % self.sizes.len()].max(1);
        self.k += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Exactly one annotation per segment.

const ADDRS: [IpAddr; 3] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
];
const PORTS: [u16; 3] = [80, 40000, 40001];

/// Sequence numbers near a few bases, so that arbitrary segments often acknowledge, repeat or
/// continue each other, and now and then anything at all.
fn seqnum() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => (0u32..4).prop_map(|k| 1000 + k),
        4 => (0u32..4).prop_map(|k| 5000 + k),
        2 => (0u32..4).prop_map(|k| u32::MAX - k),
        1 => any::<u32>(),
    ]
}

fn arbitrary_segment() -> impl Strategy<Value = (Segment, i64)> {
    (
        (0usize..3, 0usize..3, 0usize..3, 0usize..3),
        prop_oneof![
            3 => prop::sample::select(vec![0x02u8, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01]),
            1 => any::<u8>(),
        ],
        seqnum(),
        seqnum(),
        prop_oneof![Just(0u16), Just(64240u16), any::<u16>()],
        prop_oneof![Just(0u32), Just(1), 2u32..1500],
        // Capture time steps: mostly small, sometimes past the close linger or the idle
        // timeout, sometimes backwards.
        prop_oneof![
            6 => 0i64..50_000_000,
            1 => 5_000_000_000i64..400_000_000_000,
            1 => -2_000_000_000i64..0,
        ],
    )
        .prop_map(|((s, d, sp, dp), flags, seq, ack, window, len, dt)| {
            let seg = Segment {
                frame: 0,
                ts_ns: 0,
                src: ADDRS[s],
                src_port: PORTS[sp],
                dst: ADDRS[d],
                dst_port: PORTS[dp],
                seq,
                ack,
                flags: Flags(flags),
                window,
                payload_len: len,
                ip_len: len + 40,
                integrity: tcplife_engine::Integrity::Intact,
            };
            (seg, dt)
        })
}

fn arbitrary_segments() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(arbitrary_segment(), 0..120).prop_map(|v| {
        let mut ts = 1_700_000_000_000_000_000i64;
        v.into_iter()
            .enumerate()
            .map(|(i, (mut seg, dt))| {
                ts += dt;
                seg.frame = i as u64 + 1;
                seg.ts_ns = ts;
                seg
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_segment_gets_exactly_one_annotation(segs in arbitrary_segments()) {
        let (annotations, summaries) = run_engine(&segs);
        prop_assert_eq!(annotations.len(), segs.len());
        let mut per_conn: HashMap<u64, u64> = HashMap::new();
        for (a, s) in annotations.iter().zip(&segs) {
            prop_assert_eq!(a.frame, s.frame);
            *per_conn.entry(a.conn_id).or_default() += 1;
        }
        // Each connection's packet counts are exactly the segments annotated with its id, and
        // each id is summarised once.
        let mut seen = HashMap::new();
        for s in &summaries {
            prop_assert!(seen.insert(s.conn_id, ()).is_none(), "conn {} summarised twice", s.conn_id);
            prop_assert_eq!(Some(&(s.orig_pkts + s.resp_pkts)), per_conn.get(&s.conn_id),
                "conn {}", s.conn_id);
        }
        prop_assert_eq!(seen.len(), per_conn.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Verdicts do not depend on how the capture is read.

fn small_capture_opts() -> impl Strategy<Value = Options> {
    (any::<u64>(), 1u64..80, 1usize..30, 0u64..=100).prop_map(|(seed, n, k, v6)| Options {
        connections: n,
        seed,
        concurrency: k,
        ipv6_percent: v6,
        ..Options::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn verdicts_do_not_depend_on_format_or_read_sizes(
        opts in small_capture_opts(),
        sizes in prop::collection::vec(1usize..5000, 1..8),
    ) {
        let pcap = generate(opts.clone(), Format::Pcap);
        let pcapng = generate(opts, Format::PcapNg);
        let whole = read_all(Cursor::new(&pcap[..]));
        let reference = run_engine(&whole);
        prop_assert!(!whole.is_empty());
        let ng = read_all(Cursor::new(&pcapng[..]));
        prop_assert_eq!(&ng, &whole);
        prop_assert_eq!(&run_engine(&ng), &reference);
        for bytes in [&pcap, &pcapng] {
            let piped = read_all(Trickle { data: bytes, sizes: sizes.clone(), k: 0 });
            prop_assert_eq!(&piped, &whole);
            prop_assert_eq!(&run_engine(&piped), &reference);
        }
    }
}

/// The `tcplife` binary: the same conn.log rows and packet rows from a file and from
/// standard input, for pcap and pcapng.
#[test]
fn cli_file_and_stdin_agree_on_generated_captures() {
    let bin = tcplife_tests::workspace_bin("tcplife");
    let dir = std::env::temp_dir().join(format!("tcplife-properties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = Options {
        connections: 300,
        concurrency: 40,
        seed: 42,
        ..Options::default()
    };
    let run = |args: &[&str], stdin: Option<&[u8]>| -> Vec<String> {
        let mut child = Command::new(&bin)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            let mut w = child.stdin.take().unwrap();
            let input = input.to_vec();
            std::thread::spawn(move || w.write_all(&input));
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        // Header lines carry the time of the run.
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
            .map(str::to_owned)
            .collect()
    };
    let mut reference: Option<(Vec<String>, Vec<String>)> = None;
    for (format, name) in [(Format::Pcap, "g.pcap"), (Format::PcapNg, "g.pcapng")] {
        let bytes = generate(opts.clone(), format);
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let p = path.to_str().unwrap();
        let conns = run(&["conns", "--format", "zeek", p], None);
        let packets = run(&["packets", "--format", "tsv", p], None);
        assert_eq!(
            run(&["conns", "--format", "zeek", "-"], Some(&bytes)),
            conns
        );
        assert_eq!(
            run(&["packets", "--format", "tsv", "-"], Some(&bytes)),
            packets
        );
        assert!(conns.len() > 300, "{} lines", conns.len());
        match &reference {
            None => reference = Some((conns, packets)),
            Some((c, p)) => {
                assert_eq!(&conns, c, "pcap and pcapng give the same conn.log");
                assert_eq!(&packets, p, "pcap and pcapng give the same packet rows");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------------------------------------
// RFC 9293 transitions.

/// RFC 9293 figure 5 (section 3.3.2) with the event processing of section 3.10.7.
const RFC9293_EDGES: [(TcpState, TcpState); 21] = {
    use TcpState::*;
    [
        (Closed, Listen),
        (Closed, SynSent),
        (Listen, SynReceived),
        (Listen, SynSent),
        (Listen, Closed),
        (SynSent, SynReceived),
        (SynSent, Established),
        (SynSent, Closed),
        (SynReceived, Established),
        (SynReceived, FinWait1),
        // RST in SYN-RECEIVED after a passive open (3.10.7.4).
        (SynReceived, Listen),
        (Established, FinWait1),
        (Established, CloseWait),
        (FinWait1, FinWait2),
        (FinWait1, Closing),
        // A FIN that also acknowledges ours (3.10.7.4, eighth step, FIN-WAIT-1).
        (FinWait1, TimeWait),
        (FinWait2, TimeWait),
        (CloseWait, LastAck),
        (Closing, TimeWait),
        (LastAck, Closed),
        (TimeWait, Closed),
    ]
};

/// Whether an endpoint may go from `a` to `b` between two observed segments: along one or
/// more RFC 9293 transitions (an observer sees one segment, yet the ACK in it can show that
/// its sender also received something, e.g. a FIN+ACK moves its sender from ESTABLISHED
/// through CLOSE-WAIT to LAST-ACK), or to CLOSED on a RST. The path may not pass through
/// CLOSED: that would be a new incarnation, which the engine gives a new connection.
fn rfc_allows(a: TcpState, b: TcpState, rst: bool) -> bool {
    if a == b || (rst && b == TcpState::Closed) {
        return true;
    }
    let mut seen = vec![a];
    let mut frontier = vec![a];
    while let Some(x) = frontier.pop() {
        if x == TcpState::Closed && x != a {
            continue;
        }
        for &(from, to) in &RFC9293_EDGES {
            if from == x && !seen.contains(&to) {
                if to == b {
                    return true;
                }
                seen.push(to);
                frontier.push(to);
            }
        }
    }
    false
}

/// Every transition of every endpoint that is not in the table, described.
fn transition_violations(segs: &[Segment], annotations: &[Annotation]) -> Vec<String> {
    let mut states: HashMap<(u64, SocketAddr), TcpState> = HashMap::new();
    let mut out = Vec::new();
    for (seg, a) in segs.iter().zip(annotations) {
        let src = SocketAddr::new(seg.src, seg.src_port);
        let dst = SocketAddr::new(seg.dst, seg.dst_port);
        let (client, server) = match a.role {
            Role::Client => (src, dst),
            Role::Server => (dst, src),
        };
        for (ep, new, role) in [
            (client, a.client_state, "client"),
            (server, a.server_state, "server"),
        ] {
            if let Some(old) = states.insert((a.conn_id, ep), new) {
                if !rfc_allows(old, new, seg.flags.rst()) {
                    out.push(format!(
                        "frame {} ({} {} seq={} ack={} len={}, event {}): {role} {} -> {}",
                        seg.frame,
                        if a.role == Role::Client {
                            "client"
                        } else {
                            "server"
                        },
                        seg.flags,
                        seg.seq,
                        seg.ack,
                        seg.payload_len,
                        a.event.as_str(),
                        old.as_str(),
                        new.as_str()
                    ));
                }
            }
        }
    }
    out
}

#[derive(Clone, Debug)]
enum Perturb {
    /// The segment never reached the capture point.
    Drop(usize),
    /// Captured twice.
    Duplicate(usize),
    /// Reordered with the next one.
    Swap(usize),
}

fn perturbations() -> impl Strategy<Value = Vec<Perturb>> {
    prop::collection::vec(
        prop_oneof![
            (0usize..1000).prop_map(Perturb::Drop),
            (0usize..1000).prop_map(Perturb::Duplicate),
            (0usize..1000).prop_map(Perturb::Swap),
        ],
        0..4,
    )
}

fn perturb(mut segs: Vec<Segment>, ops: &[Perturb]) -> Vec<Segment> {
    for op in ops {
        if segs.len() < 2 {
            break;
        }
        match *op {
            Perturb::Drop(i) => {
                segs.remove(i % segs.len());
            }
            Perturb::Duplicate(i) => {
                let i = i % segs.len();
                let s = segs[i].clone();
                segs.insert(i + 1, s);
            }
            Perturb::Swap(i) => {
                let i = i % (segs.len() - 1);
                segs.swap(i, i + 1);
            }
        }
    }
    for (i, s) in segs.iter_mut().enumerate() {
        s.frame = i as u64 + 1;
    }
    segs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Clean generated conversations of every fate, one at a time.
    #[test]
    fn states_follow_rfc9293_on_clean_traffic(seed in any::<u64>()) {
        let opts = Options { connections: 30, concurrency: 8, seed, ..Options::default() };
        let segs = read_all(Cursor::new(generate(opts, Format::Pcap)));
        let (annotations, _) = run_engine(&segs);
        let bad = transition_violations(&segs, &annotations);
        prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// One generated connection at a time with a few segments lost, duplicated or reordered.
    #[test]
    fn states_follow_rfc9293_on_lossy_traffic(seed in any::<u64>(), ops in perturbations()) {
        let opts = Options { connections: 1, concurrency: 1, seed, ..Options::default() };
        let segs = perturb(read_all(Cursor::new(generate(opts, Format::Pcap))), &ops);
        let (annotations, _) = run_engine(&segs);
        let bad = transition_violations(&segs, &annotations);
        prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// The sample captures with Zeek baselines and the perf workload, all real traffic.
#[test]
fn states_follow_rfc9293_on_sample_captures() {
    let shared = tcplife_tests::shared_captures();
    let mut paths: Vec<_> = std::fs::read_dir(shared.join("zeek"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    paths.push(shared.join("perf/echo-connections.pcap"));
    paths.sort();
    let mut bad = Vec::new();
    for p in paths.iter().filter(|p| p.exists()) {
        let segs = read_all(std::fs::File::open(p).unwrap());
        let (annotations, _) = run_engine(&segs);
        for v in transition_violations(&segs, &annotations) {
            bad.push(format!("{}: {v}", p.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Inputs found by fuzzing (scripts/fuzz-smoke.sh).

/// Found by `cargo fuzz run -a capture_reader`: a pcapng Process Information Block (type
/// 0x80000001) whose length field says 8 makes pcap-parser 0.17.0 compute `length - 12`
/// (pcapng/block.rs:162): an overflow panic where overflow checks are on (debug builds, tests),
/// and in release a wrapped length that the reader reports as a cut-off file although the
/// block is simply corrupt. Expected: an error, like any corrupt block (fixed in 53d45fd).
#[test]
fn fuzz_regression_short_pcapng_block() {
    let mut bytes = Vec::new();
    // Section header block, little-endian, version 1.0, section length unknown.
    for w in [0x0a0d_0d0au32, 28, 0x1a2b_3c4d, 1] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    bytes.extend_from_slice(&28u32.to_le_bytes());
    // Process Information Block claiming 8 bytes, then a few more bytes.
    for w in [0x8000_0001u32, 8, 8, 0] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    let outcome = std::panic::catch_unwind(|| {
        let mut reader = CaptureReader::new(Cursor::new(bytes)).expect("the header is valid");
        let errors = (&mut reader).filter(|s| s.is_err()).count();
        (errors, reader.truncated_tail())
    });
    let (errors, truncated) = outcome.expect("no panic on a corrupt pcapng block");
    assert!(
        errors == 1 && !truncated,
        "errors={errors} truncated_tail={truncated}"
    );
}

// ---------------------------------------------------------------------------------------------
// The summary-only path (`Sink::PACKETS = false`, what `tcplife conns` runs) gives the same
// summaries as the full path that annotates every packet.

/// Keeps only summaries, and says so, so the engine skips the annotations.
#[derive(Default)]
struct SummariesOnly(Vec<ConnSummary>);

impl tcplife_engine::Sink for SummariesOnly {
    type Stop = std::convert::Infallible;
    const PACKETS: bool = false;
    fn finished(&mut self, summary: ConnSummary) -> Result<(), Self::Stop> {
        self.0.push(summary);
        Ok(())
    }
}

/// Every capture file under `dir`, recursively.
fn captures_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for p in entries.flatten().map(|e| e.path()) {
        if p.is_dir() {
            captures_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            out.push(p);
        }
    }
}

/// The segments of a capture up to its first error (some shared captures end corrupt on
/// purpose); `None` when it is not a capture at all.
fn segments_of(path: &std::path::Path) -> Option<Vec<Segment>> {
    let reader = CaptureReader::new(std::fs::File::open(path).ok()?).ok()?;
    Some(reader.map_while(Result::ok).collect())
}

#[test]
fn summary_only_path_equals_full_path_on_every_test_capture() {
    let mut paths = Vec::new();
    captures_under(&tcplife_tests::shared_captures(), &mut paths);
    captures_under(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        &mut paths,
    );
    paths.sort();
    let mut compared = 0;
    let mut summaries = 0;
    for p in &paths {
        let Some(segs) = segments_of(p) else { continue };
        for verify_checksums in [false, true] {
            let config = Config {
                verify_checksums,
                ..Config::default()
            };
            let full = Collect::run(config, &segs).summaries;
            let only = tcplife_engine::run(config, &segs, SummariesOnly::default())
                .unwrap_or_else(|e| match e {});
            assert_eq!(
                only.0,
                full,
                "{} (verify_checksums {verify_checksums})",
                p.display()
            );
            summaries += full.len();
        }
        compared += 1;
    }
    // The shared captures and the samples: dozens of files, thousands of connections.
    assert!(compared >= 50, "only {compared} captures found");
    assert!(summaries >= 1000, "only {summaries} summaries compared");
}
