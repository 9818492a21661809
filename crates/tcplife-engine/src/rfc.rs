//! RFC 9293's state machine for both endpoints, as a passive observer can follow it: each
//! segment moves its sender (for what it sends) and its receiver (for what it receives, taking
//! the segment as delivered). Also names what each segment does (event, phase, step).

use crate::model::{Event, Notes, Phase, Role, Step, TcpState};
use crate::segment::{Flags, Segment};
use crate::seq;

/// What an endpoint has sent, as far as the lifecycle needs it. Sequence numbers are raw
/// 32-bit values compared modulo 2^32.
#[derive(Clone, Debug)]
pub(crate) struct RfcEndpoint {
    pub state: TcpState,
    /// Sequence number of this endpoint's SYN.
    isn: Option<u32>,
    sent_syn_ack: bool,
    /// One past the highest sequence number sent (SYN and FIN included).
    next_seq: Option<u32>,
    /// Sequence number occupied by this endpoint's FIN.
    fin_seq: Option<u32>,
    /// Teardown step its FIN was (1, 2 when it crossed the first FIN, or 3).
    fin_step: u8,
    /// The peer's SYN / FIN has been acknowledged by this endpoint.
    acked_peer_syn: bool,
    acked_peer_fin: bool,
    last_ack: Option<u32>,
    last_window: u16,
    last_was_keepalive: bool,
    /// Ranges [start, end) skipped by this endpoint's data: a later segment inside one is
    /// out-of-order data, not a retransmission. Few are kept; more are forgotten.
    holes: Vec<(u32, u32)>,
}

impl RfcEndpoint {
    pub fn new(state: TcpState) -> Self {
        RfcEndpoint {
            state,
            isn: None,
            sent_syn_ack: false,
            next_seq: None,
            fin_seq: None,
            fin_step: 0,
            acked_peer_syn: false,
            acked_peer_fin: false,
            last_ack: None,
            last_window: 0,
            last_was_keepalive: false,
            holes: Vec::new(),
        }
    }

    pub fn sent_fin(&self) -> bool {
        self.fin_seq.is_some()
    }
}

/// The lifecycle side of one connection, endpoints indexed by role (client first).
#[derive(Clone, Debug)]
pub(crate) struct Rfc {
    pub ep: [RfcEndpoint; 2],
    /// The connection was picked up after its handshake.
    pub midstream: bool,
    pub established: bool,
    pub first_fin: Option<Role>,
    pub first_rst: Option<Role>,
    pub refused: bool,
    /// Both FINs sent and acknowledged.
    pub fins_done: bool,
    /// A simultaneous close: the second FIN did not acknowledge the first, they crossed. Its
    /// steps follow the order RFC 9293 draws it in: 1/4 and 2/4 the two FINs, 3/4 and 4/4 the
    /// two ACKs of FIN, whichever side acknowledges first.
    crossed: bool,
    pub client_syn_ns: Option<i64>,
    pub handshake_rtt_ns: Option<u64>,
}

pub(crate) struct Verdict {
    pub event: Event,
    pub phase: Phase,
    pub step: Step,
    pub notes: Notes,
}

const fn idx(r: Role) -> usize {
    match r {
        Role::Client => 0,
        Role::Server => 1,
    }
}

impl Rfc {
    /// A connection whose first packet (from `role`) is `seg`.
    pub fn new(role: Role, flags: Flags) -> Self {
        let (client, server, midstream) = if flags.syn() && !flags.ack() {
            // Something listens until proven otherwise (a RST answering the SYN).
            (TcpState::Closed, TcpState::Listen, false)
        } else if flags.syn() {
            // SYN-ACK first: the client's SYN was missed, so it was waiting in SYN-SENT.
            (TcpState::SynSent, TcpState::Listen, false)
        } else {
            (TcpState::Established, TcpState::Established, true)
        };
        let _ = role;
        Rfc {
            ep: [RfcEndpoint::new(client), RfcEndpoint::new(server)],
            midstream,
            established: midstream,
            first_fin: None,
            first_rst: None,
            refused: false,
            fins_done: false,
            crossed: false,
            client_syn_ns: None,
            handshake_rtt_ns: None,
        }
    }

    pub fn state(&self, role: Role) -> TcpState {
        self.ep[idx(role)].state
    }

    /// Classifies `seg` (sent by `role`) and moves both endpoints.
    pub fn process(&mut self, role: Role, seg: &Segment) -> Verdict {
        let s = idx(role);
        let r = s ^ 1;
        let f = seg.flags;
        let len = seg.payload_len;
        let mut notes = Notes::default();
        let was_closed = self.fins_done || self.first_rst.is_some();

        if f.rst() {
            let peer_state = self.ep[r].state;
            let refused = role == Role::Server
                && !self.ep[s].sent_syn_ack
                && matches!(peer_state, TcpState::SynSent)
                && !self.established;
            if refused {
                self.refused = true;
                notes.insert(Notes::REFUSED);
            } else {
                notes.insert(match role {
                    Role::Client => Notes::RESET_BY_CLIENT,
                    Role::Server => Notes::RESET_BY_SERVER,
                });
            }
            if self.first_rst.is_none() && !self.fins_done {
                self.first_rst = Some(role);
            }
            self.ep[s].state = TcpState::Closed;
            if peer_state != TcpState::Listen {
                self.ep[r].state = TcpState::Closed;
            }
            return Verdict {
                event: Event::Rst,
                phase: Phase::Reset,
                step: Step::NONE,
                notes,
            };
        }

        if seg.window == 0 && !f.syn() {
            notes.insert(Notes::ZERO_WINDOW);
        }

        if was_closed && !(f.fin() && self.ep[s].fin_seq == Some(seg.seq.wrapping_add(len))) {
            // After a reset only a RST makes sense; after a completed teardown, a late ACK or
            // retransmission is still normal.
            let event = if self.first_rst.is_some() {
                Event::Unexpected
            } else if len > 0 {
                Event::RetransmittedData
            } else {
                Event::Ack
            };
            self.note_sent(s, seg);
            return Verdict {
                event,
                phase: Phase::Closed,
                step: Step::NONE,
                notes,
            };
        }

        let verdict = if f.syn() {
            self.on_syn(role, seg, notes)
        } else {
            let acked = self.on_ack(role, seg);
            if f.fin() {
                self.on_fin(role, seg, acked, notes)
            } else {
                self.on_other(role, seg, acked, notes)
            }
        };
        self.note_sent(s, seg);
        verdict
    }

    /// Remembers what `seg` says about its sender for the next segments' classification.
    fn note_sent(&mut self, s: usize, seg: &Segment) {
        let f = seg.flags;
        let mut end = seg.seq.wrapping_add(seg.payload_len);
        if f.syn() {
            end = end.wrapping_add(1);
        }
        if f.fin() {
            end = end.wrapping_add(1);
        }
        let ep = &mut self.ep[s];
        ep.next_seq = Some(match ep.next_seq {
            Some(n) => seq::max(n, end),
            None => end,
        });
        if f.ack() {
            ep.last_ack = Some(seg.ack);
        }
        ep.last_window = seg.window;
    }

    fn handshake_complete(&mut self, ts_ns: i64) {
        self.established = true;
        if let Some(t0) = self.client_syn_ns {
            self.handshake_rtt_ns = Some(ts_ns.saturating_sub(t0).max(0) as u64);
        }
    }

    fn on_syn(&mut self, role: Role, seg: &Segment, mut notes: Notes) -> Verdict {
        let s = idx(role);
        let r = s ^ 1;
        let f = seg.flags;
        let retransmitted = self.ep[s].isn == Some(seg.seq);
        if seg.payload_len > 0 {
            notes.insert(Notes::DATA_BEFORE_HANDSHAKE);
        }
        let event = if f.fin() {
            Event::Unexpected
        } else if f.ack() {
            if retransmitted && self.ep[s].sent_syn_ack {
                Event::RetransmittedSynAck
            } else {
                Event::SynAck
            }
        } else if retransmitted {
            notes.insert(Notes::RETRANSMITTED_SYN);
            Event::RetransmittedSyn
        } else {
            Event::Syn
        };
        if role == Role::Client && !f.ack() && self.client_syn_ns.is_none() {
            self.client_syn_ns = Some(seg.ts_ns);
        }
        self.ep[s].isn = Some(seg.seq);
        let step = if f.ack() {
            self.ep[s].sent_syn_ack = true;
            // The sender received the peer's SYN (or is answering one we missed).
            self.ep[s].state = match self.ep[s].state {
                TcpState::Closed | TcpState::Listen | TcpState::SynSent => TcpState::SynReceived,
                other => other,
            };
            let acks_peer_syn = self.ep[r].isn.is_none_or(|isn| seq::gt(seg.ack, isn));
            if acks_peer_syn {
                self.ep[s].acked_peer_syn = true;
                self.ep[r].state = match self.ep[r].state {
                    TcpState::SynSent | TcpState::SynReceived => TcpState::Established,
                    other => other,
                };
            }
            if self.ep[r].state == TcpState::Established
                && self.ep[s].state == TcpState::Established
            {
                self.handshake_complete(seg.ts_ns);
            }
            Step::one(2, 3)
        } else {
            self.ep[s].state = match self.ep[s].state {
                TcpState::Closed | TcpState::Listen => TcpState::SynSent,
                other => other,
            };
            // Simultaneous open: the two SYNs crossed, so each endpoint receives the other's
            // while in SYN-SENT.
            if self.ep[r].state == TcpState::SynSent && self.ep[r].isn.is_some() {
                self.ep[r].state = TcpState::SynReceived;
                self.ep[s].state = TcpState::SynReceived;
            }
            Step::one(1, 3)
        };
        Verdict {
            event,
            phase: Phase::Handshake,
            step,
            notes,
        }
    }

    /// Applies the ACK of a non-SYN segment to the receiver. Returns what it acknowledged for
    /// the first time.
    fn on_ack(&mut self, role: Role, seg: &Segment) -> Acked {
        let s = idx(role);
        let r = s ^ 1;
        let mut acked = Acked::default();
        if !seg.flags.ack() {
            return acked;
        }
        if !self.ep[s].acked_peer_syn {
            if let Some(isn) = self.ep[r].isn {
                if seq::gt(seg.ack, isn) {
                    self.ep[s].acked_peer_syn = true;
                    acked.syn = true;
                    if self.ep[r].state == TcpState::SynReceived {
                        self.ep[r].state = TcpState::Established;
                    }
                    if self.ep[s].state == TcpState::SynReceived {
                        self.ep[s].state = TcpState::Established;
                    }
                }
            }
        }
        if !self.ep[s].acked_peer_fin {
            if let Some(fin) = self.ep[r].fin_seq {
                if seq::gt(seg.ack, fin) {
                    self.ep[s].acked_peer_fin = true;
                    acked.fin = true;
                    acked.fin_step = if self.crossed {
                        if self.ep[r].acked_peer_fin {
                            4
                        } else {
                            3
                        }
                    } else if self.ep[r].fin_step == 1 {
                        2
                    } else {
                        4
                    };
                    // Acknowledging the peer's FIN shows it was received.
                    self.ep[s].state = match self.ep[s].state {
                        TcpState::Established | TcpState::SynReceived => TcpState::CloseWait,
                        TcpState::FinWait1 => TcpState::Closing,
                        TcpState::FinWait2 => TcpState::TimeWait,
                        other => other,
                    };
                    self.ep[r].state = match self.ep[r].state {
                        TcpState::FinWait1 => TcpState::FinWait2,
                        TcpState::Closing => TcpState::TimeWait,
                        TcpState::LastAck => TcpState::Closed,
                        other => other,
                    };
                }
            }
        }
        if self.ep[0].acked_peer_fin && self.ep[1].acked_peer_fin {
            self.fins_done = true;
        }
        acked
    }

    pub(crate) fn phase_now(&self) -> Phase {
        if self.first_fin.is_some() {
            Phase::Teardown
        } else if self.established {
            Phase::DataTransfer
        } else {
            Phase::Handshake
        }
    }

    fn on_fin(&mut self, role: Role, seg: &Segment, acked: Acked, notes: Notes) -> Verdict {
        let s = idx(role);
        let mut notes = notes;
        let fin_at = seg.seq.wrapping_add(seg.payload_len);
        if self.ep[s].fin_seq == Some(fin_at) {
            notes.insert(Notes::RETRANSMITTED_FIN);
            let n = self.ep[s].fin_step;
            return Verdict {
                event: Event::RetransmittedFin,
                phase: if self.fins_done {
                    Phase::Closed
                } else {
                    Phase::Teardown
                },
                step: Step::one(n, 4),
                notes,
            };
        }
        if !self.established && !self.midstream && seg.payload_len > 0 {
            notes.insert(Notes::DATA_BEFORE_HANDSHAKE);
        }
        if matches!(
            self.ep[s].state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent
        ) {
            // RFC 9293 has no way to send a FIN before the own SYN is answered.
            return Verdict {
                event: Event::Unexpected,
                phase: self.phase_now(),
                step: Step::NONE,
                notes,
            };
        }
        let n = match self.first_fin {
            None => {
                self.first_fin = Some(role);
                1
            }
            // The peer's FIN is out and this one does not acknowledge it: both sides close at
            // once.
            Some(first) if first != role && !self.ep[s].acked_peer_fin => {
                self.crossed = true;
                2
            }
            Some(_) => 3,
        };
        self.ep[s].fin_seq = Some(fin_at);
        self.ep[s].fin_step = n;
        // The receiver's side moves when it acknowledges this FIN (see `on_ack`): until then
        // an observer cannot tell whether its own FIN crossed this one.
        self.ep[s].state = match self.ep[s].state {
            TcpState::CloseWait => TcpState::LastAck,
            TcpState::Established | TcpState::SynReceived => TcpState::FinWait1,
            other => other,
        };
        let step = if acked.fin && acked.fin_step == 2 {
            Step {
                first: 2,
                last: 3,
                of: 4,
            }
        } else {
            Step::one(n, 4)
        };
        Verdict {
            event: Event::Fin,
            phase: Phase::Teardown,
            step,
            notes,
        }
    }

    fn on_other(&mut self, role: Role, seg: &Segment, acked: Acked, notes: Notes) -> Verdict {
        let s = idx(role);
        let r = s ^ 1;
        let mut notes = notes;
        let len = seg.payload_len;

        if acked.syn && role == Role::Client && !self.established {
            self.handshake_complete(seg.ts_ns);
            self.ep[s].last_was_keepalive = false;
            return Verdict {
                event: Event::HandshakeAck,
                phase: Phase::Handshake,
                step: Step::one(3, 3),
                notes,
            };
        }
        if acked.syn && !self.established {
            // The server's side of a simultaneous open, or an ACK after a missed SYN-ACK.
            self.handshake_complete(seg.ts_ns);
        }

        let ep = &self.ep[s];
        let keepalive = len <= 1
            && ep.next_seq.is_some_and(|n| seg.seq == n.wrapping_sub(1))
            && !acked.fin
            && (ep.state == TcpState::Established || ep.state == TcpState::CloseWait);
        let peer_keepalive = self.ep[r].last_was_keepalive;

        let event = if keepalive {
            Event::KeepAlive
        } else if len > 0 {
            self.classify_data(s, seg)
        } else if acked.fin {
            if self.fins_done {
                Event::FinalAck
            } else {
                Event::FinAck
            }
        } else if peer_keepalive && self.ep[r].next_seq == Some(seg.ack) {
            Event::KeepAliveAck
        } else if seg.window == 0 {
            Event::ZeroWindow
        } else if ep.last_ack == Some(seg.ack) && ep.last_window != seg.window {
            Event::WindowUpdate
        } else if ep.last_ack == Some(seg.ack)
            && self.ep[r].next_seq.is_some_and(|n| seq::gt(n, seg.ack))
        {
            Event::DuplicateAck
        } else {
            Event::Ack
        };
        self.ep[s].last_was_keepalive = keepalive;

        if len > 0 && !self.established && !self.midstream {
            notes.insert(Notes::DATA_BEFORE_HANDSHAKE);
        }
        let step = if acked.fin {
            Step::one(acked.fin_step, 4)
        } else {
            Step::NONE
        };
        let phase = if acked.fin {
            Phase::Teardown
        } else {
            self.phase_now()
        };
        Verdict {
            event,
            phase,
            step,
            notes,
        }
    }

    fn classify_data(&mut self, s: usize, seg: &Segment) -> Event {
        let end = seg.seq.wrapping_add(seg.payload_len);
        let ep = &mut self.ep[s];
        let Some(next) = ep.next_seq else {
            return Event::Data;
        };
        if !seq::lt(seg.seq, next) {
            if seq::gt(seg.seq, next) && ep.holes.len() < 16 {
                ep.holes.push((next, seg.seq));
            }
            return Event::Data;
        }
        // Before the highest byte sent: either filling a hole, or sent before.
        if let Some(i) = ep
            .holes
            .iter()
            .position(|&(a, b)| seq::lt(seg.seq, b) && seq::gt(end, a))
        {
            let (a, b) = ep.holes[i];
            ep.holes.swap_remove(i);
            if seq::lt(a, seg.seq) {
                ep.holes.push((a, seg.seq));
            }
            if seq::lt(end, b) {
                ep.holes.push((end, b));
            }
            Event::OutOfOrder
        } else {
            Event::RetransmittedData
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Acked {
    syn: bool,
    fin: bool,
    /// Teardown step of acknowledging that FIN: 2 for the first FIN, 4 for the second; in a
    /// simultaneous close 3 for the first ACK of FIN, 4 for the second.
    fin_step: u8,
}
