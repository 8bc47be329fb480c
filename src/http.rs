//! Sending one HTTP request: through the proxy the environment names (see
//! [`proxy`]), retried with backoff when the server is busy or down,
//! bounded in time and in size, never following a redirect (which would
//! carry the request's secrets to wherever `Location` points).
//!
//! What the request means is the Console API's business (`exchange.rs`);
//! here failures are classified and worded as network trouble, never with a
//! response body, which may echo what it was sent.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::url::{Origin, Url};
use crate::{debug, ids, proxy, relay, time};

/// A real token answer is a few kilobytes; anything far larger is refused
/// without being read whole.
const MAX_BODY: u64 = 64 * 1024;
/// Attempts at most, within the time budget.
const MAX_ATTEMPTS: u32 = 4;
/// The first pause between attempts; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The reason minreq gives the 503 it makes up when no status line came.
const NO_STATUS_LINE: &str = "Server did not provide a status line";

/// One request, fully described, so that retries resend the same thing.
pub struct Request {
    pub url: Url,
    pub method: minreq::Method,
    pub headers: Vec<(&'static str, Secret<String>)>,
    pub body: Option<Secret<String>>,
    /// Where the URL's host was set (`--host`, a variable, a profile key),
    /// for messages that say what to check.
    pub check: String,
}

/// The server's answer, with what it took to get it.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub attempts: u32,
    pub elapsed: Duration,
    /// `Retry-After` in seconds, when the server said.
    pub retry_after: Option<u64>,
}

/// What went wrong with one attempt, before it is worded for the user.
enum Failure {
    Http(minreq::Error),
    TooLarge,
    /// The connection ended before a status line (minreq reports that as a
    /// 503 of its own making, which the server never sent).
    NoAnswer,
}

/// The context a failure is worded in.
struct Attempt<'a> {
    origin: &'a Origin,
    timeout: u64,
    /// The variable the proxy came from, if one was used.
    via: Option<&'static str>,
    /// Where the host was set: what a failure says to check.
    check: &'a str,
}

/// All attempts of one exchange start within this.
fn budget(timeout: u64) -> Duration {
    Duration::from_secs(timeout.saturating_mul(3))
}

/// The longest [`send`] can take: its budget, plus the last attempt's own
/// timeout, which is cut to what is left of the budget but at least a
/// second. A process waiting for another's refresh waits at least this.
pub fn bound(timeout: u64) -> Duration {
    budget(timeout).saturating_add(Duration::from_secs(1))
}

/// Sends `request` (`timeout` seconds per attempt, three times that in
/// all), retrying what may pass: 429, 5xx and failed connections.
pub fn send(request: &Request, timeout: u64) -> Result<Answer> {
    check(request)?;
    let origin = &request.url.origin;
    let mut attempt = Attempt {
        origin,
        timeout,
        via: None,
        check: &request.check,
    };
    let proxy = proxy::for_origin(origin).map_err(|e| Error::Unavailable(attempt.explain(&e)))?;
    attempt.via = proxy.as_ref().map(|(_, var)| *var);
    let proxy = if relay::needed(origin) {
        let relay = relay::start(origin, Duration::from_secs(timeout))
            .map_err(|e| Error::io("cannot start the relay to this machine", e))?;
        Some(relay)
    } else {
        proxy.map(|(p, _)| p)
    };
    let budget = budget(timeout);
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut n = 0;
    loop {
        n += 1;
        let left = budget.saturating_sub(started.elapsed());
        let result = send_once(request, timeout.min(left.as_secs().max(1)), proxy.clone());
        let elapsed = started.elapsed();
        if let Some(wait) = attempt.retry_wait(n, &result, backoff)
            && n < MAX_ATTEMPTS
            && elapsed.saturating_add(wait) <= budget
        {
            std::thread::sleep(wait);
            backoff *= 2;
            continue;
        }
        let answer = result.map_err(|failure| attempt.give_up(failure, n))?;
        debug!(
            "{} {} -> HTTP {} in {} ms",
            method_name(&request.method),
            request.url,
            answer.status,
            elapsed.as_millis()
        );
        return Ok(Answer {
            attempts: n,
            elapsed,
            ..answer
        });
    }
}

/// The one rule for what goes on the wire: no header may carry a control
/// character (a CR/LF would add a header or split the request; IDs are
/// refused where they are read, this also covers the secrets), and the URL
/// must be one the client can take. Only a header's name is ever said.
fn check(request: &Request) -> Result<()> {
    if let Some((name, _)) = request
        .headers
        .iter()
        .find(|(_, value)| ids::has_control(value.expose()))
    {
        return Err(Error::Config(format!(
            "the {name} header would carry a control character: check where its value is set"
        )));
    }
    request.url.for_client().map(drop).map_err(Error::Config)
}

fn method_name(m: &minreq::Method) -> &'static str {
    match m {
        minreq::Method::Post => "POST",
        _ => "GET",
    }
}

impl Attempt<'_> {
    /// How long to wait before trying again, if attempt `n`'s result is
    /// worth another try.
    fn retry_wait(
        &self,
        n: u32,
        result: &Result<Answer, Failure>,
        backoff: Duration,
    ) -> Option<Duration> {
        match result {
            Ok(answer) if answer.status == 429 || answer.status >= 500 => {
                debug!("attempt {n}: HTTP {}", answer.status);
                Some(answer.retry_after.map_or(backoff, Duration::from_secs))
            }
            Err(Failure::Http(e)) if retryable(e) => {
                debug!("attempt {n}: {}", self.explain(e));
                Some(backoff)
            }
            Err(Failure::NoAnswer) => {
                debug!("attempt {n}: the connection closed without an answer");
                Some(backoff)
            }
            _ => None,
        }
    }

    /// The error for a failure after `n` attempts.
    fn give_up(&self, failure: Failure, n: u32) -> Error {
        let origin = self.origin;
        let message = match failure {
            Failure::TooLarge => {
                return Error::Unavailable(format!(
                    "the answer from {origin} is larger than {} KiB, far more than any token: \
                     check {} points at the Snowplow Console",
                    MAX_BODY / 1024,
                    self.check
                ));
            }
            Failure::Http(e) => self.explain(&e),
            Failure::NoAnswer => format!(
                "{origin} closed the connection without an HTTP answer: try again later, \
                 or check {}",
                self.check
            ),
        };
        let tries = if n > 1 {
            format!(" (after {})", attempts(n))
        } else {
            String::new()
        };
        Error::Unavailable(format!("{message}{tries}"))
    }

    /// A network failure worded by what to do. Through a proxy the only
    /// connection made is to the proxy, so connection errors are its.
    fn explain(&self, e: &minreq::Error) -> String {
        let (origin, timeout) = (self.origin, self.timeout);
        use minreq::Error as E;
        match e {
            E::IoError(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                match self.via {
                    Some(var) => format!(
                        "cannot connect to the proxy from {var} for {origin}: connection refused; \
                     check {var}, or add {} to NO_PROXY",
                        origin.host
                    ),
                    None => {
                        format!(
                            "cannot connect to {origin}: connection refused; check {}",
                            self.check
                        )
                    }
                }
            }
            _ if is_timeout(e) => format!(
                "{origin} did not answer within {timeout} s: check your network, or raise \
                 --timeout"
            ),
            _ if is_tls(e) => format!(
                "TLS with {origin} failed ({e}): if your network uses its own certificate \
                 authority, point SSL_CERT_FILE at its PEM bundle"
            ),
            E::AddressNotFound => {
                format!("cannot resolve {}: check {}", origin.host, self.check)
            }
            E::IoError(io) => format!("cannot reach {origin}: {io}; check your network"),
            // The relay to this machine failed in a way relay::unwrap_error did not
            // record: still no proxy of the user's to blame.
            E::BadProxy | E::ProxyConnect if relay::needed(origin) => {
                format!("cannot connect to {origin}: check {}", self.check)
            }
            E::BadProxy | E::BadProxyCreds | E::ProxyConnect | E::InvalidProxyCreds => format!(
                "the proxy for {origin} failed ({e}): check HTTPS_PROXY/https_proxy, or add \
                 the host to NO_PROXY"
            ),
            _ => format!("bad HTTP answer from {origin}: {e}"),
        }
    }
}

fn send_once(
    request: &Request,
    timeout: u64,
    proxy: Option<minreq::Proxy>,
) -> Result<Answer, Failure> {
    // check() has made sure the client can take the URL.
    let url = request
        .url
        .for_client()
        .unwrap_or_else(|_| request.url.to_string());
    let mut sent = minreq::Request::new(request.method.clone(), url)
        .with_timeout(timeout)
        .with_follow_redirects(false)
        .with_header(
            "User-Agent",
            concat!("snowplow-credentials/", env!("CARGO_PKG_VERSION")),
        )
        .with_header("Accept", "application/json");
    for (name, value) in &request.headers {
        sent = sent.with_header(*name, value.expose().as_str());
    }
    if let Some(body) = &request.body {
        sent = sent.with_body(body.expose().as_bytes());
    }
    if let Some(p) = proxy {
        sent = sent.with_proxy(p);
    }
    if request.url.origin.scheme == "https" {
        // rustls comes with two crypto providers here (minreq asks for the
        // default, aws-lc-rs); picking ring lets the linker drop the other.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let response = sent
        .send_lazy()
        .map_err(|e| match relay::needed(&request.url.origin) {
            true => Failure::Http(relay::unwrap_error(e)),
            false => Failure::Http(e),
        })?;
    if response.status_code == 503 && response.reason_phrase == NO_STATUS_LINE {
        return Err(Failure::NoAnswer);
    }
    read_answer(response)
}

/// The status, `Retry-After` and body (at most [`MAX_BODY`]) of a response.
fn read_answer(response: minreq::ResponseLazy) -> Result<Answer, Failure> {
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if length > Some(MAX_BODY) {
        return Err(Failure::TooLarge);
    }
    let retry_after = header("retry-after").and_then(|v| retry_after(v, time::now()));
    let status = response.status_code;
    let mut body = Vec::new();
    response
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| Failure::Http(minreq::Error::IoError(e)))?;
    if body.len() as u64 > MAX_BODY {
        return Err(Failure::TooLarge);
    }
    Ok(Answer {
        status,
        body,
        attempts: 1,
        elapsed: Duration::ZERO,
        retry_after,
    })
}

/// `Retry-After` as seconds to wait from `now`: delay-seconds (more digits
/// than a u64 holds is a wait past any budget, not none), or an HTTP-date (a
/// past one is no wait). Anything else is as if it had not been sent.
fn retry_after(value: &str, now: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    time::parse_http_date(value).map(|at| at.saturating_sub(now))
}

fn is_timeout(e: &minreq::Error) -> bool {
    matches!(e, minreq::Error::IoError(io) if matches!(
        io.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ))
}

/// A TLS failure, by type: rustls's own error, or an I/O error carrying one
/// (rustls reports a failed handshake or record that way) or carrying
/// rustls's refusal of the host name.
fn is_tls(e: &minreq::Error) -> bool {
    match e {
        minreq::Error::RustlsCreateConnection(_) => true,
        minreq::Error::IoError(io) => io.get_ref().is_some_and(|inner| {
            inner.is::<rustls::Error>() || inner.is::<rustls::pki_types::InvalidDnsNameError>()
        }),
        _ => false,
    }
}

/// Connection failures are worth another try; a timeout already spent our
/// patience, and TLS or proxy misconfiguration will not fix itself.
fn retryable(e: &minreq::Error) -> bool {
    matches!(e, minreq::Error::IoError(_)) && !is_timeout(e) && !is_tls(e)
}

/// "1 attempt", "3 attempts".
pub fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".into()
    } else {
        format!("{n} attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    fn io(
        kind: ErrorKind,
        inner: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> minreq::Error {
        minreq::Error::IoError(IoError::new(kind, inner))
    }

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
    fn tls_failures_are_known_by_type_not_by_wording() {
        let bad_cert = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let tls = io(ErrorKind::InvalidData, bad_cert);
        assert!(is_tls(&tls) && !retryable(&tls));
        let worded = io(ErrorKind::Other, "tls handshake: bad certificate");
        assert!(!is_tls(&worded) && retryable(&worded));
        let reset = io(ErrorKind::ConnectionReset, "reset");
        assert!(!is_tls(&reset) && retryable(&reset));
        let timeout = io(ErrorKind::TimedOut, "slow");
        assert!(is_timeout(&timeout) && !retryable(&timeout));
        assert!(!retryable(&minreq::Error::AddressNotFound));
    }

    #[test]
    fn a_refused_connection_is_the_proxys_when_one_is_used() {
        let origin = Origin::parse("https://console.test", "https").unwrap();
        let mut attempt = Attempt {
            origin: &origin,
            timeout: 10,
            via: None,
            check: "host in profile \"x\" of ~/.config/snowplow/credentials.toml",
        };
        let refused = io(ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            attempt.explain(&refused),
            "cannot connect to https://console.test: connection refused; check \
             host in profile \"x\" of ~/.config/snowplow/credentials.toml"
        );
        attempt.via = Some("HTTPS_PROXY");
        assert_eq!(
            attempt.explain(&refused),
            "cannot connect to the proxy from HTTPS_PROXY for https://console.test: connection \
             refused; check HTTPS_PROXY, or add console.test to NO_PROXY"
        );
        assert_eq!(
            attempt.give_up(Failure::NoAnswer, 3).to_string(),
            "https://console.test closed the connection without an HTTP answer: try again \
             later, or check host in profile \"x\" of ~/.config/snowplow/credentials.toml \
             (after 3 attempts)"
        );
    }
}
