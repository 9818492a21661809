//! The plugin in the real tshark: a capture with the server's greeting on port 42181 must show
//! the `hellodemo.greeting` field. `scripts/plugin.sh --lib ... --tshark` runs tshark with only
//! this plugin loaded, as an unprivileged user (Wireshark ignores plugin folders for root).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The plugin cargo built for this test run: target/<profile>/lib<crate>.so.
fn built_plugin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let lib = profile_dir.join(format!(
        "lib{}.so",
        env!("CARGO_PKG_NAME").replace('-', "_")
    ));
    assert!(lib.exists(), "{} not built", lib.display());
    lib
}

/// A pcap (raw IP) with one IPv4/TCP packet from `sport` to `dport` carrying `payload`.
fn capture(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 20 + payload.len();
    let mut pkt = vec![0u8; total];
    pkt[0] = 0x45;
    pkt[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    pkt[8] = 64;
    pkt[9] = 6;
    pkt[12..16].copy_from_slice(&[10, 0, 0, 2]);
    pkt[16..20].copy_from_slice(&[10, 0, 0, 1]);
    pkt[20..22].copy_from_slice(&sport.to_be_bytes());
    pkt[22..24].copy_from_slice(&dport.to_be_bytes());
    pkt[24..28].copy_from_slice(&1u32.to_be_bytes());
    pkt[32] = 5 << 4;
    pkt[33] = 0x18; // PSH, ACK
    pkt[34..36].copy_from_slice(&65535u16.to_be_bytes());
    pkt[40..].copy_from_slice(payload);
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
    file
}

/// tshark's standard output with only this plugin loaded, on a one-packet capture.
fn tshark(sport: u16, dport: u16, payload: &[u8], args: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!(
        "{}-test-{}-{sport}-{dport}-{}-{}",
        env!("CARGO_PKG_NAME"),
        std::process::id(),
        payload.len(),
        args.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pcap = dir.join("one.pcap");
    std::fs::write(&pcap, capture(sport, dport, payload)).unwrap();
    std::fs::set_permissions(&pcap, std::fs::Permissions::from_mode(0o644)).unwrap();

    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = crate_dir.join("../../scripts/plugin.sh");
    let out = Command::new(&script)
        .arg(crate_dir.file_name().unwrap())
        .arg("--lib")
        .arg(built_plugin())
        .args(["--tshark", "-r"])
        .arg(&pcap)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `tshark -r CAPTURE EXTRA -T fields -e hellodemo.greeting -e hellodemo.message -e
/// _ws.col.Protocol`.
fn tshark_fields(sport: u16, dport: u16, payload: &[u8], extra: &[&str]) -> String {
    let mut args = extra.to_vec();
    args.extend([
        "-T",
        "fields",
        "-e",
        "hellodemo.greeting",
        "-e",
        "hellodemo.message",
    ]);
    args.extend(["-e", "_ws.col.Protocol"]);
    tshark(sport, dport, payload, &args)
}

#[test]
fn tshark_shows_the_greeting() {
    assert_eq!(
        tshark_fields(42181, 50000, b"Hello Client\r\n", &[]),
        "Hello Client\t\tHelloDemo\n"
    );
    // On the port, any line is a message of the protocol.
    assert_eq!(
        tshark_fields(50000, 42181, b"anything\n", &[]),
        "\tanything\tHelloDemo\n"
    );
}

/// Off the port, the heuristic takes exactly the protocol's two lines and nothing else, and
/// tshark's `--disable-heuristic` turns it off.
#[test]
fn the_heuristic_finds_the_protocol_on_any_port() {
    assert_eq!(
        tshark_fields(5555, 50000, b"Hello Client\r\n", &[]),
        "Hello Client\t\tHelloDemo\n"
    );
    assert_eq!(
        tshark_fields(50000, 5555, b"Hello Server", &[]),
        "\tHello Server\tHelloDemo\n"
    );
    for not_it in [
        &b"Hello Client, again"[..],
        b"Hello",
        b"hello client",
        b"Hello Client\r\n\r\n",
    ] {
        assert_eq!(
            tshark_fields(5555, 50000, not_it, &[]),
            "\t\tTCP\n",
            "{:?}",
            String::from_utf8_lossy(not_it)
        );
    }
    assert_eq!(
        tshark_fields(
            5555,
            50000,
            b"Hello Client\r\n",
            &["--disable-heuristic", "hellodemo_tcp"]
        ),
        "\t\tTCP\n"
    );
}

/// Protocol Hierarchy (`-z io,phs`, no tree shown, no field asked for) counts the protocol
/// under TCP, as it does Wireshark's own.
#[test]
fn protocol_hierarchy_counts_the_protocol() {
    let phs = tshark(42181, 50000, b"Hello Client\r\n", &["-q", "-z", "io,phs"]);
    let table: Vec<&str> = phs
        .lines()
        .skip_while(|l| !l.starts_with("Filter:"))
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with("===="))
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        // Wireshark 4.6 lists the frame itself as the root row; 4.0 and 4.4 start below it.
        .skip_while(|p| *p == "frame")
        .collect();
    assert_eq!(table, ["raw", "ip", "tcp", "hellodemo"], "{phs}");
    assert!(phs.contains("      hellodemo"), "{phs}");
}
