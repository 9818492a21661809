//! The only place with `unsafe`: Wireshark's C API (through the C shim) behind a small safe
//! API, the symbols Wireshark's plugin loader looks for, and the engine's C ABI.
//!
//! Rules kept here so the rest of the crate need not think about them:
//! - every `extern "C"` function that C can call catches panics ([`guard`]), and a caught panic
//!   prints nothing (Wireshark users should not see Rust backtraces);
//! - every Wireshark call that can throw goes through a shim function that catches the
//!   exception in C; the shim rethrows it from its trampoline after the Rust dissector returned,
//!   so no longjmp ever skips a Rust destructor or a lock guard;
//! - everything Wireshark keeps a pointer to (names, field tables, expert fields) is `'static`.
#![allow(unsafe_code)]

mod compat;
pub mod engine_abi;
mod epan;

pub use epan::*;

#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    clippy::all
)]
mod sys {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

mod version {
    include!(concat!(env!("OUT_DIR"), "/ws_version.rs"));
}

pub use version::{WS_MAJOR, WS_MICRO, WS_MINOR};

use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once};

const fn cstr_array<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = s[i];
        i += 1;
    }
    out
}

/// Read by Wireshark's loader as a C string (the array's address is the string).
#[no_mangle]
#[used]
pub static plugin_version: [u8; version::PLUGIN_VERSION_CSTR.len()] =
    cstr_array(version::PLUGIN_VERSION_CSTR);

/// Must equal the running Wireshark's major version or the loader refuses the plugin.
#[no_mangle]
#[used]
pub static plugin_want_major: c_int = version::WS_MAJOR;

/// Must equal the running Wireshark's minor version or the loader refuses the plugin.
#[no_mangle]
#[used]
pub static plugin_want_minor: c_int = version::WS_MINOR;

/// Called once when Wireshark loads the library: hand it the two registration callbacks.
#[no_mangle]
pub extern "C" fn plugin_register() {
    guard((), || {
        // SAFETY: plain registration calls; Wireshark keeps the callbacks for the process.
        unsafe {
            sys::shim_set_rust_dissector(Some(epan::rust_dissect));
            sys::shim_register_plugin(Some(register_protoinfo), Some(register_handoff));
        }
    })
}

unsafe extern "C" fn register_protoinfo() {
    guard((), crate::register_protocols)
}

unsafe extern "C" fn register_handoff() {
    guard((), crate::register_handoffs)
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs `f`, turning a panic into `default`. The panic message is kept (see [`last_panic`])
/// instead of being printed into the user's terminal.
pub fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some(format!("{msg}{at}"));
            }
        }))
    });
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

/// The message of the most recent panic caught by [`guard`], if any.
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|l| l.clone())
}
