//! Sending one HTTP request: through the proxy the environment names,
//! retried with backoff when the server is busy or down, bounded in time and
//! in size, never following a redirect (which would carry the request's
//! secrets to wherever `Location` points).
//!
//! What the request means is the Console API's business (`exchange.rs`);
//! here failures are classified and worded as network trouble, never with a
//! response body, which may echo what it was sent. This folder alone knows
//! the HTTP client: callers see only [`Request`], [`Method`] and [`Answer`].
//! It sits below config/ and takes what it needs as plain values.
//!
//! - `request`: the types callers use, and the header rule;
//! - `retry`: attempts, time budget, backoff, `Retry-After`, size bound;
//! - `failure`: what is worth another try, and how failures are worded;
//! - `client`: minreq itself, the route to the server, the crypto provider;
//! - `proxy`: the proxy the environment names, the curl way;
//! - `relay`: the loopback relay for names minreq cannot reach itself.

mod client;
mod failure;
mod proxy;
mod relay;
mod request;
mod retry;

use std::time::Duration;

use crate::debug;
use crate::error::{Error, Result};
use client::Route;
use failure::Attempt;
use retry::Schedule;

pub use failure::attempts;
pub use proxy::{take_from_environment as take_proxy_variables, taken as proxy_variables};
pub use request::{Answer, Method, Request};
pub use retry::bound;

/// Sends `request` (`timeout` seconds per attempt, three times that in
/// all), retrying what may pass: 429, 5xx and failed connections.
pub fn send(request: &Request, timeout: u64) -> Result<Answer> {
    request.check_headers()?;
    let url = client::url(&request.url).map_err(Error::Config)?;
    let origin = &request.url.origin;
    let mut attempt = Attempt {
        origin,
        timeout,
        via: None,
        relayed: false,
        check: &request.check,
    };
    let route = Route::to(origin, Duration::from_secs(timeout), |e| attempt.explain(e))?;
    attempt.via = match route {
        Route::Proxy(_, var) => Some(var),
        _ => None,
    };
    attempt.relayed = matches!(route, Route::Relay(_));
    let mut schedule = Schedule::new(timeout);
    let result = loop {
        let result = schedule.attempt(|t| client::send_once(request, &url, t, &route));
        let wait = attempt.retry_wait(schedule.attempts, &result, schedule.backoff);
        if !schedule.again(wait) {
            break result;
        }
    };
    let (n, elapsed) = (schedule.attempts, schedule.elapsed);
    let answer = result.map_err(|failure| attempt.give_up(failure, n))?;
    debug!(
        "{} {} -> HTTP {} in {} ms",
        request.method.name(),
        request.url,
        answer.status,
        elapsed.as_millis()
    );
    Ok(Answer {
        attempts: n,
        elapsed,
        ..answer
    })
}
