//! Reading one capture through the engine, and saying on stderr what went wrong with it.

use std::io::{self, IsTerminal};
use std::path::Path;

use tcplife_capture::{open_path, CaptureError, SkipReason};
use tcplife_engine::{Config, Run, Sink};

use crate::progress::Progress;

/// What happened to one input, for [`InputEnd::report`] once its results are written.
pub struct InputEnd {
    name: String,
    /// A reason the input could not be read (wholly or from some point on).
    error: Option<String>,
    frames: u64,
    segments: u64,
    truncated_tail: bool,
    skips: tcplife_capture::SkipCounts,
    /// Segments the engine dropped for a wrong checksum (`--verify-checksums`).
    bad_checksums: u64,
    unsupported: Vec<u32>,
    stopped_early: bool,
    opened: bool,
}

pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Runs every segment of `path` through the engine into `sink`, and the connections still open
/// at the end unless the sink stopped the run. Input errors do not fail this call (they are
/// kept for [`InputEnd::report`], and what was read before them still goes to the sink); a stop
/// from the sink (an output error, or the sink has what it needs) comes back as `Err`.
pub fn drive<S: Sink>(path: &Path, config: Config, sink: S) -> (InputEnd, Result<S, S::Stop>) {
    let mut end = InputEnd {
        name: display_name(path),
        error: None,
        frames: 0,
        segments: 0,
        truncated_tail: false,
        skips: Default::default(),
        bad_checksums: 0,
        unsupported: Vec::new(),
        stopped_early: false,
        opened: false,
    };
    // Waiting for a capture to be typed in is never what was meant.
    if path.as_os_str() == "-" && io::stdin().is_terminal() {
        end.error = Some("standard input is a terminal; pipe a capture in".to_string());
        return (end, Ok(sink));
    }
    let mut reader = match open_path(path) {
        Ok(r) => r,
        Err(e) => {
            end.error = Some(describe(&e));
            return (end, Ok(sink));
        }
    };
    end.opened = true;
    let mut progress = Progress::new(&end.name, reader.total_bytes());
    let mut run = Run::new(config, sink);
    let mut stop = None;
    let mut n: u64 = 0;
    while let Some(item) = reader.next_segment() {
        let seg = match item {
            Ok(seg) => seg,
            Err(e) => {
                end.error = Some(describe(&e));
                break;
            }
        };
        if let Err(s) = run.segment(&seg) {
            stop = Some(s);
            end.stopped_early = true;
            break;
        }
        n += 1;
        // A cheap counter test per segment; the clock is read only every 16384 segments.
        if n & 0x3fff == 0 {
            progress.update(reader.bytes_read(), n);
        }
    }
    progress.clear();
    end.frames = reader.frames_read();
    end.segments = reader.segments_read();
    end.truncated_tail = reader.truncated_tail();
    end.skips = reader.skip_counts().clone();
    end.bad_checksums = run.tracker().bad_checksums();
    end.unsupported = reader.unsupported_linktypes().collect();
    let result = match stop {
        Some(s) => Err(s),
        None => run.finish(),
    };
    (end, result)
}

fn describe(e: &CaptureError) -> String {
    match e {
        // The path is already at the start of the line.
        CaptureError::Open { source, .. } => os_message(source),
        CaptureError::Io(source) => format!("read error: {}", os_message(source)),
        e => e.to_string(),
    }
}

/// `No such file or directory`, without the ` (os error 2)` that adds nothing for people.
fn os_message(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl InputEnd {
    /// False when the input could not even be recognised as a capture.
    pub fn opened(&self) -> bool {
        self.opened
    }

    /// Prints this input's error or warnings on stderr; false when the input was bad.
    pub fn report(&self) -> bool {
        let name = &self.name;
        let read_so_far = if self.frames > 0 {
            format!("; results cover the {} frames before it", self.frames)
        } else {
            String::new()
        };
        if let Some(err) = &self.error {
            eprintln!("tcplife: {name}: {err}{read_so_far}");
            return false;
        }
        if self.segments == 0 && !self.unsupported.is_empty() {
            let mut codes = self.unsupported.clone();
            codes.sort_unstable();
            codes.dedup();
            let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
            eprintln!(
                "tcplife: {name}: unsupported link type {} (tcplife reads Ethernet, Linux cooked v1/v2, raw IPv4/IPv6 and BSD loopback captures)",
                codes.join(", ")
            );
            return false;
        }
        if self.truncated_tail {
            eprintln!(
                "tcplife: {name}: warning: the capture ends in the middle of a packet record (cut-off file?){read_so_far}"
            );
        }
        if (!self.skips.is_empty() || self.bad_checksums > 0) && !self.stopped_early {
            let mut parts: Vec<String> = self
                .skips
                .iter()
                .map(|(reason, n)| match reason {
                    SkipReason::UnsupportedLinkType(code) => {
                        format!("{n} {} {code}", reason.name())
                    }
                    _ => format!("{n} {}", reason.name()),
                })
                .collect();
            if self.bad_checksums > 0 {
                parts.push(format!("{} bad-checksum", self.bad_checksums));
            }
            eprintln!(
                "tcplife: {name}: skipped {} of {} frames: {}",
                self.skips.total() + self.bad_checksums,
                self.frames,
                parts.join(", ")
            );
        }
        true
    }
}
