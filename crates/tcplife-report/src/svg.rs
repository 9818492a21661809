//! The ladder diagram as a picture: an SVG (or an HTML page holding the SVG and the packet
//! table) of one connection, drawn the way textbooks draw it: the client's lifeline on the left,
//! the server's on the right, one slanted arrow per segment with its flags, relative sequence and
//! acknowledgement numbers and length, the phases as coloured bands, and both endpoints' states
//! after every segment beside their lifelines. Self-contained (no scripts, fonts or files from
//! elsewhere), so it can go straight into a report.

use std::fmt::Write as _;
use std::io::{self, Write};

use tcplife_engine::{Annotation, ConnSummary, Event, Phase, Role, Segment, Step, TcpState};

use crate::ladder::{ending_lines, SegmentLabels};
use crate::num::{secs6_string, Endpoint};

/// Segments drawn at most; the rest are counted in a note (the text ladder prints them all).
pub const MAX_DRAWN: usize = 1000;

const WIDTH: u32 = 1200;
/// Lifelines.
const CLIENT_X: u32 = 330;
const SERVER_X: u32 = 770;
const HEADER_H: u32 = 96;
const ROW_H: u32 = 46;
/// How far an arrow drops between sender and receiver: the segment takes time to arrive.
const SLANT: u32 = 20;
/// The arrow starts this far below its row's top, leaving room for its label.
const ARROW_TOP: u32 = 18;
const FRAME_X: u32 = 46;
const TIME_X: u32 = 132;
const EVENT_X: u32 = 922;
const PHASE_X: u32 = WIDTH - 14;

const SANS: &str = "DejaVu Sans, Verdana, Arial, sans-serif";
const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LadderFormat {
    /// The text diagram of [`crate::LadderWriter`].
    Text,
    /// A standalone SVG picture.
    Svg,
    /// An HTML page with the SVG picture and the packet table.
    Html,
}

struct Row {
    frame: u64,
    rel_ns: i64,
    role: Role,
    label: String,
    rst: bool,
    phase: Phase,
    step: Step,
    event: Event,
    client_state: TcpState,
    server_state: TcpState,
}

/// Collects one connection's segments, then draws them (the picture's height depends on how
/// many there are).
pub struct LadderPicture {
    conn_id: u64,
    ends: Option<(Endpoint, Endpoint)>,
    t0: i64,
    labels: SegmentLabels,
    rows: Vec<Row>,
    /// Segments after the first [`MAX_DRAWN`].
    not_drawn: u64,
}

impl Default for LadderPicture {
    fn default() -> Self {
        Self::new()
    }
}

impl LadderPicture {
    pub fn new() -> LadderPicture {
        LadderPicture {
            conn_id: 0,
            ends: None,
            t0: 0,
            labels: SegmentLabels::default(),
            rows: Vec::new(),
            not_drawn: 0,
        }
    }

    /// Adds one segment of the connection (the caller filters by `conn_id`).
    pub fn packet(&mut self, seg: &Segment, ann: &Annotation) {
        if self.ends.is_none() {
            self.conn_id = ann.conn_id;
            self.t0 = seg.ts_ns;
            let (s, d) = (
                Endpoint(seg.src, seg.src_port),
                Endpoint(seg.dst, seg.dst_port),
            );
            self.ends = Some(match ann.role {
                Role::Client => (s, d),
                Role::Server => (d, s),
            });
        }
        // Numbers stay relative to the same bases whether or not the segment is drawn.
        let label = self.labels.label(seg, ann.role);
        if self.rows.len() >= MAX_DRAWN {
            self.not_drawn += 1;
            return;
        }
        self.rows.push(Row {
            frame: ann.frame,
            rel_ns: seg.ts_ns - self.t0,
            role: ann.role,
            label,
            rst: seg.flags.rst(),
            phase: ann.phase,
            step: ann.step,
            event: ann.event,
            client_state: ann.client_state,
            server_state: ann.server_state,
        });
    }

    /// A standalone SVG document.
    pub fn write_svg(&self, out: &mut impl Write, summary: Option<&ConnSummary>) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        out.write_all(self.svg(summary).as_bytes())?;
        out.flush()
    }

    /// An HTML page: the SVG, then every drawn segment as a table row, then how it ended.
    pub fn write_html(
        &self,
        out: &mut impl Write,
        summary: Option<&ConnSummary>,
    ) -> io::Result<()> {
        let mut h = String::with_capacity(8192 + self.rows.len() * 400);
        let title = self.title();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n\
<style>\n\
body {{ font-family: {SANS}; margin: 2em; color: #111; }}\n\
figure {{ margin: 0 0 2em 0; }}\n\
svg {{ max-width: 100%; height: auto; }}\n\
table {{ border-collapse: collapse; font-size: 13px; }}\n\
th, td {{ padding: 2px 10px; text-align: left; border-bottom: 1px solid #ddd; }}\n\
td.n {{ text-align: right; font-family: {MONO}; }}\n\
td.seg {{ font-family: {MONO}; }}\n\
tr.handshake {{ background: {}; }}\n\
tr.data-transfer {{ background: {}; }}\n\
tr.teardown {{ background: {}; }}\n\
tr.reset {{ background: {}; }}\n\
tr.closed {{ background: {}; }}\n\
</style>\n</head>\n<body>\n<h1>{}</h1>\n<figure>\n",
            xml(&title),
            band(Phase::Handshake).0,
            band(Phase::DataTransfer).0,
            band(Phase::Teardown).0,
            band(Phase::Reset).0,
            band(Phase::Closed).0,
            xml(&title),
        );
        h.push_str(&self.svg(summary));
        h.push_str("</figure>\n<table>\n<thead><tr><th>frame</th><th>time (s)</th><th>from</th><th>segment</th><th>phase</th><th>step</th><th>event</th><th>client state</th><th>server state</th></tr></thead>\n<tbody>\n");
        for r in &self.rows {
            let _ = writeln!(
                h,
                "<tr class=\"{}\"><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"seg\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.phase.as_str().replace(' ', "-"),
                r.frame,
                secs6_string(r.rel_ns),
                r.role.as_str(),
                xml(&r.label),
                r.phase.as_str(),
                r.step,
                r.event.as_str(),
                r.client_state.as_str(),
                r.server_state.as_str(),
            );
        }
        h.push_str("</tbody>\n</table>\n");
        for line in self.footer_lines(summary) {
            let _ = writeln!(h, "<p>{}</p>", xml(&line));
        }
        h.push_str("</body>\n</html>\n");
        out.write_all(h.as_bytes())?;
        out.flush()
    }

    fn title(&self) -> String {
        match self.ends {
            Some((c, s)) => format!("TCP connection {}: client {c}, server {s}", self.conn_id),
            None => "TCP connection".to_string(),
        }
    }

    fn footer_lines(&self, summary: Option<&ConnSummary>) -> Vec<String> {
        let mut v = Vec::new();
        if self.not_drawn > 0 {
            v.push(format!(
                "... {} more segments not drawn (the first {MAX_DRAWN} are; tcplife ladder without --format prints all)",
                self.not_drawn
            ));
        }
        if let Some(c) = summary {
            v.extend(ending_lines(c));
        }
        v
    }

    fn svg(&self, summary: Option<&ConnSummary>) -> String {
        let footer = self.footer_lines(summary);
        let rows_h = self.rows.len() as u32 * ROW_H;
        let body_end = HEADER_H + rows_h;
        let height = body_end + 24 + footer.len() as u32 * 20 + 12;
        let mut s = String::with_capacity(4096 + self.rows.len() * 1200);
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"{SANS}\" font-size=\"13\">"
        );
        let _ = writeln!(s, "<title>{}</title>", xml(&self.title()));
        s.push_str("<defs>\n");
        for (id, colour) in [
            ("head-client", CLIENT_COLOUR),
            ("head-server", SERVER_COLOUR),
            ("head-rst", RST_COLOUR),
        ] {
            let _ = writeln!(
                s,
                "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>"
            );
        }
        s.push_str("</defs>\n");
        let _ = writeln!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>"
        );

        // Phase bands, one per run of rows in the same phase.
        let mut i = 0;
        while i < self.rows.len() {
            let phase = self.rows[i].phase;
            let mut j = i;
            while j + 1 < self.rows.len() && self.rows[j + 1].phase == phase {
                j += 1;
            }
            let (fill, ink) = band(phase);
            let y = HEADER_H + i as u32 * ROW_H;
            let h = (j - i + 1) as u32 * ROW_H;
            let _ = writeln!(
                s,
                "<g class=\"phase\" data-phase=\"{p}\"><rect x=\"0\" y=\"{y}\" width=\"{WIDTH}\" height=\"{h}\" fill=\"{fill}\"/><text x=\"{PHASE_X}\" y=\"{}\" text-anchor=\"end\" font-weight=\"bold\" fill=\"{ink}\">{p}</text></g>",
                y + ARROW_TOP + SLANT / 2 + 4,
                p = phase.as_str(),
            );
            i = j + 1;
        }

        // Headings and lifelines.
        let _ = writeln!(
            s,
            "<text x=\"14\" y=\"26\" font-size=\"17\" font-weight=\"bold\">{}</text>",
            xml(&self.title())
        );
        let (client, server) = self
            .ends
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "<g class=\"heads\" fill=\"#333\"><text x=\"{FRAME_X}\" y=\"{h}\" text-anchor=\"end\">frame</text><text x=\"{TIME_X}\" y=\"{h}\" text-anchor=\"end\">time (s)</text>\
<text x=\"{CLIENT_X}\" y=\"58\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"15\" fill=\"{CLIENT_COLOUR}\">client</text><text x=\"{CLIENT_X}\" y=\"74\" text-anchor=\"middle\" font-family=\"{MONO}\" font-size=\"12\">{}</text>\
<text x=\"{SERVER_X}\" y=\"58\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"15\" fill=\"{SERVER_COLOUR}\">server</text><text x=\"{SERVER_X}\" y=\"74\" text-anchor=\"middle\" font-family=\"{MONO}\" font-size=\"12\">{}</text>\
<text x=\"{}\" y=\"{h}\" text-anchor=\"end\">state</text><text x=\"{}\" y=\"{h}\" text-anchor=\"start\">state</text>\
<text x=\"{EVENT_X}\" y=\"{h}\">step, event</text><text x=\"{PHASE_X}\" y=\"{h}\" text-anchor=\"end\">phase</text></g>",
            xml(&client),
            xml(&server),
            CLIENT_X - 12,
            SERVER_X + 12,
            h = HEADER_H - 8,
        );
        for x in [CLIENT_X, SERVER_X] {
            let _ = writeln!(
                s,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#444\" stroke-width=\"2\"/>",
                HEADER_H - 4,
                body_end + 6
            );
        }

        let mut prev: Option<(TcpState, TcpState)> = None;
        for (i, r) in self.rows.iter().enumerate() {
            self.row(&mut s, i as u32, r, prev);
            prev = Some((r.client_state, r.server_state));
        }

        for (k, line) in footer.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text class=\"ending\" x=\"14\" y=\"{}\">{}</text>",
                body_end + 30 + k as u32 * 20,
                xml(line)
            );
        }
        s.push_str("</svg>\n");
        s
    }

    fn row(&self, s: &mut String, i: u32, r: &Row, prev: Option<(TcpState, TcpState)>) {
        let top = HEADER_H + i * ROW_H;
        let y0 = top + ARROW_TOP;
        let y1 = y0 + SLANT;
        let (x0, x1, colour, head) = match (r.role, r.rst) {
            (_, true) => {
                let (a, b) = ends(r.role);
                (a, b, RST_COLOUR, "head-rst")
            }
            (Role::Client, false) => (CLIENT_X, SERVER_X, CLIENT_COLOUR, "head-client"),
            (Role::Server, false) => (SERVER_X, CLIENT_X, SERVER_COLOUR, "head-server"),
        };
        let step = if r.step.is_none() {
            String::new()
        } else {
            format!("{} ", r.step)
        };
        let _ = write!(
            s,
            "<g class=\"packet\" data-frame=\"{f}\" data-from=\"{from}\"><title>frame {f}, {t} s, {from}: {label}; {phase} {step}{event}; client {cs}, server {ss}</title>",
            f = r.frame,
            t = secs6_string(r.rel_ns),
            from = r.role.as_str(),
            label = xml(&r.label),
            phase = r.phase.as_str(),
            event = r.event.as_str(),
            cs = r.client_state.as_str(),
            ss = r.server_state.as_str(),
        );
        // Frame and time where the segment leaves its sender.
        let _ = write!(
            s,
            "<text class=\"frame\" x=\"{FRAME_X}\" y=\"{}\" text-anchor=\"end\" font-family=\"{MONO}\">{}</text><text class=\"time\" x=\"{TIME_X}\" y=\"{}\" text-anchor=\"end\" font-family=\"{MONO}\" fill=\"#555\">{}</text>",
            y0 + 5,
            r.frame,
            y0 + 5,
            secs6_string(r.rel_ns),
        );
        // The arrow stops short of the lifeline so its head touches it.
        let _ = write!(
            s,
            "<line class=\"arrow\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y1}\" stroke=\"{colour}\" stroke-width=\"1.8\" marker-end=\"url(#{head})\"/>",
            if x1 > x0 { x1 - 1 } else { x1 + 1 },
        );
        // The label follows the arrow's slope, just above it.
        let mid_x = (CLIENT_X + SERVER_X) / 2;
        let mid_y = (y0 + y1) / 2;
        let angle = f64::from(SLANT)
            .atan2(f64::from(SERVER_X - CLIENT_X))
            .to_degrees();
        let angle = if x1 > x0 { angle } else { -angle };
        let _ = write!(
            s,
            "<text class=\"label\" x=\"{mid_x}\" y=\"{}\" text-anchor=\"middle\" font-family=\"{MONO}\" font-size=\"12.5\" fill=\"{colour}\" transform=\"rotate({angle:.2} {mid_x} {mid_y})\">{}</text>",
            mid_y - 5,
            xml(&r.label),
        );
        // Both states after the segment: bold where it changed them.
        let (pc, ps) = prev.map_or((None, None), |(c, s)| (Some(c), Some(s)));
        for (x, anchor, state, before) in [
            (CLIENT_X - 12, "end", r.client_state, pc),
            (SERVER_X + 12, "start", r.server_state, ps),
        ] {
            let changed = before != Some(state);
            let _ = write!(
                s,
                "<text class=\"state\" x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\"{}>{}</text>",
                y1 + 5,
                if changed {
                    " font-weight=\"bold\" fill=\"#111\""
                } else {
                    " fill=\"#777\""
                },
                state.as_str()
            );
        }
        let _ = writeln!(
            s,
            "<text class=\"event\" x=\"{EVENT_X}\" y=\"{}\" fill=\"#222\">{step}{}</text></g>",
            y0 + 5 + SLANT / 2,
            r.event.as_str(),
        );
    }
}

const CLIENT_COLOUR: &str = "#1d4ed8";
const SERVER_COLOUR: &str = "#9a3412";
const RST_COLOUR: &str = "#dc2626";

fn ends(from: Role) -> (u32, u32) {
    match from {
        Role::Client => (CLIENT_X, SERVER_X),
        Role::Server => (SERVER_X, CLIENT_X),
    }
}

/// A phase's band colour and the colour of its name.
fn band(p: Phase) -> (&'static str, &'static str) {
    match p {
        Phase::Handshake => ("#dbeafe", "#1e40af"),
        Phase::DataTransfer => ("#dcfce7", "#166534"),
        Phase::Teardown => ("#fef3c7", "#92400e"),
        Phase::Reset => ("#fee2e2", "#991b1b"),
        Phase::Closed => ("#e5e7eb", "#374151"),
    }
}

/// Text for XML character data and attribute values.
fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// One ladder writer for every [`LadderFormat`], so front ends need not care which.
pub enum LadderOutput<W: Write> {
    Text(crate::LadderWriter<W>),
    Picture {
        out: W,
        html: bool,
        picture: LadderPicture,
    },
}

impl<W: Write> LadderOutput<W> {
    pub fn new(out: W, format: LadderFormat) -> Self {
        match format {
            LadderFormat::Text => LadderOutput::Text(crate::LadderWriter::new(out)),
            LadderFormat::Svg | LadderFormat::Html => LadderOutput::Picture {
                out,
                html: format == LadderFormat::Html,
                picture: LadderPicture::new(),
            },
        }
    }

    /// Adds one segment of the connection (the caller filters by `conn_id`).
    pub fn packet(&mut self, seg: &Segment, ann: &Annotation) -> io::Result<()> {
        match self {
            LadderOutput::Text(w) => w.packet(seg, ann),
            LadderOutput::Picture { picture, .. } => {
                picture.packet(seg, ann);
                Ok(())
            }
        }
    }

    /// Writes what is drawn (a picture only when there was a segment) and hands back the
    /// writer, flushed.
    pub fn finish(self, summary: Option<&ConnSummary>) -> io::Result<W> {
        match self {
            LadderOutput::Text(w) => w.finish(summary),
            LadderOutput::Picture {
                mut out,
                html,
                picture,
            } => {
                if !picture.rows.is_empty() {
                    if html {
                        picture.write_html(&mut out, summary)?;
                    } else {
                        picture.write_svg(&mut out, summary)?;
                    }
                }
                out.flush()?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcplife_engine::{ConnState, Flags, Notes};

    fn seg(frame: u64, from_client: bool, seq: u32, ack: u32) -> Segment {
        let (c, s) = (
            ("10.0.0.1".parse().unwrap(), 5000),
            ("10.0.0.2".parse().unwrap(), 80),
        );
        let ((src, src_port), (dst, dst_port)) = if from_client { (c, s) } else { (s, c) };
        Segment {
            frame,
            ts_ns: frame as i64 * 1000,
            src,
            src_port,
            dst,
            dst_port,
            seq,
            ack,
            flags: Flags::ACK,
            window: 1000,
            payload_len: 10,
            ip_len: 50,
            integrity: tcplife_engine::Integrity::Intact,
        }
    }

    fn ann(frame: u64, role: Role) -> Annotation {
        Annotation {
            frame,
            conn_id: 7,
            role,
            event: Event::Data,
            phase: Phase::DataTransfer,
            step: Step::NONE,
            client_state: TcpState::Established,
            server_state: TcpState::Established,
            conn_state: ConnState::OTH,
            history: "D".into(),
            handshake_rtt_ns: None,
            notes: Notes::default(),
        }
    }

    #[test]
    fn draws_at_most_max_drawn_and_says_how_many_more() {
        let mut p = LadderPicture::new();
        for i in 0..(MAX_DRAWN as u64 + 5) {
            let from_client = i % 2 == 0;
            let role = if from_client {
                Role::Client
            } else {
                Role::Server
            };
            p.packet(
                &seg(i + 1, from_client, 100 + i as u32, 900),
                &ann(i + 1, role),
            );
        }
        let mut out = Vec::new();
        p.write_svg(&mut out, None).unwrap();
        let svg = String::from_utf8(out).unwrap();
        assert_eq!(svg.matches("<g class=\"packet\"").count(), MAX_DRAWN);
        assert!(svg.contains(">... 5 more segments not drawn (the first 1000 are; tcplife ladder without --format prints all)</text>"));
        // Midstream: the first segment's seq is 1, as in the text ladder.
        assert!(
            svg.contains(">ACK seq=1 ack=1 len=10</text>"),
            "{}",
            &svg[..3000]
        );
        assert!(svg
            .contains("<title>TCP connection 7: client 10.0.0.1:5000, server 10.0.0.2:80</title>"));
        // One band for the single phase.
        assert_eq!(svg.matches("<g class=\"phase\"").count(), 1);
    }

    #[test]
    fn xml_escapes_markup() {
        assert_eq!(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml("[2001:db8::1]:80"), "[2001:db8::1]:80");
    }
}
