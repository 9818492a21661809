//! "Hello Demo": the demo's application protocol on TCP port 42181 (the server greets each
//! client with "Hello Client"), shown as named fields instead of raw data; on any other port a
//! heuristic recognises the two exact lines. Small on purpose: it shows what a dissector on the
//! `epan` API costs to write, and it is the template for a new plugin (README: "Add your own
//! dissector plugin").
#![deny(unsafe_code)]

use std::sync::OnceLock;

use epan::{
    on_handoff, CText, Dissector, Field, FieldKind, Handle, Packet, Protocol, Subtree, Thrown,
};

/// The TCP port the demo's server listens on (also a preference: `hellodemo.tcp.port`).
pub const PORT: u16 = 42181;

struct Ids {
    proto: Protocol,
    greeting: Field,
    message: Field,
    ett: Subtree,
    handle: Handle,
}

static IDS: OnceLock<Ids> = OnceLock::new();

struct HelloDemo;

/// The same protocol found by its content on any TCP port: a payload that is exactly the
/// server's greeting or the client's reply (a trailing CR/LF allowed), nothing looser, since a
/// heuristic is offered every other protocol's traffic too.
struct HelloDemoHeuristic;

const GREETING: &[u8] = b"Hello Client";
const REPLY: &[u8] = b"Hello Server";

/// Registers the protocol, its fields and its dissector; hooks it to the port at handoff.
pub fn register() {
    let proto = Protocol::register(c"Hello Demo", c"HelloDemo", c"hellodemo");
    let greeting = proto.field(
        c"Greeting",
        c"hellodemo.greeting",
        FieldKind::Str,
        c"What the server says to a client that connects",
    );
    let message = proto.field(
        c"Message",
        c"hellodemo.message",
        FieldKind::Str,
        c"What a client sends to the server",
    );
    let ett = Subtree::register();
    let handle = proto.register_dissector(c"hellodemo", &HelloDemo);
    let _ = IDS.set(Ids {
        proto,
        greeting,
        message,
        ett,
        handle,
    });
    on_handoff(handoff);
}

fn handoff() {
    if let Some(ids) = IDS.get() {
        ids.handle.add_tcp_port(PORT);
        // TCP's heuristic list exists in every Wireshark with TCP; a full shim is the only
        // other failure, and the port dissector still works without the heuristic.
        let _ = ids.proto.register_heuristic(
            c"tcp",
            c"Hello Demo over TCP (any port)",
            c"hellodemo_tcp",
            &HelloDemoHeuristic,
            true,
        );
    }
}

/// The payload without its trailing CR/LF framing.
fn line(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    &bytes[..end]
}

impl Dissector for HelloDemoHeuristic {
    fn dissect(&self, pkt: &mut Packet<'_>) -> Result<usize, Thrown> {
        let Some(ids) = IDS.get() else { return Ok(0) };
        let bytes = pkt.bytes()?;
        let text = line(bytes);
        let framing_only = bytes[text.len()..]
            .iter()
            .all(|&b| b == b'\r' || b == b'\n');
        if !framing_only || bytes.len() > text.len() + 2 {
            return Ok(0);
        }
        match text {
            GREETING => show(pkt, ids, bytes, true),
            REPLY => show(pkt, ids, bytes, false),
            _ => Ok(0),
        }
    }
}

impl Dissector for HelloDemo {
    fn dissect(&self, pkt: &mut Packet<'_>) -> Result<usize, Thrown> {
        let Some(ids) = IDS.get() else { return Ok(0) };
        let bytes = pkt.bytes()?;
        if bytes.is_empty() {
            return Ok(0);
        }
        let from_server = pkt.frame().src_port == u32::from(PORT);
        show(pkt, ids, bytes, from_server)
    }
}

/// One line per message: the greeting (from the server) or a client's message.
fn show(pkt: &mut Packet<'_>, ids: &Ids, bytes: &[u8], from_server: bool) -> Result<usize, Thrown> {
    let line_len = line(bytes).len();
    let text = String::from_utf8_lossy(&bytes[..line_len]);
    let field = if from_server {
        ids.greeting
    } else {
        ids.message
    };
    let label = label_text(from_server);
    pkt.set_protocol_column(c"HelloDemo")?;
    pkt.set_info(&format!("{label}: \"{text}\""))?;
    // Its own protocol item on every packet with a tree, so Protocol Hierarchy counts it.
    if let Some(tree) = pkt.protocol_tree() {
        let mut label = CText::<160>::default();
        label
            .push("Hello Demo, ")
            .push(label_text(from_server))
            .push(" \"")
            .push(&text)
            .push("\"");
        let (_, sub) =
            tree.add_protocol(ids.proto, ids.ett, 0, bytes.len(), Some(label.as_cstr()))?;
        sub.add_str_at(field, 0, line_len, &text)?;
    }
    Ok(bytes.len())
}

fn label_text(from_server: bool) -> &'static str {
    if from_server {
        "Greeting"
    } else {
        "Message"
    }
}

epan::plugin!(register);
