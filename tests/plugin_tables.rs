//! The plugin's two connection windows, through tshark's side of the same registrations (real
//! tshark, the real plugin, as an unprivileged user with the plugin in a private folder):
//! - `-z tcplife,table` is the table behind Statistics > TCP Lifecycle Connections (Wireshark's
//!   "simple statistics" dialog: the verdict columns, each sortable);
//! - `-z tcplife,srt` is the table behind Statistics > Service Response Time > TCPLife, whose
//!   rows give Apply as Filter with `tcplife.conn==N`.
//!
//! On every capture of the tests (Zeek's and tests/samples/), both list every connection once
//! with the values `tcplife conns` prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tcplife_tests::{project_root, shared_captures, workspace_bin, workspace_plugins};

fn ok<T>(r: tshark_testkit::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn sandbox() -> tshark_testkit::Sandbox {
    let sb = ok(tshark_testkit::Sandbox::new("tcplife-tables-test"));
    let plugins = workspace_plugins();
    for p in &plugins {
        ok(sb.install(&p.name, &p.lib));
    }
    ok(sb.check_loaded(plugins.iter().map(|p| p.name.as_str())));
    sb
}

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        [".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"]
            .iter()
            .any(|ext| name.ends_with(ext))
    });
    v.sort();
    v
}

/// Zeek's captures and the project's samples, as the other plugin tests use.
fn captures() -> Vec<PathBuf> {
    let mut v = captures_in(&shared_captures().join("zeek"));
    assert!(
        v.len() >= 10,
        "expected the Zeek captures under {}",
        shared_captures().display()
    );
    v.extend(captures_in(&project_root().join("tests/samples")));
    v
}

fn cli(args: &[&str], capture: &Path) -> String {
    let out = Command::new(workspace_bin("tcplife"))
        .args(args)
        .arg(capture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tcplife {args:?} {}",
        capture.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One connection as `tcplife conns` gives it: the words from its JSON form, the numbers as
/// its table prints them (duration(s), rtt(ms) or `-`, pkts c/s, bytes c/s).
#[derive(Debug, Clone, PartialEq)]
struct Conn {
    client: String,
    server: String,
    conn_state: String,
    history: String,
    ending: String,
    first_closer: String,
    client_end: String,
    server_end: String,
    duration: String,
    rtt: String,
    pkts: (u64, u64),
    bytes: (u64, u64),
}

fn endpoint(host: &str, port: &serde_json::Value) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn pair(cell: &str) -> (u64, u64) {
    let (a, b) = cell.split_once('/').expect("a c/s pair");
    (a.parse().unwrap(), b.parse().unwrap())
}

fn cli_conns(capture: &Path) -> BTreeMap<u64, Conn> {
    // The table's last four cells are the numbers; its first is the connection.
    let mut numbers: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in cli(&["conns", "--format", "table"], capture)
        .lines()
        .skip(1)
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let tail = words[words.len() - 4..].iter().map(|s| s.to_string());
        numbers.insert(words[0].parse().unwrap(), tail.collect());
    }
    let mut conns = BTreeMap::new();
    for line in cli(&["conns", "--format", "json"], capture).lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = r["tcplife_conn_id"].as_u64().unwrap();
        let n = &numbers[&id];
        let text = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        conns.insert(
            id,
            Conn {
                client: endpoint(r["id.orig_h"].as_str().unwrap(), &r["id.orig_p"]),
                server: endpoint(r["id.resp_h"].as_str().unwrap(), &r["id.resp_p"]),
                conn_state: text("conn_state"),
                history: text("history"),
                ending: text("tcplife_ending"),
                first_closer: text("tcplife_first_closer"),
                client_end: text("tcplife_client_state"),
                server_end: text("tcplife_server_state"),
                duration: n[0].clone(),
                rtt: n[1].clone(),
                pkts: pair(&n[2]),
                bytes: pair(&n[3]),
            },
        );
    }
    assert_eq!(conns.len(), numbers.len(), "{}", capture.display());
    conns
}

const TABLE_HEADER: &str = "conn |client |server |conn_state |history |ending |closed first |client end |server end |duration(s) |pkts c |pkts s |bytes c |bytes s |rtt(ms) |";

/// The rows of tshark's `-z tcplife,table` output, by connection, in the order printed.
fn table_rows(out: &str) -> Vec<(u64, Conn)> {
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "TCP Lifecycle Connections:")
        .unwrap_or_else(|| panic!("no table in tshark's output:\n{out}"));
    assert_eq!(lines[at + 2], TABLE_HEADER, "{out}");
    assert_eq!(lines[at + 3], "Connections", "{out}");
    let mut rows = Vec::new();
    for line in &lines[at + 4..] {
        if line.starts_with("=====") {
            return rows;
        }
        let cells: Vec<&str> = line.split(" |").collect();
        // 15 cells and the empty rest after the last " |"; without an RTT tshark stops at the
        // empty cell, one earlier.
        let rtt = match cells.len() {
            16 => cells[14].to_string(),
            15 => "-".to_string(),
            n => panic!("{n} cells in {line:?}"),
        };
        let num = |i: usize| -> u64 { cells[i].parse().unwrap() };
        rows.push((
            num(0),
            Conn {
                client: cells[1].into(),
                server: cells[2].into(),
                conn_state: cells[3].into(),
                history: cells[4].into(),
                ending: cells[5].into(),
                first_closer: cells[6].into(),
                client_end: cells[7].into(),
                server_end: cells[8].into(),
                duration: cells[9].into(),
                rtt,
                pkts: (num(10), num(11)),
                bytes: (num(12), num(13)),
            },
        ));
    }
    panic!("no closing rule:\n{out}")
}

/// `tshark -q -2 -r CAPTURE -z STAT` on a copy tshark's user can read.
fn two_pass_stat(sb: &tshark_testkit::Sandbox, capture: &Path, stat: &str) -> String {
    let copy = ok(sb.capture(capture));
    ok(sb.tshark_ok(&["-q", "-2", "-r", &copy.to_string_lossy(), "-z", stat]))
}

/// `tshark -2 -z tcplife,table` lists every connection once, each with the verdict and the
/// numbers `tcplife conns` prints for it, on every capture of the tests.
#[test]
fn connection_table_equals_tcplife_conns_on_every_capture() {
    let sb = sandbox();
    let mut total = 0;
    for capture in captures() {
        let want = cli_conns(&capture);
        let out = two_pass_stat(&sb, &capture, "tcplife,table");
        let rows = table_rows(&out);
        let got: BTreeMap<u64, Conn> = rows.iter().cloned().collect();
        assert_eq!(got.len(), rows.len(), "a connection listed twice:\n{out}");
        assert_eq!(got, want, "{}", capture.display());
        total += rows.len();
    }
    // 80 when written: Zeek's captures and the samples.
    assert!(total >= 80, "only {total} connections in all the captures");
}

/// With a display filter after the name, the table lists the connections with a frame that
/// passes it, tcplife's own fields included; in one pass it is empty, as the endings are known
/// only once the first pass is over.
#[test]
fn connection_table_takes_a_display_filter_and_needs_two_passes() {
    let sb = sandbox();
    let pop3 = ok(sb.capture(&shared_captures().join("zeek/pop3_pop3.pcap")));
    let pop3 = pop3.to_string_lossy();
    let out = ok(sb.tshark_ok(&[
        "-q",
        "-2",
        "-r",
        &pop3,
        "-z",
        "tcplife,table,tcp.port == 26284 || tcplife.conn_state == \"REJ\"",
    ]));
    let ids: Vec<u64> = table_rows(&out).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 8], "{out}");
    assert!(
        out.contains("Filter for statistics: tcp.port == 26284 ||"),
        "{out}"
    );
    let one_pass = ok(sb.tshark_ok(&["-q", "-r", &pop3, "-z", "tcplife,table"]));
    assert_eq!(table_rows(&one_pass), [], "{one_pass}");
}

/// tshark's SRT rows: (index, label, calls, min, max, avg, sum).
fn srt_rows(out: &str) -> Vec<(u64, String, u64, [String; 4])> {
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "TCPLife SRT Statistics:")
        .unwrap_or_else(|| panic!("no SRT table in tshark's output:\n{out}"));
    assert_eq!(lines[at + 1], "Filter: tcplife.conn", "{out}");
    assert!(
        lines[at + 2].starts_with("Index  Verdict") && lines[at + 2].ends_with("Sum SRT"),
        "{out}"
    );
    let mut rows = Vec::new();
    for line in &lines[at + 3..] {
        if line.starts_with("=====") {
            return rows;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let n = words.len();
        // The label is what lies between the index and the five numbers.
        let mut rest = line.trim_end();
        for _ in 0..5 {
            rest = rest[..rest.rfind(' ').unwrap()].trim_end();
        }
        let label = rest.trim_start()[words[0].len()..].trim();
        rows.push((
            words[0].parse().unwrap(),
            label.to_string(),
            words[n - 5].parse().unwrap(),
            [
                words[n - 4].into(),
                words[n - 3].into(),
                words[n - 2].into(),
                words[n - 1].into(),
            ],
        ));
    }
    panic!("no closing rule:\n{out}")
}

/// `tshark -2 -z tcplife,srt`: every connection once, at its number (the Index the GUI's Apply
/// as Filter turns into `tcplife.conn==N`), labelled with its verdict in words, as one call
/// whose time is the connection's duration, on every capture of the tests.
#[test]
fn response_table_lists_every_connection_at_its_number() {
    let sb = sandbox();
    for capture in captures() {
        let want = cli_conns(&capture);
        let out = two_pass_stat(&sb, &capture, "tcplife,srt");
        let rows = srt_rows(&out);
        let ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(
            ids,
            want.keys().copied().collect::<Vec<_>>(),
            "{}",
            capture.display()
        );
        for (id, label, calls, times) in &rows {
            let c = &want[id];
            let rtt = if c.rtt == "-" {
                "-".to_string()
            } else {
                format!("{} ms", c.rtt)
            };
            let history = if c.history.is_empty() {
                "-"
            } else {
                &c.history
            };
            assert_eq!(
                *label,
                format!(
                    "{}: {} {}, closed first: {}, final: client {}, server {}; {} -> {}; rtt {rtt}; pkts {}/{}; bytes {}/{}",
                    c.ending, c.conn_state, history, c.first_closer, c.client_end, c.server_end,
                    c.client, c.server, c.pkts.0, c.pkts.1, c.bytes.0, c.bytes.1
                ),
                "{}",
                capture.display()
            );
            assert_eq!(*calls, 1, "{label}");
            // Min, max, average and sum of one call: the duration each time.
            for t in times {
                assert_eq!(*t, c.duration, "conn {id} of {}", capture.display());
            }
        }
    }
}

/// The filter a row of the response table applies, `tcplife.conn==N`, selects exactly the
/// connection's packets: as many frames as `tcplife conns` counts packets for it (client and
/// server), for every connection of every capture of the tests.
#[test]
fn the_row_filter_selects_the_connection() {
    let sb = sandbox();
    for capture in captures() {
        let want = cli_conns(&capture);
        let copy = ok(sb.capture(&capture));
        let copy = copy.to_string_lossy();
        for (id, c) in &want {
            let filter = format!("tcplife.conn=={id}");
            let frames = ok(sb.fields(&["-r", &copy, "-Y", &filter], &["frame.number"]));
            assert_eq!(
                frames.lines().count() as u64,
                c.pkts.0 + c.pkts.1,
                "{filter} on {}",
                capture.display()
            );
        }
    }
}
