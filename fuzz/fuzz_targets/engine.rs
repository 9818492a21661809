//! The engine fed arbitrary segment sequences. Input: one byte of tracker settings, then
//! 16-byte records, each one segment between a few endpoints (so that connections collide,
//! reuse ports and cross each other) with arbitrary flags, sequence and acknowledgment numbers,
//! windows, lengths, and time steps forward and backward across the idle timeout and the close
//! linger. Checks what must hold for any input: one annotation per segment, for that segment,
//! and every segment counted in exactly one connection summary.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tcplife_engine::{Annotation, Config, ConnSummary, Flags, Run, Segment, Sink};

const ADDRS: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
];
const PORTS: [u16; 4] = [80, 1024, 1025, 443];

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let config = Config {
        idle_timeout_ns: (i64::from(cfg & 0x1f) + 1) * 1_000_000_000,
        close_linger_ns: i64::from(cfg >> 5) * 1_000_000_000,
        attempt_timeout_ns: i64::from(cfg >> 6) * 5_000_000_000,
        verify_checksums: false,
    };
    let mut run = Run::new(config, Check::default());
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut segments = 0u64;
    for (i, r) in rest.chunks_exact(16).enumerate() {
        let u32_at = |k: usize| u32::from_be_bytes([r[k], r[k + 1], r[k + 2], r[k + 3]]);
        let sel = r[1];
        // Steps of 10 ms, -327 s to +327 s: across both timeouts and backwards.
        ts = ts.saturating_add(i64::from(i16::from_be_bytes([r[14], r[15]])) * 10_000_000);
        let payload_len = u32::from(u16::from_be_bytes([r[12], r[13]]));
        let seg = Segment {
            frame: i as u64 + 1,
            ts_ns: ts,
            src: ADDRS[usize::from(sel & 3)],
            src_port: PORTS[usize::from((sel >> 4) & 3)],
            dst: ADDRS[usize::from((sel >> 2) & 3)],
            dst_port: PORTS[usize::from(sel >> 6)],
            seq: u32_at(2),
            ack: u32_at(6),
            flags: Flags(r[0]),
            window: u16::from_be_bytes([r[10], r[11]]),
            payload_len,
            ip_len: payload_len + 40,
            integrity: tcplife_engine::Integrity::Intact,
        };
        let before = run.sink().annotated;
        run.segment(&seg).unwrap();
        assert_eq!(
            run.sink().annotated,
            before + 1,
            "one annotation per segment"
        );
        segments += 1;
    }
    run.end().unwrap();
    assert_eq!(
        run.sink().counted,
        segments,
        "every segment belongs to exactly one connection"
    );
    assert_eq!(run.tracker().open_connections(), 0);
});

/// Checks each annotation is its segment's and counts the packets of finished connections.
#[derive(Default)]
struct Check {
    annotated: u64,
    counted: u64,
}

impl Sink for Check {
    type Stop = std::convert::Infallible;
    fn packet(&mut self, seg: &Segment, a: Annotation) -> Result<(), Self::Stop> {
        assert_eq!(a.frame, seg.frame);
        self.annotated += 1;
        Ok(())
    }
    fn finished(&mut self, s: ConnSummary) -> Result<(), Self::Stop> {
        self.counted += s.orig_pkts + s.resp_pkts;
        Ok(())
    }
}
