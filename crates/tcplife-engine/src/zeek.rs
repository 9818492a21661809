//! Zeek's view of a TCP connection: its endpoint state machine, its `history` string and its
//! `conn_state` verdict, rule for rule as Zeek's TCP session adapter and `conn_state()` define
//! them, so that tcplife's summaries line up with conn.log. This is deliberately not the RFC 9293
//! machine (see `rfc.rs`): Zeek's states describe what was *seen*, which is what its verdicts need.

use crate::model::{ConnState, History};
use crate::segment::Flags;
use crate::seq;

/// A SYN or RST this far from what an endpoint sent before is not trusted to move `last_seq`.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// Zeek's `TCP_ENDPOINT_*` states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

impl ZState {
    fn inactive(self) -> bool {
        matches!(self, ZState::Inactive | ZState::Partial)
    }
}

// Bits of Zeek's per-direction "seen" mask: one history letter per kind and direction.
const HIST_SYN: u32 = 1 << 0;
const HIST_FIN: u32 = 1 << 1;
const HIST_RST: u32 = 1 << 2;
const HIST_FIN_RST: u32 = 1 << 3;
const HIST_DATA: u32 = 1 << 4;
const HIST_ACK: u32 = 1 << 5;
const HIST_MULTI_FLAG: u32 = 1 << 6;

/// A counter whose history letter is written at 1, 10, 100, ... occurrences.
#[derive(Clone, Copy, Debug)]
struct Scaled {
    count: u32,
    threshold: u32,
}

impl Scaled {
    const NEW: Scaled = Scaled {
        count: 0,
        threshold: 1,
    };
    /// Counts one more; true when the count reaches the next power of ten.
    fn bump(&mut self) -> bool {
        self.count = self.count.saturating_add(1);
        if self.count == self.threshold {
            self.threshold = self.threshold.saturating_mul(10);
            true
        } else {
            false
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ZEndpoint {
    pub state: ZState,
    pub prev_state: ZState,
    start_seq: u32,
    last_seq: u32,
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    fin_cnt: u32,
    /// Relative sequence number just past the FIN.
    fin_seq: u64,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    zero_windows: Scaled,
    rxmits: Scaled,
    gaps: Scaled,
    checksum_errors: Scaled,
    pub did_close: bool,
    // Reassembly of this endpoint's own byte stream, only as far as gap detection needs it.
    reassem_seq: u64,
    trim_seq: u64,
    /// Out-of-order data received beyond `reassem_seq`: sorted, disjoint [start, end) ranges.
    blocks: Vec<(u64, u64)>,
}

impl ZEndpoint {
    fn new() -> Self {
        ZEndpoint {
            state: ZState::Inactive,
            prev_state: ZState::Inactive,
            start_seq: 0,
            last_seq: 0,
            ack_seq: 0,
            seq_wraps: 0,
            ack_wraps: 0,
            fin_cnt: 0,
            fin_seq: 0,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            zero_windows: Scaled::NEW,
            rxmits: Scaled::NEW,
            gaps: Scaled::NEW,
            checksum_errors: Scaled::NEW,
            did_close: false,
            // Relative numbering puts the SYN at 0, so the first data byte is 1.
            reassem_seq: 1,
            trim_seq: 1,
            blocks: Vec::new(),
        }
    }

    fn set_state(&mut self, s: ZState) {
        if s != self.state {
            self.prev_state = self.state;
            self.state = s;
        }
    }

    fn init_start(&mut self, seq: u32) {
        self.start_seq = seq;
    }
    fn init_ack(&mut self, seq: u32) {
        self.ack_seq = seq;
        self.ack_wraps = 0;
    }
    fn init_last(&mut self, seq: u32) {
        self.last_seq = seq;
        self.seq_wraps = 0;
    }
    /// Numbering restarts at a SYN.
    fn restart(&mut self, seq: u32, one_past: u32) {
        self.init_start(seq);
        self.init_ack(seq);
        self.init_last(one_past);
    }
    fn update_last(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }
    fn update_ack(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }

    fn full(seq: u32, wraps: u32) -> u64 {
        ((wraps as u64) << 32) | seq as u64
    }

    /// Zeek's `get_relative_seq`: the 64-bit offset of `cur` from this endpoint's start, and
    /// whether it lies before the start.
    fn relative(&self, cur: u32, last: u32, mut wraps: u32) -> (u64, bool) {
        let d = seq::delta(cur, last);
        if d < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if d > 0 && cur < last {
            wraps += 1;
        }
        if wraps == 0 {
            let d = seq::delta(cur, self.start_seq);
            (d as i64 as u64, d < 0)
        } else {
            (
                Self::full(cur, wraps).wrapping_sub(self.start_seq as u64),
                false,
            )
        }
    }

    /// Bytes this endpoint sent (Zeek's `Size()`): the larger of what was sent and what was
    /// acknowledged, without the SYN and FIN octets.
    pub fn size(&self, peer_state: ZState) -> u64 {
        if self.prev_state == ZState::SynSent
            && self.state == ZState::Reset
            && peer_state == ZState::Inactive
            && self.ack_seq.wrapping_sub(self.start_seq) > 1
        {
            return 0;
        }
        let last = Self::full(self.last_seq, self.seq_wraps);
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let mut size = last.max(ack).wrapping_sub(self.start_seq as u64);
        if size > u32::MAX as u64 * 4 {
            // A start that lies after everything seen (a bogus RST, say) is not a size.
            size = 0;
        }
        size = size.saturating_sub(1);
        if self.fin_cnt > 0 && size != 0 {
            size -= 1;
        }
        size
    }

    /// Zeek's state when a gap in this endpoint's data is worth reporting.
    fn clean(&self) -> bool {
        self.state == ZState::Established
            || (self.state == ZState::Closed && self.prev_state == ZState::Established)
    }
}

/// Zeek's history letters as the machine writes them, one per push on the per-packet path:
/// `CompactString::push` spends about a hundred instructions re-deciding its representation
/// each time, a byte store into this inline buffer a few. Only a history longer than the
/// buffer (repeated SYNs, say) moves to the heap; [`Hist::to_history`] makes the public form.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hist {
    /// Letters in `inline`; past its end they all live in `spill`.
    len: u8,
    inline: [u8; HIST_INLINE],
    spill: Vec<u8>,
}

const HIST_INLINE: usize = 23;

impl Hist {
    #[inline]
    fn push(&mut self, c: u8) {
        let n = usize::from(self.len);
        if n < HIST_INLINE {
            self.inline[n] = c;
            self.len += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(c);
        }
    }

    pub fn as_str(&self) -> &str {
        let bytes = if self.spill.is_empty() {
            &self.inline[..usize::from(self.len)]
        } else {
            &self.spill
        };
        // Only ASCII letters are ever pushed.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    pub fn to_history(&self) -> History {
        History::new(self.as_str())
    }
}

/// Zeek's state for one connection. Endpoints are indexed by *side*: 0 is the sender of the
/// connection's first packet, 1 the other; `orig` says which side Zeek calls the originator.
#[derive(Clone, Debug)]
pub(crate) struct Zeek {
    pub ep: [ZEndpoint; 2],
    pub orig: usize,
    pub history: Hist,
    hist_seen: [u32; 2],
    is_partial: bool,
    first_packet_seen: [bool; 2],
    pub missed_bytes: u64,
    /// Set by the packet on which the originator's SYN left the inactive state: Zeek starts
    /// its connection-attempt timer (`tcp_attempt_delay`) there. The tracker takes it.
    pub attempt_started: bool,
}

/// What one packet looks like to the Zeek machine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZPacket {
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub len: u32,
    /// The payload's bytes are in the capture (not cut off by the snap length): only then does
    /// Zeek hand them to its reassembler.
    pub captured: bool,
}

impl Zeek {
    /// A connection whose first packet is `first`, sent by side 0. `flip` says whether side 0
    /// is nevertheless the responder (Zeek's `^`).
    pub fn new(flip: bool) -> Self {
        let mut z = Zeek {
            ep: [ZEndpoint::new(), ZEndpoint::new()],
            orig: 0,
            history: Hist::default(),
            hist_seen: [0; 2],
            is_partial: false,
            first_packet_seen: [false; 2],
            missed_bytes: 0,
            attempt_started: false,
        };
        if flip {
            z.flip();
        }
        z
    }

    pub fn is_orig(&self, side: usize) -> bool {
        side == self.orig
    }

    fn flip(&mut self) {
        self.orig ^= 1;
        self.first_packet_seen.swap(0, 1);
        self.is_partial = false;
        self.history.push(b'^');
    }

    fn letter(&self, side: usize, code: u8) -> u8 {
        if self.is_orig(side) {
            code
        } else {
            code.to_ascii_lowercase()
        }
    }

    /// Writes `code` the first time this kind is seen in this direction; true if already seen.
    fn check_history(&mut self, side: usize, mask: u32, code: u8) -> bool {
        let role = if self.is_orig(side) { 0 } else { 1 };
        if self.hist_seen[role] & mask == 0 {
            self.hist_seen[role] |= mask;
            let c = self.letter(side, code);
            self.history.push(c);
            false
        } else {
            true
        }
    }

    fn add_history(&mut self, side: usize, code: u8) {
        let c = self.letter(side, code);
        self.history.push(c);
    }

    fn set_partial_status(&mut self, side: usize, flags: Flags) {
        let role = if self.is_orig(side) { 0 } else { 1 };
        if role == 0 {
            if !self.first_packet_seen[side] {
                self.is_partial = !flags.syn() || flags.ack();
            }
        } else if !self.first_packet_seen[side] && !self.is_partial {
            self.is_partial = !flags.syn();
        }
    }

    /// Zeek's `IsReuse`: does a packet from `side` start a new connection on this one's ports?
    pub fn is_reuse(&self, side: usize, p: &ZPacket) -> bool {
        if !p.flags.syn() {
            return false;
        }
        let orig = self.orig;
        let resp = orig ^ 1;
        let mut conn_orig = orig;
        if p.flags.ack() {
            if self.ep[orig].state != ZState::Inactive {
                return false;
            }
            conn_orig = resp;
        }
        let closed = self.ep[0].did_close || self.ep[1].did_close;
        if !p.flags.ack() && side == resp && !closed && self.ep[orig].state == ZState::SynSent {
            // The responder's own SYN crossing the originator's: a simultaneous open, which
            // Zeek would split into two connections. tcplife keeps it one (see README).
            return false;
        }
        if !closed {
            if p.seq == self.ep[conn_orig].start_seq {
                return false;
            }
            if !p.flags.ack()
                && self.ep[conn_orig].state == ZState::SynAckSent
                && self.ep[resp].state == ZState::Inactive
                && p.seq == self.ep[resp].start_seq
            {
                return false;
            }
        }
        true
    }

    /// Zeek's `TCPSessionAdapter::Process` for one packet from `side`.
    pub fn process(&mut self, side: usize, p: &ZPacket) {
        let e = side;
        let peer = side ^ 1;
        let flags = p.flags;
        let len = p.len;
        self.set_partial_status(side, flags);

        let mut seg_len = len as i64;
        if flags.syn() {
            seg_len += 1;
        }
        if flags.fin() {
            seg_len += 1;
        }
        if flags.rst() {
            seg_len -= len as i64;
        }
        let one_past = p.seq.wrapping_add(seg_len as u32);
        self.init_endpoint(e, flags, p.seq, one_past);

        let ep = &self.ep[e];
        let (rel_seq, seq_underflow) = ep.relative(p.seq, ep.last_seq, ep.seq_wraps);

        self.update_history(e, flags, rel_seq, len);

        // Zero windows are boring with or after a RST, or once the peer has sent its FIN.
        if p.window == 0
            && !flags.rst()
            && self.ep[peer].state != ZState::Closed
            && self.ep[e].state != ZState::Reset
            && self.ep[e].zero_windows.bump()
        {
            self.add_history(e, b'W');
        }

        if flags.fin() {
            let ep = &mut self.ep[e];
            ep.fin_cnt += 1;
            ep.fin_seq = rel_seq.wrapping_add(seg_len as u64);
        }

        let mut rel_ack = 0u64;
        if flags.ack() {
            if self.ep[peer].state == ZState::Inactive {
                rel_ack = 1;
                let pe = &mut self.ep[peer];
                pe.init_start(p.ack.wrapping_sub(1));
                pe.init_ack(p.ack.wrapping_sub(1));
                pe.init_last(p.ack.wrapping_sub(1));
            } else {
                let pe = &self.ep[peer];
                let (r, underflow) = pe.relative(p.ack, pe.ack_seq, pe.ack_wraps);
                if underflow {
                    rel_ack = 0;
                } else {
                    rel_ack = r;
                    if !flags.rst() {
                        let pe = &mut self.ep[peer];
                        let d = seq::delta(p.ack, pe.ack_seq);
                        // An ack of 0 far ahead is more likely broken than a wrapped stream.
                        if !(p.ack == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0 {
                            pe.update_ack(p.ack);
                        }
                    }
                }
            }
        }

        let delta_last = self.update_last_seq(e, one_past, flags, len);
        let do_close = self.update_state_machine(e, p, len, delta_last);

        if flags.ack() {
            self.ack_received(peer, rel_ack);
        }

        if len > 0 && !flags.rst() && !seq_underflow && p.captured {
            let rel_data = if flags.syn() { rel_seq + 1 } else { rel_seq };
            self.data_sent(e, rel_data, len as u64);
        }

        if do_close {
            self.ep[e].did_close = true;
        }
        self.first_packet_seen[side] = true;
    }

    fn init_endpoint(&mut self, e: usize, flags: Flags, seq: u32, one_past: u32) {
        let ep = &mut self.ep[e];
        match ep.state {
            ZState::Inactive => {
                let mut last = one_past;
                if flags.syn() {
                    ep.init_ack(seq);
                    ep.init_start(seq);
                } else {
                    // Number a partial connection as though its SYN had been seen.
                    ep.init_ack(seq.wrapping_sub(1));
                    ep.init_start(seq.wrapping_sub(1));
                    last = seq;
                }
                ep.init_last(last);
            }
            ZState::SynSent | ZState::SynAckSent => {
                if flags.syn() && seq != ep.start_seq {
                    ep.restart(seq, one_past);
                }
            }
            ZState::Established | ZState::Partial => {
                if flags.syn() {
                    // Guess the connection was not established, and this SYN sets it up.
                    ep.restart(seq, one_past);
                }
            }
            ZState::Reset => {
                if flags.syn() && ep.prev_state == ZState::Inactive {
                    // The RST that numbered this endpoint may have been spoofed: trust the SYN.
                    ep.restart(seq, one_past);
                }
            }
            ZState::Closed => {}
        }
    }

    fn update_history(&mut self, e: usize, flags: Flags, rel_seq: u64, len: u32) {
        let bits = flags.syn() as u8 + flags.fin() as u8 + flags.rst() as u8;
        if bits > 1 {
            if flags.fin() && flags.rst() {
                self.check_history(e, HIST_FIN_RST, b'I');
            } else {
                self.check_history(e, HIST_MULTI_FLAG, b'Q');
            }
        } else if bits == 1 {
            if flags.syn() {
                let code = if flags.ack() { b'H' } else { b'S' };
                if self.check_history(e, HIST_SYN, code) && rel_seq != self.ep[e].hist_last_syn {
                    self.add_history(e, code);
                }
                self.ep[e].hist_last_syn = rel_seq;
            }
            if flags.fin() {
                // A FIN's number comes after the data it carries.
                let at = rel_seq.wrapping_add(len as u64);
                if self.check_history(e, HIST_FIN, b'F') && at != self.ep[e].hist_last_fin {
                    self.add_history(e, b'F');
                }
                self.ep[e].hist_last_fin = at;
            }
            if flags.rst() {
                if self.check_history(e, HIST_RST, b'R') && rel_seq != self.ep[e].hist_last_rst {
                    self.add_history(e, b'R');
                }
                self.ep[e].hist_last_rst = rel_seq;
            }
        } else if len > 0 {
            self.check_history(e, HIST_DATA, b'D');
        } else if flags.ack() {
            self.check_history(e, HIST_ACK, b'A');
        }
    }

    /// Zeek's `update_last_seq`: how far this segment moves the endpoint's highest sequence
    /// number; a segment with data that does not move it is a retransmission (`T`).
    fn update_last_seq(&mut self, e: usize, last: u32, flags: Flags, len: u32) -> i32 {
        let ep = &mut self.ep[e];
        let delta_last = seq::delta(last, ep.last_seq);
        let mut rxmit = false;
        if (flags.syn() || flags.rst())
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta_last)
        {
            // Not trusted.
        } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
            // Only the SYN and the FIN seen: trust the FIN even backwards (> 2 GB streams).
            ep.update_last(last);
        } else if ep.state == ZState::Reset {
            // Nothing after a RST is trusted.
        } else if delta_last > 0 {
            ep.update_last(last);
        } else if len > 0 {
            rxmit = ep.rxmits.bump();
        }
        if rxmit {
            self.add_history(e, b'T');
        }
        delta_last
    }

    /// Zeek's `UpdateStateMachine`; returns whether the sender closed (FIN or RST).
    fn update_state_machine(&mut self, e: usize, p: &ZPacket, len: u32, delta_last: i32) -> bool {
        let _ = delta_last;
        let peer = e ^ 1;
        let flags = p.flags;
        let mut do_close = false;
        match self.ep[e].state {
            ZState::Inactive => {
                let is_orig = self.is_orig(e);
                if flags.syn() {
                    if is_orig {
                        let s = if flags.ack() {
                            ZState::SynAckSent
                        } else {
                            ZState::SynSent
                        };
                        self.ep[e].set_state(s);
                        self.attempt_started = true;
                    } else {
                        if !flags.ack()
                            && self.ep[peer].state == ZState::SynAckSent
                            && p.seq == self.ep[e].start_seq
                        {
                            // The SYN and SYN-ACK arrived swapped: flip and establish.
                            self.flip();
                            self.first_packet_seen[self.orig] = true;
                            self.ep[peer].set_state(ZState::Established);
                        }
                        if self.ep[peer].state == ZState::SynSent {
                            self.ep[peer].set_state(ZState::Established);
                        }
                        self.ep[e].set_state(ZState::Established);
                    }
                }
                if flags.fin() {
                    self.ep[e].set_state(ZState::Closed);
                    do_close = true;
                }
                if flags.rst() {
                    self.ep[e].set_state(ZState::Reset);
                    do_close = true;
                }
                if self.ep[e].state == ZState::Inactive {
                    let is_orig = self.is_orig(e);
                    let orig_state = self.ep[self.orig].state;
                    if !is_orig && len == 0 && orig_state == ZState::SynSent {
                        // An ACK of the SYN before the SYN-ACK: not a partial connection.
                    } else if flags.ack() && self.ep[peer].state == ZState::Established {
                        // SYN-ACK seen, SYN missed, now the ACK: establish.
                        self.ep[e].set_state(ZState::Established);
                        self.is_partial = false;
                        self.first_packet_seen[e] = true;
                    } else {
                        self.ep[e].set_state(ZState::Partial);
                    }
                }
            }
            ZState::SynSent | ZState::SynAckSent => {
                if flags.fin() {
                    self.ep[e].set_state(ZState::Closed);
                    do_close = true;
                }
                if flags.rst() {
                    self.ep[e].set_state(ZState::Reset);
                    do_close = true;
                }
            }
            ZState::Established | ZState::Partial => {
                if flags.syn()
                    && self.ep[e].state == ZState::Partial
                    && self.ep[peer].state == ZState::Inactive
                    && !flags.ack()
                {
                    self.ep[e].set_state(ZState::SynSent);
                }
                if flags.fin() && !flags.rst() {
                    self.ep[e].set_state(ZState::Closed);
                    if self.ep[peer].state == ZState::Reset
                        && self.ep[peer].prev_state == ZState::Closed
                    {
                        // FIN then RST from the peer was a normal close after all.
                        self.ep[peer].set_state(ZState::Closed);
                    }
                    do_close = true;
                }
                if flags.rst() {
                    self.ep[e].set_state(ZState::Reset);
                    do_close = true;
                }
            }
            ZState::Closed => {
                // A RST after both FINs changes nothing: the exchange already completed.
                if flags.rst() && self.ep[peer].state != ZState::Closed {
                    self.ep[e].set_state(ZState::Reset);
                    if !self.ep[e].did_close {
                        do_close = true;
                    }
                }
            }
            ZState::Reset => {}
        }
        do_close
    }

    /// The peer acknowledged `rel_ack` of `side`'s stream: data below it that never arrived is
    /// a content gap.
    fn ack_received(&mut self, side: usize, rel_ack: u64) {
        let ep = &self.ep[side];
        let mut up_to = rel_ack;
        if ep.fin_cnt > 0 && up_to >= ep.fin_seq {
            up_to = ep.fin_seq.saturating_sub(1);
        }
        if up_to <= ep.trim_seq {
            return;
        }
        if up_to > ep.reassem_seq {
            self.undelivered(side, up_to);
        }
        let ep = &mut self.ep[side];
        ep.trim_seq = up_to;
        ep.blocks.retain(|b| b.1 > up_to);
    }

    /// Zeek's `TCP_Reassembler::Undelivered`: every hole below `up_to` is one content gap,
    /// reported (history `G`/`g` at 1, 10, 100... gaps; `missed_bytes`) only while both
    /// endpoints are established or cleanly closing.
    fn undelivered(&mut self, side: usize, up_to: u64) {
        if up_to <= 2 && self.is_partial {
            // A partial connection's numbering was made up as if a SYN had been seen; its
            // first ack is not evidence of missing data.
            self.ep[side].reassem_seq = up_to;
            self.deliver_blocks(side);
            return;
        }
        loop {
            let ep = &self.ep[side];
            let next = ep
                .blocks
                .iter()
                .find(|b| b.0 >= ep.reassem_seq)
                .map(|b| b.0)
                .filter(|&start| start < up_to);
            let Some(start) = next else { break };
            let from = self.ep[side].reassem_seq;
            self.gap(side, start - from);
            self.ep[side].reassem_seq = start;
            self.deliver_blocks(side);
        }
        let from = self.ep[side].reassem_seq;
        if up_to > from {
            self.gap(side, up_to - from);
            self.ep[side].reassem_seq = up_to;
        }
    }

    fn gap(&mut self, side: usize, len: u64) {
        if len > 0 && self.ep[side].clean() && self.ep[side ^ 1].clean() {
            self.missed_bytes += len;
            if self.ep[side].gaps.bump() {
                self.add_history(side, b'G');
            }
        }
    }

    /// A segment from `side` with a wrong checksum: Zeek drops it, noting only `C`/`c` (at 1,
    /// 10, 100... such segments).
    pub fn checksum_error(&mut self, side: usize) {
        if self.ep[side].checksum_errors.bump() {
            self.add_history(side, b'C');
        }
    }

    fn data_sent(&mut self, side: usize, seq: u64, len: u64) {
        let ep = &mut self.ep[side];
        let end = seq.saturating_add(len);
        if end <= ep.trim_seq.max(ep.reassem_seq) {
            return;
        }
        let start = seq.max(ep.reassem_seq);
        if start <= ep.reassem_seq {
            ep.reassem_seq = end;
        } else if ep.blocks.len() < 64 {
            // Out of order: keep it until the hole before it fills (bounded, so a stream of
            // garbage sequence numbers cannot grow memory).
            let at = ep.blocks.partition_point(|b| b.0 < start);
            ep.blocks.insert(at, (start, end));
        }
        self.deliver_blocks(side);
    }

    fn deliver_blocks(&mut self, side: usize) {
        let ep = &mut self.ep[side];
        while let Some(&(s, e)) = ep.blocks.first() {
            if s > ep.reassem_seq {
                break;
            }
            ep.reassem_seq = ep.reassem_seq.max(e);
            ep.blocks.remove(0);
        }
    }

    /// Zeek's `conn_state()` for a TCP connection, as it stands now.
    pub fn conn_state(&self) -> ConnState {
        let o = &self.ep[self.orig];
        let r = &self.ep[self.orig ^ 1];
        let (os, rs) = (o.state, r.state);
        let o_inactive = os.inactive();
        let r_inactive = rs.inactive();
        if rs == ZState::Reset {
            if os == ZState::SynSent
                || os == ZState::SynAckSent
                || (os == ZState::Reset && o.size(rs) == 0 && r.size(os) == 0)
            {
                ConnState::REJ
            } else if o_inactive {
                ConnState::RSTRH
            } else {
                ConnState::RSTR
            }
        } else if os == ZState::Reset {
            if r_inactive {
                if rstos0_history(self.history.as_str()) {
                    ConnState::RSTOS0
                } else {
                    ConnState::OTH
                }
            } else {
                ConnState::RSTO
            }
        } else if rs == ZState::Closed && os == ZState::Closed {
            ConnState::SF
        } else if os == ZState::Closed {
            if r_inactive {
                ConnState::SH
            } else {
                ConnState::S2
            }
        } else if rs == ZState::Closed {
            if o_inactive {
                ConnState::SHR
            } else {
                ConnState::S3
            }
        } else if os == ZState::SynSent && rs == ZState::Inactive {
            ConnState::S0
        } else if os == ZState::Established && rs == ZState::Established {
            ConnState::S1
        } else {
            ConnState::OTH
        }
    }

    /// (orig_bytes, resp_bytes)
    pub fn sizes(&self) -> (u64, u64) {
        let o = &self.ep[self.orig];
        let r = &self.ep[self.orig ^ 1];
        (o.size(r.state), r.size(o.state))
    }

    /// Side 0 opened the connection with a SYN-ACK that the ports did not flip, and nothing
    /// else has happened yet (Zeek may still flip it on an ACK or data).
    pub fn synack_unflipped(&self) -> bool {
        self.orig == 0
            && self.ep[0].state == ZState::SynAckSent
            && self.ep[1].state == ZState::Inactive
    }

    /// What Zeek's attempt timer checks when it fires: the originator sent its SYN and the
    /// responder has not been heard from (a bare ACK of the SYN does not count, as in Zeek).
    pub fn attempt_pending(&self) -> bool {
        let o = self.ep[self.orig].state;
        let r = self.ep[self.orig ^ 1].state;
        matches!(o, ZState::SynSent | ZState::SynAckSent) && r == ZState::Inactive
    }

    /// Zeek's "close complete": nothing more is expected on this connection.
    pub fn close_complete(&self) -> bool {
        let [a, b] = &self.ep;
        a.state == ZState::Reset
            || b.state == ZState::Reset
            || (a.did_close && (b.did_close || b.state == ZState::Inactive))
            || (b.did_close && a.state == ZState::Inactive)
    }
}

/// Zeek's `/^?S[^HAFGIQ]*R.*/` matched against the whole history.
fn rstos0_history(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern() {
        assert!(rstos0_history("SR"));
        assert!(rstos0_history("SaR"));
        assert!(rstos0_history("^SdR"));
        assert!(!rstos0_history("SaFR"));
        // Case-sensitive, as in Zeek: only the originator's letters stop the match.
        assert!(rstos0_history("ShR"));
        assert!(!rstos0_history("SAR"));
        assert!(!rstos0_history("R"));
    }

    #[test]
    fn scaled_letters_at_powers_of_ten() {
        let mut s = Scaled::NEW;
        let hits: Vec<u32> = (1..=1000).filter(|_| s.bump()).collect();
        assert_eq!(hits.len(), 4);
    }
}
