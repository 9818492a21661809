use super::*;

#[test]
fn titles_follow_the_naming_rule() {
    for f in &FIELDS {
        assert_eq!(f.title, title_by_rule(f.name), "{}", f.name);
    }
    assert_eq!(field("conn_state").unwrap().title, "Conn state");
    assert_eq!(field("handshake_rtt").unwrap().title, "Handshake RTT");
}

#[test]
fn names_are_unique_and_described() {
    for (i, f) in FIELDS.iter().enumerate() {
        assert!(
            FIELDS[..i].iter().all(|g| g.name != f.name),
            "{} twice",
            f.name
        );
        assert!(!f.description.is_empty(), "{}", f.name);
        assert!(
            !f.values.text.is_empty() || !(f.values.names)().is_empty(),
            "{}",
            f.name
        );
    }
    assert!(
        field("frame").is_none(),
        "frame is Wireshark's frame.number"
    );
}

#[test]
fn one_expert_per_engine_note_in_its_order() {
    let notes: Vec<(Notes, &str)> = EXPERTS.iter().map(|e| (e.note, e.name())).collect();
    assert_eq!(notes, Notes::ALL.to_vec());
    assert_eq!(EXPERTS[0].filter_name(), "tcplife.expert.refused");
}

#[test]
fn step_text_is_steps_display() {
    for (first, last, of) in [
        (1, 1, 3),
        (3, 3, 3),
        (2, 3, 4),
        (4, 4, 4),
        (9, 12, 100),
        (255, 255, 255),
    ] {
        let s = Step { first, last, of };
        let Value::Str(t) = step_value(s) else {
            panic!("{s:?} has a value")
        };
        assert_eq!(t.as_str(), s.to_string());
    }
    assert_eq!(step_value(Step::NONE), Value::Absent);
}

#[test]
fn kinds_match_the_values() {
    let a = Annotation {
        frame: 7,
        conn_id: 3,
        role: tcplife_engine::Role::Server,
        event: Event::SynAck,
        phase: Phase::Handshake,
        step: Step::one(2, 3),
        client_state: TcpState::Established,
        server_state: TcpState::SynReceived,
        conn_state: ConnState::S1,
        history: "Sh".into(),
        handshake_rtt_ns: Some(48_000),
        notes: Notes::default(),
    };
    let got: Vec<String> = FIELDS
        .iter()
        .map(|f| match (f.kind, f.value(&a)) {
            (Kind::U32, Value::Uint(n)) => n.to_string(),
            (Kind::Str, Value::Str(t)) => t.as_str().to_string(),
            (Kind::Duration, Value::DurationNs(ns)) => format!("{ns}ns"),
            (k, v) => panic!("{}: {k:?} field gave {v:?}", f.name),
        })
        .collect();
    assert_eq!(
        got,
        [
            "3",
            "server",
            "SYN-ACK",
            "handshake",
            "2/3",
            "ESTABLISHED",
            "SYN-RECEIVED",
            "S1",
            "Sh",
            "48000ns"
        ]
    );
    let none = Annotation {
        step: Step::NONE,
        handshake_rtt_ns: None,
        ..a
    };
    let absent: Vec<&str> = FIELDS
        .iter()
        .filter(|f| f.value(&none) == Value::Absent)
        .map(|f| f.name)
        .collect();
    assert_eq!(absent, ["step", "handshake_rtt"]);
}

/// `Text::Name` promises text that needs no escaping: check every name the accessors can give.
#[test]
fn engine_names_need_no_escaping() {
    let mut names: Vec<&str> = vec![
        tcplife_engine::Role::Client.as_str(),
        tcplife_engine::Role::Server.as_str(),
    ];
    names.extend(Event::ALL.iter().map(|e| e.as_str()));
    names.extend(Phase::ALL.iter().map(|p| p.as_str()));
    names.extend(TcpState::ALL.iter().map(|s| s.as_str()));
    names.extend(ConnState::ALL.iter().map(|c| c.as_str()));
    assert_eq!(names.len(), 2 + 20 + 5 + 11 + 13);
    for n in names {
        assert!(
            !n.is_empty()
                && n.bytes()
                    .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'),
            "{n:?}"
        );
    }
}

/// Every engine name an accessor gives is at its `index` in the field's `Values::names`, for
/// every variant of every enum (so the plugin's C strings per name are found, not copied).
#[test]
fn name_indexes_point_into_the_names() {
    let base = Annotation {
        frame: 1,
        conn_id: 1,
        role: tcplife_engine::Role::Client,
        event: Event::Syn,
        phase: Phase::Handshake,
        step: Step::NONE,
        client_state: TcpState::SynSent,
        server_state: TcpState::Listen,
        conn_state: ConnState::S0,
        history: "S".into(),
        handshake_rtt_ns: None,
        notes: Notes::default(),
    };
    let mut annotations = Vec::new();
    for role in [tcplife_engine::Role::Client, tcplife_engine::Role::Server] {
        annotations.push(Annotation {
            role,
            ..base.clone()
        });
    }
    for event in Event::ALL {
        annotations.push(Annotation {
            event,
            ..base.clone()
        });
    }
    for phase in Phase::ALL {
        annotations.push(Annotation {
            phase,
            ..base.clone()
        });
    }
    for s in TcpState::ALL {
        annotations.push(Annotation {
            client_state: s,
            server_state: s,
            ..base.clone()
        });
    }
    for conn_state in ConnState::ALL {
        annotations.push(Annotation {
            conn_state,
            ..base.clone()
        });
    }
    let mut checked = 0;
    for a in &annotations {
        for f in &FIELDS {
            if let Value::Str(Text::Name { text, index }) = f.value(a) {
                assert_eq!(
                    (f.values.names)().get(usize::from(index)),
                    Some(&text),
                    "{}",
                    f.name
                );
                checked += 1;
            }
        }
    }
    // 6 name fields on each of the 51 annotations.
    assert_eq!(checked, 6 * annotations.len());
}
