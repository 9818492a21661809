//! A C program compiled against `include/tcplife.h` and linked with `libtcplife_abi.so` (and
//! nothing else of the project): what a C user does. Its output is the engine's, exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

/// target/<profile>/, where cargo put the cdylib next to this test's deps/ folder.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

const EXPECTED: &str = "1 client SYN handshake 1/3 S\n\
                        2 server SYN-ACK handshake 2/3 Sh\n\
                        3 client handshake ACK handshake 3/3 ShA\n\
                        10.0.0.1:40000 -> 10.0.0.2:80 S1 never closed rtt=2000\n";

/// Compiles tests/c/handshake.c against the header and the library, into `out_dir`.
fn build_c_program(out_dir: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib_dir = profile_dir();
    assert!(
        lib_dir.join("libtcplife_abi.so").exists(),
        "libtcplife_abi.so missing from {}",
        lib_dir.display()
    );
    std::fs::create_dir_all(out_dir).unwrap();
    let exe = out_dir.join("handshake");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("tests/c/handshake.c"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-ltcplife_abi")
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(status.success(), "{cc} failed to build the C program");
    exe
}

fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tcplife-abi-c-{tag}-{}", std::process::id()))
}

#[test]
fn a_c_program_runs_a_handshake_through_the_library() {
    let dir = temp_dir("run");
    let exe = build_c_program(&dir);
    let out = Command::new(&exe)
        .env("LD_LIBRARY_PATH", profile_dir())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), EXPECTED);
}

/// The same program where Wireshark's libraries cannot be loaded: in a private mount namespace
/// every libwireshark, libwiretap, libwsutil and libglib file the loader knows is covered by
/// /dev/null. tshark must then fail to start (proof that they are really gone) and the program
/// must still print the same. Needs root (a mount namespace); elsewhere it says so and stops,
/// and `tests/plugin_abi.rs` still checks the library's DT_NEEDED entries.
#[test]
fn it_runs_where_wireshark_libraries_cannot_be_loaded() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        eprintln!("not root: no mount namespace to hide Wireshark in; skipped");
        return;
    }
    let dir = temp_dir("hidden");
    let exe = build_c_program(&dir);
    let script = r#"
        set -e
        hidden=0
        for f in $(ldconfig -p | awk '/lib(wireshark|wiretap|wsutil|glib-2\.0)\.so/ {print $NF}'); do
            mount --bind /dev/null "$(readlink -f "$f")"
            hidden=$((hidden + 1))
        done
        echo "hidden $hidden" >&2
        if tshark -v >/dev/null 2>&1; then echo "tshark still starts" >&2; exit 90; fi
        exec "$0"
    "#;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(&exe)
        .env("LD_LIBRARY_PATH", profile_dir())
        .output()
        .expect("unshare runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("unshare failed") {
        eprintln!("no mount namespace here ({stderr}); skipped");
        return;
    }
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let hidden: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("hidden "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(hidden >= 4, "hid only {hidden} libraries: {stderr}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), EXPECTED);
}
