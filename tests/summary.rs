//! `tcplife summary` against `tcplife conns` on the same files: every count, RTT percentile,
//! server list and unclosed connection must follow from the conns rows, and a few are pinned
//! to exact values read off the conns tables in docs/cli.md.
//!
//! Build the binary first (`cargo build -p tcplife-cli`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use tcplife_tests::{shared_captures, workspace_bin};

fn zeek_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(shared_captures().join("zeek"))
        .expect("../shared/captures/zeek")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 15,
        "expected the shared Zeek captures, got {v:?}"
    );
    v
}

fn tcplife(args: &[&str], files: &[PathBuf]) -> String {
    let out = Command::new(workspace_bin("tcplife"))
        .args(args)
        .args(files)
        .output()
        .expect("run tcplife");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn conns(files: &[PathBuf]) -> Vec<Value> {
    tcplife(&["conns", "--format", "json"], files)
        .lines()
        .map(|l| serde_json::from_str(l).expect("conns JSON line"))
        .collect()
}

fn summary(files: &[PathBuf], extra: &[&str]) -> Value {
    let mut args = vec!["summary", "--format", "json"];
    args.extend_from_slice(extra);
    let text = tcplife(&args, files);
    assert_eq!(text.lines().count(), 1, "one JSON object: {text}");
    serde_json::from_str(&text).expect("summary JSON")
}

fn is_unclosed(ending: &str) -> bool {
    !matches!(
        ending,
        "closed normally" | "refused" | "reset by client" | "reset by server"
    )
}

/// Checks a summary against the conns rows of the same files, computed here independently.
fn check_against_conns(files: &[PathBuf]) {
    let rows = conns(files);
    let s = summary(files, &["--top", "100000"]);
    let name = format!("{files:?}");
    assert_eq!(s["connections"], rows.len() as u64, "{name}");

    let mut by_ending: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for r in &rows {
        *by_ending
            .entry(r["tcplife_ending"].as_str().unwrap().into())
            .or_default() += 1;
        *by_state
            .entry(r["conn_state"].as_str().unwrap().into())
            .or_default() += 1;
    }
    for (k, v) in s["by_ending"].as_object().unwrap() {
        assert_eq!(
            v.as_u64().unwrap(),
            by_ending.get(k).copied().unwrap_or(0),
            "{name}: ending {k}"
        );
    }
    for (k, v) in s["by_conn_state"].as_object().unwrap() {
        assert_eq!(
            v.as_u64().unwrap(),
            by_state.get(k).copied().unwrap_or(0),
            "{name}: conn_state {k}"
        );
    }
    // Every ending and conn_state the rows have is a key of the summary.
    assert!(by_ending.keys().all(|k| s["by_ending"].get(k).is_some()));
    assert!(by_state.keys().all(|k| s["by_conn_state"].get(k).is_some()));

    // Nearest rank over the rows' RTTs, as printed (seconds, 6 decimals).
    let mut rtts: Vec<f64> = rows
        .iter()
        .filter_map(|r| r["tcplife_handshake_rtt"].as_f64())
        .collect();
    rtts.sort_by(f64::total_cmp);
    let h = &s["handshake_rtt"];
    assert_eq!(h["percentile"], "nearest-rank");
    assert_eq!(h["connections"], rtts.len() as u64, "{name}");
    let rank = |p: f64| -> Option<f64> {
        let n = rtts.len();
        (n > 0).then(|| rtts[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1])
    };
    for (key, want) in [
        ("min", rtts.first().copied()),
        ("p50", rank(50.0)),
        ("p90", rank(90.0)),
        ("p95", rank(95.0)),
        ("p99", rank(99.0)),
        ("max", rtts.last().copied()),
    ] {
        assert_eq!(h[key].as_f64(), want, "{name}: RTT {key}");
    }

    // Servers: resets and refusals per responder address and port.
    let mut servers: BTreeMap<(String, u64), [u64; 4]> = BTreeMap::new();
    for r in &rows {
        let key = (
            r["id.resp_h"].as_str().unwrap().to_string(),
            r["id.resp_p"].as_u64().unwrap(),
        );
        let c = servers.entry(key).or_default();
        c[0] += 1;
        match r["tcplife_ending"].as_str().unwrap() {
            "reset by client" => c[1] += 1,
            "reset by server" => c[2] += 1,
            "refused" => c[3] += 1,
            _ => {}
        }
    }
    let listed = |list: &Value| -> BTreeMap<(String, u64), Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    (
                        e["id.resp_h"].as_str().unwrap().to_string(),
                        e["id.resp_p"].as_u64().unwrap(),
                    ),
                    e.clone(),
                )
            })
            .collect()
    };
    let resets = listed(&s["top_reset_servers"]);
    let refused = listed(&s["top_refusing_servers"]);
    for (key, c) in &servers {
        match resets.get(key) {
            Some(e) => {
                assert_eq!(e["connections"], c[0], "{name}: {key:?}");
                assert_eq!(e["by_client"], c[1], "{name}: {key:?}");
                assert_eq!(e["by_server"], c[2], "{name}: {key:?}");
                assert_eq!(e["resets"], c[1] + c[2], "{name}: {key:?}");
            }
            None => assert_eq!(c[1] + c[2], 0, "{name}: {key:?} has resets, not listed"),
        }
        match refused.get(key) {
            Some(e) => {
                assert_eq!(e["connections"], c[0], "{name}: {key:?}");
                assert_eq!(e["refused"], c[3], "{name}: {key:?}");
            }
            None => assert_eq!(c[3], 0, "{name}: {key:?} has refusals, not listed"),
        }
    }
    // Most first.
    for list in [&s["top_reset_servers"], &s["top_refusing_servers"]] {
        let key = if std::ptr::eq(list, &s["top_reset_servers"]) {
            "resets"
        } else {
            "refused"
        };
        let counts: Vec<u64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[key].as_u64().unwrap())
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]),
            "{name}: {counts:?}"
        );
    }

    // Unclosed: exactly the rows whose ending is none of the four closing ones, in order.
    let want: Vec<(u64, String, String)> = rows
        .iter()
        .filter(|r| is_unclosed(r["tcplife_ending"].as_str().unwrap()))
        .map(|r| {
            (
                r["tcplife_conn_id"].as_u64().unwrap(),
                r["uid"].as_str().unwrap().to_string(),
                r["tcplife_ending"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let got: Vec<(u64, String, String)> = s["unclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["tcplife_conn_id"].as_u64().unwrap(),
                u["uid"].as_str().unwrap().to_string(),
                u["tcplife_ending"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "{name}");
    assert_eq!(s["unclosed_total"], want.len() as u64, "{name}");
}

#[test]
fn every_zeek_capture_agrees_with_conns() {
    for f in zeek_captures() {
        check_against_conns(&[f]);
    }
}

#[test]
fn all_zeek_captures_together_agree_with_conns() {
    check_against_conns(&zeek_captures());
}

#[test]
fn pop3_exact_values() {
    // docs/cli.md's conns table: 6 refused (3 to each of two servers), 5 closed normally with
    // RTTs 65.900, 3045.856, 48.224, 54.446, 48.825 ms.
    let f = [shared_captures().join("zeek/pop3_pop3.pcap")];
    let s = summary(&f, &[]);
    assert_eq!(s["connections"], 11);
    assert_eq!(s["by_ending"]["refused"], 6);
    assert_eq!(s["by_ending"]["closed normally"], 5);
    assert_eq!(s["by_conn_state"]["REJ"], 6);
    assert_eq!(s["by_conn_state"]["SF"], 5);
    let h = &s["handshake_rtt"];
    assert_eq!(h["connections"], 5);
    assert_eq!(h["min"].as_f64(), Some(0.048224));
    // Ranks ceil(2.5) = 3 and ceil(4.5) = 5 of 48.224, 48.825, 54.446, 65.900, 3045.856.
    assert_eq!(h["p50"].as_f64(), Some(0.054446));
    assert_eq!(h["p90"].as_f64(), Some(3.045856));
    assert_eq!(h["max"].as_f64(), Some(3.045856));
    assert_eq!(
        s["top_refusing_servers"],
        serde_json::json!([
            {"id.resp_h": "212.227.15.171", "id.resp_p": 110, "refused": 3, "connections": 3},
            {"id.resp_h": "212.227.15.188", "id.resp_p": 110, "refused": 3, "connections": 3},
        ])
    );
    assert_eq!(s["top_reset_servers"], serde_json::json!([]));
    assert_eq!(s["unclosed_total"], 0);

    let table = tcplife(&["summary"], &f);
    assert!(
        table.starts_with(
            "11 TCP connections in 1 file\n\nby ending\nending           conns     %\nrefused              6  54.5\nclosed normally      5  45.5\n"
        ),
        "{table}"
    );
    assert!(
        table.contains("   min     p50       p90       p95       p99       max\n48.224  54.446  3045.856  3045.856  3045.856  3045.856\n"),
        "{table}"
    );
}

#[test]
fn unclosed_list_is_bounded_by_top_and_counts_stay_whole() {
    // wikipedia.pcap: 10 connections, none closed (8 never closed, 1 midstream, 1 handshake
    // incomplete).
    let f = [shared_captures().join("zeek/wikipedia.pcap")];
    let s = summary(&f, &["--top", "3"]);
    assert_eq!(s["connections"], 10);
    assert_eq!(s["by_ending"]["never closed"], 8);
    assert_eq!(s["by_ending"]["midstream, not closed"], 1);
    assert_eq!(s["by_ending"]["handshake incomplete"], 1);
    assert_eq!(s["unclosed_total"], 10);
    let ids: Vec<u64> = s["unclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["tcplife_conn_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    let table = tcplife(&["summary", "--top", "3"], &f);
    assert!(
        table.contains("unclosed connections (closed neither by FINs nor by a RST): 10\n"),
        "{table}"
    );
    assert!(
        table.ends_with("  ... 7 more (--top N shows more; tcplife conns lists all)\n"),
        "{table}"
    );
}

#[test]
fn unreadable_input_fails_but_the_rest_is_summarised() {
    let good = shared_captures().join("zeek/http_get.pcap");
    let out = Command::new(workspace_bin("tcplife"))
        .args(["summary", "--format", "json"])
        .arg(&good)
        .arg("/nonexistent.pcap")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["files"].as_array().unwrap().len(), 1);
    assert_eq!(s["connections"], 1);
    assert_eq!(s["by_ending"]["closed normally"], 1);
    assert_eq!(s["handshake_rtt"]["p50"].as_f64(), Some(0.070034));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "tcplife: /nonexistent.pcap: No such file or directory\n"
    );
}

#[test]
fn help_says_how_percentiles_are_taken() {
    let out = Command::new(workspace_bin("tcplife"))
        .args(["summary", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Usage: tcplife summary [OPTIONS] <FILE>..."),
        "{text}"
    );
    assert!(
        text.contains("nearest-rank percentiles p50/p90/p95/p99"),
        "{text}"
    );
    assert!(text.contains("--top <N>"), "{text}");
    let out = Command::new(workspace_bin("tcplife"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("\n  summary "));
}
