//! Every difference between Wireshark releases that the Rust side sees. The C side's
//! counterpart is shim/compat.h; build.rs sets the cfgs from the installed ws_version.h.

/// `WS_PLUGIN_DESC_DISSECTOR` from 4.2's wsutil/plugins.h, which 4.0 does not install.
#[cfg(ws_plugin_describe)]
pub const PLUGIN_DESC_DISSECTOR: u32 = 1 << 0;

/// The running Wireshark's loader reads `plugin_describe` from 4.2 on; 4.0 has no such symbol.
#[cfg(ws_plugin_describe)]
#[no_mangle]
pub extern "C" fn plugin_describe() -> u32 {
    PLUGIN_DESC_DISSECTOR
}
