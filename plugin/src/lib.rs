//! tcplife as a Wireshark epan plugin: every TCP packet gets its place in the connection's
//! life (phase, step, both endpoints' states, Zeek's conn_state and history) as `tcplife.*`
//! fields, an Info column tag and expert infos, computed by the same engine and the same frame
//! slicer as the `tcplife` command, so both tools print the same values.
//!
//! The same library exports a C ABI of the engine (`include/tcplife.h`), usable without
//! Wireshark.
//!
//! Layout: [`ffi`] holds every `unsafe` line (Wireshark's API through a small C shim, the plugin
//! loader's symbols, the engine's C ABI); the dissectors ([`lifecycle`], [`hellodemo`]) are safe
//! Rust on the API it exposes.
#![deny(unsafe_code)]

pub mod ffi;
mod hellodemo;
mod lifecycle;

/// Wireshark's protocol-registration phase.
fn register_protocols() {
    lifecycle::register();
    hellodemo::register();
}

/// Wireshark's handoff phase (after every protocol exists).
fn register_handoffs() {
    hellodemo::handoff();
}
