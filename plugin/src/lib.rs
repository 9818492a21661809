//! tcplife as a Wireshark epan plugin: every TCP packet gets its place in the connection's
//! life (phase, step, both endpoints' states, Zeek's conn_state and history) as `tcplife.*`
//! fields, an Info column tag and expert infos, computed by the same engine and the same frame
//! slicer as the `tcplife` command, so both tools print the same values.
//!
//! The same library exports a C ABI of the engine (`include/tcplife.h`), usable without
//! Wireshark.
//!
//! Layout: the dissectors ([`lifecycle`], [`hellodemo`]) are safe Rust on the `epan` crate's
//! API; [`engine_abi`] holds this crate's only `unsafe` lines.
#![deny(unsafe_code)]

pub mod engine_abi;
mod hellodemo;
mod lifecycle;

epan::plugin!(lifecycle::register, hellodemo::register);
