//! The binary: runs [`snowplow_credentials::run`] and exits with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug; say so in one line without the payload, which could
    // in principle hold a value we were handling.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "snowplow-credentials: internal error{place}; please report it \
             (nothing was written to the cache)"
        );
    }));
    ExitCode::from(snowplow_credentials::run(std::env::args_os().collect()))
}
