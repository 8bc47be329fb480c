//! `-v` diagnostics on stderr.
//!
//! stdout carries protocol output only, so everything said to a person goes
//! to stderr, prefixed with the program's name. Callers pass only
//! non-secret values; secrets are `Secret`s, whose Debug output is redacted.
//!
//! A leaf: it imports nothing from the crate (`error` builds on it, for
//! [`escape_controls`]).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Turns on `-v` for tools that run us with arguments of their own
/// (Docker's `credHelpers`, kubectl's exec, git, Terraform).
pub const ENV_VERBOSE: &str = "SNOWPLOW_CREDENTIALS_VERBOSE";

/// Whether [`ENV_VERBOSE`] asks for `-v`: `1`, `true`, `yes` do; `0`,
/// `false`, `no` and empty do not; anything else is a usage error rather
/// than a guess.
pub fn verbose_from_environment() -> Result<bool, BadVerbose> {
    let value = std::env::var(ENV_VERBOSE).unwrap_or_default();
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "" | "0" | "false" | "no" => Ok(false),
        _ => Err(BadVerbose(format!(
            "{ENV_VERBOSE} must be 1 or 0, not `{value}`"
        ))),
    }
}

/// [`ENV_VERBOSE`] holds neither a yes nor a no: what to say about it (a
/// usage error, which `error` makes of it).
#[derive(Debug)]
pub struct BadVerbose(pub String);

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Writes one line to stderr, prefixed with the program's name. A stderr
/// that cannot be written (a full disk, `2>/dev/full`) is ignored: there is
/// nowhere left to say anything, and the exit code still tells.
pub fn say(line: std::fmt::Arguments) {
    let line = shortened(escape_controls(&line.to_string()));
    let _ = writeln!(std::io::stderr(), "snowplow-credentials: {line}");
}

/// The longest message [`say`] writes: a message may quote a value from
/// outside (a path, a profile name) of any length, and a megabyte "line"
/// helps nobody.
const MAX_MESSAGE: usize = 4096;

/// `line` cut at [`MAX_MESSAGE`] bytes (on a character boundary), saying how
/// much was cut.
fn shortened(mut line: String) -> String {
    if line.len() > MAX_MESSAGE {
        let mut at = MAX_MESSAGE;
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        let cut = line.len() - at;
        line.truncate(at);
        line.push_str(&format!("… ({cut} more bytes cut)"));
    }
    line
}

/// Whether `c` may not reach a terminal as it is: a control character
/// (newline, ESC, …) or a bidirectional formatting one (U+202E and its
/// kin), which reorders what the terminal shows around it.
pub fn hides_or_moves_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character [`hides_or_moves_text`] written as an escape
/// (`\n`, `\u{1b}`, `\u{202e}`): a message quotes names, paths and values
/// from outside, and must stay one line that cannot repaint or reorder the
/// terminal. The one rule for every message, on stderr and (Docker's)
/// stdout.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else if hides_or_moves_text(c) {
            out.extend(c.escape_unicode());
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

#[cfg(test)]
mod tests {
    #[test]
    fn bidirectional_overrides_are_escaped_and_long_messages_cut() {
        assert_eq!(super::escape_controls("a\u{202e}b\nc"), "a\\u{202e}b\\nc");
        let long = super::shortened("é".repeat(3000));
        assert!(long.len() < super::MAX_MESSAGE + 40, "{}", long.len());
        assert!(long.ends_with("… (1904 more bytes cut)"), "{long}");
    }
}
