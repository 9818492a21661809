//! Hand-built frames and files with exact expected values.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::*;

const A4: [u8; 4] = [10, 0, 0, 1];
const B4: [u8; 4] = [10, 0, 0, 2];

fn a6() -> [u8; 16] {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets()
}
fn b6() -> [u8; 16] {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets()
}

/// TCP header (with `opt_words` words of NOP options) followed by `payload` zero bytes.
fn tcp(flags: u8, opt_words: u8, payload: usize) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&40000u16.to_be_bytes());
    t.extend_from_slice(&80u16.to_be_bytes());
    t.extend_from_slice(&0x1122_3344u32.to_be_bytes());
    t.extend_from_slice(&0x5566_7788u32.to_be_bytes());
    t.push((5 + opt_words) << 4);
    t.push(flags);
    t.extend_from_slice(&65000u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.resize(t.len() + usize::from(opt_words) * 4, 1);
    t.resize(t.len() + payload, 0xab);
    t
}

/// IPv4 header; `frag` is the flags+offset word.
fn ipv4(proto: u8, frag: u16, src: [u8; 4], dst: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&(20 + body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(body);
    h
}

fn ipv6(next: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&a6());
    h.extend_from_slice(&b6());
    h.extend_from_slice(body);
    h
}

fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn tcp4() -> Vec<u8> {
    ipv4(6, 0x4000, A4, B4, &tcp(0x12, 0, 5))
}

fn ok(link: LinkType, data: &[u8]) -> Segment {
    slice_frame(link, 7, 123, data).unwrap_or_else(|r| panic!("skipped: {r}"))
}

fn skip(link: LinkType, data: &[u8]) -> SkipReason {
    match slice_frame(link, 7, 123, data) {
        Ok(s) => panic!("unexpected segment {s:?}"),
        Err(r) => r,
    }
}

#[test]
fn ethernet_ipv4_exact_fields() {
    let s = ok(LinkType::Ethernet, &eth(0x0800, &tcp4()));
    assert_eq!(
        s,
        Segment {
            frame: 7,
            ts_ns: 123,
            src: IpAddr::V4(Ipv4Addr::from(A4)),
            src_port: 40000,
            dst: IpAddr::V4(Ipv4Addr::from(B4)),
            dst_port: 80,
            seq: 0x1122_3344,
            ack: 0x5566_7788,
            flags: Flags::SYN | Flags::ACK,
            window: 65000,
            payload_len: 5,
            ip_len: 45,
            // The hand-made header leaves its checksum field zero.
            integrity: tcplife_engine::Integrity::BadChecksum,
        }
    );
}

#[test]
fn ethernet_padding_does_not_count_as_payload() {
    let mut f = eth(0x0800, &ipv4(6, 0, A4, B4, &tcp(0x10, 0, 0)));
    f.resize(60, 0);
    let s = ok(LinkType::Ethernet, &f);
    assert_eq!((s.payload_len, s.ip_len), (0, 40));
}

#[test]
fn tcp_options_count_as_header_not_payload() {
    let s = ok(LinkType::RawIp, &ipv4(6, 0, A4, B4, &tcp(0x18, 3, 100)));
    assert_eq!((s.payload_len, s.ip_len), (100, 20 + 32 + 100));
}

#[test]
fn vlan_and_qinq() {
    let mut inner = vec![0x00, 0x05, 0x08, 0x00];
    inner.extend_from_slice(&tcp4());
    let s = ok(LinkType::Ethernet, &eth(0x8100, &inner));
    assert_eq!(s.payload_len, 5);
    let mut outer = vec![0x00, 0x64, 0x81, 0x00];
    outer.extend_from_slice(&inner);
    assert_eq!(ok(LinkType::Ethernet, &eth(0x88a8, &outer)).payload_len, 5);
    assert_eq!(
        skip(LinkType::Ethernet, &eth(0x8100, &[0, 5])),
        SkipReason::Truncated
    );
}

#[test]
fn mpls_and_pppoe() {
    let mut m = vec![0x00, 0x01, 0x01, 0x40]; // label 16, bottom of stack
    m.extend_from_slice(&tcp4());
    assert_eq!(ok(LinkType::Ethernet, &eth(0x8847, &m)).dst_port, 80);
    let mut p = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x21];
    p.extend_from_slice(&tcp4());
    assert_eq!(ok(LinkType::Ethernet, &eth(0x8864, &p)).dst_port, 80);
}

#[test]
fn linux_cooked_v1_and_v2() {
    let mut v1 = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    v1.extend_from_slice(&tcp4());
    assert_eq!(ok(LinkType::LinuxSll, &v1).seq, 0x1122_3344);
    let mut v2 = vec![
        0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    v2.extend_from_slice(&ipv6(6, &tcp(0x02, 0, 0)));
    let s = ok(LinkType::LinuxSll2, &v2);
    assert_eq!(s.dst, IpAddr::V6(Ipv6Addr::from(b6())));
    assert_eq!((s.payload_len, s.ip_len), (0, 60));
    // Netlink frames on a cooked "any" capture are not IP, whatever their protocol field says.
    let mut nl = vec![0, 0, 0x03, 0x38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
    nl.extend_from_slice(&tcp4());
    assert_eq!(skip(LinkType::LinuxSll, &nl), SkipReason::NotIp);
}

#[test]
fn loopback_families_in_either_byte_order() {
    for fam in [[2, 0, 0, 0], [0, 0, 0, 2]] {
        let mut f = fam.to_vec();
        f.extend_from_slice(&tcp4());
        assert_eq!(ok(LinkType::Null, &f).payload_len, 5);
    }
    let mut f = vec![30, 0, 0, 0]; // macOS AF_INET6
    f.extend_from_slice(&ipv6(6, &tcp(0x10, 0, 3)));
    assert_eq!(ok(LinkType::Null, &f).payload_len, 3);
    let mut l = vec![0, 0, 0, 24]; // DLT_LOOP is network order
    l.extend_from_slice(&ipv6(6, &tcp(0x10, 0, 3)));
    assert_eq!(ok(LinkType::Loop, &l).payload_len, 3);
    let mut other = vec![7, 0, 0, 0];
    other.extend_from_slice(&tcp4());
    assert_eq!(skip(LinkType::Null, &other), SkipReason::NotIp);
}

#[test]
fn raw_ip_variants() {
    assert_eq!(ok(LinkType::RawIp, &tcp4()).ip_len, 45);
    assert_eq!(ok(LinkType::Ipv4, &tcp4()).ip_len, 45);
    assert_eq!(skip(LinkType::Ipv6, &tcp4()), SkipReason::Malformed);
    assert_eq!(skip(LinkType::RawIp, &[]), SkipReason::Truncated);
}

#[test]
fn ipv6_extension_headers_are_walked() {
    // Hop-by-hop (8 bytes) -> destination options (8 bytes) -> TCP.
    let mut body = vec![60, 0, 1, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    body.extend_from_slice(&tcp(0x18, 0, 10));
    let s = ok(LinkType::RawIp, &ipv6(0, &body));
    assert_eq!((s.payload_len, s.ip_len), (10, 40 + 16 + 20 + 10));
    // An atomic fragment (offset 0, no more fragments) is a whole packet.
    let mut atomic = vec![6, 0, 0, 0, 0, 0, 0, 1];
    atomic.extend_from_slice(&tcp(0x10, 0, 1));
    assert_eq!(ok(LinkType::RawIp, &ipv6(44, &atomic)).payload_len, 1);
}

#[test]
fn fragments_are_skipped() {
    let mf = ipv4(6, 0x2000, A4, B4, &tcp(0x10, 0, 8));
    assert_eq!(skip(LinkType::RawIp, &mf), SkipReason::IpFragment);
    let later = ipv4(6, 0x0003, A4, B4, &[0; 16]);
    assert_eq!(skip(LinkType::RawIp, &later), SkipReason::IpFragment);
    let mut frag6 = vec![6, 0, 0, 1, 0, 0, 0, 9]; // offset 0, more fragments
    frag6.extend_from_slice(&tcp(0x10, 0, 8));
    assert_eq!(
        skip(LinkType::RawIp, &ipv6(44, &frag6)),
        SkipReason::IpFragment
    );
}

#[test]
fn snaplen_truncation() {
    let full = eth(0x0800, &ipv4(6, 0, A4, B4, &tcp(0x18, 5, 1400)));
    // tcpdump's old 68-byte snap length cuts into the TCP options: still a segment.
    let s = ok(LinkType::Ethernet, &full[..68]);
    assert_eq!((s.payload_len, s.ip_len), (1400, 20 + 40 + 1400));
    assert_eq!(
        skip(LinkType::Ethernet, &full[..14 + 20 + 10]),
        SkipReason::Truncated
    );
    assert_eq!(skip(LinkType::Ethernet, &full[..20]), SkipReason::Truncated);
    assert_eq!(skip(LinkType::Ethernet, &full[..10]), SkipReason::Truncated);
}

#[test]
fn malformed_lengths() {
    let mut bad_doff = tcp4();
    bad_doff[20 + 12] = 0x30;
    assert_eq!(skip(LinkType::RawIp, &bad_doff), SkipReason::Malformed);
    let mut short_total = tcp4();
    short_total[2..4].copy_from_slice(&16u16.to_be_bytes());
    assert_eq!(skip(LinkType::RawIp, &short_total), SkipReason::Malformed);
    let mut too_short_for_tcp = tcp4();
    too_short_for_tcp[2..4].copy_from_slice(&30u16.to_be_bytes());
    assert_eq!(
        skip(LinkType::RawIp, &too_short_for_tcp),
        SkipReason::Malformed
    );
    let mut ihl = tcp4();
    ihl[0] = 0x44;
    assert_eq!(skip(LinkType::RawIp, &ihl), SkipReason::Malformed);
}

#[test]
fn tso_zero_total_length_uses_captured_length() {
    let mut p = ipv4(6, 0, A4, B4, &tcp(0x10, 0, 3000));
    p[2..4].copy_from_slice(&[0, 0]);
    let s = ok(LinkType::RawIp, &p);
    assert_eq!((s.payload_len, s.ip_len), (3000, 3040));
}

#[test]
fn icmp_errors_quoting_tcp_are_not_segments() {
    let quoted = ipv4(6, 0, B4, A4, &tcp(0x02, 0, 0)[..8]);
    let mut unreach = vec![3, 3, 0, 0, 0, 0, 0, 0];
    unreach.extend_from_slice(&quoted);
    let f = ipv4(1, 0, A4, B4, &unreach);
    assert_eq!(skip(LinkType::RawIp, &f), SkipReason::TcpInIcmpError);
    let echo = ipv4(1, 0, A4, B4, &[8, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(skip(LinkType::RawIp, &echo), SkipReason::NotTcp);
    let mut too_big = vec![2, 0, 0, 0, 0, 0, 5, 0];
    too_big.extend_from_slice(&ipv6(6, &tcp(0x10, 0, 0)));
    assert_eq!(
        skip(LinkType::RawIp, &ipv6(58, &too_big)),
        SkipReason::TcpInIcmpError
    );
    let udp = ipv4(17, 0, A4, B4, &[0, 53, 0, 53, 0, 8, 0, 0]);
    assert_eq!(skip(LinkType::RawIp, &udp), SkipReason::NotTcp);
    assert_eq!(
        skip(LinkType::Ethernet, &eth(0x0806, &[0; 28])),
        SkipReason::NotIp
    );
}

#[test]
fn tunnels_yield_the_innermost_segment() {
    let inner = ipv4(6, 0, [192, 168, 0, 1], [192, 168, 0, 2], &tcp(0x11, 0, 7));
    let mid = ipv4(4, 0, [172, 16, 0, 1], [172, 16, 0, 2], &inner);
    let outer = ipv4(4, 0, A4, B4, &mid);
    let s = ok(LinkType::Ethernet, &eth(0x0800, &outer));
    assert_eq!(s.src, IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(
        (s.payload_len, s.ip_len, s.flags),
        (7, 47, Flags::FIN | Flags::ACK)
    );
    let v6in4 = ipv4(41, 0, A4, B4, &ipv6(6, &tcp(0x10, 0, 2)));
    assert_eq!(ok(LinkType::RawIp, &v6in4).ip_len, 62);
    let mut gre = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42]; // key present
    gre.extend_from_slice(&inner);
    assert_eq!(
        ok(LinkType::RawIp, &ipv4(47, 0, A4, B4, &gre)).payload_len,
        7
    );
    let mut nested = inner.clone();
    for _ in 0..10 {
        nested = ipv4(4, 0, A4, B4, &nested);
    }
    assert_eq!(skip(LinkType::RawIp, &nested), SkipReason::Malformed);
}

#[test]
fn linktype_numbers() {
    let cases = [
        (0, Some(LinkType::Null)),
        (1, Some(LinkType::Ethernet)),
        (12, Some(LinkType::RawIp)),
        (14, Some(LinkType::RawIp)),
        (101, Some(LinkType::RawIp)),
        (108, Some(LinkType::Loop)),
        (113, Some(LinkType::LinuxSll)),
        (228, Some(LinkType::Ipv4)),
        (229, Some(LinkType::Ipv6)),
        (276, Some(LinkType::LinuxSll2)),
        (105, None),
        (147, None),
    ];
    for (code, want) in cases {
        assert_eq!(LinkType::from_linktype(code), want, "linktype {code}");
        if let Some(l) = want {
            assert_eq!(LinkType::from_linktype(l.linktype()), Some(l));
        }
    }
}

#[test]
fn skip_counts_report() {
    let mut c = SkipCounts::new();
    assert_eq!(c.to_string(), "0 frames skipped");
    c.add(SkipReason::NotTcp);
    c.add(SkipReason::NotTcp);
    c.add(SkipReason::IpFragment);
    c.add(SkipReason::UnsupportedLinkType(147));
    assert_eq!(c.total(), 4);
    assert_eq!(c.get(SkipReason::NotTcp), 2);
    assert_eq!(c.get(SkipReason::UnsupportedLinkType(147)), 1);
    assert_eq!(c.get(SkipReason::UnsupportedLinkType(148)), 0);
    assert_eq!(
        c.to_string(),
        "4 frames skipped (2 not-tcp, 1 ip-fragment, 1 unsupported-link-type 147)"
    );
    let v: Vec<_> = c.iter().collect();
    assert_eq!(v[0], (SkipReason::NotTcp, 2));
    let mut d = SkipCounts::new();
    d.add(SkipReason::UnsupportedLinkType(147));
    d.merge(&c);
    assert_eq!(
        (d.total(), d.get(SkipReason::UnsupportedLinkType(147))),
        (5, 2)
    );
}

// ---- files ----

fn pcap(big_endian: bool, nanos: bool, linktype: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&w32(65535));
    f.extend_from_slice(&w32(linktype));
    for (sec, frac, data) in records {
        f.extend_from_slice(&w32(*sec));
        f.extend_from_slice(&w32(*frac));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(data);
    }
    f
}

struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn block(&mut self, btype: u32, body: &[u8]) {
        let mut body = body.to_vec();
        while body.len() & 3 != 0 {
            body.push(0);
        }
        let len = 12 + body.len() as u32;
        let (t, l) = (self.u32(btype), self.u32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        self.out.extend_from_slice(&l);
    }
    fn shb(&mut self) {
        let mut b = self.u32(0x1a2b_3c4d).to_vec();
        b.extend_from_slice(&self.u16(1));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, &b);
    }
    fn idb(&mut self, linktype: u16, tsresol: Option<u8>) {
        let mut b = self.u16(linktype).to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.u32(0));
        if let Some(r) = tsresol {
            b.extend_from_slice(&self.u16(9));
            b.extend_from_slice(&self.u16(1));
            b.extend_from_slice(&[r, 0, 0, 0]);
            b.extend_from_slice(&[0, 0, 0, 0]);
        }
        self.block(1, &b);
    }
    fn epb(&mut self, if_id: u32, ts: u64, data: &[u8]) {
        let mut b = self.u32(if_id).to_vec();
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(6, &b);
    }
    fn spb(&mut self, data: &[u8]) {
        let mut b = self.u32(data.len() as u32).to_vec();
        b.extend_from_slice(data);
        self.block(3, &b);
    }
    fn pb(&mut self, if_id: u16, ts: u64, data: &[u8]) {
        let mut b = self.u16(if_id).to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(2, &b);
    }
}

/// Hands out its input a few bytes at a time, as a pipe may.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn read_all<R: Read>(mut r: CaptureReader<R>) -> (Vec<Segment>, CaptureReader<R>) {
    let segs = r.by_ref().map(|s| s.expect("segment")).collect();
    (segs, r)
}

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    let frame = eth(0x0800, &tcp4());
    let arp = eth(0x0806, &[0; 28]);
    for (be, nanos) in [(false, false), (true, false), (false, true), (true, true)] {
        let file = pcap(
            be,
            nanos,
            1,
            &[
                (1_700_000_000, 250, &frame),
                (1_700_000_001, 5, &arp),
                (1_700_000_002, 999_999, &frame),
            ],
        );
        let r = CaptureReader::new(&file[..]).expect("pcap");
        assert_eq!(
            r.format(),
            CaptureFormat::Pcap {
                nanosecond: nanos,
                big_endian: be
            }
        );
        let (segs, r) = read_all(r);
        let unit = if nanos { 1 } else { 1000 };
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].frame, segs[1].frame), (1, 3));
        assert_eq!(segs[0].ts_ns, 1_700_000_000_000_000_000 + 250 * unit);
        assert_eq!(segs[1].ts_ns, 1_700_000_002_000_000_000 + 999_999 * unit);
        assert_eq!(r.frames_read(), 3);
        assert_eq!(r.skip_counts().get(SkipReason::NotIp), 1);
        assert_eq!(r.bytes_read(), file.len() as u64);
        assert!(!r.truncated_tail());
        assert_eq!(r.interfaces()[0].link, Some(LinkType::Ethernet));
    }
}

#[test]
fn truncated_tail_keeps_what_was_read() {
    let frame = eth(0x0800, &tcp4());
    let file = pcap(false, false, 1, &[(1, 0, &frame), (2, 0, &frame)]);
    for cut in [file.len() - 10, file.len() - frame.len() - 8] {
        let (segs, r) = read_all(CaptureReader::new(&file[..cut]).expect("pcap"));
        assert_eq!(segs.len(), 1, "cut at {cut}");
        assert!(r.truncated_tail());
        assert_eq!(r.frames_read(), 1);
    }
}

#[test]
fn unsupported_link_type_is_counted_not_fatal() {
    let file = pcap(false, false, 147, &[(1, 0, &[1, 2, 3]), (2, 0, &[4])]);
    let (segs, r) = read_all(CaptureReader::new(&file[..]).expect("pcap"));
    assert!(segs.is_empty());
    assert_eq!(r.skip_counts().get(SkipReason::UnsupportedLinkType(147)), 2);
    assert_eq!(r.unsupported_linktypes().collect::<Vec<_>>(), vec![147]);
}

fn sample_pcapng(be: bool) -> Vec<u8> {
    let frame = eth(0x0800, &tcp4());
    let mut ng = Ng {
        be,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, Some(9)); // nanoseconds
    ng.idb(101, None); // microseconds by default
    ng.block(4, &[0, 0, 0, 0]); // name resolution block: not a frame
    ng.epb(1, 1_700_000_000_123_456, &tcp4());
    ng.epb(0, 1_700_000_000_123_456_789, &frame);
    ng.spb(&frame);
    ng.block(0x0bad, &[1, 2, 3, 4]); // unknown block type: not a frame
    ng.epb(5, 0, &frame); // no such interface
    ng.pb(1, 42, &tcp4());
    // A second section starts over with its own interfaces.
    ng.shb();
    ng.idb(113, Some(0x80 | 10)); // 2^-10 s units
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&tcp4());
    ng.epb(0, 3 * 1024 + 512, &sll);
    ng.out
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    for be in [false, true] {
        let file = sample_pcapng(be);
        let (segs, r) = read_all(CaptureReader::new(&file[..]).expect("pcapng"));
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let got: Vec<(u64, i64)> = segs.iter().map(|s| (s.frame, s.ts_ns)).collect();
        assert_eq!(
            got,
            vec![
                (1, 1_700_000_000_123_456_000),
                (2, 1_700_000_000_123_456_789),
                // The SPB has no timestamp of its own.
                (3, 1_700_000_000_123_456_789),
                (5, 42_000),
                (6, 3_500_000_000),
            ],
            "big endian: {be}"
        );
        assert_eq!(r.frames_read(), 6);
        assert_eq!(r.skip_counts().get(SkipReason::UnknownInterface), 1);
        let links: Vec<_> = r
            .interfaces()
            .iter()
            .map(|i| (i.section, i.id, i.linktype))
            .collect();
        assert_eq!(links, vec![(0, 0, 1), (0, 1, 101), (1, 0, 113)]);
        assert_eq!(r.interfaces()[2].ts_units_per_sec, 1024);
        assert_eq!(r.bytes_read(), file.len() as u64);
    }
}

#[test]
fn tiny_reads_give_the_same_result() {
    let file = sample_pcapng(false);
    let whole: Vec<Segment> = read_all(CaptureReader::new(&file[..]).unwrap()).0;
    for step in [1, 3, 7, 100] {
        let r = CaptureReader::new(Trickle(&file, step)).expect("pcapng");
        assert_eq!(read_all(r).0, whole, "reads of {step} bytes");
    }
    let p = pcap(false, false, 1, &[(1, 0, &eth(0x0800, &tcp4()))]);
    let r = CaptureReader::new(Trickle(&p, 1)).expect("pcap");
    assert_eq!(read_all(r).0.len(), 1);
}

#[test]
fn large_records_grow_the_buffer() {
    let big = ipv4(6, 0, A4, B4, &tcp(0x10, 0, 60_000));
    let mut ng = Ng {
        be: false,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(101, None);
    for _ in 0..40 {
        ng.epb(0, 0, &big); // 40 x 60 kB: crosses the initial buffer many times
    }
    let mut huge = Vec::new();
    huge.extend_from_slice(&ipv4(6, 0, A4, B4, &tcp(0x10, 0, 10)));
    huge.resize(3 << 20, 0); // a 3 MiB frame: the buffer must grow
    ng.epb(0, 0, &huge);
    let (segs, r) = read_all(CaptureReader::new(&ng.out[..]).unwrap());
    assert_eq!(segs.len(), 41);
    assert_eq!(segs[40].payload_len, 10);
    assert!(!r.truncated_tail());
}

#[test]
fn not_a_capture() {
    assert!(matches!(
        CaptureReader::new(&[][..]),
        Err(CaptureError::Empty)
    ));
    assert!(matches!(
        CaptureReader::new(&b"hello world, this is text"[..]),
        Err(CaptureError::NotACapture(_))
    ));
    assert!(matches!(
        CaptureReader::new(&[0x1f, 0x8b, 8, 0, 0, 0][..]),
        Err(CaptureError::Compressed("gzip", _))
    ));
    assert!(matches!(
        CaptureReader::new(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0][..]),
        Err(CaptureError::Corrupt { .. })
    ));
    assert!(matches!(
        open_path("/nonexistent/x.pcap"),
        Err(CaptureError::Open { .. })
    ));
}

#[test]
fn corrupt_pcapng_block_is_skipped() {
    let frame = eth(0x0800, &tcp4());
    let mut ng = Ng {
        be: false,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, None);
    ng.epb(0, 1, &frame);
    let start = ng.out.len();
    ng.epb(0, 2, &frame);
    // caplen larger than the block: the parser cannot make sense of it.
    let caplen_at = start + 8 + 12;
    ng.out[caplen_at..caplen_at + 4].copy_from_slice(&5000u32.to_le_bytes());
    ng.epb(0, 3, &frame);
    let (segs, r) = read_all(CaptureReader::new(&ng.out[..]).unwrap());
    assert_eq!(segs.iter().map(|s| s.frame).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(r.skip_counts().get(SkipReason::Malformed), 1);
}

/// Never panics, whatever the bytes: mutate valid files at random and read them to the end.
#[test]
fn mutated_inputs_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let frame = eth(0x0800, &tcp4());
    let bases = [
        sample_pcapng(false),
        sample_pcapng(true),
        pcap(
            false,
            false,
            1,
            &[(1, 0, &frame), (2, 0, &frame), (3, 0, &frame)],
        ),
    ];
    for i in 0..800 {
        let mut f = bases[i % bases.len()].clone();
        for _ in 0..(rand() % 8 + 1) {
            let at = (rand() as usize) % f.len();
            f[at] = rand() as u8;
        }
        if rand() % 4 == 0 {
            let len = (rand() as usize) % f.len();
            f.truncate(len);
        }
        if let Ok(mut r) = CaptureReader::new(&f[..]) {
            for seg in r.by_ref() {
                let _ = seg;
            }
            assert!(r.frames_read() >= r.segments_read());
            assert_eq!(r.frames_read(), r.segments_read() + r.skip_counts().total());
        }
        for link in [LinkType::Ethernet, LinkType::RawIp, LinkType::Null] {
            let at = (rand() as usize) % (f.len() + 1);
            let _ = slice_frame(link, 1, 0, &f[at..]);
        }
    }
}
