//! Finds the installed Wireshark with pkg-config, generates allow-listed bindings from its
//! headers, compiles the C shim, and hands the Wireshark version to the crate: a plugin only
//! loads into the major.minor it was built against, so nothing here is hard-coded.
//!
//! This is the one place that looks at the Wireshark version: the cfgs it emits are read only
//! by this crate (src/lib.rs turns them into constants and macros), and the C side's
//! differences are in shim/compat.h.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const PACKAGES_HINT: &str = "Debian/Ubuntu: apt-get install libwireshark-dev libwiretap-dev \
libglib2.0-dev libclang-dev clang pkg-config (or run scripts/setup-debian.sh)";

fn main() {
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-changed=shim/compat.h");
    println!("cargo:rerun-if-env-changed=WIRESHARK_INCLUDE_DIR");
    println!("cargo::rustc-check-cfg=cfg(ws_plugin_describe)");

    // Link flags are printed after the shim is compiled (below), not by the probe.
    let wireshark = match pkg_config::Config::new()
        .atleast_version("4.0")
        .cargo_metadata(false)
        .probe("wireshark")
    {
        Ok(lib) => lib,
        Err(err) => {
            eprintln!("\nerror: epan-sys needs the Wireshark development files (>= 4.0).\n{PACKAGES_HINT}\npkg-config said: {err}\n");
            std::process::exit(1);
        }
    };
    let glib = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("glib-2.0")
        .unwrap_or_else(|err| {
            eprintln!("\nerror: epan-sys needs glib's headers.\n{PACKAGES_HINT}\npkg-config said: {err}\n");
            std::process::exit(1);
        });

    // Lets a developer compile against another release's unpacked headers (e.g. Debian 13's 4.4)
    // without installing it: the headers come first, pkg-config's stay as the fallback.
    let mut includes: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = env::var("WIRESHARK_INCLUDE_DIR") {
        includes.push(PathBuf::from(dir));
    }
    includes.extend(wireshark.include_paths.iter().cloned());
    includes.extend(glib.include_paths.iter().cloned());

    let (major, minor, micro) = read_version(&includes);
    if (major, minor) < (4, 0) {
        eprintln!("\nerror: Wireshark {major}.{minor} is too old: epan-sys needs 4.0 or later.\n{PACKAGES_HINT}\n");
        std::process::exit(1);
    }
    // Wireshark 4.2 started reading `plugin_describe`; older loaders ignore it, but exporting it
    // only where it is understood keeps the symbol table honest.
    if (major, minor) >= (4, 2) {
        println!("cargo:rustc-cfg=ws_plugin_describe");
    }

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(
        out.join("ws_version.rs"),
        format!(
            "/// Major version of the Wireshark built against (from ws_version.h).\n\
             pub const WS_MAJOR: i32 = {major};\n\
             /// Minor version of the Wireshark built against.\n\
             pub const WS_MINOR: i32 = {minor};\n\
             /// Micro version of the Wireshark built against.\n\
             pub const WS_MICRO: i32 = {micro};\n"
        ),
    )
    .unwrap();
    // For build scripts of dependent crates (DEP_WIRESHARK_VERSION_MAJOR...).
    println!("cargo:version_major={major}");
    println!("cargo:version_minor={minor}");
    println!("cargo:version_micro={micro}");

    let mut build = cc::Build::new();
    build
        .file("shim/shim.c")
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter");
    for inc in &includes {
        build.include(inc);
    }
    build.compile("epan_shim");
    // Only the shim calls into libwireshark, so the libraries come after it on the link line:
    // named before it (as the probe would print them), Debian 13's rustc 1.85 built a plugin
    // without libwireshark among its NEEDED libraries (the linker drops a library no earlier
    // object uses).
    for dir in &wireshark.link_paths {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
    for lib in &wireshark.libs {
        println!("cargo:rustc-link-lib={lib}");
    }

    let mut bindings = bindgen::Builder::default()
        .header("shim/shim.h")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("shim_.*")
        .allowlist_type("shim_.*")
        .allowlist_var("WTAP_ENCAP_.*")
        .allowlist_var("SHIM_HEUR_SLOTS")
        .allowlist_var("SHIM_CELL_.*")
        .allowlist_var("SHIM_SRT_.*")
        .allowlist_var("FT_.*")
        .allowlist_var("BASE_.*")
        .allowlist_var("PI_.*")
        .allowlist_var("ENC_.*")
        .allowlist_var("WS_PLUGIN_DESC_DISSECTOR")
        .allowlist_var("REC_TYPE_.*")
        .allowlist_type("ftenum")
        .allowlist_type("field_display_e")
        .opaque_type("tvbuff")
        .opaque_type("_packet_info")
        .opaque_type("_proto_node")
        .opaque_type("expert_module")
        .opaque_type("module")
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate_comments(false);
    for inc in &includes {
        bindings = bindings.clang_arg(format!("-I{}", inc.display()));
    }
    let bindings = bindings.generate().unwrap_or_else(|err| {
        eprintln!(
            "\nerror: bindgen could not read the Wireshark headers: {err}\n{PACKAGES_HINT}\n"
        );
        std::process::exit(1);
    });
    bindings.write_to_file(out.join("bindings.rs")).unwrap();
}

fn read_version(includes: &[PathBuf]) -> (i32, i32, i32) {
    for dir in includes {
        let path = Path::new(dir).join("ws_version.h");
        if let Ok(text) = fs::read_to_string(&path) {
            println!("cargo:rerun-if-changed={}", path.display());
            let get = |name: &str| -> i32 {
                text.lines()
                    .find_map(|l| {
                        let mut w = l.split_whitespace();
                        (w.next() == Some("#define") && w.next() == Some(name))
                            .then(|| w.next().and_then(|v| v.parse().ok()))
                            .flatten()
                    })
                    .unwrap_or_else(|| panic!("{name} missing from {}", path.display()))
            };
            return (
                get("WIRESHARK_VERSION_MAJOR"),
                get("WIRESHARK_VERSION_MINOR"),
                get("WIRESHARK_VERSION_MICRO"),
            );
        }
    }
    eprintln!("\nerror: ws_version.h not found in {includes:?}.\n{PACKAGES_HINT}\n");
    std::process::exit(1);
}
