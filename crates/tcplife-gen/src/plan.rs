//! What happens to one connection: its fate, drawn from a fixed mix, and the segments that play
//! it out. The expected verdicts are written down here, from the RFC 9293 and Zeek definitions,
//! independently of the engine, so that the engine can be checked against them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::rng::Rng;

/// How a connection ends. Each fate has one expected Zeek `conn_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    /// Handshake, data, client FIN first, server FIN, last ACK.
    ClientClose,
    /// Handshake, data, server FIN first.
    ServerClose,
    /// SYN answered by RST-ACK.
    Refused,
    /// Established, then the client sends a RST.
    ClientReset,
    /// Established, then the server sends a RST.
    ServerReset,
    /// Established, the client sends its FIN, the server acknowledges it and never closes.
    ClientHalfClose,
    /// Established, the server sends its FIN, the client acknowledges it and never closes.
    ServerHalfClose,
    /// Established and silent from some point on: no FIN, no RST.
    NeverClosed,
    /// SYN, retransmitted twice, never answered.
    Unanswered,
}

/// The mix, in percent of connections. Sums to 100.
const MIX: [(Fate, u64); 9] = [
    (Fate::ClientClose, 34),
    (Fate::ServerClose, 24),
    (Fate::Refused, 8),
    (Fate::ClientReset, 5),
    (Fate::ServerReset, 5),
    (Fate::ClientHalfClose, 4),
    (Fate::ServerHalfClose, 3),
    (Fate::NeverClosed, 9),
    (Fate::Unanswered, 8),
];

impl Fate {
    pub const ALL: [Fate; 9] = [
        Fate::ClientClose,
        Fate::ServerClose,
        Fate::Refused,
        Fate::ClientReset,
        Fate::ServerReset,
        Fate::ClientHalfClose,
        Fate::ServerHalfClose,
        Fate::NeverClosed,
        Fate::Unanswered,
    ];

    fn draw(rng: &mut Rng) -> Fate {
        let mut x = rng.range(0, 99);
        for (fate, pct) in MIX {
            if x < pct {
                return fate;
            }
            x -= pct;
        }
        unreachable!("MIX sums to 100")
    }

    pub const fn name(self) -> &'static str {
        match self {
            Fate::ClientClose => "client-close",
            Fate::ServerClose => "server-close",
            Fate::Refused => "refused",
            Fate::ClientReset => "client-reset",
            Fate::ServerReset => "server-reset",
            Fate::ClientHalfClose => "client-half-close",
            Fate::ServerHalfClose => "server-half-close",
            Fate::NeverClosed => "never-closed",
            Fate::Unanswered => "unanswered",
        }
    }

    /// Zeek's `conn_state` for this fate (Zeek's `conn_state()` in base/protocols/conn).
    pub const fn conn_state(self) -> &'static str {
        match self {
            Fate::ClientClose | Fate::ServerClose => "SF",
            Fate::Refused => "REJ",
            Fate::ClientReset => "RSTO",
            Fate::ServerReset => "RSTR",
            Fate::ClientHalfClose => "S2",
            Fate::ServerHalfClose => "S3",
            Fate::NeverClosed => "S1",
            Fate::Unanswered => "S0",
        }
    }

    /// tcplife's `ending`, in its words.
    pub const fn ending(self) -> &'static str {
        match self {
            Fate::ClientClose | Fate::ServerClose => "closed normally",
            Fate::Refused => "refused",
            Fate::ClientReset => "reset by client",
            Fate::ServerReset => "reset by server",
            Fate::ClientHalfClose | Fate::ServerHalfClose => "half-closed",
            Fate::NeverClosed => "never closed",
            Fate::Unanswered => "unanswered",
        }
    }

    /// Final RFC 9293 states of client and server. The server of an unanswered SYN may be
    /// listening, closed or down: an observer cannot tell, so it is `None`.
    pub const fn final_states(self) -> (&'static str, Option<&'static str>) {
        match self {
            Fate::ClientClose => ("TIME-WAIT", Some("CLOSED")),
            Fate::ServerClose => ("CLOSED", Some("TIME-WAIT")),
            Fate::Refused | Fate::ClientReset | Fate::ServerReset => ("CLOSED", Some("CLOSED")),
            Fate::ClientHalfClose => ("FIN-WAIT-2", Some("CLOSE-WAIT")),
            Fate::ServerHalfClose => ("CLOSE-WAIT", Some("FIN-WAIT-2")),
            Fate::NeverClosed => ("ESTABLISHED", Some("ESTABLISHED")),
            Fate::Unanswered => ("SYN-SENT", None),
        }
    }

    /// Who sent the first FIN, or the RST when nobody sent a FIN.
    pub const fn first_closer(self) -> Option<&'static str> {
        match self {
            Fate::ClientClose | Fate::ClientReset | Fate::ClientHalfClose => Some("client"),
            Fate::ServerClose | Fate::ServerReset | Fate::ServerHalfClose | Fate::Refused => {
                Some("server")
            }
            Fate::NeverClosed | Fate::Unanswered => None,
        }
    }
}

/// What the generator intended for one connection: the ground truth to check verdicts against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// 1-based, in the order connections were planned (not necessarily first-packet order).
    pub conn: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub fate: Fate,
    pub packets: u32,
    /// Data segments sent again with the same sequence number (not keep-alives).
    pub retransmissions: u32,
    /// SYNs sent again with the same ISN.
    pub syn_retransmissions: u32,
    pub keepalives: u32,
    /// Pure ACKs advertising a zero window.
    pub zero_windows: u32,
    /// Pure ACKs reopening the window with the same acknowledgment number.
    pub window_updates: u32,
}

impl Truth {
    pub const TSV_HEADER: &'static str = "conn\torig_h\torig_p\tresp_h\tresp_p\tfate\tconn_state\tending\tclient_state\tserver_state\tpackets\tretransmissions\tsyn_retransmissions\tkeepalives\tzero_windows\twindow_updates";

    pub fn tsv(&self) -> String {
        let (cs, ss) = self.fate.final_states();
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.conn,
            self.client.ip(),
            self.client.port(),
            self.server.ip(),
            self.server.port(),
            self.fate.name(),
            self.fate.conn_state(),
            self.fate.ending(),
            cs,
            ss.unwrap_or("-"),
            self.packets,
            self.retransmissions,
            self.syn_retransmissions,
            self.keepalives,
            self.zero_windows,
            self.window_updates,
        )
    }
}

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// One planned segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pkt {
    pub t: i64,
    pub from_client: bool,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub len: u16,
}

/// A connection ready to be played out.
pub(crate) struct Conn {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub pkts: Vec<Pkt>,
    pub truth: Truth,
}

const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;
const MSS: u64 = 1448;
const CLIENT_WIN: u16 = 64240;
const SERVER_WIN: u16 = 65160;

/// The client address of the `i`-th connection (0-based). Distinct for every connection of a
/// run, so no two connections share a 4-tuple and reuse never blurs the ground truth.
pub(crate) fn client_addr(i: u64, v6: bool) -> SocketAddr {
    const PORTS: u64 = 60_000;
    let port = 1024 + (i % PORTS) as u16;
    let host = i / PORTS + 1;
    let ip = if v6 {
        IpAddr::V6(Ipv6Addr::new(
            0xfd00,
            0,
            0,
            0,
            0,
            1,
            (host >> 16) as u16,
            host as u16,
        ))
    } else {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + host as u32))
    };
    SocketAddr::new(ip, port)
}

// No port whose dissector in tshark would take zero-filled payloads for a malformed message:
// that would make tshark look slower than on real traffic.
const SERVER_PORTS: [u16; 8] = [80, 443, 22, 8080, 5432, 6379, 25, 9999];

pub(crate) fn server_addr(k: usize, v6: bool) -> SocketAddr {
    let port = SERVER_PORTS[k % SERVER_PORTS.len()];
    let ip = if v6 {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 2, 0, k as u16 + 1))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, k as u8 + 1))
    };
    SocketAddr::new(ip, port)
}

/// Builds one connection's segments in time order, tracking both sides' next sequence numbers
/// as real stacks would.
struct Script<'r> {
    rng: &'r mut Rng,
    t: i64,
    rtt: i64,
    c_nxt: u32,
    s_nxt: u32,
    pkts: Vec<Pkt>,
}

impl Script<'_> {
    /// Advances time by at least `dt`, kept on whole microseconds so that a classic pcap
    /// (microsecond timestamps) holds every timestamp exactly.
    fn wait(&mut self, dt: i64) {
        self.t += (dt.max(1_000) + 999) / 1_000 * 1_000;
    }

    fn jitter(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.range(lo as u64, hi as u64) as i64
    }

    /// Sends from one side, starting at that side's next sequence number, and advances it.
    fn send(&mut self, from_client: bool, flags: u8, len: u16) {
        let seq = if from_client { self.c_nxt } else { self.s_nxt };
        self.send_at(from_client, flags, seq, len);
        let used = u32::from(len) + u32::from(flags & SYN != 0) + u32::from(flags & FIN != 0);
        if from_client {
            self.c_nxt = self.c_nxt.wrapping_add(used);
        } else {
            self.s_nxt = self.s_nxt.wrapping_add(used);
        }
    }

    /// Sends with an explicit sequence number (retransmissions, keep-alives, RSTs) without
    /// moving the sender's next sequence number.
    fn send_at(&mut self, from_client: bool, flags: u8, seq: u32, len: u16) {
        let ack = if flags & ACK != 0 {
            if from_client {
                self.s_nxt
            } else {
                self.c_nxt
            }
        } else {
            0
        };
        let win = if from_client { CLIENT_WIN } else { SERVER_WIN };
        self.pkts.push(Pkt {
            t: self.t,
            from_client,
            flags,
            seq,
            ack,
            win,
            len,
        });
    }

    fn set_last_window(&mut self, win: u16) {
        if let Some(p) = self.pkts.last_mut() {
            p.win = win;
        }
    }

    fn isn(&mut self) -> u32 {
        // Some ISNs just below 2^32 so that sequence numbers wrap inside connections.
        if self.rng.chance(5) {
            u32::MAX - self.rng.range(0, 4000) as u32
        } else {
            self.rng.next_u32()
        }
    }
}

/// Plans the `i`-th connection (0-based), starting at `t0`.
pub(crate) fn plan(rng: &mut Rng, i: u64, t0: i64, ipv6_percent: u64) -> Conn {
    let v6 = rng.chance(ipv6_percent);
    let client = client_addr(i, v6);
    let server = server_addr(rng.range(0, 7) as usize, v6);
    let fate = Fate::draw(rng);
    // Loopback-like to intercontinental.
    let rtt = rng.range(100_000, 80 * MS as u64) as i64;
    let mut truth = Truth {
        conn: i + 1,
        client,
        server,
        fate,
        packets: 0,
        retransmissions: 0,
        syn_retransmissions: 0,
        keepalives: 0,
        zero_windows: 0,
        window_updates: 0,
    };
    let mut s = Script {
        rng,
        t: t0,
        rtt,
        c_nxt: 0,
        s_nxt: 0,
        pkts: Vec::with_capacity(16),
    };
    s.c_nxt = s.isn();
    s.s_nxt = s.isn();

    let isn_c = s.c_nxt;
    s.send(true, SYN, 0);
    match fate {
        Fate::Unanswered => {
            // Linux's initial RTO is 1 s, doubling.
            for backoff in [SEC, 2 * SEC] {
                s.wait(backoff);
                s.send_at(true, SYN, isn_c, 0);
                truth.syn_retransmissions += 1;
            }
        }
        Fate::Refused => {
            s.wait(rtt);
            // A closed port answers with RST-ACK, sequence 0, window 0 (RFC 9293 3.10.7.1).
            s.send_at(false, RST | ACK, 0, 0);
            s.set_last_window(0);
        }
        _ => {
            if s.rng.chance(3) {
                s.wait(SEC);
                s.send_at(true, SYN, isn_c, 0);
                truth.syn_retransmissions += 1;
            }
            s.wait(rtt);
            s.send(false, SYN | ACK, 0);
            s.wait(20_000);
            s.send(true, ACK, 0);
            established(&mut s, &mut truth, fate);
        }
    }
    truth.packets = s.pkts.len() as u32;
    Conn {
        client,
        server,
        pkts: s.pkts,
        truth,
    }
}

fn established(s: &mut Script<'_>, truth: &mut Truth, fate: Fate) {
    let rtt = s.rtt;
    let retransmit = s.rng.chance(10);
    let zero_window = s.rng.chance(6);
    let keepalive = s.rng.chance(5) || (fate == Fate::NeverClosed && s.rng.chance(30));
    let rounds = s.rng.range(1, 2);
    let retrans_round = s.rng.range(1, rounds);
    let zw_round = s.rng.range(1, rounds);
    for round in 1..=rounds {
        let think = s.jitter(100_000, 20 * MS);
        s.wait(think);
        let req = s.rng.range(20, 900) as u16;
        s.send(true, PSH | ACK, req);
        let segs = s.rng.range(1, 3);
        s.wait(rtt + 50_000);
        for k in 1..=segs {
            let len = if k == segs {
                s.rng.range(2, MSS) as u16
            } else {
                MSS as u16
            };
            let flags = if k == segs { PSH | ACK } else { ACK };
            let seq = s.s_nxt;
            s.send(false, flags, len);
            if retransmit && round == retrans_round && k == 1 {
                // The segment (or its ACK) was lost: sent again after the RTO.
                let rto = s.jitter(200 * MS, 600 * MS);
                s.wait(rto);
                s.send_at(false, flags, seq, len);
                truth.retransmissions += 1;
            }
            s.wait(15_000);
            if k % 2 == 0 || k == segs {
                s.wait(rtt / 2);
                s.send(true, ACK, 0);
            }
        }
        if zero_window && round == zw_round {
            // The client's application stops reading: window closes, then reopens.
            s.wait(1_000);
            s.send(true, ACK, 0);
            s.set_last_window(0);
            truth.zero_windows += 1;
            let stall = s.jitter(50 * MS, 500 * MS);
            s.wait(stall);
            s.send(true, ACK, 0);
            truth.window_updates += 1;
        }
    }
    if keepalive {
        for _ in 0..s.rng.range(1, 3) {
            // Idle, then a zero-length probe one byte below the next sequence number (Linux).
            let idle = s.jitter(10 * SEC, 45 * SEC);
            s.wait(idle);
            let seq = s.c_nxt.wrapping_sub(1);
            s.send_at(true, ACK, seq, 0);
            truth.keepalives += 1;
            s.wait(rtt);
            s.send(false, ACK, 0);
        }
    }
    let pause = s.jitter(MS, 50 * MS);
    s.wait(pause);
    match fate {
        Fate::ClientClose | Fate::ServerClose => {
            let by_client = fate == Fate::ClientClose;
            s.send(by_client, FIN | ACK, 0);
            s.wait(rtt / 2);
            if s.rng.chance(30) {
                // The peer closes at once: its FIN acknowledges the first FIN.
                s.send(!by_client, FIN | ACK, 0);
            } else {
                s.send(!by_client, ACK, 0);
                let app = s.jitter(10_000, 5 * MS);
                s.wait(app);
                s.send(!by_client, FIN | ACK, 0);
            }
            s.wait(rtt / 2);
            s.send(by_client, ACK, 0);
        }
        Fate::ClientHalfClose | Fate::ServerHalfClose => {
            let by_client = fate == Fate::ClientHalfClose;
            s.send(by_client, FIN | ACK, 0);
            s.wait(rtt / 2);
            s.send(!by_client, ACK, 0);
        }
        Fate::ClientReset | Fate::ServerReset => {
            let by_client = fate == Fate::ClientReset;
            let flags = if s.rng.chance(50) { RST | ACK } else { RST };
            let seq = if by_client { s.c_nxt } else { s.s_nxt };
            s.send_at(by_client, flags, seq, 0);
        }
        Fate::NeverClosed => {}
        Fate::Refused | Fate::Unanswered => unreachable!("not established"),
    }
}
