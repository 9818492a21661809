//! The capture reader on arbitrary bytes: whatever the file holds, reading it ends (with
//! segments, a warning or an error), never with a panic, a hang or unbounded memory. The
//! same bytes are also sliced as a single frame of every supported link type, as the
//! Wireshark plugin does with the frames Wireshark hands it.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use tcplife_capture::{slice_frame, CaptureReader, LinkType};

const LINKTYPES: [u32; 8] = [0, 1, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = CaptureReader::new(Cursor::new(data)) {
        let mut n = 0u64;
        for seg in &mut reader {
            match seg {
                Ok(s) => {
                    // A segment's payload cannot be larger than the IP packet carrying it.
                    assert!(s.payload_len <= s.ip_len, "{s:?}");
                    n += 1;
                }
                Err(_) => break,
            }
        }
        assert!(n <= reader.frames_read());
        let _ = reader.skip_counts().total();
    }
    for code in LINKTYPES {
        if let Some(lt) = LinkType::from_linktype(code) {
            let _ = slice_frame(lt, 1, 0, data);
        }
    }
});
