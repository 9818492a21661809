//! The "TCP Lifecycle" postdissector.
//!
//! It reads the raw frame bytes and the frame's link type itself and slices them with
//! `tcplife_capture::slice_frame`, exactly as the `tcplife` command does, instead of asking
//! Wireshark for TCP fields: asking would force a protocol tree on every packet, which costs
//! more than the whole engine. The engine runs only in the first pass (frame not yet visited);
//! each frame's annotation is kept in a table and the frame remembers its row through
//! Wireshark's per-frame data, so later passes (tshark -2, GUI clicks in any order) show what
//! the first pass computed.

use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock};

use epan::Encap;
use tcplife_capture::{slice_frame, LinkType};
use tcplife_engine::{
    Annotation, Config, ConnState, ConnSummary, Ending, Event, Notes, Phase, Role, Run, Segment,
    Sink, TcpState,
};

use epan::{
    on_file_closed, on_new_file, Base, BoolPref, CText, Dissector, Expert, ExpertGroup, Field,
    FieldKind, Packet, Protocol, Severity, Subtree, Thrown,
};

struct Ids {
    proto: Protocol,
    ett: Subtree,
    conn: Field,
    role: Field,
    event: Field,
    phase: Field,
    step: Field,
    client_state: Field,
    server_state: Field,
    conn_state: Field,
    history: Field,
    handshake_rtt: Field,
    experts: Vec<(Notes, Expert)>,
    info_tag: BoolPref,
    info_tag_first: BoolPref,
}

static IDS: OnceLock<Ids> = OnceLock::new();

/// Expert infos: (note, filter name, summary, group, severity).
const EXPERTS: [(
    Notes,
    &std::ffi::CStr,
    &std::ffi::CStr,
    ExpertGroup,
    Severity,
); 9] = [
    (
        Notes::REFUSED,
        c"tcplife.expert.refused",
        c"Connection refused (the SYN was answered by a RST)",
        ExpertGroup::Sequence,
        Severity::Warn,
    ),
    (
        Notes::RESET_BY_CLIENT,
        c"tcplife.expert.reset_by_client",
        c"Connection reset by the client",
        ExpertGroup::Sequence,
        Severity::Warn,
    ),
    (
        Notes::RESET_BY_SERVER,
        c"tcplife.expert.reset_by_server",
        c"Connection reset by the server",
        ExpertGroup::Sequence,
        Severity::Warn,
    ),
    (
        Notes::DATA_BEFORE_HANDSHAKE,
        c"tcplife.expert.data_before_handshake",
        c"Data sent before the handshake completed",
        ExpertGroup::Protocol,
        Severity::Warn,
    ),
    (
        Notes::RETRANSMITTED_SYN,
        c"tcplife.expert.retransmitted_syn",
        c"Retransmitted SYN",
        ExpertGroup::Sequence,
        Severity::Note,
    ),
    (
        Notes::RETRANSMITTED_FIN,
        c"tcplife.expert.retransmitted_fin",
        c"Retransmitted FIN",
        ExpertGroup::Sequence,
        Severity::Note,
    ),
    (
        Notes::ZERO_WINDOW,
        c"tcplife.expert.zero_window",
        c"Zero window: the receiver cannot take more data",
        ExpertGroup::Sequence,
        Severity::Warn,
    ),
    (
        Notes::HANDSHAKE_INCOMPLETE,
        c"tcplife.expert.handshake_incomplete",
        c"The handshake never completed (last packet of the connection in the capture)",
        ExpertGroup::Sequence,
        Severity::Note,
    ),
    (
        Notes::NOT_CLOSED,
        c"tcplife.expert.not_closed",
        c"Connection not closed by the end of the capture (its last packet)",
        ExpertGroup::Sequence,
        Severity::Note,
    ),
];

pub fn register() {
    let proto = Protocol::register(c"TCP Lifecycle", c"TCPLife", c"tcplife");
    let f = |name, abbrev, kind, blurb| proto.field(name, abbrev, kind, blurb);
    let ids = Ids {
        proto,
        ett: Subtree::register(),
        conn: f(
            c"Conn",
            c"tcplife.conn",
            // 32 bits, as tcp.stream.
            FieldKind::Uint {
                bytes: 4,
                base: Base::Dec,
            },
            c"tcplife's connection number, in order of each connection's first packet",
        ),
        role: f(
            c"Role",
            c"tcplife.role",
            FieldKind::Str,
            c"Who sent the packet: client (the side that opened) or server",
        ),
        event: f(
            c"Event",
            c"tcplife.event",
            FieldKind::Str,
            c"What the packet does in the connection's life",
        ),
        phase: f(
            c"Phase",
            c"tcplife.phase",
            FieldKind::Str,
            c"handshake, data transfer, teardown, reset or closed",
        ),
        step: f(
            c"Step",
            c"tcplife.step",
            FieldKind::Str,
            c"Step of the handshake (n/3) or teardown (n/4)",
        ),
        client_state: f(
            c"Client state",
            c"tcplife.client_state",
            FieldKind::Str,
            c"The client's RFC 9293 state after this packet",
        ),
        server_state: f(
            c"Server state",
            c"tcplife.server_state",
            FieldKind::Str,
            c"The server's RFC 9293 state after this packet",
        ),
        conn_state: f(
            c"Conn state",
            c"tcplife.conn_state",
            FieldKind::Str,
            c"Zeek's conn_state (S0, S1, SF, REJ, ...) as it stands after this packet",
        ),
        history: f(
            c"History",
            c"tcplife.history",
            FieldKind::Str,
            c"Zeek's history string (ShADadFf...) as it stands after this packet",
        ),
        handshake_rtt: f(
            c"Handshake RTT",
            c"tcplife.handshake_rtt",
            FieldKind::Duration,
            c"Time from the client's SYN to the ACK completing the handshake",
        ),
        experts: EXPERTS
            .iter()
            .map(|&(note, name, summary, group, severity)| {
                (note, proto.expert(name, summary, group, severity))
            })
            .collect(),
        info_tag: proto.bool_pref(
            c"info_tag",
            c"Tag the Info column",
            c"Tag the Info column with the lifecycle phase and step, e.g. [handshake 1/3]",
            true,
        ),
        info_tag_first: proto.bool_pref(
            c"info_tag_first",
            c"Tag first",
            c"Put the tag before the Info column's text, where a narrow column still shows it \
              (off: after it)",
            true,
        ),
    };
    if IDS.set(ids).is_ok() {
        proto.register_postdissector(c"tcplife", &Lifecycle);
        on_new_file(reset);
        on_file_closed(file_closed);
    }
}

/// The first pass's results for the open capture file.
struct State {
    run: Run<Rows>,
    /// End-of-life notes of the connections still tracked, as the engine would end them now
    /// (`Tracker::open_endings`), indexed by `conn_id - 1`; recomputed when a packet was
    /// processed since (`open_notes_stale`). Later passes need them only for a connection's
    /// last packet, and tshark's second pass starts after the first has ended, so that is once.
    open_notes: Vec<Option<Notes>>,
    open_notes_stale: bool,
    /// A frame was dissected again (tshark -2's second pass, any GUI redraw or retap): the first
    /// pass is over and every connection's packets have been through the engine.
    revisited: bool,
}

/// What the engine said in the first pass, kept for every later pass.
#[derive(Default)]
struct Rows {
    /// One row per annotated frame, in first-pass order; frames keep `row + 1`.
    rows: Vec<Annotation>,
    /// Row of each connection's latest packet, indexed by `conn_id - 1`.
    last_row_of_conn: Vec<u32>,
    /// End-of-life notes of connections the tracker has retired, indexed by `conn_id - 1`.
    retired_notes: Vec<Option<Notes>>,
    /// Summaries of the connections the tracker has retired, in the order it retired them
    /// (`tcplife conns` order), for the tshark statistics.
    finished: Vec<ConnSummary>,
}

impl Sink for Rows {
    type Stop = std::convert::Infallible;

    fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), Self::Stop> {
        let row = self.rows.len();
        let conn = (a.conn_id as usize).saturating_sub(1);
        if self.last_row_of_conn.len() <= conn {
            self.last_row_of_conn.resize(conn + 1, u32::MAX);
        }
        self.last_row_of_conn[conn] = row as u32;
        self.rows.push(a);
        Ok(())
    }

    fn finished(&mut self, done: ConnSummary) -> Result<(), Self::Stop> {
        let conn = (done.conn_id as usize).saturating_sub(1);
        if self.retired_notes.len() <= conn {
            self.retired_notes.resize(conn + 1, None);
        }
        self.retired_notes[conn] = Some(notes_for_ending(done.ending));
        self.finished.push(done);
        Ok(())
    }
}

impl State {
    fn new() -> Self {
        State {
            run: Run::new(Config::default(), Rows::default()),
            open_notes: Vec::new(),
            open_notes_stale: true,
            revisited: false,
        }
    }

    /// The end-of-life notes of a connection the tracker still holds. Asking the tracker to
    /// `finish` would end every connection, and the GUI redraws packets while a file is still
    /// loading, so the tracker is only asked what it would say.
    fn open_notes(&mut self, conn: usize) -> Notes {
        if self.open_notes_stale {
            self.open_notes.clear();
            for (id, ending) in self.run.tracker().open_endings() {
                let i = (id as usize).saturating_sub(1);
                if self.open_notes.len() <= i {
                    self.open_notes.resize(i + 1, None);
                }
                self.open_notes[i] = Some(notes_for_ending(ending));
            }
            self.open_notes_stale = false;
        }
        self.open_notes
            .get(conn)
            .copied()
            .flatten()
            .unwrap_or_default()
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    // A panic inside the engine poisons the lock; the table is still usable.
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(State::new))
}

fn reset() {
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    *guard = None;
}

/// The capture file is closed. When no frame was dissected again, the notes that only the end
/// of the capture decides were never shown (one-pass tshark, `-z expert` without `-2`, a `-2 -R`
/// filter that kept no frame): say so once, rather than let their absence read as "all closed".
fn file_closed() {
    let state = STATE.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(mut st) = state else { return };
    if st.revisited {
        return;
    }
    if let Some(line) = unshown_notes_line(&mut st) {
        use std::io::Write as _;
        // Wireshark owns stderr; a failed write is not worth a panic inside it.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// The line for [`file_closed`], or None when no connection earned an end-of-capture note.
fn unshown_notes_line(st: &mut State) -> Option<String> {
    let conns = st.run.sink().last_row_of_conn.len();
    let (mut not_closed, mut incomplete) = (0usize, 0usize);
    for conn in 0..conns {
        let notes = match st.run.sink().retired_notes.get(conn).copied().flatten() {
            Some(notes) => notes,
            None => st.open_notes(conn),
        };
        not_closed += usize::from(notes.contains(Notes::NOT_CLOSED));
        incomplete += usize::from(notes.contains(Notes::HANDSHAKE_INCOMPLETE));
    }
    let total = not_closed + incomplete;
    (total > 0).then(|| {
        format!(
            "tcplife: end-of-capture notes not shown for {total} connection{s} ({not_closed} not \
             closed, {incomplete} handshake never completed): they are known only after the \
             first pass, and no frame was dissected again; run tshark with -2 (the Wireshark \
             GUI shows them)",
            s = if total == 1 { "" } else { "s" },
        )
    })
}

/// Every connection's summary, in `tcplife conns` order, and each annotated frame's connection
/// (frame number, conn id), for the statistics at the end of a run. Ends the connections still
/// open, as `tcplife conns` does at the end of a capture (later frames would start new ones,
/// which is why only end-of-run statistics ask).
pub(crate) fn end_of_run() -> (Vec<ConnSummary>, Vec<(u64, u64)>) {
    with_state(|st| {
        let Ok(()) = st.run.end();
        st.open_notes_stale = true;
        let rows = st.run.sink();
        let frames = rows.rows.iter().map(|a| (a.frame, a.conn_id)).collect();
        (rows.finished.clone(), frames)
    })
}

/// Whether the first pass over the open file is over (see `State::revisited`).
pub(crate) fn first_pass_over() -> bool {
    with_state(|st| st.revisited)
}

/// The notes a connection's ending earns its last packet.
fn notes_for_ending(ending: Ending) -> Notes {
    match ending {
        Ending::Unanswered | Ending::HandshakeIncomplete => Notes::HANDSHAKE_INCOMPLETE,
        Ending::NeverClosed | Ending::Midstream | Ending::HalfClosed => Notes::NOT_CLOSED,
        Ending::ClosedNormally
        | Ending::Refused
        | Ending::ResetByClient
        | Ending::ResetByServer => Notes::default(),
    }
}

/// The link layers `slice_frame` reads, in Wireshark's terms.
fn link_type(encap: Encap) -> Option<LinkType> {
    Some(match encap {
        Encap::Ethernet => LinkType::Ethernet,
        Encap::Null => LinkType::Null,
        Encap::Loop => LinkType::Loop,
        Encap::RawIp => LinkType::RawIp,
        Encap::RawIp4 => LinkType::Ipv4,
        Encap::RawIp6 => LinkType::Ipv6,
        Encap::Sll => LinkType::LinuxSll,
        Encap::Sll2 => LinkType::LinuxSll2,
        _ => return None,
    })
}

/// Fault injection for the tests (`TCPLIFE_PLUGIN_FAULT=panic:N` or `throw:N`): frame N panics
/// or makes Wireshark throw, to prove neither escapes. Read once; off unless set.
#[derive(Clone, Copy)]
enum Fault {
    Panic(u32),
    Throw(u32),
}

fn fault() -> Option<Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    *FAULT.get_or_init(|| {
        let spec = std::env::var("TCPLIFE_PLUGIN_FAULT").ok()?;
        let (kind, frame) = spec.split_once(':')?;
        let frame = frame.parse().ok()?;
        match kind {
            "panic" => Some(Fault::Panic(frame)),
            "throw" => Some(Fault::Throw(frame)),
            _ => None,
        }
    })
}

struct Lifecycle;

impl Dissector for Lifecycle {
    fn dissect(&self, pkt: &mut Packet<'_>) -> Result<usize, Thrown> {
        let Some(ids) = IDS.get() else { return Ok(0) };
        let frame = pkt.frame();
        match fault() {
            Some(Fault::Panic(n)) if n == frame.number => {
                // Inside the state lock, the worst place: the lock must recover.
                with_state(|_| panic!("injected panic at frame {n}"));
            }
            Some(Fault::Throw(n)) if n == frame.number => epan::testing::inject_bounds_error(pkt)?,
            _ => {}
        }
        let (annotation, extra_notes) = if !frame.visited {
            let Some(link) = frame.encap.and_then(link_type) else {
                return Ok(0);
            };
            let bytes = pkt.bytes()?;
            let Ok(seg) = slice_frame(link, u64::from(frame.number), frame.ts_ns, bytes) else {
                return Ok(0);
            };
            let (row, annotation) = with_state(|st| {
                let Ok(()) = st.run.segment(&seg);
                st.open_notes_stale = true;
                let rows = &st.run.sink().rows;
                let row = rows.len() - 1;
                (row, rows[row].clone())
            });
            if let Some(token) = NonZeroUsize::new(row + 1) {
                pkt.set_frame_data(ids.proto, token);
            }
            (annotation, Notes::default())
        } else {
            let Some(token) = pkt.frame_data(ids.proto) else {
                return Ok(0);
            };
            let row = token.get() - 1;
            let found = with_state(|st| {
                st.revisited = true;
                let rows = st.run.sink();
                let a = rows.rows.get(row)?.clone();
                let conn = (a.conn_id as usize).saturating_sub(1);
                let is_last = rows.last_row_of_conn.get(conn) == Some(&(row as u32));
                let extra = if !is_last {
                    Notes::default()
                } else {
                    match rows.retired_notes.get(conn).copied().flatten() {
                        Some(notes) => notes,
                        None => st.open_notes(conn),
                    }
                };
                Some((a, extra))
            });
            let Some(found) = found else { return Ok(0) };
            found
        };
        show(pkt, ids, &annotation, extra_notes)?;
        Ok(0)
    }
}

/// The engine's names as C strings, made once: building them per packet would cost more than
/// the engine does.
struct Names {
    role: Vec<CString>,
    event: Vec<CString>,
    phase: Vec<CString>,
    tcp_state: Vec<CString>,
    conn_state: Vec<CString>,
}

fn c_names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<CString> {
    all.iter()
        .map(|&v| CString::new(name(v)).unwrap_or_default())
        .collect()
}

impl Names {
    fn new() -> Self {
        Names {
            role: c_names(&[Role::Client, Role::Server], Role::as_str),
            event: c_names(&Event::ALL, Event::as_str),
            phase: c_names(&Phase::ALL, Phase::as_str),
            tcp_state: c_names(&TcpState::ALL, TcpState::as_str),
            conn_state: c_names(&ConnState::ALL, ConnState::as_str),
        }
    }
}

fn pick<'n, T: PartialEq>(all: &[T], names: &'n [CString], v: T) -> &'n CStr {
    all.iter()
        .position(|x| *x == v)
        .and_then(|i| names.get(i))
        .map_or(c"", |c| c.as_c_str())
}

static NAMES: OnceLock<Names> = OnceLock::new();

fn show(pkt: &mut Packet<'_>, ids: &Ids, a: &Annotation, extra: Notes) -> Result<(), Thrown> {
    let names = NAMES.get_or_init(Names::new);
    let role = pick(&[Role::Client, Role::Server], &names.role, a.role);
    let event = pick(&Event::ALL, &names.event, a.event);
    let phase = pick(&Phase::ALL, &names.phase, a.phase);
    let mut step = CText::<16>::default();
    let _ = write!(step, "{}", a.step);
    let has_step = !step.is_empty();
    let step = step.as_cstr();
    let mut proto_item = None;
    if let Some(root) = pkt.tree(ids.proto) {
        // Under TCP's item, as TCP's own analysis subtrees: a top-level item would show in
        // Protocol Hierarchy statistics as TCP's child and take its "End Packets".
        static TCP: OnceLock<Option<Protocol>> = OnceLock::new();
        let tree = TCP
            .get_or_init(|| Protocol::by_filter_name(c"tcp"))
            .and_then(|tcp| root.top_level(tcp))
            .unwrap_or(root);
        let mut label = CText::<128>::default();
        label
            .push("TCP Lifecycle: ")
            .push(a.role.as_str())
            .push(" ")
            .push(a.event.as_str())
            .push(", ")
            .push(a.phase.as_str());
        if has_step {
            let _ = write!(label, " {}", a.step);
        }
        let (item, sub) = tree.add_protocol(ids.proto, ids.ett, 0, 0, Some(label.as_cstr()))?;
        proto_item = Some(item);
        // tcp.stream's width; past 2^32 connections the number stops growing.
        sub.add_generated_u64(ids.conn, a.conn_id.min(u64::from(u32::MAX)))?;
        let mut history = CText::<128>::default();
        history.push(&a.history);
        let history = history.as_cstr();
        let client = pick(&TcpState::ALL, &names.tcp_state, a.client_state);
        let server = pick(&TcpState::ALL, &names.tcp_state, a.server_state);
        let conn_state = pick(&ConnState::ALL, &names.conn_state, a.conn_state);
        let items = [
            (ids.role, role),
            (ids.event, event),
            (ids.phase, phase),
            (ids.step, step),
            (ids.client_state, client),
            (ids.server_state, server),
            (ids.conn_state, conn_state),
            (ids.history, history),
        ];
        // No step item at all when there is no step, so `tcplife.step` filters and columns stay
        // empty rather than matching "".
        if has_step {
            sub.add_generated_strs(&items)?;
        } else {
            sub.add_generated_strs(&[items[0], items[1], items[2]])?;
            sub.add_generated_strs(&items[4..])?;
        }
        if let Some(ns) = a.handshake_rtt_ns {
            sub.add_generated_duration_ns(ids.handshake_rtt, ns)?;
        }
    }
    let notes = Notes(a.notes.0 | extra.0);
    if !notes.is_empty() {
        for (note, expert) in &ids.experts {
            if notes.contains(*note) {
                pkt.expert(proto_item, *expert)?;
            }
        }
    }
    if pkt.frame().has_columns && ids.info_tag.get() {
        let mut tag = CText::<40>::default();
        tag.push("[").push(a.phase.as_str());
        if has_step {
            let _ = write!(tag, " {}", a.step);
        }
        tag.push("]");
        pkt.add_info_tag(tag.as_cstr(), ids.info_tag_first.get())?;
    }
    Ok(())
}
