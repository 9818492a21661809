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
use tcplife_engine::{Annotation, Config, ConnSummary, Role, Segment, Sink};
use tcplife_report::{ConnWriter, Endpoint, LadderOutput, PacketWriter, Summary};

use args::{Cli, Command, ConnsArgs, LadderArgs, PacketsArgs, SummaryArgs};

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
        verify_checksums: cli.verify_checksums,
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
        let (end, result) = input::drive(path, config, ConnSink(&mut w));
        result?;
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
        let (end, result) = input::drive(path, config, SummarySink(&mut s));
        if let Err(never) = result {
            match never {}
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
    let (end, result) = input::drive(&a.file, config, PacketSink(&mut w));
    result?;
    if end.opened() {
        w.finish()?;
    }
    Ok(end.report())
}

fn ladder(a: LadderArgs, config: Config, out: impl Write) -> Result<bool, Stop> {
    let target = a.conn.unwrap_or(1);
    let mut sink = LadderSink {
        w: LadderOutput::new(out, a.format.into()),
        target,
        seen: 0,
        known: BTreeMap::new(),
        summary: None,
    };
    let (end, result) = input::drive(&a.file, config, &mut sink);
    match result {
        Ok(_) | Err(LadderStop::Found) => {}
        Err(LadderStop::Output(e)) => return Err(e.into()),
    }
    let LadderSink {
        w,
        seen,
        known,
        summary,
        ..
    } = sink;
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

/// `tcplife conns`: each connection as it finishes.
struct ConnSink<'a, W: Write>(&'a mut ConnWriter<W>);

impl<W: Write> Sink for ConnSink<'_, W> {
    type Stop = io::Error;
    const PACKETS: bool = false;
    fn finished(&mut self, c: ConnSummary) -> io::Result<()> {
        self.0.write(&c)
    }
}

/// `tcplife summary`: each connection counted.
struct SummarySink<'a>(&'a mut Summary);

impl Sink for SummarySink<'_> {
    type Stop = std::convert::Infallible;
    const PACKETS: bool = false;
    fn finished(&mut self, c: ConnSummary) -> Result<(), Self::Stop> {
        self.0.add(&c);
        Ok(())
    }
}

/// `tcplife packets`: every packet; summaries are not shown.
struct PacketSink<'a, W: Write>(&'a mut PacketWriter<W>);

impl<W: Write> Sink for PacketSink<'_, W> {
    type Stop = io::Error;
    fn packet(&mut self, seg: &Segment, ann: Annotation) -> io::Result<()> {
        self.0.write(seg, &ann)
    }
    fn finished(&mut self, _: ConnSummary) -> io::Result<()> {
        Ok(())
    }
}

/// `tcplife ladder`: one connection's packets, until its summary is final.
struct LadderSink<W: Write> {
    w: LadderOutput<W>,
    target: u64,
    /// Highest connection id seen.
    seen: u64,
    /// Endpoints of the first few connections, to say which exist when `--conn` names none.
    known: BTreeMap<u64, (Endpoint, Endpoint)>,
    summary: Option<ConnSummary>,
}

enum LadderStop {
    /// The connection's summary is final: the rest of the capture cannot add to the diagram.
    Found,
    Output(io::Error),
}

impl<W: Write> Sink for LadderSink<W> {
    type Stop = LadderStop;
    fn packet(&mut self, seg: &Segment, ann: Annotation) -> Result<(), LadderStop> {
        if ann.conn_id > self.seen {
            self.seen = ann.conn_id;
            if self.known.len() < 10 {
                let (s, d) = (
                    Endpoint(seg.src, seg.src_port),
                    Endpoint(seg.dst, seg.dst_port),
                );
                let pair = if ann.role == Role::Client {
                    (s, d)
                } else {
                    (d, s)
                };
                self.known.insert(ann.conn_id, pair);
            }
        }
        if ann.conn_id == self.target {
            self.w.packet(seg, &ann).map_err(LadderStop::Output)?;
        }
        Ok(())
    }
    fn finished(&mut self, c: ConnSummary) -> Result<(), LadderStop> {
        if c.conn_id != self.target {
            return Ok(());
        }
        self.summary = Some(c);
        Err(LadderStop::Found)
    }
}
