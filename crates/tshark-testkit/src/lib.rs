//! Real tshark with real plugins, for tests and demos.
//!
//! A [`Sandbox`] is a private folder with the plugins to load (`WIRESHARK_PLUGIN_DIR`, laid out
//! as `<dir>/<major.minor>/epan/NAME.so`) and a HOME of its own. Its tshark runs as an
//! unprivileged user when the caller is root, because Wireshark run as root ignores plugin
//! folders without a word, and a test that forgot it would compare nothing. Hence also
//! [`Sandbox::with_plugins`], which fails unless tshark really lists every plugin from the
//! sandbox.
//!
//! ```no_run
//! use std::path::Path;
//! let sb = tshark_testkit::Sandbox::with_plugins(
//!     "my-test",
//!     &[("tcplife", Path::new("target/debug/libtcplife_plugin.so"))],
//! )?;
//! let cap = sb.capture(Path::new("capture.pcap"))?;
//! let text = sb.fields(&["-r", &cap.to_string_lossy()], &["frame.number", "tcplife.phase"])?;
//! # Ok::<(), tshark_testkit::Error>(())
//! ```
//!
//! [`wireshark_version`] is the one way the workspace's tests and tools find the Wireshark
//! version: that of the tshark that will load the plugins.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// What went wrong, in words for the person running the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// This crate's results.
pub type Result<T> = std::result::Result<T, Error>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

/// A Wireshark version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// e.g. 4 in 4.0.17.
    pub major: u32,
    /// e.g. 0 in 4.0.17.
    pub minor: u32,
    /// e.g. 17 in 4.0.17.
    pub micro: u32,
}

impl Version {
    /// `major.minor`: the folder Wireshark looks for plugins in (`<plugin dir>/4.0/epan/`),
    /// and the version a plugin is built for.
    pub fn major_minor(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// The version in `tshark --version`'s first line, e.g.
    /// `TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u1).`
    pub fn from_tshark_banner(text: &str) -> Option<Version> {
        let first = text.lines().next()?;
        let after = first.split_once("(Wireshark)")?.1;
        let word = after.split_whitespace().next()?;
        let mut parts = word.split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        Some(Version {
            major: parts.next()??,
            minor: parts.next()??,
            micro: parts.next().flatten().unwrap_or(0),
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The installed Wireshark's version, from `tshark --version` (asked once per process).
pub fn wireshark_version() -> Result<Version> {
    static VERSION: OnceLock<Result<Version>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new("tshark")
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .map_err(|e| {
                    Error(format!(
                        "cannot run tshark ({e}): install it with scripts/setup-debian.sh"
                    ))
                })?;
            let text = String::from_utf8_lossy(&out.stdout);
            Version::from_tshark_banner(&text).ok_or_else(|| {
                Error(format!(
                    "cannot read the Wireshark version from tshark --version: {:?}",
                    text.lines().next().unwrap_or("")
                ))
            })
        })
        .clone()
}

/// True when this process runs as root (effective uid 0), read from `/proc/self/status`.
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// uid and gid of `nobody` (65534 when /etc/passwd does not say).
fn nobody() -> (u32, u32) {
    fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 3 && f[0] == "nobody")
                    .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                    .flatten()
            })
        })
        .unwrap_or((65534, 65534))
}

/// A private plugin folder and HOME for tshark, removed on drop.
pub struct Sandbox {
    dir: PathBuf,
    plugins: PathBuf,
    home: PathBuf,
    version: Version,
    /// (uid, gid) tshark runs as; None: as this process.
    user: Option<(u32, u32)>,
    timeout_secs: u64,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `path: error`, for file operations.
fn at(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error(format!("{}: {e}", path.display()))
}

impl Sandbox {
    /// An empty sandbox under the system's temporary folder, named after `prefix`, the process
    /// and a counter (tests in one process each get their own). Add plugins with
    /// [`Sandbox::install`].
    pub fn new(prefix: &str) -> Result<Sandbox> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let version = wireshark_version()?;
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        let sb = Sandbox {
            plugins: dir.join("plugins"),
            home: dir.join("home"),
            dir,
            version,
            user: is_root().then(nobody),
            timeout_secs: 300,
        };
        fs::create_dir_all(sb.epan_dir()).map_err(at(&sb.epan_dir()))?;
        fs::create_dir_all(sb.home.join("caps")).map_err(at(&sb.home))?;
        sb.open_up(&sb.dir)?;
        Ok(sb)
    }

    /// A sandbox with `plugins` installed (`(NAME, library)`: the library is loaded as
    /// `NAME.so`), failing unless tshark lists each of them from the sandbox.
    pub fn with_plugins(prefix: &str, plugins: &[(&str, &Path)]) -> Result<Sandbox> {
        let sb = Sandbox::new(prefix)?;
        for (name, lib) in plugins {
            sb.install(name, lib)?;
        }
        sb.check_loaded(plugins.iter().map(|(name, _)| *name))?;
        Ok(sb)
    }

    /// Copies `lib` into the sandbox's plugin folder as `NAME.so`.
    pub fn install(&self, name: &str, lib: &Path) -> Result<()> {
        if !lib.is_file() {
            return err(format!("{}: no such plugin file", lib.display()));
        }
        let to = self.epan_dir().join(format!("{name}.so"));
        fs::copy(lib, &to).map_err(|e| Error(format!("cannot copy {}: {e}", lib.display())))?;
        self.open_up(&to)
    }

    /// Fails unless `tshark -G plugins` lists each `NAME.so` from this sandbox's folder.
    pub fn check_loaded<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let listing = self.tshark_ok(&["-G", "plugins"])?;
        for name in names {
            let ours = self.epan_dir().join(format!("{name}.so"));
            if !lists_plugin(&listing, &format!("{name}.so"), &ours.to_string_lossy()) {
                let ours = ours.to_string_lossy();
                return err(format!(
                    "tshark did not load {ours} (running as {}; as root, Wireshark ignores \
                     plugin folders). tshark -G plugins said:\n{listing}",
                    self.user
                        .map_or("this user".to_string(), |(u, _)| format!("uid {u}"))
                ));
            }
        }
        Ok(())
    }

    /// The Wireshark version the sandbox is laid out for.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The sandbox's own folder (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What `WIRESHARK_PLUGIN_DIR` names: holds `<major.minor>/epan/`.
    pub fn plugin_dir(&self) -> &Path {
        &self.plugins
    }

    /// Where the plugins are: `<plugin dir>/<major.minor>/epan`.
    pub fn epan_dir(&self) -> PathBuf {
        self.plugins.join(self.version.major_minor()).join("epan")
    }

    /// tshark's HOME (`XDG_CONFIG_HOME` is `HOME/.config`), writable by tshark's user.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A plugin folder with no plugin in it, to compare tshark with and without plugins (see
    /// [`Sandbox::command_with`]).
    pub fn empty_plugin_dir(&self) -> Result<PathBuf> {
        let empty = self.dir.join("no-plugins");
        fs::create_dir_all(empty.join(self.version.major_minor()).join("epan"))
            .map_err(at(&empty))?;
        self.open_up(&empty)?;
        Ok(empty)
    }

    /// Makes `path` (recursively) readable by tshark's user, and writable under HOME.
    pub fn open_up(&self, path: &Path) -> Result<()> {
        let meta = fs::metadata(path).map_err(at(path))?;
        let under_home = path.starts_with(&self.home);
        let mode = match (meta.is_dir(), under_home) {
            (true, true) => 0o777,
            (true, false) => 0o755,
            (false, true) => 0o666,
            (false, false) => 0o644,
        };
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(at(path))?;
        if meta.is_dir() {
            for e in fs::read_dir(path).map_err(at(path))? {
                self.open_up(&e.map_err(at(path))?.path())?;
            }
        }
        Ok(())
    }

    /// A copy of `capture` that tshark's user can read, under HOME.
    pub fn capture(&self, capture: &Path) -> Result<PathBuf> {
        let name = capture
            .file_name()
            .ok_or_else(|| Error(format!("{}: not a file", capture.display())))?;
        let to = self.home.join("caps").join(name);
        fs::copy(capture, &to).map_err(|e| Error(format!("copy {}: {e}", capture.display())))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).map_err(at(&to))?;
        Ok(to)
    }

    /// `tshark ARGS` with the sandbox's plugins, ready to run with [`Sandbox::output`] (add
    /// environment or standard input first if needed).
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        self.command_with(Some(&self.plugins), args)
    }

    /// `tshark ARGS` with `plugin_dir` as `WIRESHARK_PLUGIN_DIR`, or, for None, Wireshark's own
    /// folder rules (the global folder and the user's personal one under the sandbox's HOME).
    /// Runs as the unprivileged user when this process is root, in HOME, under `timeout`.
    pub fn command_with<S: AsRef<OsStr>>(&self, plugin_dir: Option<&Path>, args: &[S]) -> Command {
        let mut cmd = self.unprivileged("tshark");
        cmd.args(args);
        if let Some(dir) = plugin_dir {
            cmd.env("WIRESHARK_PLUGIN_DIR", dir);
        }
        cmd
    }

    /// `program` (tshark, or a script that runs it) as tshark's user: the unprivileged user when
    /// this process is root, with the sandbox's HOME, in HOME, under `timeout`, without
    /// `WIRESHARK_PLUGIN_DIR`. Add its arguments; run it with [`Sandbox::output`].
    pub fn unprivileged(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.arg(self.timeout_secs.to_string())
            .arg(program)
            .env_remove("WIRESHARK_PLUGIN_DIR")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .current_dir(&self.home)
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.user {
            // std drops the supplementary groups too when root changes uid.
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// Runs a command from [`Sandbox::command`]; a hang (past the timeout) is an error.
    pub fn output(&self, cmd: &mut Command) -> Result<Output> {
        let out = cmd
            .output()
            .map_err(|e| Error(format!("cannot run tshark under timeout: {e}")))?;
        if out.status.code() == Some(124) {
            return err(format!(
                "{:?} hung (> {} s)",
                cmd.get_args().skip(1).collect::<Vec<_>>(),
                self.timeout_secs
            ));
        }
        Ok(out)
    }

    /// `tshark ARGS` with the sandbox's plugins; any exit status.
    pub fn tshark<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        self.output(&mut self.command(args))
    }

    /// `tshark ARGS`'s standard output; a non-zero exit is an error.
    pub fn tshark_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String> {
        ok_text(&self.tshark(args)?, args)
    }

    /// `tshark OPTIONS -T fields -e FIELD...`'s output (tab-separated, one line per packet).
    pub fn fields(&self, options: &[&str], fields: &[&str]) -> Result<String> {
        self.tshark_ok(&fields_args(options, fields))
    }
}

/// Whether `tshark -G plugins` output lists plugin `file` (e.g. `tcplife.so`) loaded from
/// `path`. Lines are `NAME<padding>\tVERSION\tTYPE\tPATH`.
fn lists_plugin(listing: &str, file: &str, path: &str) -> bool {
    listing.lines().any(|l| {
        let mut cols = l.split('\t');
        cols.next().map(str::trim_end) == Some(file) && cols.any(|c| c == path)
    })
}

/// `OPTIONS -T fields -e FIELD...`.
pub fn fields_args<'a>(options: &[&'a str], fields: &[&'a str]) -> Vec<&'a str> {
    let mut args = options.to_vec();
    args.extend(["-T", "fields"]);
    for f in fields {
        args.extend(["-e", f]);
    }
    args
}

/// Standard output of a successful run as text; a non-zero exit is an error with tshark's
/// standard error.
pub fn ok_text<S: AsRef<OsStr>>(out: &Output, args: &[S]) -> Result<String> {
    let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    if !out.status.success() {
        return err(format!(
            "tshark {args:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout.clone())
        .map_err(|_| Error(format!("tshark {args:?} printed something not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_tshark_banners() {
        let v = Version::from_tshark_banner(
            "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u1).\n\nCopyright",
        );
        assert_eq!(
            v,
            Some(Version {
                major: 4,
                minor: 0,
                micro: 17
            })
        );
        assert_eq!(v.unwrap().major_minor(), "4.0");
        let v = Version::from_tshark_banner("TShark (Wireshark) 4.2.0rc1.");
        assert_eq!(v.map(|v| (v.major, v.minor, v.micro)), Some((4, 2, 0)));
        assert_eq!(
            Version::from_tshark_banner("tshark: command not found"),
            None
        );
        assert_eq!(Version::from_tshark_banner(""), None);
    }

    #[test]
    fn plugin_listings() {
        let listing = "hellodemo.so    \t0.1.0\tdissector\t/t/plugins/4.0/epan/hellodemo.so\n\
                       tcplife.so      \t0.1.0\tdissector\t/t/plugins/4.0/epan/tcplife.so\n\
                       udpdump         \t0.1.0\textcap\t/usr/lib/wireshark/extcap/udpdump\n";
        let at = "/t/plugins/4.0/epan/tcplife.so";
        assert!(lists_plugin(listing, "tcplife.so", at));
        assert!(!lists_plugin(
            listing,
            "tcplife.so",
            "/elsewhere/tcplife.so"
        ));
        assert!(!lists_plugin(listing, "tcplife", at));
        assert!(!lists_plugin(listing, "other.so", at));
    }

    #[test]
    fn fields_arguments() {
        assert_eq!(
            fields_args(&["-r", "x.pcap"], &["frame.number", "tcp.port"]),
            [
                "-r",
                "x.pcap",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "tcp.port"
            ]
        );
    }
}
