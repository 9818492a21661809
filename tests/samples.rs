//! The project's own sample captures, `tests/samples/NAME.pcapng`: real kernel traffic on
//! loopback, captured by dumpcap while `tcplife-harness --scenario all --out tests/samples`
//! ran. Next to each: `NAME.packets.tsv` (exactly `tcplife packets --format tsv`) and
//! `NAME.conns.zeek` (exactly `tcplife conns --format zeek`, `#open`/`#close` aside), reviewed
//! against RFC 9293 and Zeek's conn.log semantics (see tests/samples/README.md).
//!
//! The engine, the report formats and the CLI must reproduce them byte for byte; and the
//! expected files themselves must state each scenario's lifecycle facts, so they cannot be
//! regenerated into something wrong without a test noticing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use tcplife_engine::{Annotation, Config, ConnSummary, Segment, Sink};
use tcplife_report::{ConnFormat, ConnWriter, PacketFormat, PacketWriter};
use tcplife_tests::{project_root, workspace_bin};

/// What each sample must show, whatever the exact packets: connections, and for every
/// connection its conn_state, who closed (or aborted) first and both final states.
struct Facts {
    name: &'static str,
    conns: usize,
    conn_state: &'static str,
    history: &'static str,
    first_closer: &'static str,
    client_state: &'static str,
    server_state: &'static str,
}

const FACTS: [Facts; 7] = [
    Facts {
        name: "server-closes",
        conns: 1,
        conn_state: "SF",
        history: "ShAdfFa",
        first_closer: "server",
        client_state: "CLOSED",
        server_state: "TIME-WAIT",
    },
    Facts {
        name: "client-closes",
        conns: 1,
        conn_state: "SF",
        history: "ShAdFf",
        first_closer: "client",
        client_state: "TIME-WAIT",
        server_state: "CLOSED",
    },
    Facts {
        name: "refused",
        conns: 1,
        conn_state: "REJ",
        history: "Sr",
        first_closer: "server",
        client_state: "CLOSED",
        server_state: "CLOSED",
    },
    Facts {
        name: "reset",
        conns: 1,
        conn_state: "RSTO",
        history: "ShAdR",
        first_closer: "client",
        client_state: "CLOSED",
        server_state: "CLOSED",
    },
    Facts {
        name: "server-reset",
        conns: 1,
        conn_state: "RSTR",
        history: "ShAdDar",
        first_closer: "server",
        client_state: "CLOSED",
        server_state: "CLOSED",
    },
    Facts {
        name: "half-close",
        conns: 1,
        conn_state: "SF",
        history: "ShADaFdf",
        first_closer: "client",
        client_state: "TIME-WAIT",
        server_state: "CLOSED",
    },
    Facts {
        name: "concurrent",
        conns: 20,
        conn_state: "SF",
        history: "ShAdfFa",
        first_closer: "server",
        client_state: "CLOSED",
        server_state: "TIME-WAIT",
    },
];

fn samples_dir() -> PathBuf {
    project_root().join("tests/samples")
}

fn sample(name: &str, ext: &str) -> PathBuf {
    samples_dir().join(format!("{name}.{ext}"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The engine's per-packet TSV and Zeek log for a capture, through the same writers the CLI
/// uses (`#open`/`#close` at the epoch).
fn engine_outputs(capture: &Path) -> (String, String) {
    struct Both {
        packets: PacketWriter<Vec<u8>>,
        conns: ConnWriter<Vec<u8>>,
    }
    impl Sink for Both {
        type Stop = std::io::Error;
        fn packet(&mut self, seg: &Segment, ann: Annotation) -> std::io::Result<()> {
            self.packets.write(seg, &ann)
        }
        fn finished(&mut self, done: ConnSummary) -> std::io::Result<()> {
            self.conns.write(&done)
        }
    }
    let reader = tcplife_capture::open_path(capture).unwrap();
    let sink = Both {
        packets: PacketWriter::new(Vec::new(), PacketFormat::Tsv),
        conns: ConnWriter::new(Vec::new(), ConnFormat::Zeek, UNIX_EPOCH),
    };
    let Both { packets, conns } =
        tcplife_engine::run(Config::default(), reader.map(Result::unwrap), sink).unwrap();
    (
        String::from_utf8(packets.finish().unwrap()).unwrap(),
        String::from_utf8(conns.finish(UNIX_EPOCH).unwrap()).unwrap(),
    )
}

/// A Zeek log without the lines that carry the time it was written.
fn timeless(log: &str) -> String {
    log.lines()
        .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Equality with the first differing line named, so a failure says which frame changed.
fn assert_same(what: &str, got: &str, want: &str) {
    if got == want {
        return;
    }
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let at = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    panic!(
        "{what}: differs at line {} ({} lines, expected {}):\n  got:      {:?}\n  expected: {:?}\n\
         If the engine's change is right, review the new verdicts against RFC 9293 and Zeek, \
         then regenerate the expected files as tests/samples/README.md says.",
        at + 1,
        g.len(),
        w.len(),
        g.get(at).unwrap_or(&"(end)"),
        w.get(at).unwrap_or(&"(end)")
    );
}

#[test]
fn every_sample_has_facts_and_expected_outputs() {
    let mut names: Vec<String> = fs::read_dir(samples_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".pcapng").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut known: Vec<String> = FACTS.iter().map(|f| f.name.to_string()).collect();
    known.sort();
    assert_eq!(names, known, "one entry in FACTS per sample capture");
    for f in &FACTS {
        assert!(sample(f.name, "packets.tsv").is_file(), "{}", f.name);
        assert!(sample(f.name, "conns.zeek").is_file(), "{}", f.name);
    }
}

#[test]
fn engine_reproduces_the_expected_packets_and_conns() {
    for f in &FACTS {
        let (tsv, zeek) = engine_outputs(&sample(f.name, "pcapng"));
        assert_same(
            &format!("{}.packets.tsv", f.name),
            &tsv,
            &read(&sample(f.name, "packets.tsv")),
        );
        assert_same(
            &format!("{}.conns.zeek", f.name),
            &timeless(&zeek),
            &timeless(&read(&sample(f.name, "conns.zeek"))),
        );
    }
}

#[test]
fn expected_files_state_the_lifecycle_facts() {
    for f in &FACTS {
        let log = read(&sample(f.name, "conns.zeek"));
        let fields: Vec<&str> = log
            .lines()
            .find_map(|l| l.strip_prefix("#fields\t"))
            .unwrap()
            .split('\t')
            .collect();
        let col = |name: &str| fields.iter().position(|f| *f == name).unwrap();
        let rows: Vec<Vec<&str>> = log
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(rows.len(), f.conns, "{}", f.name);
        for r in &rows {
            let got = (
                r[col("conn_state")],
                r[col("history")],
                r[col("tcplife_first_closer")],
                r[col("tcplife_client_state")],
                r[col("tcplife_server_state")],
            );
            let want = (
                f.conn_state,
                f.history,
                f.first_closer,
                f.client_state,
                f.server_state,
            );
            assert_eq!(got, want, "{}: {r:?}", f.name);
        }

        // Per packet: every connection opens with the three handshake steps, its phases never
        // go back, and the first closer's FIN is teardown step 1/4.
        let tsv = read(&sample(f.name, "packets.tsv"));
        let mut lines = tsv.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let pkts: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
        let rank = |phase: &str| match phase {
            "handshake" => 0,
            "data transfer" => 1,
            "teardown" => 2,
            "reset" => 3,
            "closed" => 4,
            other => panic!("unknown phase {other}"),
        };
        for conn in 1..=f.conns {
            let conn = conn.to_string();
            let c: Vec<&Vec<&str>> = pkts.iter().filter(|p| p[at("conn")] == conn).collect();
            assert_eq!(
                (c[0][at("role")], c[0][at("event")], c[0][at("step")]),
                ("client", "SYN", "1/3"),
                "{} conn {conn}",
                f.name
            );
            if f.conn_state != "REJ" {
                assert_eq!(c[1][at("step")], "2/3", "{} conn {conn}", f.name);
                assert_eq!(c[2][at("step")], "3/3", "{} conn {conn}", f.name);
                assert_eq!(
                    (c[2][at("client_state")], c[2][at("server_state")]),
                    ("ESTABLISHED", "ESTABLISHED"),
                    "{} conn {conn}",
                    f.name
                );
            }
            assert!(
                c.windows(2)
                    .all(|w| rank(w[0][at("phase")]) <= rank(w[1][at("phase")])),
                "{} conn {conn}: phases go back",
                f.name
            );
            if f.conn_state == "SF" {
                let fin = c.iter().find(|p| p[at("event")] == "FIN").unwrap();
                assert_eq!(
                    (fin[at("role")], fin[at("step")]),
                    (f.first_closer, "1/4"),
                    "{} conn {conn}",
                    f.name
                );
                let last = c.last().unwrap();
                assert_eq!(
                    (last[at("event")], last[at("step")]),
                    ("final ACK", "4/4"),
                    "{} conn {conn}",
                    f.name
                );
            }
        }
    }
}

#[test]
fn cli_prints_the_expected_outputs() {
    let tcplife = workspace_bin("tcplife");
    for f in &FACTS {
        let capture = sample(f.name, "pcapng");
        let run = |args: [&str; 3]| {
            let out = Command::new(&tcplife)
                .args(args)
                .arg(&capture)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_same(
            &format!("tcplife packets --format tsv {}", capture.display()),
            &run(["packets", "--format", "tsv"]),
            &read(&sample(f.name, "packets.tsv")),
        );
        assert_same(
            &format!("tcplife conns --format zeek {}", capture.display()),
            &timeless(&run(["conns", "--format", "zeek"])),
            &timeless(&read(&sample(f.name, "conns.zeek"))),
        );
    }
}
