//! Real tshark with the real plugin. tshark run as root ignores plugin folders without a word,
//! so when the tests run as root (CI does) tshark runs as `nobody` (crates/tshark-testkit), with
//! `WIRESHARK_PLUGIN_DIR` pointing at a world-readable folder holding the built plugin; every
//! test first checks that `tshark -G plugins` lists it, and fails loudly if not.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tcplife_tests::{project_root, shared_captures, workspace_bin};

/// The plugin's fields (`tcplife.conn`...), in the order of `tcplife packets --format tsv`'s
/// columns: the schema's (crates/tcplife-fields).
fn field_names() -> Vec<String> {
    tcplife_fields::FIELDS
        .iter()
        .map(|f| f.filter_name())
        .collect()
}

fn expert_names() -> Vec<String> {
    tcplife_fields::EXPERTS
        .iter()
        .map(|e| e.filter_name())
        .collect()
}

/// Index of the TSV column `name` in `tcplife packets --format tsv` and in `plugin_tsv` lines.
fn col(name: &str) -> usize {
    tcplife_report::TSV_COLUMNS
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("no TSV column {name}"))
}

/// The value of column `name` in a TSV line.
fn cell<'l>(line: &'l str, name: &str) -> &'l str {
    line.split('\t').nth(col(name)).unwrap_or("")
}

fn ok<T>(r: tshark_testkit::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn is_root() -> bool {
    tshark_testkit::is_root()
}

fn wireshark_major_minor() -> String {
    ok(tshark_testkit::wireshark_version()).major_minor()
}

/// The shared tshark sandbox (crates/tshark-testkit) with every workspace plugin: a
/// world-readable folder with the plugins (`<dir>/<major.minor>/epan/tcplife.so`,
/// `hellodemo.so`...), a writable HOME, and copies of the captures tshark reads (so `nobody` can
/// read them). Failures fail the test.
struct Sandbox {
    kit: tshark_testkit::Sandbox,
    names: Vec<String>,
    dir: PathBuf,
    plugins: PathBuf,
    home: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let kit = ok(tshark_testkit::Sandbox::new("tcplife-plugin-test"));
        // Every plugin of the workspace, as a user who installed them all has it.
        let mut names = Vec::new();
        for plugin in tcplife_tests::workspace_plugins() {
            ok(kit.install(&plugin.name, &plugin.lib));
            names.push(plugin.name);
        }
        Sandbox {
            dir: kit.dir().to_path_buf(),
            plugins: kit.plugin_dir().to_path_buf(),
            home: kit.home().to_path_buf(),
            kit,
            names,
        }
    }

    /// The sandbox's copy of the lifecycle plugin, readable by the unprivileged user.
    fn tcplife_so(&self) -> PathBuf {
        self.plugins
            .join(wireshark_major_minor())
            .join("epan/tcplife.so")
    }

    /// Lets `nobody` read everything and write under HOME.
    fn open_up(&self, path: &Path) {
        ok(self.kit.open_up(path));
    }

    /// A copy of `capture` that tshark's user can read.
    fn capture(&self, capture: &Path) -> PathBuf {
        ok(self.kit.capture(capture))
    }

    fn tshark_with(&self, plugin_dir: &Path, args: &[&str]) -> Output {
        self.tshark_env(Some(plugin_dir), args)
    }

    /// tshark as the unprivileged user; `plugin_dir` None leaves Wireshark's own folder rules.
    fn tshark_env(&self, plugin_dir: Option<&Path>, args: &[&str]) -> Output {
        self.tshark_full(plugin_dir, None, args)
    }

    /// `program` as the unprivileged user (itself when the tests do not run as root), with the
    /// sandbox's HOME, under a timeout.
    fn unprivileged(&self, program: &Path) -> Command {
        self.kit.unprivileged(program)
    }

    /// `fault`: the plugin's fault injection (`TCPLIFE_PLUGIN_FAULT`), e.g. `panic:2`.
    fn tshark_full(&self, plugin_dir: Option<&Path>, fault: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = self.kit.command_with(plugin_dir, args);
        match fault {
            Some(f) => cmd.env("TCPLIFE_PLUGIN_FAULT", f),
            None => cmd.env_remove("TCPLIFE_PLUGIN_FAULT"),
        };
        ok(self.kit.output(&mut cmd))
    }

    fn tshark(&self, args: &[&str]) -> Output {
        self.tshark_with(&self.plugins, args)
    }

    /// tshark's output, failing on a non-zero exit.
    fn tshark_ok(&self, args: &[&str]) -> String {
        ok(tshark_testkit::ok_text(&self.tshark(args), args))
    }

    /// `tshark OPTIONS -T fields -e FIELD...`, failing on a non-zero exit.
    fn fields(&self, options: &[&str], fields: &[&str]) -> String {
        self.tshark_ok(&tshark_testkit::fields_args(options, fields))
    }

    /// Fails loudly unless tshark really loads the workspace's plugins from the sandbox.
    fn assert_plugin_loaded(&self) {
        ok(self.kit.check_loaded(self.names.iter().map(String::as_str)));
    }
}

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        name.ends_with(".pcap")
            || name.ends_with(".pcapng")
            || name.ends_with(".pcap.gz")
            || name.ends_with(".pcapng.gz")
    });
    v.sort();
    v
}

/// The Zeek captures and the project's own samples: where the plugin must print what the CLI
/// prints.
fn conformance_captures() -> Vec<PathBuf> {
    let mut v = captures_in(&shared_captures().join("zeek"));
    assert!(
        v.len() >= 10,
        "expected the Zeek captures under {}",
        shared_captures().display()
    );
    v.extend(captures_in(&project_root().join("tests/samples")));
    v
}

fn cli_tsv(capture: &Path) -> Vec<String> {
    let out = Command::new(workspace_bin("tcplife"))
        .args(["packets", "--format", "tsv"])
        .arg(capture)
        .output()
        .expect("tcplife runs");
    assert!(
        out.status.success(),
        "tcplife packets {} failed: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(tcplife_report::TSV_COLUMNS.join("\t").as_str())
    );
    lines.map(str::to_string).collect()
}

fn field_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(["-T", "fields", "-e", "frame.number"].map(String::from));
    for f in field_names() {
        args.push("-e".into());
        args.push(f);
    }
    args
}

fn plugin_tsv(sb: &Sandbox, capture: &Path, extra: &[&str]) -> Vec<String> {
    let cap = capture.to_string_lossy().to_string();
    let mut args = vec!["-r", &cap, "-Y", "tcplife"];
    args.extend_from_slice(extra);
    let args = field_args(&args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.tshark_ok(&args).lines().map(str::to_string).collect()
}

#[test]
fn tshark_lists_the_plugin_its_protocols_and_every_field() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let fields = sb.tshark_ok(&["-G", "fields"]);
    let registered: BTreeSet<&str> = fields
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 2 && (cols[0] == "F" || cols[0] == "P")).then(|| cols[2])
        })
        .collect();
    let names = field_names().into_iter().chain(expert_names()).chain(
        [
            "tcplife",
            "hellodemo",
            "hellodemo.greeting",
            "hellodemo.message",
        ]
        .map(String::from),
    );
    for name in names {
        assert!(
            registered.contains(name.as_str()),
            "tshark -G fields lacks {name}"
        );
    }
    // Field types decide how tshark prints them, which the CLI's TSV mirrors; the description
    // is the schema's too.
    for f in &tcplife_fields::FIELDS {
        let (name, ty) = (f.filter_name(), f.kind.wireshark_type());
        assert!(
            fields
                .lines()
                .any(|l| l.ends_with(&format!("\t{}", f.description))
                    && l.contains(&format!("\t{name}\t"))),
            "{name}'s description is not {:?}",
            f.description
        );
        assert!(
            fields
                .lines()
                .any(|l| l.contains(&format!("\t{name}\t{ty}\t"))),
            "{name} is not {ty}"
        );
    }
    // Name, short name, filter name; Wireshark 4.4 added more columns after them (enabled,
    // can be toggled, ...).
    let protocols = sb.tshark_ok(&["-G", "protocols"]);
    assert!(
        protocols.lines().any(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            cols.get(..3) == Some(&["TCP Lifecycle", "TCPLife", "tcplife"][..])
        }),
        "{protocols}"
    );
}

#[test]
fn fields_equal_the_cli_tsv_one_pass_and_two_pass() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let mut lines = 0;
    let mut differing = 0;
    let mut first_diffs = Vec::new();
    for capture in conformance_captures() {
        let expected = cli_tsv(&capture);
        assert!(
            !expected.is_empty(),
            "{}: the CLI saw no TCP",
            capture.display()
        );
        let cap = sb.capture(&capture);
        for (pass, extra) in [("one pass", &[][..]), ("two passes", &["-2"][..])] {
            let got = plugin_tsv(&sb, &cap, extra);
            let n = differing_frames(&expected, &got);
            if n > 0 && first_diffs.len() < 5 {
                first_diffs.push(format!(
                    "{} ({pass}): {n} frames differ\n{}",
                    capture.display(),
                    first_difference(&expected, &got)
                ));
            }
            differing += n;
        }
        lines += expected.len();
    }
    // scripts/test-wireshark.sh reports these figures per Wireshark version.
    println!("tcplife-figures: frames_compared={lines} frames_differing={differing}");
    assert!(
        first_diffs.is_empty(),
        "{differing} frames differ from the CLI:\n{}",
        first_diffs.join("\n")
    );
    assert!(lines > 200, "only {lines} packets compared");
}

/// Frames whose line differs between the CLI's TSV and tshark's fields, matched by frame
/// number; a frame on one side only counts too.
fn differing_frames(expected: &[String], got: &[String]) -> usize {
    let key = |l: &String| cell(l, "frame").to_string();
    let want: std::collections::BTreeMap<String, &String> =
        expected.iter().map(|l| (key(l), l)).collect();
    let have: std::collections::BTreeMap<String, &String> =
        got.iter().map(|l| (key(l), l)).collect();
    let mut frames: BTreeSet<&String> = want.keys().collect();
    frames.extend(have.keys());
    let dupes = (expected.len() - want.len()) + (got.len() - have.len());
    frames
        .into_iter()
        .filter(|f| want.get(*f) != have.get(*f))
        .count()
        + dupes
}

fn first_difference(expected: &[String], got: &[String]) -> String {
    let i = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    format!(
        "  line {}: cli    {:?}\n  line {}: plugin {:?}",
        i + 1,
        expected.get(i),
        i + 1,
        got.get(i)
    )
}

#[test]
fn display_filters_select_exactly_the_expected_frames() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    for capture in conformance_captures() {
        let expected: Vec<String> = cli_tsv(&capture)
            .iter()
            .filter(|l| cell(l, "phase") == "handshake")
            .map(|l| cell(l, "frame").to_string())
            .collect();
        let cap = sb.capture(&capture);
        let cap = cap.to_string_lossy();
        for two_pass in [false, true] {
            let mut args = vec![
                "-r",
                &*cap,
                "-Y",
                "tcplife.phase == \"handshake\"",
                "-T",
                "fields",
                "-e",
                "frame.number",
            ];
            if two_pass {
                args.push("-2");
            }
            let got: Vec<String> = sb.tshark_ok(&args).lines().map(str::to_string).collect();
            assert_eq!(got, expected, "{} two_pass={two_pass}", capture.display());
        }
    }
    // The demo story in one capture: exactly the three handshake frames, in order.
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let http = http.to_string_lossy();
    let got = sb.fields(
        &["-r", &http, "-Y", "tcplife.phase == \"handshake\""],
        &["frame.number", "tcplife.step"],
    );
    assert_eq!(got, "1\t1/3\n2\t2/3\n3\t3/3\n");
    // A first-pass filter (-R with -2) sees the same annotations as the second pass.
    let got = sb.fields(
        &[
            "-r",
            &http,
            "-2",
            "-R",
            "tcplife.step == \"1/3\" || tcplife.step == \"2/3\"",
        ],
        &["tcplife.event"],
    );
    assert_eq!(got, "SYN\nSYN-ACK\n");
}

#[test]
fn info_column_tag_experts_and_preference() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let pop3 = sb.capture(&shared_captures().join("zeek/pop3_pop3.pcap"));
    let pop3 = pop3.to_string_lossy();
    let info = |cap: &str, prefs: &[&str]| {
        let mut args = vec!["-r", cap];
        for p in prefs {
            args.extend(["-o", p]);
        }
        sb.fields(&args, &["_ws.col.Info"])
    };
    let first = info(&pop3, &[]);
    let first = first.lines().next().unwrap();
    assert!(
        first.starts_with("[handshake 1/3] ") && first.contains("[SYN]"),
        "{first:?}"
    );
    let after = info(&pop3, &["tcplife.info_tag_first:FALSE"]);
    let after = after.lines().next().unwrap();
    assert!(
        after.ends_with(" [handshake 1/3]") && after.contains("[SYN]"),
        "{after:?}"
    );
    assert_eq!(
        first.strip_prefix("[handshake 1/3] "),
        after.strip_suffix(" [handshake 1/3]")
    );
    let off = info(&pop3, &["tcplife.info_tag:FALSE"]);
    assert!(!off.contains("[handshake"), "{off}");
    assert_eq!(off.lines().next(), first.strip_prefix("[handshake 1/3] "));
    // Exactly one space between the tag and Wireshark's own text, also where HTTP leaves a
    // trailing space of its own: compared line by line with tshark without the plugin.
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let http = http.to_string_lossy();
    let empty = sb.dir.join("no-plugins");
    fs::create_dir_all(&empty).unwrap();
    sb.open_up(&empty);
    let plain = sb.tshark_with(&empty, &["-r", &http, "-T", "fields", "-e", "_ws.col.Info"]);
    let plain = String::from_utf8(plain.stdout).unwrap();
    let tagged_first = info(&http, &[]);
    let tagged_after = info(&http, &["tcplife.info_tag_first:FALSE"]);
    let tags: Vec<String> = cli_tsv(&shared_captures().join("zeek/http_get.pcap"))
        .iter()
        .map(|l| {
            let (phase, step) = (cell(l, "phase"), cell(l, "step"));
            if step.is_empty() {
                format!("[{phase}]")
            } else {
                format!("[{phase} {step}]")
            }
        })
        .collect();
    assert_eq!(tags.len(), 14);
    let mut trailing = 0;
    for (((p, f), a), tag) in plain
        .lines()
        .zip(tagged_first.lines())
        .zip(tagged_after.lines())
        .zip(&tags)
    {
        assert_eq!(f, format!("{tag} {p}"));
        let sep = if p.ends_with(' ') { "" } else { " " };
        trailing += usize::from(p.ends_with(' '));
        assert_eq!(a, format!("{p}{sep}{tag}"));
    }
    assert!(
        trailing >= 1,
        "http_get.pcap's GET line ends with a space:\n{plain}"
    );
    // pop3_pop3.pcap: SYNs answered by RSTs, retried: refused connections, retransmitted SYNs.
    for (filter, at_least) in [
        ("tcplife.expert.refused", 1),
        ("tcplife.expert.retransmitted_syn", 1),
    ] {
        let hits = sb.fields(&["-r", &pop3, "-2", "-Y", filter], &["frame.number"]);
        assert!(hits.lines().count() >= at_least, "{filter}: {hits}");
    }
    // End-of-capture notes only exist once the first pass is over (tshark -2).
    let wiki = sb.capture(&shared_captures().join("zeek/wikipedia.pcap"));
    let wiki = wiki.to_string_lossy();
    let not_closed = sb.fields(
        &["-r", &wiki, "-2", "-Y", "tcplife.expert.not_closed"],
        &["tcplife.conn"],
    );
    let conns: BTreeSet<&str> = not_closed.lines().collect();
    assert!(
        conns.len() >= 8,
        "wikipedia.pcap has 8 established connections never closed: {not_closed}"
    );
    assert_eq!(
        conns.len(),
        not_closed.lines().count(),
        "one note per connection (its last packet)"
    );
    let tree = sb.tshark_ok(&["-r", &wiki, "-2", "-Y", "frame.number == 8", "-O", "tcp"]);
    assert!(
        tree.contains("TCP Lifecycle: client ACK, data transfer"),
        "{tree}"
    );
    assert!(tree.contains("[Phase: data transfer]"), "{tree}");
    assert!(tree.contains("[History: DdA]"), "{tree}");
    assert!(
        tree.contains("Connection not closed by the end of the capture"),
        "{tree}"
    );
}

#[test]
fn hello_demo_dissector_names_the_greeting() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    // A hand-made IPv4 raw-IP pcap: the server on 42181 sends "Hello Client\n".
    let payload = b"Hello Client\n";
    let mut pkt = vec![0u8; 40];
    pkt[0] = 0x45;
    pkt[2..4].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
    pkt[8] = 64;
    pkt[9] = 6;
    pkt[12..16].copy_from_slice(&[127, 0, 0, 1]);
    pkt[16..20].copy_from_slice(&[127, 0, 0, 1]);
    pkt[20..22].copy_from_slice(&42181u16.to_be_bytes());
    pkt[22..24].copy_from_slice(&50000u16.to_be_bytes());
    pkt[32] = 5 << 4;
    pkt[33] = 0x18;
    pkt[34..36].copy_from_slice(&1024u16.to_be_bytes());
    pkt.extend_from_slice(payload);
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&65535u32.to_le_bytes());
    file.extend_from_slice(&101u32.to_le_bytes()); // LINKTYPE_RAW
    for v in [1u32, 0, pkt.len() as u32, pkt.len() as u32] {
        file.extend_from_slice(&v.to_le_bytes());
    }
    file.extend_from_slice(&pkt);
    let path = sb.home.join("caps/hello.pcap");
    fs::write(&path, file).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let path = path.to_string_lossy();
    let out = sb.fields(&["-r", &path], &["hellodemo.greeting", "_ws.col.Protocol"]);
    assert_eq!(out, "Hello Client\tHelloDemo\n");
    let out = sb.tshark_ok(&["-r", &path, "-Y", "hellodemo.greeting == \"Hello Client\""]);
    assert!(out.contains("Greeting: \"Hello Client\""), "{out}");

    // The demo's own capture, recorded by tcplife-harness: handshake, greeting, teardown.
    let demo = project_root().join("tests/samples/server-closes.pcapng");
    if demo.exists() {
        let demo = sb.capture(&demo);
        let demo = demo.to_string_lossy();
        let out = sb.fields(
            &["-r", &demo, "-Y", "hellodemo.greeting"],
            &["hellodemo.greeting", "tcplife.phase", "tcplife.role"],
        );
        assert_eq!(out, "Hello Client\tdata transfer\tserver\n");
        let out = sb.fields(
            &["-r", &demo, "-Y", "tcplife.phase == \"handshake\""],
            &["tcplife.step"],
        );
        assert_eq!(
            out, "1/3\n2/3\n3/3\n",
            "exactly the demo's three handshake packets"
        );
    }
}

/// Wireshark's own test captures: no crash, no hang, nothing on stderr that tshark without the
/// plugin does not print too, and the plugin prints exactly what the CLI prints.
#[test]
fn wireshark_captures_run_clean_with_the_plugin() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let empty = sb.dir.join("no-plugins");
    fs::create_dir_all(&empty).unwrap();
    sb.open_up(&empty);
    let captures = captures_in(&shared_captures().join("wireshark"));
    assert!(
        captures.len() >= 20,
        "expected Wireshark's captures under {}",
        shared_captures().display()
    );
    for capture in &captures {
        let cap = sb.capture(capture);
        let cap_s = cap.to_string_lossy().to_string();
        // Full trees, columns and expert infos in both passes: the most work the plugin does.
        let args = [
            "-r",
            &*cap_s,
            "-2",
            "-V",
            "-o",
            "tcp.desegment_tcp_streams:TRUE",
        ];
        let with = sb.tshark(&args);
        let without = sb.tshark_with(&empty, &args);
        assert_eq!(
            with.status.code(),
            without.status.code(),
            "{}: exit status differs with the plugin: {}",
            capture.display(),
            String::from_utf8_lossy(&with.stderr)
        );
        let err = String::from_utf8_lossy(&with.stderr);
        assert_eq!(
            err,
            String::from_utf8_lossy(&without.stderr),
            "{}: stderr differs with the plugin",
            capture.display()
        );
        assert!(
            !err.to_lowercase().contains("tcplife"),
            "{}: {err}",
            capture.display()
        );
        let text = String::from_utf8_lossy(&with.stdout);
        assert!(
            !text.contains("Dissector bug, protocol TCP Lifecycle"),
            "{}",
            capture.display()
        );
        let got = plugin_tsv(&sb, &cap, &[]);
        assert_eq!(got, cli_tsv(capture), "{}", capture.display());
    }
}

/// `tshark -q -z io,phs`'s table.
fn phs(sb: &Sandbox, plugin_dir: &Path, args: &[&str]) -> String {
    let out = sb.tshark_with(plugin_dir, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Filter:"))
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with("===="))
        .collect();
    assert!(table.len() >= 3, "{text}");
    table.join("\n")
}

/// A postdissector changes no Protocol Hierarchy count: `tshark -z io,phs` prints the same table
/// with the plugin as without it, also when its fields are in use (a column, a filter, a full
/// tree), since its items hang under TCP's, not at the top of the tree.
#[test]
fn protocol_hierarchy_is_the_same_with_and_without_the_plugin() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    // Only tcplife: a real dissector such as Hello Demo does change the hierarchy, as it should.
    let only = sb.dir.join("only-tcplife");
    let epan = only.join(wireshark_major_minor()).join("epan");
    fs::create_dir_all(&epan).unwrap();
    fs::copy(sb.tcplife_so(), epan.join("tcplife.so")).unwrap();
    let empty = sb.dir.join("no-plugins");
    fs::create_dir_all(&empty).unwrap();
    sb.open_up(&sb.dir);
    let column = "gui.column.format:\"No.\",\"%m\",\"Phase\",\"%Cus:tcplife.phase\"";
    let mut compared = 0;
    for capture in conformance_captures() {
        let cap = sb.capture(&capture);
        let cap = cap.to_string_lossy();
        let plain = ["-q", "-r", &*cap, "-z", "io,phs"];
        let without = phs(&sb, &empty, &plain);
        assert!(without.contains("tcp "), "{}: {without}", capture.display());
        assert_eq!(phs(&sb, &only, &plain), without, "{}", capture.display());
        // Its items exist here (a column, a filter want them): still not in the hierarchy.
        for extra in [
            &["-2", "-o", column][..],
            &["-2", "-Y", "tcplife || !tcplife"][..],
        ] {
            let mut args = plain.to_vec();
            args.extend_from_slice(extra);
            let with = phs(&sb, &only, &args);
            assert_eq!(with, without, "{} {extra:?}", capture.display());
            assert!(!with.contains("tcplife"));
        }
        compared += 1;
    }
    assert!(compared >= 10);
    // The items are there all the same, under TCP's.
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let http = http.to_string_lossy();
    let tree = sb.tshark_ok(&["-r", &http, "-c", "1", "-V"]);
    let tcp = tree
        .find("Transmission Control Protocol")
        .expect("TCP in the tree");
    let ours = tree
        .find("    TCP Lifecycle: client SYN, handshake 1/3")
        .expect(&tree);
    assert!(ours > tcp, "{tree}");
}

fn cli_conn_endings(capture: &Path) -> Vec<(String, String)> {
    let out = Command::new(workspace_bin("tcplife"))
        .args(["conns", "--format", "zeek"])
        .arg(capture)
        .output()
        .expect("tcplife runs");
    assert!(out.status.success(), "tcplife conns {}", capture.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .expect("#fields header")
        .split('\t')
        .collect();
    let col = |name: &str| {
        fields
            .iter()
            .position(|f| *f == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (id, ending) = (col("tcplife_conn_id"), col("tcplife_ending"));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            (v[id].to_string(), v[ending].to_string())
        })
        .collect()
}

/// Notes known only at the end of the capture (shown from tshark's second pass on) land on the
/// last packet of exactly the connections whose ending, per `tcplife conns`, earns them.
#[test]
fn end_of_capture_notes_match_the_cli_endings() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    for capture in conformance_captures() {
        let endings = cli_conn_endings(&capture);
        let tsv = cli_tsv(&capture);
        let cap = sb.capture(&capture);
        let cap = cap.to_string_lossy();
        for (expert, earning) in [
            (
                "tcplife.expert.not_closed",
                &["never closed", "midstream, not closed", "half-closed"][..],
            ),
            (
                "tcplife.expert.handshake_incomplete",
                &["unanswered", "handshake incomplete"][..],
            ),
        ] {
            let mut expected: Vec<(String, String)> = endings
                .iter()
                .filter(|(_, e)| earning.contains(&e.as_str()))
                .map(|(id, _)| {
                    let last = tsv
                        .iter()
                        .rfind(|l| cell(l, "conn") == id.as_str())
                        .expect("the connection has packets");
                    (cell(last, "frame").to_string(), id.clone())
                })
                .collect();
            expected.sort();
            let out = sb.fields(
                &["-r", &cap, "-2", "-Y", expert],
                &["frame.number", "tcplife.conn"],
            );
            let mut got: Vec<(String, String)> = out
                .lines()
                .map(|l| {
                    let (f, c) = l.split_once('\t').unwrap();
                    (f.to_string(), c.to_string())
                })
                .collect();
            got.sort();
            assert_eq!(got, expected, "{} {expert}", capture.display());
        }
    }
}

/// Where the end-of-capture notes cannot be shown (one pass: nothing is dissected after the
/// capture's end is known), tshark says so in one line on stderr, with the counts `tcplife
/// conns` gives; with `-2` they are shown and nothing is said.
#[test]
fn tshark_says_when_end_of_capture_notes_are_not_shown() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let (mut with_line, mut without) = (0, 0);
    for capture in conformance_captures() {
        let endings = cli_conn_endings(&capture);
        let count = |earning: &[&str]| {
            endings
                .iter()
                .filter(|(_, e)| earning.contains(&e.as_str()))
                .count()
        };
        let not_closed = count(&["never closed", "midstream, not closed", "half-closed"]);
        let incomplete = count(&["unanswered", "handshake incomplete"]);
        let total = not_closed + incomplete;
        let expected = if total == 0 {
            without += 1;
            String::new()
        } else {
            with_line += 1;
            format!(
                "tcplife: end-of-capture notes not shown for {total} connection{} ({not_closed} \
                 not closed, {incomplete} handshake never completed): they are known only after \
                 the first pass, and no frame was dissected again; run tshark with -2 (the \
                 Wireshark GUI shows them)\n",
                if total == 1 { "" } else { "s" }
            )
        };
        let cap = sb.capture(&capture);
        let cap = cap.to_string_lossy();
        let one_pass = sb.tshark(&["-r", &cap, "-T", "fields", "-e", "frame.number"]);
        assert!(one_pass.status.success(), "{}", capture.display());
        assert_eq!(
            String::from_utf8_lossy(&one_pass.stderr),
            expected,
            "{} one pass",
            capture.display()
        );
        let two_pass = sb.tshark(&["-r", &cap, "-2", "-T", "fields", "-e", "frame.number"]);
        assert!(two_pass.status.success(), "{}", capture.display());
        assert_eq!(
            String::from_utf8_lossy(&two_pass.stderr),
            "",
            "{} -2",
            capture.display()
        );
    }
    // Both cases occur: wikipedia.pcap, among others, ends with connections open.
    assert!(
        with_line >= 3 && without >= 10,
        "{with_line} captures with notes to miss, {without} without"
    );
}

/// The naming rule of the plugin's fields (`tcplife_fields::title_by_rule`), from a filter name.
fn title_of(filter_name: &str) -> String {
    tcplife_fields::title_by_rule(
        filter_name
            .strip_prefix("tcplife.")
            .expect("a tcplife field"),
    )
}

/// Every field's title in `tshark -G fields` follows the rule, and so does every lifecycle
/// column of the installed "TCP Lifecycle" profile.
#[test]
fn field_titles_and_profile_columns_follow_one_naming_rule() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    assert_eq!(title_of("tcplife.conn_state"), "Conn state");
    assert_eq!(title_of("tcplife.handshake_rtt"), "Handshake RTT");
    let fields = sb.tshark_ok(&["-G", "fields"]);
    let titles: Vec<(String, String)> = fields
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 2
                && cols[0] == "F"
                && cols[2].starts_with("tcplife.")
                && !cols[2].starts_with("tcplife.expert."))
            .then(|| (cols[2].to_string(), cols[1].to_string()))
        })
        .collect();
    let names: Vec<&str> = titles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        field_names(),
        "the lifecycle fields, in registration order"
    );
    for (name, title) in &titles {
        assert_eq!(title, &title_of(name), "{name}");
    }
    let lib = sb.tcplife_so();
    let (code, out, err) = run_script(
        sb.unprivileged(&script_path("plugin-install.sh")),
        &["--lib", &lib.to_string_lossy()],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let (_, profile) = installed_paths(&sb);
    let prefs = fs::read_to_string(profile.join("preferences")).unwrap();
    let mut columns = 0;
    for line in prefs.lines() {
        let Some((title, format)) = line.trim().split_once(", ") else {
            continue;
        };
        let (title, format) = (
            title.trim_matches('"'),
            format.trim_end_matches(',').trim_matches('"'),
        );
        if let Some(field) = format.strip_prefix("%Cus:") {
            let field = field.split(':').next().unwrap();
            assert_eq!(title, title_of(field), "profile column {format}");
            columns += 1;
        }
    }
    let profile_fields = tcplife_fields::FIELDS
        .iter()
        .filter(|f| f.column_width.is_some())
        .count();
    assert_eq!(columns, profile_fields, "{prefs}");
    assert!(columns >= 6, "{prefs}");
}

/// `scripts/NAME ARGS` run by `cmd` (the sandbox's unprivileged user, or root): exit code,
/// stdout, stderr.
fn run_script(mut cmd: Command, args: &[&str]) -> (Option<i32>, String, String) {
    let out = cmd.args(args).output().expect("the script runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn script_path(name: &str) -> PathBuf {
    project_root().join("scripts").join(name)
}

/// `--help` is the scripts' comment block and nothing of the code after it.
#[test]
fn install_scripts_help() {
    for (name, first, last) in [
        (
            "plugin-install.sh",
            "Installs the tcplife Wireshark plugin into the current user's personal plugin folder for the",
            "A profile whose preferences were changed since it was installed is kept as it is.",
        ),
        (
            "plugin-uninstall.sh",
            "Removes what scripts/plugin-install.sh installed for the current user: the plugin from the",
            "count as a change.",
        ),
    ] {
        for flag in ["--help", "-h"] {
            let (code, out, err) = run_script(Command::new(script_path(name)), &[flag]);
            assert_eq!((code, err.as_str()), (Some(0), ""), "{name} {flag}");
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.first(), Some(&first), "{name} {flag}:\n{out}");
            assert_eq!(lines.last(), Some(&last), "{name} {flag}:\n{out}");
            assert!(
                !out.contains("set -") && !out.contains('#'),
                "{name} {flag} prints code:\n{out}"
            );
        }
        let (code, _, err) = run_script(Command::new(script_path(name)), &["--bogus"]);
        assert_eq!(code, Some(2), "{name} --bogus");
        assert!(err.contains("unknown argument '--bogus'"), "{err}");
    }
    let (_, out, _) = run_script(Command::new(script_path("plugin-install.sh")), &["--help"]);
    assert!(
        out.contains("--lib FILE") && out.contains("not Wireshark's development files"),
        "{out}"
    );
}

fn nobody_uid() -> u32 {
    let out = Command::new("id").args(["-u", "nobody"]).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Where the installer puts things under the sandbox's HOME.
fn installed_paths(sb: &Sandbox) -> (PathBuf, PathBuf) {
    (
        sb.home
            .join(".local/lib/wireshark/plugins")
            .join(wireshark_major_minor())
            .join("epan/tcplife.so"),
        sb.home.join(".config/wireshark/profiles/TCP Lifecycle"),
    )
}

/// The plugin, as the sandbox's user sees it: listed by `tshark -G plugins` from `path`.
fn loaded_from(sb: &Sandbox, path: &Path) -> bool {
    let plugins = String::from_utf8(sb.tshark_env(None, &["-G", "plugins"]).stdout).unwrap();
    plugins
        .lines()
        .any(|l| l.starts_with("tcplife.so") && l.ends_with(&*path.to_string_lossy()))
}

/// scripts/plugin-install.sh, run by an unprivileged user with only tshark (`--lib`), puts the
/// plugin where that user's Wireshark looks, checks that it loads and says so, and installs a
/// "TCP Lifecycle" profile whose columns tshark -C prints; plugin-uninstall.sh takes both away.
#[test]
fn install_script_profile_columns_and_uninstall() {
    let sb = Sandbox::new();
    // The sandbox's copy: readable by the unprivileged user.
    let lib = sb.tcplife_so();
    let (plugin, profile) = installed_paths(&sb);
    let (code, out, err) = run_script(
        sb.unprivileged(&script_path("plugin-install.sh")),
        &["--lib", &lib.to_string_lossy()],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(err, "");
    let version = ok(tshark_testkit::wireshark_version()).to_string();
    assert_eq!(
        out,
        format!(
            "installed {}: Wireshark {version} loads it\ninstalled profile '{}'\n",
            plugin.display(),
            profile.display()
        )
    );
    assert!(loaded_from(&sb, &plugin), "installed plugin not loaded");
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let http = http.to_string_lossy();
    let out = sb.tshark_env(None, &["-C", "TCP Lifecycle", "-r", &http, "-c", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    // The profile's lifecycle columns, in the schema's order, hold what the CLI says.
    let tsv = cli_tsv(&shared_captures().join("zeek/http_get.pcap"));
    let wants: Vec<String> = tsv[..3]
        .iter()
        .map(|row| {
            let cells: Vec<&str> = tcplife_fields::FIELDS
                .iter()
                .filter(|f| f.column_width.is_some())
                .map(|f| cell(row, f.name))
                .collect();
            format!(" {} ", cells.join(" "))
        })
        .collect();
    assert_eq!(wants[0], " 1 handshake 1/3 SYN-SENT LISTEN S0 ");
    for (line, want) in lines.iter().zip(&wants) {
        assert!(
            line.contains(want.as_str()),
            "profile columns missing: {line:?} lacks {want:?}"
        );
    }
    // The files are the ones rendered from the schema (plugins/tcplife/profile/), the
    // installer's own first line aside; the widths are for the GUI (tshark does not read them;
    // docs/screenshot.png shows them).
    let prefs = fs::read_to_string(profile.join("preferences")).unwrap();
    let (first, rest) = prefs.split_once('\n').unwrap();
    assert!(
        first.starts_with("# Wireshark profile \"TCP Lifecycle\""),
        "{first}"
    );
    assert_eq!(rest, tcplife_fields::render::profile_preferences());
    let recent =
        std::fs::read_to_string(profile.join("recent")).expect("the profile's recent file");
    assert_eq!(recent, tcplife_fields::render::profile_recent());
    assert!(recent.contains("\t%Cus:tcplife.phase, 112,\n"), "{recent}");
    // Wireshark's own window state does not make the profile the user's.
    fs::write(profile.join("recent"), "gui.toolbar_main_show: TRUE\n").unwrap();
    let (code, out, err) = run_script(sb.unprivileged(&script_path("plugin-uninstall.sh")), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        format!(
            "removed {}\nremoved profile '{}'\n",
            plugin.display(),
            profile.display()
        )
    );
    assert!(!profile.exists() && !plugin.exists());
    assert!(!loaded_from(&sb, &plugin));
    let (_, out, _) = run_script(sb.unprivileged(&script_path("plugin-uninstall.sh")), &[]);
    assert_eq!(out, "nothing to remove\n");
}

/// A library this Wireshark does not load: the installer says so, with Wireshark's reason, exits
/// non-zero and leaves no plugin behind.
#[test]
fn install_script_refuses_a_plugin_wireshark_does_not_load() {
    let sb = Sandbox::new();
    let bogus = sb.home.join("caps/not-a-plugin.so");
    fs::write(&bogus, "not an ELF file\n").unwrap();
    fs::set_permissions(&bogus, fs::Permissions::from_mode(0o644)).unwrap();
    let (plugin, profile) = installed_paths(&sb);
    let (code, out, err) = run_script(
        sb.unprivileged(&script_path("plugin-install.sh")),
        &["--lib", &bogus.to_string_lossy()],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(&format!(
            "Couldn't load plugin 'tcplife.so': {}",
            plugin.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "did not load {} (its messages are above); removed it again",
            plugin.display()
        )),
        "{err}"
    );
    assert!(!plugin.exists() && !profile.exists());

    // A real plugin, but for another Wireshark: Wireshark's own words say which.
    let src = sb.home.join("caps/old.c");
    fs::write(
        &src,
        "const char plugin_version[] = \"0.1\";\n\
         const int plugin_want_major = 3, plugin_want_minor = 6;\n\
         void plugin_register(void) {}\n",
    )
    .unwrap();
    let old = sb.home.join("caps/old.so");
    let cc = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&old)
        .arg(&src)
        .status()
        .expect("cc runs (the plugin's build needs it too)");
    assert!(cc.success());
    fs::set_permissions(&old, fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = run_script(
        sb.unprivileged(&script_path("plugin-install.sh")),
        &["--lib", &old.to_string_lossy()],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("The plugin 'tcplife.so' was compiled for Wireshark version 3.6"),
        "{err}"
    );
    assert!(!plugin.exists());
}

/// Uninstalling keeps a profile the user changed, says what was changed, and --purge removes it;
/// installing again does not overwrite the user's preferences.
#[test]
fn uninstall_keeps_a_changed_profile_unless_purged() {
    let sb = Sandbox::new();
    let lib = sb.tcplife_so();
    let lib = lib.to_string_lossy();
    let (plugin, profile) = installed_paths(&sb);
    let install = || {
        run_script(
            sb.unprivileged(&script_path("plugin-install.sh")),
            &["--lib", &lib],
        )
    };
    let uninstall =
        |args: &[&str]| run_script(sb.unprivileged(&script_path("plugin-uninstall.sh")), args);
    assert_eq!(install().0, Some(0));
    // As Wireshark saves a preference: the whole file rewritten, our first line gone.
    let prefs = profile.join("preferences");
    let mine = format!(
        "# Configuration file for Wireshark.\n{}gui.column.hidden: %t\n",
        fs::read_to_string(&prefs)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    fs::write(&prefs, &mine).unwrap();
    fs::write(
        profile.join("colorfilters"),
        "@tcplife@tcplife@[0,0,0][65535,65535,65535]\n",
    )
    .unwrap();
    let (code, out, _) = install();
    assert_eq!(code, Some(0));
    assert!(
        out.ends_with(&format!(
            "kept profile '{}': its preferences were changed since they were installed \
             (scripts/plugin-uninstall.sh --purge removes it; then install again for the new columns)\n",
            profile.display()
        )),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&prefs).unwrap(), mine);
    let (code, out, _) = uninstall(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!(
            "removed {}\nkept profile '{}': changed since it was installed: preferences \
             colorfilters (scripts/plugin-uninstall.sh --purge removes it)\n",
            plugin.display(),
            profile.display()
        )
    );
    assert_eq!(fs::read_to_string(&prefs).unwrap(), mine);
    let (code, out, _) = uninstall(&["--purge"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!(
            "removed profile '{}' (--purge), with what was changed in it: preferences colorfilters\n",
            profile.display()
        )
    );
    assert!(!profile.exists());
}

/// Run by root: into a home that belongs to a user, the installer installs as that user (whose
/// files they are, and whose Wireshark is asked); into root's own home it checks the library as
/// nobody and warns that root's Wireshark will not load it.
#[test]
fn install_script_as_root() {
    if !is_root() {
        eprintln!("not root: nothing to check");
        return;
    }
    let sb = Sandbox::new();
    let lib = sb.tcplife_so();
    let lib = lib.to_string_lossy();
    let (plugin, profile) = installed_paths(&sb);
    let as_root = |home: &Path, script: &str, args: &[&str]| {
        let mut cmd = Command::new(script_path(script));
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env_remove("WIRESHARK_PLUGIN_DIR");
        run_script(cmd, args)
    };
    std::os::unix::fs::chown(&sb.home, Some(nobody_uid()), None).unwrap();
    let (code, out, err) = as_root(&sb.home, "plugin-install.sh", &["--lib", &lib]);
    assert_eq!((code, err.as_str()), (Some(0), ""), "{out}");
    assert!(
        out.contains(" loads it\n") && !out.contains("as nobody"),
        "{out}"
    );
    use std::os::unix::fs::MetadataExt;
    for p in [&plugin, &profile.join("preferences")] {
        assert_eq!(
            fs::metadata(p).unwrap().uid(),
            nobody_uid(),
            "{}",
            p.display()
        );
    }
    assert!(loaded_from(&sb, &plugin));

    let root_home = sb.dir.join("root-home");
    fs::create_dir_all(&root_home).unwrap();
    let (code, out, err) = as_root(&root_home, "plugin-install.sh", &["--lib", &lib]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(" loads it (checked as nobody)\n"), "{out}");
    assert_eq!(
        err,
        "plugin-install: warning: installed for root, but Wireshark run as root ignores personal \
         plugins: run this script as the user who runs Wireshark\n"
    );
    let (code, _, err) = as_root(&root_home, "plugin-install.sh", &["--lib", "/etc/hostname"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Couldn't load plugin") && err.contains("checked as nobody"),
        "{err}"
    );
}
/// A panic inside the plugin (injected, while it holds its state lock) neither kills tshark nor
/// prints anything, and later packets are still annotated; a Wireshark exception raised under the
/// plugin reaches Wireshark as a malformed packet, and dissection goes on.
#[test]
fn panics_and_wireshark_exceptions_do_not_escape() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let http = http.to_string_lossy();
    let args = [
        "-r",
        &*http,
        "-2",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "tcplife.phase",
        "-e",
        "_ws.malformed",
    ];

    let out = sb.tshark_full(Some(&sb.plugins), Some("panic:2"), &args);
    assert!(out.status.success(), "tshark died: {:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "a panic must print nothing"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 14, "{text}");
    assert_eq!(lines[1], "2\t\t", "the panicking frame has no annotation");
    for l in lines.iter().filter(|l| !l.starts_with("2\t")) {
        assert!(
            l.split('\t').nth(1).is_some_and(|p| !p.is_empty()),
            "not annotated after the panic: {l}"
        );
    }

    let out = sb.tshark_full(Some(&sb.plugins), Some("throw:2"), &args);
    assert!(out.status.success(), "tshark died: {:?}", out.status);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 14, "{text}");
    assert!(lines[1].contains("Malformed Packet: TCPLife"), "{text}");
    assert!(
        lines.iter().filter(|l| l.contains("Malformed")).count() == 1,
        "{text}"
    );
    // Without the fault, every frame is annotated and none is malformed.
    let clean = sb.tshark_ok(&args);
    assert!(!clean.contains("Malformed"), "{clean}");
}

/// The text between the rule lines under `title` in tshark's `-z tcplife,...` output.
fn stat_section(out: &str, title: &str) -> String {
    let rule = "=".repeat(99);
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no {title:?} in tshark's output:\n{out}"));
    assert_eq!(lines[at - 1], rule, "{out}");
    assert_eq!(lines[at + 1], rule, "{out}");
    let end = at
        + 2
        + lines[at + 2..]
            .iter()
            .position(|l| *l == rule)
            .expect("closing rule");
    lines[at + 2..end]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect()
}

fn cli_stdout(args: &[&str], capture: &Path) -> String {
    let out = Command::new(workspace_bin("tcplife"))
        .args(args)
        .arg(capture)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} {}", capture.display());
    String::from_utf8(out.stdout).unwrap()
}

/// `tshark -z tcplife,conns` prints exactly the table `tcplife conns` prints, and
/// `-z tcplife,summary` exactly what `tcplife summary` prints, on every capture of the tests, in
/// one pass and in two.
#[test]
fn tshark_statistics_equal_the_cli() {
    let sb = Sandbox::new();
    sb.assert_plugin_loaded();
    for capture in conformance_captures() {
        let conns = cli_stdout(&["conns", "--format", "table"], &capture);
        let summary = cli_stdout(&["summary"], &capture);
        let n = conns.lines().count().saturating_sub(1);
        let copy = sb.capture(&capture);
        let copy = copy.to_string_lossy();
        for passes in [&[][..], &["-2"][..]] {
            let mut args = vec![
                "-q",
                "-r",
                &*copy,
                "-z",
                "tcplife,conns",
                "-z",
                "tcplife,summary",
            ];
            args.extend_from_slice(passes);
            let out = sb.tshark_ok(&args);
            let title = format!("TCP Lifecycle: connections ({n})");
            assert_eq!(
                stat_section(&out, &title),
                conns,
                "{} {passes:?}",
                capture.display()
            );
            assert_eq!(
                stat_section(&out, "TCP Lifecycle: summary"),
                summary,
                "{} {passes:?}",
                capture.display()
            );
        }
    }
}

/// `-z tcplife,conns,FILTER` lists the connections with a frame that passes the display filter,
/// tcplife's own fields included; a bad filter stops tshark with tshark's message.
#[test]
fn tshark_statistics_take_a_display_filter() {
    let sb = Sandbox::new();
    let pop3 = sb.capture(&shared_captures().join("zeek/pop3_pop3.pcap"));
    let pop3 = pop3.to_string_lossy();
    let out = sb.tshark_ok(&[
        "-q",
        "-r",
        &pop3,
        "-z",
        "tcplife,conns,tcp.port == 26284 || tcplife.conn == 1",
    ]);
    let rows: Vec<String> = stat_section(&out, "TCP Lifecycle: connections (2)")
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(6).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows,
        [
            "1 192.168.0.4:26242 -> 212.227.15.188:110 REJ Sr",
            "8 192.168.0.4:26284 -> 212.227.15.166:110 SF ShAdDafF",
        ]
    );
    let out = sb.tshark_ok(&[
        "-q",
        "-r",
        &pop3,
        "-z",
        "tcplife,summary,tcplife.conn_state == \"REJ\"",
    ]);
    let summary = stat_section(&out, "TCP Lifecycle: summary");
    assert!(summary.starts_with("6 TCP connections in 1 file\n\nby ending\nending   conns      %\nrefused      6  100.0\n"), "{summary}");
    let bad = sb.tshark(&["-q", "-r", &pop3, "-z", "tcplife,conns,nonsense("]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("Couldn't register tcplife,conns tap: Filter \"nonsense(\" is invalid"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The stats tree behind Statistics > TCP Lifecycle, printed by `tshark -2 -z
/// tcplife_endings,tree`: every connection once, under its ending, with its conn_state and
/// history as `tcplife conns` says, and the counts by ending and by conn_state. In one pass it
/// stays empty: the endings are known only once the first pass is over.
#[test]
fn stats_tree_counts_every_connection_under_its_ending() {
    let sb = Sandbox::new();
    for capture in conformance_captures() {
        let conns = cli_stdout(&["conns", "--format", "json"], &capture);
        let rows: Vec<serde_json::Value> = conns
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let copy = sb.capture(&capture);
        let copy = copy.to_string_lossy();
        let out = sb.tshark_ok(&["-q", "-2", "-r", &copy, "-z", "tcplife_endings,tree"]);
        // Tree lines: indentation, name, then the Count column.
        let mut by_ending: std::collections::BTreeMap<String, u64> = Default::default();
        let mut listed: Vec<(String, String)> = Vec::new();
        let mut ending = String::new();
        let mut section = "";
        for line in out.lines() {
            if line.starts_with("Connections by ending") {
                section = "ending";
                continue;
            }
            if line.starts_with("Connections by conn_state") {
                section = "state";
                continue;
            }
            let cols: Vec<&str> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if section == "ending" && line.starts_with("  conn ") {
                // "conn N: client -> server  STATE HISTORY  closed first: ..."
                let name = line.trim_start();
                let id = name["conn ".len()..name.find(':').unwrap()].to_string();
                let words: Vec<&str> = name.split_whitespace().collect();
                listed.push((id, format!("{ending}|{}|{}", words[5], words[6])));
            } else if section == "ending" && line.starts_with(' ') && cols.len() >= 2 {
                ending = cols[0].to_string();
                by_ending.insert(ending.clone(), cols[1].parse().unwrap());
            }
        }
        let mut want: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["tcplife_conn_id"].to_string(),
                    format!(
                        "{}|{}|{}",
                        r["tcplife_ending"].as_str().unwrap(),
                        r["conn_state"].as_str().unwrap(),
                        r["history"].as_str().unwrap()
                    ),
                )
            })
            .collect();
        want.sort();
        listed.sort();
        assert_eq!(listed, want, "{}:\n{out}", capture.display());
        let mut want_counts: std::collections::BTreeMap<String, u64> = Default::default();
        for r in &rows {
            *want_counts
                .entry(r["tcplife_ending"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert_eq!(by_ending, want_counts, "{}", capture.display());
    }
    // One pass: the tree has its two top nodes and nothing under them.
    let http = sb.capture(&shared_captures().join("zeek/http_get.pcap"));
    let out = sb.tshark_ok(&[
        "-q",
        "-r",
        &http.to_string_lossy(),
        "-z",
        "tcplife_endings,tree",
    ]);
    assert!(out.contains("Connections by ending"), "{out}");
    assert!(!out.contains("conn 1:"), "{out}");
}
