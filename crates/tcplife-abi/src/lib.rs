//! The engine's C ABI: `libtcplife_abi.so`, for C programs that want tcplife's lifecycle
//! engine without Wireshark (the library links neither libwireshark nor glib).
//!
//! `include/tcplife.h` is generated from this file by cbindgen (`cbindgen.toml`); the test
//! `tests/header.rs` regenerates it and fails when the checked-in header is stale
//! (`TCPLIFE_BLESS=1 cargo test -p tcplife-abi --test header` rewrites it). The structs below
//! are therefore the one description of the layout, used by C through the header and by Rust
//! tests through this crate's rlib.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once};

use tcplife_capture::{slice_frame, LinkType};
use tcplife_engine::{Annotation, Config, ConnSummary, Flags, Notes, Run, Segment, Sink};

/// Bumped when a struct below or a function's meaning changes.
pub const TCPLIFE_ABI_VERSION: u32 = 1;

/// Success.
pub const TCPLIFE_OK: i32 = 0;
/// A bad argument or an internal error.
pub const TCPLIFE_ERROR: i32 = -1;
/// tcplife_feed_frame: the frame carries no TCP segment (ARP, UDP, a fragment, truncated...).
pub const TCPLIFE_SKIPPED: i32 = 1;

/// Bit of tcplife_annotation.notes: the SYN was answered by a RST.
pub const TCPLIFE_NOTE_REFUSED: u32 = 1 << 0;
/// Bit of tcplife_annotation.notes: the client reset the connection.
pub const TCPLIFE_NOTE_RESET_BY_CLIENT: u32 = 1 << 1;
/// Bit of tcplife_annotation.notes: the server reset the connection.
pub const TCPLIFE_NOTE_RESET_BY_SERVER: u32 = 1 << 2;
/// Bit of tcplife_annotation.notes: data before the handshake completed.
pub const TCPLIFE_NOTE_DATA_BEFORE_HANDSHAKE: u32 = 1 << 3;
/// Bit of tcplife_annotation.notes: a retransmitted SYN.
pub const TCPLIFE_NOTE_RETRANSMITTED_SYN: u32 = 1 << 4;
/// Bit of tcplife_annotation.notes: a retransmitted FIN.
pub const TCPLIFE_NOTE_RETRANSMITTED_FIN: u32 = 1 << 5;
/// Bit of tcplife_annotation.notes: a zero window.
pub const TCPLIFE_NOTE_ZERO_WINDOW: u32 = 1 << 6;
/// Bit of tcplife_annotation.notes: the handshake never completed.
pub const TCPLIFE_NOTE_HANDSHAKE_INCOMPLETE: u32 = 1 << 7;
/// Bit of tcplife_annotation.notes: not closed by the end of the capture.
pub const TCPLIFE_NOTE_NOT_CLOSED: u32 = 1 << 8;

const OK: i32 = TCPLIFE_OK;
const ERROR: i32 = TCPLIFE_ERROR;
const SKIPPED: i32 = TCPLIFE_SKIPPED;

/// One TCP segment, already sliced out of its frame. Addresses in network byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TcplifeSegment {
    /// 1-based frame number.
    pub frame: u64,
    /// Capture time, ns since the Unix epoch.
    pub ts_ns: i64,
    /// 4 or 6.
    pub ip_version: u8,
    /// IPv4 uses the first 4 bytes.
    pub src: [u8; 16],
    /// IPv4 uses the first 4 bytes.
    pub dst: [u8; 16],
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// The TCP header's flag byte: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20...
    pub flags: u8,
    /// Raw, unscaled.
    pub window: u16,
    /// TCP payload length from the IP header.
    pub payload_len: u32,
    /// IP packet length, header included.
    pub ip_len: u32,
}

/// What the engine says about one packet: the columns of `tcplife packets --format tsv`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TcplifeAnnotation {
    /// Frame number, as fed.
    pub frame: u64,
    /// 1-based, in order of first packet.
    pub conn_id: u64,
    /// "client" / "server".
    pub role: *const c_char,
    /// "SYN", "data", "final ACK", ...
    pub event: *const c_char,
    /// "handshake", "data transfer", "teardown", "reset", "closed".
    pub phase: *const c_char,
    /// "1/3", "2+3/4", or "".
    pub step: *const c_char,
    /// RFC 9293 name: "SYN-SENT", "ESTABLISHED", ...
    pub client_state: *const c_char,
    /// RFC 9293 name.
    pub server_state: *const c_char,
    /// Zeek: "S0", "SF", "REJ", ...
    pub conn_state: *const c_char,
    /// Zeek's history string.
    pub history: *const c_char,
    /// 1 when handshake_rtt_ns is valid.
    pub has_handshake_rtt: u8,
    /// Valid when has_handshake_rtt.
    pub handshake_rtt_ns: u64,
    /// TCPLIFE_NOTE_* bits.
    pub notes: u32,
}

/// One finished connection: Zeek's conn.log fields plus tcplife's own.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TcplifeSummary {
    /// 1-based, in order of first packet.
    pub conn_id: u64,
    /// Zeek-looking unique id.
    pub uid: *const c_char,
    /// Time of the first packet, ns since the Unix epoch.
    pub ts_ns: i64,
    /// Textual address.
    pub orig_h: *const c_char,
    /// Originator's port.
    pub orig_p: u16,
    /// Textual address.
    pub resp_h: *const c_char,
    /// Responder's port.
    pub resp_p: u16,
    /// Last packet's time minus the first's.
    pub duration_ns: u64,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// Zeek's conn_state.
    pub conn_state: *const c_char,
    /// Bytes missing from the capture (sequence gaps).
    pub missed_bytes: u64,
    /// Zeek's history string.
    pub history: *const c_char,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// IP bytes from the originator.
    pub orig_ip_bytes: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// IP bytes from the responder.
    pub resp_ip_bytes: u64,
    /// "closed normally", "refused", "reset by client", ...
    pub ending: *const c_char,
    /// "client", "server" or "".
    pub first_closer: *const c_char,
    /// The client's last RFC 9293 state.
    pub client_state: *const c_char,
    /// The server's last RFC 9293 state.
    pub server_state: *const c_char,
    /// 1 when handshake_rtt_ns is valid.
    pub has_handshake_rtt: u8,
    /// Valid when has_handshake_rtt.
    pub handshake_rtt_ns: u64,
    /// Frame number of the first packet.
    pub first_frame: u64,
    /// Frame number of the last packet.
    pub last_frame: u64,
    /// "end of capture", "idle", "closed", "ports reused".
    pub end_reason: *const c_char,
}

static QUIET: Once = Once::new();

thread_local! {
    static IN_GUARD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into `default`: no panic crosses into C, and none prints a
/// backtrace into the host program's terminal.
fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    QUIET.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Only panics inside this library's calls are silenced; a Rust host keeps its own.
            if !IN_GUARD.with(|g| g.get()) {
                previous(info)
            }
        }))
    });
    let outer = IN_GUARD.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or(default);
    IN_GUARD.with(|g| g.set(outer));
    result
}

/// What the engine handed out and C has not read yet: the annotation of the segment being fed,
/// and the connections finished since C last took them.
#[derive(Default)]
struct Pending {
    annotation: Option<Annotation>,
    finished: Vec<ConnSummary>,
}

impl Sink for Pending {
    type Stop = std::convert::Infallible;
    fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), Self::Stop> {
        self.annotation = Some(a);
        Ok(())
    }
    fn finished(&mut self, summary: ConnSummary) -> Result<(), Self::Stop> {
        self.finished.push(summary);
        Ok(())
    }
}

/// A connection tracker (opaque to C).
pub struct TcplifeTracker {
    run: Run<Pending>,
    /// NUL-terminated text of the last annotation's step and history: buffers reused from one
    /// packet to the next, so feeding allocates nothing once they have grown.
    step: Vec<u8>,
    history: Vec<u8>,
    summaries: Vec<(ConnSummary, [CString; 4])>,
}

/// NUL-terminated copies of the engine's `&'static str` names. The set is small and fixed (the
/// enums' names), so the copies are made once and kept for the process.
fn c_static(s: &'static str) -> *const c_char {
    static CACHE: Mutex<Option<HashMap<&'static str, &'static CStr>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    let c = map
        .entry(s)
        .or_insert_with(|| Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str()));
    c.as_ptr()
}

fn cstring(s: &str) -> CString {
    // Engine strings never hold NUL; should one appear, cut there rather than fail.
    CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default()
}

/// Replaces `buf` with `text` and a NUL (cut at an inner NUL; engine strings hold none).
fn set_c_text(buf: &mut Vec<u8>, text: impl std::fmt::Display) {
    buf.clear();
    let _ = write!(buf, "{text}");
    if let Some(nul) = buf.iter().position(|&b| b == 0) {
        buf.truncate(nul);
    }
    buf.push(0);
}

fn fill(t: &mut TcplifeTracker, a: &Annotation, out: &mut TcplifeAnnotation) {
    set_c_text(&mut t.step, a.step);
    set_c_text(&mut t.history, &a.history);
    *out = TcplifeAnnotation {
        frame: a.frame,
        conn_id: a.conn_id,
        role: c_static(a.role.as_str()),
        event: c_static(a.event.as_str()),
        phase: c_static(a.phase.as_str()),
        step: t.step.as_ptr().cast(),
        client_state: c_static(a.client_state.as_str()),
        server_state: c_static(a.server_state.as_str()),
        conn_state: c_static(a.conn_state.as_str()),
        history: t.history.as_ptr().cast(),
        has_handshake_rtt: a.handshake_rtt_ns.is_some() as u8,
        handshake_rtt_ns: a.handshake_rtt_ns.unwrap_or(0),
        notes: u32::from(a.notes.0),
    };
}

/// TCPLIFE_ABI_VERSION of the library (compare with the header's).
#[no_mangle]
pub extern "C" fn tcplife_abi_version() -> u32 {
    TCPLIFE_ABI_VERSION
}

/// The library's version, e.g. "0.1.0". Static.
#[no_mangle]
pub extern "C" fn tcplife_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A tracker with the default settings (idle timeout 300 s, close linger 5 s). NULL on error.
#[no_mangle]
pub extern "C" fn tcplife_tracker_new() -> *mut TcplifeTracker {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(TcplifeTracker {
            run: Run::new(Config::default(), Pending::default()),
            step: vec![0],
            history: vec![0],
            summaries: Vec::new(),
        }))
    })
}

/// Frees the tracker and every string it handed out. NULL is accepted.
///
/// # Safety
/// `tracker` is NULL or came from `tcplife_tracker_new` and was not freed.
#[no_mangle]
pub unsafe extern "C" fn tcplife_tracker_free(tracker: *mut TcplifeTracker) {
    if tracker.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: per the contract above, we own it.
        drop(unsafe { Box::from_raw(tracker) })
    })
}

/// Feeds one segment; fills *out. TCPLIFE_OK or TCPLIFE_ERROR.
///
/// # Safety
/// Pointers are NULL or valid for the access the header describes.
#[no_mangle]
pub unsafe extern "C" fn tcplife_feed_segment(
    tracker: *mut TcplifeTracker,
    seg: *const TcplifeSegment,
    out: *mut TcplifeAnnotation,
) -> i32 {
    // SAFETY: NULL-checked; valid per the contract.
    let (Some(t), Some(s), Some(out)) = (
        unsafe { tracker.as_mut() },
        unsafe { seg.as_ref() },
        unsafe { out.as_mut() },
    ) else {
        return ERROR;
    };
    guard(ERROR, || {
        let addr = |b: &[u8; 16]| -> Option<IpAddr> {
            match s.ip_version {
                4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
                6 => Some(IpAddr::V6(Ipv6Addr::from(*b))),
                _ => None,
            }
        };
        let (Some(src), Some(dst)) = (addr(&s.src), addr(&s.dst)) else {
            return ERROR;
        };
        let segment = Segment {
            frame: s.frame,
            ts_ns: s.ts_ns,
            src,
            src_port: s.src_port,
            dst,
            dst_port: s.dst_port,
            seq: s.seq,
            ack: s.ack,
            flags: Flags(s.flags),
            window: s.window,
            payload_len: s.payload_len,
            ip_len: s.ip_len,
            integrity: tcplife_engine::Integrity::Intact,
        };
        feed(t, &segment, out)
    })
}

/// Slices a raw frame (pcap LINKTYPE_* number: 1 Ethernet, 0 null, 101 raw IP, 113 Linux
/// cooked...) and feeds its segment. TCPLIFE_OK, TCPLIFE_SKIPPED or TCPLIFE_ERROR.
///
/// # Safety
/// Pointers are NULL or valid for the access the header describes; `data` holds `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tcplife_feed_frame(
    tracker: *mut TcplifeTracker,
    linktype: u32,
    frame: u64,
    ts_ns: i64,
    data: *const u8,
    len: usize,
    out: *mut TcplifeAnnotation,
) -> i32 {
    // SAFETY: NULL-checked; valid per the contract.
    let (Some(t), Some(out)) = (unsafe { tracker.as_mut() }, unsafe { out.as_mut() }) else {
        return ERROR;
    };
    if data.is_null() && len != 0 {
        return ERROR;
    }
    let bytes: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: non-NULL and `len` bytes long per the contract.
        unsafe { std::slice::from_raw_parts(data, len) }
    };
    guard(ERROR, || {
        let Some(link) = LinkType::from_linktype(linktype) else {
            return SKIPPED;
        };
        let Ok(segment) = slice_frame(link, frame, ts_ns, bytes) else {
            return SKIPPED;
        };
        feed(t, &segment, out)
    })
}

fn feed(t: &mut TcplifeTracker, segment: &Segment, out: &mut TcplifeAnnotation) -> i32 {
    let Ok(()) = t.run.segment(segment);
    match t.run.sink_mut().annotation.take() {
        Some(a) => {
            fill(t, &a, out);
            OK
        }
        None => ERROR,
    }
}

fn collect(t: &mut TcplifeTracker, list: Vec<ConnSummary>) -> usize {
    t.summaries = list
        .into_iter()
        .map(|s| {
            let strings = [
                cstring(&s.uid),
                cstring(&s.orig_h.to_string()),
                cstring(&s.resp_h.to_string()),
                cstring(&s.history),
            ];
            (s, strings)
        })
        .collect();
    t.summaries.len()
}

/// Collects the connections that finished since the last call (closed and lingered, idle, or
/// replaced); returns how many, readable with tcplife_summary_get. (size_t)-1 on error.
///
/// # Safety
/// `tracker` is NULL or a live tracker.
#[no_mangle]
pub unsafe extern "C" fn tcplife_take_finished(tracker: *mut TcplifeTracker) -> usize {
    // SAFETY: NULL-checked; live per the contract.
    let Some(t) = (unsafe { tracker.as_mut() }) else {
        return usize::MAX;
    };
    guard(usize::MAX, || {
        let list = std::mem::take(&mut t.run.sink_mut().finished);
        collect(t, list)
    })
}

/// End of capture: collects every connection still tracked (plus any finished ones not yet
/// taken), in first-packet order; returns how many. (size_t)-1 on error.
///
/// # Safety
/// `tracker` is NULL or a live tracker.
#[no_mangle]
pub unsafe extern "C" fn tcplife_finish(tracker: *mut TcplifeTracker) -> usize {
    // SAFETY: NULL-checked; live per the contract.
    let Some(t) = (unsafe { tracker.as_mut() }) else {
        return usize::MAX;
    };
    guard(usize::MAX, || {
        let Ok(()) = t.run.end();
        let list = std::mem::take(&mut t.run.sink_mut().finished);
        collect(t, list)
    })
}

/// Reads summary `index` of the last collection. TCPLIFE_OK or TCPLIFE_ERROR.
///
/// # Safety
/// `tracker` is NULL or a live tracker; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tcplife_summary_get(
    tracker: *const TcplifeTracker,
    index: usize,
    out: *mut TcplifeSummary,
) -> i32 {
    // SAFETY: NULL-checked; valid per the contract.
    let (Some(t), Some(out)) = (unsafe { tracker.as_ref() }, unsafe { out.as_mut() }) else {
        return ERROR;
    };
    guard(ERROR, || {
        let Some((s, [uid, orig_h, resp_h, history])) = t.summaries.get(index) else {
            return ERROR;
        };
        *out = TcplifeSummary {
            conn_id: s.conn_id,
            uid: uid.as_ptr(),
            ts_ns: s.ts_ns,
            orig_h: orig_h.as_ptr(),
            orig_p: s.orig_p,
            resp_h: resp_h.as_ptr(),
            resp_p: s.resp_p,
            duration_ns: s.duration_ns,
            orig_bytes: s.orig_bytes,
            resp_bytes: s.resp_bytes,
            conn_state: c_static(s.conn_state.as_str()),
            missed_bytes: s.missed_bytes,
            history: history.as_ptr(),
            orig_pkts: s.orig_pkts,
            orig_ip_bytes: s.orig_ip_bytes,
            resp_pkts: s.resp_pkts,
            resp_ip_bytes: s.resp_ip_bytes,
            ending: c_static(s.ending.as_str()),
            first_closer: c_static(s.first_closer.map_or("", |r| r.as_str())),
            client_state: c_static(s.client_state.as_str()),
            server_state: c_static(s.server_state.as_str()),
            has_handshake_rtt: s.handshake_rtt_ns.is_some() as u8,
            handshake_rtt_ns: s.handshake_rtt_ns.unwrap_or(0),
            first_frame: s.first_frame,
            last_frame: s.last_frame,
            end_reason: c_static(s.end_reason.as_str()),
        };
        OK
    })
}

/// Name of one TCPLIFE_NOTE_* bit ("refused", "not_closed"...); NULL if not exactly one known
/// bit. Static.
#[no_mangle]
pub extern "C" fn tcplife_note_name(bit: u32) -> *const c_char {
    guard(std::ptr::null(), || {
        Notes::ALL
            .iter()
            .find(|(n, _)| u32::from(n.0) == bit)
            .map_or(std::ptr::null(), |(_, name)| c_static(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_bits_are_the_engines() {
        let ours = [
            (TCPLIFE_NOTE_REFUSED, Notes::REFUSED),
            (TCPLIFE_NOTE_RESET_BY_CLIENT, Notes::RESET_BY_CLIENT),
            (TCPLIFE_NOTE_RESET_BY_SERVER, Notes::RESET_BY_SERVER),
            (
                TCPLIFE_NOTE_DATA_BEFORE_HANDSHAKE,
                Notes::DATA_BEFORE_HANDSHAKE,
            ),
            (TCPLIFE_NOTE_RETRANSMITTED_SYN, Notes::RETRANSMITTED_SYN),
            (TCPLIFE_NOTE_RETRANSMITTED_FIN, Notes::RETRANSMITTED_FIN),
            (TCPLIFE_NOTE_ZERO_WINDOW, Notes::ZERO_WINDOW),
            (
                TCPLIFE_NOTE_HANDSHAKE_INCOMPLETE,
                Notes::HANDSHAKE_INCOMPLETE,
            ),
            (TCPLIFE_NOTE_NOT_CLOSED, Notes::NOT_CLOSED),
        ];
        assert_eq!(
            ours.len(),
            Notes::ALL.len(),
            "a note without a TCPLIFE_NOTE_ bit"
        );
        for (bit, note) in ours {
            assert_eq!(bit, u32::from(note.0));
        }
    }
}
