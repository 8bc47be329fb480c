//! `-v` diagnostics on stderr.
//!
//! stdout carries protocol output only, so everything said to a person goes
//! to stderr, prefixed with the program's name. Callers pass only
//! non-secret values; secrets are `Secret`s, whose Debug output is redacted.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Writes one line to stderr, prefixed with the program's name. A stderr
/// that cannot be written (a full disk, `2>/dev/full`) is ignored: there is
/// nowhere left to say anything, and the exit code still tells.
pub fn say(line: std::fmt::Arguments) {
    let line = escape_controls(&line.to_string());
    let _ = writeln!(std::io::stderr(), "snowplow-credentials: {line}");
}

/// `text` with every control character (newline, ESC, …) written as an
/// escape (`\n`, `\u{1b}`): a message quotes names, paths and values from
/// outside, and must stay one line that cannot repaint the terminal. The one
/// rule for every message, on stderr and (Docker's) stdout.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A diagnostic line, shown only with `-v`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::verbose() {
            $crate::log::say(format_args!($($arg)*));
        }
    };
}

/// A warning, always shown: something the user should fix, that did not stop
/// us from serving a token.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::log::say(format_args!("warning: {}", format_args!($($arg)*)))
    };
}

/// A line always shown, for what a long-running command (`sink`) did: one
/// per refresh or failure, so its log tells the story without `-v`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        $crate::log::say(format_args!($($arg)*))
    };
}
