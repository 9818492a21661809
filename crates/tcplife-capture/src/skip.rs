//! Tally of frames that did not yield a segment, for the one-line report after a run.

use std::fmt;

use crate::SkipReason;

const KINDS: usize = 8;

/// Counts of skipped frames by [`SkipReason`]. Unsupported link types are counted per type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts {
    by_kind: [u64; KINDS],
    /// (LINKTYPE number, frames). Tiny: a capture has a handful of link types at most.
    unsupported_links: Vec<(u32, u64)>,
}

impl SkipCounts {
    pub fn new() -> SkipCounts {
        SkipCounts::default()
    }

    /// Counts one skipped frame.
    #[inline]
    pub fn add(&mut self, reason: SkipReason) {
        self.by_kind[reason.index()] += 1;
        if let SkipReason::UnsupportedLinkType(code) = reason {
            match self.unsupported_links.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => self.unsupported_links.push((code, 1)),
            }
        }
    }

    /// Frames skipped for `reason`. For `UnsupportedLinkType(code)`, those of that link type.
    pub fn get(&self, reason: SkipReason) -> u64 {
        match reason {
            SkipReason::UnsupportedLinkType(code) => self
                .unsupported_links
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(0, |(_, n)| *n),
            r => self.by_kind[r.index()],
        }
    }

    /// All skipped frames.
    pub fn total(&self) -> u64 {
        self.by_kind.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The non-zero counts, in a stable order (the order of [`SkipReason`]'s variants).
    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        const FIXED: [SkipReason; KINDS] = [
            SkipReason::NotIp,
            SkipReason::NotTcp,
            SkipReason::TcpInIcmpError,
            SkipReason::IpFragment,
            SkipReason::Truncated,
            SkipReason::Malformed,
            SkipReason::UnsupportedLinkType(0),
            SkipReason::UnknownInterface,
        ];
        FIXED.into_iter().flat_map(move |r| {
            let list: Box<dyn Iterator<Item = (SkipReason, u64)>> = match r {
                SkipReason::UnsupportedLinkType(_) => Box::new(
                    self.unsupported_links
                        .iter()
                        .map(|&(c, n)| (SkipReason::UnsupportedLinkType(c), n)),
                ),
                r => Box::new(std::iter::once((r, self.by_kind[r.index()]))),
            };
            list.filter(|&(_, n)| n > 0)
        })
    }

    /// Adds another tally into this one (e.g. several files read for one report).
    pub fn merge(&mut self, other: &SkipCounts) {
        for i in 0..KINDS {
            if i != SkipReason::UnsupportedLinkType(0).index() {
                self.by_kind[i] += other.by_kind[i];
            }
        }
        for &(code, n) in &other.unsupported_links {
            self.by_kind[SkipReason::UnsupportedLinkType(0).index()] += n;
            match self.unsupported_links.iter_mut().find(|(c, _)| *c == code) {
                Some((_, m)) => *m += n,
                None => self.unsupported_links.push((code, n)),
            }
        }
    }
}

impl<'a> IntoIterator for &'a SkipCounts {
    type Item = (SkipReason, u64);
    type IntoIter = Box<dyn Iterator<Item = (SkipReason, u64)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// `0 frames skipped` or `12 frames skipped (9 not-tcp, 2 ip-fragment, 1 unsupported-link-type 147)`.
impl fmt::Display for SkipCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total();
        write!(
            f,
            "{total} frame{} skipped",
            if total == 1 { "" } else { "s" }
        )?;
        let mut sep = " (";
        for (reason, n) in self.iter() {
            write!(f, "{sep}{n} {}", reason.name())?;
            if let SkipReason::UnsupportedLinkType(code) = reason {
                write!(f, " {code}")?;
            }
            sep = ", ";
        }
        if total > 0 {
            f.write_str(")")?;
        }
        Ok(())
    }
}
