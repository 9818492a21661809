//! Column alignment for the people-facing tables.
//!
//! Widths come from the header and the first [`LOOKAHEAD`] rows, which are held back until then;
//! later rows are written at once with those widths (a wider cell pushes only its own row). This
//! keeps memory bounded on huge captures while small outputs are perfectly aligned.

use std::io::{self, Write};

pub(crate) const LOOKAHEAD: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

pub(crate) struct Table {
    columns: &'static [(&'static str, Align)],
    widths: Vec<usize>,
    pending: Vec<Vec<String>>,
    header_written: bool,
    /// Each streamed row is laid out here, so that rows past the look-ahead allocate nothing.
    line: Vec<u8>,
}

/// One row's cells, written one after the other into one buffer kept from row to row.
#[derive(Default)]
pub(crate) struct Cells {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl Cells {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Where the next cell is written; call [`end`](Self::end) after it.
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.text
    }

    pub(crate) fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.text.extend_from_slice(s.as_bytes());
        self.end();
    }

    fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter().copied()).map(|(a, b)| {
            // Cells are written from `str`s and ASCII digits only.
            std::str::from_utf8(&self.text[a..b]).unwrap_or("?")
        })
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

impl Table {
    pub(crate) fn new(columns: &'static [(&'static str, Align)]) -> Table {
        Table {
            columns,
            widths: columns.iter().map(|(h, _)| h.len()).collect(),
            pending: Vec::new(),
            header_written: false,
            line: Vec::with_capacity(160),
        }
    }

    /// As [`row`](Self::row), from a reused [`Cells`]: once the table streams, nothing is
    /// allocated for the row.
    pub(crate) fn row_cells(&mut self, out: &mut impl Write, cells: &Cells) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        if self.header_written {
            return self.write_row(out, cells.iter());
        }
        self.row(out, cells.iter().map(str::to_string).collect())
    }

    pub(crate) fn row(&mut self, out: &mut impl Write, cells: Vec<String>) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        if self.header_written {
            return self.write_row(out, cells.iter().map(String::as_str));
        }
        for (w, c) in self.widths.iter_mut().zip(&cells) {
            *w = (*w).max(c.len());
        }
        self.pending.push(cells);
        if self.pending.len() >= LOOKAHEAD {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Writes the header and every held-back row; the table then streams.
    pub(crate) fn flush(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.header_written {
            let header: Vec<String> = self.columns.iter().map(|(h, _)| h.to_string()).collect();
            self.write_row(out, header.iter().map(String::as_str))?;
            self.header_written = true;
        }
        for cells in std::mem::take(&mut self.pending) {
            self.write_row(out, cells.iter().map(String::as_str))?;
        }
        Ok(())
    }

    fn write_row<'a>(
        &mut self,
        out: &mut impl Write,
        cells: impl Iterator<Item = &'a str>,
    ) -> io::Result<()> {
        const SPACES: &[u8; 64] = &[b' '; 64];
        fn pad(line: &mut Vec<u8>, mut n: usize) {
            while n > 0 {
                let k = n.min(SPACES.len());
                line.extend_from_slice(&SPACES[..k]);
                n -= k;
            }
        }
        let line = &mut self.line;
        line.clear();
        let count = self.columns.len();
        for (i, cell) in cells.enumerate() {
            let width = self.widths[i];
            let last = i + 1 == count;
            if i > 0 {
                line.extend_from_slice(b"  ");
            }
            let n = width.saturating_sub(cell.len());
            match self.columns[i].1 {
                Align::Right => {
                    pad(line, n);
                    line.extend_from_slice(cell.as_bytes());
                }
                Align::Left => {
                    line.extend_from_slice(cell.as_bytes());
                    if !last {
                        pad(line, n);
                    }
                }
            }
        }
        let kept = std::str::from_utf8(line).map_or(line.len(), |s| s.trim_end().len());
        line.truncate(kept);
        line.push(b'\n');
        out.write_all(line)
    }
}
