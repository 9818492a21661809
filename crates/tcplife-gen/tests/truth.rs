//! The generator's ground truth against the engine: a small generated capture, read back by
//! the capture crate (an independent pcap/pcapng parser) and run through the engine, must give
//! every connection the verdict its fate calls for, and the engine must name every planted
//! retransmission, keep-alive, zero window and window update.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::SocketAddr;

use tcplife_capture::CaptureReader;
use tcplife_engine::{Annotation, Config, ConnSummary, Event, Role, Run, Segment, Sink};
use tcplife_gen::{Fate, Format, Options, Truth};

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    retransmissions: u32,
    syn_retransmissions: u32,
    keepalives: u32,
    zero_windows: u32,
    window_updates: u32,
    packets: u32,
}

fn generate(opts: Options, format: Format) -> (Vec<u8>, Vec<Truth>) {
    let mut bytes = Vec::new();
    let mut truths = Vec::new();
    tcplife_gen::write_capture(opts, format, &mut bytes, |t| truths.push(t.clone())).unwrap();
    (bytes, truths)
}

/// Summaries keyed by (originator, responder), with per-connection event counts.
type ByPair = HashMap<(SocketAddr, SocketAddr), (ConnSummary, Counts)>;

/// Event counts by connection id, and every summary.
#[derive(Default)]
struct Tally {
    counts: HashMap<u64, Counts>,
    summaries: Vec<ConnSummary>,
    segments: u64,
}

impl Sink for Tally {
    type Stop = std::convert::Infallible;
    fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), Self::Stop> {
        self.segments += 1;
        let c = self.counts.entry(a.conn_id).or_default();
        c.packets += 1;
        match a.event {
            Event::RetransmittedData => c.retransmissions += 1,
            Event::RetransmittedSyn => c.syn_retransmissions += 1,
            Event::KeepAlive => c.keepalives += 1,
            Event::ZeroWindow => c.zero_windows += 1,
            Event::WindowUpdate => c.window_updates += 1,
            _ => {}
        }
        Ok(())
    }
    fn finished(&mut self, s: ConnSummary) -> Result<(), Self::Stop> {
        self.summaries.push(s);
        Ok(())
    }
}

/// Every connection's summary and event counts, and the number of segments read.
fn analyse(bytes: &[u8]) -> (ByPair, u64) {
    let mut reader = CaptureReader::new(Cursor::new(bytes)).unwrap();
    let mut run = Run::new(Config::default(), Tally::default());
    run.segments((&mut reader).map(Result::unwrap)).unwrap();
    assert!(reader.skip_counts().is_empty(), "{}", reader.skip_counts());
    let Tally {
        counts,
        summaries,
        segments,
    } = run.finish().unwrap();
    let mut out = HashMap::new();
    for s in summaries {
        let key = (
            SocketAddr::new(s.orig_h, s.orig_p),
            SocketAddr::new(s.resp_h, s.resp_p),
        );
        let c = counts[&s.conn_id];
        assert!(
            out.insert(key, (s, c)).is_none(),
            "one connection per 4-tuple"
        );
    }
    (out, segments)
}

fn check(opts: Options, format: Format) {
    let (bytes, truths) = generate(opts, format);
    let (conns, segments) = analyse(&bytes);
    let planned: u64 = truths.iter().map(|t| u64::from(t.packets)).sum();
    assert_eq!(
        segments, planned,
        "every planned packet is read back as a segment"
    );
    assert_eq!(
        conns.len(),
        truths.len(),
        "one engine connection per planned one"
    );
    let mut wrong = Vec::new();
    for t in &truths {
        let Some((s, c)) = conns.get(&(t.client, t.server)) else {
            wrong.push(format!(
                "{}: not found with the client as originator",
                t.tsv()
            ));
            continue;
        };
        let (cs, ss) = t.fate.final_states();
        let closer = s.first_closer.map(Role::as_str);
        let expected = Counts {
            retransmissions: t.retransmissions,
            syn_retransmissions: t.syn_retransmissions,
            keepalives: t.keepalives,
            zero_windows: t.zero_windows,
            window_updates: t.window_updates,
            packets: t.packets,
        };
        let ok = s.conn_state.as_str() == t.fate.conn_state()
            && s.ending.as_str() == t.fate.ending()
            && s.client_state.as_str() == cs
            && ss.is_none_or(|ss| s.server_state.as_str() == ss)
            && closer == t.fate.first_closer()
            && *c == expected;
        if !ok {
            wrong.push(format!(
                "{}\n  engine: {} {:?} {} {} closer={:?} history={} {:?}",
                t.tsv(),
                s.conn_state.as_str(),
                s.ending.as_str(),
                s.client_state.as_str(),
                s.server_state.as_str(),
                closer,
                s.history,
                c
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} connections differ from the generator's intent:\n{}",
        wrong.len(),
        truths.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_fate_is_generated() {
    let (_, truths) = generate(
        Options {
            connections: 400,
            ..Options::default()
        },
        Format::Pcap,
    );
    for fate in Fate::ALL {
        assert!(truths.iter().any(|t| t.fate == fate), "{fate:?} missing");
    }
    assert!(truths.iter().any(|t| t.retransmissions > 0));
    assert!(truths.iter().any(|t| t.keepalives > 0));
    assert!(truths.iter().any(|t| t.zero_windows > 0));
    assert!(truths.iter().any(|t| t.client.is_ipv6()));
}

#[test]
fn engine_verdicts_match_intent_pcap() {
    check(
        Options {
            connections: 2000,
            concurrency: 200,
            seed: 7,
            ..Options::default()
        },
        Format::Pcap,
    );
}

#[test]
fn engine_verdicts_match_intent_pcapng() {
    check(
        Options {
            connections: 500,
            concurrency: 50,
            seed: 11,
            ..Options::default()
        },
        Format::PcapNg,
    );
}

#[test]
fn syn_flood_is_all_unanswered() {
    check(
        Options {
            syn_flood: Some(3000),
            ..Options::default()
        },
        Format::Pcap,
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let opts = |seed| Options {
        connections: 300,
        seed,
        ..Options::default()
    };
    let (a, _) = generate(opts(3), Format::PcapNg);
    let (b, _) = generate(opts(3), Format::PcapNg);
    let (c, _) = generate(opts(4), Format::PcapNg);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn packets_are_in_time_order_and_interleaved() {
    let (bytes, _) = generate(
        Options {
            connections: 300,
            concurrency: 100,
            ..Options::default()
        },
        Format::Pcap,
    );
    let mut reader = CaptureReader::new(Cursor::new(&bytes[..])).unwrap();
    let mut last = i64::MIN;
    let mut run = Run::new(Config::default(), Tally::default());
    let mut most_open = 0;
    for seg in &mut reader {
        let seg = seg.unwrap();
        assert!(seg.ts_ns >= last, "frame {} goes back in time", seg.frame);
        last = seg.ts_ns;
        run.segment(&seg).unwrap();
        most_open = most_open.max(run.tracker().open_connections());
    }
    assert!(most_open >= 50, "only {most_open} connections open at once");
}
