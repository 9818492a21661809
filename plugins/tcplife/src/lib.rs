//! tcplife as a Wireshark epan plugin: every TCP packet gets its place in the connection's
//! life (phase, step, both endpoints' states, Zeek's conn_state and history) as `tcplife.*`
//! fields, an Info column tag and expert infos, computed by the same engine and the same frame
//! slicer as the `tcplife` command, so both tools print the same values; and tshark statistics
//! ([`stats`]: `-z tcplife,conns`, `-z tcplife,summary`) print what `tcplife conns` and
//! `tcplife summary` print.
//!
//! The dissector ([`lifecycle`]) is safe Rust on the `epan` crate's API. The engine's C ABI is a
//! library of its own, `crates/tcplife-abi`, with no Wireshark in it; the demo's Hello protocol
//! is the plugin `plugins/hellodemo`.
#![deny(unsafe_code)]

mod lifecycle;
mod stats;

epan::plugin!(lifecycle::register, stats::register);
