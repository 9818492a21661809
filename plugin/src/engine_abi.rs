#![allow(unsafe_code)]
//! The engine's C ABI, declared in `include/tcplife.h` (keep the two in step: the structs are
//! `#[repr(C)]` mirrors of the header's).

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use tcplife_capture::{slice_frame, LinkType};
use tcplife_engine::{Annotation, Config, ConnSummary, Flags, Notes, Segment, Tracker};

use epan::guard;

const OK: i32 = 0;
const ERROR: i32 = -1;
const SKIPPED: i32 = 1;
const ABI_VERSION: u32 = 1;

#[repr(C)]
pub struct TcplifeSegment {
    pub frame: u64,
    pub ts_ns: i64,
    pub ip_version: u8,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload_len: u32,
    pub ip_len: u32,
}

#[repr(C)]
pub struct TcplifeAnnotation {
    pub frame: u64,
    pub conn_id: u64,
    pub role: *const c_char,
    pub event: *const c_char,
    pub phase: *const c_char,
    pub step: *const c_char,
    pub client_state: *const c_char,
    pub server_state: *const c_char,
    pub conn_state: *const c_char,
    pub history: *const c_char,
    pub has_handshake_rtt: u8,
    pub handshake_rtt_ns: u64,
    pub notes: u32,
}

#[repr(C)]
pub struct TcplifeSummary {
    pub conn_id: u64,
    pub uid: *const c_char,
    pub ts_ns: i64,
    pub orig_h: *const c_char,
    pub orig_p: u16,
    pub resp_h: *const c_char,
    pub resp_p: u16,
    pub duration_ns: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: *const c_char,
    pub missed_bytes: u64,
    pub history: *const c_char,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    pub ending: *const c_char,
    pub first_closer: *const c_char,
    pub client_state: *const c_char,
    pub server_state: *const c_char,
    pub has_handshake_rtt: u8,
    pub handshake_rtt_ns: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub end_reason: *const c_char,
}

/// Opaque to C.
pub struct TcplifeTracker {
    tracker: Tracker,
    step: CString,
    history: CString,
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

fn fill(t: &mut TcplifeTracker, a: &Annotation, out: &mut TcplifeAnnotation) {
    t.step = cstring(&a.step.to_string());
    t.history = cstring(&a.history);
    *out = TcplifeAnnotation {
        frame: a.frame,
        conn_id: a.conn_id,
        role: c_static(a.role.as_str()),
        event: c_static(a.event.as_str()),
        phase: c_static(a.phase.as_str()),
        step: t.step.as_ptr(),
        client_state: c_static(a.client_state.as_str()),
        server_state: c_static(a.server_state.as_str()),
        conn_state: c_static(a.conn_state.as_str()),
        history: t.history.as_ptr(),
        has_handshake_rtt: a.handshake_rtt_ns.is_some() as u8,
        handshake_rtt_ns: a.handshake_rtt_ns.unwrap_or(0),
        notes: u32::from(a.notes.0),
    };
}

#[no_mangle]
pub extern "C" fn tcplife_abi_version() -> u32 {
    ABI_VERSION
}

#[no_mangle]
pub extern "C" fn tcplife_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn tcplife_tracker_new() -> *mut TcplifeTracker {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(TcplifeTracker {
            tracker: Tracker::new(Config::default()),
            step: CString::default(),
            history: CString::default(),
            summaries: Vec::new(),
        }))
    })
}

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
        };
        let a = t.tracker.process(&segment);
        fill(t, &a, out);
        OK
    })
}

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
        let a = t.tracker.process(&segment);
        fill(t, &a, out);
        OK
    })
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

/// # Safety
/// `tracker` is NULL or a live tracker.
#[no_mangle]
pub unsafe extern "C" fn tcplife_take_finished(tracker: *mut TcplifeTracker) -> usize {
    // SAFETY: NULL-checked; live per the contract.
    let Some(t) = (unsafe { tracker.as_mut() }) else {
        return usize::MAX;
    };
    guard(usize::MAX, || {
        let list: Vec<ConnSummary> = t.tracker.take_finished().collect();
        collect(t, list)
    })
}

/// # Safety
/// `tracker` is NULL or a live tracker.
#[no_mangle]
pub unsafe extern "C" fn tcplife_finish(tracker: *mut TcplifeTracker) -> usize {
    // SAFETY: NULL-checked; live per the contract.
    let Some(t) = (unsafe { tracker.as_mut() }) else {
        return usize::MAX;
    };
    guard(usize::MAX, || {
        let list = t.tracker.finish();
        collect(t, list)
    })
}

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

#[no_mangle]
pub extern "C" fn tcplife_note_name(bit: u32) -> *const c_char {
    guard(std::ptr::null(), || {
        Notes::ALL
            .iter()
            .find(|(n, _)| u32::from(n.0) == bit)
            .map_or(std::ptr::null(), |(_, name)| c_static(name))
    })
}
