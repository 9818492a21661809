//! tcplife's per-packet output fields and expert infos, listed once.
//!
//! Every consumer derives from [`FIELDS`] and [`EXPERTS`]: the Wireshark plugin registers its
//! `tcplife.*` fields and experts by iterating them and fills values through the accessors; the
//! report writes its TSV header, TSV rows and JSON keys from them; the "TCP Lifecycle" profile,
//! README's vocabulary table and docs/plugin.md's field table are rendered from them
//! ([`render`]), and a test fails when a checked-in copy is stale. Adding a field means adding
//! one entry here.
//!
//! Pure: no I/O, no `unsafe`, nothing of Wireshark's (the plugin maps [`Kind`] to its own field
//! kinds).
//!
//! ```
//! use tcplife_fields::{field, Value, FIELDS};
//! assert_eq!(FIELDS[0].name, "conn");
//! assert_eq!(field("conn_state").unwrap().title, "Conn state");
//! assert_eq!(field("handshake_rtt").unwrap().filter_name(), "tcplife.handshake_rtt");
//! # let _ = Value::Absent;
//! ```

#![forbid(unsafe_code)]

use tcplife_engine::{Annotation, ConnState, Event, Notes, Phase, Role, Step, TcpState};

pub mod render;

/// The plugin's protocol filter name: every field's filter name is `tcplife.<name>`.
pub const PROTOCOL: &str = "tcplife";

/// The naming rule every field's title follows: its name with words at `_`, the first
/// capitalised, RTT in capitals (`conn_state` -> "Conn state", `handshake_rtt` -> "Handshake
/// RTT"). The titles are written out in [`FIELDS`] (Wireshark keeps them as static C strings);
/// the tests hold them, and what tshark shows, to this rule.
pub fn title_by_rule(name: &str) -> String {
    let words: Vec<String> = name
        .split('_')
        .enumerate()
        .map(|(i, w)| match (i, w) {
            (_, "rtt") => "RTT".to_string(),
            (0, w) => w[..1].to_uppercase() + &w[1..],
            (_, w) => w.to_string(),
        })
        .collect();
    words.join(" ")
}

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An unsigned 32-bit number (as `tcp.stream`); the engine's value is wider and the plugin
    /// stops at `u32::MAX`.
    U32,
    /// Text.
    Str,
    /// A time span, printed in seconds with 9 decimals.
    Duration,
}

impl Kind {
    /// Wireshark's name of the field type the plugin registers, for the docs and the tests that
    /// read `tshark -G fields`.
    pub const fn wireshark_type(self) -> &'static str {
        match self {
            Kind::U32 => "FT_UINT32",
            Kind::Str => "FT_STRING",
            Kind::Duration => "FT_RELATIVE_TIME",
        }
    }
}

/// One packet's value of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// The field is not shown for this packet (no step, RTT not known yet): an empty TSV cell,
    /// JSON `null`, no item in Wireshark's tree.
    Absent,
    /// A [`Kind::U32`] field's value.
    Uint(u64),
    /// A [`Kind::Str`] field's value.
    Str(Text<'a>),
    /// A [`Kind::Duration`] field's value, in nanoseconds.
    DurationNs(u64),
}

/// A text value: borrowed from the annotation or the engine's names, or formatted here (the
/// step) without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text<'a> {
    /// One of the engine's names (`SYN-ACK`, `ESTABLISHED`): printable ASCII without quotes or
    /// backslashes, so JSON and C strings take it as it is; `index` is its place in the field's
    /// [`Values::names`], so that a consumer can keep something per name (the plugin keeps C
    /// strings).
    Name { text: &'static str, index: u8 },
    /// Any text from the annotation (the history).
    Borrowed(&'a str),
    /// Formatted here (the step): digits, `+` and `/`.
    Inline(Inline),
}

impl<'a> Text<'a> {
    /// The bytes, without the UTF-8 check `as_str` makes on inline text: for writers.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Name { text: s, .. } | Text::Borrowed(s) => s.as_bytes(),
            Text::Inline(i) => &i.buf[..usize::from(i.len)],
        }
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            Text::Name { text: s, .. } | Text::Borrowed(s) => s,
            Text::Inline(i) => i.as_str(),
        }
    }
}

/// A short ASCII string kept inline: a step is at most `255+255/255`, 11 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inline {
    buf: [u8; 15],
    len: u8,
}

impl Inline {
    fn new() -> Inline {
        Inline {
            buf: [0; 15],
            len: 0,
        }
    }

    #[inline]
    fn push_byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }

    #[inline]
    fn push_u8(&mut self, n: u8) {
        if n >= 100 {
            self.push_byte(b'0' + n / 100);
        }
        if n >= 10 {
            self.push_byte(b'0' + n / 10 % 10);
        }
        self.push_byte(b'0' + n % 10);
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever pushed.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// The step as `Step`'s `Display` writes it (`1/3`, `2+3/4`), or absent when there is none.
#[inline]
pub fn step_value(s: Step) -> Value<'static> {
    if s.is_none() {
        return Value::Absent;
    }
    let mut t = Inline::new();
    t.push_u8(s.first);
    if s.last != s.first {
        t.push_byte(b'+');
        t.push_u8(s.last);
    }
    t.push_byte(b'/');
    t.push_u8(s.of);
    Value::Str(Text::Inline(t))
}

/// An engine name and its place in the field's `Values::names` (its enum's `ALL`, which lists
/// the variants in declaration order; a test checks both).
const fn name(text: &'static str, index: u8) -> Value<'static> {
    Value::Str(Text::Name { text, index })
}

/// How the docs describe a field's values.
#[derive(Clone, Copy)]
pub struct Values {
    /// Prose (Markdown); may be empty when `names` says it all.
    pub text: &'static str,
    /// Every value the field can take, when it is one of the engine's names: the docs list
    /// them, and the plugin makes their C strings once instead of copying them per packet.
    pub names: fn() -> Vec<&'static str>,
}

fn no_names() -> Vec<&'static str> {
    Vec::new()
}

/// One per-packet field of the plugin (`tcplife.<name>`), and the TSV/JSON column `<name>`.
#[derive(Clone, Copy)]
pub struct Field {
    /// Filter name without `tcplife.`; the TSV column and JSON key.
    pub name: &'static str,
    /// Title in Wireshark (field and column): the name with words at `_`, the first capitalised,
    /// RTT in capitals.
    pub title: &'static str,
    pub kind: Kind,
    /// Wireshark's description of the field (`tshark -G fields`).
    pub description: &'static str,
    /// The docs' description of its values.
    pub values: Values,
    /// Width in pixels of its column in the "TCP Lifecycle" profile's packet list, wide enough
    /// for its longest value; `None`: not a column of the profile.
    pub column_width: Option<u16>,
    /// The field's value for one packet.
    pub get: for<'a> fn(&'a Annotation) -> Value<'a>,
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Field").field("name", &self.name).finish()
    }
}

impl Field {
    /// `tcplife.<name>`.
    pub fn filter_name(&self) -> String {
        format!("{PROTOCOL}.{}", self.name)
    }

    /// This field's value for the packet `a`.
    #[inline]
    pub fn value<'a>(&self, a: &'a Annotation) -> Value<'a> {
        (self.get)(a)
    }
}

/// Every per-packet field, in the order of the TSV columns, the JSON keys and Wireshark's tree.
pub const FIELDS: [Field; 10] = [
    Field {
        name: "conn",
        title: "Conn",
        kind: Kind::U32,
        description: "tcplife's connection number, in order of each connection's first packet",
        values: Values {
            text: "connection number, in order of first packet",
            names: no_names,
        },
        column_width: Some(48),
        get: |a| Value::Uint(a.conn_id),
    },
    Field {
        name: "role",
        title: "Role",
        kind: Kind::Str,
        description: "Who sent the packet: client (the side that opened) or server",
        values: Values {
            text: "who sent the packet (the client is Zeek's originator)",
            names: || vec![Role::Client.as_str(), Role::Server.as_str()],
        },
        column_width: None,
        get: |a| name(a.role.as_str(), a.role as u8),
    },
    Field {
        name: "event",
        title: "Event",
        kind: Kind::Str,
        description: "What the packet does in the connection's life",
        values: Values {
            text: "",
            names: || Event::ALL.iter().map(|e| e.as_str()).collect(),
        },
        column_width: None,
        get: |a| name(a.event.as_str(), a.event as u8),
    },
    Field {
        name: "phase",
        title: "Phase",
        kind: Kind::Str,
        description: "handshake, data transfer, teardown, reset or closed",
        values: Values {
            text: "",
            names: || Phase::ALL.iter().map(|p| p.as_str()).collect(),
        },
        column_width: Some(112),
        get: |a| name(a.phase.as_str(), a.phase as u8),
    },
    Field {
        name: "step",
        title: "Step",
        kind: Kind::Str,
        description: "Step of the handshake (n/3) or teardown (n/4)",
        values: Values {
            text: "handshake `1/3`..`3/3`; teardown `1/4` first FIN, `2/4` its ACK, `3/4` second \
                   FIN, `4/4` its ACK; a FIN that also acknowledges the first FIN is `2+3/4`; a \
                   simultaneous close (the second FIN does not acknowledge the first: they \
                   crossed) is numbered in its own order, `1/4` and `2/4` the two FINs, `3/4` and \
                   `4/4` the two ACKs of FIN, whichever side acknowledges first; empty (no \
                   Wireshark item) when the packet is no step",
            names: no_names,
        },
        column_width: Some(52),
        get: |a| step_value(a.step),
    },
    Field {
        name: "client_state",
        title: "Client state",
        kind: Kind::Str,
        description: "The client's RFC 9293 state after this packet",
        values: Values {
            text: "the client's RFC 9293 state after the packet",
            names: tcp_states,
        },
        column_width: Some(118),
        get: |a| name(a.client_state.as_str(), a.client_state as u8),
    },
    Field {
        name: "server_state",
        title: "Server state",
        kind: Kind::Str,
        description: "The server's RFC 9293 state after this packet",
        values: Values {
            text: "the server's RFC 9293 state after the packet",
            names: tcp_states,
        },
        column_width: Some(118),
        get: |a| name(a.server_state.as_str(), a.server_state as u8),
    },
    Field {
        name: "conn_state",
        title: "Conn state",
        kind: Kind::Str,
        description: "Zeek's conn_state (S0, S1, SF, REJ, ...) as it stands after this packet",
        values: Values {
            text: "Zeek's conn_state as it stands after the packet",
            names: || ConnState::ALL.iter().map(|c| c.as_str()).collect(),
        },
        column_width: Some(84),
        get: |a| name(a.conn_state.as_str(), a.conn_state as u8),
    },
    Field {
        name: "history",
        title: "History",
        kind: Kind::Str,
        description: "Zeek's history string (ShADadFf...) as it stands after this packet",
        values: Values {
            text: "Zeek's history string (upper case: client, lower case: server) as it stands \
                   after the packet",
            names: no_names,
        },
        column_width: None,
        get: |a| Value::Str(Text::Borrowed(&a.history)),
    },
    Field {
        name: "handshake_rtt",
        title: "Handshake RTT",
        kind: Kind::Duration,
        description: "Time from the client's SYN to the ACK completing the handshake",
        values: Values {
            text: "client's SYN to the handshake's ACK, in seconds with 9 decimals; empty until \
                   known",
            names: no_names,
        },
        column_width: None,
        get: |a| match a.handshake_rtt_ns {
            Some(ns) => Value::DurationNs(ns),
            None => Value::Absent,
        },
    },
];

fn tcp_states() -> Vec<&'static str> {
    TcpState::ALL.iter().map(|s| s.as_str()).collect()
}

/// The field named `name` (without `tcplife.`).
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

/// An expert info's group, as Wireshark groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Sequence,
    Protocol,
}

/// An expert info's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Note,
    Warn,
}

/// One expert info of the plugin: shown on the packets whose annotation carries `note`.
#[derive(Clone, Copy, Debug)]
pub struct Expert {
    pub note: Notes,
    /// The message Wireshark shows.
    pub summary: &'static str,
    pub group: Group,
    pub severity: Severity,
}

impl Expert {
    /// The engine's name of the note (`refused`): the JSON `notes` entry and the expert's filter
    /// name after `tcplife.expert.`.
    pub fn name(&self) -> &'static str {
        Notes::ALL
            .iter()
            .find(|(n, _)| *n == self.note)
            .map_or("", |(_, name)| name)
    }

    /// `tcplife.expert.<name>`.
    pub fn filter_name(&self) -> String {
        format!("{PROTOCOL}.expert.{}", self.name())
    }
}

/// Every expert info, one per engine note, in the order of `Notes::ALL`.
pub const EXPERTS: [Expert; 9] = [
    Expert {
        note: Notes::REFUSED,
        summary: "Connection refused (the SYN was answered by a RST)",
        group: Group::Sequence,
        severity: Severity::Warn,
    },
    Expert {
        note: Notes::RESET_BY_CLIENT,
        summary: "Connection reset by the client",
        group: Group::Sequence,
        severity: Severity::Warn,
    },
    Expert {
        note: Notes::RESET_BY_SERVER,
        summary: "Connection reset by the server",
        group: Group::Sequence,
        severity: Severity::Warn,
    },
    Expert {
        note: Notes::DATA_BEFORE_HANDSHAKE,
        summary: "Data sent before the handshake completed",
        group: Group::Protocol,
        severity: Severity::Warn,
    },
    Expert {
        note: Notes::RETRANSMITTED_SYN,
        summary: "Retransmitted SYN",
        group: Group::Sequence,
        severity: Severity::Note,
    },
    Expert {
        note: Notes::RETRANSMITTED_FIN,
        summary: "Retransmitted FIN",
        group: Group::Sequence,
        severity: Severity::Note,
    },
    Expert {
        note: Notes::ZERO_WINDOW,
        summary: "Zero window: the receiver cannot take more data",
        group: Group::Sequence,
        severity: Severity::Warn,
    },
    Expert {
        note: Notes::HANDSHAKE_INCOMPLETE,
        summary: "The handshake never completed (last packet of the connection in the capture)",
        group: Group::Sequence,
        severity: Severity::Note,
    },
    Expert {
        note: Notes::NOT_CLOSED,
        summary: "Connection not closed by the end of the capture (its last packet)",
        group: Group::Sequence,
        severity: Severity::Note,
    },
];

#[cfg(test)]
mod tests;
