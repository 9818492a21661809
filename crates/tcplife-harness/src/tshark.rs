//! The Wireshark side: tshark with the tcplife plugin on each capture, compared field by field
//! with the engine.
//!
//! tshark run as root ignores personal and environment plugin folders, so it runs as an
//! unprivileged user (`nobody` when the harness is root). It reads the capture from its standard
//! input, opened by the harness, so that user needs no access to the output directory; only the
//! plugin folder (a private copy under the system temporary directory) must be readable by it.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::analysis::Analysis;
use crate::checks::Check;
use crate::render::{self, TSV_COLUMNS};

/// The unprivileged user tshark runs as when the harness is root.
const NOBODY: u32 = 65534;

pub struct Tshark {
    /// WIRESHARK_PLUGIN_DIR: holds `<major.minor>/epan/tcplife.so`.
    plugin_dir: PathBuf,
    /// Private folder (plugin copy, HOME for tshark); removed on drop.
    root: PathBuf,
    as_user: Option<u32>,
}

impl Drop for Tshark {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn wireshark_version() -> Result<String, String> {
    let out = Command::new("tshark")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run tshark ({e}): install it with scripts/setup-debian.sh"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u1)."
    let first = text.lines().next().unwrap_or("");
    let ver = first
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .ok_or_else(|| format!("cannot read tshark's version from {first:?}"))?;
    let mut parts = ver.split('.');
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => Ok(format!("{a}.{b}")),
        _ => Err(format!("cannot read tshark's version from {first:?}")),
    }
}

/// The Hello Demo plugin's library, as cargo names it.
const HELLODEMO_LIB: &str = "libhellodemo.so";

impl Tshark {
    pub fn prepare(plugin: &Path) -> Result<Tshark, String> {
        if !plugin.is_file() {
            return Err(format!(
                "--with-tshark {}: no such plugin file (build it with `cargo build --release -p \
                 tcplife-plugin` or install it with scripts/plugin-install.sh)",
                plugin.display()
            ));
        }
        let version = wireshark_version()?;
        let root = std::env::temp_dir().join(format!("tcplife-harness-{}", std::process::id()));
        let epan = root.join("plugins").join(&version).join("epan");
        fs::create_dir_all(&epan).map_err(|e| format!("{}: {e}", epan.display()))?;
        fs::create_dir_all(root.join("home")).map_err(|e| e.to_string())?;
        fs::copy(plugin, epan.join("tcplife.so"))
            .map_err(|e| format!("cannot copy {}: {e}", plugin.display()))?;
        // The demo's protocol is a plugin of its own (plugins/hellodemo), built beside tcplife's:
        // the view decodes the greeting with it.
        let hello = plugin.with_file_name(HELLODEMO_LIB);
        fs::copy(&hello, epan.join("hellodemo.so")).map_err(|e| {
            format!(
                "cannot copy {} (the Hello Demo plugin, expected beside {}; build it with \
                 `cargo build --release -p hellodemo`): {e}",
                hello.display(),
                plugin.display()
            )
        })?;
        let is_root = nix::unistd::geteuid().is_root();
        let as_user = is_root.then_some(NOBODY);
        for dir in [
            root.clone(),
            root.join("plugins"),
            root.join("plugins").join(&version),
            epan.clone(),
        ] {
            let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
        }
        for so in ["tcplife.so", "hellodemo.so"] {
            let _ = fs::set_permissions(epan.join(so), fs::Permissions::from_mode(0o644));
        }
        if let Some(uid) = as_user {
            let _ = std::os::unix::fs::chown(root.join("home"), Some(uid), Some(uid));
        }
        let ts = Tshark {
            plugin_dir: root.join("plugins"),
            root,
            as_user,
        };
        // The plugin must really be loaded, or every comparison below would be vacuous.
        let out = ts.run(&["-G", "plugins"], None)?;
        let listing = String::from_utf8_lossy(&out.stdout);
        if !listing.lines().any(|l| l.contains("tcplife.so")) {
            return Err(format!(
                "tshark did not load the plugin {} (WIRESHARK_PLUGIN_DIR={}, running as uid \
                 {}); tshark said: {}",
                plugin.display(),
                ts.plugin_dir.display(),
                ts.as_user.map_or("self".into(), |u| u.to_string()),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(ts)
    }

    fn run(&self, args: &[&str], stdin: Option<&Path>) -> Result<Output, String> {
        let mut cmd = Command::new("tshark");
        cmd.args(args)
            .env("WIRESHARK_PLUGIN_DIR", &self.plugin_dir)
            .env("HOME", self.root.join("home"))
            .env("XDG_CONFIG_HOME", self.root.join("home"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match stdin {
            Some(p) => {
                let f = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
                cmd.stdin(f);
            }
            None => {
                cmd.stdin(Stdio::null());
            }
        }
        if let Some(uid) = self.as_user {
            cmd.uid(uid).gid(uid);
        }
        cmd.output().map_err(|e| format!("cannot run tshark: {e}"))
    }

    /// Compares tshark's tcplife.* fields with the engine's annotations, frame by frame, and
    /// prints tshark's own view with the lifecycle columns.
    pub fn check(&self, capture: &Path, an: &Analysis, show: bool, port: u16) -> Vec<Check> {
        let mut checks = Vec::new();
        let mut args = vec![
            "-r",
            "-",
            "-Y",
            "tcplife",
            "-T",
            "fields",
            "-E",
            "separator=/t",
        ];
        let fields: Vec<String> = TSV_COLUMNS
            .iter()
            .map(|c| {
                if *c == "frame" {
                    "frame.number".to_string()
                } else {
                    format!("tcplife.{c}")
                }
            })
            .collect();
        for f in &fields {
            args.push("-e");
            args.push(f);
        }
        let (ok, detail) = match self.run(&args, Some(capture)) {
            Err(e) => (false, e),
            Ok(out) if !out.status.success() => (
                false,
                format!(
                    "tshark exited with {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ),
            Ok(out) => compare(&String::from_utf8_lossy(&out.stdout), an),
        };
        checks.push(Check {
            scope: "scenario".into(),
            name: "plugin fields equal the engine's",
            ok,
            detail,
        });
        if show {
            match self.view(capture, port) {
                Ok(view) => {
                    println!("\ntshark with the plugin (lifecycle columns):");
                    print!("{view}");
                }
                Err(e) => println!("\ntshark view unavailable: {e}"),
            }
        }
        checks
    }
}

/// The packet-list columns tshark shows: the usual ones and the plugin's lifecycle fields (the
/// columns of the "TCP Lifecycle" profile that scripts/plugin-install.sh installs).
const VIEW_COLUMNS: [(&str, &str); 9] = [
    ("No.", "%m"),
    ("Protocol", "%p"),
    ("Conn", "%Cus:tcplife.conn:0:R"),
    ("Phase", "%Cus:tcplife.phase:0:R"),
    ("Step", "%Cus:tcplife.step:0:R"),
    ("Client state", "%Cus:tcplife.client_state:0:R"),
    ("Server state", "%Cus:tcplife.server_state:0:R"),
    ("Conn state", "%Cus:tcplife.conn_state:0:R"),
    ("Info", "%i"),
];

impl Tshark {
    /// tshark's packet list for the capture with the lifecycle columns, aligned.
    pub fn view(&self, capture: &Path, port: u16) -> Result<String, String> {
        let format: Vec<String> = VIEW_COLUMNS
            .iter()
            .map(|(title, fmt)| format!("\"{title}\",\"{fmt}\""))
            .collect();
        let pref = format!("gui.column.format:{}", format.join(","));
        let mut args = vec!["-r", "-", "-Y", "tcplife", "-T", "tabs", "-o", &pref];
        // The demo's own protocol dissector knows port 42181; on another port, say where it is.
        let decode_as = format!("tcp.port=={port},hellodemo");
        if port != 0 && port != 42181 {
            args.extend(["-d", &decode_as]);
        }
        let out = self.run(&args, Some(capture))?;
        if !out.status.success() {
            return Err(format!(
                "tshark exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let mut rows = vec![VIEW_COLUMNS.iter().map(|(t, _)| t.to_string()).collect()];
        rows.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect()),
        );
        Ok(render::aligned(&rows))
    }
}

/// Line-by-line comparison of tshark's fields with the engine's TSV rows.
fn compare(tshark: &str, an: &Analysis) -> (bool, String) {
    let theirs: Vec<&str> = tshark.lines().collect();
    let ours = render::tsv_lines(an);
    if theirs.len() != ours.len() {
        return (
            false,
            format!(
                "tshark shows tcplife on {} frames, the engine annotated {}",
                theirs.len(),
                ours.len()
            ),
        );
    }
    for (t, o) in theirs.iter().zip(&ours) {
        if *t != o {
            let t_cols: Vec<&str> = t.split('\t').collect();
            let o_cols: Vec<&str> = o.split('\t').collect();
            let diffs: Vec<String> = TSV_COLUMNS
                .iter()
                .enumerate()
                .filter(|(i, _)| t_cols.get(*i) != o_cols.get(*i))
                .map(|(i, c)| {
                    format!(
                        "{c}: tshark {:?} engine {:?}",
                        t_cols.get(i).unwrap_or(&""),
                        o_cols.get(i).unwrap_or(&"")
                    )
                })
                .collect();
            return (
                false,
                format!(
                    "frame {}: {}",
                    o_cols.first().unwrap_or(&"?"),
                    diffs.join(", ")
                ),
            );
        }
    }
    (
        true,
        format!(
            "{} frames, all {} columns identical",
            ours.len(),
            TSV_COLUMNS.len()
        ),
    )
}
