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
use tcplife_engine::{Annotation, Config, ConnSummary, Ending, Notes, Run, Segment, Sink};
use tcplife_fields::{Kind, Text, Value, EXPERTS, FIELDS};

use epan::{
    on_file_closed, on_new_file, Base, BoolPref, CText, Dissector, Expert, ExpertGroup, Field,
    FieldKind, Packet, Protocol, Severity, Subtree, Thrown,
};

struct Ids {
    proto: Protocol,
    ett: Subtree,
    /// One per `tcplife_fields::FIELDS` entry, in its order.
    fields: Vec<Field>,
    /// Per field, its values' C strings when they are engine names (`Values::names`), made once:
    /// copying them per packet cost about 1,000 instructions a packet.
    names: Vec<Vec<(&'static str, &'static CStr)>>,
    experts: Vec<(Notes, Expert)>,
    info_tag: BoolPref,
    info_tag_first: BoolPref,
}

static IDS: OnceLock<Ids> = OnceLock::new();

/// Wireshark keeps the registered names for the whole process: made once, never freed.
fn leak(s: &str) -> &'static CStr {
    Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str())
}

fn field_kind(kind: Kind) -> FieldKind {
    match kind {
        // 32 bits, as tcp.stream.
        Kind::U32 => FieldKind::Uint {
            bytes: 4,
            base: Base::Dec,
        },
        Kind::Str => FieldKind::Str,
        Kind::Duration => FieldKind::Duration,
    }
}

fn expert_group(group: tcplife_fields::Group) -> ExpertGroup {
    match group {
        tcplife_fields::Group::Sequence => ExpertGroup::Sequence,
        tcplife_fields::Group::Protocol => ExpertGroup::Protocol,
    }
}

fn severity(severity: tcplife_fields::Severity) -> Severity {
    match severity {
        tcplife_fields::Severity::Note => Severity::Note,
        tcplife_fields::Severity::Warn => Severity::Warn,
    }
}

pub fn register() {
    let proto = Protocol::register(c"TCP Lifecycle", c"TCPLife", c"tcplife");
    let ids = Ids {
        proto,
        ett: Subtree::register(),
        fields: FIELDS
            .iter()
            .map(|f| {
                proto.field(
                    leak(f.title),
                    leak(&f.filter_name()),
                    field_kind(f.kind),
                    leak(f.description),
                )
            })
            .collect(),
        names: FIELDS
            .iter()
            .map(|f| {
                (f.values.names)()
                    .into_iter()
                    .map(|n| (n, leak(n)))
                    .collect()
            })
            .collect(),
        experts: EXPERTS
            .iter()
            .map(|e| {
                let id = proto.expert(
                    leak(&e.filter_name()),
                    leak(e.summary),
                    expert_group(e.group),
                    severity(e.severity),
                );
                (e.note, id)
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

fn show(pkt: &mut Packet<'_>, ids: &Ids, a: &Annotation, extra: Notes) -> Result<(), Thrown> {
    let has_step = !a.step.is_none();
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
        // Each run of string fields goes to Wireshark in one call, as C strings copied onto the
        // stack (no allocation per packet). An absent value adds no item at all, so its filters
        // and columns stay empty rather than matching "".
        let mut texts: [CText<128>; FIELDS.len()] = std::array::from_fn(|_| CText::default());
        let mut batch = [(ids.fields[0], c""); FIELDS.len()];
        let mut n = 0;
        let specs = FIELDS.iter().zip(&ids.fields).zip(&ids.names);
        for (((spec, &field), names), text) in specs.zip(texts.iter_mut()) {
            match spec.value(a) {
                Value::Absent => {}
                Value::Str(t) => {
                    // An engine name has its C string ready; anything else (the history, the
                    // step, a name not where the list has it) is copied.
                    let made = match t {
                        Text::Name { text, index } => {
                            names.get(usize::from(index)).filter(|(n, _)| *n == text)
                        }
                        _ => None,
                    };
                    let c = match made {
                        Some(&(_, c)) => c,
                        None => text.push(t.as_str()).as_cstr(),
                    };
                    if let Some(slot) = batch.get_mut(n) {
                        *slot = (field, c);
                        n += 1;
                    }
                }
                Value::Uint(v) => {
                    sub.add_generated_strs(&batch[..n])?;
                    n = 0;
                    // The fields are 32 bits wide, as tcp.stream; past 2^32 the number stops.
                    sub.add_generated_u64(field, v.min(u64::from(u32::MAX)))?;
                }
                Value::DurationNs(ns) => {
                    sub.add_generated_strs(&batch[..n])?;
                    n = 0;
                    sub.add_generated_duration_ns(field, ns)?;
                }
            }
        }
        sub.add_generated_strs(&batch[..n])?;
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
