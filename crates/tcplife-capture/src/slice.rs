//! Slicing one frame into a TCP segment: pure, no I/O, shared by the CLI and the Wireshark plugin.

use std::fmt;
use std::net::IpAddr;

use etherparse::err::ip::LaxHeaderSliceError;
use etherparse::err::ipv6_exts::HeaderSliceError;
use etherparse::{IpNumber, LaxIpSlice};
use tcplife_engine::{Flags, Integrity, Segment};

/// The link layers tcplife can slice. Several pcap `LINKTYPE_*` numbers may map to one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (LINKTYPE 1), with any stack of VLAN/QinQ tags, MPLS labels or a PPPoE session.
    Ethernet,
    /// BSD loopback (LINKTYPE 0, DLT_NULL): a 4-byte address family in the *writer's* byte order.
    Null,
    /// OpenBSD loopback (LINKTYPE 108, DLT_LOOP): a 4-byte address family in network byte order.
    Loop,
    /// Raw IP, version from the first nibble (LINKTYPE_RAW 101, and DLT_RAW's 12 and 14).
    RawIp,
    /// Raw IPv4 only (LINKTYPE 228).
    Ipv4,
    /// Raw IPv6 only (LINKTYPE 229).
    Ipv6,
    /// Linux "cooked" capture v1 (LINKTYPE 113), as `tcpdump -i any` writes it.
    LinuxSll,
    /// Linux "cooked" capture v2 (LINKTYPE 276).
    LinuxSll2,
}

impl LinkType {
    /// Maps a pcap/pcapng `LINKTYPE_*` number to a link layer tcplife can slice.
    pub fn from_linktype(code: u32) -> Option<LinkType> {
        Some(match code {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // DLT_RAW is 12 on most systems and 14 on OpenBSD; old files carry the DLT verbatim.
            12 | 14 | 101 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// The canonical `LINKTYPE_*` number for this link layer.
    pub fn linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// Short name, as tcpdump and capinfos spell it.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ethernet",
            LinkType::Null => "null",
            LinkType::Loop => "loop",
            LinkType::RawIp => "raw-ip",
            LinkType::Ipv4 => "ipv4",
            LinkType::Ipv6 => "ipv6",
            LinkType::LinuxSll => "linux-sll",
            LinkType::LinuxSll2 => "linux-sll2",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a frame did not yield a segment. Every frame is either a segment or one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The link layer carries something other than IP (ARP, LLDP, STP...).
    NotIp,
    /// IP, but not TCP (UDP, ICMP, SCTP, ESP, UDP tunnels...).
    NotTcp,
    /// A TCP header quoted inside an ICMP/ICMPv6 error: not a segment of its own.
    TcpInIcmpError,
    /// An IP fragment (IPv4 MF/offset or IPv6 fragment header); fragments are not reassembled.
    IpFragment,
    /// The frame ends before the TCP fixed header (snap length, or a cut-off record).
    Truncated,
    /// Header fields that contradict each other (IHL < 5, lengths shorter than headers...).
    Malformed,
    /// The interface's link type (the `LINKTYPE_*` number) is not one tcplife slices.
    UnsupportedLinkType(u32),
    /// A pcapng packet block names an interface its section never described.
    UnknownInterface,
}

impl SkipReason {
    /// Stable, short, kebab-case name for reports and machine-readable output.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::NotIp => "not-ip",
            SkipReason::NotTcp => "not-tcp",
            SkipReason::TcpInIcmpError => "tcp-in-icmp-error",
            SkipReason::IpFragment => "ip-fragment",
            SkipReason::Truncated => "truncated",
            SkipReason::Malformed => "malformed",
            SkipReason::UnsupportedLinkType(_) => "unsupported-link-type",
            SkipReason::UnknownInterface => "unknown-interface",
        }
    }

    /// Position in [`SkipCounts`](crate::SkipCounts)' table; also the order reports list them in.
    pub(crate) fn index(self) -> usize {
        match self {
            SkipReason::NotIp => 0,
            SkipReason::NotTcp => 1,
            SkipReason::TcpInIcmpError => 2,
            SkipReason::IpFragment => 3,
            SkipReason::Truncated => 4,
            SkipReason::Malformed => 5,
            SkipReason::UnsupportedLinkType(_) => 6,
            SkipReason::UnknownInterface => 7,
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotIp => f.write_str("not an IP packet"),
            SkipReason::NotTcp => f.write_str("not TCP"),
            SkipReason::TcpInIcmpError => f.write_str("TCP header inside an ICMP error"),
            SkipReason::IpFragment => f.write_str("IP fragment (not reassembled)"),
            SkipReason::Truncated => f.write_str("frame truncated before the TCP header ends"),
            SkipReason::Malformed => f.write_str("malformed headers"),
            SkipReason::UnsupportedLinkType(code) => write!(f, "unsupported link type {code}"),
            SkipReason::UnknownInterface => f.write_str("packet on an undeclared pcapng interface"),
        }
    }
}

impl std::error::Error for SkipReason {}

/// Tunnels inside tunnels beyond this are treated as malformed: real captures nest two or three.
const MAX_NESTING: u8 = 8;
/// Fixed TCP header length: everything the engine needs sits in it, so options may be cut off.
const TCP_FIXED_LEN: usize = 20;

/// Slices one frame into the TCP segment it carries.
///
/// Pure and allocation-free. The CLI calls it through [`CaptureReader`](crate::CaptureReader),
/// the Wireshark plugin on the raw frame bytes, so both see identical segments.
/// Tunnels (IP-in-IP, IPv6-in-IP, GRE) yield the innermost TCP segment, with the addresses and
/// `ip_len` of the innermost IP header.
pub fn slice_frame(
    link: LinkType,
    frame: u64,
    ts_ns: i64,
    data: &[u8],
) -> Result<Segment, SkipReason> {
    let ip = link_payload(link, data)?;
    // The common case inline, so that its addresses and lengths go into the segment from
    // registers rather than through a returned struct on the stack.
    let found = match plain_tcp(ip) {
        Some(plain) => tcp_segment(plain)?,
        None => slice_ip_lax(ip, 0)?,
    };
    let t = found.tcp;
    let flags = Flags(t[13]);
    Ok(Segment {
        frame,
        ts_ns,
        src: found.src,
        src_port: be16(t, 0),
        dst: found.dst,
        dst_port: be16(t, 2),
        seq: be32(t, 4),
        ack: be32(t, 8),
        flags,
        window: be16(t, 14),
        payload_len: found.payload_len,
        ip_len: found.ip_len,
        integrity: found.integrity,
    })
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Strips the link layer and returns the IP packet it carries.
fn link_payload(link: LinkType, data: &[u8]) -> Result<&[u8], SkipReason> {
    match link {
        LinkType::Ethernet => ethernet_payload(data),
        LinkType::Null => {
            let fam = data.get(..4).ok_or(SkipReason::Truncated)?;
            // Host byte order of the machine that wrote it: families are small numbers, so a
            // value that only fits when swapped tells the order.
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let family = if le > 0xFFFF { le.swap_bytes() } else { le };
            loopback_family(family, &data[4..])
        }
        LinkType::Loop => {
            let family = be32(data.get(..4).ok_or(SkipReason::Truncated)?, 0);
            loopback_family(family, &data[4..])
        }
        LinkType::RawIp => Ok(data),
        LinkType::Ipv4 => version_is(data, 4),
        LinkType::Ipv6 => version_is(data, 6),
        LinkType::LinuxSll => {
            let hdr = data.get(..16).ok_or(SkipReason::Truncated)?;
            if be16(hdr, 2) == ARPHRD_NETLINK {
                return Err(SkipReason::NotIp);
            }
            ethertype_payload(be16(hdr, 14), &data[16..])
        }
        LinkType::LinuxSll2 => {
            let hdr = data.get(..20).ok_or(SkipReason::Truncated)?;
            if be16(hdr, 8) == ARPHRD_NETLINK {
                return Err(SkipReason::NotIp);
            }
            ethertype_payload(be16(hdr, 0), &data[20..])
        }
    }
}

/// Netlink frames in cooked captures carry a netlink family where the ethertype would be.
const ARPHRD_NETLINK: u16 = 824;

fn version_is(data: &[u8], version: u8) -> Result<&[u8], SkipReason> {
    match data.first() {
        None => Err(SkipReason::Truncated),
        Some(b) if b >> 4 == version => Ok(data),
        Some(_) => Err(SkipReason::Malformed),
    }
}

fn loopback_family(family: u32, rest: &[u8]) -> Result<&[u8], SkipReason> {
    match family {
        // AF_INET everywhere; AF_INET6 is 24 on NetBSD/OpenBSD/Npcap, 28 on FreeBSD,
        // 30 on macOS, 23 on Windows, 10 on Linux.
        2 | 10 | 23 | 24 | 28 | 30 => Ok(rest),
        _ => Err(SkipReason::NotIp),
    }
}

fn ethernet_payload(data: &[u8]) -> Result<&[u8], SkipReason> {
    let hdr = data.get(..14).ok_or(SkipReason::Truncated)?;
    ethertype_payload(be16(hdr, 12), &data[14..])
}

/// Follows VLAN tags, MPLS labels and PPPoE down to an IP packet.
fn ethertype_payload(mut ethertype: u16, mut rest: &[u8]) -> Result<&[u8], SkipReason> {
    // Bounded so a frame of nothing but VLAN tags cannot keep us looping for long.
    for _ in 0..16 {
        match ethertype {
            0x0800 => return version_is(rest, 4),
            0x86DD => return version_is(rest, 6),
            // 802.1Q, 802.1ad (QinQ) and the pre-standard QinQ tags 0x9100/0x9200/0x9300.
            0x8100 | 0x88A8 | 0x9100 | 0x9200 | 0x9300 => {
                let tag = rest.get(..4).ok_or(SkipReason::Truncated)?;
                ethertype = be16(tag, 2);
                rest = &rest[4..];
            }
            0x8847 | 0x8848 => return mpls_payload(rest),
            0x8864 => {
                // PPPoE session: 6-byte PPPoE header, then a 2-byte PPP protocol.
                let hdr = rest.get(..8).ok_or(SkipReason::Truncated)?;
                return match be16(hdr, 6) {
                    0x0021 => version_is(&rest[8..], 4),
                    0x0057 => version_is(&rest[8..], 6),
                    _ => Err(SkipReason::NotIp),
                };
            }
            _ => return Err(SkipReason::NotIp),
        }
    }
    Err(SkipReason::Malformed)
}

fn mpls_payload(mut rest: &[u8]) -> Result<&[u8], SkipReason> {
    for _ in 0..16 {
        let label = rest.get(..4).ok_or(SkipReason::Truncated)?;
        let bottom = label[2] & 0x01 != 0;
        rest = &rest[4..];
        if bottom {
            // MPLS does not say what it carries; like Wireshark, guess IP from the version nibble
            // (a pseudowire control word or Ethernet would start otherwise).
            return match rest.first().map(|b| b >> 4) {
                Some(4) | Some(6) => Ok(rest),
                Some(_) => Err(SkipReason::NotIp),
                None => Err(SkipReason::Truncated),
            };
        }
    }
    Err(SkipReason::Malformed)
}

/// The innermost TCP header found in an IP packet, and the lengths declared around it.
struct FoundTcp<'a> {
    src: IpAddr,
    dst: IpAddr,
    /// At least [`TCP_FIXED_LEN`] captured bytes of the TCP header.
    tcp: &'a [u8],
    payload_len: u32,
    ip_len: u32,
    integrity: Integrity,
}

fn slice_ip(data: &[u8], depth: u8) -> Result<FoundTcp<'_>, SkipReason> {
    if let Some(plain) = plain_tcp(data) {
        return tcp_segment(plain);
    }
    slice_ip_lax(data, depth)
}

/// [`slice_ip`] through etherparse, for every packet.
fn slice_ip_lax(data: &[u8], depth: u8) -> Result<FoundTcp<'_>, SkipReason> {
    let (ip, ext_err) = LaxIpSlice::from_slice(data).map_err(|e| match e {
        LaxHeaderSliceError::Len(_) => SkipReason::Truncated,
        LaxHeaderSliceError::Content(_) => SkipReason::Malformed,
    })?;
    if ip.is_fragmenting_payload() {
        return Err(SkipReason::IpFragment);
    }
    if let Some((e, _layer)) = ext_err {
        return Err(match e {
            HeaderSliceError::Len(_) => SkipReason::Truncated,
            HeaderSliceError::Content(_) => SkipReason::Malformed,
        });
    }
    // The IP header's own length, never the frame's: Ethernet pads short frames.
    let ip_len: usize = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            match usize::from(h.total_len()) {
                // Captured before TCP segmentation offload filled it in; Wireshark then trusts
                // the captured length, so do we.
                0 => data.len(),
                n if n < h.slice().len() => return Err(SkipReason::Malformed),
                n => n,
            }
        }
        LaxIpSlice::Ipv6(v6) => match usize::from(v6.header().payload_length()) {
            // Jumbogram or offloaded: the captured length is all there is to go on.
            0 => data.len(),
            n => n + 40,
        },
    };
    let payload = ip.payload();
    // Header bytes (base header plus extension headers) before the payload.
    let hdr_len = payload.payload.as_ptr() as usize - data.as_ptr() as usize;
    let l4_len = ip_len.checked_sub(hdr_len).ok_or(SkipReason::Malformed)?;
    let body = payload.payload;
    match payload.ip_number {
        IpNumber::TCP => tcp_segment(PlainTcp {
            src: ip.source_addr(),
            dst: ip.destination_addr(),
            ip_len,
            l4_len,
            body,
        }),
        IpNumber::IPV4 | IpNumber::IPV6 => nested(body, depth),
        IpNumber::GRE => slice_gre(body, depth),
        IpNumber::ICMP => icmp_error(body, &[3, 4, 5, 11, 12]),
        IpNumber::IPV6_ICMP => icmp_error(body, &[1, 2, 3, 4]),
        _ => Err(SkipReason::NotTcp),
    }
}

/// An IP packet carrying TCP straight after its header, as [`plain_tcp`] or etherparse found it.
struct PlainTcp<'a> {
    src: IpAddr,
    dst: IpAddr,
    /// The IP header's length for the whole packet.
    ip_len: usize,
    /// What that leaves for TCP, header included.
    l4_len: usize,
    /// The captured bytes after the IP header, up to `l4_len` (fewer when cut off).
    body: &'a [u8],
}

#[inline(always)]
fn tcp_segment(p: PlainTcp<'_>) -> Result<FoundTcp<'_>, SkipReason> {
    let PlainTcp {
        src,
        dst,
        ip_len,
        l4_len,
        body,
    } = p;
    if l4_len < TCP_FIXED_LEN {
        return Err(SkipReason::Malformed);
    }
    let tcp = body.get(..TCP_FIXED_LEN).ok_or(SkipReason::Truncated)?;
    let tcp_hdr_len = usize::from(tcp[12] >> 4) * 4;
    if tcp_hdr_len < TCP_FIXED_LEN || tcp_hdr_len > l4_len {
        return Err(SkipReason::Malformed);
    }
    let integrity = match body.get(..l4_len) {
        None => Integrity::Truncated,
        Some(segment) if tcp_checksum_ok(src, dst, segment) => Integrity::Intact,
        Some(_) => Integrity::BadChecksum,
    };
    Ok(FoundTcp {
        src,
        dst,
        integrity,
        tcp,
        payload_len: u32::try_from(l4_len - tcp_hdr_len).map_err(|_| SkipReason::Malformed)?,
        ip_len: u32::try_from(ip_len).map_err(|_| SkipReason::Malformed)?,
    })
}

/// The common case read straight from the header bytes: an IPv4 packet that is not a fragment,
/// or an IPv6 packet without extension headers, carrying TCP, with a non-zero length field no
/// shorter than its header. It gives what etherparse's lax slicing gives for such a packet
/// (the payload up to the length field, or to the end of the capture when the snap length cut
/// it), at a fraction of the instructions; anything else goes through etherparse.
#[inline(always)]
fn plain_tcp(data: &[u8]) -> Option<PlainTcp<'_>> {
    let first = *data.first()?;
    let (src, dst, ip_len, hdr_len) = match first >> 4 {
        4 => {
            let h = data.get(..20)?;
            let hdr_len = usize::from(first & 0x0f) * 4;
            let total = usize::from(be16(h, 2));
            // Fragments (MF set or an offset), TCP or not, and odd lengths: etherparse decides.
            if hdr_len < 20 || data.len() < hdr_len || total < hdr_len || be16(h, 6) & 0x3fff != 0 {
                return None;
            }
            if h[9] != 6 {
                return None;
            }
            let src = IpAddr::from([h[12], h[13], h[14], h[15]]);
            let dst = IpAddr::from([h[16], h[17], h[18], h[19]]);
            (src, dst, total, hdr_len)
        }
        6 => {
            let h = data.get(..40)?;
            let payload = usize::from(be16(h, 4));
            // Extension headers (fragments among them) and jumbograms: etherparse decides.
            if h[6] != 6 || payload == 0 {
                return None;
            }
            let mut a = [0u8; 16];
            a.copy_from_slice(&h[8..24]);
            let src = IpAddr::from(a);
            a.copy_from_slice(&h[24..40]);
            let dst = IpAddr::from(a);
            (src, dst, payload + 40, 40)
        }
        _ => return None,
    };
    let end = ip_len.min(data.len());
    Some(PlainTcp {
        src,
        dst,
        ip_len,
        l4_len: ip_len - hdr_len,
        body: &data[hdr_len..end],
    })
}

/// RFC 9293's checksum over the pseudo-header and the whole segment (checksum field
/// included): the ones' complement sum of a correct one is all ones.
fn tcp_checksum_ok(src: IpAddr, dst: IpAddr, segment: &[u8]) -> bool {
    let mut sum: u64 = 6 + segment.len() as u64;
    for addr in [src, dst] {
        match addr {
            IpAddr::V4(a) => sum += u64::from(u32::from_be_bytes(a.octets())),
            IpAddr::V6(a) => {
                let bits = u128::from_be_bytes(a.octets());
                sum += (bits >> 64) as u64 >> 32;
                sum += (bits >> 64) as u64 & 0xffff_ffff;
                sum += (bits as u64) >> 32;
                sum += bits as u64 & 0xffff_ffff;
            }
        }
    }
    // The pseudo-header is never zero, so neither sum can be ones' complement's other zero.
    fold(sum + u64::from(ones_sum_swapped(segment).swap_bytes())) == 0xffff
}

/// The ones' complement sum of `bytes` as 16-bit words in *little-endian* order, folded: RFC
/// 1071's byte-order independence makes it the big-endian sum with its two bytes swapped. Read
/// in the machine's order (no swap per word), the loop below compiles to vector adds, which
/// matters since the slicer sums every captured payload.
fn ones_sum_swapped(bytes: &[u8]) -> u16 {
    let mut words = bytes.chunks_exact(4);
    // 32-bit words add up to the same sum as 16-bit ones once folded; a u64 cannot overflow
    // for any record the reader accepts (16 MiB at most).
    let mut sum: u64 = (&mut words)
        .map(|w| u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
        .sum();
    // Up to 3 bytes left, zero-padded; byte by byte, as a copy would call memcpy.
    for (i, &b) in words.remainder().iter().enumerate() {
        sum += u64::from(b) << (8 * i);
    }
    fold(sum) as u16
}

#[inline]
fn fold(mut sum: u64) -> u64 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

fn nested(inner: &[u8], depth: u8) -> Result<FoundTcp<'_>, SkipReason> {
    if depth >= MAX_NESTING {
        return Err(SkipReason::Malformed);
    }
    slice_ip(inner, depth + 1)
}

/// GRE version 0 (RFC 2784/2890) carrying IP or bridged Ethernet; anything else is not TCP to us.
fn slice_gre(body: &[u8], depth: u8) -> Result<FoundTcp<'_>, SkipReason> {
    let hdr = body.get(..4).ok_or(SkipReason::Truncated)?;
    let flags = be16(hdr, 0);
    // Version 1 is PPTP's enhanced GRE (PPP inside); routing (R) is the obsolete RFC 1701 form.
    if flags & 0x0007 != 0 || flags & 0x4000 != 0 {
        return Err(SkipReason::NotTcp);
    }
    let mut len = 4;
    for bit in [0x8000u16, 0x2000, 0x1000] {
        if flags & bit != 0 {
            len += 4;
        }
    }
    let inner = body.get(len..).ok_or(SkipReason::Truncated)?;
    match be16(hdr, 2) {
        0x0800 | 0x86DD => nested(inner, depth),
        0x6558 => nested(ethernet_payload(inner).map_err(not_ip_is_not_tcp)?, depth),
        _ => Err(SkipReason::NotTcp),
    }
}

/// Inside a tunnel, a non-IP inner frame is still an IP packet that is not TCP.
fn not_ip_is_not_tcp(r: SkipReason) -> SkipReason {
    if r == SkipReason::NotIp {
        SkipReason::NotTcp
    } else {
        r
    }
}

/// ICMP errors quote the offending packet's IP header and first bytes: when that packet was TCP,
/// say so, since Wireshark shows a `tcp` layer there too.
fn icmp_error<'a>(body: &[u8], error_types: &[u8]) -> Result<FoundTcp<'a>, SkipReason> {
    let Some(&icmp_type) = body.first() else {
        return Err(SkipReason::Truncated);
    };
    if !error_types.contains(&icmp_type) {
        return Err(SkipReason::NotTcp);
    }
    let quoted = body.get(8..).unwrap_or(&[]);
    match LaxIpSlice::from_slice(quoted) {
        Ok((ip, _)) if ip.payload().ip_number == IpNumber::TCP => Err(SkipReason::TcpInIcmpError),
        _ => Err(SkipReason::NotTcp),
    }
}

#[cfg(test)]
mod checksum_tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    /// RFC 1071 as written: big-endian 16-bit words, an odd byte padded on the right.
    fn reference(src: IpAddr, dst: IpAddr, segment: &[u8]) -> bool {
        sum16(src, dst, segment) == 0xffff
    }

    fn sum16(src: IpAddr, dst: IpAddr, segment: &[u8]) -> u16 {
        let mut bytes = Vec::new();
        for a in [src, dst] {
            match a {
                IpAddr::V4(a) => bytes.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => bytes.extend_from_slice(&a.octets()),
            }
        }
        bytes.extend_from_slice(&[0, 6]);
        let len = segment.len() as u32;
        match src {
            IpAddr::V4(_) => bytes.extend_from_slice(&(len as u16).to_be_bytes()),
            IpAddr::V6(_) => bytes.extend_from_slice(&len.to_be_bytes()),
        }
        bytes.extend_from_slice(segment);
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let mut sum: u64 = bytes
            .chunks(2)
            .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn the_word_at_a_time_sum_agrees_with_rfc_1071_at_every_length_and_fill() {
        let v4 = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        );
        let v6 = (
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xffff, 1)),
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1234, 0, 0xabcd, 0xffff)),
        );
        let mut x: u32 = 12345;
        let mut agreed_good = 0;
        for (src, dst) in [v4, v6] {
            for len in 20..200usize {
                let mut seg: Vec<u8> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (x >> 16) as u8
                    })
                    .collect();
                assert_eq!(tcp_checksum_ok(src, dst, &seg), reference(src, dst, &seg));
                // Fill the checksum field so that the segment is correct, then break it.
                seg[16..18].copy_from_slice(&[0, 0]);
                let c = !sum16(src, dst, &seg);
                seg[16..18].copy_from_slice(&c.to_be_bytes());
                assert!(reference(src, dst, &seg));
                assert!(tcp_checksum_ok(src, dst, &seg), "len {len}");
                agreed_good += 1;
                seg[len - 1] ^= 0x01;
                assert!(!tcp_checksum_ok(src, dst, &seg), "len {len}");
            }
        }
        assert_eq!(agreed_good, 2 * 180);
    }
}

#[cfg(test)]
mod plain_tcp_tests {
    use super::*;

    fn found(r: Result<FoundTcp<'_>, SkipReason>) -> Result<String, SkipReason> {
        r.map(|f| {
            format!(
                "{} {} {:?} {} {} {:?}",
                f.src, f.dst, f.tcp, f.payload_len, f.ip_len, f.integrity
            )
        })
    }

    /// Every packet the fast path takes, it slices as etherparse does: IPv4 with and without
    /// options, IPv6, padded (Ethernet minimum frames), cut off by the snap length at every
    /// byte, with lengths that are too short, and with fragment bits.
    #[test]
    fn the_fast_path_agrees_with_etherparse_on_every_packet_it_takes() {
        let mut taken = 0;
        let tcp: Vec<u8> = (0..40u8)
            .map(|i| match i {
                12 => 0x50,
                13 => 0x18,
                _ => i.wrapping_mul(37),
            })
            .collect();
        let mut packets = Vec::new();
        for options in [0usize, 4, 12] {
            for total_adj in [0i32, -20, -21, 5, -1000] {
                for frag in [0u16, 0x4000, 0x2000, 0x0001] {
                    let hl = 20 + options;
                    let mut p = vec![0u8; hl];
                    p[0] = 0x40 | (hl / 4) as u8;
                    let total = (hl + tcp.len()) as i32 + total_adj;
                    p[2..4].copy_from_slice(&(total.max(0) as u16).to_be_bytes());
                    p[6..8].copy_from_slice(&frag.to_be_bytes());
                    p[8] = 64;
                    p[9] = 6;
                    p[12..20].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
                    p.extend_from_slice(&tcp);
                    packets.push(p);
                }
            }
        }
        for (next, payload_adj) in [(6u8, 0i32), (6, -20), (6, 7), (6, -1000), (17, 0), (0, 0)] {
            let mut p = vec![0u8; 40];
            p[0] = 0x60;
            let payload = tcp.len() as i32 + payload_adj;
            p[4..6].copy_from_slice(&(payload.max(0) as u16).to_be_bytes());
            p[6] = next;
            p[8] = 0x20;
            p[39] = 1;
            p.extend_from_slice(&tcp);
            packets.push(p);
        }
        for p in packets {
            for pad in [0usize, 6] {
                let mut padded = p.clone();
                padded.resize(p.len() + pad, 0);
                for cut in 0..=padded.len() {
                    let d = &padded[..cut];
                    if let Some(plain) = plain_tcp(d) {
                        taken += 1;
                        assert_eq!(
                            found(tcp_segment(plain)),
                            found(slice_ip_lax(d, 0)),
                            "{d:?}"
                        );
                    }
                }
            }
        }
        assert!(taken > 500, "{taken}");
    }
}
