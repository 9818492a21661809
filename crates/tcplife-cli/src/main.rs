//! `tcplife`: where every TCP connection in a capture stands in its life, from the command line.

#![forbid(unsafe_code)]

mod args;
mod input;
mod progress;

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Parser;
use tcplife_engine::{Config, ConnSummary, Role, Tracker};
use tcplife_report::{ConnWriter, Endpoint, LadderOutput, PacketWriter, Summary};

use args::{Cli, Command, ConnsArgs, LadderArgs, PacketsArgs, SummaryArgs};
use input::Flow;

/// Exit status for bad input (unreadable, not a capture, corrupt, unsupported link type, no such
/// connection) and for output errors other than a closed pipe. Usage errors exit 2 too (clap).
const EXIT_FAILURE: u8 = 2;

/// How a run ended, apart from input problems already reported on stderr.
enum Stop {
    /// Standard output was closed (`| head`): stop quietly.
    BrokenPipe,
    /// Any other write error.
    Output(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::BrokenPipe
        } else {
            Stop::Output(e)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = Config {
        idle_timeout_ns: cli.idle_timeout_ns,
        attempt_timeout_ns: cli.attempt_timeout_ns,
        ..Config::default()
    };
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    // One lock and a large buffer: the packet formats write millions of lines.
    let out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        Command::Conns(a) => conns(a, config, tty, out),
        Command::Packets(a) => packets(a, config, tty, out),
        Command::Ladder(a) => ladder(a, config, out),
        Command::Summary(a) => summary(a, config, out),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILURE),
        Err(Stop::BrokenPipe) => ExitCode::SUCCESS,
        Err(Stop::Output(e)) => {
            eprintln!("tcplife: cannot write output: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `Ok(true)` when every input was read without error.
fn conns(a: ConnsArgs, config: Config, tty: bool, out: impl Write) -> Result<bool, Stop> {
    let format = a.format.unwrap_or(if tty {
        args::ConnFormatArg::Table
    } else {
        args::ConnFormatArg::Zeek
    });
    let mut w = ConnWriter::new(out, format.into(), SystemTime::now());
    let several = a.files.len() > 1;
    let mut ends = Vec::with_capacity(a.files.len());
    for path in &a.files {
        if several {
            w.begin_file(&input::display_name(path))?;
        }
        let mut tracker = Tracker::new(config);
        let end = input::drive(path, &mut tracker, |_, _, tracker| {
            for c in tracker.take_finished() {
                w.write(&c)?;
            }
            Ok(Flow::Continue)
        })?;
        for c in tracker.finish() {
            w.write(&c)?;
        }
        ends.push(end);
    }
    // With no readable input there is nothing to show, not even an empty log.
    if ends.iter().any(|e| e.opened()) {
        w.finish(SystemTime::now())?;
    }
    // Results first, then what went wrong with them, so a terminal shows them in that order.
    // Every input's report is printed, so no short-circuit here.
    let failures = ends.iter().filter(|end| !end.report()).count();
    Ok(failures == 0)
}

/// The same connections as `conns`, counted instead of listed.
fn summary(a: SummaryArgs, config: Config, mut out: impl Write) -> Result<bool, Stop> {
    let mut s = Summary::new(a.top);
    let mut ends = Vec::with_capacity(a.files.len());
    for path in &a.files {
        s.begin_file(&input::display_name(path));
        let mut tracker = Tracker::new(config);
        let end = input::drive(path, &mut tracker, |_, _, tracker| {
            for c in tracker.take_finished() {
                s.add(&c);
            }
            Ok(Flow::Continue)
        })?;
        for c in tracker.finish() {
            s.add(&c);
        }
        if !end.opened() {
            s.forget_file();
        }
        ends.push(end);
    }
    if ends.iter().any(|e| e.opened()) {
        s.write(&mut out, a.format.into())?;
    }
    let failures = ends.iter().filter(|end| !end.report()).count();
    Ok(failures == 0)
}

fn packets(a: PacketsArgs, config: Config, tty: bool, out: impl Write) -> Result<bool, Stop> {
    let format = a.format.unwrap_or(if tty {
        args::PacketFormatArg::Table
    } else {
        args::PacketFormatArg::Tsv
    });
    let mut w = PacketWriter::new(out, format.into());
    let mut tracker = Tracker::new(config);
    let end = input::drive(&a.file, &mut tracker, |seg, ann, tracker| {
        w.write(seg, ann)?;
        // Summaries are not shown here, but must be drained to keep memory bounded.
        tracker.take_finished().for_each(drop);
        Ok(Flow::Continue)
    })?;
    drop(tracker.finish());
    if end.opened() {
        w.finish()?;
    }
    Ok(end.report())
}

fn ladder(a: LadderArgs, config: Config, out: impl Write) -> Result<bool, Stop> {
    let target = a.conn.unwrap_or(1);
    let mut w = LadderOutput::new(out, a.format.into());
    let mut tracker = Tracker::new(config);
    let mut seen = 0u64;
    let mut summary: Option<ConnSummary> = None;
    // Endpoints of the first few connections, to say which exist when `--conn` names none.
    let mut known: BTreeMap<u64, (Endpoint, Endpoint)> = BTreeMap::new();
    let end = input::drive(&a.file, &mut tracker, |seg, ann, tracker| {
        if ann.conn_id > seen {
            seen = ann.conn_id;
            if known.len() < 10 {
                let (s, d) = (
                    Endpoint(seg.src, seg.src_port),
                    Endpoint(seg.dst, seg.dst_port),
                );
                let pair = if ann.role == Role::Client {
                    (s, d)
                } else {
                    (d, s)
                };
                known.insert(ann.conn_id, pair);
            }
        }
        if ann.conn_id == target {
            w.packet(seg, ann)?;
        }
        if let Some(c) = tracker.take_finished().find(|c| c.conn_id == target) {
            summary = Some(c);
            // Its summary is final: the rest of the capture cannot add to the diagram.
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    })?;
    if summary.is_none() {
        summary = tracker.finish().into_iter().find(|c| c.conn_id == target);
    }
    let found = summary.is_some();
    w.finish(summary.as_ref())?;
    let ok = end.report();
    if !found && ok {
        let name = input::display_name(&a.file);
        if seen == 0 {
            eprintln!("tcplife: {name}: no TCP connection in this capture");
        } else {
            let mut msg = format!(
                "tcplife: {name}: no connection {target}; connections are numbered 1 to {seen}"
            );
            for (id, (c, s)) in &known {
                msg.push_str(&format!("\n  {id:>4}  {c} -> {s}"));
            }
            if seen > known.len() as u64 {
                msg.push_str("\n  ...");
            }
            eprintln!("{msg}");
        }
        return Ok(false);
    }
    Ok(ok && found)
}
