//! One connection: its two endpoints seen through both machines (Zeek's, for the verdicts
//! conn.log users know; RFC 9293's, for the lifecycle), and its counters.

use std::net::IpAddr;

use crate::model::{Annotation, ConnState, ConnSummary, EndReason, Ending, Role};
use crate::model::{Event, Notes, Step};
use crate::rfc::Rfc;
use crate::segment::{Integrity, Segment};
use crate::zeek::{ZPacket, Zeek};

#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub id: u64,
    /// Endpoints by side: side 0 sent the connection's first packet.
    addr: [IpAddr; 2],
    port: [u16; 2],
    zeek: Zeek,
    rfc: Rfc,
    /// The side the RFC 9293 machine calls the client. It is Zeek's originator except while
    /// Zeek still takes the sender of a SYN-ACK seen before its SYN for the originator (Zeek
    /// flips when that SYN arrives; the lifecycle knows from the SYN-ACK who the server is).
    rfc_client: usize,
    /// The packets of a connection opened by a SYN-ACK that the ports did not flip, kept while
    /// Zeek may still flip it: the first ACK or data segment after the SYN-ACK makes Zeek take
    /// the SYN-ACK's receiver for the originator after all, as if flipped from the start.
    synack_replay: Vec<ZPacket>,
    first_ts: i64,
    pub last_ts: i64,
    first_frame: u64,
    last_frame: u64,
    pkts: [u64; 2],
    ip_bytes: [u64; 2],
    /// When Zeek's attempt timer fires for this connection (`i64::MAX`: no timer).
    pub attempt_deadline: i64,
    /// When Zeek's close timer removes it: fixed when the close completes, not moved by later
    /// packets (`i64::MAX`: not closed yet).
    pub close_deadline: i64,
}

fn zpacket(seg: &Segment) -> ZPacket {
    ZPacket {
        flags: seg.flags,
        seq: seg.seq,
        ack: seg.ack,
        window: seg.window,
        len: seg.payload_len,
        captured: seg.integrity != Integrity::Truncated,
    }
}

impl Conn {
    pub fn new(id: u64, seg: &Segment) -> Self {
        let zeek = Zeek::new(initial_flip(seg));
        let rfc_flip = if seg.flags.syn() {
            seg.flags.ack()
        } else {
            initial_flip(seg)
        };
        let role = if rfc_flip { Role::Server } else { Role::Client };
        Conn {
            id,
            addr: [seg.src, seg.dst],
            port: [seg.src_port, seg.dst_port],
            zeek,
            rfc: Rfc::new(role, seg.flags),
            rfc_client: usize::from(rfc_flip),
            synack_replay: Vec::new(),
            first_ts: seg.ts_ns,
            last_ts: seg.ts_ns,
            first_frame: seg.frame,
            last_frame: seg.frame,
            pkts: [0; 2],
            ip_bytes: [0; 2],
            attempt_deadline: i64::MAX,
            close_deadline: i64::MAX,
        }
    }

    pub fn side_of(&self, seg: &Segment) -> usize {
        if seg.src_port == self.port[0] && seg.src == self.addr[0] {
            0
        } else {
            1
        }
    }

    fn role(&self, side: usize) -> Role {
        if side == self.rfc_client {
            Role::Client
        } else {
            Role::Server
        }
    }

    /// Whether `seg` opens a new connection on these ports instead of continuing this one.
    #[inline]
    pub fn is_reuse(&self, seg: &Segment) -> bool {
        // Only a SYN can start a new connection (Zeek's first test), and most packets are not:
        // asked here, before the side and the packet are worked out.
        seg.flags.syn() && self.zeek.is_reuse(self.side_of(seg), &zpacket(seg))
    }

    pub fn close_complete(&self) -> bool {
        self.zeek.close_complete()
    }

    pub fn attempt_pending(&self) -> bool {
        self.zeek.attempt_pending()
    }

    /// Whether the last packet started Zeek's attempt timer (asked once per packet).
    pub fn take_attempt_started(&mut self) -> bool {
        std::mem::take(&mut self.zeek.attempt_started)
    }

    pub fn process(&mut self, seg: &Segment) -> Annotation {
        let (role, v) = self.advance(seg);
        Annotation {
            frame: seg.frame,
            conn_id: self.id,
            role,
            event: v.event,
            phase: v.phase,
            step: v.step,
            client_state: self.rfc.state(Role::Client),
            server_state: self.rfc.state(Role::Server),
            conn_state: self.zeek.conn_state(),
            history: self.zeek.history.to_history(),
            handshake_rtt_ns: self.rfc.handshake_rtt_ns,
            notes: v.notes,
        }
    }

    /// [`process`](Self::process) without the annotation (nor the history copy in it), for
    /// runs that print only summaries: the connection ends in exactly the same state.
    pub fn observe(&mut self, seg: &Segment) {
        self.advance(seg);
    }

    #[inline]
    fn advance(&mut self, seg: &Segment) -> (Role, crate::rfc::Verdict) {
        let side = self.side_of(seg);
        let zp = zpacket(seg);
        self.zeek_process(side, &zp);
        let role = self.role(side);
        let v = self.rfc.process(role, seg);
        self.pkts[side] += 1;
        self.ip_bytes[side] += seg.ip_len as u64;
        self.last_ts = self.last_ts.max(seg.ts_ns);
        self.last_frame = seg.frame;
        (role, v)
    }

    /// A segment whose checksum is wrong, when checksums are verified: Zeek notes it (`C`) and
    /// otherwise ignores it, so it changes no state and no counter.
    pub fn checksum_error(&mut self, seg: &Segment) -> Annotation {
        let side = self.side_of(seg);
        self.zeek.checksum_error(side);
        Annotation {
            frame: seg.frame,
            conn_id: self.id,
            role: self.role(side),
            event: Event::Unexpected,
            phase: self.rfc.phase_now(),
            step: Step::NONE,
            client_state: self.rfc.state(Role::Client),
            server_state: self.rfc.state(Role::Server),
            conn_state: self.zeek.conn_state(),
            history: self.zeek.history.to_history(),
            handshake_rtt_ns: self.rfc.handshake_rtt_ns,
            notes: Notes::default(),
        }
    }

    /// Zeek's machine for one packet, with its late flip of a connection that began with a
    /// SYN-ACK (Zeek >= 5.1): on an ACK or data segment from either side right after the
    /// SYN-ACK, the roles are flipped as though the SYN-ACK's sender had been the responder from
    /// the first packet on (history `^h...`). A SYN instead (the handshake captured out of
    /// order) leaves the flip to the Zeek machine's SYN/SYN-ACK reversal (`Hs^`).
    fn zeek_process(&mut self, side: usize, p: &ZPacket) {
        if self.pkts == [0, 0] {
            self.zeek.process(side, p);
            if self.zeek.synack_unflipped() {
                self.synack_replay.push(*p);
            }
            return;
        }
        if !self.synack_replay.is_empty() {
            let f = p.flags;
            if !f.syn() && !f.fin() && !f.rst() && (f.ack() || p.len > 0) {
                let mut z = Zeek::new(true);
                for q in &self.synack_replay {
                    z.process(0, q);
                }
                z.attempt_started = false;
                self.zeek = z;
                self.synack_replay = Vec::new();
            } else {
                self.zeek.process(side, p);
                // Only repeated SYN-ACKs keep the question open; bounded all the same.
                if self.zeek.synack_unflipped() && self.synack_replay.len() < 16 && side == 0 {
                    self.synack_replay.push(*p);
                } else {
                    self.synack_replay = Vec::new();
                }
                return;
            }
        }
        self.zeek.process(side, p);
    }

    fn ending(&self, conn_state: ConnState) -> Ending {
        let rfc = &self.rfc;
        if rfc.refused || conn_state == ConnState::REJ {
            return Ending::Refused;
        }
        if let Some(r) = rfc.first_rst {
            return match r {
                Role::Client => Ending::ResetByClient,
                Role::Server => Ending::ResetByServer,
            };
        }
        let fins = rfc.ep.iter().filter(|e| e.sent_fin()).count();
        if fins == 2 {
            return Ending::ClosedNormally;
        }
        if fins == 1 {
            return Ending::HalfClosed;
        }
        if rfc.midstream {
            return Ending::Midstream;
        }
        if !rfc.established {
            let server = self.rfc_client ^ 1;
            return if self.pkts[server] == 0 {
                Ending::Unanswered
            } else {
                Ending::HandshakeIncomplete
            };
        }
        Ending::NeverClosed
    }

    /// The ending this connection would be summarised with if it ended now.
    pub fn ending_so_far(&self) -> Ending {
        self.ending(self.zeek.conn_state())
    }

    pub fn summary(&self, end_reason: EndReason) -> ConnSummary {
        let o = self.zeek.orig;
        let r = o ^ 1;
        let conn_state = self.zeek.conn_state();
        let (orig_bytes, resp_bytes) = self.zeek.sizes();
        ConnSummary {
            conn_id: self.id,
            uid: uid(self.id, self.first_ts, self.port[0], self.port[1]),
            ts_ns: self.first_ts,
            orig_h: self.addr[o],
            orig_p: self.port[o],
            resp_h: self.addr[r],
            resp_p: self.port[r],
            duration_ns: self.last_ts.saturating_sub(self.first_ts).max(0) as u64,
            orig_bytes,
            resp_bytes,
            conn_state,
            missed_bytes: self.zeek.missed_bytes,
            history: self.zeek.history.to_history(),
            orig_pkts: self.pkts[o],
            orig_ip_bytes: self.ip_bytes[o],
            resp_pkts: self.pkts[r],
            resp_ip_bytes: self.ip_bytes[r],
            ending: self.ending(conn_state),
            first_closer: self.rfc.first_fin.or(self.rfc.first_rst),
            client_state: self.rfc.state(Role::Client),
            server_state: self.rfc.state(Role::Server),
            handshake_rtt_ns: self.rfc.handshake_rtt_ns,
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            end_reason,
        }
    }
}

/// Zeek's guess (its TCP analyzer's `WantConnection`) of who started a connection whose first
/// packet is not a plain SYN. Only the ports decide, even for a SYN-ACK: a SYN-ACK from a
/// port that is not a likely server port stays the originator's (`H`), since a stealth scan
/// sends those too; if its SYN shows up afterwards, the Zeek machine flips then (`Hs^`).
fn initial_flip(seg: &Segment) -> bool {
    let f = seg.flags;
    if f.syn() && !f.ack() {
        return false;
    }
    if likely_server_port(seg.src_port) {
        if likely_server_port(seg.dst_port) {
            // Both plausible: flip only a non-SYN, towards the lower port.
            !f.syn() && seg.src_port < seg.dst_port
        } else {
            true
        }
    } else {
        false
    }
}

/// Ports Zeek's default analyzers register (its `likely_server_ports`).
fn likely_server_port(p: u16) -> bool {
    matches!(
        p,
        21 | 22
            | 23
            | 25
            | 53
            | 80
            | 81
            | 88
            | 110
            | 111
            | 135
            | 137..=139
            | 143
            | 179
            | 389
            | 443
            | 445
            | 465
            | 502
            | 513
            | 514
            | 563
            | 585
            | 587
            | 614
            | 636
            | 989..=995
            | 1080
            | 1433
            | 1521
            | 1723
            | 1812
            | 1883
            | 2049
            | 2811
            | 3128
            | 3306
            | 3389
            | 5060
            | 5061
            | 5222
            | 5223
            | 5269
            | 5432
            | 5672
            | 5900
            | 6379
            | 6666..=6669
            | 7000
            | 8000
            | 8080
            | 8443
            | 8888
            | 9200
            | 11211
            | 27017
    )
}

/// A Zeek-looking unique id ("C" and 17 base62 characters), derived from the connection's
/// number, first timestamp and ports so that the same capture always gives the same uids.
fn uid(id: u64, ts: i64, p0: u16, p1: u16) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // splitmix64: cheap, well-mixed, no dependency.
    let mut x = id
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(ts as u64)
        .wrapping_add(((p0 as u64) << 16) | p1 as u64);
    let mut out = String::with_capacity(18);
    out.push('C');
    for _ in 0..2 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        for _ in 0..8 {
            out.push(ALPHABET[(z % 62) as usize] as char);
            z /= 62;
        }
    }
    out.push(ALPHABET[(x % 62) as usize] as char);
    out
}
