//! Stopping the long-running `sink` at once and cleanly on SIGTERM (what
//! Kubernetes and Docker send) or SIGINT (Ctrl-C).
//!
//! The sink spends its life waiting for the next refresh. Every wait is a
//! wait for a signal (the platform layer's [`Signals`]) with the wait's
//! length as its timeout, so a stop request ends the wait at once, and the
//! sink exits 0 between two steps, never in the middle of writing a file.
//!
//! Windows installs no such handler: a stop ends the process where it is,
//! which leaves the token file whole anyway (it is only ever replaced by
//! rename).

use std::io;
use std::time::{Duration, Instant};

use crate::sys::Signals;

/// Ends waits when the process is asked to stop.
pub struct Stop {
    signals: Signals,
}

impl Stop {
    /// Installs the SIGTERM and SIGINT handlers. Once only per process.
    pub fn install() -> io::Result<Stop> {
        Ok(Stop {
            signals: Signals::install()?,
        })
    }

    /// Waits `timeout`, or less if a stop is requested; returns the signal's
    /// name if one was.
    pub fn wait(&self, timeout: Duration) -> Option<&'static str> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(name) = self.requested() {
                return Some(name);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.signals.wait(left);
        }
    }

    /// The signal that asked us to stop, if one has.
    pub fn requested(&self) -> Option<&'static str> {
        self.signals.received()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_signal_ends_a_long_wait_at_once_and_is_remembered() {
        let stop = Stop::install().unwrap();
        assert_eq!(stop.requested(), None);
        assert_eq!(stop.wait(Duration::from_millis(1)), None, "a plain timeout");
        crate::sys::raise_sigterm();
        // An hour's wait returns at once: the test would hang otherwise.
        assert_eq!(stop.wait(Duration::from_secs(3600)), Some("SIGTERM"));
        assert_eq!(stop.requested(), Some("SIGTERM"));
    }
}
