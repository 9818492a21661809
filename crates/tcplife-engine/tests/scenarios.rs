//! The lifecycle of every classic TCP scenario, packet by packet: for each segment the exact
//! sender role, event, phase, step, both RFC 9293 states and Zeek's running conn_state and
//! history; then the connection's verdict. Sequence numbers are spelled out so each expectation
//! can be checked by hand against RFC 9293 (and Zeek's rules for conn_state/history).

use std::net::{IpAddr, Ipv4Addr};

use tcplife_engine::{
    Collect, Config, ConnState, ConnSummary, EndReason, Ending, Flags, Integrity, Notes, Role, Run,
    Segment, TcpState,
};

const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;

/// A conversation between a client on 10.0.0.1:50000 and a server on 10.0.0.2:8080.
struct Conv {
    segs: Vec<Segment>,
    t: i64,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
}

fn flags(s: &str) -> Flags {
    let mut f = Flags(0);
    for part in s.split(',').filter(|p| !p.is_empty()) {
        f = f | match part {
            "S" => Flags::SYN,
            "A" => Flags::ACK,
            "F" => Flags::FIN,
            "R" => Flags::RST,
            "P" => Flags::PSH,
            other => panic!("unknown flag {other}"),
        };
    }
    f
}

impl Conv {
    fn new() -> Self {
        Conv {
            segs: Vec::new(),
            t: 1_700_000_000 * SEC,
            client: (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 50000),
            server: (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 8080),
        }
    }

    fn wait(&mut self, ns: i64) -> &mut Self {
        self.t += ns;
        self
    }

    fn push(&mut self, from_client: bool, f: &str, seq: u32, ack: u32, len: u32, win: u16) {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        self.t += MS;
        self.segs.push(Segment {
            frame: self.segs.len() as u64 + 1,
            ts_ns: self.t,
            src: src.0,
            src_port: src.1,
            dst: dst.0,
            dst_port: dst.1,
            seq,
            ack,
            flags: flags(f),
            window: win,
            payload_len: len,
            ip_len: 40 + len,
            integrity: tcplife_engine::Integrity::Intact,
        });
    }

    /// Client to server: flags, seq, ack, payload length.
    fn c(&mut self, f: &str, seq: u32, ack: u32, len: u32) -> &mut Self {
        self.push(true, f, seq, ack, len, 64000);
        self
    }
    fn s(&mut self, f: &str, seq: u32, ack: u32, len: u32) -> &mut Self {
        self.push(false, f, seq, ack, len, 64000);
        self
    }
    fn c_win(&mut self, f: &str, seq: u32, ack: u32, win: u16) -> &mut Self {
        self.push(true, f, seq, ack, 0, win);
        self
    }

    /// The three-way handshake: client ISN 100, server ISN 300.
    fn handshake(&mut self) -> &mut Self {
        self.c("S", 100, 0, 0)
            .s("S,A", 300, 101, 0)
            .c("A", 101, 301, 0)
    }

    /// Marks the last segment as the capture would: checksum wrong, or payload cut off.
    fn mark(&mut self, integrity: Integrity) -> &mut Self {
        self.segs.last_mut().unwrap().integrity = integrity;
        self
    }

    /// Runs the engine: one line per packet, then every connection's summary.
    fn run(&self) -> (Vec<String>, Vec<ConnSummary>, Vec<Notes>) {
        self.run_with(Default::default())
    }

    fn run_with(&self, config: Config) -> (Vec<String>, Vec<ConnSummary>, Vec<Notes>) {
        let out = Collect::run(config, &self.segs);
        assert_eq!(out.annotations.len(), self.segs.len());
        let mut lines = Vec::new();
        let mut notes = Vec::new();
        for (a, seg) in out.annotations.iter().zip(&self.segs) {
            assert_eq!(a.frame, seg.frame);
            lines.push(format!(
                "{}|{}|{}|{}|{}|{}|{}|{}",
                a.role.as_str(),
                a.event.as_str(),
                a.phase.as_str(),
                a.step,
                a.client_state.as_str(),
                a.server_state.as_str(),
                a.conn_state.as_str(),
                a.history
            ));
            notes.push(a.notes);
        }
        (lines, out.summaries, notes)
    }
}

/// The lines of `Conv::handshake`, then `rest`.
fn after_handshake(rest: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec![
        "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
        "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
        "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
    ];
    v.extend_from_slice(rest);
    v
}

fn check(conv: &Conv, expected: &[&str]) -> (Vec<ConnSummary>, Vec<Notes>) {
    let (lines, summaries, notes) = conv.run();
    let numbered = |v: &[String]| {
        v.iter()
            .enumerate()
            .map(|(i, l)| format!("{:>2} {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let exp: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        lines,
        exp,
        "\nexpected:\n{}\ngot:\n{}",
        numbered(&exp),
        numbered(&lines)
    );
    (summaries, notes)
}

fn only(summaries: &[ConnSummary]) -> &ConnSummary {
    assert_eq!(summaries.len(), 1, "one connection expected");
    &summaries[0]
}

#[test]
fn demo_server_closes_first() {
    let mut c = Conv::new();
    c.handshake()
        .s("P,A", 301, 101, 12) // "Hello Client"
        .c("A", 101, 313, 0)
        .s("F,A", 313, 101, 0)
        .c("F,A", 101, 314, 0) // acknowledges the server's FIN and sends its own
        .s("A", 314, 102, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "server|FIN|teardown|1/4|ESTABLISHED|FIN-WAIT-1|S3|ShAdf",
            "client|FIN|teardown|2+3/4|LAST-ACK|FIN-WAIT-2|SF|ShAdfF",
            "server|final ACK|teardown|4/4|CLOSED|TIME-WAIT|SF|ShAdfFa",
        ]),
    );
    let s = only(&s);
    assert_eq!(s.conn_state, ConnState::SF);
    assert_eq!(s.ending, Ending::ClosedNormally);
    assert_eq!(s.first_closer, Some(Role::Server));
    assert_eq!(
        (s.client_state, s.server_state),
        (TcpState::Closed, TcpState::TimeWait)
    );
    assert_eq!(s.handshake_rtt_ns, Some(2 * MS as u64));
    assert_eq!((s.orig_bytes, s.resp_bytes), (0, 12));
    assert_eq!((s.orig_pkts, s.resp_pkts), (4, 4));
    assert_eq!(s.end_reason, EndReason::EndOfCapture);
}

#[test]
fn demo_client_closes_first() {
    let mut c = Conv::new();
    c.handshake()
        .s("P,A", 301, 101, 12)
        .c("A", 101, 313, 0)
        .c("F,A", 101, 313, 0)
        .s("A", 313, 102, 0)
        .s("F,A", 313, 102, 0)
        .c("A", 102, 314, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShAdF",
            "server|ACK of FIN|teardown|2/4|FIN-WAIT-2|CLOSE-WAIT|S2|ShAdFa",
            "server|FIN|teardown|3/4|FIN-WAIT-2|LAST-ACK|SF|ShAdFaf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShAdFaf",
        ]),
    );
    let s = only(&s);
    assert_eq!(s.ending, Ending::ClosedNormally);
    assert_eq!(s.first_closer, Some(Role::Client));
    assert_eq!(
        (s.client_state, s.server_state),
        (TcpState::TimeWait, TcpState::Closed)
    );
}

#[test]
fn refused() {
    let mut c = Conv::new();
    c.c("S", 100, 0, 0).s("R,A", 0, 101, 0);
    let (s, notes) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|RST|reset||CLOSED|CLOSED|REJ|Sr",
        ],
    );
    assert_eq!(notes[1], Notes::REFUSED);
    let s = only(&s);
    assert_eq!(s.conn_state, ConnState::REJ);
    assert_eq!(s.ending, Ending::Refused);
    assert_eq!(s.handshake_rtt_ns, None);
}

#[test]
fn unanswered_syn_with_retransmissions() {
    let mut c = Conv::new();
    c.c("S", 100, 0, 0)
        .wait(SEC)
        .c("S", 100, 0, 0)
        .wait(2 * SEC)
        .c("S", 100, 0, 0);
    let (s, notes) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "client|retransmitted SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "client|retransmitted SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
        ],
    );
    assert_eq!(notes[0], Notes::default());
    assert_eq!(notes[1], Notes::RETRANSMITTED_SYN);
    let s = only(&s);
    assert_eq!(s.conn_state, ConnState::S0);
    assert_eq!(s.ending, Ending::Unanswered);
    assert_eq!((s.orig_pkts, s.resp_pkts), (3, 0));
}

#[test]
fn abort_by_client() {
    let mut c = Conv::new();
    c.handshake().c("P,A", 101, 301, 5).c("R", 106, 0, 0);
    let (s, notes) = check(
        &c,
        &after_handshake(&[
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "client|RST|reset||CLOSED|CLOSED|RSTO|ShADR",
        ]),
    );
    assert_eq!(notes[4], Notes::RESET_BY_CLIENT);
    let s = only(&s);
    assert_eq!(s.ending, Ending::ResetByClient);
    assert_eq!(s.first_closer, Some(Role::Client));
}

#[test]
fn abort_by_server() {
    let mut c = Conv::new();
    c.handshake().s("P,A", 301, 101, 12).s("R,A", 313, 101, 0);
    let (s, notes) = check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "server|RST|reset||CLOSED|CLOSED|RSTR|ShAdr",
        ]),
    );
    assert_eq!(notes[4], Notes::RESET_BY_SERVER);
    assert_eq!(only(&s).ending, Ending::ResetByServer);
}

#[test]
fn reset_during_handshake() {
    // A half-open scan: the client answers the SYN-ACK with a RST.
    let mut c = Conv::new();
    c.c("S", 100, 0, 0).s("S,A", 300, 101, 0).c("R", 101, 0, 0);
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
            "client|RST|reset||CLOSED|CLOSED|RSTO|ShR",
        ],
    );
    let s = only(&s);
    assert_eq!(s.ending, Ending::ResetByClient);
    assert_eq!(s.handshake_rtt_ns, None);
}

#[test]
fn half_close() {
    let mut c = Conv::new();
    c.handshake()
        .c("P,A", 101, 301, 10)
        .c("F,A", 111, 301, 0) // shutdown(SHUT_WR): no more requests
        .s("A", 301, 112, 0)
        .s("P,A", 301, 112, 20) // the reply still flows
        .c("A", 112, 321, 0)
        .s("F,A", 321, 112, 0)
        .c("A", 112, 322, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShADF",
            "server|ACK of FIN|teardown|2/4|FIN-WAIT-2|CLOSE-WAIT|S2|ShADFa",
            "server|data|teardown||FIN-WAIT-2|CLOSE-WAIT|S2|ShADFad",
            "client|ACK|teardown||FIN-WAIT-2|CLOSE-WAIT|S2|ShADFad",
            "server|FIN|teardown|3/4|FIN-WAIT-2|LAST-ACK|SF|ShADFadf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShADFadf",
        ]),
    );
    let s = only(&s);
    assert_eq!((s.orig_bytes, s.resp_bytes), (10, 20));
    assert_eq!(s.ending, Ending::ClosedNormally);
}

#[test]
fn simultaneous_open() {
    let mut c = Conv::new();
    c.c("S", 100, 0, 0)
        .s("S", 300, 0, 0) // crosses the client's SYN
        .c("S,A", 100, 301, 0)
        .s("S,A", 300, 101, 0);
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN|handshake|1/3|SYN-RECEIVED|SYN-RECEIVED|S1|Ss",
            "client|SYN-ACK|handshake|2/3|SYN-RECEIVED|ESTABLISHED|S1|Ss",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|ESTABLISHED|S1|Ss",
        ],
    );
    assert_eq!(only(&s).ending, Ending::NeverClosed);
}

#[test]
fn simultaneous_close() {
    let mut c = Conv::new();
    c.handshake()
        .c("F,A", 101, 301, 0)
        .s("F,A", 301, 101, 0) // sent before the client's FIN arrived
        .c("A", 102, 302, 0)
        .s("A", 302, 102, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShAF",
            "server|FIN|teardown|2/4|FIN-WAIT-1|FIN-WAIT-1|SF|ShAFf",
            "client|ACK of FIN|teardown|3/4|CLOSING|FIN-WAIT-2|SF|ShAFf",
            "server|final ACK|teardown|4/4|TIME-WAIT|TIME-WAIT|SF|ShAFfa",
        ]),
    );
    let s = only(&s);
    assert_eq!(
        (s.client_state, s.server_state),
        (TcpState::TimeWait, TcpState::TimeWait)
    );
    assert_eq!(s.first_closer, Some(Role::Client));
}

/// Crossing FINs with the server's data still in flight and the ACKs in the other order: the
/// steps still read 1/4, 2/4, 3/4, 4/4 in the order of the packets, and a retransmitted crossing
/// FIN keeps its step.
#[test]
fn simultaneous_close_server_acknowledges_first() {
    let mut c = Conv::new();
    c.handshake()
        .s("P,A", 301, 101, 10)
        .c("F,A", 101, 311, 0)
        .s("P,A", 311, 101, 5) // sent before the client's FIN arrived
        .s("F,A", 316, 101, 0) // crosses the client's FIN
        .s("F,A", 316, 101, 0)
        .s("A", 317, 102, 0)
        .c("A", 102, 317, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShAdF",
            "server|data|teardown||FIN-WAIT-1|ESTABLISHED|S2|ShAdF",
            "server|FIN|teardown|2/4|FIN-WAIT-1|FIN-WAIT-1|SF|ShAdFf",
            "server|retransmitted FIN|teardown|2/4|FIN-WAIT-1|FIN-WAIT-1|SF|ShAdFf",
            "server|ACK of FIN|teardown|3/4|FIN-WAIT-2|CLOSING|SF|ShAdFfa",
            "client|final ACK|teardown|4/4|TIME-WAIT|TIME-WAIT|SF|ShAdFfa",
        ]),
    );
    let s = only(&s);
    assert_eq!(
        (s.client_state, s.server_state),
        (TcpState::TimeWait, TcpState::TimeWait)
    );
    assert_eq!(s.first_closer, Some(Role::Client));
}

#[test]
fn midstream_start() {
    let mut c = Conv::new();
    c.c("P,A", 1000, 5000, 10)
        .s("P,A", 5000, 1010, 20)
        .c("A", 1010, 5020, 0);
    let (s, _) = check(
        &c,
        &[
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|OTH|D",
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|OTH|Dd",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|OTH|DdA",
        ],
    );
    let s = only(&s);
    assert_eq!(s.ending, Ending::Midstream);
    assert_eq!(s.orig_p, 50000);
}

#[test]
fn midstream_from_a_service_port_is_flipped() {
    // Zeek's guess: the first packet comes from the well-known port 80, so its sender is the
    // server even though it was seen first.
    let mut c = Conv::new();
    c.server.1 = 80;
    c.s("P,A", 5000, 1000, 20).c("A", 1000, 5020, 0);
    let (s, _) = check(
        &c,
        &[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|OTH|^d",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|OTH|^dA",
        ],
    );
    assert_eq!(only(&s).resp_p, 80);
}

#[test]
fn syn_ack_first() {
    let mut c = Conv::new();
    c.s("S,A", 300, 101, 0)
        .c("A", 101, 301, 0)
        .c("P,A", 101, 301, 7)
        .s("A", 301, 108, 0);
    let (s, _) = check(
        &c,
        &[
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|OTH|^h",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|^hA",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|^hAD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|^hADa",
        ],
    );
    let s = only(&s);
    assert_eq!(s.orig_p, 50000, "the SYN-ACK's receiver is the client");
    assert_eq!(s.handshake_rtt_ns, None, "no SYN, no RTT");
}

#[test]
fn port_reuse_after_time_wait() {
    let mut c = Conv::new();
    c.handshake()
        .s("F,A", 301, 101, 0)
        .c("F,A", 101, 302, 0)
        .s("A", 302, 102, 0)
        .wait(SEC)
        .c("S", 9000, 0, 0)
        .s("S,A", 7000, 9001, 0);
    let (lines, s, _) = c.run();
    assert_eq!(
        lines[5],
        "server|final ACK|teardown|4/4|CLOSED|TIME-WAIT|SF|ShAfFa"
    );
    assert_eq!(lines[6], "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S");
    assert_eq!(
        lines[7],
        "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh"
    );
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].conn_id, 1);
    assert_eq!(s[0].end_reason, EndReason::Reused);
    assert_eq!(s[0].conn_state, ConnState::SF);
    assert_eq!(s[1].conn_id, 2);
    assert_eq!(s[1].conn_state, ConnState::S1);
    assert_eq!((s[1].first_frame, s[1].last_frame), (7, 8));
}

#[test]
fn closed_connection_lingers_then_retires() {
    let mut c = Conv::new();
    c.handshake()
        .c("R", 101, 0, 0)
        .wait(10 * SEC)
        .c("S", 5000, 0, 0);
    let (_, s, _) = c.run();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].end_reason, EndReason::Closed);
    assert_eq!(s[1].end_reason, EndReason::EndOfCapture);
}

#[test]
fn idle_connection_expires() {
    let mut run = Run::new(
        tcplife_engine::Config {
            idle_timeout_ns: 60 * SEC,
            ..Default::default()
        },
        Collect::default(),
    );
    let mut c = Conv::new();
    c.handshake();
    c.client.1 = 50001;
    c.wait(61 * SEC).c("S", 100, 0, 0);
    run.segments(&c.segs[..3]).unwrap();
    assert_eq!(run.tracker().open_connections(), 1);
    assert!(run.sink().summaries.is_empty());
    run.segment(&c.segs[3]).unwrap();
    let gone = &run.sink().summaries;
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].end_reason, EndReason::Idle);
    assert_eq!(gone[0].ending, Ending::NeverClosed);
    assert_eq!(run.tracker().open_connections(), 1);
}

#[test]
fn data_on_the_syn() {
    let mut c = Conv::new();
    c.c("S", 100, 0, 10)
        .s("S,A", 300, 111, 0)
        .c("A", 111, 301, 0);
    // Zeek writes `T` for data on a SYN: its last_seq already covers the payload.
    let (_, notes) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|ST",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|STh",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|SThA",
        ],
    );
    assert!(notes[0].contains(Notes::DATA_BEFORE_HANDSHAKE));
}

#[test]
fn zero_window_then_window_update() {
    let mut c = Conv::new();
    c.handshake()
        .s("P,A", 301, 101, 100)
        .c_win("A", 101, 401, 0)
        .c_win("A", 101, 401, 8192);
    let (_, notes) = check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "client|zero window|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAdW",
            "client|window update|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAdW",
        ]),
    );
    assert_eq!(notes[4], Notes::ZERO_WINDOW);
    assert_eq!(notes[5], Notes::default());
}

#[test]
fn keep_alive() {
    let mut c = Conv::new();
    c.handshake()
        .wait(7200 * SEC / 100)
        .c("A", 100, 301, 0) // one below the next sequence number
        .s("A", 301, 101, 0);
    check(
        &c,
        &after_handshake(&[
            "client|keep-alive|data transfer||ESTABLISHED|ESTABLISHED|S1|ShA",
            "server|keep-alive ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAa",
        ]),
    );
}

#[test]
fn retransmitted_fin() {
    let mut c = Conv::new();
    c.handshake()
        .c("F,A", 101, 301, 0)
        .wait(200 * MS)
        .c("F,A", 101, 301, 0)
        .s("A", 301, 102, 0)
        .s("F,A", 301, 102, 0)
        .c("A", 102, 302, 0);
    let (_, notes) = check(
        &c,
        &after_handshake(&[
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShAF",
            "client|retransmitted FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShAF",
            "server|ACK of FIN|teardown|2/4|FIN-WAIT-2|CLOSE-WAIT|S2|ShAFa",
            "server|FIN|teardown|3/4|FIN-WAIT-2|LAST-ACK|SF|ShAFaf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShAFaf",
        ]),
    );
    assert_eq!(notes[4], Notes::RETRANSMITTED_FIN);
}

#[test]
fn out_of_order_and_retransmitted_data() {
    let mut c = Conv::new();
    c.handshake()
        .s("P,A", 401, 101, 100) // arrives before the segment it follows
        .s("P,A", 301, 101, 100) // fills the hole
        .c("A", 101, 501, 0)
        .s("P,A", 301, 101, 100); // really sent twice
                                  // Zeek counts any data below the highest sequence number as a retransmission (`t`).
    check(
        &c,
        &after_handshake(&[
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAd",
            "server|out-of-order data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAdt",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAdt",
            "server|retransmitted data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAdt",
        ]),
    );
}

#[test]
fn sequence_numbers_wrap_around() {
    let isn = 0xffff_fff0u32;
    let mut c = Conv::new();
    c.c("S", isn, 0, 0)
        .s("S,A", 300, isn.wrapping_add(1), 0)
        .c("A", isn.wrapping_add(1), 301, 0)
        .c("P,A", isn.wrapping_add(1), 301, 16)
        .c("P,A", isn.wrapping_add(17), 301, 16) // == 1: past zero
        .s("A", 301, isn.wrapping_add(33), 0)
        .c("F,A", isn.wrapping_add(33), 301, 0)
        .s("F,A", 301, isn.wrapping_add(34), 0)
        .c("A", isn.wrapping_add(34), 302, 0);
    let (s, _) = check(
        &c,
        &after_handshake(&[
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADa",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShADaF",
            "server|FIN|teardown|2+3/4|FIN-WAIT-2|LAST-ACK|SF|ShADaFf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShADaFf",
        ]),
    );
    assert_eq!(isn.wrapping_add(17), 1);
    let s = only(&s);
    assert_eq!((s.orig_bytes, s.resp_bytes), (32, 0));
}

#[test]
fn data_after_reset_is_unexpected() {
    let mut c = Conv::new();
    c.handshake().s("R", 301, 0, 0).c("P,A", 101, 301, 5);
    check(
        &c,
        &after_handshake(&[
            "server|RST|reset||CLOSED|CLOSED|RSTR|ShAr",
            "client|unexpected|closed||CLOSED|CLOSED|RSTR|ShArD",
        ]),
    );
}

// Zeek's attempt timer (`tcp_attempt_delay`, 5 s from the SYN): an originator that keeps
// talking to a silent responder is logged as an attempt, and what it sends after the timer
// starts a new connection, seen midstream.
#[test]
fn attempt_times_out_and_later_packets_start_midstream() {
    let mut c = Conv::new();
    c.c("S", 100, 0, 0)
        .wait(SEC)
        .c("A", 101, 301, 0)
        .c("P,A", 101, 301, 10)
        .wait(5 * SEC)
        .c("P,A", 111, 301, 10)
        .c("A", 121, 301, 0)
        .c("F,A", 121, 301, 0);
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "client|ACK|handshake||SYN-SENT|LISTEN|S0|SA",
            "client|data|handshake||SYN-SENT|LISTEN|S0|SAD",
            // 6.003 s after the SYN: the attempt was logged at 5 s; a new connection.
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|OTH|D",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|OTH|DA",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|SH|DAF",
        ],
    );
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].conn_id, s[0].first_frame, s[0].last_frame), (1, 1, 3));
    assert_eq!(s[0].end_reason, EndReason::Attempt);
    assert_eq!(s[0].conn_state, ConnState::S0);
    assert_eq!(s[0].ending, Ending::Unanswered);
    assert_eq!((s[1].conn_id, s[1].first_frame, s[1].last_frame), (2, 4, 6));
    assert_eq!(s[1].conn_state, ConnState::SH);
    assert_eq!(s[1].orig_p, 50000);
}

#[test]
fn attempt_answered_in_time_or_timer_off_stays_one_connection() {
    // The SYN-ACK 4.9 s after the SYN: the timer finds the responder active.
    let mut c = Conv::new();
    c.c("S", 100, 0, 0)
        .wait(4900 * MS - 2 * MS)
        .s("S,A", 300, 101, 0)
        .wait(10 * SEC)
        .c("A", 101, 301, 0);
    let (_, s, _) = c.run();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].conn_state, ConnState::S1);
    assert_eq!(s[0].history.as_str(), "ShA");

    // A SYN-ACK 6 s after the SYN comes too late: Zeek logged the attempt at 5 s, and the
    // SYN-ACK opens a connection of its own (port 8080 is a likely server port: flipped).
    let mut c = Conv::new();
    c.c("S", 100, 0, 0)
        .wait(6 * SEC)
        .s("S,A", 300, 101, 0)
        .c("A", 101, 301, 0);
    let (_, s, _) = c.run();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0].conn_state, s[0].history.as_str()),
        (ConnState::S0, "S")
    );
    assert_eq!(s[0].end_reason, EndReason::Attempt);
    assert_eq!(
        (s[1].conn_state, s[1].history.as_str()),
        (ConnState::S1, "^hA")
    );
    assert_eq!(s[1].orig_p, 50000);

    // With the timer off, the late SYN-ACK completes the original handshake.
    let config = tcplife_engine::Config {
        attempt_timeout_ns: 0,
        ..Default::default()
    };
    let s = Collect::run(config, &c.segs).summaries;
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].conn_state, s[0].history.as_str()),
        (ConnState::S1, "ShA")
    );
}

// Zeek fixes the close timer when the close completes (`tcp_close_delay` after that packet);
// packets after it do not push the deadline back.
#[test]
fn close_deadline_is_not_moved_by_late_packets() {
    let mut c = Conv::new();
    c.handshake()
        .s("R", 301, 0, 0)
        .wait(3 * SEC)
        .c("A", 101, 301, 0)
        .wait(3 * SEC)
        .c("P,A", 101, 301, 5);
    let (_, s, _) = c.run();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].end_reason, EndReason::Closed);
    assert_eq!((s[0].first_frame, s[0].last_frame), (1, 5));
    assert_eq!(
        (s[0].conn_state, s[0].history.as_str()),
        (ConnState::RSTR, "ShAr")
    );
    assert_eq!(s[1].first_frame, 6);
    assert_eq!(
        (s[1].conn_state, s[1].history.as_str()),
        (ConnState::OTH, "D")
    );
}

// The SYN-ACK captured before its SYN, on ports Zeek does not take for a server's: Zeek keeps
// the SYN-ACK's sender as originator (`H`), and flips when the SYN shows the real roles
// (`s^`), so the letters after the flip are the client's in upper case.
#[test]
fn reordered_handshake_flips_when_the_syn_arrives() {
    let mut c = Conv::new();
    c.server.1 = 5555;
    c.s("S,A", 300, 101, 0)
        .c("S", 100, 0, 0)
        .c("A", 101, 301, 0)
        .c("P,A", 101, 301, 10)
        .s("A", 301, 111, 0)
        .s("P,A", 301, 111, 20)
        .c("F,A", 111, 321, 0)
        .s("F,A", 321, 112, 0)
        .c("A", 112, 322, 0);
    // The lifecycle knows the SYN-ACK's sender is the server from the start.
    let (s, _) = check(
        &c,
        &[
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|OTH|H",
            "client|SYN|handshake|1/3|ESTABLISHED|SYN-RECEIVED|S1|Hs^",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|Hs^A",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|Hs^AD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|Hs^ADa",
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|Hs^ADad",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|Hs^ADadF",
            "server|FIN|teardown|2+3/4|FIN-WAIT-2|LAST-ACK|SF|Hs^ADadFf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|Hs^ADadFf",
        ],
    );
    let s = only(&s);
    assert_eq!(s.conn_state, ConnState::SF);
    assert_eq!((s.orig_p, s.resp_p), (50000, 5555));
    assert_eq!(s.end_reason, EndReason::EndOfCapture);
}

// A SYN-ACK first on ports that do not flip it: Zeek (since 5.1) flips the roles on the first
// ACK or data segment after it, as if the SYN-ACK's sender had been the responder all along;
// a SYN-ACK answered by a RST (a stealth scan's probe) keeps its sender as originator.
#[test]
fn synack_first_flips_on_the_next_ack_but_not_on_a_rst() {
    let mut c = Conv::new();
    c.server.1 = 5555;
    c.s("S,A", 300, 101, 0).c("A", 101, 301, 0);
    check(
        &c,
        &[
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|OTH|H",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|^hA",
        ],
    );

    let mut c = Conv::new();
    c.server.1 = 5555;
    c.s("S,A", 300, 101, 0).c("R", 101, 0, 0);
    let (s, _) = check(
        &c,
        &[
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|OTH|H",
            "client|RST|reset||CLOSED|CLOSED|REJ|Hr",
        ],
    );
    let s = only(&s);
    assert_eq!((s.conn_state, s.history.as_str()), (ConnState::REJ, "Hr"));
    assert_eq!((s.orig_p, s.resp_p), (5555, 50000));
}

// Content gaps (Zeek's reassembler): an ACK above the bytes the observer saw reveals each hole
// below it as one gap, written `G` (originator) or `g` (responder) when the ACK is seen, while
// both endpoints are established. The trace from issue 9's retransmission-heavy case.
#[test]
fn acks_above_missing_bytes_are_gaps_in_order_of_events() {
    let mut c = Conv::new();
    c.handshake()
        .c("P,A", 101, 301, 10)
        // 111..121 from the client: not captured.
        .s("A", 301, 121, 0)
        .s("P,A", 301, 121, 10)
        // 311..321 from the server: not captured.
        .c("A", 121, 321, 0)
        .s("P,A", 301, 121, 10)
        .c("R", 121, 0, 0);
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaGd",
            "client|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaGdg",
            "server|retransmitted data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaGdgt",
            "client|RST|reset||CLOSED|CLOSED|RSTO|ShADaGdgtR",
        ],
    );
    let s = only(&s);
    assert_eq!(s.history.as_str(), "ShADaGdgtR");
    assert_eq!(s.missed_bytes, 20);
}

// Zeek writes `G` at the 1st, 10th, 100th... gap of a direction; every hole under one ACK is
// a gap of its own.
#[test]
fn gap_letters_repeat_at_powers_of_ten() {
    let mut c = Conv::new();
    c.handshake();
    let mut seq = 101;
    for _ in 0..5 {
        // Two holes of 5 bytes around 5 captured bytes, then one ACK over all of it.
        c.c("P,A", seq + 5, 301, 5);
        seq += 15;
        c.s("A", 301, seq, 0);
    }
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaGG",
        ],
    );
    let s = only(&s);
    assert_eq!(s.history.as_str(), "ShADaGG");
    assert_eq!(s.missed_bytes, 50);
}

// A payload the snap length cut off never reaches Zeek's reassembler: the ACK for it is a gap.
#[test]
fn truncated_payload_acked_is_a_gap() {
    let mut c = Conv::new();
    c.handshake()
        .c("P,A", 101, 301, 100)
        .mark(Integrity::Truncated)
        .s("A", 301, 201, 0);
    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADaG",
        ],
    );
    let s = only(&s);
    assert_eq!(s.history.as_str(), "ShADaG");
    assert_eq!(s.missed_bytes, 100);
}

// With checksums verified (Zeek without -C) a bad segment only writes `C`/`c`: the data it
// carried is missing, so its good retransmission is new data (`D`, not `T`).
// Unverified (the default, as zeek -C) the same capture is a plain retransmission.
#[test]
fn bad_checksums_dropped_only_when_verified() {
    let mut c = Conv::new();
    c.handshake()
        .c("P,A", 101, 301, 10)
        .mark(Integrity::BadChecksum)
        .c("P,A", 101, 301, 10)
        .s("A", 301, 111, 0)
        .s("P,A", 301, 111, 5)
        .mark(Integrity::BadChecksum)
        .c("F,A", 111, 301, 0)
        .s("F,A", 301, 112, 0)
        .c("A", 112, 302, 0);
    let verified = Config {
        verify_checksums: true,
        ..Default::default()
    };
    let (lines, s, _) = c.run_with(verified);
    let expected: &[&str] = &[
        "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
        "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
        "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
        "client|unexpected|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAC",
        "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShACD",
        "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShACDa",
        "server|unexpected|data transfer||ESTABLISHED|ESTABLISHED|S1|ShACDac",
        "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShACDacF",
        "server|FIN|teardown|2+3/4|FIN-WAIT-2|LAST-ACK|SF|ShACDacFf",
        "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShACDacFf",
    ];
    assert_eq!(lines, expected);
    let s = only(&s);
    assert_eq!(
        (s.orig_pkts, s.resp_pkts),
        (5, 3),
        "dropped segments are not counted"
    );
    assert_eq!((s.conn_state, s.missed_bytes), (ConnState::SF, 0));

    let (s, _) = check(
        &c,
        &[
            "client|SYN|handshake|1/3|SYN-SENT|LISTEN|S0|S",
            "server|SYN-ACK|handshake|2/3|ESTABLISHED|SYN-RECEIVED|S1|Sh",
            "client|handshake ACK|handshake|3/3|ESTABLISHED|ESTABLISHED|S1|ShA",
            "client|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShAD",
            "client|retransmitted data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADT",
            "server|ACK|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADTa",
            "server|data|data transfer||ESTABLISHED|ESTABLISHED|S1|ShADTad",
            "client|FIN|teardown|1/4|FIN-WAIT-1|ESTABLISHED|S2|ShADTadF",
            "server|FIN|teardown|2+3/4|FIN-WAIT-2|LAST-ACK|SF|ShADTadFf",
            "client|final ACK|teardown|4/4|TIME-WAIT|CLOSED|SF|ShADTadFf",
        ],
    );
    assert_eq!(only(&s).history.as_str(), "ShADTadFf");
}
