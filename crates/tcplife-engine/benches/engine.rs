//! The engine alone, segments already in memory: segments per second through `Tracker`, with
//! the capture reader's cost (bytes in memory to segments) measured beside it for scale.
//!
//!   cargo bench -p tcplife-engine --bench engine
//!
//! Workloads: a tcplife-gen capture (20,000 connections, 1,000 in progress at once, every
//! fate), a SYN flood (every segment opens a connection), and the shared 82k-packet echo
//! capture when it is present.

use std::io::Cursor;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tcplife_capture::CaptureReader;
use tcplife_engine::{Annotation, Config, ConnSummary, Segment, Sink};
use tcplife_gen::{Format, Options};

fn generated(opts: Options) -> Vec<u8> {
    let mut bytes = Vec::new();
    tcplife_gen::write_capture(opts, Format::Pcap, &mut bytes, |_| {}).expect("in memory");
    bytes
}

fn segments(bytes: &[u8]) -> Vec<Segment> {
    CaptureReader::new(Cursor::new(bytes))
        .expect("a capture")
        .map(|s| s.expect("readable"))
        .collect()
}

/// Folds every annotation and summary into one number so the work cannot be optimised away.
struct Fold(u64);

impl Sink for Fold {
    type Stop = std::convert::Infallible;
    fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), Self::Stop> {
        self.0 = self
            .0
            .wrapping_add(a.conn_id ^ a.event as u64 ^ a.history.len() as u64);
        Ok(())
    }
    fn finished(&mut self, s: ConnSummary) -> Result<(), Self::Stop> {
        self.0 = self.0.wrapping_add(s.orig_pkts);
        Ok(())
    }
}

/// Runs the whole capture through a fresh tracker, summaries taken as they finish, as
/// `tcplife` does.
fn track(segs: &[Segment]) -> u64 {
    match tcplife_engine::run(Config::default(), segs, Fold(0)) {
        Ok(f) => f.0,
        Err(never) => match never {},
    }
}

fn workloads() -> Vec<(&'static str, Vec<u8>)> {
    let mut w = vec![
        (
            "gen-20k-conns",
            generated(Options {
                connections: 20_000,
                seed: 1,
                ..Options::default()
            }),
        ),
        (
            "syn-flood-100k",
            generated(Options {
                syn_flood: Some(100_000),
                seed: 3,
                ..Options::default()
            }),
        ),
    ];
    let echo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/captures/perf/echo-connections.pcap");
    if let Ok(bytes) = std::fs::read(echo) {
        w.push(("echo-connections", bytes));
    }
    w
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in workloads() {
        let segs = segments(&bytes);
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(segs.len() as u64));
        g.sample_size(20);
        g.bench_function("engine", |b| b.iter(|| track(&segs)));
        g.bench_function("reader", |b| b.iter(|| segments(&bytes).len()));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
