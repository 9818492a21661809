//! Runs the harness for real: real sockets on loopback, real dumpcap, the real engine. CI runs
//! as root, so it can capture; without dumpcap these tests fail (install it with
//! `scripts/setup-debian.sh`) rather than pass without having checked anything.
//!
//! Besides the harness's own verdict (its exit status), each test reads the files the harness
//! wrote (NAME.conns.zeek, NAME.packets.tsv) and asserts the scenario's lifecycle facts again,
//! independently of the harness's checking code.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HARNESS: &str = env!("CARGO_BIN_EXE_tcplife-harness");

/// A test's output folder, removed when the test passes and kept for inspection when it fails.
struct OutDir(PathBuf);

impl std::ops::Deref for OutDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for OutDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for OutDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

fn out_dir(name: &str) -> OutDir {
    let dir = std::env::temp_dir().join(format!(
        "tcplife-harness-test-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    OutDir(dir)
}

fn harness(args: &[&str]) -> Output {
    Command::new(HARNESS).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn require_dumpcap() {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("dumpcap").is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "dumpcap is not installed: run scripts/setup-debian.sh (these tests capture real traffic)"
    );
}

/// Runs one scenario on a free port and returns its output directory, failing with the whole
/// harness output when any check failed.
fn run_scenario(name: &str) -> OutDir {
    require_dumpcap();
    let dir = out_dir(name);
    let out = harness(&[
        "--scenario",
        name,
        "--port",
        "0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("every check held"), "{}", text(&out));
    assert!(!stdout.contains("FAIL"), "{}", text(&out));
    assert!(dir.join(format!("{name}.pcapng")).is_file());
    dir
}

/// The Zeek conn.log the harness wrote, one map per connection.
fn conns(dir: &Path, name: &str) -> Vec<HashMap<String, String>> {
    let log = fs::read_to_string(dir.join(format!("{name}.conns.zeek"))).unwrap();
    let fields: Vec<String> = log
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .expect("#fields line")
        .split('\t')
        .map(str::to_string)
        .collect();
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            fields
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// The per-packet TSV the harness wrote, one map per packet.
fn packets(dir: &Path, name: &str) -> Vec<HashMap<String, String>> {
    let tsv = fs::read_to_string(dir.join(format!("{name}.packets.tsv"))).unwrap();
    let mut lines = tsv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a HashMap<String, String>, key: &str) -> &'a str {
    row.get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {key} in {row:?}"))
}

/// The facts of a connection closed with FINs from both sides.
fn assert_closed(c: &HashMap<String, String>, closer: &str) {
    assert_eq!(get(c, "conn_state"), "SF", "{c:?}");
    assert_eq!(get(c, "tcplife_ending"), "closed normally", "{c:?}");
    assert_eq!(get(c, "tcplife_first_closer"), closer, "{c:?}");
    let (client, server) = if closer == "server" {
        ("CLOSED", "TIME-WAIT")
    } else {
        ("TIME-WAIT", "CLOSED")
    };
    assert_eq!(get(c, "tcplife_client_state"), client, "{c:?}");
    assert_eq!(get(c, "tcplife_server_state"), server, "{c:?}");
    let history = get(c, "history");
    assert!(history.starts_with("ShA"), "{c:?}");
    assert!(history.contains('F') && history.contains('f'), "{c:?}");
    assert!(!history.contains('R') && !history.contains('r'), "{c:?}");
}

/// The first three packets of a connection are the handshake, in three steps.
fn assert_handshake(pkts: &[&HashMap<String, String>]) {
    let want = [
        ("client", "SYN", "1/3"),
        ("server", "SYN-ACK", "2/3"),
        ("client", "handshake ACK", "3/3"),
    ];
    for (p, (role, event, step)) in pkts.iter().zip(want) {
        assert_eq!(get(p, "role"), role, "{p:?}");
        assert_eq!(get(p, "event"), event, "{p:?}");
        assert_eq!(get(p, "phase"), "handshake", "{p:?}");
        assert_eq!(get(p, "step"), step, "{p:?}");
    }
    assert_eq!(get(pkts[2], "client_state"), "ESTABLISHED");
    assert_eq!(get(pkts[2], "server_state"), "ESTABLISHED");
}

fn conn_packets<'a>(
    all: &'a [HashMap<String, String>],
    conn: &str,
) -> Vec<&'a HashMap<String, String>> {
    all.iter().filter(|p| get(p, "conn") == conn).collect()
}

#[test]
fn server_closes() {
    let dir = run_scenario("server-closes");
    let cs = conns(&dir, "server-closes");
    assert_eq!(cs.len(), 1);
    assert_closed(&cs[0], "server");
    assert_eq!(get(&cs[0], "resp_bytes"), "12");
    let all = packets(&dir, "server-closes");
    let pkts = conn_packets(&all, "1");
    assert_handshake(&pkts);
    // The greeting travels in the data-transfer phase, before anybody closes.
    let greeting = pkts.iter().find(|p| get(p, "event") == "data").unwrap();
    assert_eq!(get(greeting, "role"), "server");
    assert_eq!(get(greeting, "phase"), "data transfer");
    let fin = pkts.iter().find(|p| get(p, "phase") == "teardown").unwrap();
    assert_eq!(
        (get(fin, "role"), get(fin, "event"), get(fin, "step")),
        ("server", "FIN", "1/4")
    );
    let last = pkts.last().unwrap();
    assert_eq!(get(last, "step"), "4/4");
    assert_eq!(get(last, "client_state"), "CLOSED");
    assert_eq!(get(last, "server_state"), "TIME-WAIT");
}

#[test]
fn client_closes() {
    let dir = run_scenario("client-closes");
    let cs = conns(&dir, "client-closes");
    assert_eq!(cs.len(), 1);
    assert_closed(&cs[0], "client");
    let all = packets(&dir, "client-closes");
    let pkts = conn_packets(&all, "1");
    assert_handshake(&pkts);
    let fin = pkts.iter().find(|p| get(p, "phase") == "teardown").unwrap();
    assert_eq!((get(fin, "role"), get(fin, "step")), ("client", "1/4"));
    assert_eq!(get(fin, "client_state"), "FIN-WAIT-1");
    // The server closes only after the client's FIN (on EOF): its own FIN leaves it in
    // LAST-ACK, the passive closer's state.
    let server_fin = pkts
        .iter()
        .find(|p| get(p, "role") == "server" && get(p, "event") == "FIN")
        .unwrap();
    assert_eq!(get(server_fin, "server_state"), "LAST-ACK");
}

#[test]
fn refused() {
    let dir = run_scenario("refused");
    let cs = conns(&dir, "refused");
    assert_eq!(cs.len(), 1);
    let c = &cs[0];
    assert_eq!(get(c, "conn_state"), "REJ", "{c:?}");
    assert_eq!(get(c, "history"), "Sr", "{c:?}");
    assert_eq!(get(c, "tcplife_ending"), "refused", "{c:?}");
    let pkts = packets(&dir, "refused");
    assert_eq!(pkts.len(), 2, "{pkts:?}");
    assert_eq!(
        (get(&pkts[0], "role"), get(&pkts[0], "event")),
        ("client", "SYN")
    );
    assert_eq!(
        (get(&pkts[1], "role"), get(&pkts[1], "event")),
        ("server", "RST")
    );
    assert_eq!(get(&pkts[1], "phase"), "reset");
}

fn assert_reset(name: &str, by: &str, conn_state: &str) {
    let dir = run_scenario(name);
    let cs = conns(&dir, name);
    assert_eq!(cs.len(), 1);
    let c = &cs[0];
    assert_eq!(get(c, "conn_state"), conn_state, "{c:?}");
    assert_eq!(get(c, "tcplife_ending"), format!("reset by {by}"), "{c:?}");
    assert_eq!(get(c, "tcplife_first_closer"), by, "{c:?}");
    assert_eq!(get(c, "tcplife_client_state"), "CLOSED", "{c:?}");
    assert_eq!(get(c, "tcplife_server_state"), "CLOSED", "{c:?}");
    let all = packets(&dir, name);
    let pkts = conn_packets(&all, "1");
    assert_handshake(&pkts);
    let rsts: Vec<_> = pkts.iter().filter(|p| get(p, "event") == "RST").collect();
    assert_eq!(rsts.len(), 1, "{pkts:?}");
    assert_eq!(get(rsts[0], "role"), by);
    assert_eq!(get(rsts[0], "phase"), "reset");
    assert!(pkts.iter().all(|p| get(p, "event") != "FIN"), "{pkts:?}");
}

#[test]
fn reset_by_client() {
    assert_reset("reset", "client", "RSTO");
}

#[test]
fn reset_by_server() {
    assert_reset("server-reset", "server", "RSTR");
}

#[test]
fn half_close() {
    let dir = run_scenario("half-close");
    let cs = conns(&dir, "half-close");
    assert_eq!(cs.len(), 1);
    assert_closed(&cs[0], "client");
    assert_eq!(get(&cs[0], "orig_bytes"), "12");
    assert_eq!(get(&cs[0], "resp_bytes"), "12");
    let all = packets(&dir, "half-close");
    let pkts = conn_packets(&all, "1");
    assert_handshake(&pkts);
    // The server's reply comes after the client's FIN, from CLOSE-WAIT.
    let fin_at = pkts
        .iter()
        .position(|p| get(p, "role") == "client" && get(p, "event") == "FIN")
        .unwrap();
    let reply_at = pkts
        .iter()
        .position(|p| get(p, "role") == "server" && get(p, "event") == "data")
        .unwrap();
    assert!(fin_at < reply_at, "{pkts:?}");
    assert_eq!(get(pkts[reply_at], "server_state"), "CLOSE-WAIT");
}

#[test]
fn concurrent() {
    let dir = run_scenario("concurrent");
    let cs = conns(&dir, "concurrent");
    assert_eq!(cs.len(), 20);
    let mut ports: Vec<&str> = cs.iter().map(|c| get(c, "id.orig_p")).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 20, "every client has its own connection");
    let all = packets(&dir, "concurrent");
    for c in &cs {
        assert_closed(c, "server");
        let pkts = conn_packets(&all, get(c, "tcplife_conn_id"));
        assert_handshake(&pkts);
    }
}

#[test]
fn a_wrong_expectation_is_reported() {
    require_dumpcap();
    let dir = out_dir("wrong-closer");
    let out = harness(&[
        "--scenario",
        "server-closes",
        "--port",
        "0",
        "--quiet",
        "--expect-first-closer",
        "client",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The failing checks name themselves, the connection and the frame of the real first FIN.
    let first_closer = stdout
        .lines()
        .find(|l| l.contains("FAIL") && l.contains("first closer"))
        .unwrap_or_else(|| panic!("no failed first-closer check\n{}", text(&out)));
    assert!(
        first_closer.contains("want client: first FIN from the server in frame"),
        "{first_closer}"
    );
    assert!(
        first_closer.contains("[conn 1 (client port"),
        "{first_closer}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("FAIL") && l.contains("final states")),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("server-closes  FAIL"), "{}", text(&out));
}

#[test]
fn a_busy_port_is_a_clear_error() {
    require_dumpcap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let dir = out_dir("busy");
    let out = harness(&[
        "--scenario",
        "server-closes",
        "--port",
        &port,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is busy")) && stderr.contains("--port"),
        "{}",
        text(&out)
    );
    // Asked to, the harness moves on to the next free port instead.
    let out = harness(&[
        "--scenario",
        "refused",
        "--port",
        &port,
        "--next-free-port",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("port {port} is busy; using")),
        "{}",
        text(&out)
    );
    drop(listener);
}

#[test]
fn missing_dumpcap_is_a_clear_error() {
    let empty = out_dir("no-path");
    let out = Command::new(HARNESS)
        .args(["--scenario", "server-closes", "--out"])
        .arg(empty.join("out"))
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dumpcap not found") && stderr.contains("setup-debian.sh"),
        "{}",
        text(&out)
    );
}

#[test]
fn no_capture_privilege_is_a_clear_error() {
    require_dumpcap();
    if !nix_is_root() {
        // Already unprivileged: the harness itself must say what to do.
        let dir = out_dir("noprivs");
        let out = harness(&[
            "--scenario",
            "refused",
            "--port",
            "0",
            "--out",
            dir.to_str().unwrap(),
        ]);
        if out.status.success() {
            // This user may capture (dumpcap has the capabilities): nothing to show.
            return;
        }
        assert!(String::from_utf8_lossy(&out.stderr).contains("no permission to capture"));
        return;
    }
    // As root, run a copy of the harness as `nobody`, from a folder that user can reach.
    let dir = out_dir("noprivs");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let exe = dir.join("tcplife-harness");
    fs::copy(HARNESS, &exe).unwrap();
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&exe)
        .args(["--scenario", "refused", "--port", "0", "--out"])
        .arg(dir.join("out"))
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no permission to capture") && stderr.contains("setcap"),
        "{}",
        text(&out)
    );
    // One clear line, not a cascade.
    assert_eq!(stderr.trim().lines().count(), 1, "{}", text(&out));
}

fn nix_is_root() -> bool {
    // The effective uid, read without unsafe code.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The plugin built beside the harness (`cargo build --workspace`, as scripts/test.sh does).
fn built_plugin() -> PathBuf {
    let so = Path::new(HARNESS)
        .parent()
        .unwrap()
        .join("libtcplife_plugin.so");
    assert!(
        so.is_file(),
        "{} not built: run `cargo build --workspace` first (scripts/test.sh does)",
        so.display()
    );
    so
}

#[test]
fn tshark_with_the_plugin_agrees_with_the_engine_on_every_scenario() {
    require_dumpcap();
    let so = built_plugin();
    let dir = out_dir("tshark");
    let out = harness(&[
        "--scenario",
        "all",
        "--port",
        "0",
        "--out",
        dir.to_str().unwrap(),
        "--show",
        "server-closes",
        "--with-tshark",
        so.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let agreed = stdout
        .lines()
        .filter(|l| l.starts_with("  ok") && l.contains("plugin fields equal the engine's"))
        .count();
    assert_eq!(agreed, 7, "{}", text(&out));
    // The Wireshark view of the article's exchange: the greeting decoded by the demo's own
    // dissector (told the port with Decode As), and the lifecycle columns from the plugin.
    assert!(
        stdout.contains("tshark with the plugin (lifecycle columns):"),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains("HelloDemo") && stdout.contains("\"Hello Client\""),
        "{}",
        text(&out)
    );
}

/// Processes (other than this test) whose command line mentions `needle`: given the harness's
/// output folder, that is only ever the dumpcap it started.
fn processes_mentioning(needle: &Path) -> Vec<String> {
    let needle = needle.to_string_lossy().to_string();
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if pid == me || !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&needle) {
                found.push(format!("{pid}: {cmd}"));
            }
        }
    }
    found
}

#[test]
fn a_finished_run_leaves_no_process_behind() {
    let dir = run_scenario("client-closes");
    assert_eq!(processes_mentioning(&dir), Vec::<String>::new());
}

#[test]
fn an_interrupted_run_stops_its_capture() {
    require_dumpcap();
    let dir = out_dir("interrupted");
    let child = Command::new(HARNESS)
        .args(["--scenario", "all", "--port", "0", "--quiet", "--out"])
        .arg(&*dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first capture runs, then interrupt the harness the way `timeout` or a
    // service manager would. The harness's own command line names the folder too: wait for
    // dumpcap's, or the signal could come before the harness has set up its handler.
    let dumpcap_runs = || {
        processes_mentioning(&dir)
            .iter()
            .any(|p| p.contains("dumpcap"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !dumpcap_runs() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(dumpcap_runs(), "dumpcap never started");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 15), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted"),
        "{}",
        text(&out)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !processes_mentioning(&dir).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(processes_mentioning(&dir), Vec::<String>::new());
}
