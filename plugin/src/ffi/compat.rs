//! Every difference between Wireshark releases that the Rust side sees. The C side's
//! counterpart is shim/compat.h; build.rs sets the cfgs from the installed ws_version.h.

/// The running Wireshark's loader reads `plugin_describe` from 4.2 on; 4.0 has no such symbol.
#[cfg(ws_plugin_describe)]
#[no_mangle]
pub extern "C" fn plugin_describe() -> u32 {
    super::sys::WS_PLUGIN_DESC_DISSECTOR as u32
}
