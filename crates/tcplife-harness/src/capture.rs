//! Capturing loopback traffic with dumpcap, the capture engine Wireshark users already have.
//!
//! dumpcap prints "Capturing on 'Loopback: lo'" before it has opened the interface, so that line
//! alone does not prove packets are being recorded. Proof comes from a UDP probe datagram to the
//! scenario's port: the capture filter lets it through, and dumpcap's live "Packets: N" counter
//! on stderr moving past zero shows the filter is attached and the file is being written. The
//! probe frames stay in the file; tcplife skips them like any other non-TCP frame.

use std::io::{BufReader, Read};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// What dumpcap printed so far, kept by a reader thread.
#[derive(Default)]
struct Progress {
    /// Latest "Packets: N" (the live counter) or "Packets captured: N" (the final one).
    packets: u64,
    /// Whole lines (the counter's carriage-return updates are not lines).
    lines: Vec<String>,
    eof: bool,
}

pub struct Dumpcap {
    child: Option<Child>,
    progress: Arc<Mutex<Progress>>,
    port: u16,
    probes_sent: u64,
}

/// Why a capture could not be made. The messages say what to do.
#[derive(Debug)]
pub enum CaptureFailure {
    NotInstalled,
    NoPrivilege(String),
    Failed(String),
}

impl std::fmt::Display for CaptureFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureFailure::NotInstalled => write!(
                f,
                "dumpcap not found: install it with `scripts/setup-debian.sh` \
                 (Debian package tshark, which brings dumpcap)"
            ),
            CaptureFailure::NoPrivilege(detail) => write!(
                f,
                "no permission to capture on the loopback interface ({detail}). Run the harness \
                 as root (e.g. `sudo tcplife-harness ...`), or give dumpcap the capture \
                 capabilities once: `sudo setcap cap_net_raw,cap_net_admin+eip \
                 \"$(command -v dumpcap)\"`"
            ),
            CaptureFailure::Failed(detail) => write!(f, "dumpcap failed: {detail}"),
        }
    }
}

/// The running dumpcap's pid (0: none), for the signal handler and the watchdog, which end the
/// process without unwinding and so without `Drop`. The lock is held from spawning dumpcap until
/// its pid is written, and from reaping it until the pid is cleared: a signal that lands in
/// between (the test interrupts the harness the moment dumpcap appears) waits for the pid
/// instead of finding none and leaving dumpcap running, and a reaped pid is never killed.
static RUNNING: Mutex<i32> = Mutex::new(0);

fn running() -> MutexGuard<'static, i32> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Kills the running dumpcap, if any, from any thread.
pub fn kill_running() {
    let mut pid = running();
    if *pid > 0 {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        *pid = 0;
    }
}

/// `child.try_wait()`, forgetting the pid as the child is reaped.
fn reap(child: &mut Child) -> std::io::Result<Option<ExitStatus>> {
    let mut pid = running();
    let status = child.try_wait();
    if !matches!(status, Ok(None)) {
        *pid = 0;
    }
    status
}

/// Kills and reaps `child`, forgetting its pid.
fn kill_and_reap(child: &mut Child) {
    let mut pid = running();
    let _ = child.kill();
    let _ = child.wait();
    *pid = 0;
}

/// Whether dumpcap exists on PATH (without running anything).
pub fn dumpcap_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("dumpcap"))
        .find(|p| p.is_file())
}

/// How long dumpcap may live at most, whatever happens to the harness: its own autostop, so even
/// a harness killed with SIGKILL leaves no capture running for long.
const DUMPCAP_MAX_SECONDS: u32 = 60;
const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

impl Dumpcap {
    /// Starts dumpcap on `lo` for `tcp port PORT` (plus the probe datagrams) and returns once it
    /// has demonstrably recorded a probe.
    pub fn start(file: &Path, port: u16) -> Result<Dumpcap, CaptureFailure> {
        let exe = dumpcap_path().ok_or(CaptureFailure::NotInstalled)?;
        // dumpcap refuses to overwrite some files and appends to none; start clean.
        let _ = std::fs::remove_file(file);
        let filter = format!("tcp port {port} or (udp dst port {port} and dst host 127.0.0.1)");
        let mut slot = running();
        let mut child = Command::new(exe)
            .args(["-i", "lo", "-f", &filter, "-w"])
            .arg(file)
            .args(["-a", &format!("duration:{DUMPCAP_MAX_SECONDS}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| CaptureFailure::Failed(format!("cannot start dumpcap: {e}")))?;
        *slot = child.id() as i32;
        drop(slot);
        let progress = Arc::new(Mutex::new(Progress::default()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let shared = Arc::clone(&progress);
        thread::spawn(move || read_progress(stderr, shared));
        let mut cap = Dumpcap {
            child: Some(child),
            progress,
            port,
            probes_sent: 0,
        };
        cap.wait_live()?;
        Ok(cap)
    }

    fn packets(&self) -> u64 {
        self.progress.lock().map(|p| p.packets).unwrap_or(0)
    }

    fn stderr_text(&self) -> String {
        self.progress
            .lock()
            .map(|p| p.lines.join("\n"))
            .unwrap_or_default()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| reap(c).ok().flatten())
    }

    fn send_probe(&mut self) {
        if let Ok(sock) = UdpSocket::bind("127.0.0.1:0") {
            let _ = sock.send_to(b"tcplife-harness capture probe", ("127.0.0.1", self.port));
            self.probes_sent += 1;
        }
    }

    fn wait_live(&mut self) -> Result<(), CaptureFailure> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut next_probe = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                // Let the reader thread collect the last words.
                thread::sleep(Duration::from_millis(100));
                return Err(classify_failure(status, &self.stderr_text()));
            }
            if self.packets() > 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let text = self.stderr_text();
                self.kill_now();
                return Err(CaptureFailure::Failed(format!(
                    "dumpcap recorded none of {} probe datagrams within {:?}; its output:\n{text}",
                    self.probes_sent, START_TIMEOUT
                )));
            }
            if Instant::now() >= next_probe {
                self.send_probe();
                next_probe = Instant::now() + Duration::from_millis(700);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the capture once everything sent so far is in the file, and checks that dumpcap
    /// dropped nothing.
    pub fn stop(mut self) -> Result<CaptureStats, CaptureFailure> {
        // A last probe, sent after the scenario's final packet: packets reach the capture socket
        // in order, so once the counter has moved past it and settled, the scenario is recorded.
        let before = self.packets();
        self.send_probe();
        let deadline = Instant::now() + STOP_TIMEOUT;
        let mut last = before;
        let mut settled_since = Instant::now();
        while Instant::now() < deadline {
            let now = self.packets();
            if now != last {
                last = now;
                settled_since = Instant::now();
            }
            // dumpcap refreshes its counter every 100 ms.
            if now > before && settled_since.elapsed() > Duration::from_millis(300) {
                break;
            }
            if self.exited().is_some() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let mut child = self.child.take().expect("dumpcap not yet stopped");
        if reap(&mut child).ok().flatten().is_none() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            match reap(&mut child) {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    kill_and_reap(&mut child);
                    break None;
                }
            }
        };
        // The reader thread sees EOF once dumpcap is gone.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !self.progress.lock().map(|p| p.eof).unwrap_or(true) {
            thread::sleep(Duration::from_millis(10));
        }
        let text = self.stderr_text();
        let Some(status) = status else {
            return Err(CaptureFailure::Failed(format!(
                "dumpcap did not stop within {STOP_TIMEOUT:?} of SIGINT and was killed"
            )));
        };
        if !status.success() {
            return Err(classify_failure(status, &text));
        }
        let stats = CaptureStats::parse(&text);
        if stats.dropped > 0 || (stats.received > 0 && stats.captured < stats.received) {
            return Err(CaptureFailure::Failed(format!(
                "the capture is incomplete ({} received by the interface, {} captured, {} \
                 dropped): run again on a less busy machine",
                stats.received, stats.captured, stats.dropped
            )));
        }
        Ok(stats)
    }

    fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }
}

/// Every way out of the harness (an error, a panic, a failed check) passes here, so dumpcap
/// never outlives the scenario that started it.
impl Drop for Dumpcap {
    fn drop(&mut self) {
        self.kill_now();
    }
}

fn read_progress(stderr: impl Read, progress: Arc<Mutex<Progress>>) {
    let mut reader = BufReader::new(stderr);
    let mut buf = [0u8; 4096];
    let mut pending = String::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
        // The live counter is rewritten in place with '\r'; treat it as a line end too.
        while let Some(end) = pending.find(['\r', '\n']) {
            let line: String = pending.drain(..=end).collect();
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Ok(mut p) = progress.lock() else { return };
            if let Some(n) = line
                .strip_prefix("Packets captured:")
                .or_else(|| line.strip_prefix("Packets:"))
                .and_then(|rest| rest.trim().parse::<u64>().ok())
            {
                p.packets = n;
                if !line.starts_with("Packets captured:") {
                    continue;
                }
            }
            p.lines.push(line.to_string());
        }
        // The counter's latest value has no terminator until the next update.
        if let Some(n) = pending
            .trim()
            .strip_prefix("Packets:")
            .and_then(|rest| rest.trim().parse::<u64>().ok())
        {
            if let Ok(mut p) = progress.lock() {
                p.packets = n;
            }
        }
    }
    if let Ok(mut p) = progress.lock() {
        if !pending.trim().is_empty() {
            p.lines.push(pending.trim().to_string());
        }
        p.eof = true;
    }
}

fn classify_failure(status: ExitStatus, stderr: &str) -> CaptureFailure {
    let lower = stderr.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        let detail = stderr
            .lines()
            .find(|l| {
                let l = l.to_lowercase();
                l.contains("permission") || l.contains("not permitted")
            })
            .unwrap_or("permission denied")
            .trim()
            .to_string();
        return CaptureFailure::NoPrivilege(detail);
    }
    CaptureFailure::Failed(format!("dumpcap exited with {status}: {}", stderr.trim()))
}

/// dumpcap's closing statistics.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaptureStats {
    pub captured: u64,
    pub received: u64,
    pub dropped: u64,
}

impl CaptureStats {
    fn parse(stderr: &str) -> CaptureStats {
        let mut stats = CaptureStats::default();
        for line in stderr.lines() {
            if let Some(n) = line.strip_prefix("Packets captured:") {
                stats.captured = n.trim().parse().unwrap_or(0);
            }
            // "Packets received/dropped on interface 'Loopback: lo': 12/0 (pcap:0/...)"
            if line.starts_with("Packets received/dropped") {
                if let Some(nums) = line.rsplit("': ").next() {
                    let nums = nums.split_whitespace().next().unwrap_or("");
                    if let Some((r, d)) = nums.split_once('/') {
                        stats.received = r.parse().unwrap_or(0);
                        stats.dropped = d.parse().unwrap_or(0);
                    }
                }
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dumpcap_closing_lines() {
        let s = CaptureStats::parse(
            "Capturing on 'Loopback: lo'\nPackets captured: 14\nPackets received/dropped on \
             interface 'Loopback: lo': 14/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)",
        );
        assert_eq!((s.captured, s.received, s.dropped), (14, 14, 0));
    }
}
