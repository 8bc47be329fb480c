//! The bounds of one [`super::send`]: how many attempts, how long in all,
//! how long between them (doubling, or what the server's `Retry-After`
//! says), and how large an answer may be. A slow or broken server costs a
//! known, bounded time, which the processes waiting on a refresh rely on.

use std::time::{Duration, Instant};

use crate::time;

/// A real token answer is a few kilobytes; anything far larger is refused
/// without being read whole.
pub const MAX_BODY: u64 = 64 * 1024;
/// Attempts at most, within the time budget.
const MAX_ATTEMPTS: u32 = 4;
/// The first pause between attempts; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// All attempts of one exchange start within this.
fn budget(timeout: u64) -> Duration {
    Duration::from_secs(timeout.saturating_mul(3))
}

/// The longest [`super::send`] can take: its budget, plus the last
/// attempt's own timeout, which is cut to what is left of the budget but at
/// least a second. A process waiting for another's refresh waits at least
/// this.
pub fn bound(timeout: u64) -> Duration {
    budget(timeout).saturating_add(Duration::from_secs(1))
}

/// `Retry-After` as seconds to wait from `now`: delay-seconds (more digits
/// than a u64 holds is a wait past any budget, not none), or an HTTP-date (a
/// past one is no wait). Anything else is as if it had not been sent.
pub fn retry_after(value: &str, now: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    time::parse_http_date(value).map(|at| at.saturating_sub(now))
}

/// The attempts of one send, as they happen: how long each may take, and
/// whether another still fits.
pub struct Schedule {
    /// Seconds per attempt.
    timeout: u64,
    budget: Duration,
    started: Instant,
    /// The pause before the next attempt, unless the server names one.
    pub backoff: Duration,
    /// Attempts made so far.
    pub attempts: u32,
    /// Time from the first attempt's start to the last one's end.
    pub elapsed: Duration,
}

impl Schedule {
    /// Attempts of `timeout` seconds each, three times that in all.
    pub fn new(timeout: u64) -> Schedule {
        Schedule {
            timeout,
            budget: budget(timeout),
            started: Instant::now(),
            backoff: FIRST_BACKOFF,
            attempts: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Makes the next attempt with `send`, given its timeout in seconds:
    /// cut to what is left of the budget, but at least a second.
    pub fn attempt<T>(&mut self, send: impl FnOnce(u64) -> T) -> T {
        self.attempts += 1;
        let left = self.budget.saturating_sub(self.started.elapsed());
        let result = send(self.timeout.min(left.as_secs().max(1)));
        self.elapsed = self.started.elapsed();
        result
    }

    /// Whether to try again after `wait` (none: the last result is not
    /// worth another try). Only if an attempt is left and the wait ends
    /// within the budget; then it waits, and the next backoff doubles.
    pub fn again(&mut self, wait: Option<Duration>) -> bool {
        let Some(wait) = wait else {
            return false;
        };
        if self.attempts >= MAX_ATTEMPTS || self.elapsed.saturating_add(wait) > self.budget {
            return false;
        }
        std::thread::sleep(wait);
        self.backoff *= 2;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date_and_huge_is_huge() {
        let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after(" 120 ", now), Some(120));
        assert_eq!(retry_after("99999999999999999999", now), Some(u64::MAX));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), Some(60));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(0));
        assert!(retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) > Some(time::MAX_WAIT_SECS));
        assert_eq!(retry_after("-5", now), None);
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("", now), None);
    }

    #[test]
    fn no_attempt_follows_the_last_or_ends_past_the_budget() {
        let mut schedule = Schedule::new(10);
        assert_eq!(schedule.attempt(|timeout| timeout), 10);
        assert!(!schedule.again(None));
        assert!(!schedule.again(Some(Duration::from_secs(31))));
        assert_eq!(schedule.backoff, FIRST_BACKOFF);
        schedule.attempts = MAX_ATTEMPTS;
        assert!(!schedule.again(Some(Duration::ZERO)));
        schedule.attempts = 1;
        assert!(schedule.again(Some(Duration::ZERO)));
        assert_eq!(schedule.backoff, FIRST_BACKOFF * 2);
    }
}
