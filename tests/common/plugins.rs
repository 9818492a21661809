//! The workspace's Wireshark plugins: every crate under `plugins/`, found by looking, so a new
//! plugin is loaded by the tshark tests without an edit here.

use std::path::{Path, PathBuf};

use crate::{project_root, target_profile_dir};

/// One plugin crate of the workspace.
#[derive(Debug, Clone)]
pub struct WorkspacePlugin {
    /// Its folder's name under `plugins/`: the name it is installed under (`NAME.so`).
    pub name: String,
    /// The cargo package name (for `cargo build -p`).
    pub package: String,
    /// The built library, `target/<profile>/lib<lib name>.so`.
    pub lib: PathBuf,
}

/// The value of `key = "..."` in `[section]` of a Cargo.toml (enough for the plain manifests
/// of plugins/*; not a TOML parser).
pub fn manifest_value(manifest: &str, section: &str, key: &str) -> Option<String> {
    let mut in_section = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == format!("[{section}]");
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == key {
            let v = v.trim();
            return v.strip_prefix('"')?.split('"').next().map(str::to_string);
        }
    }
    None
}

/// A plugin crate at `dir`, with its library looked for in `profile_dir`.
pub fn plugin_at(dir: &Path, profile_dir: &Path) -> WorkspacePlugin {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("Cargo.toml").display()));
    let package = manifest_value(&manifest, "package", "name")
        .unwrap_or_else(|| panic!("{}: no package name", dir.display()));
    let lib_name =
        manifest_value(&manifest, "lib", "name").unwrap_or_else(|| package.replace('-', "_"));
    WorkspacePlugin {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        package,
        lib: profile_dir.join(format!("lib{lib_name}.so")),
    }
}

/// Every plugin under `plugins/`, sorted by name, each checked to be built.
pub fn workspace_plugins() -> Vec<WorkspacePlugin> {
    let dir = project_root().join("plugins");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    let plugins: Vec<WorkspacePlugin> = dirs
        .iter()
        .map(|d| plugin_at(d, &target_profile_dir()))
        .collect();
    for p in &plugins {
        assert!(
            p.lib.exists(),
            "{} not built: run `cargo build --workspace` before `cargo test`",
            p.lib.display()
        );
    }
    plugins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_values() {
        let m = "[package]\nname = \"a-b\"\nversion = \"1\"\n\n[lib]\nname = \"c\"\n";
        assert_eq!(manifest_value(m, "package", "name").as_deref(), Some("a-b"));
        assert_eq!(manifest_value(m, "lib", "name").as_deref(), Some("c"));
        assert_eq!(manifest_value(m, "lib", "crate-type"), None);
        assert_eq!(manifest_value(m, "dependencies", "name"), None);
    }

    #[test]
    fn the_workspace_has_the_lifecycle_and_hello_demo_plugins() {
        let dir = project_root().join("plugins");
        let names: Vec<(String, String)> = ["hellodemo", "tcplife"]
            .iter()
            .map(|n| {
                let p = plugin_at(&dir.join(n), Path::new("/t"));
                (p.package, p.lib.display().to_string())
            })
            .collect();
        assert_eq!(
            names,
            [
                ("hellodemo".into(), "/t/libhellodemo.so".into()),
                ("tcplife-plugin".into(), "/t/libtcplife_plugin.so".into())
            ]
        );
    }
}
