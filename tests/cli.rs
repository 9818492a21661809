//! The `tcplife` binary as users run it: exit codes, error lines, output formats, stdin.
//!
//! Build the binary first (`cargo build -p tcplife-cli`); `workspace_bin` says so when it is
//! missing. Expected values for http_get.pcap come from Zeek's baseline beside the capture
//! (`http_get.pcap.conn.tsv`) and from tshark on the same file.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tcplife_tests::{shared_captures, workspace_bin};

fn tcplife() -> Command {
    Command::new(workspace_bin("tcplife"))
}

fn run(args: &[&str]) -> Output {
    tcplife().args(args).output().expect("run tcplife")
}

fn http_get() -> PathBuf {
    shared_captures().join("zeek/http_get.pcap")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

/// A scratch file under cargo's per-target temp dir, named after the test so parallel tests
/// never share one.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}

fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status\nstdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// `tcplife packets --format tsv`'s header: `frame` and the schema's fields
/// (tests/samples/*.packets.tsv keep its bytes).
fn tsv_header() -> String {
    tcplife_report::TSV_COLUMNS.join("\t")
}

const ZEEK_FIELDS: &str = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\ttcplife_conn_id\ttcplife_ending\ttcplife_first_closer\ttcplife_client_state\ttcplife_server_state\ttcplife_handshake_rtt";

const ZEEK_TYPES: &str = "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring\tstring\tstring\tstring\tinterval";

#[test]
fn help_everywhere_with_examples() {
    let o = run(&["--help"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("Usage: tcplife [OPTIONS] <COMMAND>"), "{out}");
    for sub in ["conns", "packets", "ladder"] {
        assert!(
            out.contains(&format!("\n  {sub} ")),
            "{sub} not listed:\n{out}"
        );
    }
    for (sub, usage) in [
        ("conns", "Usage: tcplife conns [OPTIONS] <FILE>..."),
        ("packets", "Usage: tcplife packets [OPTIONS] <FILE>"),
        ("ladder", "Usage: tcplife ladder [OPTIONS] <FILE>"),
    ] {
        let o = run(&[sub, "--help"]);
        assert_exit(&o, 0);
        let out = stdout(&o);
        assert!(out.contains(usage), "{out}");
        assert!(out.contains("\nExamples:\n"), "{out}");
        assert!(out.contains(&format!("  tcplife {sub} ")), "{out}");
        assert!(out.contains("--idle-timeout <SECS>"), "{out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&[]);
    assert_exit(&o, 2);
    let o = run(&["conns"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("required arguments were not provided"));
    let o = run(&["packets", "--format", "zeek", "x.pcap"]);
    assert_exit(&o, 2);
    let o = run(&["conns", "--idle-timeout", "0", "x.pcap"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("`0` must be more than 0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file_is_one_error_line() {
    let o = run(&["conns", "/nonexistent/missing.pcap"]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        "tcplife: /nonexistent/missing.pcap: No such file or directory\n"
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn non_capture_is_one_error_line() {
    let p = scratch("not-a-capture.txt", b"hello world, not a capture\n");
    for sub in ["conns", "packets", "ladder"] {
        let o = run(&[sub, path_str(&p)]);
        assert_exit(&o, 2);
        assert_eq!(
            stderr(&o),
            format!(
                "tcplife: {}: not a pcap or pcapng capture (starts with [68, 65, 6c, 6c, 6f, 20, 77, 6f])\n",
                p.display()
            ),
            "{sub}"
        );
        assert_eq!(stdout(&o), "", "{sub}");
    }
}

#[test]
fn empty_and_compressed_inputs_are_errors() {
    let p = scratch("empty.pcap", b"");
    let o = run(&["conns", path_str(&p)]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: empty input: no capture file header\n",
            p.display()
        )
    );
    let p = scratch("gz.pcap.gz", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    let o = run(&["packets", path_str(&p)]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: gzip-compressed capture: decompress it first (e.g. `gzip -dc FILE | tcplife -`)\n",
            p.display()
        )
    );
}

/// A little-endian microsecond pcap with the given link type and one 4-byte frame.
fn pcap_with_linktype(linktype: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&linktype.to_le_bytes());
    for v in [1_000_000u32, 0, 4, 4] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[1, 2, 3, 4]);
    b
}

#[test]
fn unsupported_link_type_is_an_error() {
    let p = scratch("linktype147.pcap", &pcap_with_linktype(147));
    let o = run(&["conns", "--format", "json", path_str(&p)]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: unsupported link type 147 (tcplife reads Ethernet, Linux cooked v1/v2, raw IPv4/IPv6 and BSD loopback captures)\n",
            p.display()
        )
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn one_bad_file_among_several_still_reports_the_others() {
    let good = http_get();
    let o = run(&[
        "conns",
        "--format",
        "json",
        "/nonexistent/a.pcap",
        path_str(&good),
    ]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        "tcplife: /nonexistent/a.pcap: No such file or directory\n"
    );
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["history"], "ShADadFf");
    assert_eq!(v["tcplife_file"], path_str(&good));
}

#[test]
fn truncated_capture_warns_and_reports_what_was_read() {
    let full = std::fs::read(http_get()).unwrap();
    // http_get.pcap's 10th record starts at byte 5925: cut inside it, 9 whole frames remain.
    let p = scratch("truncated.pcap", &full[..5925 + 30]);
    let o = run(&["packets", "--format", "tsv", path_str(&p)]);
    assert_exit(&o, 0);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: warning: the capture ends in the middle of a packet record (cut-off file?); results cover the 9 frames before it\n",
            p.display()
        )
    );
    let out = stdout(&o);
    let frames: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(frames, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // The connection never closed within what was read.
    let o = run(&["conns", "--format", "json", path_str(&p)]);
    assert_exit(&o, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim_end()).unwrap();
    assert_eq!(v["history"], "ShADad");
    assert_eq!(v["conn_state"], "S1");
    assert_eq!(v["orig_pkts"], 3);
    assert_eq!(v["resp_pkts"], 6);
    assert_eq!(v["tcplife_ending"], "never closed");
}

#[test]
fn corrupt_record_is_an_error_after_the_results_so_far() {
    let mut bytes = std::fs::read(http_get()).unwrap();
    // Record 5 starts at byte 508; its captured length (at +8) becomes absurd.
    bytes[508 + 8..508 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let p = scratch("corrupt.pcap", &bytes);
    let o = run(&["conns", "--format", "json", path_str(&p)]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: corrupt capture at byte 508: record claims 2147483663 bytes, over the 16 MiB limit; results cover the 4 frames before it\n",
            p.display()
        )
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim_end()).unwrap();
    assert_eq!(v["history"], "ShAD");
    assert_eq!(v["tcplife_last_frame"], 4);
}

#[test]
fn idle_timeout_reaches_the_engine() {
    // SYN at .869344, SYN-ACK 69.7 ms later: a 50 ms timeout ends the attempt before the reply.
    let o = run(&[
        "conns",
        "--format",
        "json",
        "--idle-timeout",
        "0.05",
        path_str(&http_get()),
    ]);
    assert_exit(&o, 0);
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() > 1, "{}", stdout(&o));
    assert_eq!(rows[0]["conn_state"], "S0");
    assert_eq!(rows[0]["history"], "S");
    assert_eq!(rows[0]["tcplife_last_frame"], 1);
    assert_eq!(rows[0]["tcplife_end_reason"], "idle");
    assert_eq!(rows[1]["tcplife_first_frame"], 2);
}

#[test]
fn several_files_one_after_the_other() {
    let a = http_get();
    let b = shared_captures().join("zeek/tcp_single-rst.pcap");
    let o = run(&["conns", "--format", "table", path_str(&a), path_str(&b)]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert_eq!(lines[0], format!("# {}", a.display()));
    assert!(lines[1].starts_with("conn  client "), "{out}");
    assert!(
        lines[2].starts_with("   1  141.142.228.5:59856  ->  "),
        "{out}"
    );
    assert_eq!(lines[3], "");
    assert_eq!(lines[4], format!("# {}", b.display()));
    // Each file numbers its connections from 1; Zeek calls a lone RST OTH with history R.
    let words: Vec<&str> = lines[6].split_whitespace().collect();
    assert_eq!(words[0], "1");
    assert_eq!(words[4..6], ["OTH", "R"]);

    let o = run(&["conns", "--format", "zeek", path_str(&a), path_str(&b)]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.starts_with("#fields")).count(), 1);
    let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 2, "{out}");
}

/// Runs tcplife with `input` on standard input.
fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = tcplife()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcplife");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from another thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for tcplife");
    writer.join().unwrap();
    out
}

#[test]
fn stdin_gives_the_same_output_as_the_file() {
    let bytes = std::fs::read(http_get()).unwrap();
    for args in [
        &["packets", "--format", "tsv"][..],
        &["packets", "--format", "json"][..],
        &["conns", "--format", "json"][..],
        &["ladder"][..],
    ] {
        let from_file = run(&[args, &[path_str(&http_get())]].concat());
        let from_stdin = run_stdin(&[args, &["-"]].concat(), &bytes);
        assert_exit(&from_file, 0);
        assert_exit(&from_stdin, 0);
        assert!(!from_file.stdout.is_empty());
        assert_eq!(stdout(&from_stdin), stdout(&from_file), "{args:?}");
        assert_eq!(stderr(&from_stdin), "", "{args:?}");
    }
    let o = run_stdin(&["conns", "-"], b"garbage!");
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        "tcplife: <stdin>: not a pcap or pcapng capture (starts with [67, 61, 72, 62, 61, 67, 65, 21])\n"
    );
}

#[test]
fn packets_tsv_header_and_rows() {
    let o = run(&["packets", "--format", "tsv", path_str(&http_get())]);
    assert_exit(&o, 0);
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], tsv_header());
    assert_eq!(lines.len(), 15);
    // Cells by column name (the schema's), not by position.
    let header: Vec<&str> = lines[0].split('\t').collect();
    let rows: Vec<BTreeMap<&str, &str>> = lines[1..]
        .iter()
        .map(|l| header.iter().copied().zip(l.split('\t')).collect())
        .collect();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(
            lines[i + 1].split('\t').count(),
            header.len(),
            "{}",
            lines[i + 1]
        );
        assert_eq!(r["frame"], (i + 1).to_string());
        assert_eq!(r["conn"], "1");
    }
    // Who sent each frame, from tshark's ip.src.
    let roles: Vec<&str> = rows.iter().map(|r| r["role"]).collect();
    let c = "client";
    let s = "server";
    assert_eq!(roles, [c, s, c, c, s, s, s, s, s, c, c, c, s, c]);
    // Zeek's history letters as each packet adds them.
    let history: Vec<&str> = rows.iter().map(|r| r["history"]).collect();
    assert_eq!(
        history,
        [
            "S", "Sh", "ShA", "ShAD", "ShADa", "ShADad", "ShADad", "ShADad", "ShADad", "ShADad",
            "ShADad", "ShADadF", "ShADadFf", "ShADadFf"
        ]
    );
    let handshake: Vec<(&str, &str, &str)> = rows[..3]
        .iter()
        .map(|r| (r["event"], r["phase"], r["step"]))
        .collect();
    assert_eq!(
        handshake,
        [
            ("SYN", "handshake", "1/3"),
            ("SYN-ACK", "handshake", "2/3"),
            ("handshake ACK", "handshake", "3/3"),
        ]
    );
    assert_eq!(rows[0]["client_state"], "SYN-SENT");
    assert_eq!(rows[2]["client_state"], "ESTABLISHED");
    assert_eq!(rows[2]["server_state"], "ESTABLISHED");
    assert_eq!(rows[3]["phase"], "data transfer");
    // The handshake RTT is unknown until the handshake completes: SYN at .869344, its
    // completing ACK at .939378 (tshark's frame.time_epoch).
    assert_eq!(rows[1]["handshake_rtt"], "");
    assert_eq!(rows[2]["handshake_rtt"], "0.070034000");
    assert_eq!(rows[13]["handshake_rtt"], "0.070034000");
    assert_eq!(rows[11]["phase"], "teardown");
    assert_eq!(rows[13]["conn_state"], "SF");
}

#[test]
fn conns_zeek_log_matches_zeek() {
    let o = run(&["conns", "--format", "zeek", path_str(&http_get())]);
    assert_exit(&o, 0);
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tconn"
        ]
    );
    assert!(lines[5].starts_with("#open\t20"), "{}", lines[5]);
    assert_eq!(lines[5].len(), "#open\t2026-11-26-06-07-39".len());
    assert_eq!(lines[6], ZEEK_FIELDS);
    assert_eq!(lines[7], ZEEK_TYPES);
    assert_eq!(lines.len(), 10, "{out}");
    assert!(lines[9].starts_with("#close\t20"), "{}", lines[9]);
    let row: Vec<&str> = lines[8].split('\t').collect();
    assert_eq!(row.len(), 27);
    assert!(
        row[1].starts_with('C') && row[1].len() >= 10,
        "uid {}",
        row[1]
    );
    let without_uid: Vec<&str> = row
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, v)| *v)
        .collect();
    // Zeek's baseline: 141.142.228.5:59856 -> 192.150.187.43:80, SF, ShADadFf, 7/7 packets;
    // times, bytes and IP bytes from tshark (ip.len sums 512 and 5379).
    assert_eq!(
        without_uid,
        [
            "1362692526.869344",
            "141.142.228.5",
            "59856",
            "192.150.187.43",
            "80",
            "tcp",
            "-",
            "0.211628",
            "136",
            "5007",
            "SF",
            "-",
            "-",
            "0",
            "ShADadFf",
            "7",
            "512",
            "7",
            "5379",
            "-",
            "1",
            "closed normally",
            "client",
            "TIME-WAIT",
            "CLOSED",
            "0.070034",
        ]
    );
}

#[test]
fn conns_default_format_off_a_terminal_is_zeek() {
    let o = run(&["conns", path_str(&http_get())]);
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with("#separator \\x09\n"));
    let o = run(&["packets", path_str(&http_get())]);
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with(&format!("{}\n", tsv_header())));
}

#[test]
fn conns_table_for_people() {
    let o = run(&["conns", "--format", "table", path_str(&http_get())]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("conn  client "), "{out}");
    let words: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        words,
        [
            "1",
            "141.142.228.5:59856",
            "->",
            "192.150.187.43:80",
            "SF",
            "ShADadFf",
            "closed",
            "normally",
            "client",
            "TIME-WAIT",
            "CLOSED",
            "0.211628",
            "70.034",
            "7/7",
            "136/5007"
        ]
    );
}

#[test]
fn ladder_shows_the_handshake_in_order() {
    let o = run(&["ladder", path_str(&http_get())]);
    assert_exit(&o, 0);
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "connection 1: client 141.142.228.5:59856  <->  server 192.150.187.43:80"
    );
    // One arrow per segment, in frame order; relative numbers as tshark shows them.
    let arrows: Vec<&str> = lines.iter().copied().filter(|l| l.contains('|')).collect();
    assert_eq!(arrows.len(), 14, "{out}");
    let start = |l: &str| l.split_whitespace().next().unwrap().to_string();
    assert_eq!(
        arrows.iter().map(|l| start(l)).collect::<Vec<_>>(),
        (1..=14).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    assert!(arrows[0].contains("|-- SYN seq=0 len=0 ---"), "{out}");
    assert!(arrows[0].contains("->|  handshake 1/3 "), "{out}");
    assert!(arrows[1].contains("|<--"), "{out}");
    assert!(
        arrows[1].contains(" SYN,ACK seq=0 ack=1 len=0 --|  handshake 2/3 "),
        "{out}"
    );
    assert!(arrows[2].contains("|-- ACK seq=1 ack=1 len=0 ---"), "{out}");
    assert!(arrows[2].contains("->|  handshake 3/3 "), "{out}");
    assert!(
        arrows[3].contains("|-- PSH,ACK seq=1 ack=1 len=136 ---"),
        "{out}"
    );
    assert!(
        arrows[11].contains("|-- FIN,ACK seq=137 ack=5008 len=0 ---"),
        "{out}"
    );
    assert!(
        arrows[12].contains(" FIN,ACK seq=5008 ack=138 len=0 --|"),
        "{out}"
    );
    let bars = |l: &str| (l.find('|').unwrap(), l.rfind('|').unwrap());
    assert!(arrows.iter().all(|l| bars(l) == bars(arrows[0])), "{out}");
    assert!(out.contains(
        "\nended: closed normally (conn_state SF, history ShADadFf); first to close: client\n"
    ));
}

#[test]
fn ladder_names_the_connections_when_the_id_is_missing() {
    let o = run(&["ladder", "--conn", "99", path_str(&http_get())]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: no connection 99; connections are numbered 1 to 1\n     1  141.142.228.5:59856 -> 192.150.187.43:80\n",
            http_get().display()
        )
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn json_lines_parse() {
    let o = run(&["conns", "--format", "json", path_str(&http_get())]);
    assert_exit(&o, 0);
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("conn JSON line"))
        .collect();
    assert_eq!(rows.len(), 1);
    let c = &rows[0];
    assert_eq!(c["id.orig_h"], "141.142.228.5");
    assert_eq!(c["id.orig_p"], 59856);
    assert_eq!(c["id.resp_h"], "192.150.187.43");
    assert_eq!(c["id.resp_p"], 80);
    assert_eq!(c["conn_state"], "SF");
    assert_eq!(c["history"], "ShADadFf");
    assert_eq!(c["orig_pkts"], 7);
    assert_eq!(c["resp_pkts"], 7);
    assert_eq!(c["missed_bytes"], 0);
    assert_eq!(c["tcplife_first_frame"], 1);
    assert_eq!(c["tcplife_last_frame"], 14);
    assert!(c.get("tcplife_file").is_none());

    let o = run(&["packets", "--format", "json", path_str(&http_get())]);
    assert_exit(&o, 0);
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("packet JSON line"))
        .collect();
    assert_eq!(rows.len(), 14);
    let frames: Vec<u64> = rows.iter().map(|r| r["frame"].as_u64().unwrap()).collect();
    assert_eq!(frames, (1..=14).collect::<Vec<u64>>());
    assert_eq!(rows[1]["flags"], "SYN,ACK");
    assert_eq!(rows[1]["src"], "192.150.187.43");
    assert_eq!(rows[1]["step"], "2/3");
    assert_eq!(rows[3]["len"], 136);
    assert!(rows[4]["step"].is_null());
    assert!(rows[0]["handshake_rtt"].is_null());
    assert_eq!(rows[13]["history"], "ShADadFf");
}

#[test]
fn skipped_frames_are_summed_up_on_stderr() {
    let p = shared_captures().join("zeek/wikipedia.pcap");
    let o = run(&["conns", "--format", "json", path_str(&p)]);
    assert_exit(&o, 0);
    // tshark: 136 frames, 78 TCP, 48 UDP, 6 ARP and 4 STP.
    assert_eq!(
        stderr(&o),
        format!(
            "tcplife: {}: skipped 58 of 136 frames: 10 not-ip, 48 not-tcp\n",
            p.display()
        )
    );
    assert_eq!(stdout(&o).lines().count(), 10);
}

#[test]
fn closed_pipe_ends_quietly() {
    let p = shared_captures().join("perf/echo-connections.pcap");
    let mut child = tcplife()
        .args(["packets", "--format", "tsv", path_str(&p)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcplife");
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    out.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"frame\tconn\t"));
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert_eq!(stderr(&o), "");
}
