//! Connection table: finds each segment's connection, and retires connections as they finish,
//! so that memory follows the connections open at once, not the length of the capture.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

use crate::conn::Conn;
use crate::model::{Annotation, ConnSummary, EndReason};
use crate::segment::Segment;

/// Tracker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// A connection with no packet for this long (capture time) is summarised and forgotten.
    pub idle_timeout_ns: i64,
    /// How long a closed or reset connection is kept to absorb late packets (Zeek's
    /// `tcp_close_delay`).
    pub close_linger_ns: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout_ns: 300 * 1_000_000_000,
            close_linger_ns: 5 * 1_000_000_000,
        }
    }
}

/// Both endpoints, lower one first, so that both directions find the same entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    a: (IpAddr, u16),
    b: (IpAddr, u16),
}

impl Key {
    fn of(seg: &Segment) -> Key {
        let s = (seg.src, seg.src_port);
        let d = (seg.dst, seg.dst_port);
        if s <= d {
            Key { a: s, b: d }
        } else {
            Key { a: d, b: s }
        }
    }
}

/// FxHash-style multiplicative hasher: the keys are addresses and ports, not attacker-chosen
/// strings, and hashing is on the per-packet path.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// The connection table.
pub struct Tracker {
    config: Config,
    table: FastMap<Key, usize>,
    slots: Vec<Option<(Key, Conn)>>,
    free: Vec<usize>,
    /// (deadline, slot, conn id), earliest first. Entries go stale when a connection sees more
    /// packets; a stale entry is re-queued with the real deadline when it comes up.
    timers: BinaryHeap<Reverse<(i64, usize, u64)>>,
    finished: Vec<ConnSummary>,
    next_id: u64,
    /// Latest capture time seen: captures are not always in time order.
    now: i64,
}

impl Tracker {
    pub fn new(config: Config) -> Self {
        Tracker {
            config,
            table: FastMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            finished: Vec::new(),
            next_id: 1,
            now: i64::MIN,
        }
    }

    /// Annotates one segment and advances its connection's state.
    pub fn process(&mut self, seg: &Segment) -> Annotation {
        if seg.ts_ns > self.now {
            self.now = seg.ts_ns;
            self.expire();
        }
        let key = Key::of(seg);
        let slot = match self.table.get(&key) {
            Some(&slot) => {
                let reuse = self.slots[slot]
                    .as_ref()
                    .is_some_and(|(_, c)| c.is_reuse(seg));
                if reuse {
                    self.retire(slot, EndReason::Reused);
                    self.open(key, seg)
                } else {
                    slot
                }
            }
            None => self.open(key, seg),
        };
        let (_, conn) = self.slots[slot]
            .as_mut()
            .expect("table points at a live slot");
        let was_complete = conn.close_complete();
        let annotation = conn.process(seg);
        if !was_complete && conn.close_complete() {
            let deadline = conn.last_ts.saturating_add(self.config.close_linger_ns);
            self.timers.push(Reverse((deadline, slot, conn.id)));
        }
        annotation
    }

    fn open(&mut self, key: Key, seg: &Segment) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let conn = Conn::new(id, seg);
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some((key, conn));
                s
            }
            None => {
                self.slots.push(Some((key, conn)));
                self.slots.len() - 1
            }
        };
        self.table.insert(key, slot);
        let deadline = seg.ts_ns.saturating_add(self.config.idle_timeout_ns);
        self.timers.push(Reverse((deadline, slot, id)));
        slot
    }

    fn retire(&mut self, slot: usize, reason: EndReason) {
        if let Some((key, conn)) = self.slots[slot].take() {
            self.table.remove(&key);
            self.free.push(slot);
            self.finished.push(conn.summary(reason));
        }
    }

    fn deadline(&self, conn: &Conn) -> (i64, EndReason) {
        if conn.close_complete() {
            (
                conn.last_ts.saturating_add(self.config.close_linger_ns),
                EndReason::Closed,
            )
        } else {
            (
                conn.last_ts.saturating_add(self.config.idle_timeout_ns),
                EndReason::Idle,
            )
        }
    }

    fn expire(&mut self) {
        while let Some(&Reverse((when, slot, id))) = self.timers.peek() {
            if when > self.now {
                break;
            }
            self.timers.pop();
            let Some((_, conn)) = self.slots[slot].as_ref().filter(|(_, c)| c.id == id) else {
                continue;
            };
            let (deadline, reason) = self.deadline(conn);
            if deadline <= self.now {
                self.retire(slot, reason);
            } else {
                self.timers.push(Reverse((deadline, slot, id)));
            }
        }
    }

    /// Connections that finished (closed and lingered, idle, or replaced by a reuse of their
    /// ports) since the last call.
    pub fn take_finished(&mut self) -> std::vec::Drain<'_, ConnSummary> {
        self.finished.drain(..)
    }

    /// End of capture: summaries of everything not yet taken: first those already finished,
    /// then every connection still tracked, in first-packet order.
    pub fn finish(&mut self) -> Vec<ConnSummary> {
        let mut open: Vec<Conn> = self
            .slots
            .drain(..)
            .flatten()
            .map(|(_, conn)| conn)
            .collect();
        open.sort_by_key(|c| c.id);
        self.table.clear();
        self.free.clear();
        self.timers.clear();
        let mut out: Vec<ConnSummary> = self.finished.drain(..).collect();
        out.extend(open.iter().map(|c| c.summary(EndReason::EndOfCapture)));
        out
    }

    /// How many connections are tracked right now.
    pub fn open_connections(&self) -> usize {
        self.table.len()
    }
}
