//! `tcplife ladder --format svg|html` against the text ladder and `tcplife packets` of the same
//! connection: the picture is well-formed XML with one arrow per segment, drawn in the sender's
//! direction, labelled as the text ladder labels it, with both states, frame, time, step and
//! event as `packets` says, and the phase bands in the order the segments go through them.
//!
//! Build the binary first (`cargo build -p tcplife-cli`).

use std::path::{Path, PathBuf};
use std::process::Command;

use roxmltree::{Document, Node, ParsingOptions};
use serde_json::Value;
use tcplife_tests::{project_root, shared_captures, workspace_bin};

fn tcplife(args: &[&str], file: &Path) -> String {
    let out = Command::new(workspace_bin("tcplife"))
        .args(args)
        .arg(file)
        .output()
        .expect("run tcplife");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn captures() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [
        project_root().join("tests/samples"),
        shared_captures().join("zeek"),
    ] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let n = p.to_string_lossy().to_string();
            if n.ends_with(".pcap") || n.ends_with(".pcapng") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(v.len() >= 20, "{v:?}");
    v
}

/// The arrow labels of the text ladder, in order: `|-- LABEL ---->|` or `|<---- LABEL --|`.
fn text_labels(ladder: &str) -> Vec<String> {
    ladder
        .lines()
        .filter_map(|l| {
            let (a, b) = (l.find('|')?, l.rfind('|')?);
            let arrow = &l[a..=b];
            if let Some(rest) = arrow.strip_prefix("|-- ") {
                Some(rest[..rest.find(" -").unwrap()].to_string())
            } else if arrow.starts_with("|<") {
                let inner = &arrow[..arrow.len() - " --|".len()];
                Some(inner[inner.find("- ").unwrap() + 2..].to_string())
            } else {
                None
            }
        })
        .collect()
}

fn class<'a>(n: Node<'a, 'a>, c: &str) -> Vec<Node<'a, 'a>> {
    n.descendants()
        .filter(|d| d.attribute("class") == Some(c))
        .collect()
}

fn text_of(n: Node) -> String {
    n.text().unwrap_or("").to_string()
}

/// Checks one connection's picture; returns how many segments it has.
fn check(file: &Path, conn: u64) -> usize {
    let id = conn.to_string();
    let name = format!("{} conn {conn}", file.display());
    let packets: Vec<Value> = tcplife(&["packets", "--format", "json"], file)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|p| p["conn"] == conn)
        .collect();
    let text = tcplife(&["ladder", "--conn", &id], file);
    let labels = text_labels(&text);
    assert_eq!(labels.len(), packets.len(), "{name}: text ladder\n{text}");

    let svg = tcplife(&["ladder", "--format", "svg", "--conn", &id], file);
    assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    let doc = Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: not XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let height: u32 = root.attribute("height").unwrap().parse().unwrap();
    assert!(height > 96 + 46 * packets.len() as u32, "{name}");

    let groups = class(root, "packet");
    assert_eq!(groups.len(), packets.len(), "{name}: one arrow per segment");
    for ((g, p), label) in groups.iter().zip(&packets).zip(&labels) {
        let frame = p["frame"].to_string();
        assert_eq!(g.attribute("data-frame"), Some(frame.as_str()), "{name}");
        assert_eq!(g.attribute("data-from"), p["role"].as_str(), "{name}");
        let arrows = class(*g, "arrow");
        assert_eq!(arrows.len(), 1, "{name} frame {frame}");
        let x = |a: &str| -> f64 { arrows[0].attribute(a).unwrap().parse().unwrap() };
        // Client left, server right: the arrow points away from its sender.
        if p["role"] == "client" {
            assert!(x("x1") < x("x2"), "{name} frame {frame}");
        } else {
            assert!(x("x1") > x("x2"), "{name} frame {frame}");
        }
        // And it slants down: the segment arrives after it leaves.
        assert!(x("y2") > x("y1"), "{name} frame {frame}");
        let head = arrows[0].attribute("marker-end").unwrap();
        let flags = p["flags"].as_str().unwrap();
        let want = if flags.contains("RST") {
            "url(#head-rst)".to_string()
        } else {
            format!("url(#head-{})", p["role"].as_str().unwrap())
        };
        assert_eq!(head, want, "{name} frame {frame}");
        let one = |c: &str| -> String {
            let v = class(*g, c);
            assert_eq!(v.len(), 1, "{name} frame {frame}: {c}");
            text_of(v[0])
        };
        assert_eq!(&one("label"), label, "{name} frame {frame}");
        assert!(
            label.starts_with(&format!("{flags} seq=")),
            "{name}: {label}"
        );
        assert!(
            label.ends_with(&format!(" len={}", p["len"])),
            "{name}: {label}"
        );
        assert_eq!(one("frame"), frame, "{name}");
        let states: Vec<String> = class(*g, "state").into_iter().map(text_of).collect();
        assert_eq!(
            states,
            [
                p["client_state"].as_str().unwrap(),
                p["server_state"].as_str().unwrap()
            ],
            "{name} frame {frame}"
        );
        let step = p["step"].as_str().unwrap_or("");
        let event = p["event"].as_str().unwrap();
        let want = if step.is_empty() {
            event.to_string()
        } else {
            format!("{step} {event}")
        };
        assert_eq!(one("event"), want, "{name} frame {frame}");
    }
    // Times: the text ladder's second column, for the same frames.
    let times: Vec<String> = groups
        .iter()
        .map(|g| text_of(class(*g, "time")[0]))
        .collect();
    let text_times: Vec<String> = text
        .lines()
        .filter(|l| l.contains('|'))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(times, text_times, "{name}");

    // One band per run of segments in the same phase.
    let mut runs: Vec<&str> = Vec::new();
    for p in &packets {
        let ph = p["phase"].as_str().unwrap();
        if runs.last() != Some(&ph) {
            runs.push(ph);
        }
    }
    let bands: Vec<&str> = class(root, "phase")
        .iter()
        .map(|b| b.attribute("data-phase").unwrap())
        .collect();
    assert_eq!(bands, runs, "{name}");

    // The ending, as the text ladder words it.
    let endings: Vec<String> = class(root, "ending").into_iter().map(text_of).collect();
    let text_end: Vec<&str> = text.lines().rev().take(2).collect();
    assert_eq!(endings, [text_end[1], text_end[0]], "{name}");

    // The HTML page: the same picture, and one table row per segment.
    let html = tcplife(&["ladder", "--format", "html", "--conn", &id], file);
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert!(html.contains(&svg["<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".len()..]));
    let opts = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let page = Document::parse_with_options(&html, opts)
        .unwrap_or_else(|e| panic!("{name}: HTML not XML: {e}"));
    let rows: Vec<Node> = page
        .descendants()
        .filter(|n| n.tag_name().name() == "tr" && n.parent().unwrap().tag_name().name() == "tbody")
        .collect();
    assert_eq!(rows.len(), packets.len(), "{name}");
    for (r, p) in rows.iter().zip(&packets) {
        let cells: Vec<String> = r
            .children()
            .filter(|c| c.is_element())
            .map(text_of)
            .collect();
        assert_eq!(cells[0], p["frame"].to_string());
        assert_eq!(cells[2], p["role"].as_str().unwrap());
        assert_eq!(cells[4], p["phase"].as_str().unwrap());
        assert_eq!(cells[6], p["event"].as_str().unwrap());
        assert_eq!(cells[7], p["client_state"].as_str().unwrap());
        assert_eq!(cells[8], p["server_state"].as_str().unwrap());
    }
    packets.len()
}

#[test]
fn pictures_agree_with_packets_and_the_text_ladder() {
    let mut drawn = 0;
    for f in captures() {
        // Up to three connections of each capture.
        let conns = tcplife(&["conns", "--format", "json"], &f).lines().count() as u64;
        for conn in 1..=conns.min(3) {
            drawn += check(&f, conn);
        }
    }
    assert!(drawn > 250, "{drawn} segments drawn");
}

#[test]
fn http_get_exact_labels() {
    let f = shared_captures().join("zeek/http_get.pcap");
    let svg = tcplife(&["ladder", "--format", "svg"], &f);
    let doc = Document::parse(&svg).unwrap();
    let labels: Vec<String> = class(doc.root_element(), "label")
        .into_iter()
        .map(text_of)
        .collect();
    // docs/cli.md's text ladder of the same connection.
    assert_eq!(
        labels,
        [
            "SYN seq=0 len=0",
            "SYN,ACK seq=0 ack=1 len=0",
            "ACK seq=1 ack=1 len=0",
            "PSH,ACK seq=1 ack=1 len=136",
            "ACK seq=1 ack=137 len=0",
            "ACK seq=1 ack=137 len=1448",
            "ACK seq=1449 ack=137 len=1448",
            "ACK seq=2897 ack=137 len=1448",
            "PSH,ACK seq=4345 ack=137 len=663",
            "ACK seq=137 ack=2897 len=0",
            "ACK seq=137 ack=5008 len=0",
            "FIN,ACK seq=137 ack=5008 len=0",
            "FIN,ACK seq=5008 ack=138 len=0",
            "ACK seq=138 ack=5009 len=0",
        ]
    );
    let bands: Vec<&str> = class(doc.root_element(), "phase")
        .iter()
        .map(|b| b.attribute("data-phase").unwrap())
        .collect();
    assert_eq!(bands, ["handshake", "data transfer", "teardown"]);
    let title = doc
        .root_element()
        .children()
        .find(|n| n.tag_name().name() == "title")
        .unwrap();
    assert_eq!(
        text_of(title),
        "TCP connection 1: client 141.142.228.5:59856, server 192.150.187.43:80"
    );
}

#[test]
fn no_such_connection_draws_nothing_and_fails() {
    let f = shared_captures().join("zeek/http_get.pcap");
    let out = Command::new(workspace_bin("tcplife"))
        .args(["ladder", "--format", "svg", "--conn", "2"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connection 2"));
}
