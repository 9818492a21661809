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
}

impl Table {
    pub(crate) fn new(columns: &'static [(&'static str, Align)]) -> Table {
        Table {
            columns,
            widths: columns.iter().map(|(h, _)| h.len()).collect(),
            pending: Vec::new(),
            header_written: false,
        }
    }

    pub(crate) fn row(&mut self, out: &mut impl Write, cells: Vec<String>) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        if self.header_written {
            return self.write_row(out, &cells);
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
            self.write_row(out, &header)?;
            self.header_written = true;
        }
        for cells in std::mem::take(&mut self.pending) {
            self.write_row(out, &cells)?;
        }
        Ok(())
    }

    fn write_row(&self, out: &mut impl Write, cells: &[String]) -> io::Result<()> {
        let mut line = String::with_capacity(160);
        for (i, cell) in cells.iter().enumerate() {
            let width = self.widths[i];
            let last = i + 1 == cells.len();
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width.saturating_sub(cell.len());
            match self.columns[i].1 {
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
                Align::Left => {
                    line.push_str(cell);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        out.write_all(line.as_bytes())
    }
}
