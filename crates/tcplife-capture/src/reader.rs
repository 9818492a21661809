//! Streaming pcap/pcapng reader: file or stdin in, segments out, every frame accounted for.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::{Block, OptionCode};
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use tcplife_engine::Segment;

use crate::{slice_frame, LinkType, SkipCounts, SkipReason};

/// Big enough that refills are rare (one read per few hundred packets); small because the
/// parser zero-fills it byte by byte, which debug builds (tests) feel on every open.
const INITIAL_BUFFER: usize = 256 << 10;
/// Largest record we accept. Wireshark refuses pcapng blocks over 16 MiB (and pcap records over
/// 256 KiB); a record claiming more is a corrupt length, not a packet.
const MAX_RECORD: usize = 16 << 20;
/// The buffer holds one maximal record plus the start of the next.
const MAX_BUFFER: usize = 2 * MAX_RECORD;
/// What `open_path` and `CaptureReader::new` peek at to recognise the format.
const SNIFF: usize = 64 << 10;

/// Why a capture could not be read (further). Frames that merely are not TCP are never errors:
/// they are counted in [`SkipCounts`].
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("empty input: no capture file header")]
    Empty,
    #[error("not a pcap or pcapng capture (starts with {0:02x?})")]
    NotACapture(Vec<u8>),
    #[error("{0}-compressed capture: decompress it first (e.g. `{1} -dc FILE | tcplife -`)")]
    Compressed(&'static str, &'static str),
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    #[error("corrupt capture at byte {offset}: {detail}")]
    Corrupt { offset: u64, detail: String },
}

/// The container format, as recognised from the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap { nanosecond: bool, big_endian: bool },
    PcapNg,
}

/// One capture interface: a pcap file has exactly one, a pcapng file one per IDB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// 0 for pcap; for pcapng, which section (0-based) declared it.
    pub section: u32,
    /// Interface id within its section (the index EPBs refer to).
    pub id: u32,
    /// The raw `LINKTYPE_*` number.
    pub linktype: u32,
    /// `None` when tcplife cannot slice this link type (its frames are skipped and counted).
    pub link: Option<LinkType>,
    /// Timestamp units per second (1e6 for microseconds, 1e9 for nanoseconds...).
    pub ts_units_per_sec: u64,
}

#[derive(Clone, Copy, Debug)]
enum TsScale {
    Mul(u64),
    Div(u64),
    Pow2(u32),
}

impl TsScale {
    /// From a pcapng `if_tsresol` byte; `None` when it cannot be represented in 64 bits.
    fn from_tsresol(r: u8) -> Option<TsScale> {
        if r & 0x80 == 0 {
            match r {
                0..=9 => Some(TsScale::Mul(10u64.pow(9 - u32::from(r)))),
                10..=19 => Some(TsScale::Div(10u64.pow(u32::from(r) - 9))),
                _ => None,
            }
        } else {
            let k = u32::from(r & 0x7f);
            (k < 64).then_some(TsScale::Pow2(k))
        }
    }

    fn units_per_sec(self) -> u64 {
        match self {
            TsScale::Mul(m) => 1_000_000_000 / m,
            TsScale::Div(d) => 1_000_000_000 * d,
            TsScale::Pow2(k) => 1u64 << k,
        }
    }

    #[inline]
    fn to_ns(self, ts: u64) -> i64 {
        let ns: u128 = match self {
            TsScale::Mul(m) => u128::from(ts) * u128::from(m),
            TsScale::Div(d) => u128::from(ts / d),
            TsScale::Pow2(k) => (u128::from(ts) * 1_000_000_000) >> k,
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

#[derive(Clone, Copy, Debug)]
struct IfState {
    link: Result<LinkType, u32>,
    scale: TsScale,
    offset_ns: i64,
}

/// Where the shared I/O error lands: pcap-parser reduces read errors to a bare `ReadError`.
type IoSlot = Arc<Mutex<Option<io::Error>>>;

/// The input, with the bytes already sniffed put back in front, and read errors kept whole.
struct Source<R> {
    prefix: Vec<u8>,
    pos: usize,
    inner: R,
    error: IoSlot,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.pos);
            buf[..n].copy_from_slice(&self.prefix[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(kind.into());
                }
                ok => return ok,
            }
        }
    }
}

enum Inner<R: Read> {
    Pcap(LegacyPcapReader<Source<R>>),
    Ng(PcapNGReader<Source<R>>),
}

/// Everything but the parser itself, so a parsed block (borrowing the parser) can update it.
struct State {
    frames: u64,
    segments: u64,
    skips: SkipCounts,
    pcap_if: IfState,
    big_endian: bool,
    section: Option<u32>,
    section_ifs: Vec<IfState>,
    interfaces: Vec<Interface>,
    last_ts: i64,
}

enum BadBlock {
    Skipped(Step),
    NeedMore,
    Invalid(String),
}

enum Step {
    Segment(Segment),
    Continue,
    End,
    Fail(CaptureError),
}

/// Streaming reader over a pcap or pcapng capture (recognised by its magic number).
///
/// Yields one [`Segment`] per TCP frame; every other frame is counted in
/// [`skip_counts`](Self::skip_counts). A capture cut short in the middle of a record is not an
/// error: the records before it are returned and [`truncated_tail`](Self::truncated_tail) is set.
/// After an `Err`, the iterator ends.
pub struct CaptureReader<R: Read> {
    inner: Inner<R>,
    st: State,
    format: CaptureFormat,
    io_error: IoSlot,
    truncated_tail: bool,
    done: bool,
    buffer_size: usize,
    /// 16, or 24 in the "modified" (Kuznetsov) pcap format.
    pcap_record_header: usize,
    total_bytes: Option<u64>,
}

/// Opens a capture file, or standard input when `path` is `-`.
pub fn open_path(
    path: impl AsRef<Path>,
) -> Result<CaptureReader<Box<dyn Read + Send>>, CaptureError> {
    let path = path.as_ref();
    if path.as_os_str() == "-" {
        return CaptureReader::new(Box::new(io::stdin()) as Box<dyn Read + Send>);
    }
    let open_err = |source| CaptureError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let total = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let mut reader = CaptureReader::new(Box::new(file) as Box<dyn Read + Send>)?;
    reader.total_bytes = total;
    Ok(reader)
}

fn read_at_least(r: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    while buf.len() < want {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl<R: Read> CaptureReader<R> {
    /// Recognises the format from the first bytes and prepares to stream records.
    pub fn new(mut input: R) -> Result<CaptureReader<R>, CaptureError> {
        let mut prefix = Vec::with_capacity(SNIFF);
        read_at_least(&mut input, &mut prefix, 24)?;
        let magic: [u8; 4] = match prefix.get(..4) {
            Some(m) => [m[0], m[1], m[2], m[3]],
            None if prefix.is_empty() => return Err(CaptureError::Empty),
            None => return Err(CaptureError::NotACapture(prefix)),
        };
        let io_error = IoSlot::default();
        let mut buffer_size = INITIAL_BUFFER;
        let (inner, format) = match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                // pcap-parser parses the section header from its first read, so it must all be
                // in the bytes handed to it first.
                let shb_len = shb_length(&prefix).ok_or_else(|| CaptureError::Corrupt {
                    offset: 0,
                    detail: "bad pcapng section header".into(),
                })?;
                read_at_least(&mut input, &mut prefix, shb_len)?;
                if prefix.len() < shb_len {
                    return Err(CaptureError::Corrupt {
                        offset: 0,
                        detail: "pcapng section header cut short".into(),
                    });
                }
                buffer_size = buffer_size.max(prefix.len().next_power_of_two());
                let src = source(prefix, input, &io_error);
                let r = PcapNGReader::new(buffer_size, src)
                    .map_err(|e| corrupt_at(0, format!("pcapng section header: {e}")))?;
                (Inner::Ng(r), CaptureFormat::PcapNg)
            }
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0x34, 0xcd, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xa1, 0xb2, 0x3c, 0x4d] => {
                if prefix.len() < 24 {
                    return Err(corrupt_at(0, "pcap file header cut short".into()));
                }
                let format = CaptureFormat::Pcap {
                    nanosecond: matches!(magic, [0x4d, 0x3c, ..] | [.., 0x3c, 0x4d]),
                    big_endian: magic[0] == 0xa1,
                };
                let src = source(prefix, input, &io_error);
                let r = LegacyPcapReader::new(buffer_size, src)
                    .map_err(|e| corrupt_at(0, format!("pcap file header: {e}")))?;
                (Inner::Pcap(r), format)
            }
            [0x1f, 0x8b, ..] => return Err(CaptureError::Compressed("gzip", "gzip")),
            [0x28, 0xb5, 0x2f, 0xfd] => return Err(CaptureError::Compressed("zstd", "zstd")),
            [0x04, 0x22, 0x4d, 0x18] => return Err(CaptureError::Compressed("lz4", "lz4")),
            [0xfd, 0x37, 0x7a, 0x58] => return Err(CaptureError::Compressed("xz", "xz")),
            _ => {
                prefix.truncate(8);
                return Err(CaptureError::NotACapture(prefix));
            }
        };
        Ok(CaptureReader {
            inner,
            st: State {
                frames: 0,
                segments: 0,
                skips: SkipCounts::new(),
                pcap_if: IfState {
                    link: Err(u32::MAX),
                    scale: TsScale::Mul(1000),
                    offset_ns: 0,
                },
                big_endian: false,
                section: None,
                section_ifs: Vec::new(),
                interfaces: Vec::new(),
                last_ts: 0,
            },
            format,
            io_error,
            truncated_tail: false,
            done: false,
            buffer_size,
            pcap_record_header: if magic == [0x34, 0xcd, 0xb2, 0xa1] {
                24
            } else {
                16
            },
            total_bytes: None,
        })
    }

    /// The next TCP segment; `None` at the end of the capture (or after an error).
    pub fn next_segment(&mut self) -> Option<Result<Segment, CaptureError>> {
        while !self.done {
            match self.step() {
                Step::Segment(s) => return Some(Ok(s)),
                Step::Continue => {}
                Step::End => self.done = true,
                Step::Fail(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }

    fn step(&mut self) -> Step {
        if let Inner::Pcap(r) = &mut self.inner {
            // A whole record in the buffer, after the file header: read here what pcap-parser's
            // `next` would (its frame parser is these four fields and a length check), without
            // its block conversions and dynamic calls on every packet. The rest (the header,
            // a record cut by the buffer's end, end of file, errors) goes through pcap-parser.
            if r.consumed() > 0 && self.pcap_record_header == 16 {
                let data = r.data();
                let big_endian = matches!(
                    self.format,
                    CaptureFormat::Pcap {
                        big_endian: true,
                        ..
                    }
                );
                let field = |at: usize| {
                    let b = [data[at], data[at + 1], data[at + 2], data[at + 3]];
                    if big_endian {
                        u32::from_be_bytes(b)
                    } else {
                        u32::from_le_bytes(b)
                    }
                };
                if data.len() >= 16 {
                    let end = (field(8) as usize).saturating_add(16);
                    if data.len() >= end {
                        let step = self.st.legacy(field(0), field(4), &data[16..end]);
                        r.consume_noshift(end);
                        return step;
                    }
                }
            }
        }
        let it: &mut dyn PcapReaderIterator = match &mut self.inner {
            Inner::Pcap(r) => r,
            Inner::Ng(r) => r,
        };
        let st = &mut self.st;
        if self.format == CaptureFormat::PcapNg && st.section.is_some() {
            // pcap-parser 0.17 subtracts the 12 header bytes from a block's length unchecked:
            // a shorter length is corrupt, and must be refused before the parser sees it.
            if let Some(n) = record_len(self.format, st.big_endian, 0, it.data()) {
                if n < 12 {
                    return Step::Fail(corrupt_at(
                        it.consumed() as u64,
                        format!("pcapng block claims {n} bytes, less than its own 12-byte frame"),
                    ));
                }
            }
        }
        let failure = match it.next() {
            Ok((offset, block)) => {
                let step = st.block(block);
                // No shift per record: the unread tail (less than one record) moves to the
                // front only when the buffer is refilled, so each byte is copied once at most
                // by us, not on every half-buffer as `consume` does.
                it.consume_noshift(offset);
                return step;
            }
            Err(e) => Failure::of(&e),
        };
        match failure {
            Failure::Eof => Step::End,
            Failure::UnexpectedEof => {
                // The parser can report this with nothing left when the input ended exactly
                // at a record boundary.
                if !it.data().is_empty() {
                    self.truncated_tail = true;
                }
                Step::End
            }
            Failure::Read => {
                let e = self.io_error.lock().ok().and_then(|mut slot| slot.take());
                Step::Fail(CaptureError::Io(
                    e.unwrap_or_else(|| io::Error::other("read error")),
                ))
            }
            Failure::Incomplete | Failure::BufferTooSmall | Failure::Parse(_) => {
                let parse_error = matches!(failure, Failure::Parse(_));
                if st.section.is_some() {
                    match st.skip_bad_block(it) {
                        BadBlock::Skipped(step) => return step,
                        BadBlock::Invalid(detail) if parse_error => {
                            return Step::Fail(corrupt_at(it.consumed() as u64, detail))
                        }
                        // The parser wants more, or the block length is garbage and the parser
                        // will say so itself once it has enough bytes.
                        _ => {}
                    }
                }
                if let Failure::Parse(detail) = &failure {
                    if st.section.is_none() || it.reader_exhausted() {
                        return Step::Fail(corrupt_at(it.consumed() as u64, detail.clone()));
                    }
                }
                // Grow once to what the record header says it needs, rather than doubling up
                // to the limit on a corrupt length.
                let needed = record_len(
                    self.format,
                    st.big_endian,
                    self.pcap_record_header,
                    it.data(),
                );
                if let Some(n) = needed.filter(|&n| n > MAX_RECORD) {
                    return Step::Fail(corrupt_at(
                        it.consumed() as u64,
                        format!(
                            "record claims {n} bytes, over the {} MiB limit",
                            MAX_RECORD >> 20
                        ),
                    ));
                }
                let full = it.data().len() >= self.buffer_size;
                if matches!(failure, Failure::BufferTooSmall)
                    || full
                    || needed.is_some_and(|n| n >= self.buffer_size)
                {
                    let target = needed
                        .unwrap_or(0)
                        .saturating_add(1)
                        .max(self.buffer_size * 2)
                        .next_power_of_two()
                        .min(MAX_BUFFER);
                    if target <= self.buffer_size {
                        return Step::Fail(corrupt_at(
                            it.consumed() as u64,
                            "record does not fit the largest buffer".into(),
                        ));
                    }
                    self.buffer_size = target;
                    it.grow(self.buffer_size);
                }
                match it.refill() {
                    Ok(()) => Step::Continue,
                    Err(_) => {
                        let e = self.io_error.lock().ok().and_then(|mut slot| slot.take());
                        Step::Fail(CaptureError::Io(
                            e.unwrap_or_else(|| io::Error::other("read error")),
                        ))
                    }
                }
            }
        }
    }

    /// Segments and skips so far, by reason.
    pub fn skip_counts(&self) -> &SkipCounts {
        &self.st.skips
    }

    /// Packet records read so far (the last frame number handed out).
    pub fn frames_read(&self) -> u64 {
        self.st.frames
    }

    /// Segments returned so far.
    pub fn segments_read(&self) -> u64 {
        self.st.segments
    }

    /// Bytes of the capture parsed so far, for a progress bar against [`total_bytes`](Self::total_bytes).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Pcap(r) => r.consumed() as u64,
            Inner::Ng(r) => r.consumed() as u64,
        }
    }

    /// The file's size when it is a regular file opened by [`open_path`].
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Every interface seen so far: pcapng IDBs of all sections, or the single pcap one.
    pub fn interfaces(&self) -> &[Interface] {
        &self.st.interfaces
    }

    /// Link types seen so far that tcplife cannot slice (their frames are skipped).
    pub fn unsupported_linktypes(&self) -> impl Iterator<Item = u32> + '_ {
        self.st
            .interfaces
            .iter()
            .filter(|i| i.link.is_none())
            .map(|i| i.linktype)
    }

    /// True when the capture ended in the middle of a record (the partial record is dropped,
    /// as Wireshark does, and is not counted as a frame).
    pub fn truncated_tail(&self) -> bool {
        self.truncated_tail
    }
}

impl<R: Read> Iterator for CaptureReader<R> {
    type Item = Result<Segment, CaptureError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_segment()
    }
}

/// Total bytes of the record at the head of `data`, from its header, when readable.
fn record_len(
    format: CaptureFormat,
    ng_big_endian: bool,
    pcap_record_header: usize,
    data: &[u8],
) -> Option<usize> {
    let w = |at: usize, be: bool| -> Option<usize> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        let v = if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(v).ok()
    };
    match format {
        CaptureFormat::PcapNg => w(4, ng_big_endian),
        CaptureFormat::Pcap { big_endian, .. } => w(8, big_endian)?.checked_add(pcap_record_header),
    }
}

fn source<R>(prefix: Vec<u8>, inner: R, error: &IoSlot) -> Source<R> {
    Source {
        prefix,
        pos: 0,
        inner,
        error: Arc::clone(error),
    }
}

fn corrupt_at(offset: u64, detail: String) -> CaptureError {
    CaptureError::Corrupt { offset, detail }
}

/// Total length of the section header block at the start of `b`, when sane.
fn shb_length(b: &[u8]) -> Option<usize> {
    let len = b.get(4..8)?;
    let bom = b.get(8..12)?;
    let len = match bom {
        [0x4d, 0x3c, 0x2b, 0x1a] => u32::from_le_bytes([len[0], len[1], len[2], len[3]]),
        [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes([len[0], len[1], len[2], len[3]]),
        _ => return None,
    };
    let len = usize::try_from(len).ok()?;
    (28..=MAX_RECORD).contains(&len).then_some(len)
}

/// A parser error, with the borrow of the parser's buffer let go.
enum Failure {
    Eof,
    UnexpectedEof,
    Read,
    Incomplete,
    BufferTooSmall,
    Parse(String),
}

impl Failure {
    fn of(e: &PcapError<&[u8]>) -> Failure {
        match e {
            PcapError::Eof => Failure::Eof,
            PcapError::UnexpectedEof => Failure::UnexpectedEof,
            PcapError::ReadError => Failure::Read,
            PcapError::Incomplete(_) => Failure::Incomplete,
            PcapError::BufferTooSmall => Failure::BufferTooSmall,
            PcapError::HeaderNotRecognized => Failure::Parse("header not recognized".into()),
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                Failure::Parse(format!("unparsable block ({kind:?})"))
            }
        }
    }
}

const PB_TYPE: u32 = 0x0000_0002;
const SPB_TYPE: u32 = 0x0000_0003;
const EPB_TYPE: u32 = 0x0000_0006;
const SJE_TYPE: u32 = 0x0000_0009;

impl State {
    #[inline(always)]
    fn frame(&mut self, link: Result<LinkType, u32>, ts_ns: i64, data: &[u8]) -> Step {
        self.frames += 1;
        self.last_ts = ts_ns;
        let sliced = match link {
            Ok(link) => slice_frame(link, self.frames, ts_ns, data),
            Err(code) => Err(SkipReason::UnsupportedLinkType(code)),
        };
        match sliced {
            Ok(seg) => {
                self.segments += 1;
                Step::Segment(seg)
            }
            Err(reason) => self.skip(reason),
        }
    }

    #[inline(always)]
    fn legacy(&mut self, ts_sec: u32, ts_frac: u32, data: &[u8]) -> Step {
        let ts = i64::from(ts_sec) * 1_000_000_000 + self.pcap_if.scale.to_ns(u64::from(ts_frac));
        self.frame(self.pcap_if.link, ts, data)
    }

    fn skip(&mut self, reason: SkipReason) -> Step {
        self.skips.add(reason);
        Step::Continue
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        })
    }

    fn block(&mut self, block: PcapBlockOwned<'_>) -> Step {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                // The upper bits of the link-type field carry FCS information, not the type.
                let code = (h.network.0 as u32) & 0xFFFF;
                let scale = if h.is_nanosecond_precision() {
                    TsScale::Mul(1)
                } else {
                    TsScale::Mul(1000)
                };
                self.pcap_if = IfState {
                    link: LinkType::from_linktype(code).ok_or(code),
                    scale,
                    offset_ns: 0,
                };
                self.interfaces.push(Interface {
                    section: 0,
                    id: 0,
                    linktype: code,
                    link: LinkType::from_linktype(code),
                    ts_units_per_sec: scale.units_per_sec(),
                });
                Step::Continue
            }
            PcapBlockOwned::Legacy(b) => self.legacy(b.ts_sec, b.ts_usec, b.data),
            PcapBlockOwned::NG(block) => self.ng_block(block),
        }
    }

    fn ng_block(&mut self, block: Block<'_>) -> Step {
        match block {
            Block::SectionHeader(shb) => {
                self.big_endian = shb.big_endian();
                self.section = Some(self.section.map_or(0, |s| s + 1));
                self.section_ifs.clear();
                Step::Continue
            }
            Block::InterfaceDescription(idb) => {
                let code = u32::from(idb.linktype.0 as u16);
                let mut tsresol = 6u8;
                let mut offset_s = 0i64;
                for opt in &idb.options {
                    let v = opt.as_bytes().unwrap_or(&[]);
                    if opt.code == OptionCode::IfTsresol && !v.is_empty() {
                        tsresol = v[0];
                    } else if opt.code == OptionCode::IfTsoffset && v.len() >= 8 {
                        let b: [u8; 8] = v[..8].try_into().unwrap_or([0; 8]);
                        // pcap-parser reads this option little-endian whatever the section says.
                        offset_s = if self.big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        };
                    }
                }
                // Wireshark falls back to microseconds for a resolution it cannot represent.
                let scale = TsScale::from_tsresol(tsresol).unwrap_or(TsScale::Mul(1000));
                let link = LinkType::from_linktype(code);
                self.interfaces.push(Interface {
                    section: self.section.unwrap_or(0),
                    id: self.section_ifs.len() as u32,
                    linktype: code,
                    link,
                    ts_units_per_sec: scale.units_per_sec(),
                });
                self.section_ifs.push(IfState {
                    link: link.ok_or(code),
                    scale,
                    offset_ns: offset_s.saturating_mul(1_000_000_000),
                });
                Step::Continue
            }
            Block::EnhancedPacket(epb) => {
                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                self.packet(epb.if_id, ts, epb.packet_data())
            }
            Block::SimplePacket(spb) => match self.section_ifs.first().copied() {
                // No timestamp in an SPB: keep the previous one so time never jumps to 1970.
                Some(ifs) => self.frame(ifs.link, self.last_ts, spb.packet_data()),
                None => {
                    self.frames += 1;
                    self.skip(SkipReason::UnknownInterface)
                }
            },
            Block::SystemdJournalExport(_) => {
                // Wireshark lists journal entries as frames: count them so numbers line up.
                self.frames += 1;
                self.skip(SkipReason::NotIp)
            }
            Block::Unknown(ub) => {
                let btype = if self.big_endian {
                    ub.block_type.swap_bytes()
                } else {
                    ub.block_type
                };
                if btype != PB_TYPE {
                    return Step::Continue;
                }
                // Obsolete Packet Block: if_id u16, drops u16, ts_high, ts_low, caplen, len.
                let d = ub.data;
                let (Some(head), Some(hi), Some(lo), Some(caplen)) = (
                    d.get(..2),
                    self.u32_at(d, 4),
                    self.u32_at(d, 8),
                    self.u32_at(d, 12),
                ) else {
                    self.frames += 1;
                    return self.skip(SkipReason::Malformed);
                };
                let if_id = if self.big_endian {
                    u16::from_be_bytes([head[0], head[1]])
                } else {
                    u16::from_le_bytes([head[0], head[1]])
                };
                let body = &d[20.min(d.len())..];
                let data = &body[..body.len().min(caplen as usize)];
                let ts = (u64::from(hi) << 32) | u64::from(lo);
                self.packet(u32::from(if_id), ts, data)
            }
            _ => Step::Continue,
        }
    }

    fn packet(&mut self, if_id: u32, ts: u64, data: &[u8]) -> Step {
        match self.section_ifs.get(if_id as usize).copied() {
            Some(ifs) => {
                let ts_ns = ifs.scale.to_ns(ts).saturating_add(ifs.offset_ns);
                self.frame(ifs.link, ts_ns, data)
            }
            None => {
                self.frames += 1;
                self.skip(SkipReason::UnknownInterface)
            }
        }
    }

    /// A pcapng block the parser rejects, or claims needs more data than its own declared
    /// length: when that length is sane and all in the buffer, skip just that block (counting
    /// it as a malformed frame if it is a packet block) rather than give up on the file.
    fn skip_bad_block(&mut self, it: &mut dyn PcapReaderIterator) -> BadBlock {
        let data = it.data();
        let (Some(btype), Some(len)) = (self.u32_at(data, 0), self.u32_at(data, 4)) else {
            return BadBlock::NeedMore;
        };
        let len = len as usize;
        if len < 12 || len & 3 != 0 || len > MAX_RECORD {
            return BadBlock::Invalid(format!(
                "pcapng block of type {btype:#x} has an invalid length {len}"
            ));
        }
        if len > data.len() {
            return BadBlock::NeedMore;
        }
        let step = match btype {
            PB_TYPE | SPB_TYPE | EPB_TYPE | SJE_TYPE => {
                self.frames += 1;
                self.skip(SkipReason::Malformed)
            }
            _ => Step::Continue,
        };
        it.consume_noshift(len);
        BadBlock::Skipped(step)
    }
}
