//! What the engine is fed: one TCP segment as seen on the wire, already sliced out of its frame.

use std::fmt;
use std::net::IpAddr;

/// TCP header flags, bit for bit as in the header's 13th byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const URG: Flags = Flags(0x20);
    pub const ECE: Flags = Flags(0x40);
    pub const CWR: Flags = Flags(0x80);

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn fin(self) -> bool {
        self.0 & 0x01 != 0
    }
    pub const fn syn(self) -> bool {
        self.0 & 0x02 != 0
    }
    pub const fn rst(self) -> bool {
        self.0 & 0x04 != 0
    }
    pub const fn ack(self) -> bool {
        self.0 & 0x10 != 0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// Prints flags the way ladder diagrams and tutorials write them: `SYN,ACK`, `FIN,PSH,ACK`.
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u8, &str); 8] = [
            (0x02, "SYN"),
            (0x01, "FIN"),
            (0x04, "RST"),
            (0x08, "PSH"),
            (0x10, "ACK"),
            (0x20, "URG"),
            (0x40, "ECE"),
            (0x80, "CWR"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One TCP segment. Everything the engine knows about a packet comes from here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Wireshark's 1-based frame number of the packet that carried the segment.
    pub frame: u64,
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    /// The raw (unscaled) window field.
    pub window: u16,
    /// TCP payload length, from the IP header's length (never the frame's, which may be padded).
    pub payload_len: u32,
    /// IP packet length (header included), for Zeek's `orig_ip_bytes`/`resp_ip_bytes`.
    pub ip_len: u32,
    /// What the capture shows of the segment beyond its headers.
    pub integrity: Integrity,
}

/// Whether a segment's bytes were all captured and add up to its TCP checksum. Zeek drops a
/// segment whose checksum is wrong (unless run with `-C`) and leaves out of its reassembly a
/// payload the snap length cut off, which the peer's ACKs then reveal as a content gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Integrity {
    /// Captured in full with a correct checksum, or not checkable (segments built by hand).
    #[default]
    Intact,
    /// Captured in full, and the TCP checksum is wrong (often checksum offload on the
    /// capturing host: the NIC fills it in after the capture saw the packet).
    BadChecksum,
    /// The snap length cut the payload off: neither the checksum nor the bytes are there.
    Truncated,
}
