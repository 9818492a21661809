//! README's "Add your own dissector plugin", done as written: its shell block runs in a copy of
//! the workspace, and must build the new plugin, load it into the real tshark as an
//! unprivileged user, and pass the new plugin's own tests (its copy of Hello Demo's tshark test,
//! under the new names). The copy has the workspace's manifest, lock file, crates, tests and
//! scripts unchanged, and a `plugins/` folder with only Hello Demo in it; it lives at a fixed
//! place in the target folder, with its own target folder, so later runs build incrementally.

use std::fs;
use std::path::Path;
use std::process::Command;

use tcplife_tests::{project_root, target_profile_dir};

/// The first ```sh block of README's "Add your own dissector plugin" section.
fn readme_block() -> String {
    let readme = fs::read_to_string(project_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Add your own dissector plugin"))
        .expect("README has an \"Add your own dissector plugin\" section");
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block.to_string())
        .expect("the section has a ```sh block");
    assert!(
        block.contains("scripts/plugin.sh greeter --test"),
        "{block}"
    );
    block
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn readme_adds_a_plugin_that_loads_in_tshark() {
    let root = project_root();
    // target/<profile>/../new-plugin-test: beside the build this test belongs to.
    let base = target_profile_dir()
        .parent()
        .unwrap()
        .join("new-plugin-test");
    let ws = base.join("ws");
    let _ = fs::remove_dir_all(&ws);
    fs::create_dir_all(ws.join("plugins")).unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(root.join(file), ws.join(file)).unwrap();
    }
    for dir in ["crates", "tests", "scripts"] {
        std::os::unix::fs::symlink(root.join(dir), ws.join(dir)).unwrap();
    }
    copy_dir(
        &root.join("plugins/hellodemo"),
        &ws.join("plugins/hellodemo"),
    );

    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(readme_block())
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", base.join("target"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README's block failed:\n{stdout}\n{stderr}"
    );
    // plugin.sh checked that tshark loaded greeter.so and that it registered the protocol...
    assert!(
        stderr.contains("ok: greeter.so loaded; protocols: greeter"),
        "{stderr}"
    );
    // ...and the new plugin's own tshark tests (those it copied) ran and passed.
    let tshark_tests = fs::read_to_string(root.join("plugins/hellodemo/tests/tshark.rs"))
        .unwrap()
        .matches("#[test]")
        .count();
    assert!(tshark_tests >= 2);
    assert!(
        stdout.contains(&format!("test result: ok. {tshark_tests} passed"))
            && !stdout.contains("FAILED"),
        "{stdout}"
    );
    let lib = fs::read_to_string(ws.join("plugins/greeter/src/lib.rs")).unwrap();
    assert!(lib.contains("c\"greeter.greeting\"") && !lib.contains("hellodemo"));
    let _ = fs::remove_dir_all(&ws);
}
