//! Loads the built libraries with `libloading` and drives what they export: the symbols
//! Wireshark's loader reads in the plugin (checked against the installed Wireshark), and the
//! engine's C ABI in `libtcplife_abi.so` (`crates/tcplife-abi/include/tcplife.h`), whose answers
//! must equal the engine's own, and which must not need Wireshark at all.

use std::ffi::{c_char, c_int, CStr};
use std::net::IpAddr;
use std::path::PathBuf;

use libloading::{Library, Symbol};
use tcplife_engine::{Annotation, Collect, Config, ConnSummary, Run, Segment};
use tcplife_tests::{project_root, shared_captures, target_profile_dir};

// The structs come from the ABI crate itself, where the header is generated from: the layout
// is written once.
use tcplife_abi::{
    TcplifeAnnotation as CAnnotation, TcplifeSegment as CSegment, TcplifeSummary as CSummary,
};

fn zeroed<T>() -> T {
    // SAFETY: only used for the mirrors above, for which all-zero (NULL pointers) is valid.
    unsafe { std::mem::zeroed() }
}

type Opaque = std::ffi::c_void;

struct Abi {
    lib: Library,
}

fn built(name: &str) -> PathBuf {
    let p = target_profile_dir().join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build --workspace` before `cargo test`",
        p.display()
    );
    p
}

impl Abi {
    /// The engine's C ABI library.
    fn load() -> Abi {
        Abi::load_file("libtcplife_abi.so")
    }

    fn load_file(name: &str) -> Abi {
        // SAFETY: the libraries' initialisers are Rust's (and Wireshark's for the plugin);
        // loading runs no plugin code (plugin_register is only called by Wireshark).
        let lib =
            unsafe { Library::new(built(name)) }.unwrap_or_else(|e| panic!("load {name}: {e}"));
        Abi { lib }
    }

    fn sym<T>(&self, name: &str) -> Symbol<'_, T> {
        // SAFETY: each caller states the symbol's true type (from tcplife.h).
        unsafe { self.lib.get(name.as_bytes()) }.unwrap_or_else(|e| panic!("symbol {name}: {e}"))
    }

    fn tracker(&self) -> *mut Opaque {
        let new: Symbol<unsafe extern "C" fn() -> *mut Opaque> = self.sym("tcplife_tracker_new");
        // SAFETY: no arguments.
        let t = unsafe { new() };
        assert!(!t.is_null());
        t
    }

    fn free(&self, t: *mut Opaque) {
        let free: Symbol<unsafe extern "C" fn(*mut Opaque)> = self.sym("tcplife_tracker_free");
        // SAFETY: a tracker from tcplife_tracker_new, freed once.
        unsafe { free(t) }
    }

    fn feed(&self, t: *mut Opaque, seg: &Segment) -> Result<Owned, c_int> {
        let feed: Symbol<
            unsafe extern "C" fn(*mut Opaque, *const CSegment, *mut CAnnotation) -> c_int,
        > = self.sym("tcplife_feed_segment");
        let mut c = CSegment {
            frame: seg.frame,
            ts_ns: seg.ts_ns,
            src_port: seg.src_port,
            dst_port: seg.dst_port,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags.0,
            window: seg.window,
            payload_len: seg.payload_len,
            ip_len: seg.ip_len,
            ..Default::default()
        };
        let put = |a: IpAddr, out: &mut [u8; 16]| match a {
            IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => *out = v6.octets(),
        };
        c.ip_version = if seg.src.is_ipv4() { 4 } else { 6 };
        put(seg.src, &mut c.src);
        put(seg.dst, &mut c.dst);
        let mut out: CAnnotation = zeroed();
        // SAFETY: valid pointers for the call.
        let rc = unsafe { feed(t, &c, &mut out) };
        if rc != 0 {
            return Err(rc);
        }
        Ok(Owned::from(&out))
    }

    fn feed_frame(
        &self,
        t: *mut Opaque,
        linktype: u32,
        frame: u64,
        data: &[u8],
    ) -> Result<Owned, c_int> {
        type FeedFrame = unsafe extern "C" fn(
            *mut Opaque,
            u32,
            u64,
            i64,
            *const u8,
            usize,
            *mut CAnnotation,
        ) -> c_int;
        let feed: Symbol<FeedFrame> = self.sym("tcplife_feed_frame");
        let mut out: CAnnotation = zeroed();
        // SAFETY: data/len describe a live slice.
        let rc = unsafe {
            feed(
                t,
                linktype,
                frame,
                frame as i64 * 1000,
                data.as_ptr(),
                data.len(),
                &mut out,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok(Owned::from(&out))
    }

    fn summaries(&self, t: *mut Opaque, which: &str) -> Vec<OwnedSummary> {
        let collect: Symbol<unsafe extern "C" fn(*mut Opaque) -> usize> = self.sym(which);
        let get: Symbol<unsafe extern "C" fn(*const Opaque, usize, *mut CSummary) -> c_int> =
            self.sym("tcplife_summary_get");
        // SAFETY: live tracker.
        let n = unsafe { collect(t) };
        assert_ne!(n, usize::MAX, "{which} failed");
        let list = (0..n)
            .map(|i| {
                let mut s: CSummary = zeroed();
                // SAFETY: index < n, live tracker.
                assert_eq!(unsafe { get(t, i, &mut s) }, 0);
                OwnedSummary::from(&s)
            })
            .collect();
        let mut s: CSummary = zeroed();
        // SAFETY: out of range must fail cleanly.
        assert_eq!(unsafe { get(t, n, &mut s) }, -1);
        list
    }
}

fn text(p: *const c_char) -> String {
    assert!(!p.is_null(), "NULL string from the ABI");
    // SAFETY: the ABI hands out NUL-terminated strings valid until the next call.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .expect("UTF-8")
        .to_string()
}

/// An annotation with its strings copied out (they are only valid until the next feed).
#[derive(Debug, PartialEq)]
struct Owned {
    frame: u64,
    conn_id: u64,
    columns: [String; 8],
    rtt: Option<u64>,
    notes: u32,
}

impl From<&CAnnotation> for Owned {
    fn from(a: &CAnnotation) -> Self {
        Owned {
            frame: a.frame,
            conn_id: a.conn_id,
            columns: [
                text(a.role),
                text(a.event),
                text(a.phase),
                text(a.step),
                text(a.client_state),
                text(a.server_state),
                text(a.conn_state),
                text(a.history),
            ],
            rtt: (a.has_handshake_rtt != 0).then_some(a.handshake_rtt_ns),
            notes: a.notes,
        }
    }
}

impl From<&Annotation> for Owned {
    fn from(a: &Annotation) -> Self {
        Owned {
            frame: a.frame,
            conn_id: a.conn_id,
            columns: [
                a.role.as_str().into(),
                a.event.as_str().into(),
                a.phase.as_str().into(),
                a.step.to_string(),
                a.client_state.as_str().into(),
                a.server_state.as_str().into(),
                a.conn_state.as_str().into(),
                a.history.to_string(),
            ],
            rtt: a.handshake_rtt_ns,
            notes: u32::from(a.notes.0),
        }
    }
}

#[derive(Debug, PartialEq)]
struct OwnedSummary {
    conn_id: u64,
    uid: String,
    endpoints: (String, u16, String, u16),
    conn_state: String,
    history: String,
    counts: [u64; 7],
    ending: String,
    first_closer: String,
    states: (String, String),
    rtt: Option<u64>,
    frames: (u64, u64),
    end_reason: String,
}

impl From<&CSummary> for OwnedSummary {
    fn from(s: &CSummary) -> Self {
        OwnedSummary {
            conn_id: s.conn_id,
            uid: text(s.uid),
            endpoints: (text(s.orig_h), s.orig_p, text(s.resp_h), s.resp_p),
            conn_state: text(s.conn_state),
            history: text(s.history),
            counts: [
                s.duration_ns,
                s.orig_bytes,
                s.resp_bytes,
                s.missed_bytes,
                s.orig_pkts,
                s.resp_pkts,
                s.orig_ip_bytes + s.resp_ip_bytes,
            ],
            ending: text(s.ending),
            first_closer: text(s.first_closer),
            states: (text(s.client_state), text(s.server_state)),
            rtt: (s.has_handshake_rtt != 0).then_some(s.handshake_rtt_ns),
            frames: (s.first_frame, s.last_frame),
            end_reason: text(s.end_reason),
        }
    }
}

impl From<&ConnSummary> for OwnedSummary {
    fn from(s: &ConnSummary) -> Self {
        OwnedSummary {
            conn_id: s.conn_id,
            uid: s.uid.clone(),
            endpoints: (
                s.orig_h.to_string(),
                s.orig_p,
                s.resp_h.to_string(),
                s.resp_p,
            ),
            conn_state: s.conn_state.as_str().into(),
            history: s.history.to_string(),
            counts: [
                s.duration_ns,
                s.orig_bytes,
                s.resp_bytes,
                s.missed_bytes,
                s.orig_pkts,
                s.resp_pkts,
                s.orig_ip_bytes + s.resp_ip_bytes,
            ],
            ending: s.ending.as_str().into(),
            first_closer: s.first_closer.map_or("", |r| r.as_str()).into(),
            states: (
                s.client_state.as_str().into(),
                s.server_state.as_str().into(),
            ),
            rtt: s.handshake_rtt_ns,
            frames: (s.first_frame, s.last_frame),
            end_reason: s.end_reason.as_str().into(),
        }
    }
}

#[test]
fn loader_symbols_match_the_installed_wireshark() {
    let abi = Abi::load_file("libtcplife_plugin.so");
    let v = tshark_testkit::wireshark_version().unwrap_or_else(|e| panic!("{e}"));
    let (major, minor) = (v.major as c_int, v.minor as c_int);
    let want_major: Symbol<*const c_int> = abi.sym("plugin_want_major");
    let want_minor: Symbol<*const c_int> = abi.sym("plugin_want_minor");
    let version: Symbol<*const c_char> = abi.sym("plugin_version");
    // SAFETY: the symbols are a C int and a char array (their addresses are what Wireshark reads).
    unsafe {
        assert_eq!(**want_major, major);
        assert_eq!(**want_minor, minor);
        assert_eq!(
            CStr::from_ptr(*version).to_str().unwrap(),
            env!("CARGO_PKG_VERSION")
        );
    }
    let _register: Symbol<unsafe extern "C" fn()> = abi.sym("plugin_register");
}

#[test]
fn abi_versions() {
    let abi = Abi::load();
    let abi_version: Symbol<unsafe extern "C" fn() -> u32> = abi.sym("tcplife_abi_version");
    let lib_version: Symbol<unsafe extern "C" fn() -> *const c_char> = abi.sym("tcplife_version");
    // SAFETY: no arguments.
    unsafe {
        assert_eq!(abi_version(), 1);
        assert_eq!(text(lib_version()), env!("CARGO_PKG_VERSION"));
    }
    // The header documents the ABI version the library returns.
    let header =
        std::fs::read_to_string(project_root().join("crates/tcplife-abi/include/tcplife.h"))
            .unwrap();
    assert!(header.contains("#define TCPLIFE_ABI_VERSION 1"));
}

/// The ABI library must load where Wireshark is not installed: nothing of Wireshark (or of
/// glib, which comes with it) among the libraries it needs, and none of the plugin loader's
/// symbols. The library is then loaded and run through a whole capture by the tests below.
#[test]
fn abi_library_needs_no_wireshark() {
    let path = built("libtcplife_abi.so");
    let needed = elf_needed(&std::fs::read(&path).unwrap());
    assert!(
        needed.iter().any(|n| n.starts_with("libc.so")),
        "DT_NEEDED read wrongly: {needed:?}"
    );
    for lib in &needed {
        for banned in ["wireshark", "wiretap", "wsutil", "glib", "gmodule"] {
            assert!(!lib.contains(banned), "{} needs {lib}", path.display());
        }
    }
    let abi = Abi::load();
    for symbol in ["plugin_register", "plugin_version", "plugin_want_major"] {
        // SAFETY: only looked up, never used.
        let found = unsafe { abi.lib.get::<*const u8>(symbol.as_bytes()) }.is_ok();
        assert!(!found, "{symbol} exported by the ABI library");
    }
    // And the plugin does need Wireshark: the reader sees what it must.
    let plugin = elf_needed(&std::fs::read(built("libtcplife_plugin.so")).unwrap());
    assert!(
        plugin.iter().any(|n| n.starts_with("libwireshark.so")),
        "{plugin:?}"
    );
}

/// The DT_NEEDED entries of a little-endian ELF64 shared object (what the dynamic loader will
/// look for), read from the section headers: `.dynamic` and the string table it links to.
fn elf_needed(elf: &[u8]) -> Vec<String> {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "ELF64");
    assert_eq!(elf[5], 1, "little-endian");
    let (shoff, shentsize, shnum) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    let section = |i: usize| {
        let h = shoff + i * shentsize;
        // (type, offset, size, link)
        (
            u32_at(h + 4),
            u64_at(h + 0x18),
            u64_at(h + 0x20),
            u32_at(h + 0x28),
        )
    };
    const SHT_DYNAMIC: usize = 6;
    const DT_NEEDED: usize = 1;
    let (_, dyn_off, dyn_size, strtab) = (0..shnum)
        .map(section)
        .find(|s| s.0 == SHT_DYNAMIC)
        .expect("no .dynamic section");
    let (_, str_off, _, _) = section(strtab);
    (0..dyn_size / 16)
        .map(|i| (u64_at(dyn_off + i * 16), u64_at(dyn_off + i * 16 + 8)))
        .filter(|&(tag, _)| tag == DT_NEEDED)
        .map(|(_, name)| {
            let start = str_off + name;
            let end = start + elf[start..].iter().position(|&b| b == 0).unwrap();
            String::from_utf8_lossy(&elf[start..end]).into_owned()
        })
        .collect()
}

#[test]
fn note_names_and_bad_arguments() {
    let abi = Abi::load();
    let name: Symbol<unsafe extern "C" fn(u32) -> *const c_char> = abi.sym("tcplife_note_name");
    for (note, expected) in tcplife_engine::Notes::ALL {
        // SAFETY: plain value argument.
        assert_eq!(text(unsafe { name(u32::from(note.0)) }), expected);
    }
    // SAFETY: as above; 0 and two bits at once are not one note.
    unsafe {
        assert!(name(0).is_null());
        assert!(name(3).is_null());
    }
    let feed: Symbol<
        unsafe extern "C" fn(*mut Opaque, *const CSegment, *mut CAnnotation) -> c_int,
    > = abi.sym("tcplife_feed_segment");
    let finish: Symbol<unsafe extern "C" fn(*mut Opaque) -> usize> = abi.sym("tcplife_finish");
    let t = abi.tracker();
    let mut out: CAnnotation = zeroed();
    let bad_version = CSegment {
        ip_version: 5,
        ..Default::default()
    };
    // SAFETY: NULLs and a bad IP version must be refused, not crash.
    unsafe {
        assert_eq!(feed(std::ptr::null_mut(), &bad_version, &mut out), -1);
        assert_eq!(feed(t, std::ptr::null(), &mut out), -1);
        assert_eq!(feed(t, &bad_version, &mut out), -1);
        assert_eq!(finish(std::ptr::null_mut()), usize::MAX);
    }
    // Frames that carry no TCP are skipped, not errors.
    assert_eq!(
        abi.feed_frame(t, 1, 1, &[0u8; 60]).unwrap_err(),
        1,
        "zero bytes: not IP"
    );
    assert_eq!(
        abi.feed_frame(t, 9999, 2, &[0u8; 60]).unwrap_err(),
        1,
        "unknown link type"
    );
    assert_eq!(
        abi.feed_frame(t, 101, 3, &[]).unwrap_err(),
        1,
        "empty raw-IP frame"
    );
    abi.free(t);
    abi.free(std::ptr::null_mut());
}

/// Every segment of every Zeek capture through the ABI and through the engine directly: the
/// annotations and the summaries must be the same.
#[test]
fn abi_agrees_with_the_engine_on_every_zeek_capture() {
    let abi = Abi::load();
    let dir = shared_captures().join("zeek");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the Zeek captures in {}",
        dir.display()
    );
    let mut packets = 0;
    for file in &files {
        let t = abi.tracker();
        let mut engine = Run::new(Config::default(), Collect::default());
        let mut finished_abi = Vec::new();
        let mut finished_engine = Vec::new();
        for seg in tcplife_capture::open_path(file).unwrap() {
            let seg = seg.unwrap();
            engine.segment(&seg).unwrap();
            let want = Owned::from(&engine.sink_mut().annotations.pop().unwrap());
            let got = abi
                .feed(t, &seg)
                .unwrap_or_else(|rc| panic!("{}: feed returned {rc}", file.display()));
            assert_eq!(got, want, "{} frame {}", file.display(), seg.frame);
            let done = &mut engine.sink_mut().summaries;
            finished_engine.extend(done.drain(..).map(|s| OwnedSummary::from(&s)));
            finished_abi.extend(abi.summaries(t, "tcplife_take_finished"));
            packets += 1;
        }
        let rest = engine.finish().unwrap().summaries;
        finished_engine.extend(rest.iter().map(OwnedSummary::from));
        finished_abi.extend(abi.summaries(t, "tcplife_finish"));
        assert_eq!(finished_abi, finished_engine, "{}", file.display());
        assert!(
            !finished_abi.is_empty(),
            "{}: no connection",
            file.display()
        );
        abi.free(t);
    }
    assert!(packets > 100);
}

/// A hand-made Ethernet handshake through `tcplife_feed_frame` (the slicer inside the library).
#[test]
fn frames_are_sliced_and_annotated() {
    let abi = Abi::load();
    let t = abi.tracker();
    let client = [10, 0, 0, 1];
    let server = [10, 0, 0, 2];
    let syn = ethernet_tcp(client, 40000, server, 42181, 1000, 0, 0x02);
    let syn_ack = ethernet_tcp(server, 42181, client, 40000, 5000, 1001, 0x12);
    let ack = ethernet_tcp(client, 40000, server, 42181, 1001, 5001, 0x10);
    let a1 = abi.feed_frame(t, 1, 1, &syn).unwrap();
    let a2 = abi.feed_frame(t, 1, 2, &syn_ack).unwrap();
    let a3 = abi.feed_frame(t, 1, 3, &ack).unwrap();
    for (a, frame, role, step) in [
        (&a1, 1, "client", "1/3"),
        (&a2, 2, "server", "2/3"),
        (&a3, 3, "client", "3/3"),
    ] {
        assert_eq!(a.frame, frame);
        assert_eq!(a.conn_id, 1);
        assert_eq!(a.columns[0], role);
        assert_eq!(a.columns[2], "handshake");
        assert_eq!(a.columns[3], step);
    }
    assert_eq!(a1.columns[1], "SYN");
    assert_eq!(a2.columns[1], "SYN-ACK");
    assert_eq!(a3.columns[4], "ESTABLISHED");
    assert_eq!(a3.columns[5], "ESTABLISHED");
    assert_eq!(
        a3.rtt,
        Some(2000),
        "SYN at 1000 ns, completing ACK at 3000 ns"
    );
    let conns = abi.summaries(t, "tcplife_finish");
    assert_eq!(conns.len(), 1);
    assert_eq!(
        conns[0].endpoints,
        ("10.0.0.1".into(), 40000, "10.0.0.2".into(), 42181)
    );
    assert_eq!(conns[0].conn_state, "S1");
    abi.free(t);
}

fn ethernet_tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 20];
    f[12] = 0x08; // IPv4
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&40u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src);
    ip[16..20].copy_from_slice(&dst);
    let tcp = &mut f[34..54];
    tcp[0..2].copy_from_slice(&sport.to_be_bytes());
    tcp[2..4].copy_from_slice(&dport.to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    tcp[14..16].copy_from_slice(&65535u16.to_be_bytes());
    f
}
