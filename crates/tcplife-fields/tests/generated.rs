//! The profile, README's vocabulary table and docs/plugin.md's field table are rendered from the
//! schema (src/render.rs): render them and fail when a checked-in copy differs, so a changed
//! field cannot ship with stale docs or a stale profile. `TCPLIFE_BLESS=1` rewrites them instead.

use std::path::Path;

use tcplife_fields::render::{splice, targets, Target};

#[test]
fn checked_in_copies_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bless = std::env::var_os("TCPLIFE_BLESS").is_some();
    let mut stale = Vec::new();
    for (target, fresh) in targets() {
        let (file, want) = match target {
            Target::File(file) => (file, fresh),
            Target::Region { file, name } => {
                let doc = std::fs::read_to_string(root.join(file)).unwrap_or_default();
                let spliced = splice(&doc, name, &fresh).unwrap_or_else(|| {
                    panic!(
                        "{file} lacks the lines <!-- tcplife-fields: {name} --> and \
                         <!-- end tcplife-fields: {name} -->"
                    )
                });
                (file, spliced)
            }
        };
        let path = root.join(file);
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in == want {
            continue;
        }
        if bless {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(&path, &want).unwrap();
        } else {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; run `TCPLIFE_BLESS=1 cargo test -p tcplife-fields --test generated` and \
         commit them"
    );
}

/// The markers are found and only the region between them changes.
#[test]
fn splice_replaces_only_the_region() {
    let doc = "a\n<!-- tcplife-fields: x -->\nold\n<!-- end tcplife-fields: x -->\nb\n";
    assert_eq!(
        splice(doc, "x", "new\n").unwrap(),
        "a\n<!-- tcplife-fields: x -->\nnew\n<!-- end tcplife-fields: x -->\nb\n"
    );
    assert_eq!(splice(doc, "y", "new\n"), None);
}
