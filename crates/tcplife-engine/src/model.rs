//! The engine's vocabulary: what it says about each packet and each connection. The string forms
//! here are the exact values the CLI prints and the Wireshark plugin shows as `tcplife.*` fields,
//! so both tools speak one language.

use std::fmt;

/// Which side of the connection sent a packet. The client is Zeek's originator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// An endpoint's state per RFC 9293 section 3.3.2, as a passive observer can infer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

/// What a packet does in its connection's life. One per packet; when a segment does several
/// things (a FIN that also acknowledges the peer's FIN) the event names the most telling one and
/// the step says the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    Syn,
    SynAck,
    HandshakeAck,
    RetransmittedSyn,
    RetransmittedSynAck,
    Data,
    RetransmittedData,
    OutOfOrder,
    Ack,
    DuplicateAck,
    WindowUpdate,
    ZeroWindow,
    KeepAlive,
    KeepAliveAck,
    Fin,
    RetransmittedFin,
    FinAck,
    FinalAck,
    Rst,
    /// A segment the connection's state cannot explain (e.g. a SYN+FIN, data after a RST).
    Unexpected,
}

impl Event {
    pub const ALL: [Event; 20] = [
        Event::Syn,
        Event::SynAck,
        Event::HandshakeAck,
        Event::RetransmittedSyn,
        Event::RetransmittedSynAck,
        Event::Data,
        Event::RetransmittedData,
        Event::OutOfOrder,
        Event::Ack,
        Event::DuplicateAck,
        Event::WindowUpdate,
        Event::ZeroWindow,
        Event::KeepAlive,
        Event::KeepAliveAck,
        Event::Fin,
        Event::RetransmittedFin,
        Event::FinAck,
        Event::FinalAck,
        Event::Rst,
        Event::Unexpected,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Event::Syn => "SYN",
            Event::SynAck => "SYN-ACK",
            Event::HandshakeAck => "handshake ACK",
            Event::RetransmittedSyn => "retransmitted SYN",
            Event::RetransmittedSynAck => "retransmitted SYN-ACK",
            Event::Data => "data",
            Event::RetransmittedData => "retransmitted data",
            Event::OutOfOrder => "out-of-order data",
            Event::Ack => "ACK",
            Event::DuplicateAck => "duplicate ACK",
            Event::WindowUpdate => "window update",
            Event::ZeroWindow => "zero window",
            Event::KeepAlive => "keep-alive",
            Event::KeepAliveAck => "keep-alive ACK",
            Event::Fin => "FIN",
            Event::RetransmittedFin => "retransmitted FIN",
            Event::FinAck => "ACK of FIN",
            Event::FinalAck => "final ACK",
            Event::Rst => "RST",
            Event::Unexpected => "unexpected",
        }
    }
}

/// Where the connection stands in its life when the packet is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Handshake,
    DataTransfer,
    Teardown,
    Reset,
    /// After both sides have closed (late retransmissions, packets in TIME-WAIT).
    Closed,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Handshake,
        Phase::DataTransfer,
        Phase::Teardown,
        Phase::Reset,
        Phase::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Handshake => "handshake",
            Phase::DataTransfer => "data transfer",
            Phase::Teardown => "teardown",
            Phase::Reset => "reset",
            Phase::Closed => "closed",
        }
    }
}

/// The step inside a handshake (n/3) or a teardown (n/4). A FIN that also acknowledges the
/// peer's FIN is two teardown steps at once, written `2+3/4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Step {
    /// First step this packet performs; 0 means no step.
    pub first: u8,
    /// Last step this packet performs (equal to `first` for a single step).
    pub last: u8,
    pub of: u8,
}

impl Step {
    pub const NONE: Step = Step {
        first: 0,
        last: 0,
        of: 0,
    };
    pub const fn one(n: u8, of: u8) -> Step {
        Step {
            first: n,
            last: n,
            of,
        }
    }
    pub const fn is_none(self) -> bool {
        self.first == 0
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return Ok(());
        }
        if self.first == self.last {
            write!(f, "{}/{}", self.first, self.of)
        } else {
            write!(f, "{}+{}/{}", self.first, self.last, self.of)
        }
    }
}

/// Zeek's conn.log `conn_state`, with Zeek's exact semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnState {
    S0,
    S1,
    SF,
    REJ,
    S2,
    S3,
    RSTO,
    RSTR,
    RSTOS0,
    RSTRH,
    SH,
    SHR,
    OTH,
}

impl ConnState {
    pub const ALL: [ConnState; 13] = [
        ConnState::S0,
        ConnState::S1,
        ConnState::SF,
        ConnState::REJ,
        ConnState::S2,
        ConnState::S3,
        ConnState::RSTO,
        ConnState::RSTR,
        ConnState::RSTOS0,
        ConnState::RSTRH,
        ConnState::SH,
        ConnState::SHR,
        ConnState::OTH,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

/// Facts about a packet worth an expert note in Wireshark. A small bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Notes(pub u16);

impl Notes {
    pub const REFUSED: Notes = Notes(1 << 0);
    pub const RESET_BY_CLIENT: Notes = Notes(1 << 1);
    pub const RESET_BY_SERVER: Notes = Notes(1 << 2);
    pub const DATA_BEFORE_HANDSHAKE: Notes = Notes(1 << 3);
    pub const RETRANSMITTED_SYN: Notes = Notes(1 << 4);
    pub const RETRANSMITTED_FIN: Notes = Notes(1 << 5);
    pub const ZERO_WINDOW: Notes = Notes(1 << 6);
    /// Set on a connection's last packet once the capture ended without a handshake.
    pub const HANDSHAKE_INCOMPLETE: Notes = Notes(1 << 7);
    /// Set on a connection's last packet once the capture ended with the connection still open.
    pub const NOT_CLOSED: Notes = Notes(1 << 8);

    pub const ALL: [(Notes, &'static str); 9] = [
        (Notes::REFUSED, "refused"),
        (Notes::RESET_BY_CLIENT, "reset_by_client"),
        (Notes::RESET_BY_SERVER, "reset_by_server"),
        (Notes::DATA_BEFORE_HANDSHAKE, "data_before_handshake"),
        (Notes::RETRANSMITTED_SYN, "retransmitted_syn"),
        (Notes::RETRANSMITTED_FIN, "retransmitted_fin"),
        (Notes::ZERO_WINDOW, "zero_window"),
        (Notes::HANDSHAKE_INCOMPLETE, "handshake_incomplete"),
        (Notes::NOT_CLOSED, "not_closed"),
    ];

    pub const fn contains(self, other: Notes) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn insert(&mut self, other: Notes) {
        self.0 |= other.0;
    }
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = (Notes, &'static str)> {
        Notes::ALL
            .into_iter()
            .filter(move |(n, _)| self.contains(*n))
    }
}

/// Zeek's `history` string (upper case: originator, lower case: responder).
pub type History = compact_str::CompactString;

/// What the engine says about one packet, computed when the packet is seen (so it never
/// depends on packets that come later).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub frame: u64,
    /// 1-based connection number, in order of each connection's first packet.
    pub conn_id: u64,
    pub role: Role,
    pub event: Event,
    pub phase: Phase,
    pub step: Step,
    /// States after this packet.
    pub client_state: TcpState,
    pub server_state: TcpState,
    /// Zeek's `conn_state` and `history` as they stand after this packet.
    pub conn_state: ConnState,
    pub history: History,
    /// Time from the client's SYN to the handshake's completing ACK, once known.
    pub handshake_rtt_ns: Option<u64>,
    pub notes: Notes,
}

/// How a connection ended, in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    ClosedNormally,
    Refused,
    ResetByClient,
    ResetByServer,
    /// Only one side closed (the other never sent its FIN).
    HalfClosed,
    /// A SYN that never got an answer.
    Unanswered,
    /// The server answered but the handshake never completed.
    HandshakeIncomplete,
    /// Established and still open at the end of the capture or when it went idle.
    NeverClosed,
    /// Seen from the middle (no handshake) and not closed.
    Midstream,
}

impl Ending {
    pub const fn as_str(self) -> &'static str {
        match self {
            Ending::ClosedNormally => "closed normally",
            Ending::Refused => "refused",
            Ending::ResetByClient => "reset by client",
            Ending::ResetByServer => "reset by server",
            Ending::HalfClosed => "half-closed",
            Ending::Unanswered => "unanswered",
            Ending::HandshakeIncomplete => "handshake incomplete",
            Ending::NeverClosed => "never closed",
            Ending::Midstream => "midstream, not closed",
        }
    }
}

/// Per-connection summary: Zeek's conn.log fields plus tcplife's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnSummary {
    pub conn_id: u64,
    /// Zeek-style unique id (deterministic here, derived from `conn_id` and the first timestamp).
    pub uid: String,
    /// Timestamp of the first packet, ns since the epoch.
    pub ts_ns: i64,
    pub orig_h: std::net::IpAddr,
    pub orig_p: u16,
    pub resp_h: std::net::IpAddr,
    pub resp_p: u16,
    pub duration_ns: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: ConnState,
    pub missed_bytes: u64,
    pub history: History,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    // tcplife's own:
    pub ending: Ending,
    /// Who sent the first FIN (or RST when nobody sent a FIN).
    pub first_closer: Option<Role>,
    pub client_state: TcpState,
    pub server_state: TcpState,
    pub handshake_rtt_ns: Option<u64>,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Why the connection left the tracker: end of capture, idle timeout, close, reuse of its
    /// ports, or an unanswered attempt.
    pub end_reason: EndReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    EndOfCapture,
    Idle,
    Closed,
    Reused,
    /// The originator's SYN went unanswered for Zeek's `tcp_attempt_delay`.
    Attempt,
}

impl EndReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            EndReason::EndOfCapture => "end of capture",
            EndReason::Idle => "idle",
            EndReason::Closed => "closed",
            EndReason::Reused => "ports reused",
            EndReason::Attempt => "attempt timed out",
        }
    }
}
