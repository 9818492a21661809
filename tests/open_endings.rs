//! `Tracker::open_endings` (what the Wireshark plugin shows on a connection's last packet while
//! the tracker still holds it) must say, for every connection still open, exactly the ending
//! `Tracker::finish` then reports, on every Zeek capture; and it must not end anything.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tcplife_engine::{Collect, Config, Run};
use tcplife_tests::shared_captures;

#[test]
fn open_endings_are_what_finish_reports() {
    let dir = shared_captures().join("zeek");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the Zeek captures in {}",
        dir.display()
    );
    let mut compared = 0;
    for file in &files {
        let mut run = Run::new(Config::default(), Collect::default());
        let segs = tcplife_capture::open_path(file)
            .unwrap()
            .map(Result::unwrap);
        run.segments(segs).unwrap();
        // Only what finish adds is compared.
        run.sink_mut().summaries.clear();
        let tracker = run.tracker();
        let open = tracker.open_connections();
        let said: BTreeMap<u64, &str> = tracker
            .open_endings()
            .map(|(id, ending)| (id, ending.as_str()))
            .collect();
        assert_eq!(said.len(), open, "{}", file.display());
        assert_eq!(
            tracker.open_connections(),
            open,
            "open_endings ended something"
        );
        let finished = run.finish().unwrap().summaries;
        let finished: BTreeMap<u64, &str> = finished
            .iter()
            .map(|s| (s.conn_id, s.ending.as_str()))
            .collect();
        assert_eq!(said, finished, "{}", file.display());
        compared += said.len();
    }
    assert!(compared > 10, "only {compared} open connections compared");
}
