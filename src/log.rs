//! `-v` diagnostics on stderr.
//!
//! stdout carries protocol output only, so everything said to a person goes
//! to stderr, prefixed with the program's name. Callers pass only
//! non-secret values; secrets are `Secret`s, whose Debug output is redacted.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// A diagnostic line, shown only with `-v`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::verbose() {
            eprintln!("snowplow-credentials: {}", format_args!($($arg)*));
        }
    };
}

/// A warning, always shown: something the user should fix, that did not stop
/// us from serving a token.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        eprintln!("snowplow-credentials: warning: {}", format_args!($($arg)*))
    };
}

/// A line always shown, for what a long-running command (`sink`) did: one
/// per refresh or failure, so its log tells the story without `-v`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        eprintln!("snowplow-credentials: {}", format_args!($($arg)*))
    };
}
