//! The lifecycle facts each scenario must show. They are stated as facts about the connection
//! (who sent the first FIN, which state each side ends in, that the data came before or after a
//! FIN), never as one fixed packet list: the kernel may put a FIN on the same segment as data,
//! acknowledge two segments at once, or delay an ACK.

use tcplife_engine::{ConnState, Ending, Event, Notes, Phase, Role, TcpState};

use crate::analysis::{Analysis, Packet};
use crate::scenario::{Run, Story, GREETING, REQUEST};

#[derive(Clone, Debug)]
pub struct Check {
    /// Which connection (`conn 3`) or `scenario`.
    pub scope: String,
    pub name: &'static str,
    pub ok: bool,
    /// On success what was seen; on failure what was expected, what was seen, and on which frame.
    pub detail: String,
}

/// Overrides for the harness's own tests: make a scenario expect something false, to prove that
/// a wrong verdict is reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub first_closer: Option<Role>,
}

struct Checker<'a> {
    scope: String,
    out: &'a mut Vec<Check>,
}

impl Checker<'_> {
    fn check(&mut self, name: &'static str, ok: bool, detail: String) -> bool {
        self.out.push(Check {
            scope: self.scope.clone(),
            name,
            ok,
            detail,
        });
        ok
    }
}

fn frames(pkts: &[&Packet]) -> String {
    let list: Vec<String> = pkts.iter().map(|p| p.ann.frame.to_string()).collect();
    list.join(",")
}

fn describe(p: &Packet) -> String {
    let step = p.ann.step.to_string();
    format!(
        "frame {}: {} {} [{}] {}{}{} client {} server {}",
        p.ann.frame,
        p.ann.role.as_str(),
        p.ann.event.as_str(),
        p.seg.flags,
        p.ann.phase.as_str(),
        if step.is_empty() { "" } else { " " },
        step,
        p.ann.client_state.as_str(),
        p.ann.server_state.as_str(),
    )
}

fn phase_rank(p: Phase) -> u8 {
    match p {
        Phase::Handshake => 0,
        Phase::DataTransfer => 1,
        Phase::Teardown => 2,
        Phase::Reset => 3,
        Phase::Closed => 4,
    }
}

/// Checks every connection of a scenario run against its story.
pub fn check_run(run: &Run, analysis: &Analysis, story: Story, ov: Overrides) -> Vec<Check> {
    let mut out = Vec::new();
    let mut sc = Checker {
        scope: "scenario".into(),
        out: &mut out,
    };
    if run.live {
        sc.check(
            "applications",
            run.problems.is_empty(),
            if run.problems.is_empty() {
                format!("{} connection(s) made by the scenario", run.conns.len())
            } else {
                run.problems.join("; ")
            },
        );
    }
    let ours: Vec<u64> = analysis
        .summaries
        .values()
        .filter(|s| s.resp_p == run.port && run.conns.iter().any(|c| c.client_port == s.orig_p))
        .map(|s| s.conn_id)
        .collect();
    let strangers: Vec<String> = analysis
        .summaries
        .values()
        .filter(|s| !ours.contains(&s.conn_id))
        .map(|s| {
            format!(
                "conn {} {}:{} -> {}:{}",
                s.conn_id, s.orig_h, s.orig_p, s.resp_h, s.resp_p
            )
        })
        .collect();
    sc.check(
        "connections",
        ours.len() == run.conns.len() && strangers.is_empty(),
        if strangers.is_empty() {
            format!(
                "{} connection(s) in the capture, {} made by the scenario",
                ours.len(),
                run.conns.len()
            )
        } else {
            format!(
                "the capture holds connections the scenario did not make (another program on \
                 port {}?): {}",
                run.port,
                strangers.join("; ")
            )
        },
    );
    for app in &run.conns {
        let Some(summary) = analysis
            .summaries
            .values()
            .find(|s| s.orig_p == app.client_port && s.resp_p == run.port)
        else {
            let mut c = Checker {
                scope: format!("client port {}", app.client_port),
                out: &mut out,
            };
            c.check(
                "connection captured",
                false,
                format!(
                    "no connection from 127.0.0.1:{} to port {} in the capture",
                    app.client_port, run.port
                ),
            );
            continue;
        };
        let pkts = analysis.conn_packets(summary.conn_id);
        let mut c = Checker {
            scope: format!("conn {} (client port {})", summary.conn_id, app.client_port),
            out: &mut out,
        };
        if run.live {
            c.check(
                "applications",
                app.problems.is_empty(),
                if app.problems.is_empty() {
                    "every socket call behaved as the scenario requires".into()
                } else {
                    app.problems.join("; ")
                },
            );
        }
        check_conn(&mut c, &pkts, summary, app, run.live, story, ov);
    }
    out
}

fn check_conn(
    c: &mut Checker,
    pkts: &[&Packet],
    s: &tcplife_engine::ConnSummary,
    app: &crate::scenario::AppConn,
    live: bool,
    story: Story,
    ov: Overrides,
) {
    let unexplained: Vec<&Packet> = pkts
        .iter()
        .copied()
        .filter(|p| {
            matches!(
                p.ann.event,
                Event::Unexpected
                    | Event::OutOfOrder
                    | Event::RetransmittedData
                    | Event::RetransmittedSyn
                    | Event::RetransmittedSynAck
                    | Event::RetransmittedFin
            )
        })
        .collect();
    c.check(
        "every packet explained",
        unexplained.is_empty(),
        if unexplained.is_empty() {
            format!("{} packets, none unexpected or retransmitted", pkts.len())
        } else {
            unexplained
                .iter()
                .map(|p| describe(p))
                .collect::<Vec<_>>()
                .join("; ")
        },
    );

    // Phases only move forward: a connection never goes back to the handshake, nor from the
    // teardown back to data transfer.
    let regress = pkts
        .windows(2)
        .find(|w| phase_rank(w[1].ann.phase) < phase_rank(w[0].ann.phase));
    c.check(
        "phases in order",
        regress.is_none(),
        match regress {
            None => {
                let mut seq: Vec<&str> = pkts.iter().map(|p| p.ann.phase.as_str()).collect();
                seq.dedup();
                seq.join(" -> ")
            }
            Some(w) => format!(
                "phase went back from {} to {}: {}",
                w[0].ann.phase.as_str(),
                w[1].ann.phase.as_str(),
                describe(w[1])
            ),
        },
    );

    match story {
        Story::Refused => check_refused(c, pkts, s, ov),
        Story::Closed {
            first_closer,
            client_bytes,
            server_bytes,
            half_close,
        } => {
            check_handshake(c, pkts, s);
            check_data(c, pkts, s, client_bytes, server_bytes, live.then_some(app));
            check_closed(
                c,
                pkts,
                s,
                ov.first_closer.unwrap_or(first_closer),
                half_close,
            );
        }
        Story::Reset {
            by,
            client_bytes,
            server_bytes,
        } => {
            check_handshake(c, pkts, s);
            check_data(c, pkts, s, client_bytes, server_bytes, live.then_some(app));
            check_reset(c, pkts, s, ov.first_closer.unwrap_or(by));
        }
    }
}

fn check_handshake(c: &mut Checker, pkts: &[&Packet], s: &tcplife_engine::ConnSummary) {
    let want = [
        (
            Role::Client,
            Event::Syn,
            "1/3",
            "client SYN-SENT",
            (Some(TcpState::SynSent), None),
        ),
        (
            Role::Server,
            Event::SynAck,
            "2/3",
            "server SYN-RECEIVED",
            (None, Some(TcpState::SynReceived)),
        ),
        (
            Role::Client,
            Event::HandshakeAck,
            "3/3",
            "both ESTABLISHED",
            (Some(TcpState::Established), Some(TcpState::Established)),
        ),
    ];
    let mut problems = Vec::new();
    for (i, (role, event, step, states, (cs, ss))) in want.iter().enumerate() {
        let Some(p) = pkts.get(i) else {
            problems.push(format!(
                "packet {} of the connection is missing (want {} {})",
                i + 1,
                role.as_str(),
                event.as_str()
            ));
            break;
        };
        let a = &p.ann;
        let ok = a.role == *role
            && a.event == *event
            && a.phase == Phase::Handshake
            && a.step.to_string() == *step
            && cs.is_none_or(|st| a.client_state == st)
            && ss.is_none_or(|st| a.server_state == st);
        if !ok {
            problems.push(format!(
                "want {} {} handshake {step} ({states} after it), got {}",
                role.as_str(),
                event.as_str(),
                describe(p)
            ));
        }
    }
    let rtt_ok = s.handshake_rtt_ns.is_some();
    if !rtt_ok {
        problems.push("no handshake RTT in the connection summary".into());
    }
    let first3: Vec<&Packet> = pkts.iter().take(3).copied().collect();
    c.check(
        "three-way handshake",
        problems.is_empty(),
        if problems.is_empty() {
            format!(
                "SYN 1/3, SYN-ACK 2/3, ACK 3/3 in frames {}, then both ESTABLISHED; RTT {} us",
                frames(&first3),
                s.handshake_rtt_ns.unwrap_or(0) / 1000
            )
        } else {
            problems.join("; ")
        },
    );
}

fn check_data(
    c: &mut Checker,
    pkts: &[&Packet],
    s: &tcplife_engine::ConnSummary,
    client_bytes: u64,
    server_bytes: u64,
    app: Option<&crate::scenario::AppConn>,
) {
    let sent = |role: Role| -> u64 {
        pkts.iter()
            .filter(|p| p.ann.role == role)
            .map(|p| u64::from(p.seg.payload_len))
            .sum()
    };
    let (cb, sb) = (sent(Role::Client), sent(Role::Server));
    let ok = cb == client_bytes
        && sb == server_bytes
        && s.orig_bytes == client_bytes
        && s.resp_bytes == server_bytes;
    c.check(
        "bytes on the wire",
        ok,
        format!(
            "client sent {cb} (want {client_bytes}, summary orig_bytes {}), server sent {sb} \
             (want {server_bytes}, summary resp_bytes {})",
            s.orig_bytes, s.resp_bytes
        ),
    );
    // What the applications read must be exactly what was meant to be written: the capture and
    // the sockets tell the same story.
    let want_client = if server_bytes > 0 { GREETING } else { b"" };
    let want_server = if client_bytes > 0 { REQUEST } else { b"" };
    if let Some(app) = app {
        c.check(
            "bytes read by the applications",
            app.client_received == want_client && app.server_received == want_server,
            format!(
                "client read {:?}, server read {:?}",
                String::from_utf8_lossy(&app.client_received),
                String::from_utf8_lossy(&app.server_received)
            ),
        );
    }
    // Data sent before anybody's FIN is the data-transfer phase and is called data.
    let first_fin = pkts
        .iter()
        .position(|p| p.seg.flags.fin() || p.seg.flags.rst());
    let before: Vec<&Packet> = pkts
        .iter()
        .take(first_fin.unwrap_or(pkts.len()))
        .filter(|p| p.seg.payload_len > 0)
        .copied()
        .collect();
    let wrong: Vec<&Packet> = before
        .iter()
        .copied()
        .filter(|p| p.ann.event != Event::Data || p.ann.phase != Phase::DataTransfer)
        .collect();
    c.check(
        "data in the data-transfer phase",
        wrong.is_empty(),
        if wrong.is_empty() {
            format!(
                "data before the first FIN/RST in frames [{}], each event data, phase data \
                 transfer",
                frames(&before)
            )
        } else {
            wrong
                .iter()
                .map(|p| describe(p))
                .collect::<Vec<_>>()
                .join("; ")
        },
    );
}

fn check_closed(
    c: &mut Checker,
    pkts: &[&Packet],
    s: &tcplife_engine::ConnSummary,
    closer: Role,
    half_close: bool,
) {
    let fins: Vec<&Packet> = pkts.iter().filter(|p| p.seg.flags.fin()).copied().collect();
    let first = fins.first();
    let ok = first.is_some_and(|p| p.ann.role == closer) && s.first_closer == Some(closer);
    c.check(
        "first closer",
        ok,
        match first {
            Some(p) => format!(
                "want {}: first FIN from the {} in frame {}; summary first_closer {}",
                closer.as_str(),
                p.ann.role.as_str(),
                p.ann.frame,
                s.first_closer.map_or("none", |r| r.as_str())
            ),
            None => "no FIN in the connection".into(),
        },
    );
    let peer = closer.peer();
    let peer_fin = fins.iter().find(|p| p.ann.role == peer);
    let first_fin_ok = first.is_some_and(|p| {
        p.ann.event == Event::Fin
            && p.ann.phase == Phase::Teardown
            && p.ann.step.to_string() == "1/4"
    });
    let peer_fin_ok = peer_fin.is_some_and(|p| {
        p.ann.phase == Phase::Teardown
            && p.ann.step.last == 3
            && p.ann.step.of == 4
            && matches!(p.ann.event, Event::Fin | Event::FinAck)
    });
    // The closer's ACK of the peer's FIN is the last step; it must come after the peer's FIN.
    let final_ack = peer_fin.and_then(|pf| {
        pkts.iter()
            .find(|p| p.ann.frame > pf.ann.frame && p.ann.role == closer && p.ann.step.last == 4)
    });
    let final_ok = final_ack.is_some_and(|p| p.ann.event == Event::FinalAck);
    // Step 2 (the peer acknowledging the first FIN) is either its own ACK or rides on the
    // peer's FIN (2+3/4).
    let step2 = pkts
        .iter()
        .find(|p| p.ann.role == peer && p.ann.step.first == 2 && p.ann.step.of == 4);
    let mut steps: Vec<String> = pkts
        .iter()
        .filter(|p| !p.ann.step.is_none() && p.ann.step.of == 4)
        .map(|p| {
            format!(
                "{} {} (frame {})",
                p.ann.role.as_str(),
                p.ann.step,
                p.ann.frame
            )
        })
        .collect();
    steps.dedup();
    c.check(
        "four-step teardown",
        first_fin_ok && peer_fin_ok && final_ok && step2.is_some(),
        format!(
            "steps: {}{}",
            steps.join(", "),
            match (first_fin_ok, peer_fin_ok, step2.is_some(), final_ok) {
                (true, true, true, true) => String::new(),
                (false, ..) => format!(
                    "; want the {}'s FIN as teardown 1/4, got {}",
                    closer.as_str(),
                    first.map_or("none".into(), |p| describe(p))
                ),
                (_, false, ..) => format!(
                    "; want the {}'s FIN as teardown 3/4 or 2+3/4, got {}",
                    peer.as_str(),
                    peer_fin.map_or("none".into(), |p| describe(p))
                ),
                (_, _, false, _) => format!(
                    "; no teardown step 2/4 (the {} acknowledging the first FIN)",
                    peer.as_str()
                ),
                _ => format!(
                    "; want the {}'s final ACK as teardown 4/4, got {}",
                    closer.as_str(),
                    final_ack.map_or("none".into(), |p| describe(p))
                ),
            }
        ),
    );
    if half_close {
        // The half-close story: the client's FIN first, and the server's reply after it, sent
        // from CLOSE-WAIT while the client waits in FIN-WAIT-2 (or FIN-WAIT-1 until its FIN is
        // acknowledged).
        let client_fin = fins.iter().find(|p| p.ann.role == Role::Client);
        let replies: Vec<&Packet> = pkts
            .iter()
            .filter(|p| p.ann.role == Role::Server && p.seg.payload_len > 0)
            .copied()
            .collect();
        let bad: Vec<&Packet> = replies
            .iter()
            .copied()
            .filter(|p| {
                client_fin.is_none_or(|f| p.ann.frame < f.ann.frame)
                    || p.ann.server_state != TcpState::CloseWait
                    || !matches!(p.ann.client_state, TcpState::FinWait1 | TcpState::FinWait2)
            })
            .collect();
        c.check(
            "reply after the client's FIN",
            !replies.is_empty() && bad.is_empty(),
            if replies.is_empty() {
                "the server sent no reply".into()
            } else if bad.is_empty() {
                format!(
                    "client FIN in frame {}, server reply in frames [{}] sent in CLOSE-WAIT \
                     (client FIN-WAIT-1/2)",
                    client_fin.map_or(0, |p| p.ann.frame),
                    frames(&replies)
                )
            } else {
                format!(
                    "want every reply after the client's FIN with server CLOSE-WAIT: {}",
                    bad.iter()
                        .map(|p| describe(p))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
        );
    }
    let (want_c, want_s) = match closer {
        Role::Client => (TcpState::TimeWait, TcpState::Closed),
        Role::Server => (TcpState::Closed, TcpState::TimeWait),
    };
    c.check(
        "final states",
        s.client_state == want_c && s.server_state == want_s,
        format!(
            "want client {} server {} (the first closer waits in TIME-WAIT), got client {} \
             server {}",
            want_c.as_str(),
            want_s.as_str(),
            s.client_state.as_str(),
            s.server_state.as_str()
        ),
    );
    let resets: Vec<&Packet> = pkts.iter().filter(|p| p.seg.flags.rst()).copied().collect();
    c.check(
        "verdict",
        s.conn_state == ConnState::SF && s.ending == Ending::ClosedNormally && resets.is_empty(),
        format!(
            "want conn_state SF, closed normally, no RST; got {} ({}), history {}{}",
            s.conn_state.as_str(),
            s.ending.as_str(),
            s.history,
            if resets.is_empty() {
                String::new()
            } else {
                format!(", RST in frames [{}]", frames(&resets))
            }
        ),
    );
}

fn check_refused(
    c: &mut Checker,
    pkts: &[&Packet],
    s: &tcplife_engine::ConnSummary,
    ov: Overrides,
) {
    let syn = pkts.first();
    let rst = pkts.get(1);
    let syn_ok = syn.is_some_and(|p| {
        p.ann.role == Role::Client
            && p.ann.event == Event::Syn
            && p.ann.phase == Phase::Handshake
            && p.ann.step.to_string() == "1/3"
    });
    let rst_ok = rst.is_some_and(|p| {
        p.ann.role == Role::Server
            && p.ann.event == Event::Rst
            && p.ann.phase == Phase::Reset
            && p.ann.notes.contains(Notes::REFUSED)
    });
    c.check(
        "SYN answered by RST",
        syn_ok && rst_ok && pkts.len() == 2,
        format!(
            "want client SYN handshake 1/3 then server RST (phase reset, note refused), 2 \
             packets; got {} packets: {}",
            pkts.len(),
            pkts.iter()
                .map(|p| describe(p))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    let want_closer = ov.first_closer.unwrap_or(Role::Server);
    c.check(
        "verdict",
        s.conn_state == ConnState::REJ
            && s.ending == Ending::Refused
            && s.first_closer == Some(want_closer)
            && s.client_state == TcpState::Closed
            && s.server_state == TcpState::Closed,
        format!(
            "want conn_state REJ, refused, ended by the {}, both CLOSED; got {} ({}), history \
             {}, first_closer {}, client {} server {}",
            want_closer.as_str(),
            s.conn_state.as_str(),
            s.ending.as_str(),
            s.history,
            s.first_closer.map_or("none", |r| r.as_str()),
            s.client_state.as_str(),
            s.server_state.as_str()
        ),
    );
}

fn check_reset(c: &mut Checker, pkts: &[&Packet], s: &tcplife_engine::ConnSummary, by: Role) {
    let fins: Vec<&Packet> = pkts.iter().filter(|p| p.seg.flags.fin()).copied().collect();
    let rsts: Vec<&Packet> = pkts.iter().filter(|p| p.seg.flags.rst()).copied().collect();
    let note = match by {
        Role::Client => Notes::RESET_BY_CLIENT,
        Role::Server => Notes::RESET_BY_SERVER,
    };
    let rst_ok = rsts.len() == 1
        && rsts.iter().all(|p| {
            p.ann.role == by
                && p.ann.event == Event::Rst
                && p.ann.phase == Phase::Reset
                && p.ann.notes.contains(note)
        });
    c.check(
        "abort",
        rst_ok && fins.is_empty(),
        format!(
            "want one RST from the {} (phase reset, note reset_by_{}) and no FIN; RST: {}; FIN \
             frames [{}]",
            by.as_str(),
            by.as_str(),
            if rsts.is_empty() {
                "none".into()
            } else {
                rsts.iter()
                    .map(|p| describe(p))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
            frames(&fins)
        ),
    );
    let (want_state, want_ending) = match by {
        Role::Client => (ConnState::RSTO, Ending::ResetByClient),
        Role::Server => (ConnState::RSTR, Ending::ResetByServer),
    };
    c.check(
        "verdict",
        s.conn_state == want_state
            && s.ending == want_ending
            && s.first_closer == Some(by)
            && s.client_state == TcpState::Closed
            && s.server_state == TcpState::Closed,
        format!(
            "want conn_state {}, {}, first_closer {}, both CLOSED; got {} ({}), history {}, \
             first_closer {}, client {} server {}",
            want_state.as_str(),
            want_ending.as_str(),
            by.as_str(),
            s.conn_state.as_str(),
            s.ending.as_str(),
            s.history,
            s.first_closer.map_or("none", |r| r.as_str()),
            s.client_state.as_str(),
            s.server_state.as_str()
        ),
    );
}
