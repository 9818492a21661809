//! Deterministic synthetic TCP captures for benchmarks and ground-truth tests.
//!
//! Each connection is given a fate (normal close by either side, refused, reset by either side,
//! half-closed, never closed, unanswered) and extras (data and SYN retransmissions, zero windows,
//! keep-alives) and played out as real Ethernet/IPv4 or IPv6 TCP frames with correct lengths and
//! checksums. Many connections are open at once and their packets are interleaved in time order.
//! Memory is bounded by the connections open at once, so the output can be any size.
//!
//! ```
//! use tcplife_gen::{Format, Generator, Options};
//! let mut out = Vec::new();
//! let opts = Options { connections: 50, ..Options::default() };
//! let stats = tcplife_gen::write_capture(opts, Format::Pcap, &mut out, |_truth| {}).unwrap();
//! assert_eq!(stats.connections, 50);
//! ```

#![forbid(unsafe_code)]

mod pcap;
mod plan;
mod rng;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use etherparse::{PacketBuilder, TcpOptionElement};

pub use pcap::{CaptureWriter, Format};
use plan::{Conn, Pkt, ACK, FIN, PSH, RST, SYN};
pub use plan::{Fate, Truth};
use rng::Rng;

/// 2026-01-01T00:00:00Z: a fixed epoch keeps output identical from run to run.
pub const START_NS: i64 = 1_767_225_600 * 1_000_000_000;

#[derive(Clone, Debug)]
pub struct Options {
    /// Connections to generate (ignored when `syn_flood` is set).
    pub connections: u64,
    pub seed: u64,
    /// Connections in progress at once (each is one "lane" playing connections back to back).
    pub concurrency: usize,
    /// Share of connections over IPv6, in percent.
    pub ipv6_percent: u64,
    /// Instead of connections: this many SYNs from distinct source ports, never answered.
    pub syn_flood: Option<u64>,
    /// SYNs per second of capture time in the flood.
    pub flood_rate: u64,
    /// Bytes of each frame stored (0: all), as `tcpdump -s`; headers always fit in 128.
    pub snaplen: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connections: 1000,
            seed: 1,
            concurrency: 1000,
            ipv6_percent: 10,
            syn_flood: None,
            flood_rate: 2000,
            snaplen: 0,
        }
    }
}

/// One generated frame, valid until the next call.
pub struct Frame<'a> {
    pub ts_ns: i64,
    /// The stored bytes (cut at the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub orig_len: usize,
}

struct Lane {
    conn: Option<Conn>,
    next: usize,
}

/// Streams frames in time order.
pub struct Generator {
    opts: Options,
    rng: Rng,
    lanes: Vec<Lane>,
    /// (time of the lane's next packet, lane). The lane index breaks ties deterministically.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    planned: u64,
    truths: Vec<Truth>,
    buf: Vec<u8>,
}

static ZEROS: [u8; 1500] = [0; 1500];

impl Generator {
    pub fn new(opts: Options) -> Generator {
        let mut g = Generator {
            lanes: Vec::new(),
            heap: BinaryHeap::new(),
            planned: 0,
            truths: Vec::new(),
            buf: Vec::with_capacity(1600),
            rng: Rng::new(opts.seed),
            opts,
        };
        if g.opts.syn_flood.is_none() {
            for lane in 0..g.opts.concurrency.max(1) {
                g.lanes.push(Lane {
                    conn: None,
                    next: 0,
                });
                // Lanes start spread over the first second so the capture opens gradually.
                let t0 = START_NS + g.rng.range(0, 999_999) as i64 * 1_000;
                g.start(lane, t0);
            }
        }
        g
    }

    /// Plans the next connection on `lane`, if any are left.
    fn start(&mut self, lane: usize, t0: i64) {
        if self.planned >= self.opts.connections {
            self.lanes[lane].conn = None;
            return;
        }
        let conn = plan::plan(&mut self.rng, self.planned, t0, self.opts.ipv6_percent);
        self.planned += 1;
        self.truths.push(conn.truth.clone());
        self.heap.push(Reverse((conn.pkts[0].t, lane)));
        self.lanes[lane] = Lane {
            conn: Some(conn),
            next: 0,
        };
    }

    /// Connections planned since the last call (each before any of its packets is returned).
    pub fn take_truths(&mut self) -> std::vec::Drain<'_, Truth> {
        self.truths.drain(..)
    }

    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if let Some(n) = self.opts.syn_flood {
            return self.next_flood(n);
        }
        let Reverse((t, lane)) = self.heap.pop()?;
        let (pkt, client, server, done) = {
            let l = &mut self.lanes[lane];
            let conn = l
                .conn
                .as_ref()
                .expect("a lane in the heap has a connection");
            let pkt = conn.pkts[l.next];
            l.next += 1;
            (pkt, conn.client, conn.server, l.next == conn.pkts.len())
        };
        if done {
            let gap = self.rng.range(1_000, 200_000) as i64 * 1_000;
            self.start(lane, t + gap);
        } else {
            let l = &self.lanes[lane];
            let conn = l.conn.as_ref().expect("checked above");
            self.heap.push(Reverse((conn.pkts[l.next].t, lane)));
        }
        let (src, dst) = if pkt.from_client {
            (client, server)
        } else {
            (server, client)
        };
        build_frame(&mut self.buf, src, dst, &pkt);
        Some(self.frame(t))
    }

    fn next_flood(&mut self, n: u64) -> Option<Frame<'_>> {
        if self.planned >= n {
            return None;
        }
        let i = self.planned;
        self.planned += 1;
        let v6 = self.rng.chance(self.opts.ipv6_percent);
        let client = plan::client_addr(i, v6);
        let server = plan::server_addr(0, v6);
        let t =
            START_NS + (i as i128 * 1_000_000 / self.opts.flood_rate.max(1) as i128) as i64 * 1_000;
        self.truths.push(Truth {
            conn: i + 1,
            client,
            server,
            fate: Fate::Unanswered,
            packets: 1,
            retransmissions: 0,
            syn_retransmissions: 0,
            keepalives: 0,
            zero_windows: 0,
            window_updates: 0,
        });
        let pkt = Pkt {
            t,
            from_client: true,
            flags: SYN,
            seq: self.rng.next_u32(),
            ack: 0,
            win: 64240,
            len: 0,
        };
        build_frame(&mut self.buf, client, server, &pkt);
        Some(self.frame(t))
    }

    fn frame(&self, ts_ns: i64) -> Frame<'_> {
        let keep = match self.opts.snaplen {
            0 => self.buf.len(),
            s => s.min(self.buf.len()),
        };
        Frame {
            ts_ns,
            data: &self.buf[..keep],
            orig_len: self.buf.len(),
        }
    }
}

fn mac(ip: IpAddr) -> [u8; 6] {
    let o = match ip {
        IpAddr::V4(a) => a.octets()[2..].to_vec(),
        IpAddr::V6(a) => a.octets()[14..].to_vec(),
    };
    // Locally administered unicast.
    [0x02, 0x00, 0x00, 0x00, o[0], o[1]]
}

fn build_frame(buf: &mut Vec<u8>, src: SocketAddr, dst: SocketAddr, p: &Pkt) {
    buf.clear();
    let eth = PacketBuilder::ethernet2(mac(src.ip()), mac(dst.ip()));
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
        _ => unreachable!("both ends of a connection share an address family"),
    };
    let mut tcp = ip.tcp(src.port(), dst.port(), p.seq, p.win);
    if p.flags & SYN != 0 {
        tcp = tcp.syn();
        tcp = tcp
            .options(&[
                TcpOptionElement::MaximumSegmentSize(1460),
                TcpOptionElement::SelectiveAcknowledgementPermitted,
            ])
            .expect("two options fit in the TCP header");
    }
    if p.flags & FIN != 0 {
        tcp = tcp.fin();
    }
    if p.flags & RST != 0 {
        tcp = tcp.rst();
    }
    if p.flags & PSH != 0 {
        tcp = tcp.psh();
    }
    if p.flags & ACK != 0 {
        tcp = tcp.ack(p.ack);
    }
    tcp.write(buf, &ZEROS[..p.len as usize])
        .expect("writing to a Vec cannot fail");
}

/// What a run produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    pub connections: u64,
    pub bytes: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    /// Connections per fate, in [`Fate::ALL`] order.
    pub fates: [u64; 9],
}

/// Generates a whole capture into `out`, calling `on_truth` for every connection.
pub fn write_capture<W: Write>(
    opts: Options,
    format: Format,
    out: W,
    mut on_truth: impl FnMut(&Truth),
) -> io::Result<Stats> {
    let snaplen = match opts.snaplen {
        0 => 262_144,
        s => s as u32,
    };
    let mut w = CaptureWriter::new(out, format, snaplen)?;
    let mut g = Generator::new(opts);
    let mut stats = Stats::default();
    loop {
        for t in g.take_truths() {
            stats.connections += 1;
            let k = Fate::ALL.iter().position(|&f| f == t.fate).expect("in ALL");
            stats.fates[k] += 1;
            on_truth(&t);
        }
        let Some(f) = g.next_frame() else { break };
        if stats.packets == 0 {
            stats.first_ns = f.ts_ns;
        }
        stats.last_ns = f.ts_ns;
        stats.packets += 1;
        w.write(f.ts_ns, f.data, f.orig_len)?;
    }
    stats.bytes = w.finish()?;
    Ok(stats)
}
