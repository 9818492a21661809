//! Capture file writers: classic pcap and pcapng, Ethernet link type, microsecond timestamps.
//!
//! Written here rather than with a crate: the three record layouts needed are a few dozen
//! lines, this keeps the writer streaming with one reused buffer, and the project's reader
//! (pcap-parser) then checks an independent implementation.

use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

const LINKTYPE_ETHERNET: u16 = 1;

/// Streams records to `W`, counting bytes written.
pub struct CaptureWriter<W: Write> {
    out: W,
    format: Format,
    bytes: u64,
    rec: Vec<u8>,
}

impl<W: Write> CaptureWriter<W> {
    pub fn new(out: W, format: Format, snaplen: u32) -> io::Result<CaptureWriter<W>> {
        let mut w = CaptureWriter {
            out,
            format,
            bytes: 0,
            rec: Vec::with_capacity(2048),
        };
        match format {
            Format::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
                h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
                h.extend_from_slice(&snaplen.to_le_bytes());
                h.extend_from_slice(&u32::from(LINKTYPE_ETHERNET).to_le_bytes());
                w.put(&h)?;
            }
            Format::PcapNg => {
                // Section header block: byte-order magic, version 1.0, section length unknown.
                let mut shb = Vec::with_capacity(28);
                shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                shb.extend_from_slice(&1u16.to_le_bytes());
                shb.extend_from_slice(&0u16.to_le_bytes());
                shb.extend_from_slice(&(-1i64).to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                w.put(&shb)?;
                // Interface description block; no if_tsresol option means microseconds.
                let mut idb = Vec::with_capacity(20);
                idb.extend_from_slice(&1u32.to_le_bytes());
                idb.extend_from_slice(&20u32.to_le_bytes());
                idb.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes());
                idb.extend_from_slice(&snaplen.to_le_bytes());
                idb.extend_from_slice(&20u32.to_le_bytes());
                w.put(&idb)?;
            }
        }
        Ok(w)
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.bytes += b.len() as u64;
        Ok(())
    }

    /// Writes one frame: `data` as stored, `orig_len` as on the wire.
    pub fn write(&mut self, ts_ns: i64, data: &[u8], orig_len: usize) -> io::Result<()> {
        let us = ts_ns.div_euclid(1_000);
        let caplen = data.len() as u32;
        let mut rec = std::mem::take(&mut self.rec);
        rec.clear();
        match self.format {
            Format::Pcap => {
                rec.extend_from_slice(&(us.div_euclid(1_000_000) as u32).to_le_bytes());
                rec.extend_from_slice(&(us.rem_euclid(1_000_000) as u32).to_le_bytes());
                rec.extend_from_slice(&caplen.to_le_bytes());
                rec.extend_from_slice(&(orig_len as u32).to_le_bytes());
                rec.extend_from_slice(data);
            }
            Format::PcapNg => {
                let padded = (data.len() + 3) & !3;
                let total = (32 + padded) as u32;
                rec.extend_from_slice(&6u32.to_le_bytes());
                rec.extend_from_slice(&total.to_le_bytes());
                rec.extend_from_slice(&0u32.to_le_bytes()); // interface 0
                rec.extend_from_slice(&((us as u64 >> 32) as u32).to_le_bytes());
                rec.extend_from_slice(&(us as u64 as u32).to_le_bytes());
                rec.extend_from_slice(&caplen.to_le_bytes());
                rec.extend_from_slice(&(orig_len as u32).to_le_bytes());
                rec.extend_from_slice(data);
                rec.resize(rec.len() + padded - data.len(), 0);
                rec.extend_from_slice(&total.to_le_bytes());
            }
        }
        let r = self.put(&rec);
        self.rec = rec;
        r
    }

    /// Flushes and returns the bytes written.
    pub fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        Ok(self.bytes)
    }
}
