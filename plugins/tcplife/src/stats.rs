//! tshark statistics from the lifecycle engine: `-z tcplife,conns[,FILTER]` prints every
//! connection as `tcplife conns` does (conn_state, history, ending in words, who closed first,
//! both final states, duration, handshake RTT, packets and bytes), `-z tcplife,summary[,FILTER]`
//! the counts `tcplife summary` prints. Both are drawn with the CLI's own writers
//! (`tcplife-report`), from the connections the postdissector's engine followed, so tshark and
//! the CLI print the same lines. With a filter, a connection is listed when at least one of its
//! frames passes it.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use tcplife_engine::ConnSummary;
use tcplife_report::{ConnFormat, ConnWriter, Summary, SummaryFormat};

use crate::lifecycle;

/// The frames a filtered run selected (`None`: no filter, every connection).
struct Selection(Mutex<Option<BTreeSet<u64>>>);

impl Selection {
    fn start(&self, filter: Option<&str>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) =
            filter.filter(|f| !f.is_empty()).map(|_| BTreeSet::new());
    }

    fn packet(&self, frame: u32) {
        if let Some(frames) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            frames.insert(u64::from(frame));
        }
    }

    /// The connections to show, in `tcplife conns` order.
    fn connections(&self) -> Vec<ConnSummary> {
        let (all, frames) = lifecycle::end_of_run();
        let selected = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match selected.as_ref() {
            None => all,
            Some(chosen) => {
                let conns: BTreeSet<u64> = frames
                    .iter()
                    .filter(|(frame, _)| chosen.contains(frame))
                    .map(|&(_, conn)| conn)
                    .collect();
                all.into_iter()
                    .filter(|c| conns.contains(&c.conn_id))
                    .collect()
            }
        }
    }
}

const RULE: &str =
    "===================================================================================================";

struct Conns(Selection);
struct Counts(Selection);

static CONNS: Conns = Conns(Selection(Mutex::new(None)));
static COUNTS: Counts = Counts(Selection(Mutex::new(None)));

impl epan::CliStat for Conns {
    fn start(&self, filter: Option<&str>) {
        self.0.start(filter)
    }
    fn packet(&self, frame: u32) {
        self.0.packet(frame)
    }
    fn draw(&self) {
        let conns = self.0.connections();
        let _ = draw_conns(&mut io::stdout().lock(), &conns);
    }
}

impl epan::CliStat for Counts {
    fn start(&self, filter: Option<&str>) {
        self.0.start(filter)
    }
    fn packet(&self, frame: u32) {
        self.0.packet(frame)
    }
    fn draw(&self) {
        let conns = self.0.connections();
        let _ = draw_summary(&mut io::stdout().lock(), &conns);
    }
}

fn draw_conns(out: &mut impl Write, conns: &[ConnSummary]) -> io::Result<()> {
    writeln!(
        out,
        "\n{RULE}\nTCP Lifecycle: connections ({})\n{RULE}",
        conns.len()
    )?;
    let mut w = ConnWriter::new(&mut *out, ConnFormat::Table, UNIX_EPOCH);
    for c in conns {
        w.write(c)?;
    }
    w.finish(UNIX_EPOCH)?;
    writeln!(out, "{RULE}")?;
    out.flush()
}

fn draw_summary(out: &mut impl Write, conns: &[ConnSummary]) -> io::Result<()> {
    writeln!(out, "\n{RULE}\nTCP Lifecycle: summary\n{RULE}")?;
    let mut s = Summary::new(10);
    s.begin_file("this capture");
    for c in conns {
        s.add(c);
    }
    s.write(out, SummaryFormat::Table)?;
    writeln!(out, "{RULE}")?;
    out.flush()
}

/// Statistics > TCP Lifecycle: connections counted by ending, each connection listed under its
/// ending with its verdict, and counted by conn_state. A connection is counted at its last
/// frame, so with a display filter in the window it counts when its last frame passes. It needs
/// the first pass to be over (endings are known only then): the GUI's window retaps a loaded
/// file, so it is; tshark fills it only with `-2` (`-z tcplife,conns` needs neither).
struct Tree {
    state: Mutex<TreeState>,
}

struct TreeState {
    /// `init` ran: the tree's top nodes exist.
    started: bool,
    /// Each connection by its last frame, once the first pass is over.
    last_frames: Option<std::collections::HashMap<u64, ConnSummary>>,
}

const BY_ENDING: &std::ffi::CStr = c"Connections by ending";
const BY_STATE: &std::ffi::CStr = c"Connections by conn_state (Zeek)";

static TREE: Tree = Tree {
    state: Mutex::new(TreeState {
        started: false,
        last_frames: None,
    }),
};

impl epan::StatsTree for Tree {
    fn init(&self, tree: &mut epan::StatsNodes<'_>) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *st = TreeState {
            started: true,
            last_frames: None,
        };
        tree.create(BY_ENDING, epan::NodeId::ROOT, true);
        tree.create(BY_STATE, epan::NodeId::ROOT, true);
    }

    fn packet(&self, tree: &mut epan::StatsNodes<'_>, frame: u32) {
        // Ending the engine's open connections before the first pass is over would cut them
        // short for the frames still to come.
        if !lifecycle::first_pass_over() {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.started {
            return;
        }
        let last_frames = st.last_frames.get_or_insert_with(|| {
            lifecycle::end_of_run()
                .0
                .into_iter()
                .map(|c| (c.last_frame, c))
                .collect()
        });
        let Some(c) = last_frames.get(&u64::from(frame)) else {
            return;
        };
        // The top nodes count too, so that Percent is of all connections.
        let by_ending = tree.tick(BY_ENDING, epan::NodeId::ROOT, true);
        let by_state = tree.tick(BY_STATE, epan::NodeId::ROOT, true);
        let ending = cstring(c.ending.as_str());
        let node = tree.tick(&ending, by_ending, true);
        tree.tick(&cstring(&verdict(c)), node, false);
        tree.tick(&cstring(c.conn_state.as_str()), by_state, false);
    }
}

/// One connection in words, as a node of the tree: the columns of `tcplife conns`.
fn verdict(c: &ConnSummary) -> String {
    use tcplife_report::Endpoint;
    format!(
        "conn {}: {} -> {}  {} {}  closed first: {}  final: client {}, server {}  rtt {}  pkts {}/{}  bytes {}/{}",
        c.conn_id,
        Endpoint(c.orig_h, c.orig_p),
        Endpoint(c.resp_h, c.resp_p),
        c.conn_state.as_str(),
        if c.history.is_empty() { "-" } else { &c.history },
        c.first_closer.map_or("-", |r| r.as_str()),
        c.client_state.as_str(),
        c.server_state.as_str(),
        c.handshake_rtt_ns
            .map_or_else(|| "-".to_string(), |ns| format!("{:.3} ms", ns as f64 / 1e6)),
        c.orig_pkts,
        c.resp_pkts,
        c.orig_bytes,
        c.resp_bytes,
    )
}

fn cstring(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap_or_default()
}

pub fn register() {
    epan::register_cli_stat(c"tcplife,conns", c"TCP Lifecycle/Connections", &CONNS);
    epan::register_cli_stat(c"tcplife,summary", c"TCP Lifecycle/Summary", &COUNTS);
    epan::register_stats_tree(c"tcplife_endings", c"TCP Lifecycle", &TREE);
}
