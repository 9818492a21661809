//! Safe wrappers over the shim: what a dissector written in safe Rust needs.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::os::raw::c_int;

use epan_sys as sys;

use crate::guard;

/// Wireshark threw while the shim was working for us (malformed packet, too many tree items...).
/// The dissector should return at once; the exception is rethrown once it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thrown;

fn thrown_if(cond: bool) -> Result<(), Thrown> {
    if cond {
        Err(Thrown)
    } else {
        Ok(())
    }
}

/// A registered protocol.
#[derive(Clone, Copy, Debug)]
pub struct Protocol(c_int);

/// A registered header field.
#[derive(Clone, Copy, Debug)]
pub struct Field(c_int);

/// A registered subtree (remembers whether the user expanded it).
#[derive(Clone, Copy, Debug)]
pub struct Subtree(c_int);

/// A registered expert info.
#[derive(Clone, Copy, Debug)]
pub struct Expert(*mut sys::expert_field);
// SAFETY: points to memory the shim allocated once and never frees or moves.
unsafe impl Send for Expert {}
unsafe impl Sync for Expert {}

/// A boolean preference; Wireshark writes it when the user changes it.
#[derive(Clone, Copy, Debug)]
pub struct BoolPref(*const sys::shim_bool_pref);
// SAFETY: as for Expert; reads of a bool that Wireshark writes from the same thread.
unsafe impl Send for BoolPref {}
unsafe impl Sync for BoolPref {}

impl BoolPref {
    /// The preference's current value.
    pub fn get(self) -> bool {
        // SAFETY: the shim accepts NULL and otherwise reads a live allocation.
        unsafe { sys::shim_bool_pref_get(self.0) != 0 }
    }
}

/// An unsigned number preference; Wireshark writes it when the user changes it.
#[derive(Clone, Copy, Debug)]
pub struct UintPref(*const sys::shim_uint_pref);
// SAFETY: as for BoolPref.
unsafe impl Send for UintPref {}
unsafe impl Sync for UintPref {}

impl UintPref {
    /// The preference's current value.
    pub fn get(self) -> u32 {
        // SAFETY: the shim accepts NULL and otherwise reads a live allocation.
        unsafe { sys::shim_uint_pref_get(self.0) }
    }
}

/// How an integer field is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// Decimal (`BASE_DEC`).
    Dec,
    /// Hexadecimal (`BASE_HEX`).
    Hex,
    /// Decimal and hexadecimal (`BASE_DEC_HEX`).
    DecHex,
}

/// The type of a header field: Wireshark's `FT_*` kinds that dissectors use most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A string (`FT_STRING`).
    Str,
    /// An unsigned 64-bit number in decimal (`FT_UINT64`, `BASE_DEC`).
    U64,
    /// An unsigned integer of 1, 2, 3, 4 or 8 bytes (`FT_UINT8`...`FT_UINT64`).
    Uint {
        /// Width in bytes: 1, 2, 3, 4 or 8 (anything else is taken as 8).
        bytes: u8,
        /// How it is shown.
        base: Base,
    },
    /// A signed integer of 1, 2, 3, 4 or 8 bytes (`FT_INT8`...`FT_INT64`).
    Int {
        /// Width in bytes: 1, 2, 3, 4 or 8 (anything else is taken as 8).
        bytes: u8,
    },
    /// A true/false value (`FT_BOOLEAN`, no bitmask).
    Bool,
    /// Raw bytes (`FT_BYTES`).
    Bytes,
    /// An IPv4 address (`FT_IPv4`).
    Ipv4,
    /// An IPv6 address (`FT_IPv6`).
    Ipv6,
    /// A duration (`FT_RELATIVE_TIME`), printed in seconds.
    Duration,
    /// No value: a label or a subtree's head (`FT_NONE`).
    None,
}

impl FieldKind {
    fn ft_display(self) -> (u32, u32) {
        let base = |b: Base| match b {
            Base::Dec => sys::BASE_DEC,
            Base::Hex => sys::BASE_HEX,
            Base::DecHex => sys::BASE_DEC_HEX,
        };
        match self {
            FieldKind::Str => (sys::FT_STRING, sys::BASE_NONE),
            FieldKind::U64 => (sys::FT_UINT64, sys::BASE_DEC),
            FieldKind::Uint { bytes, base: b } => (
                match bytes {
                    1 => sys::FT_UINT8,
                    2 => sys::FT_UINT16,
                    3 => sys::FT_UINT24,
                    4 => sys::FT_UINT32,
                    _ => sys::FT_UINT64,
                },
                base(b),
            ),
            FieldKind::Int { bytes } => (
                match bytes {
                    1 => sys::FT_INT8,
                    2 => sys::FT_INT16,
                    3 => sys::FT_INT24,
                    4 => sys::FT_INT32,
                    _ => sys::FT_INT64,
                },
                sys::BASE_DEC,
            ),
            FieldKind::Bool => (sys::FT_BOOLEAN, sys::BASE_NONE),
            FieldKind::Bytes => (sys::FT_BYTES, sys::BASE_NONE),
            FieldKind::Ipv4 => (sys::FT_IPv4, sys::BASE_NONE),
            FieldKind::Ipv6 => (sys::FT_IPv6, sys::BASE_NONE),
            FieldKind::Duration => (sys::FT_RELATIVE_TIME, sys::BASE_NONE),
            FieldKind::None => (sys::FT_NONE, sys::BASE_NONE),
        }
    }
}

/// How the bytes of a field read from the packet are encoded (`ENC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Network byte order (`ENC_BIG_ENDIAN`).
    BigEndian,
    /// `ENC_LITTLE_ENDIAN`.
    LittleEndian,
    /// ASCII text (`ENC_ASCII`).
    Ascii,
    /// UTF-8 text (`ENC_UTF_8`).
    Utf8,
    /// No encoding applies (`ENC_NA`: bytes, addresses, `FieldKind::None`).
    NotApplicable,
}

impl Encoding {
    fn raw(self) -> u32 {
        match self {
            Encoding::BigEndian => sys::ENC_BIG_ENDIAN,
            Encoding::LittleEndian => sys::ENC_LITTLE_ENDIAN,
            Encoding::Ascii => sys::ENC_ASCII,
            Encoding::Utf8 => sys::ENC_UTF_8,
            Encoding::NotApplicable => sys::ENC_NA,
        }
    }
}

/// The kind of problem an expert info reports (`PI_*` groups).
#[derive(Clone, Copy, Debug)]
pub enum ExpertGroup {
    /// Sequence problems (retransmissions, resets...).
    Sequence,
    /// Protocol violations.
    Protocol,
    /// Response codes worth noting.
    ResponseCode,
    /// Malformed packets.
    Malformed,
}

/// How serious an expert info is.
#[derive(Clone, Copy, Debug)]
pub enum Severity {
    /// Usual workflow.
    Chat,
    /// Notable, but not a problem.
    Note,
    /// A warning.
    Warn,
    /// An error.
    Error,
}

/// A dissector table named to [`Handle::add_uint`] or [`Handle::add_string`] does not exist in
/// this Wireshark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchTable;

impl std::fmt::Display for NoSuchTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such dissector table")
    }
}

impl std::error::Error for NoSuchTable {}

/// Why [`Protocol::register_heuristic`] could not add a heuristic dissector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeuristicError {
    /// No heuristic list of that name exists in this Wireshark.
    NoSuchList,
    /// Every heuristic slot of the shim is taken (`epan_sys::SHIM_HEUR_SLOTS` per process).
    NoFreeSlot,
}

impl std::fmt::Display for HeuristicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HeuristicError::NoSuchList => "no such heuristic dissector list",
            HeuristicError::NoFreeSlot => "every heuristic dissector slot is taken",
        })
    }
}

impl std::error::Error for HeuristicError {}

/// What a dissector implements. Returning `Err(Thrown)` is how a shim-caught exception is
/// passed back up; `Ok(n)` is the number of bytes consumed (0: not mine).
pub trait Dissector: Sync {
    /// Dissects one packet (or, for a postdissector, one frame).
    fn dissect(&self, pkt: &mut Packet<'_>) -> Result<usize, Thrown>;
}

impl Protocol {
    /// A protocol registered by Wireshark or another plugin, by its filter name (`c"tcp"`).
    pub fn by_filter_name(filter: &CStr) -> Option<Protocol> {
        // SAFETY: NUL-terminated; a lookup that never throws.
        let id = unsafe { sys::shim_protocol_id(filter.as_ptr()) };
        (id >= 0).then_some(Protocol(id))
    }

    /// Registers a protocol: its full name, the short name of the Protocol column, and the
    /// prefix of its display-filter fields. Call it in a registration function.
    pub fn register(name: &'static CStr, short_name: &'static CStr, filter: &'static CStr) -> Self {
        // SAFETY: 'static strings, as Wireshark keeps the pointers.
        Protocol(unsafe {
            sys::shim_register_protocol(name.as_ptr(), short_name.as_ptr(), filter.as_ptr())
        })
    }

    /// Registers a header field: its label, its filter name (`proto.field`), its type and a
    /// one-line description.
    pub fn field(
        self,
        name: &'static CStr,
        abbrev: &'static CStr,
        kind: FieldKind,
        blurb: &'static CStr,
    ) -> Field {
        let (ty, display) = kind.ft_display();
        // SAFETY: 'static strings; the shim allocates the table Wireshark keeps.
        Field(unsafe {
            sys::shim_register_field(
                self.0,
                name.as_ptr(),
                abbrev.as_ptr(),
                ty as c_int,
                display as c_int,
                blurb.as_ptr(),
            )
        })
    }

    /// Registers an expert info: its filter name, its summary, group and severity.
    pub fn expert(
        self,
        name: &'static CStr,
        summary: &'static CStr,
        group: ExpertGroup,
        severity: Severity,
    ) -> Expert {
        let group = match group {
            ExpertGroup::Sequence => sys::PI_SEQUENCE,
            ExpertGroup::Protocol => sys::PI_PROTOCOL,
            ExpertGroup::ResponseCode => sys::PI_RESPONSE_CODE,
            ExpertGroup::Malformed => sys::PI_MALFORMED,
        };
        let severity = match severity {
            Severity::Chat => sys::PI_CHAT,
            Severity::Note => sys::PI_NOTE,
            Severity::Warn => sys::PI_WARN,
            Severity::Error => sys::PI_ERROR,
        };
        // SAFETY: 'static strings; the shim allocates the expert field for the process.
        Expert(unsafe {
            sys::shim_register_expert(
                self.0,
                name.as_ptr(),
                summary.as_ptr(),
                group as c_int,
                severity as c_int,
            )
        })
    }

    /// Registers a boolean preference in the protocol's preferences (`proto.name`).
    pub fn bool_pref(
        self,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
        default: bool,
    ) -> BoolPref {
        // SAFETY: 'static strings; the shim allocates the storage for the process.
        BoolPref(unsafe {
            sys::shim_register_bool_pref(
                self.0,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                default as c_int,
            )
        })
    }

    /// Registers an unsigned number preference, shown and edited in decimal.
    pub fn uint_pref(
        self,
        name: &'static CStr,
        title: &'static CStr,
        description: &'static CStr,
        default: u32,
    ) -> UintPref {
        // SAFETY: 'static strings; the shim allocates the storage for the process.
        UintPref(unsafe {
            sys::shim_register_uint_pref(
                self.0,
                name.as_ptr(),
                title.as_ptr(),
                description.as_ptr(),
                10,
                default,
            )
        })
    }

    /// Offers `dissector` the payloads of the heuristic list `list` (`c"tcp"`, `c"udp"`, ...)
    /// that no port or table claimed: it looks at the bytes and returns `Ok(0)` for "not mine"
    /// (Wireshark then asks the next heuristic) or the bytes it consumed. A heuristic must be
    /// strict: it sees traffic of every other protocol. `display_name` is what Analyze >
    /// Enabled Protocols shows, `internal_name` the name for tshark's `--enable-heuristic` /
    /// `--disable-heuristic`; `enabled` is the default. Call it in the handoff phase
    /// ([`on_handoff`](crate::on_handoff)), when the lists of every protocol exist.
    pub fn register_heuristic(
        self,
        list: &CStr,
        display_name: &'static CStr,
        internal_name: &'static CStr,
        dissector: &'static dyn Dissector,
        enabled: bool,
    ) -> Result<(), HeuristicError> {
        // Leaked only once the shim has taken it: a refused registration frees nothing it keeps.
        let ctx = Box::into_raw(Box::new(dissector)) as *mut c_void;
        // SAFETY: 'static names; ctx stays valid for the process once registered.
        let rc = unsafe {
            sys::shim_register_heuristic(
                list.as_ptr(),
                display_name.as_ptr(),
                internal_name.as_ptr(),
                self.0,
                c_int::from(enabled),
                ctx,
            )
        };
        match rc {
            0 => Ok(()),
            _ => {
                // SAFETY: the shim did not keep ctx; it is the box made above.
                drop(unsafe { Box::from_raw(ctx as *mut &'static dyn Dissector) });
                Err(if rc == -1 {
                    HeuristicError::NoSuchList
                } else {
                    HeuristicError::NoFreeSlot
                })
            }
        }
    }

    fn dissector_handle(
        self,
        name: &'static CStr,
        dissector: &'static dyn Dissector,
    ) -> sys::dissector_handle_t {
        // A thin pointer for C: the fat `&dyn` lives in a box leaked for the process.
        let ctx = Box::into_raw(Box::new(dissector)) as *mut c_void;
        // SAFETY: 'static name; ctx stays valid forever.
        unsafe { sys::shim_register_dissector(name.as_ptr(), self.0, ctx) }
    }

    /// Runs `dissector` on every frame, after all other dissectors.
    pub fn register_postdissector(self, name: &'static CStr, dissector: &'static dyn Dissector) {
        let handle = self.dissector_handle(name, dissector);
        // SAFETY: a handle Wireshark just created.
        unsafe { sys::shim_register_postdissector(handle) }
    }

    /// Registers `dissector` by name; hook it to a table or port with [`Handle::add_uint`]
    /// in the handoff phase ([`on_handoff`](crate::on_handoff)).
    pub fn register_dissector(
        self,
        name: &'static CStr,
        dissector: &'static dyn Dissector,
    ) -> Handle {
        Handle(self.dissector_handle(name, dissector))
    }
}

/// A dissector handle.
#[derive(Clone, Copy, Debug)]
pub struct Handle(sys::dissector_handle_t);
// SAFETY: handles live for the process and are only used from registration code.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Handle {
    /// The dissector gets what `table` (e.g. `"tcp.port"`, `"udp.port"`, `"ethertype"`) maps
    /// `value` to. `with_preference` also makes the value a user preference (a port list the
    /// user can edit, as Wireshark's own dissectors do for their ports).
    pub fn add_uint(
        self,
        table: &CStr,
        value: u32,
        with_preference: bool,
    ) -> Result<(), NoSuchTable> {
        // SAFETY: a live handle; Wireshark copies what it keeps of the table name.
        let rc = unsafe {
            sys::shim_dissector_add_uint(table.as_ptr(), value, self.0, with_preference as c_int)
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(NoSuchTable)
        }
    }

    /// The dissector gets what the string table `table` maps `value` to.
    pub fn add_string(self, table: &CStr, value: &'static CStr) -> Result<(), NoSuchTable> {
        // SAFETY: a live handle; the value is 'static, as Wireshark keeps the key.
        let rc = unsafe { sys::shim_dissector_add_string(table.as_ptr(), value.as_ptr(), self.0) };
        if rc == 0 {
            Ok(())
        } else {
            Err(NoSuchTable)
        }
    }

    /// TCP hands this port's payload to the dissector (also editable as a preference).
    pub fn add_tcp_port(self, port: u16) {
        // "tcp.port" exists in every Wireshark with TCP, so the error cannot happen.
        let _ = self.add_uint(c"tcp.port", u32::from(port), true);
    }
}

impl Subtree {
    /// Registers a subtree id (Wireshark remembers per id whether the user expanded it).
    pub fn register() -> Self {
        // SAFETY: no arguments; the shim allocates what Wireshark keeps.
        Subtree(unsafe { sys::shim_register_subtree() })
    }
}

/// What Wireshark knows about the frame being dissected.
#[derive(Clone, Copy, Debug)]
pub struct FrameInfo {
    /// The frame number (from 1, in file order).
    pub number: u32,
    /// Already dissected once: only the first pass may change state.
    pub visited: bool,
    /// The frame's link-layer encapsulation; `None` for a record that is not a packet (an
    /// event, a systemd journal entry...).
    pub encap: Option<Encap>,
    /// Capture time, in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Column text is wanted for this dissection.
    pub has_columns: bool,
    /// Source port of the transport layer, once a lower dissector set it (0 otherwise).
    pub src_port: u32,
    /// Destination port of the transport layer, once a lower dissector set it (0 otherwise).
    pub dst_port: u32,
}

/// Wireshark's link-layer encapsulation of a packet (`WTAP_ENCAP_*`), for the common ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encap {
    /// Ethernet (`WTAP_ENCAP_ETHERNET`).
    Ethernet,
    /// BSD loopback, host byte order family (`WTAP_ENCAP_NULL`).
    Null,
    /// OpenBSD loopback, network byte order family (`WTAP_ENCAP_LOOP`).
    Loop,
    /// Raw IP, version from the first nibble (`WTAP_ENCAP_RAW_IP`).
    RawIp,
    /// Raw IPv4 (`WTAP_ENCAP_RAW_IP4`).
    RawIp4,
    /// Raw IPv6 (`WTAP_ENCAP_RAW_IP6`).
    RawIp6,
    /// Linux cooked capture (`WTAP_ENCAP_SLL`).
    Sll,
    /// Linux cooked capture v2 (`WTAP_ENCAP_SLL2`).
    Sll2,
    /// Any other `WTAP_ENCAP_*` value (numbers are Wireshark's, not pcap's link types).
    Other(i32),
}

impl Encap {
    fn from_raw(encap: c_int) -> Self {
        match u32::try_from(encap) {
            Ok(sys::WTAP_ENCAP_ETHERNET) => Encap::Ethernet,
            Ok(sys::WTAP_ENCAP_NULL) => Encap::Null,
            Ok(sys::WTAP_ENCAP_LOOP) => Encap::Loop,
            Ok(sys::WTAP_ENCAP_RAW_IP) => Encap::RawIp,
            Ok(sys::WTAP_ENCAP_RAW_IP4) => Encap::RawIp4,
            Ok(sys::WTAP_ENCAP_RAW_IP6) => Encap::RawIp6,
            Ok(sys::WTAP_ENCAP_SLL) => Encap::Sll,
            Ok(sys::WTAP_ENCAP_SLL2) => Encap::Sll2,
            _ => Encap::Other(encap),
        }
    }
}

/// The packet being dissected, valid for one call of [`Dissector::dissect`].
pub struct Packet<'a> {
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    frame: FrameInfo,
    _life: PhantomData<&'a ()>,
}

impl<'a> Packet<'a> {
    /// What Wireshark knows about the frame.
    pub fn frame(&self) -> FrameInfo {
        self.frame
    }

    /// The captured bytes of the data handed to this dissector (the whole frame for a
    /// postdissector, the payload for a port dissector).
    pub fn bytes(&self) -> Result<&'a [u8], Thrown> {
        let mut len: c_int = 0;
        // SAFETY: the tvb is live for this dissection; the shim catches bounds exceptions.
        let ptr = unsafe { sys::shim_tvb_bytes(self.tvb, 0, &mut len) };
        if ptr.is_null() {
            return Err(Thrown);
        }
        // SAFETY: tvb memory stays put while the packet is dissected ('a).
        Ok(unsafe { std::slice::from_raw_parts(ptr, len as usize) })
    }

    /// Makes Wireshark throw a ReportedBoundsError (as a too-short packet would), through the
    /// shim: for tests of the exception path (see `testing`).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn inject_bounds_error(&mut self) -> Result<(), Thrown> {
        // SAFETY: no arguments; the shim catches what it throws.
        thrown_if(unsafe { sys::shim_test_throw() } != 0)
    }

    /// A per-frame value stored by [`Packet::set_frame_data`] in an earlier pass.
    pub fn frame_data(&self, proto: Protocol) -> Option<NonZeroUsize> {
        // SAFETY: reads Wireshark's per-frame list; never throws.
        let p = unsafe { sys::shim_get_frame_data(self.pinfo, proto.0) };
        NonZeroUsize::new(p as usize)
    }

    /// Remembers a non-zero value with this frame, for the file's lifetime.
    pub fn set_frame_data(&mut self, proto: Protocol, value: NonZeroUsize) {
        // SAFETY: the value is stored as a pointer-sized token, never dereferenced.
        unsafe { sys::shim_set_frame_data(self.pinfo, proto.0, value.get() as *mut c_void) }
    }

    /// The tree to add `proto`'s items to, or `None` when nobody will look at them.
    pub fn tree(&self, proto: Protocol) -> Option<Tree<'a>> {
        // SAFETY: tree may be NULL; the shim checks.
        let wanted = unsafe { sys::shim_tree_wants(self.tree, proto.0) } != 0;
        self.protocol_tree().filter(|_| wanted)
    }

    /// The tree for a dissector's own protocol item, whenever Wireshark builds a tree at all,
    /// even one nobody will look at: unlike [`Packet::tree`], this is `Some` for Protocol
    /// Hierarchy statistics, which count the protocol items at the top of the tree, as
    /// Wireshark's own dissectors add them on every packet with a tree. Items added under that
    /// item are dropped cheaply by Wireshark when nothing refers to them.
    pub fn protocol_tree(&self) -> Option<Tree<'a>> {
        (!self.tree.is_null()).then_some(Tree {
            tree: self.tree,
            tvb: self.tvb,
            pinfo: self.pinfo,
            _life: PhantomData,
        })
    }

    /// Adds an expert info, attached to `item` when there is one.
    pub fn expert(&mut self, item: Option<Item<'a>>, expert: Expert) -> Result<(), Thrown> {
        let item = item.map_or(std::ptr::null_mut(), |i| i.0);
        // SAFETY: live pinfo/item; the shim catches exceptions.
        thrown_if(unsafe { sys::shim_add_expert(self.pinfo, item, expert.0) } != 0)
    }

    /// Puts a tag before (`first`) or after the Info column's text, with exactly one space
    /// between them (no-op when columns are not wanted).
    pub fn add_info_tag(&mut self, tag: &CStr, first: bool) -> Result<(), Thrown> {
        if !self.frame.has_columns {
            return Ok(());
        }
        // SAFETY: Wireshark copies the string; the shim catches exceptions.
        thrown_if(
            unsafe { sys::shim_col_add_info_tag(self.pinfo, tag.as_ptr(), c_int::from(first)) }
                != 0,
        )
    }

    /// Appends text to the Info column (no-op when columns are not wanted).
    pub fn append_info(&mut self, text: &CStr) -> Result<(), Thrown> {
        if !self.frame.has_columns {
            return Ok(());
        }
        // SAFETY: Wireshark copies the string.
        thrown_if(unsafe { sys::shim_col_append_info(self.pinfo, text.as_ptr()) } != 0)
    }

    /// Replaces the Info column.
    pub fn set_info(&mut self, text: &str) -> Result<(), Thrown> {
        if !self.frame.has_columns {
            return Ok(());
        }
        // SAFETY: as append_info.
        thrown_if(
            unsafe { sys::shim_col_set_info(self.pinfo, text.as_ptr().cast(), text.len()) } != 0,
        )
    }

    /// Sets the Protocol column.
    pub fn set_protocol_column(&mut self, name: &'static CStr) -> Result<(), Thrown> {
        if !self.frame.has_columns {
            return Ok(());
        }
        // SAFETY: Wireshark keeps the pointer until the packet is done; it is 'static.
        thrown_if(unsafe { sys::shim_col_set_protocol(self.pinfo, name.as_ptr()) } != 0)
    }
}

/// A place in the protocol tree.
#[derive(Clone, Copy)]
pub struct Tree<'a> {
    tree: *mut sys::proto_tree,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    _life: PhantomData<&'a ()>,
}

/// An item added to the tree (for expert infos and subtrees).
#[derive(Clone, Copy)]
pub struct Item<'a>(*mut sys::proto_item, PhantomData<&'a ()>);

fn item<'a>(p: *mut sys::proto_item) -> Result<Item<'a>, Thrown> {
    if p.is_null() {
        Err(Thrown)
    } else {
        Ok(Item(p, PhantomData))
    }
}

impl<'a> Tree<'a> {
    /// The top-level item of `proto` in this packet's tree (TCP's, say) as a place to add items
    /// under, or `None` when that protocol has no item there. A postdissector that adds its
    /// protocol under the item of the protocol it annotates stays out of Protocol Hierarchy
    /// statistics, which look at top-level items only.
    pub fn top_level(&self, proto: Protocol) -> Option<Tree<'a>> {
        // SAFETY: walks the live tree's top-level nodes; never throws.
        let node = unsafe { sys::shim_top_level_item(self.tree, proto.0) };
        (!node.is_null()).then_some(Tree {
            tree: node,
            ..*self
        })
    }

    /// Adds the protocol's own item and opens its subtree. `label` replaces the item's whole
    /// text (by convention it starts with the protocol's name); `None` shows just the name.
    pub fn add_protocol(
        &self,
        proto: Protocol,
        subtree: Subtree,
        start: usize,
        len: usize,
        label: Option<&CStr>,
    ) -> Result<(Item<'a>, Tree<'a>), Thrown> {
        let mut sub = std::ptr::null_mut();
        // SAFETY: live tree/tvb; the label is NUL-terminated; the shim catches exceptions.
        let it = item(unsafe {
            sys::shim_add_protocol(
                self.tree,
                proto.0,
                self.tvb,
                start as c_int,
                len as c_int,
                subtree.0,
                label.map_or(std::ptr::null(), CStr::as_ptr),
                &mut sub,
            )
        })?;
        if sub.is_null() {
            return Err(Thrown);
        }
        Ok((it, Tree { tree: sub, ..*self }))
    }

    /// Several computed strings at once (cheaper than one call each: one exception frame per
    /// 16 items, built on the stack). Any number of items.
    pub fn add_generated_strs(&self, items: &[(Field, &CStr)]) -> Result<(), Thrown> {
        const CHUNK: usize = 16;
        for chunk in items.chunks(CHUNK) {
            let mut raw = [sys::shim_str_item {
                hf: -1,
                value: std::ptr::null(),
            }; CHUNK];
            for (r, (field, value)) in raw.iter_mut().zip(chunk) {
                *r = sys::shim_str_item {
                    hf: field.0,
                    value: value.as_ptr(),
                };
            }
            // SAFETY: `chunk.len()` items with NUL-terminated values that outlive the call
            // (Wireshark copies them).
            thrown_if(
                unsafe {
                    sys::shim_add_generated_strings(self.tree, self.tvb, raw.as_ptr(), chunk.len())
                } != 0,
            )?;
        }
        Ok(())
    }

    /// An item read from bytes `start..start+len` of the packet, decoded as the field's kind
    /// says (`proto_tree_add_item`): the usual way to show a header field.
    pub fn add_item(
        &self,
        field: Field,
        start: usize,
        len: usize,
        encoding: Encoding,
    ) -> Result<Item<'a>, Thrown> {
        // SAFETY: live tree/tvb; out-of-range bytes make Wireshark throw, which the shim
        // catches.
        item(unsafe {
            sys::shim_add_item(
                self.tree,
                field.0,
                self.tvb,
                start as c_int,
                len as c_int,
                encoding.raw(),
            )
        })
    }

    /// Opens a subtree under `item` (an item of this tree).
    pub fn subtree(&self, item: Item<'a>, subtree: Subtree) -> Result<Tree<'a>, Thrown> {
        // SAFETY: a live item; the shim catches exceptions.
        let sub = unsafe { sys::shim_item_add_subtree(item.0, subtree.0) };
        if sub.is_null() {
            return Err(Thrown);
        }
        Ok(Tree { tree: sub, ..*self })
    }

    /// A value for an unsigned integer or boolean field, taken from bytes
    /// `start..start+len` (0, 0 for a computed value, shown as generated).
    pub fn add_uint(
        &self,
        field: Field,
        start: usize,
        len: usize,
        value: u64,
    ) -> Result<Item<'a>, Thrown> {
        let generated = (start, len) == (0, 0);
        // SAFETY: as add_str_raw.
        item(unsafe {
            sys::shim_add_uint(
                self.tree,
                field.0,
                self.tvb,
                start as c_int,
                len as c_int,
                value,
                generated as c_int,
            )
        })
    }

    /// A value for a signed integer field, as [`Tree::add_uint`].
    pub fn add_int(
        &self,
        field: Field,
        start: usize,
        len: usize,
        value: i64,
    ) -> Result<Item<'a>, Thrown> {
        let generated = (start, len) == (0, 0);
        // SAFETY: as add_str_raw.
        item(unsafe {
            sys::shim_add_int(
                self.tree,
                field.0,
                self.tvb,
                start as c_int,
                len as c_int,
                value,
                generated as c_int,
            )
        })
    }

    /// A string computed by the dissector (shown as generated, not tied to packet bytes).
    pub fn add_generated_str(&self, field: Field, value: &str) -> Result<Item<'a>, Thrown> {
        self.add_str_raw(field, 0, 0, value, true)
    }

    /// A string read from bytes `start..start+len` of the packet.
    pub fn add_str_at(
        &self,
        field: Field,
        start: usize,
        len: usize,
        value: &str,
    ) -> Result<Item<'a>, Thrown> {
        self.add_str_raw(field, start, len, value, false)
    }

    fn add_str_raw(
        &self,
        field: Field,
        start: usize,
        len: usize,
        value: &str,
        generated: bool,
    ) -> Result<Item<'a>, Thrown> {
        // SAFETY: the shim copies the string; exceptions are caught.
        item(unsafe {
            sys::shim_add_string(
                self.pinfo,
                self.tree,
                field.0,
                self.tvb,
                start as c_int,
                len as c_int,
                value.as_ptr().cast(),
                value.len(),
                generated as c_int,
            )
        })
    }

    /// A computed unsigned integer (any `FieldKind::Uint`/`U64`/`Bool` field).
    pub fn add_generated_u64(&self, field: Field, value: u64) -> Result<Item<'a>, Thrown> {
        self.add_uint(field, 0, 0, value)
    }

    /// A computed duration (a `FieldKind::Duration` field), in nanoseconds.
    pub fn add_generated_duration_ns(&self, field: Field, ns: u64) -> Result<Item<'a>, Thrown> {
        let secs = (ns / 1_000_000_000) as i64;
        let nsecs = (ns % 1_000_000_000) as i32;
        // SAFETY: as add_str_raw.
        item(unsafe { sys::shim_add_reltime(self.tree, field.0, self.tvb, 0, 0, secs, nsecs, 1) })
    }
}

/// The single entry point the shim's trampoline calls for every registered dissector.
pub(crate) unsafe extern "C" fn rust_dissect(
    ctx: *mut c_void,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    _data: *mut c_void,
) -> c_int {
    guard(0, || {
        // SAFETY: ctx is the leaked `&'static dyn Dissector` from `dissector_handle`.
        let dissector: &'static dyn Dissector = unsafe { *(ctx as *const &'static dyn Dissector) };
        let mut raw = std::mem::MaybeUninit::<sys::shim_frame>::uninit();
        // SAFETY: the shim fills every field.
        let raw = unsafe {
            sys::shim_frame_info(pinfo, raw.as_mut_ptr());
            raw.assume_init()
        };
        let frame = FrameInfo {
            number: raw.num,
            visited: raw.visited != 0,
            encap: (raw.is_packet != 0).then(|| Encap::from_raw(raw.encap)),
            ts_ns: raw
                .secs
                .saturating_mul(1_000_000_000)
                .saturating_add(raw.nsecs as i64),
            has_columns: raw.has_columns != 0,
            src_port: raw.srcport,
            dst_port: raw.destport,
        };
        let mut pkt = Packet {
            tvb,
            pinfo,
            tree,
            frame,
            _life: PhantomData,
        };
        match dissector.dissect(&mut pkt) {
            Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
            Err(Thrown) => 0,
        }
    })
}

/// A NUL-terminated string built on the stack, for labels and column text: no allocation per
/// packet. Text beyond the capacity is cut (at a character boundary).
pub struct CText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for CText<N> {
    fn default() -> Self {
        CText {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> CText<N> {
    /// Appends `s`, cut to what fits (at a character boundary, and at a NUL byte).
    pub fn push(&mut self, s: &str) -> &mut Self {
        let room = N.saturating_sub(1 + self.len);
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        // NUL bytes would end the C string early; the engine never produces them.
        let bytes = &s.as_bytes()[..take];
        let bytes = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())];
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        self
    }

    /// Nothing pushed yet (or nothing fitted).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text as a C string.
    pub fn as_cstr(&mut self) -> &CStr {
        self.buf[self.len] = 0;
        CStr::from_bytes_with_nul(&self.buf[..=self.len]).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for CText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s);
        Ok(())
    }
}
