//! Wireshark dissector plugins in safe Rust.
//!
//! A plugin is a `cdylib` crate that registers its protocols with this API and names its
//! registration functions in [`plugin!`], which emits the symbols Wireshark's plugin loader looks
//! for (`plugin_version`, `plugin_want_major`, `plugin_want_minor`, `plugin_describe` where the
//! Wireshark built against reads it, `plugin_register`):
//!
//! ```ignore
//! fn register() {
//!     let proto = epan::Protocol::register(c"Hello", c"Hello", c"hello");
//!     // fields, subtrees, experts, preferences, then a dissector:
//!     let handle = proto.register_dissector(c"hello", &Hello);
//!     epan::on_handoff(move || handle.add_uint("tcp.port", 4242, true).unwrap());
//! }
//! epan::plugin!(register);
//! ```
//!
//! Rules kept here so a dissector need not think about them:
//! - every function that C can call catches panics ([`guard`]), and a caught panic prints
//!   nothing (Wireshark users should not see Rust backtraces);
//! - every Wireshark call that can throw goes through a shim function that catches the
//!   exception in C; the shim rethrows it from its trampoline after the Rust dissector returned,
//!   so no longjmp ever skips a Rust destructor or a lock guard. An API call that saw an
//!   exception returns [`Thrown`]: the dissector should return at once (`?`);
//! - everything Wireshark keeps a pointer to (names, field tables, expert fields) is `'static`.
//!
//! Statistics: [`register_cli_stat`] adds a tshark `-z NAME[,FILTER]` statistic printed at the
//! end of a run, [`register_stats_tree`] a window under Wireshark's Statistics menu (and
//! `tshark -z ABBR,tree`), [`register_table_stat`] a window of rows with the plugin's own sortable
//! columns (and tshark's `-z NAME[,FILTER]`), [`register_response_table`] a Service Response Time
//! table, Wireshark's one window whose rows give "Apply as Filter" with a filter the plugin
//! names (`FIELD==INDEX`).
//!
//! The crate knows nothing about any particular protocol; the Wireshark version it is built
//! against comes from `epan-sys`, the one crate that deals with version differences.
#![deny(missing_docs)]

mod dissect;
mod routines;
mod stats;

pub use dissect::*;
pub use routines::{on_file_closed, on_handoff, on_new_file};
pub use stats::{
    register_cli_stat, register_response_table, register_stats_tree, register_table_stat, Cell,
    CellKind, CliStat, Column, NodeId, ResponseRows, ResponseTable, StatsNodes, StatsTree,
    TableError, TableRows, TableStat,
};

/// Version of the Wireshark the plugin is built against; a plugin loads only into the same
/// major.minor.
pub use epan_sys::{WS_MAJOR, WS_MICRO, WS_MINOR};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once};

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

/// Emits the symbols Wireshark's plugin loader looks for, in the plugin crate that expands it:
/// `plugin_version` (the crate's version), `plugin_want_major`/`plugin_want_minor` (the
/// Wireshark built against), `plugin_describe` (4.2 and later) and `plugin_register`, which
/// runs each registration function given, in order, in Wireshark's protocol-registration phase.
/// A registration function is a plain `fn()`; work for the handoff phase (hooking a dissector to
/// a port or a table) is queued with [`on_handoff`].
///
/// Expand it once per `cdylib`, at the crate root.
#[macro_export]
macro_rules! plugin {
    ($($register:path),+ $(,)?) => {
        const _: () = {
            const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

            /// Read by Wireshark's loader as a C string (the array's address is the string).
            #[allow(unsafe_code, non_upper_case_globals)]
            #[no_mangle]
            #[used]
            pub static plugin_version: [u8; VERSION.len()] =
                $crate::__private::cstr_array(VERSION.as_bytes());

            /// Must equal the running Wireshark's major version or the loader refuses the plugin.
            #[allow(unsafe_code, non_upper_case_globals)]
            #[no_mangle]
            #[used]
            pub static plugin_want_major: ::std::os::raw::c_int = $crate::WS_MAJOR;

            /// Must equal the running Wireshark's minor version or the loader refuses the plugin.
            #[allow(unsafe_code, non_upper_case_globals)]
            #[no_mangle]
            #[used]
            pub static plugin_want_minor: ::std::os::raw::c_int = $crate::WS_MINOR;

            $crate::__private::if_plugin_describe! {
                /// What kind of plugin this is (read by Wireshark 4.2 and later).
                #[allow(unsafe_code)]
                #[no_mangle]
                pub extern "C" fn plugin_describe() -> u32 {
                    $crate::__private::PLUGIN_DESC_DISSECTOR
                }
            }

            /// Called once when Wireshark loads the library.
            #[allow(unsafe_code)]
            #[no_mangle]
            pub extern "C" fn plugin_register() {
                fn register_all() {
                    $($register();)+
                }
                $crate::__private::plugin_register(register_all);
            }
        };
    };
}

/// What [`plugin!`] expands to calls; not API.
#[doc(hidden)]
pub mod __private {
    pub use epan_sys::if_plugin_describe;
    pub use epan_sys::PLUGIN_DESC_DISSECTOR;

    /// Copies a string into an array (for a `static` C string).
    pub const fn cstr_array<const N: usize>(s: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = s[i];
            i += 1;
        }
        out
    }

    /// `plugin_register`'s body: hands Wireshark the registration callbacks.
    pub fn plugin_register(register: fn()) {
        super::guard((), || crate::routines::register_plugin(register))
    }
}

/// Fault injection for tests of the exception path; only with the `testing` feature.
#[cfg(feature = "testing")]
pub mod testing {
    use super::{Packet, Thrown};

    /// Makes Wireshark throw a ReportedBoundsError (as a too-short packet would), through the
    /// shim, as if the dissector had read past the end of the packet.
    pub fn inject_bounds_error(pkt: &mut Packet<'_>) -> Result<(), Thrown> {
        pkt.inject_bounds_error()
    }
}
