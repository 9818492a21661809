//! Reading one capture through the engine, and saying on stderr what went wrong with it.

use std::io::{self, IsTerminal};
use std::path::Path;

use tcplife_capture::{open_path, CaptureError, SkipReason};
use tcplife_engine::{Annotation, Segment, Tracker};

use crate::progress::Progress;

pub enum Flow {
    Continue,
    /// The caller has what it needs; stop reading.
    Stop,
}

/// What happened to one input, for [`InputEnd::report`] once its results are written.
pub struct InputEnd {
    name: String,
    /// A reason the input could not be read (wholly or from some point on).
    error: Option<String>,
    frames: u64,
    segments: u64,
    truncated_tail: bool,
    skips: tcplife_capture::SkipCounts,
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

/// Feeds every segment of `path` to `tracker` and hands each annotation to `visit`. Input
/// errors do not fail this call (they are kept for [`InputEnd::report`]); output errors from
/// `visit` do.
pub fn drive<F>(path: &Path, tracker: &mut Tracker, mut visit: F) -> io::Result<InputEnd>
where
    F: FnMut(&Segment, &Annotation, &mut Tracker) -> io::Result<Flow>,
{
    let mut end = InputEnd {
        name: display_name(path),
        error: None,
        frames: 0,
        segments: 0,
        truncated_tail: false,
        skips: Default::default(),
        unsupported: Vec::new(),
        stopped_early: false,
        opened: false,
    };
    // Waiting for a capture to be typed in is never what was meant.
    if path.as_os_str() == "-" && io::stdin().is_terminal() {
        end.error = Some("standard input is a terminal; pipe a capture in".to_string());
        return Ok(end);
    }
    let mut reader = match open_path(path) {
        Ok(r) => r,
        Err(e) => {
            end.error = Some(describe(&e));
            return Ok(end);
        }
    };
    end.opened = true;
    let mut progress = Progress::new(&end.name, reader.total_bytes());
    let mut n: u64 = 0;
    while let Some(item) = reader.next_segment() {
        let seg = match item {
            Ok(seg) => seg,
            Err(e) => {
                end.error = Some(describe(&e));
                break;
            }
        };
        let ann = tracker.process(&seg);
        let flow = visit(&seg, &ann, tracker)?;
        n += 1;
        // A cheap counter test per segment; the clock is read only every 16384 segments.
        if n & 0x3fff == 0 {
            progress.update(reader.bytes_read(), n);
        }
        if let Flow::Stop = flow {
            end.stopped_early = true;
            break;
        }
    }
    progress.clear();
    end.frames = reader.frames_read();
    end.segments = reader.segments_read();
    end.truncated_tail = reader.truncated_tail();
    end.skips = reader.skip_counts().clone();
    end.unsupported = reader.unsupported_linktypes().collect();
    Ok(end)
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
        if !self.skips.is_empty() && !self.stopped_early {
            let parts: Vec<String> = self
                .skips
                .iter()
                .map(|(reason, n)| match reason {
                    SkipReason::UnsupportedLinkType(code) => {
                        format!("{n} {} {code}", reason.name())
                    }
                    _ => format!("{n} {}", reason.name()),
                })
                .collect();
            eprintln!(
                "tcplife: {name}: skipped {} of {} frames: {}",
                self.skips.total(),
                self.frames,
                parts.join(", ")
            );
        }
        true
    }
}
