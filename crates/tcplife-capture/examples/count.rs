//! Reads a capture and prints how many segments it holds and how fast they were read:
//! `cargo run --release -p tcplife-capture --example count -- FILE` (`-` for stdin).

use std::io::Write;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "-".into());
    let start = Instant::now();
    let mut reader = match tcplife_capture::open_path(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let mut segments = 0u64;
    let mut payload = 0u64;
    for seg in &mut reader {
        match seg {
            Ok(s) => {
                segments += 1;
                payload += u64::from(s.payload_len);
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                break;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // writeln!, not println!: a reader that closes the pipe early is not a crash.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} frames, {segments} segments ({payload} payload bytes), {}{}",
        reader.frames_read(),
        reader.skip_counts(),
        if reader.truncated_tail() {
            ", truncated tail"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "{:.3} s, {:.2} M frames/s, {:.0} MB/s",
        secs,
        reader.frames_read() as f64 / secs / 1e6,
        reader.bytes_read() as f64 / secs / 1e6
    );
}
