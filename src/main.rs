//! The binary: runs [`snowplow_credentials::run`] and exits with its code.
//!
//! It uses std's own `main`. That wrapper makes fds 0-2 valid (so no file we
//! open can take a standard stream's place and receive output) and ignores
//! SIGPIPE (so a reader that hangs up is an error we report, not a silent
//! death); tests/cli/startup.rs checks both. It was once replaced by a C
//! `main` (`#![no_main]`) to save the wrapper's cost on a cache hit; on the
//! static release build that saving is 5-9 %, too little for six unsafe
//! blocks (README, "Speed").

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug; say so in one line without the payload, which could
    // in principle hold a value we were handling.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("snowplow-credentials: internal error{place}; please report it");
    }));
    ExitCode::from(snowplow_credentials::run(std::env::args_os().collect()))
}
