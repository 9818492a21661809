//! A C program compiled against `include/tcplife.h` and linked with `libtcplife_abi.so` (and
//! nothing else of the project): what a C user does. Its output is the engine's, exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

/// target/<profile>/, where cargo put the cdylib next to this test's deps/ folder.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

#[test]
fn a_c_program_runs_a_handshake_through_the_library() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib_dir = profile_dir();
    assert!(
        lib_dir.join("libtcplife_abi.so").exists(),
        "libtcplife_abi.so missing from {}",
        lib_dir.display()
    );
    let out_dir = std::env::temp_dir().join(format!("tcplife-abi-c-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
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
    let out = Command::new(&exe)
        .env("LD_LIBRARY_PATH", &lib_dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "1 client SYN handshake 1/3 S\n\
         2 server SYN-ACK handshake 2/3 Sh\n\
         3 client handshake ACK handshake 3/3 ShA\n\
         10.0.0.1:40000 -> 10.0.0.2:80 S1 never closed rtt=2000\n"
    );
}
