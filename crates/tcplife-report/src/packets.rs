//! Per-packet annotations: a table for people, the TSV the Wireshark plugin is compared against,
//! and JSON lines.

use std::io::{self, Write};

use tcplife_engine::{Annotation, Event, Phase, Segment, TcpState};
use tcplife_fields::{Text, Value, FIELDS};

use crate::num::{self, flags_str, json_str, secs6, secs9};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketFormat {
    /// Fixed-width columns for people.
    Table,
    /// Tab-separated, one header line; byte-for-byte what `tshark -T fields` prints for the
    /// plugin's `tcplife.<column>` fields (with `frame.number` first).
    Tsv,
    /// One JSON object per line, with the segment's header fields too.
    Json,
}

/// The TSV header: `frame` (Wireshark's `frame.number`), then every field of the schema
/// (crates/tcplife-fields), whose names are the plugin's filter names without `tcplife.`.
pub const TSV_COLUMNS: [&str; FIELDS.len() + 1] = {
    let mut cols = ["frame"; FIELDS.len() + 1];
    let mut i = 0;
    while i < FIELDS.len() {
        cols[i + 1] = FIELDS[i].name;
        i += 1;
    }
    cols
};

/// Writes one line per packet as they come.
pub struct PacketWriter<W: Write> {
    out: W,
    format: PacketFormat,
    header_done: bool,
    /// Timestamp of the first packet: the table's time column is relative to it.
    t0: Option<i64>,
    widths: TableWidths,
    /// Each line is built here and handed to `out` whole: one call into a `BufWriter` per
    /// line instead of dozens of tiny ones.
    line: Vec<u8>,
    /// JSON's keys and name cells.
    cells: Cells,
}

/// Each field's JSON key (`,"name":`), and each name field's whole cell for each of its names
/// (`,"role":"client"`), made once from the schema: a name's cell is then one write instead of
/// the key, the quotes and the name apart.
struct Cells {
    fields: [FieldCells; FIELDS.len()],
}

struct FieldCells {
    key: Padded,
    /// Indexed by `Text::Name`'s `index`: the name the cell was made for, and the cell.
    names: Vec<(&'static str, Padded)>,
}

/// Bytes with padding after them up to [`Padded::FIXED`] bytes.
///
/// Copying a slice of a length known only at run time is a call to `memcpy` for a few bytes;
/// copying a fixed `FIXED` bytes is a few vector moves in line, and the padding is cut off again
/// by setting the length back.
struct Padded {
    bytes: Vec<u8>,
    len: usize,
}

impl Padded {
    /// Longer than every key and name cell the schema has (`,"client_state":"ESTABLISHED"` is
    /// 30 bytes); a longer one is copied by its length.
    const FIXED: usize = 48;

    fn new(mut bytes: Vec<u8>) -> Padded {
        let len = bytes.len();
        bytes.resize(len.max(Padded::FIXED), 0);
        Padded { bytes, len }
    }

    #[inline(always)]
    fn put(&self, out: &mut Vec<u8>) {
        match self.bytes.first_chunk::<{ Padded::FIXED }>() {
            Some(fixed) if self.len <= Padded::FIXED => {
                let end = out.len() + self.len;
                out.extend_from_slice(fixed);
                out.truncate(end);
            }
            _ => out.extend_from_slice(self.bytes.get(..self.len).unwrap_or_default()),
        }
    }
}

impl Cells {
    fn new() -> Cells {
        Cells {
            fields: std::array::from_fn(|i| {
                let f = &FIELDS[i];
                let key = format!(",\"{}\":", f.name);
                let names = (f.values.names)()
                    .into_iter()
                    .map(|n| (n, Padded::new(format!("{key}\"{n}\"").into_bytes())))
                    .collect();
                FieldCells {
                    key: Padded::new(key.into_bytes()),
                    names,
                }
            }),
        }
    }

    /// Field `i`'s key.
    #[inline(always)]
    fn key(&self, i: usize, out: &mut Vec<u8>) {
        if let Some(c) = self.fields.get(i) {
            c.key.put(out);
        }
    }

    /// The whole cell of field `i` holding the name `text`, if it was made.
    #[inline(always)]
    fn name(&self, i: usize, text: &'static str, index: u8) -> Option<&Padded> {
        let (name, cell) = self.fields.get(i)?.names.get(usize::from(index))?;
        // The index is the name's place in the field's names: a test in tcplife-fields checks
        // every one, and this checks every cell the report's tests write. Comparing the bytes
        // here would cost a call per cell (the same name's literal is not one pointer in every
        // crate).
        debug_assert_eq!(*name, text, "field {i}: name index {index}");
        Some(cell)
    }
}

impl<W: Write> PacketWriter<W> {
    pub fn new(out: W, format: PacketFormat) -> Self {
        PacketWriter {
            out,
            format,
            header_done: false,
            t0: None,
            widths: TableWidths::get(),
            line: Vec::with_capacity(512),
            cells: Cells::new(),
        }
    }

    #[inline]
    pub fn write(&mut self, seg: &Segment, ann: &Annotation) -> io::Result<()> {
        if !self.header_done {
            self.header()?;
        }
        let line = &mut self.line;
        line.clear();
        match self.format {
            PacketFormat::Tsv => tsv_row(line, ann)?,
            PacketFormat::Json => json_row(line, &self.cells, seg, ann)?,
            PacketFormat::Table => {
                let t0 = *self.t0.get_or_insert(seg.ts_ns);
                table_row(line, &self.widths, seg.ts_ns - t0, seg, ann)?
            }
        }
        self.out.write_all(line)
    }

    /// Writes the header if no packet came (an empty capture still gets its column names) and
    /// hands back the writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.header_done {
            self.header()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self) -> io::Result<()> {
        self.header_done = true;
        match self.format {
            PacketFormat::Tsv => {
                self.out.write_all(TSV_COLUMNS.join("\t").as_bytes())?;
                self.out.write_all(b"\n")
            }
            PacketFormat::Json => Ok(()),
            PacketFormat::Table => {
                let w = &self.widths;
                let line = format!(
                    "{:>7}  {:>10}  {:>4}  {:<6}  {:<11}  {:>5}  {:<ev$}  {:<ph$}  {:<5}  {:<st$}  {:<st$}  {:<10}  history\n",
                    "frame",
                    "time",
                    "conn",
                    "from",
                    "flags",
                    "len",
                    "event",
                    "phase",
                    "step",
                    "client",
                    "server",
                    "conn_state",
                    ev = w.event,
                    ph = w.phase,
                    st = w.state,
                );
                self.out.write_all(line.as_bytes())
            }
        }
    }
}

/// Runs `$body` once per field of the schema, in its order, with `$i` its index and `$f` the
/// field, both constants. A loop over `FIELDS` calls each accessor through its pointer and
/// matches the `Value` it returns at run time, on every cell of every packet; unrolled over
/// constant indices, each accessor is a direct call the compiler inlines, and the match folds to
/// the arm that field can take.
macro_rules! for_each_field {
    (|$i:ident, $f:ident| $body:block) => {
        for_each_field!(@ [$i, $f] $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ [$i:ident, $f:ident] $body:block; $($n:literal)*) => {{
        const _: () = assert!(FIELDS.len() <= 16, "for_each_field! unrolls 16 fields: add indices");
        $(
            if let Some($f) = FIELDS.get($n) {
                #[allow(unused_variables)]
                let $i: usize = $n;
                $body
            }
        )*
    }};
}

#[inline]
fn tsv_row(out: &mut impl Write, a: &Annotation) -> io::Result<()> {
    num::u64(out, a.frame)?;
    // JSON's padded name cells measured slower here (183.3M -> 185.4M instructions on
    // echo-connections.pcap): the tab alone is a one-byte store, and the names are short.
    for_each_field!(|i, f| {
        out.write_all(b"\t")?;
        match f.value(a) {
            Value::Absent => {}
            Value::Uint(n) => num::u64(out, n)?,
            Value::Str(t) => out.write_all(t.as_bytes())?,
            Value::DurationNs(ns) => secs9(out, ns)?,
        }
    });
    out.write_all(b"\n")
}

/// Written piece by piece rather than with `write!`: this runs once per packet.
fn json_row(out: &mut Vec<u8>, cells: &Cells, seg: &Segment, a: &Annotation) -> io::Result<()> {
    out.write_all(b"{\"frame\":")?;
    num::u64(out, a.frame)?;
    out.write_all(b",\"ts\":")?;
    secs6(out, seg.ts_ns)?;
    for_each_field!(|i, f| {
        json_cell(out, cells, i, f.value(a))?;
        // The segment's header fields have always followed the connection number.
        if i == 0 {
            segment_fields(out, seg)?;
        }
    });
    out.write_all(b",\"notes\":[")?;
    for (i, (_, name)) in a.notes.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        json_str(out, name)?;
    }
    out.write_all(b"]}\n")
}

#[inline]
fn segment_fields(out: &mut impl Write, seg: &Segment) -> io::Result<()> {
    out.write_all(b",\"src\":\"")?;
    num::ip(out, seg.src)?;
    out.write_all(b"\",\"sport\":")?;
    num::u64(out, u64::from(seg.src_port))?;
    out.write_all(b",\"dst\":\"")?;
    num::ip(out, seg.dst)?;
    out.write_all(b"\",\"dport\":")?;
    num::u64(out, u64::from(seg.dst_port))?;
    out.write_all(b",\"flags\":\"")?;
    out.write_all(flags_str(seg.flags).as_bytes())?;
    out.write_all(b"\",\"seq\":")?;
    num::u64(out, u64::from(seg.seq))?;
    out.write_all(b",\"ack\":")?;
    num::u64(out, u64::from(seg.ack))?;
    out.write_all(b",\"win\":")?;
    num::u64(out, u64::from(seg.window))?;
    out.write_all(b",\"len\":")?;
    num::u64(out, u64::from(seg.payload_len))?;
    Ok(())
}

/// `,"name":value`: numbers and durations bare, text quoted, absent values `null`.
#[inline(always)]
fn json_cell(out: &mut Vec<u8>, cells: &Cells, i: usize, v: Value) -> io::Result<()> {
    if let Value::Str(Text::Name { text, index }) = v {
        if let Some(cell) = cells.name(i, text, index) {
            cell.put(out);
            return Ok(());
        }
    }
    cells.key(i, out);
    match v {
        Value::Absent => out.write_all(b"null"),
        Value::Uint(n) => num::u64(out, n),
        // Engine names and the step are printable ASCII without quotes or backslashes.
        Value::Str(t @ (Text::Name { .. } | Text::Inline(_))) => {
            out.write_all(b"\"")?;
            out.write_all(t.as_bytes())?;
            out.write_all(b"\"")
        }
        Value::Str(t) => json_str(out, t.as_str()),
        Value::DurationNs(ns) => secs9(out, ns),
    }
}

/// Column widths of the packet table: the longest value each column can take, so rows can be
/// written as they come and still line up.
#[derive(Clone, Copy)]
struct TableWidths {
    event: usize,
    phase: usize,
    state: usize,
}

impl TableWidths {
    fn get() -> TableWidths {
        let max = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0);
        TableWidths {
            event: max(&mut Event::ALL.iter().map(|e| e.as_str().len())),
            phase: max(&mut Phase::ALL.iter().map(|p| p.as_str().len())),
            state: max(&mut TcpState::ALL.iter().map(|s| s.as_str().len())),
        }
    }
}

const SPACES: &[u8; 32] = b"                                ";

/// Writes `s` then spaces up to `width`, then the two-space column gap.
#[inline]
fn cell(out: &mut impl Write, s: &[u8], width: usize) -> io::Result<()> {
    out.write_all(s)?;
    out.write_all(&SPACES[..width.saturating_sub(s.len()).min(SPACES.len())])?;
    out.write_all(b"  ")
}

#[inline]
fn right(out: &mut impl Write, s: &[u8], width: usize) -> io::Result<()> {
    out.write_all(&SPACES[..width.saturating_sub(s.len()).min(SPACES.len())])?;
    out.write_all(s)?;
    out.write_all(b"  ")
}

fn table_row(
    out: &mut impl Write,
    w: &TableWidths,
    rel_ns: i64,
    seg: &Segment,
    a: &Annotation,
) -> io::Result<()> {
    let mut n = itoa::Buffer::new();
    right(out, n.format(a.frame).as_bytes(), 7)?;
    let mut t = [0u8; 32];
    let mut tw = &mut t[..];
    secs6(&mut tw, rel_ns)?;
    let tlen = 32 - tw.len();
    right(out, &t[..tlen], 10)?;
    right(out, n.format(a.conn_id).as_bytes(), 4)?;
    cell(out, a.role.as_str().as_bytes(), 6)?;
    cell(out, flags_str(seg.flags).as_bytes(), 11)?;
    right(out, n.format(seg.payload_len).as_bytes(), 5)?;
    cell(out, a.event.as_str().as_bytes(), w.event)?;
    cell(out, a.phase.as_str().as_bytes(), w.phase)?;
    let step = tcplife_fields::step_value(a.step);
    let step = match &step {
        Value::Str(t) => t.as_str(),
        _ => "",
    };
    cell(out, step.as_bytes(), 5)?;
    cell(out, a.client_state.as_str().as_bytes(), w.state)?;
    cell(out, a.server_state.as_str().as_bytes(), w.state)?;
    cell(out, a.conn_state.as_str().as_bytes(), 10)?;
    out.write_all(a.history.as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
#[test]
fn padded_bytes_are_written_without_their_padding() {
    for n in [
        0,
        1,
        30,
        Padded::FIXED - 1,
        Padded::FIXED,
        Padded::FIXED + 1,
        100,
    ] {
        let bytes: Vec<u8> = (1..=n).map(|b| b as u8).collect();
        let mut out = b"x".to_vec();
        Padded::new(bytes.clone()).put(&mut out);
        assert_eq!(out, [&b"x"[..], &bytes].concat(), "{n} bytes");
    }
}
