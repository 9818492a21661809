//! Breadth: every shared capture is read without panicking, and on every file the segments
//! tcplife-capture yields are exactly the frames tshark dissects as TCP (not inside an ICMP
//! error), field for field, except the differences listed in `KNOWN_DIFFERENCES`, each with its
//! reason. A listed difference that changes fails the test too, so the list stays true.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tcplife_capture::{open_path, SkipReason};
use tcplife_tests::shared_captures;

/// A file where tcplife and tshark disagree on purpose, frame by frame.
struct Known {
    file: &'static str,
    /// Frames tshark shows as TCP that tcplife does not yield as segments.
    tshark_only: &'static [u64],
    /// Frames tcplife yields as segments that tshark does not show as TCP.
    ours_only: &'static [u64],
    why: &'static str,
}

const KNOWN_DIFFERENCES: &[Known] = &[Known {
    file: "wireshark/wireguard-ping-tcp-dsb.pcapng",
    tshark_only: &[17, 18, 19, 20, 21],
    ours_only: &[],
    why: "TCP inside a WireGuard tunnel: tshark decrypts it with the keys stored in the file's \
          decryption-secrets block; to tcplife these frames are encrypted UDP",
}];

/// tshark's view of one TCP frame, in the fields a `Segment` also has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    payload_len: u32,
}

struct Outcome {
    file: String,
    frames: u64,
    tshark_frames: usize,
    ours: BTreeMap<u64, Fields>,
    tshark: BTreeMap<u64, Option<Fields>>,
    skips: String,
    unsupported: bool,
    error: Option<String>,
}

fn capture_files() -> Vec<PathBuf> {
    let root = shared_captures();
    let mut files = Vec::new();
    for dir in ["wireshark", "zeek", "perf"] {
        let dir = root.join(dir);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "pcap" | "pcapng" | "cap") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 50,
        "expected the shared captures, found {}",
        files.len()
    );
    files
}

fn name_of(path: &Path) -> String {
    let dir = path.parent().and_then(|p| p.file_name()).unwrap();
    format!(
        "{}/{}",
        dir.to_string_lossy(),
        path.file_name().unwrap().to_string_lossy()
    )
}

fn tshark(args: &[&str], path: &Path) -> String {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(args)
        .output()
        .expect("tshark must be installed for this test (apt-get install tshark)");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    // Tunnelled frames list one value per layer; the TCP layer is the only one here.
    s.split(',').next_back()?.parse().ok()
}

fn tshark_tcp_frames(path: &Path) -> BTreeMap<u64, Option<Fields>> {
    let text = tshark(
        &[
            "-Y",
            "tcp && !icmp && !icmpv6",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.ack_raw",
            "-e",
            "tcp.flags",
            "-e",
            "tcp.window_size_value",
            "-e",
            "tcp.len",
        ],
        path,
    );
    let mut frames = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let frame: u64 = f[0].parse().expect("frame number");
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let fields = (|| {
            Some(Fields {
                src_port: num(get(1))?,
                dst_port: num(get(2))?,
                seq: num(get(3))?,
                ack: num(get(4))?,
                // 12 flag bits in tshark (AE/NS included); the header byte is the low eight.
                flags: u16::from_str_radix(
                    get(5).split(',').next_back()?.trim_start_matches("0x"),
                    16,
                )
                .ok()? as u8,
                window: num(get(6))?,
                payload_len: num(get(7))?,
            })
        })();
        frames.insert(frame, fields);
    }
    frames
}

fn examine(path: &Path) -> Outcome {
    let file = name_of(path);
    let mut ours = BTreeMap::new();
    let mut error = None;
    let read = std::panic::catch_unwind(|| {
        let mut segs = Vec::new();
        let mut err = None;
        match open_path(path) {
            Ok(mut reader) => {
                for seg in &mut reader {
                    match seg {
                        Ok(s) => segs.push(s),
                        Err(e) => err = Some(e.to_string()),
                    }
                }
                let unsupported = reader
                    .skip_counts()
                    .iter()
                    .any(|(r, _)| matches!(r, SkipReason::UnsupportedLinkType(_)));
                (
                    segs,
                    err,
                    reader.frames_read(),
                    reader.skip_counts().to_string(),
                    unsupported,
                )
            }
            Err(e) => (segs, Some(e.to_string()), 0, String::new(), false),
        }
    });
    let (segs, err, frames, skips, unsupported) = match read {
        Ok(r) => r,
        Err(_) => (
            Vec::new(),
            Some("PANIC".to_string()),
            0,
            String::new(),
            false,
        ),
    };
    if let Some(e) = err {
        error = Some(e);
    }
    for s in segs {
        ours.insert(
            s.frame,
            Fields {
                src_port: s.src_port,
                dst_port: s.dst_port,
                seq: s.seq,
                ack: s.ack,
                flags: s.flags.0,
                window: s.window,
                payload_len: s.payload_len,
            },
        );
    }
    let tshark_frames = tshark(&["-T", "fields", "-e", "frame.number"], path)
        .lines()
        .count();
    Outcome {
        file,
        frames,
        tshark_frames,
        tshark: tshark_tcp_frames(path),
        ours,
        skips,
        unsupported,
        error,
    }
}

#[test]
fn every_capture_matches_tshark() {
    let files = capture_files();
    // Two workers: the machine has two cores and tshark dominates the time.
    let mut outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let (a, b) = files.split_at(files.len() / 2);
        let h1 = s.spawn(|| a.iter().map(|p| examine(p)).collect::<Vec<_>>());
        let h2 = s.spawn(|| b.iter().map(|p| examine(p)).collect::<Vec<_>>());
        let mut v = h1.join().expect("worker");
        v.extend(h2.join().expect("worker"));
        v
    });
    outcomes.sort_by(|a, b| a.file.cmp(&b.file));

    let mut failures = Vec::new();
    for o in &outcomes {
        let known = KNOWN_DIFFERENCES.iter().find(|k| k.file == o.file);
        println!(
            "{:<70} frames {:>6} segments {:>6} tshark {:>6}  {}{}",
            o.file,
            o.frames,
            o.ours.len(),
            o.tshark.len(),
            o.skips,
            if known.is_some() { "  [listed]" } else { "" }
        );
        if let Some(e) = &o.error {
            failures.push(format!("{}: read error: {e}", o.file));
            continue;
        }
        if o.frames as usize != o.tshark_frames {
            failures.push(format!(
                "{}: {} frames read, tshark counts {}",
                o.file, o.frames, o.tshark_frames
            ));
        }
        if o.unsupported && known.is_none() {
            failures.push(format!("{}: unsupported link type: {}", o.file, o.skips));
            continue;
        }
        let only_ours: Vec<u64> = o
            .ours
            .keys()
            .filter(|f| !o.tshark.contains_key(f))
            .copied()
            .collect();
        let only_tshark: Vec<u64> = o
            .tshark
            .keys()
            .filter(|f| !o.ours.contains_key(f))
            .copied()
            .collect();
        let (want_ours, want_tshark, why) = match known {
            Some(k) => (k.ours_only, k.tshark_only, k.why),
            None => (&[][..], &[][..], "no difference expected"),
        };
        if only_ours != want_ours || only_tshark != want_tshark {
            failures.push(format!(
                "{}: frames only tcplife sees as TCP {:?}, only tshark {:?}; expected {:?} and {:?} ({why})",
                o.file, only_ours, only_tshark, want_ours, want_tshark
            ));
        }
        for (frame, fields) in &o.tshark {
            if fields.is_none() && !want_tshark.contains(frame) {
                failures.push(format!(
                    "{} frame {frame}: tshark's TCP fields did not parse",
                    o.file
                ));
            }
        }
        // Wherever both see a segment, the fields must agree.
        for (frame, ours) in &o.ours {
            if let Some(Some(theirs)) = o.tshark.get(frame) {
                if ours != theirs {
                    failures.push(format!(
                        "{} frame {frame}: tcplife {ours:?}, tshark {theirs:?}",
                        o.file
                    ));
                }
            }
        }
    }
    let compared: usize = outcomes.iter().map(|o| o.ours.len()).sum();
    println!(
        "{} files, {compared} segments compared field by field",
        outcomes.len()
    );
    for k in KNOWN_DIFFERENCES {
        assert!(
            outcomes.iter().any(|o| o.file == k.file),
            "listed file {} is not among the captures",
            k.file
        );
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
