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

/// Turns on `-v` for tools that run us with arguments of their own
/// (Docker's `credHelpers`, kubectl's exec, git, Terraform).
pub const ENV_VERBOSE: &str = "SNOWPLOW_CREDENTIALS_VERBOSE";

/// Whether [`ENV_VERBOSE`] asks for `-v`: `1`, `true`, `yes` do; `0`,
/// `false`, `no` and empty do not; anything else is a usage error rather
/// than a guess.
pub fn verbose_from_environment() -> crate::error::Result<bool> {
    let value = std::env::var(ENV_VERBOSE).unwrap_or_default();
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "" | "0" | "false" | "no" => Ok(false),
        _ => Err(crate::error::Error::Usage(format!(
            "{ENV_VERBOSE} must be 1 or 0, not `{value}`"
        ))),
    }
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
