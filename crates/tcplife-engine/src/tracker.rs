//! Connection table: finds each segment's connection, and retires connections as they finish,
//! so that memory follows the connections open at once, not the length of the capture.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::conn::Conn;
use crate::model::{Annotation, ConnSummary, EndReason, Ending};
use crate::segment::{Integrity, Segment};

/// Tracker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// A connection with no packet for this long (capture time) is summarised and forgotten.
    pub idle_timeout_ns: i64,
    /// How long a closed or reset connection is kept to absorb late packets (Zeek's
    /// `tcp_close_delay`), counted from the packet that completed the close.
    pub close_linger_ns: i64,
    /// A SYN whose responder stays silent this long ends its connection as an attempt (Zeek's
    /// `tcp_attempt_delay`); later packets on the same ports start a new connection. 0 turns
    /// the timer off (an attempt then lasts until `idle_timeout_ns`).
    pub attempt_timeout_ns: i64,
    /// Drop segments whose TCP checksum is wrong, as Zeek does unless run with `-C`: each
    /// only adds `C`/`c` to its connection's history. Off by default: captures taken on the
    /// sending host carry the checksums offloading left unfilled, on every outgoing segment.
    pub verify_checksums: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout_ns: 300 * 1_000_000_000,
            close_linger_ns: 5 * 1_000_000_000,
            attempt_timeout_ns: 5 * 1_000_000_000,
            verify_checksums: false,
        }
    }
}

/// Both endpoints, lower one first, so that both directions find the same entry. Addresses are
/// stored as 128-bit numbers (IPv4 mapped into IPv6) so hashing and comparing are a few word
/// operations on the per-packet path.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    a: u128,
    b: u128,
    a_port: u16,
    b_port: u16,
}

fn addr_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Key {
    fn of(seg: &Segment) -> Key {
        let s = (addr_bits(seg.src), seg.src_port);
        let d = (addr_bits(seg.dst), seg.dst_port);
        let ((a, a_port), (b, b_port)) = if s <= d { (s, d) } else { (d, s) };
        Key {
            a,
            b,
            a_port,
            b_port,
        }
    }
}

/// The whole key folded into one word, hashed once: the derived `Hash` fed the hasher six
/// words, a chain of six dependent multiplications on every packet. The rotations keep the
/// two addresses (and the two ports) from cancelling out when they are alike.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let words = [
            self.a as u64,
            (self.a >> 64) as u64,
            self.b as u64,
            (self.b >> 64) as u64,
        ];
        let ports = (u64::from(self.a_port) << 16) | u64::from(self.b_port);
        let x = words[0]
            ^ words[1].rotate_left(17)
            ^ words[2].rotate_left(32)
            ^ words[3].rotate_left(49)
            ^ ports.rotate_left(40);
        state.write_u64(x);
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
    /// A folded 64x64->128 multiplication (as foldhash and wyhash do): every input bit reaches
    /// both the low bits hashbrown indexes with and the top bits it tags with.
    fn write_u64(&mut self, n: u64) {
        let m = u128::from(self.0 ^ n) * 0x51_7c_c1_b7_27_22_0a_95_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
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

#[derive(Clone, Copy)]
struct Timer {
    deadline: i64,
    slot: usize,
    id: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Queue {
    Idle,
    Linger,
    Attempt,
}

/// What the timers and the table probe need of a connection, beside its slot in a dense
/// array: a timer coming up reads these 32 bytes, not the 680-byte `Conn` (a cache miss per
/// timer when many connections are open). Rewritten after every packet of the connection,
/// since only packets change what it says.
#[derive(Clone, Copy)]
struct Hot {
    /// The connection in the slot; 0 (no connection has it) when the slot is free.
    id: u64,
    /// When it leaves the table, and why ([`Tracker::deadline`]).
    deadline: i64,
    reason: EndReason,
    last_ts: i64,
    close_complete: bool,
}

impl Hot {
    const FREE: Hot = Hot {
        id: 0,
        deadline: i64::MAX,
        reason: EndReason::Idle,
        last_ts: i64::MIN,
        close_complete: false,
    };
}

/// The connection table.
pub struct Tracker {
    config: Config,
    table: FastMap<Key, usize>,
    slots: Vec<Option<(Key, Conn)>>,
    /// `hot[i]` describes `slots[i]`.
    hot: Vec<Hot>,
    free: Vec<usize>,
    /// Pending deadlines (deadline, slot, conn id) for idle connections, closed ones and
    /// unanswered attempts.
    /// A deadline is always "a packet's time + a constant", and capture time hardly ever goes
    /// back, so each queue stays (nearly) sorted and a FIFO does the work of a heap. Entries go
    /// stale when a connection sees more packets; a stale entry is re-queued with the real
    /// deadline when it comes up. Exactness does not rest on the order: a lookup checks the
    /// connection's own deadline too.
    idle_timers: VecDeque<Timer>,
    linger_timers: VecDeque<Timer>,
    attempt_timers: VecDeque<Timer>,
    /// No queue's front is due before this: at most the earliest front deadline (lowered on
    /// every push, recomputed after each expiry), so that most packets check one number.
    next_due: i64,
    finished: Vec<ConnSummary>,
    next_id: u64,
    /// Latest capture time seen: captures are not always in time order.
    now: i64,
    bad_checksums: u64,
}

impl Tracker {
    pub fn new(config: Config) -> Self {
        Tracker {
            config,
            table: FastMap::default(),
            slots: Vec::new(),
            hot: Vec::new(),
            free: Vec::new(),
            idle_timers: VecDeque::new(),
            linger_timers: VecDeque::new(),
            attempt_timers: VecDeque::new(),
            next_due: i64::MAX,
            finished: Vec::new(),
            next_id: 1,
            now: i64::MIN,
            bad_checksums: 0,
        }
    }

    /// Annotates one segment and advances its connection's state.
    pub fn process(&mut self, seg: &Segment) -> Annotation {
        self.step::<true>(seg).expect("an annotation was asked for")
    }

    /// [`process`](Self::process) for runs that print only summaries: the same state changes,
    /// timers and summaries, without building the segment's annotation.
    pub fn observe(&mut self, seg: &Segment) {
        self.step::<false>(seg);
    }

    /// One code path for both, so that they cannot drift apart; `ANNOTATE` is known at
    /// compile time, so the summary-only copy carries no annotation code.
    #[inline]
    fn step<const ANNOTATE: bool>(&mut self, seg: &Segment) -> Option<Annotation> {
        if seg.ts_ns > self.now {
            self.now = seg.ts_ns;
            self.expire();
        }
        let key = Key::of(seg);
        let slot = match self.table.get(&key) {
            Some(&slot) => {
                let hot = self.hot[slot];
                let (_, conn) = self.slots[slot]
                    .as_ref()
                    .expect("table points at a live slot");
                if hot.deadline <= self.now {
                    self.retire(slot, hot.reason);
                    self.open(key, seg)
                } else if conn.is_reuse(seg) {
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
        if self.config.verify_checksums && seg.integrity == Integrity::BadChecksum {
            self.bad_checksums += 1;
            return Some(conn.checksum_error(seg));
        }
        // What the hot entry says is what the connection said after its previous packet.
        let was_complete = self.hot[slot].close_complete;
        let annotation = if ANNOTATE {
            Some(conn.process(seg))
        } else {
            conn.observe(seg);
            None
        };
        let id = conn.id;
        let complete = conn.close_complete();
        if !was_complete && complete {
            let deadline = conn.last_ts.saturating_add(self.config.close_linger_ns);
            conn.close_deadline = deadline;
            self.linger_timers.push_back(Timer { deadline, slot, id });
            self.next_due = self.next_due.min(deadline);
        }
        // Zeek arms the attempt timer from the SYN's own timestamp, once per connection.
        if conn.take_attempt_started()
            && self.config.attempt_timeout_ns > 0
            && conn.attempt_deadline == i64::MAX
        {
            let deadline = seg.ts_ns.saturating_add(self.config.attempt_timeout_ns);
            conn.attempt_deadline = deadline;
            self.attempt_timers.push_back(Timer { deadline, slot, id });
            self.next_due = self.next_due.min(deadline);
        }
        self.hot[slot] = Self::hot_of(&self.config, conn, complete);
        annotation
    }

    /// `complete`: `conn.close_complete()`, which the caller knows already.
    fn hot_of(config: &Config, conn: &Conn, complete: bool) -> Hot {
        let (deadline, reason) = Self::deadline(config, conn, complete);
        Hot {
            id: conn.id,
            deadline,
            reason,
            last_ts: conn.last_ts,
            close_complete: complete,
        }
    }

    fn open(&mut self, key: Key, seg: &Segment) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let conn = Conn::new(id, seg);
        let hot = Self::hot_of(&self.config, &conn, conn.close_complete());
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some((key, conn));
                self.hot[s] = hot;
                s
            }
            None => {
                self.slots.push(Some((key, conn)));
                self.hot.push(hot);
                self.slots.len() - 1
            }
        };
        self.table.insert(key, slot);
        let deadline = seg.ts_ns.saturating_add(self.config.idle_timeout_ns);
        self.idle_timers.push_back(Timer { deadline, slot, id });
        self.next_due = self.next_due.min(deadline);
        slot
    }

    fn retire(&mut self, slot: usize, reason: EndReason) {
        if let Some((key, conn)) = self.slots[slot].take() {
            self.hot[slot] = Hot::FREE;
            self.table.remove(&key);
            self.free.push(slot);
            self.finished.push(conn.summary(reason));
        }
    }

    /// When `conn` leaves the table, and why. A closed connection goes at the deadline its
    /// close fixed (Zeek schedules that timer once: later packets do not move it); an open
    /// one after `idle_timeout_ns` without packets, or earlier, when its SYN's attempt timer
    /// finds the responder still silent.
    fn deadline(config: &Config, conn: &Conn, complete: bool) -> (i64, EndReason) {
        if complete {
            return (conn.close_deadline, EndReason::Closed);
        }
        let idle = conn.last_ts.saturating_add(config.idle_timeout_ns);
        if conn.attempt_deadline < idle && conn.attempt_pending() {
            (conn.attempt_deadline, EndReason::Attempt)
        } else {
            (idle, EndReason::Idle)
        }
    }

    /// Runs on nearly every packet (time moves on), while a timer is due on few of them: the
    /// fronts are compared here, inline, and only a queue with a due timer is walked.
    #[inline]
    fn expire(&mut self) {
        let now = self.now;
        if now < self.next_due {
            return;
        }
        self.expire_due();
    }

    fn expire_due(&mut self) {
        let now = self.now;
        let due = |q: &VecDeque<Timer>| q.front().is_some_and(|t| t.deadline <= now);
        if due(&self.attempt_timers) {
            self.expire_queue(Queue::Attempt);
        }
        if due(&self.idle_timers) {
            self.expire_queue(Queue::Idle);
        }
        if due(&self.linger_timers) {
            self.expire_queue(Queue::Linger);
        }
        let front = |q: &VecDeque<Timer>| q.front().map_or(i64::MAX, |t| t.deadline);
        self.next_due = front(&self.attempt_timers)
            .min(front(&self.idle_timers))
            .min(front(&self.linger_timers));
    }

    fn queue(&mut self, q: Queue) -> &mut VecDeque<Timer> {
        match q {
            Queue::Idle => &mut self.idle_timers,
            Queue::Linger => &mut self.linger_timers,
            Queue::Attempt => &mut self.attempt_timers,
        }
    }

    fn expire_queue(&mut self, q: Queue) {
        loop {
            let now = self.now;
            let queue = self.queue(q);
            let Some(&t) = queue.front() else { break };
            if t.deadline > now {
                break;
            }
            queue.pop_front();
            let hot = self.hot[t.slot];
            if hot.id != t.id {
                continue;
            }
            if hot.deadline <= now {
                self.retire(t.slot, hot.reason);
            } else if q == Queue::Idle && !hot.close_complete {
                // Still open: wait for the real idle deadline. (An attempt timer fires once,
                // as Zeek's does; a close deadline never moves, so neither is re-queued.)
                let idle = hot.last_ts.saturating_add(self.config.idle_timeout_ns);
                self.idle_timers.push_back(Timer {
                    deadline: idle,
                    ..t
                });
            }
        }
    }

    #[inline]
    pub(crate) fn has_finished(&self) -> bool {
        !self.finished.is_empty()
    }

    /// Connections that finished (closed and lingered, idle, or replaced by a reuse of their
    /// ports) since the last call.
    pub fn take_finished(&mut self) -> std::vec::Drain<'_, ConnSummary> {
        self.finished.drain(..)
    }

    /// End of capture: summaries of everything not yet taken: first those already finished,
    /// then every connection still tracked, in first-packet order.
    pub fn finish(&mut self) -> Vec<ConnSummary> {
        let mut open: Vec<&Conn> = self.slots.iter().flatten().map(|(_, c)| c).collect();
        open.sort_unstable_by_key(|c| c.id);
        let mut out: Vec<ConnSummary> = self.finished.drain(..).collect();
        out.extend(open.iter().map(|c| c.summary(EndReason::EndOfCapture)));
        self.slots.clear();
        self.hot.clear();
        self.table.clear();
        self.free.clear();
        self.idle_timers.clear();
        self.linger_timers.clear();
        self.attempt_timers.clear();
        self.next_due = i64::MAX;
        out
    }

    /// The ending (conn id, ending) of every connection still tracked, as [`Tracker::finish`]
    /// would report it if the capture ended now, without ending anything: for callers that must
    /// show endings while more packets may still come (Wireshark redraws packets while a file
    /// is loading).
    pub fn open_endings(&self) -> impl Iterator<Item = (u64, Ending)> + '_ {
        self.slots
            .iter()
            .flatten()
            .map(|(_, c)| (c.id, c.ending_so_far()))
    }

    /// Segments dropped for a wrong checksum so far (only with `verify_checksums`).
    pub fn bad_checksums(&self) -> u64 {
        self.bad_checksums
    }

    /// How many connections are tracked right now.
    pub fn open_connections(&self) -> usize {
        self.table.len()
    }
}
