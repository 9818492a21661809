use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use tcplife_engine::{
    Annotation, ConnState, ConnSummary, EndReason, Ending, Event, Flags, Notes, Phase, Role,
    Segment, Step, TcpState,
};

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn seg(
    frame: u64,
    ts_ns: i64,
    from_client: bool,
    flags: Flags,
    seq: u32,
    ack: u32,
    len: u32,
) -> Segment {
    let (c, s) = ((ip("141.142.228.5"), 59856), (ip("192.150.187.43"), 80));
    let ((src, sp), (dst, dp)) = if from_client { (c, s) } else { (s, c) };
    Segment {
        frame,
        ts_ns,
        src,
        src_port: sp,
        dst,
        dst_port: dp,
        seq,
        ack,
        flags,
        window: 65535,
        payload_len: len,
        ip_len: 40 + len,
        integrity: tcplife_engine::Integrity::Intact,
    }
}

fn ann(frame: u64, role: Role, event: Event, phase: Phase, step: Step) -> Annotation {
    Annotation {
        frame,
        conn_id: 1,
        role,
        event,
        phase,
        step,
        client_state: TcpState::SynSent,
        server_state: TcpState::Listen,
        conn_state: ConnState::S0,
        history: "S".into(),
        handshake_rtt_ns: None,
        notes: Notes::default(),
    }
}

fn summary() -> ConnSummary {
    ConnSummary {
        conn_id: 1,
        uid: "CabcDEF123".into(),
        ts_ns: 1_258_535_653_578_149_000,
        orig_h: ip("141.142.228.5"),
        orig_p: 59856,
        resp_h: ip("192.150.187.43"),
        resp_p: 80,
        duration_ns: 211_484_000,
        orig_bytes: 136,
        resp_bytes: 5007,
        conn_state: ConnState::SF,
        missed_bytes: 0,
        history: "ShADadFf".into(),
        orig_pkts: 7,
        orig_ip_bytes: 512,
        resp_pkts: 7,
        resp_ip_bytes: 5379,
        ending: Ending::ClosedNormally,
        first_closer: Some(Role::Client),
        client_state: TcpState::TimeWait,
        server_state: TcpState::Closed,
        handshake_rtt_ns: Some(23_712_500),
        first_frame: 1,
        last_frame: 14,
        end_reason: EndReason::Closed,
    }
}

fn text(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap()
}

#[test]
fn tsv_rows_are_the_plugin_contract() {
    let mut w = PacketWriter::new(Vec::new(), PacketFormat::Tsv);
    let s = seg(1, 0, true, Flags::SYN, 100, 0, 0);
    w.write(
        &s,
        &ann(
            1,
            Role::Client,
            Event::Syn,
            Phase::Handshake,
            Step::one(1, 3),
        ),
    )
    .unwrap();
    let mut a = ann(
        9,
        Role::Server,
        Event::Fin,
        Phase::Teardown,
        Step {
            first: 2,
            last: 3,
            of: 4,
        },
    );
    a.conn_id = 12;
    a.client_state = TcpState::FinWait2;
    a.server_state = TcpState::LastAck;
    a.conn_state = ConnState::SF;
    a.history = "ShADadFf".into();
    a.handshake_rtt_ns = Some(123_000);
    w.write(&s, &a).unwrap();
    let mut a = ann(
        10,
        Role::Client,
        Event::Ack,
        Phase::DataTransfer,
        Step::NONE,
    );
    a.handshake_rtt_ns = Some(2_000_000_001);
    w.write(&s, &a).unwrap();
    assert_eq!(
        text(w.finish().unwrap()),
        "frame\tconn\trole\tevent\tphase\tstep\tclient_state\tserver_state\tconn_state\thistory\thandshake_rtt\n\
         1\t1\tclient\tSYN\thandshake\t1/3\tSYN-SENT\tLISTEN\tS0\tS\t\n\
         9\t12\tserver\tFIN\tteardown\t2+3/4\tFIN-WAIT-2\tLAST-ACK\tSF\tShADadFf\t0.000123000\n\
         10\t1\tclient\tACK\tdata transfer\t\tSYN-SENT\tLISTEN\tS0\tS\t2.000000001\n"
    );
}

#[test]
fn tsv_step_matches_step_display() {
    for (first, last, of) in [(0, 0, 0), (1, 1, 3), (3, 3, 3), (2, 3, 4), (4, 4, 4)] {
        let step = Step { first, last, of };
        let mut w = PacketWriter::new(Vec::new(), PacketFormat::Tsv);
        let s = seg(1, 0, true, Flags::ACK, 1, 1, 0);
        w.write(&s, &ann(1, Role::Client, Event::Ack, Phase::Teardown, step))
            .unwrap();
        let out = text(w.finish().unwrap());
        let row = out.lines().nth(1).unwrap();
        assert_eq!(row.split('\t').nth(5).unwrap(), step.to_string());
    }
}

#[test]
fn empty_tsv_still_has_its_header() {
    let out = text(
        PacketWriter::new(Vec::new(), PacketFormat::Tsv)
            .finish()
            .unwrap(),
    );
    assert_eq!(out, format!("{}\n", TSV_COLUMNS.join("\t")));
}

#[test]
fn packet_json_lines_parse_with_exact_values() {
    let mut w = PacketWriter::new(Vec::new(), PacketFormat::Json);
    let s = seg(3, 1_258_535_653_601_861_000, true, Flags::ACK, 101, 201, 0);
    let mut a = ann(
        3,
        Role::Client,
        Event::HandshakeAck,
        Phase::Handshake,
        Step::one(3, 3),
    );
    a.handshake_rtt_ns = Some(23_712_000);
    a.notes = Notes(Notes::ZERO_WINDOW.0 | Notes::REFUSED.0);
    a.history = "Sh\"A\\".into();
    w.write(&s, &a).unwrap();
    let out = text(w.finish().unwrap());
    assert_eq!(out.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["frame"], 3);
    assert_eq!(v["ts"].as_f64().unwrap(), 1_258_535_653.601861);
    assert_eq!(v["src"], "141.142.228.5");
    assert_eq!(v["dport"], 80);
    assert_eq!(v["flags"], "ACK");
    assert_eq!(v["event"], "handshake ACK");
    assert_eq!(v["step"], "3/3");
    assert_eq!(v["history"], "Sh\"A\\");
    assert_eq!(v["handshake_rtt"].as_f64().unwrap(), 0.023712);
    assert_eq!(v["notes"], serde_json::json!(["refused", "zero_window"]));
}

#[test]
fn packet_table_lines_up() {
    let mut w = PacketWriter::new(Vec::new(), PacketFormat::Table);
    let s1 = seg(1, 5_000_000_000, true, Flags::SYN, 100, 0, 0);
    let s2 = seg(
        2,
        5_023_712_000,
        false,
        Flags::SYN | Flags::ACK,
        500,
        101,
        0,
    );
    w.write(
        &s1,
        &ann(
            1,
            Role::Client,
            Event::Syn,
            Phase::Handshake,
            Step::one(1, 3),
        ),
    )
    .unwrap();
    w.write(
        &s2,
        &ann(
            2,
            Role::Server,
            Event::SynAck,
            Phase::Handshake,
            Step::one(2, 3),
        ),
    )
    .unwrap();
    let out = text(w.finish().unwrap());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains(" 0.000000 "), "{out}");
    assert!(lines[2].contains(" 0.023712 "), "{out}");
    assert!(lines[2].contains("SYN,ACK"), "{out}");
    // Every column starts at the same offset on every line.
    let at = |l: &str, w: &str| l.find(w).unwrap();
    assert_eq!(at(lines[0], "phase"), at(lines[1], "handshake"));
    assert_eq!(at(lines[0], "phase"), at(lines[2], "handshake"));
    assert_eq!(at(lines[0], "history"), at(lines[2], " S0 ") + 1 + 12);
    assert_eq!(at(lines[0], "event"), at(lines[2], "SYN-ACK"));
    assert!(lines[2].ends_with("  S"), "{out}");
}

#[test]
fn zeek_log_has_zeek_header_and_row() {
    let open = UNIX_EPOCH + Duration::from_secs(1_764_137_259);
    let mut w = ConnWriter::new(Vec::new(), ConnFormat::Zeek, open);
    w.write(&summary()).unwrap();
    let mut single = summary();
    single.duration_ns = 0;
    single.history = "".into();
    single.first_closer = None;
    single.handshake_rtt_ns = None;
    single.orig_h = ip("2001:db8::1");
    single.conn_state = ConnState::OTH;
    single.ending = Ending::Midstream;
    w.write(&single).unwrap();
    let out = text(w.finish(open + Duration::from_secs(61)).unwrap());
    let expected = "#separator \\x09\n\
#set_separator\t,\n\
#empty_field\t(empty)\n\
#unset_field\t-\n\
#path\tconn\n\
#open\t2025-11-26-06-07-39\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\ttcplife_conn_id\ttcplife_ending\ttcplife_first_closer\ttcplife_client_state\ttcplife_server_state\ttcplife_handshake_rtt\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring\tstring\tstring\tstring\tinterval\n\
1258535653.578149\tCabcDEF123\t141.142.228.5\t59856\t192.150.187.43\t80\ttcp\t-\t0.211484\t136\t5007\tSF\t-\t-\t0\tShADadFf\t7\t512\t7\t5379\t-\t1\tclosed normally\tclient\tTIME-WAIT\tCLOSED\t0.023713\n\
1258535653.578149\tCabcDEF123\t2001:db8::1\t59856\t192.150.187.43\t80\ttcp\t-\t-\t-\t-\tOTH\t-\t-\t0\t-\t7\t512\t7\t5379\t-\t1\tmidstream, not closed\t-\tTIME-WAIT\tCLOSED\t-\n\
#close\t2025-11-26-06-08-40\n";
    assert_eq!(out, expected);
}

#[test]
fn zeek_log_without_connections_is_header_and_close() {
    let t = UNIX_EPOCH + Duration::from_secs(0);
    let out = text(
        ConnWriter::new(Vec::new(), ConnFormat::Zeek, t)
            .finish(t)
            .unwrap(),
    );
    assert_eq!(out.lines().count(), 9);
    assert_eq!(out.lines().last().unwrap(), "#close\t1970-01-01-00-00-00");
}

#[test]
fn conn_json_lines_parse_with_exact_values() {
    let t = UNIX_EPOCH;
    let mut w = ConnWriter::new(Vec::new(), ConnFormat::Json, t);
    w.write(&summary()).unwrap();
    w.begin_file("b.pcap").unwrap();
    let mut c = summary();
    c.first_closer = None;
    c.handshake_rtt_ns = None;
    w.write(&c).unwrap();
    let out = text(w.finish(t).unwrap());
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id.orig_h"], "141.142.228.5");
    assert_eq!(rows[0]["id.resp_p"], 80);
    assert_eq!(rows[0]["conn_state"], "SF");
    assert_eq!(rows[0]["history"], "ShADadFf");
    assert_eq!(rows[0]["duration"].as_f64().unwrap(), 0.211484);
    assert_eq!(rows[0]["tcplife_first_closer"], "client");
    assert_eq!(rows[0]["tcplife_handshake_rtt"].as_f64().unwrap(), 0.023713);
    assert_eq!(rows[0]["tcplife_end_reason"], "closed");
    assert!(rows[0].get("tcplife_file").is_none());
    assert!(rows[1]["tcplife_first_closer"].is_null());
    assert!(rows[1]["tcplife_handshake_rtt"].is_null());
    assert_eq!(rows[1]["tcplife_file"], "b.pcap");
}

#[test]
fn conn_table_aligns_columns() {
    let mut w = ConnWriter::new(Vec::new(), ConnFormat::Table, UNIX_EPOCH);
    w.write(&summary()).unwrap();
    let mut c = summary();
    c.conn_id = 2;
    c.orig_h = ip("2001:db8::1");
    c.resp_h = ip("2001:db8::2");
    w.write(&c).unwrap();
    let out = text(w.finish(UNIX_EPOCH).unwrap());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].contains("141.142.228.5:59856"), "{out}");
    assert!(
        lines[2].contains("[2001:db8::1]:59856  ->  [2001:db8::2]:80"),
        "{out}"
    );
    let col = |l: &str| l.find("SF").unwrap();
    assert_eq!(col(lines[1]), col(lines[2]));
    assert_eq!(lines[0].find("conn_state").unwrap(), col(lines[1]));
    assert!(lines[1].contains("closed normally  client"), "{out}");
    assert!(
        lines[1].ends_with("  0.211484   23.713       7/7   136/5007"),
        "{out}"
    );
}

#[test]
fn ladder_draws_arrows_with_relative_numbers() {
    let mut w = LadderWriter::new(Vec::new());
    let isn_c = 4_294_967_000u32; // wraps around 2^32 on the way
    let isn_s = 7u32;
    let pkts = [
        (
            seg(1, 0, true, Flags::SYN, isn_c, 0, 0),
            Role::Client,
            Event::Syn,
            Step::one(1, 3),
        ),
        (
            seg(
                2,
                1_000,
                false,
                Flags::SYN | Flags::ACK,
                isn_s,
                isn_c.wrapping_add(1),
                0,
            ),
            Role::Server,
            Event::SynAck,
            Step::one(2, 3),
        ),
        (
            seg(
                3,
                2_000,
                true,
                Flags::ACK,
                isn_c.wrapping_add(1),
                isn_s + 1,
                0,
            ),
            Role::Client,
            Event::HandshakeAck,
            Step::one(3, 3),
        ),
        (
            seg(
                4,
                3_000,
                true,
                Flags::PSH | Flags::ACK,
                isn_c.wrapping_add(1),
                isn_s + 1,
                500,
            ),
            Role::Client,
            Event::Data,
            Step::NONE,
        ),
    ];
    for (s, role, event, step) in &pkts {
        let phase = if step.is_none() {
            Phase::DataTransfer
        } else {
            Phase::Handshake
        };
        w.packet(s, &ann(s.frame, *role, *event, phase, *step))
            .unwrap();
    }
    let out = text(w.finish(Some(&summary())).unwrap());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "connection 1: client 141.142.228.5:59856  <->  server 192.150.187.43:80"
    );
    assert!(
        lines[2].contains("  client ") && lines[2].contains(" server  "),
        "{out}"
    );
    assert!(lines[3].contains("|-- SYN seq=0 len=0 ---"), "{out}");
    assert!(lines[3].contains("->|  handshake 1/3"), "{out}");
    assert!(
        lines[4].contains("|<--") && lines[4].contains(" SYN,ACK seq=0 ack=1 len=0 --|"),
        "{out}"
    );
    assert!(lines[5].contains("|-- ACK seq=1 ack=1 len=0 -"), "{out}");
    assert!(
        lines[6].contains("|-- PSH,ACK seq=1 ack=1 len=500 -"),
        "{out}"
    );
    assert!(lines[6].contains("data transfer  "), "{out}");
    // Bars line up on every row.
    let bars = |l: &str| (l.find('|').unwrap(), l.rfind('|').unwrap());
    for l in &lines[3..7] {
        assert_eq!(bars(l), bars(lines[3]), "{out}");
    }
    assert_eq!(lines[2].find("client").unwrap(), bars(lines[3]).0);
    assert_eq!(lines[2].find("server").unwrap() + 5, bars(lines[3]).1);
    assert_eq!(
        lines[8],
        "ended: closed normally (conn_state SF, history ShADadFf); first to close: client"
    );
}

#[test]
fn numbers_format_like_zeek() {
    let s = |ns| {
        let mut v = Vec::new();
        num::secs6(&mut v, ns).unwrap();
        text(v)
    };
    assert_eq!(s(0), "0.000000");
    assert_eq!(s(1_500), "0.000002");
    assert_eq!(s(1_499), "0.000001");
    assert_eq!(s(-1_500_000_000), "-1.500000");
    assert_eq!(s(1_258_535_653_578_149_000), "1258535653.578149");
    assert_eq!(zeek_datetime(951_782_400), "2000-02-29-00-00-00");
    assert_eq!(zeek_datetime(-1), "1969-12-31-23-59-59");
    assert_eq!(flags_str(Flags::SYN | Flags::ACK), "SYN,ACK");
    assert_eq!(Endpoint(ip("::1"), 22).to_string(), "[::1]:22");
}

#[test]
fn conn_table_streams_after_its_lookahead() {
    let mut out = Vec::new();
    let mut w = ConnWriter::new(&mut out, ConnFormat::Table, UNIX_EPOCH);
    for id in 1..=1000 {
        let mut c = summary();
        c.conn_id = id;
        w.write(&c).unwrap();
    }
    // Widths are fixed now: this row is written at once and only it is pushed right.
    let mut wide = summary();
    wide.conn_id = 1001;
    wide.orig_h = ip("2001:db8:1234:5678:9abc:def0:1234:5678");
    w.write(&wide).unwrap();
    w.finish(UNIX_EPOCH).unwrap();
    let out = text(out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1002);
    let col = |l: &str| l.find("SF").unwrap();
    assert_eq!(col(lines[1]), col(lines[1000]));
    assert!(col(lines[1001]) > col(lines[1000]));
    assert!(lines[1001].starts_with("1001  [2001:db8:1234:5678:9abc:def0:1234:5678]:59856  ->  "));
}
