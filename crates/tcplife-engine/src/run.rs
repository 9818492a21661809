//! The one way to run a capture through the engine: a [`Run`] feeds segments to a [`Tracker`]
//! and hands everything the engine says to a [`Sink`]: each segment's annotation, then every
//! connection summary as soon as the connection finishes, and at the end those still open.
//!
//! Callers write a sink, not the process → take finished → finish loop: forgetting to drain
//! finished connections (memory grows with the capture) or to finish (the open ones are never
//! reported) is then impossible.
//!
//! ```
//! use tcplife_engine::{run, Collect, Config, Segment};
//! # let segments: Vec<Segment> = vec![];
//! let out: Collect = run(Config::default(), &segments, Collect::default()).unwrap();
//! assert_eq!(out.annotations.len(), segments.len());
//! # assert!(out.summaries.is_empty());
//! ```
//!
//! A sink that wants only summaries says so with [`Sink::PACKETS`]` = false`: it is never
//! handed an annotation, and the engine is free not to build one.

use std::borrow::Borrow;
use std::convert::Infallible;

use crate::model::{Annotation, ConnSummary};
use crate::segment::Segment;
use crate::tracker::{Config, Tracker};

/// Where a [`Run`] delivers its results.
pub trait Sink {
    /// Why the sink stops the run early: an output error, or "I have what I need". A sink
    /// that never stops uses [`Infallible`].
    type Stop;

    /// Whether the sink wants per-packet annotations. A summary-only sink sets this to false;
    /// [`Sink::packet`] is then never called.
    const PACKETS: bool = true;

    /// One segment and what the engine says about it, in capture order. Called before the
    /// summaries of the connections this segment made finish.
    fn packet(&mut self, seg: &Segment, annotation: Annotation) -> Result<(), Self::Stop> {
        let _ = (seg, annotation);
        Ok(())
    }

    /// A connection's final summary: as it finishes (closed and lingered, idle, or replaced by
    /// a reuse of its ports), then at the end of the capture every one still open, in
    /// first-packet order.
    fn finished(&mut self, summary: ConnSummary) -> Result<(), Self::Stop>;
}

/// A borrowed sink is a sink: the caller keeps it after the run.
impl<S: Sink + ?Sized> Sink for &mut S {
    type Stop = S::Stop;
    const PACKETS: bool = S::PACKETS;

    fn packet(&mut self, seg: &Segment, annotation: Annotation) -> Result<(), Self::Stop> {
        (**self).packet(seg, annotation)
    }

    fn finished(&mut self, summary: ConnSummary) -> Result<(), Self::Stop> {
        (**self).finished(summary)
    }
}

/// A capture being run: a tracker and the sink it reports to.
pub struct Run<S: Sink> {
    tracker: Tracker,
    sink: S,
}

impl<S: Sink> Run<S> {
    pub fn new(config: Config, sink: S) -> Self {
        Run {
            tracker: Tracker::new(config),
            sink,
        }
    }

    /// Processes one segment: its annotation, then any connection that finished, go to the
    /// sink. After a stop the run should not be fed again: summaries due in the same call
    /// after the one that stopped it are dropped.
    pub fn segment(&mut self, seg: &Segment) -> Result<(), S::Stop> {
        if S::PACKETS {
            let annotation = self.tracker.process(seg);
            self.sink.packet(seg, annotation)?;
        } else {
            self.tracker.observe(seg);
        }
        // Most packets finish nothing: not even an empty drain is set up for them.
        if self.tracker.has_finished() {
            for summary in self.tracker.take_finished() {
                self.sink.finished(summary)?;
            }
        }
        Ok(())
    }

    /// [`Run::segment`] for each segment in turn, until the sink stops.
    pub fn segments<I>(&mut self, segs: I) -> Result<(), S::Stop>
    where
        I: IntoIterator,
        I::Item: Borrow<Segment>,
    {
        segs.into_iter()
            .try_for_each(|seg| self.segment(seg.borrow()))
    }

    /// End of capture: every connection still open goes to the sink, and the tracker is empty.
    /// The run may be fed again (connection numbers go on), as the C ABI allows.
    pub fn end(&mut self) -> Result<(), S::Stop> {
        for summary in self.tracker.finish() {
            self.sink.finished(summary)?;
        }
        Ok(())
    }

    /// [`Run::end`], then the sink back.
    pub fn finish(mut self) -> Result<S, S::Stop> {
        self.end()?;
        Ok(self.sink)
    }

    /// The tracker, for what it can tell between packets (e.g. how many connections are open).
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }
}

/// Runs a whole sequence of segments: [`Run::segments`], then [`Run::finish`].
pub fn run<I, S>(config: Config, segs: I, sink: S) -> Result<S, S::Stop>
where
    I: IntoIterator,
    I::Item: Borrow<Segment>,
    S: Sink,
{
    let mut r = Run::new(config, sink);
    r.segments(segs)?;
    r.finish()
}

/// The sink that keeps everything: every annotation in capture order, every summary in the
/// order connections finished (then those open at the end).
#[derive(Clone, Debug, Default)]
pub struct Collect {
    pub annotations: Vec<Annotation>,
    pub summaries: Vec<ConnSummary>,
}

impl Collect {
    /// Runs `segs` and keeps everything.
    pub fn run<I>(config: Config, segs: I) -> Collect
    where
        I: IntoIterator,
        I::Item: Borrow<Segment>,
    {
        match run(config, segs, Collect::default()) {
            Ok(c) => c,
            Err(never) => match never {},
        }
    }
}

impl Sink for Collect {
    type Stop = Infallible;

    fn packet(&mut self, _: &Segment, annotation: Annotation) -> Result<(), Infallible> {
        self.annotations.push(annotation);
        Ok(())
    }

    fn finished(&mut self, summary: ConnSummary) -> Result<(), Infallible> {
        self.summaries.push(summary);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::model::{ConnState, EndReason};
    use crate::segment::Flags;

    const SEC: i64 = 1_000_000_000;

    fn seg(frame: u64, ts_ns: i64, client_port: u16, from_client: bool, flags: Flags) -> Segment {
        let c = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), client_port);
        let s = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
        let ((src, src_port), (dst, dst_port)) = if from_client { (c, s) } else { (s, c) };
        Segment {
            frame,
            ts_ns,
            src,
            src_port,
            dst,
            dst_port,
            seq: if from_client { 100 } else { 300 },
            ack: 0,
            flags,
            window: 1000,
            payload_len: 0,
            ip_len: 40,
            integrity: crate::segment::Integrity::Intact,
        }
    }

    /// Connection 1 is refused at t=0 and lingers 5 s; connection 2 starts at t=10 s (which
    /// retires connection 1) and is still open at the end.
    fn capture() -> Vec<Segment> {
        vec![
            seg(1, 0, 5000, true, Flags::SYN),
            seg(2, 0, 5000, false, Flags::RST | Flags::ACK),
            seg(3, 10 * SEC, 5001, true, Flags::SYN),
        ]
    }

    /// Records the order of calls.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl Sink for Log {
        type Stop = u64;
        fn packet(&mut self, _: &Segment, a: Annotation) -> Result<(), u64> {
            self.0.push(format!("packet {}", a.frame));
            Ok(())
        }
        fn finished(&mut self, c: ConnSummary) -> Result<(), u64> {
            self.0
                .push(format!("finished {} {:?}", c.conn_id, c.end_reason));
            Ok(())
        }
    }

    #[test]
    fn finished_connections_are_drained_after_their_packet_and_the_rest_at_the_end() {
        let log = run(Config::default(), capture(), Log::default()).unwrap();
        assert_eq!(
            log.0,
            [
                "packet 1",
                "packet 2",
                "packet 3",
                "finished 1 Closed",
                "finished 2 EndOfCapture"
            ]
        );
    }

    #[test]
    fn collect_keeps_what_the_tracker_says() {
        let segs = capture();
        let got = Collect::run(Config::default(), &segs);
        let mut tracker = Tracker::new(Config::default());
        let want: Vec<Annotation> = segs.iter().map(|s| tracker.process(s)).collect();
        assert_eq!(got.annotations, want);
        let ids: Vec<(u64, ConnState, EndReason)> = got
            .summaries
            .iter()
            .map(|s| (s.conn_id, s.conn_state, s.end_reason))
            .collect();
        assert_eq!(
            ids,
            [
                (1, ConnState::REJ, EndReason::Closed),
                (2, ConnState::S0, EndReason::EndOfCapture)
            ]
        );
    }

    /// Stops at the first finished connection, as `tcplife ladder` does once its connection's
    /// summary is final.
    struct First(Option<u64>);

    impl Sink for First {
        type Stop = u64;
        const PACKETS: bool = false;
        fn packet(&mut self, _: &Segment, _: Annotation) -> Result<(), u64> {
            panic!("a summary-only sink is handed no annotation")
        }
        fn finished(&mut self, c: ConnSummary) -> Result<(), u64> {
            self.0 = Some(c.conn_id);
            Err(c.conn_id)
        }
    }

    #[test]
    fn a_stop_ends_the_run_and_summary_only_sinks_get_no_packets() {
        let mut r = Run::new(Config::default(), First(None));
        let segs = capture();
        assert_eq!(r.segment(&segs[0]), Ok(()));
        assert_eq!(r.segment(&segs[1]), Ok(()));
        assert_eq!(r.segments(&segs[2..]), Err(1));
        assert_eq!(r.sink().0, Some(1));
        assert_eq!(r.tracker().open_connections(), 1);
        // A stop at the end too; a borrowed sink keeps what it got.
        let mut first = First(None);
        assert_eq!(
            run(Config::default(), &segs[2..], &mut first).err(),
            Some(1)
        );
        assert_eq!(first.0, Some(1));
    }
}
