//! `tcplife-harness`: runs the classic Hello-Client exchange (and its variations) for real over
//! the kernel's TCP on 127.0.0.1, captures it with dumpcap, analyses each capture with the
//! tcplife engine and checks the lifecycle facts each scenario must show.

mod analysis;
mod capture;
mod checks;
mod render;
mod scenario;
mod tshark;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use tcplife_engine::Role;

use crate::capture::Dumpcap;
use crate::checks::{Check, Overrides};
use crate::scenario::Scenario;

const DEFAULT_PORT: u16 = 42181;

#[derive(Parser, Debug)]
#[command(
    name = "tcplife-harness",
    version,
    about = "Run the Hello-Client exchange for real on loopback, capture it with dumpcap and \
             check tcplife's lifecycle verdicts",
    after_help = "Scenarios: server-closes, client-closes, refused, reset, server-reset, \
                  half-close, concurrent (or all).\nCapturing needs root or a dumpcap with \
                  cap_net_raw,cap_net_admin. Exit status: 0 every check held, 1 a check \
                  failed, 2 the harness could not run."
)]
struct Args {
    /// Scenario to run: a name, several separated by commas, or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Directory for the captures (NAME.pcapng) and the engine's outputs.
    #[arg(long)]
    out: PathBuf,
    /// Server port on 127.0.0.1; 0 picks a free one (below the ephemeral range).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// When the port is busy, use the next free port above it instead of failing.
    #[arg(long)]
    next_free_port: bool,
    /// Clients in the concurrent scenario.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// Also run tshark with this tcplife plugin (.so) on each capture, as an unprivileged user,
    /// and check that its tcplife.* fields equal the engine's. The Hello Demo plugin
    /// (libhellodemo.so) is taken from the same folder.
    #[arg(long, value_name = "PLUGIN_SO")]
    with_tshark: Option<PathBuf>,
    /// Run no scenario: re-analyse the captures already in --out (NAME.pcapng), rewrite the
    /// engine's outputs next to them and check the lifecycle facts again (the application-level
    /// checks need a live run and are left out). Regenerates tests/samples/ after an engine
    /// change.
    #[arg(long)]
    reanalyse: bool,
    /// Print no ladders or tables, and of the checks only the failed ones.
    #[arg(long)]
    quiet: bool,
    /// Print the ladders, tables and tshark view only for these scenarios (comma-separated).
    #[arg(long, value_name = "NAMES")]
    show: Option<String>,
    /// For the harness's own tests: expect this side to close (or abort) first in every
    /// scenario, to prove a wrong expectation is reported.
    #[arg(long, hide = true, value_enum)]
    expect_first_closer: Option<Side>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Side {
    Client,
    Server,
}

/// However long a run may take at most: each scenario is done in a few seconds, and every
/// socket call and wait has its own timeout well below this.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// Ends the process (and the capture) on SIGINT/SIGTERM/SIGHUP, and when the run overstays its
/// limit: dumpcap must never outlive the harness.
fn guard(limit: Duration) {
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ]) {
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                capture::kill_running();
                eprintln!("tcplife-harness: interrupted (signal {sig}); capture stopped");
                std::process::exit(128 + sig);
            }
        });
    }
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        capture::kill_running();
        eprintln!("tcplife-harness: error: the run took longer than {limit:?}; capture stopped");
        std::process::exit(2);
    });
}

fn main() -> ExitCode {
    let args = Args::parse();
    let scenarios = parse_scenarios(&args.scenario).map_or(1, |s| s.len()) as u32;
    guard(SCENARIO_LIMIT * scenarios);
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tcplife-harness: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_scenarios(spec: &str) -> Result<Vec<Scenario>, String> {
    if spec == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    spec.split(',')
        .map(|name| {
            Scenario::from_name(name.trim()).ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown scenario {name:?}; known: {}, or all",
                    names.join(", ")
                )
            })
        })
        .collect()
}

/// Whether a server could listen on the port right now (a previous scenario's TIME-WAIT
/// sockets do not count, another program's listener does).
fn port_free(port: u16) -> bool {
    scenario::listen(port).is_ok()
}

fn choose_port(args: &Args) -> Result<u16, String> {
    if args.port == 0 {
        // Below Linux's ephemeral range (32768-60999), so no client socket of this or a parallel
        // run can be handed the port while the refused scenario leaves it unbound; the start
        // varies so parallel runs (the tests) rarely even probe the same ports.
        let seed = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::from(d.subsec_nanos()));
        let start = 10_000 + (seed % 20_000) as u16;
        return (start..32_000)
            .chain(10_000..start)
            .find(|p| port_free(*p))
            .ok_or_else(|| "no free port between 10000 and 32000".to_string());
    }
    if port_free(args.port) {
        return Ok(args.port);
    }
    if args.next_free_port {
        if let Some(p) = (args.port.saturating_add(1)..=u16::MAX)
            .take(1000)
            .find(|p| port_free(*p))
        {
            println!("port {} is busy; using the next free port, {p}", args.port);
            return Ok(p);
        }
    }
    Err(format!(
        "port {} on 127.0.0.1 is busy: another program listens there. Stop it, choose another \
         port with --port N, let the harness pick a free one with --port 0, or pass --next-free-port",
        args.port
    ))
}

struct Outcome {
    scenario: Scenario,
    checks: Vec<Check>,
    capture: PathBuf,
    seconds: f64,
}

fn run(args: &Args) -> Result<bool, String> {
    let scenarios = parse_scenarios(&args.scenario)?;
    let port = if args.reanalyse {
        0
    } else {
        if capture::dumpcap_path().is_none() {
            return Err(capture::CaptureFailure::NotInstalled.to_string());
        }
        fs::create_dir_all(&args.out)
            .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
        choose_port(args)?
    };
    let tshark = match &args.with_tshark {
        Some(so) => Some(tshark::Tshark::prepare(so)?),
        None => None,
    };
    let overrides = Overrides {
        first_closer: args.expect_first_closer.map(|s| match s {
            Side::Client => Role::Client,
            Side::Server => Role::Server,
        }),
    };
    let shown = match &args.show {
        Some(spec) => parse_scenarios(spec)?,
        None if args.quiet => Vec::new(),
        None => Scenario::ALL.to_vec(),
    };
    let mut outcomes = Vec::new();
    for sc in scenarios {
        let show = shown.contains(&sc);
        outcomes.push(run_scenario(
            args,
            sc,
            port,
            tshark.as_ref(),
            overrides,
            show,
        )?);
    }

    println!(
        "\n== summary ({}, captures in {})",
        if args.reanalyse {
            "re-analysis of earlier captures".to_string()
        } else {
            format!("port {port}")
        },
        args.out.display()
    );
    let mut rows = vec![vec![
        "scenario".to_string(),
        "result".into(),
        "checks".into(),
        "time".into(),
        "capture".into(),
    ]];
    let mut all_ok = true;
    for o in &outcomes {
        let failed = o.checks.iter().filter(|c| !c.ok).count();
        all_ok &= failed == 0;
        rows.push(vec![
            o.scenario.name().into(),
            if failed == 0 { "PASS" } else { "FAIL" }.into(),
            format!("{}/{} held", o.checks.len() - failed, o.checks.len()),
            format!("{:.1}s", o.seconds),
            o.capture.display().to_string(),
        ]);
    }
    print!("{}", render::aligned(&rows));
    println!(
        "{}",
        if all_ok {
            "every check held"
        } else {
            "SOME CHECKS FAILED (see FAIL lines above)"
        }
    );
    Ok(all_ok)
}

fn run_scenario(
    args: &Args,
    sc: Scenario,
    port: u16,
    tshark: Option<&tshark::Tshark>,
    overrides: Overrides,
    show: bool,
) -> Result<Outcome, String> {
    let started = Instant::now();
    println!("\n== scenario {}: {}", sc.name(), sc.story(args.clients));
    let file = args.out.join(format!("{}.pcapng", sc.name()));
    if args.reanalyse {
        if !file.is_file() {
            return Err(format!("--reanalyse: no capture {}", file.display()));
        }
        let checks = analyse_and_check(args, sc, &file, None, tshark, overrides, show, Vec::new());
        return Ok(Outcome {
            scenario: sc,
            checks,
            capture: file,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    if !port_free(port) {
        return Err(format!(
            "port {port} became busy before scenario {}: another program listens there",
            sc.name()
        ));
    }
    let cap = Dumpcap::start(&file, port).map_err(|e| e.to_string())?;
    let run = scenario::run(sc, port, args.clients);
    // Let the last ACKs of the teardown leave before the capture is closed.
    std::thread::sleep(Duration::from_millis(100));
    let stopped = cap.stop();
    // Unprivileged users (Wireshark in a desktop session, tshark with a plugin) must be able to
    // open the captures that dumpcap, running as root, created 0600.
    set_readable(&file);
    let (ok, detail) = match stopped {
        Ok(stats) => (
            true,
            format!(
                "{} packets captured, {} dropped, in {}",
                stats.captured,
                stats.dropped,
                file.display()
            ),
        ),
        Err(e) => (false, e.to_string()),
    };
    let checks = vec![Check {
        scope: "scenario".into(),
        name: "capture complete",
        ok,
        detail,
    }];
    let checks = analyse_and_check(args, sc, &file, Some(run), tshark, overrides, show, checks);
    Ok(Outcome {
        scenario: sc,
        checks,
        capture: file,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Analyses a capture, writes the engine's outputs beside it, prints the views and checks the
/// facts; `run` is what the live scenario saw, or `None` for a capture made earlier.
#[allow(clippy::too_many_arguments)]
fn analyse_and_check(
    args: &Args,
    sc: Scenario,
    file: &Path,
    run: Option<scenario::Run>,
    tshark: Option<&tshark::Tshark>,
    overrides: Overrides,
    show: bool,
    mut checks: Vec<Check>,
) -> Vec<Check> {
    match analysis::analyse(file) {
        Err(e) => checks.push(Check {
            scope: "scenario".into(),
            name: "engine",
            ok: false,
            detail: e,
        }),
        Ok(an) => {
            write_outputs(&args.out, sc, &an);
            if show {
                print_views(sc, &an);
            }
            let run = run.unwrap_or_else(|| scenario::Run::from_capture(&an));
            checks.extend(checks::check_run(&run, &an, sc.ending(), overrides));
            if let Some(ts) = tshark {
                checks.extend(ts.check(file, &an, show, run.port));
            }
        }
    }
    print_checks(&checks, args.quiet);
    checks
}

fn set_readable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(file, fs::Permissions::from_mode(0o644));
}

fn write_outputs(out: &Path, sc: Scenario, an: &analysis::Analysis) {
    let _ = fs::write(
        out.join(format!("{}.packets.tsv", sc.name())),
        render::packets_tsv(an),
    );
    let _ = fs::write(
        out.join(format!("{}.conns.zeek", sc.name())),
        render::conns_zeek(an),
    );
}

fn print_views(sc: Scenario, an: &analysis::Analysis) {
    println!(
        "capture: {} frames, {} TCP segments; {} (the harness's UDP capture probes)",
        an.frames,
        an.packets.len(),
        an.skipped
    );
    let many = an.summaries.len() > 3;
    let shown: Vec<u64> = if many {
        render::first_conn(an).into_iter().collect()
    } else {
        an.summaries.keys().copied().collect()
    };
    for conn in &shown {
        println!("\nladder, conn {conn}:");
        print!("{}", render::ladder(an, *conn));
    }
    if many {
        println!(
            "\n(ladder of conn {} only; {} connections in {}.packets.tsv)",
            shown.first().copied().unwrap_or(0),
            an.summaries.len(),
            sc.name()
        );
    } else {
        println!("\nper-packet phases and states:");
        print!("{}", render::packet_table(an, None));
    }
    println!("\nconnections:");
    print!("{}", render::conn_table(an));
}

fn print_checks(checks: &[Check], quiet: bool) {
    let failed = checks.iter().filter(|c| !c.ok).count();
    if quiet {
        // Only what went wrong, each failure with its connection and frames.
        println!("{} of {} checks held", checks.len() - failed, checks.len());
        for c in checks.iter().filter(|c| !c.ok) {
            println!("  FAIL [{}] {}: {}", c.scope, c.name, c.detail);
        }
        return;
    }
    println!("\nchecks:");
    let conns: std::collections::BTreeSet<&str> = checks
        .iter()
        .filter(|c| c.scope != "scenario")
        .map(|c| c.scope.as_str())
        .collect();
    // With many connections, passing checks are summarised by name; failures are always shown
    // one by one, with their connection and frames.
    let summarise = conns.len() > 3;
    let mut summarised: Vec<(&str, usize)> = Vec::new();
    for c in checks {
        if c.ok && summarise && c.scope != "scenario" {
            match summarised.iter_mut().find(|(n, _)| *n == c.name) {
                Some((_, k)) => *k += 1,
                None => summarised.push((c.name, 1)),
            }
            continue;
        }
        println!(
            "  {:<4} [{}] {}: {}",
            if c.ok { "ok" } else { "FAIL" },
            c.scope,
            c.name,
            c.detail
        );
    }
    for (name, k) in summarised {
        println!("  ok   [{k} connections] {name}");
    }
}
