//! The binary: runs [`snowplow_credentials::run`] and exits with its code.
//!
//! It uses std's own `main`. That wrapper makes fds 0-2 valid (so no file we
//! open can take a standard stream's place and receive output) and ignores
//! SIGPIPE (so a reader that hangs up is an error we report, not a silent
//! death); tests/cli/startup.rs checks both. It was once replaced by a C
//! `main` (`#![no_main]`) to save the wrapper's cost on a cache hit; on the
//! static release build that saving is 5-9 %, too little for six unsafe
//! blocks (README, "Speed").

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // No core file may hold the key or a token (the platform layer says how).
    snowplow_credentials::no_core_dumps();
    // A panic is a bug; say so in one line without the payload, which could
    // in principle hold a value we were handling. A stderr that cannot be
    // written is ignored: a panic inside the panic hook would abort.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "snowplow-credentials: internal error{place}; please report it"
        );
    }));
    ExitCode::from(snowplow_credentials::run(std::env::args_os().collect()))
}
