//! `include/tcplife.h` is generated from `src/lib.rs`: regenerate it and fail when the
//! checked-in copy differs, so a changed struct or function cannot ship with a stale header.
//! `TCPLIFE_BLESS=1` rewrites the header instead.

use std::path::Path;

#[test]
fn checked_in_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not read src/lib.rs");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("UTF-8 header");
    let path = dir.join("include/tcplife.h");
    if std::env::var_os("TCPLIFE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "{} is stale: run `TCPLIFE_BLESS=1 cargo test -p tcplife-abi --test header` and commit \
         it.\n--- generated ---\n{fresh}",
        path.display()
    );
}
