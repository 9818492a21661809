//! `tcplife-gen`: writes a deterministic synthetic TCP capture and, optionally, the fate the
//! generator intended for every connection.

#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use tcplife_gen::{Fate, Format, Options, Truth};

const USAGE: &str = "\
Usage: tcplife-gen [OPTIONS] -o FILE

Writes a synthetic TCP capture, the same bytes for the same options. Frames are Ethernet with
IPv4 or IPv6; IP and TCP checksums are correct; payload bytes are zeros.

Options:
  --connections N     connections to generate [default: 1000]
  --seed S            random seed [default: 1]
  --format F          pcap or pcapng [default: pcap]
  --concurrency K     connections in progress at once [default: 1000]
  --ipv6-percent P    share of IPv6 connections [default: 10]
  --syn-flood N       instead: N SYNs from distinct source ports, never answered
  --flood-rate R      SYNs per second of capture time in the flood [default: 2000]
  --snaplen L         store at most L bytes of each frame, as tcpdump -s [default: 0, all]
  --truth FILE        write the intended verdict of every connection (TSV)
  -o, --output FILE   capture to write ('-' for standard output)
  -q, --quiet         no summary on standard error
  -h, --help          this help
";

struct Args {
    opts: Options,
    format: Format,
    truth: Option<String>,
    output: String,
    quiet: bool,
}

fn parse() -> Result<Args, String> {
    let mut opts = Options::default();
    let mut format = Format::Pcap;
    let mut truth = None;
    let mut output = None;
    let mut quiet = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        fn num(name: &str, v: String) -> Result<u64, String> {
            v.replace('_', "")
                .parse()
                .map_err(|_| format!("{name}: not a number: {v}"))
        }
        match a.as_str() {
            "--connections" => opts.connections = num(&a, value(&a)?)?,
            "--seed" => opts.seed = num(&a, value(&a)?)?,
            "--concurrency" => opts.concurrency = num(&a, value(&a)?)? as usize,
            "--ipv6-percent" => opts.ipv6_percent = num(&a, value(&a)?)?.min(100),
            "--syn-flood" => opts.syn_flood = Some(num(&a, value(&a)?)?),
            "--flood-rate" => opts.flood_rate = num(&a, value(&a)?)?.max(1),
            "--snaplen" => opts.snaplen = num(&a, value(&a)?)? as usize,
            "--format" => {
                format = match value(&a)?.as_str() {
                    "pcap" => Format::Pcap,
                    "pcapng" => Format::PcapNg,
                    other => return Err(format!("--format: pcap or pcapng, not {other}")),
                }
            }
            "--truth" => truth = Some(value(&a)?),
            "-o" | "--output" => output = Some(value(&a)?),
            "-q" | "--quiet" => quiet = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if opts.snaplen != 0 && opts.snaplen < 128 {
        return Err("--snaplen: at least 128, so that every header is stored".into());
    }
    let output = output.ok_or("-o FILE is required")?;
    Ok(Args {
        opts,
        format,
        truth,
        output,
        quiet,
    })
}

fn run(args: Args) -> io::Result<()> {
    let out: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(&args.output)?)
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    let mut truth_out = match &args.truth {
        Some(p) => {
            let mut w = BufWriter::new(File::create(p)?);
            writeln!(w, "{}", Truth::TSV_HEADER)?;
            Some(w)
        }
        None => None,
    };
    let mut truth_err = None;
    let stats = tcplife_gen::write_capture(args.opts, args.format, out, |t| {
        if let Some(w) = truth_out.as_mut() {
            if let Err(e) = writeln!(w, "{}", t.tsv()) {
                truth_err.get_or_insert(e);
            }
        }
    })?;
    if let Some(e) = truth_err {
        return Err(e);
    }
    if let Some(mut w) = truth_out {
        w.flush()?;
    }
    if !args.quiet {
        let secs = (stats.last_ns - stats.first_ns) as f64 / 1e9;
        eprintln!(
            "tcplife-gen: {} packets, {} connections, {} bytes, {:.1} s of capture time",
            stats.packets, stats.connections, stats.bytes, secs
        );
        eprintln!("fate\tconn_state\tconnections");
        for (fate, n) in Fate::ALL.iter().zip(stats.fates) {
            if n > 0 {
                eprintln!("{}\t{}\t{}", fate.name(), fate.conn_state(), n);
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tcplife-gen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcplife-gen: {e}");
            ExitCode::from(1)
        }
    }
}
