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

/// Statistics > TCP Lifecycle Connections (and `tshark -2 -z tcplife,table[,FILTER]`): one row
/// per connection with the verdict columns of `tcplife conns`, each its own column so that the
/// window sorts by it. A connection is listed at its first frame that passes the window's
/// display filter (every connection without one). Like the tree, it needs the first pass over
/// the file to be over (the GUI's window retaps a loaded file; tshark needs `-2`).
struct ConnTable {
    state: Mutex<Option<TableState>>,
}

struct TableState {
    /// Each connection by id.
    conns: std::collections::HashMap<u64, ConnSummary>,
    /// The connection of each frame that belongs to one.
    conn_of_frame: std::collections::HashMap<u64, u64>,
    /// Connections already given their row.
    listed: std::collections::HashSet<u64>,
}

static CONN_TABLE: ConnTable = ConnTable {
    state: Mutex::new(None),
};

const TABLE_COLUMNS: &[epan::Column] = &[
    epan::Column::uint(c"conn"),
    epan::Column::text(c"client"),
    epan::Column::text(c"server"),
    epan::Column::text(c"conn_state"),
    epan::Column::text(c"history"),
    epan::Column::text(c"ending"),
    epan::Column::text(c"closed first"),
    epan::Column::text(c"client end"),
    epan::Column::text(c"server end"),
    epan::Column::float(c"duration(s)", c"%.6f"),
    epan::Column::uint(c"pkts c"),
    epan::Column::uint(c"pkts s"),
    epan::Column::uint(c"bytes c"),
    epan::Column::uint(c"bytes s"),
    // Last: a connection without a handshake RTT has an empty cell, where tshark's printer
    // stops the row.
    epan::Column::float(c"rtt(ms)", c"%.3f"),
];

impl ConnTable {
    fn start(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The connection of `frame` when this is the first of its frames the table sees.
    fn newly_seen(&self, frame: u32) -> Option<ConnSummary> {
        // As for the tree: ending the open connections before the first pass is over would cut
        // them short for the frames still to come.
        if !lifecycle::first_pass_over() {
            return None;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = st.get_or_insert_with(|| {
            let (all, frames) = lifecycle::end_of_run();
            TableState {
                conns: all.into_iter().map(|c| (c.conn_id, c)).collect(),
                conn_of_frame: frames.into_iter().collect(),
                listed: Default::default(),
            }
        });
        let id = *st.conn_of_frame.get(&u64::from(frame))?;
        let c = st.conns.get(&id)?.clone();
        st.listed.insert(id).then_some(c)
    }
}

impl epan::TableStat for ConnTable {
    fn start(&self) {
        ConnTable::start(self)
    }

    fn packet(&self, rows: &mut epan::TableRows<'_>, frame: u32) {
        if let Some(c) = self.newly_seen(frame) {
            let _ = push_row(rows, &c);
        }
    }
}

/// Statistics > Service Response Time > TCPLife (and `tshark -2 -z tcplife,srt[,FILTER]`): the
/// same connections, in the one window Wireshark 4.0 gives per-row filters: Index is the
/// connection number, so a row's Apply as Filter gives `tcplife.conn==N`; the label column holds
/// the verdict in words (sorting by it sorts by ending, then conn_state and history); each
/// connection is one call whose time is the connection's duration.
struct ConnFilters(ConnTable);

static CONN_FILTERS: ConnFilters = ConnFilters(ConnTable {
    state: Mutex::new(None),
});

impl epan::ResponseTable for ConnFilters {
    fn start(&self) {
        self.0.start()
    }

    fn packet(&self, rows: &mut epan::ResponseRows<'_>, frame: u32) {
        let Some(c) = self.0.newly_seen(frame) else {
            return;
        };
        let Ok(index) = u32::try_from(c.conn_id) else {
            return;
        };
        let _ = rows.add(
            index,
            &verdict_words(&c),
            std::time::Duration::from_nanos(c.duration_ns),
        );
    }
}

/// A connection's verdict in words, ending first, for the response table's label column.
fn verdict_words(c: &ConnSummary) -> String {
    use tcplife_report::Endpoint;
    format!(
        "{}: {} {}, closed first: {}, final: client {}, server {}; {} -> {}; rtt {}; pkts {}/{}; bytes {}/{}",
        c.ending.as_str(),
        c.conn_state.as_str(),
        if c.history.is_empty() { "-" } else { &c.history },
        c.first_closer.map_or("-", |r| r.as_str()),
        c.client_state.as_str(),
        c.server_state.as_str(),
        Endpoint(c.orig_h, c.orig_p),
        Endpoint(c.resp_h, c.resp_p),
        c.handshake_rtt_ns
            .map_or_else(|| "-".to_string(), |ns| format!("{:.3} ms", ns as f64 / 1e6)),
        c.orig_pkts,
        c.resp_pkts,
        c.orig_bytes,
        c.resp_bytes,
    )
}

/// Numbers the dialog's 32-bit cells cannot hold are shown as the largest they can. Wireshark
/// 4.0's dialog shows a float cell with six decimals whatever its format, so counts stay
/// integers: only a direction with more than 4 GiB shows 4294967295.
fn u32_cell(n: u64) -> epan::Cell<'static> {
    epan::Cell::Uint(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Pushes `c`'s row: the values `tcplife conns` prints, one per column.
fn push_row(rows: &mut epan::TableRows<'_>, c: &ConnSummary) -> Result<(), epan::TableError> {
    use epan::Cell;
    use tcplife_report::Endpoint;
    let client = Endpoint(c.orig_h, c.orig_p).to_string();
    let server = Endpoint(c.resp_h, c.resp_p).to_string();
    rows.push(&[
        u32_cell(c.conn_id),
        Cell::Text(&client),
        Cell::Text(&server),
        Cell::Text(c.conn_state.as_str()),
        Cell::Text(&c.history),
        Cell::Text(c.ending.as_str()),
        Cell::Text(c.first_closer.map_or("-", |r| r.as_str())),
        Cell::Text(c.client_state.as_str()),
        Cell::Text(c.server_state.as_str()),
        Cell::Float(c.duration_ns as f64 / 1e9),
        u32_cell(c.orig_pkts),
        u32_cell(c.resp_pkts),
        u32_cell(c.orig_bytes),
        u32_cell(c.resp_bytes),
        c.handshake_rtt_ns
            .map_or(Cell::Empty, |ns| Cell::Float(ns as f64 / 1e6)),
    ])
}

pub fn register() {
    epan::register_cli_stat(c"tcplife,conns", c"TCP Lifecycle/Connections", &CONNS);
    epan::register_cli_stat(c"tcplife,summary", c"TCP Lifecycle/Summary", &COUNTS);
    epan::register_stats_tree(c"tcplife_endings", c"TCP Lifecycle", &TREE);
    let _ = epan::register_table_stat(
        c"tcplife,table",
        c"TCP Lifecycle Connections",
        c"Connections",
        TABLE_COLUMNS,
        &CONN_TABLE,
    );
    let _ = epan::register_response_table(
        c"tcplife",
        c"TCP Lifecycle: connections (Index: tcplife.conn; SRT: the connection's duration)",
        c"Verdict",
        c"tcplife.conn",
        &CONN_FILTERS,
    );
}
