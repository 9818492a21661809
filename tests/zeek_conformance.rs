//! tcplife's connection verdicts against Zeek's own: for every capture in
//! `../shared/captures/zeek/`, each connection's originator, `conn_state`, `history`, packet
//! counts and `missed_bytes` must equal the baseline's (where the baseline shows them), except
//! the deliberate differences listed in `DELIBERATE`, each with its reason. A listed difference
//! that stops being one fails the test too, so the list stays true.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tcplife_engine::ConnSummary;
use tcplife_tests::{analyse, shared_captures};

/// A connection where tcplife differs from Zeek on purpose.
struct Deliberate {
    capture: &'static str,
    /// The baseline's uid of the connection.
    uid: &'static str,
    why: &'static str,
}

const DELIBERATE: &[Deliberate] = &[];

#[derive(Debug)]
struct Row {
    uid: String,
    orig: (String, String),
    resp: (String, String),
    conn_state: String,
    history: String,
    orig_pkts: String,
    resp_pkts: String,
    missed_bytes: String,
}

fn baseline(path: &PathBuf) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_uid, c_oh, c_op, c_rh, c_rp) = (
        col("uid"),
        col("id.orig_h"),
        col("id.orig_p"),
        col("id.resp_h"),
        col("id.resp_p"),
    );
    let (c_state, c_hist, c_opk, c_rpk, c_miss) = (
        col("conn_state"),
        col("history"),
        col("orig_pkts"),
        col("resp_pkts"),
        col("missed_bytes"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                uid: f[c_uid].into(),
                orig: (f[c_oh].into(), f[c_op].into()),
                resp: (f[c_rh].into(), f[c_rp].into()),
                conn_state: f[c_state].into(),
                history: f[c_hist].into(),
                orig_pkts: f[c_opk].into(),
                resp_pkts: f[c_rpk].into(),
                missed_bytes: f[c_miss].into(),
            }
        })
        .collect()
}

type Pair = ((String, String), (String, String));

fn pair(a: (String, String), b: (String, String)) -> Pair {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Differences between one baseline row and tcplife's summary of the same connection.
fn compare(row: &Row, s: &ConnSummary) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: &str, zeek: &str, ours: String| {
        if zeek != "-" && zeek != ours {
            diffs.push(format!("{what}: zeek {zeek}, tcplife {ours}"));
        }
    };
    check(
        "originator",
        &if row.orig.0 == "-" {
            "-".to_string()
        } else {
            format!("{}:{}", row.orig.0, row.orig.1)
        },
        format!("{}:{}", s.orig_h, s.orig_p),
    );
    check("conn_state", &row.conn_state, s.conn_state.as_str().into());
    check("history", &row.history, s.history.to_string());
    check("orig_pkts", &row.orig_pkts, s.orig_pkts.to_string());
    check("resp_pkts", &row.resp_pkts, s.resp_pkts.to_string());
    check(
        "missed_bytes",
        &row.missed_bytes,
        s.missed_bytes.to_string(),
    );
    diffs
}

#[test]
fn conn_state_and_history_match_zeek() {
    let dir = shared_captures().join("zeek");
    let mut captures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    captures.sort();
    assert!(captures.len() >= 15, "expected the shared Zeek captures");

    let mut total = 0usize;
    let mut failures = Vec::new();
    let mut deliberate_seen = Vec::new();
    for cap in &captures {
        let name = cap.file_name().unwrap().to_string_lossy().to_string();
        let rows = baseline(&PathBuf::from(format!("{}.conn.tsv", cap.display())));
        let (_, summaries) = analyse(cap);

        // Connections on the same ports, in time order on both sides.
        let mut ours: BTreeMap<Pair, Vec<&ConnSummary>> = BTreeMap::new();
        let mut sorted: Vec<&ConnSummary> = summaries.iter().collect();
        sorted.sort_by_key(|s| (s.ts_ns, s.conn_id));
        for s in sorted {
            let key = pair(
                (s.orig_h.to_string(), s.orig_p.to_string()),
                (s.resp_h.to_string(), s.resp_p.to_string()),
            );
            ours.entry(key).or_default().push(s);
        }
        // Some baselines print only the verdict of the capture's single connection.
        let anonymous: Vec<&Row> = rows.iter().filter(|r| r.orig.0 == "-").collect();
        if !anonymous.is_empty() {
            assert_eq!(rows.len(), anonymous.len(), "{name}: mixed baseline");
            assert_eq!(
                summaries.len(),
                anonymous.len(),
                "{name}: baseline has {} connection(s), tcplife {}",
                anonymous.len(),
                summaries.len()
            );
            for (row, s) in anonymous.iter().zip(&summaries) {
                total += 1;
                let diffs = compare(row, s);
                if !diffs.is_empty() {
                    failures.push(format!("{name}: {}", diffs.join("; ")));
                }
            }
            continue;
        }
        let mut theirs: BTreeMap<Pair, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            theirs
                .entry(pair(r.orig.clone(), r.resp.clone()))
                .or_default()
                .push(r);
        }
        for (key, zrows) in &theirs {
            let mine = ours.get(key).map(Vec::as_slice).unwrap_or(&[]);
            // Zeek orders rows by when they were logged; on one port pair that is time order,
            // except that a connection still open at the end is logged last.
            for (i, row) in zrows.iter().enumerate() {
                total += 1;
                let diffs = match mine.get(i) {
                    Some(s) => compare(row, s),
                    None => vec![format!("tcplife has no connection #{i} on {key:?}")],
                };
                let listed = DELIBERATE
                    .iter()
                    .any(|d| d.capture == name && d.uid == row.uid);
                if listed {
                    deliberate_seen.push((name.clone(), row.uid.clone(), !diffs.is_empty()));
                } else if !diffs.is_empty() {
                    failures.push(format!("{name} {} {key:?}: {}", row.uid, diffs.join("; ")));
                }
            }
            if mine.len() > zrows.len() {
                failures.push(format!(
                    "{name} {key:?}: tcplife splits into {} connections, zeek {}",
                    mine.len(),
                    zrows.len()
                ));
            }
        }
        for key in ours.keys() {
            if !theirs.contains_key(key) {
                failures.push(format!(
                    "{name}: tcplife has a connection zeek does not: {key:?}"
                ));
            }
        }
    }
    for d in DELIBERATE {
        let seen = deliberate_seen
            .iter()
            .find(|(c, u, _)| c == d.capture && u == d.uid);
        match seen {
            Some((_, _, true)) => {}
            Some((_, _, false)) => failures.push(format!(
                "{} {}: listed as a deliberate difference ({}) but now agrees with zeek: \
                 remove it from DELIBERATE",
                d.capture, d.uid, d.why
            )),
            None => failures.push(format!("{} {}: listed but not found", d.capture, d.uid)),
        }
    }
    assert!(
        DELIBERATE.len() * 100 <= total * 3,
        "{} deliberate differences among {total} connections: more than 3%",
        DELIBERATE.len()
    );
    assert!(total >= 50, "only {total} baseline connections compared");
    assert!(
        failures.is_empty(),
        "{} differences from zeek:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
