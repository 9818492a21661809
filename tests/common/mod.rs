//! Shared helpers for the integration tests: where the shared captures and built binaries are.

use std::path::PathBuf;

mod plugins;
pub use plugins::{manifest_value, plugin_at, workspace_plugins, WorkspacePlugin};

/// The project root (the workspace directory).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared/captures` beside the project root.
pub fn shared_captures() -> PathBuf {
    project_root().join("../shared/captures")
}

/// The cargo target directory the tests were built into (`target/debug` or `target/release`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test-exe>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of a binary built by the workspace (e.g. `tcplife`), failing loudly when it is missing.
pub fn workspace_bin(name: &str) -> PathBuf {
    let p = target_profile_dir().join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build --workspace` before `cargo test` (scripts/test.sh does)",
        p.display()
    );
    p
}

/// Runs the capture reader and the engine over a whole file: every segment's annotation, and
/// every connection's summary (finished ones first, then those open at the end).
pub fn analyse(
    path: &std::path::Path,
) -> (
    Vec<tcplife_engine::Annotation>,
    Vec<tcplife_engine::ConnSummary>,
) {
    use tcplife_engine::{Collect, Config};
    let reader =
        tcplife_capture::open_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let segs = reader.map(|seg| seg.unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let out = Collect::run(Config::default(), segs);
    (out.annotations, out.summaries)
}
