//! The Wireshark side: tshark with the tcplife plugin on each capture, compared field by field
//! with the engine.
//!
//! tshark run as root ignores personal and environment plugin folders, so it runs in the shared
//! tshark sandbox (crates/tshark-testkit): as `nobody` when the harness is root, with private
//! copies of the plugins. It reads the capture from its standard input, opened by the harness.

use std::fs::File;
use std::path::Path;
use std::process::Output;

use tshark_testkit::Sandbox;

use crate::analysis::Analysis;
use crate::checks::Check;
use crate::render::{self, TSV_COLUMNS};

/// tshark in the shared sandbox (crates/tshark-testkit) with the tcplife and Hello Demo plugins.
pub struct Tshark {
    sandbox: Sandbox,
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
        // The demo's protocol is a plugin of its own (plugins/hellodemo), built beside tcplife's:
        // the view decodes the greeting with it.
        let hello = plugin.with_file_name(HELLODEMO_LIB);
        if !hello.is_file() {
            return Err(format!(
                "no {} (the Hello Demo plugin, expected beside {}; build it with \
                 `cargo build --release -p hellodemo`)",
                hello.display(),
                plugin.display()
            ));
        }
        // The plugins must really be loaded, or every comparison below would be vacuous.
        let sandbox = Sandbox::with_plugins(
            "tcplife-harness",
            &[("tcplife", plugin), ("hellodemo", &hello)],
        )
        .map_err(|e| e.to_string())?;
        Ok(Tshark { sandbox })
    }

    /// tshark with the capture on its standard input, opened here, so that tshark's user needs
    /// no access to the output directory.
    fn run(&self, args: &[&str], stdin: Option<&Path>) -> Result<Output, String> {
        let mut cmd = self.sandbox.command(args);
        if let Some(p) = stdin {
            let f = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            cmd.stdin(f);
        }
        self.sandbox.output(&mut cmd).map_err(|e| e.to_string())
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
        // The TSV's columns: `frame` is Wireshark's frame number, the rest the schema's fields.
        let mut fields = vec!["frame.number".to_string()];
        fields.extend(tcplife_fields::FIELDS.iter().map(|f| f.filter_name()));
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

/// The packet-list columns tshark shows: the usual ones around the lifecycle columns of the
/// "TCP Lifecycle" profile (crates/tcplife-fields renders both).
fn view_columns() -> Vec<(String, String)> {
    let mut cols = vec![("No.".to_string(), "%m".to_string())];
    cols.push(("Protocol".into(), "%p".into()));
    cols.extend(
        tcplife_fields::render::profile_columns()
            .into_iter()
            .map(|(title, format)| (title.to_string(), format)),
    );
    cols.push(("Info".into(), "%i".into()));
    cols
}

impl Tshark {
    /// tshark's packet list for the capture with the lifecycle columns, aligned.
    pub fn view(&self, capture: &Path, port: u16) -> Result<String, String> {
        let columns = view_columns();
        let format: Vec<String> = columns
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
        let mut rows = vec![columns.iter().map(|(t, _)| t.clone()).collect()];
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
