//! What went wrong with an attempt: whether it is worth another, and how
//! it is worded for the user, as network trouble with what to check, never
//! with a response body, which may echo what it was sent. The client's
//! errors are classified by type, not by their wording.

use std::time::Duration;

use super::request::Answer;
use super::retry::MAX_BODY;
use crate::debug;
use crate::error::Error;
use crate::url::Origin;

/// What went wrong with one attempt, before it is worded for the user.
pub enum Failure {
    Http(minreq::Error),
    TooLarge,
    /// The connection ended before a status line (minreq reports that as a
    /// 503 of its own making, which the server never sent).
    NoAnswer,
}

/// The context a failure is worded in.
pub struct Attempt<'a> {
    pub origin: &'a Origin,
    pub timeout: u64,
    /// The variable the proxy came from, if one was used.
    pub via: Option<&'static str>,
    /// Whether the request went through the relay to this machine.
    pub relayed: bool,
    /// Where the host was set: what a failure says to check.
    pub check: &'a str,
}

impl Attempt<'_> {
    /// How long to wait before trying again, if attempt `n`'s result is
    /// worth another try: 429, 5xx and failed connections are.
    pub fn retry_wait(
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
    pub fn give_up(&self, failure: Failure, n: u32) -> Error {
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
    pub fn explain(&self, e: &minreq::Error) -> String {
        let (origin, timeout) = (self.origin, self.timeout);
        use minreq::Error as E;
        match e {
            E::IoError(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => self.refused(),
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
            // The relay to this machine failed in a way Relay::unwrap_error
            // did not record: still no proxy of the user's to blame.
            E::BadProxy | E::ProxyConnect if self.relayed => {
                format!("cannot connect to {origin}: check {}", self.check)
            }
            E::BadProxy | E::BadProxyCreds | E::ProxyConnect | E::InvalidProxyCreds => format!(
                "the proxy for {origin} failed ({e}): check HTTPS_PROXY/https_proxy, or add \
                 the host to NO_PROXY"
            ),
            // A status line, headers or body framing we cannot read: the
            // host answered, but not as the Console does.
            E::HeadersOverflow
            | E::StatusLineOverflow
            | E::MalformedContentLength
            | E::MalformedChunkLength
            | E::MalformedChunkEnd
            | E::InvalidUtf8InResponse => format!(
                "{origin} sent a malformed answer, not HTTP we understand ({}): check {} \
                 points at the Snowplow Console",
                malformed(e),
                self.check
            ),
            _ => format!("bad HTTP answer from {origin}: {e}"),
        }
    }

    /// A refused connection: the proxy's, when one is used.
    fn refused(&self) -> String {
        let origin = self.origin;
        match self.via {
            Some(var) => format!(
                "cannot connect to the proxy from {var} for {origin}: connection refused; \
                 check {var}, or add {} to NO_PROXY",
                origin.host
            ),
            None => format!(
                "cannot connect to {origin}: connection refused; check {}",
                self.check
            ),
        }
    }
}

/// What was wrong with an answer we could not read, in our words.
fn malformed(e: &minreq::Error) -> &'static str {
    use minreq::Error as E;
    match e {
        E::HeadersOverflow => "its headers are too large",
        E::StatusLineOverflow => "its status line is too long",
        E::MalformedContentLength => "its Content-Length is not a number",
        E::MalformedChunkLength | E::MalformedChunkEnd => "its chunked body is broken",
        _ => "its status line or headers are not text",
    }
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
    fn a_malformed_answer_is_worded_as_ours_with_what_to_check() {
        let origin = Origin::parse("https://console.test", "https").unwrap();
        let attempt = Attempt {
            origin: &origin,
            timeout: 10,
            via: None,
            relayed: false,
            check: "host in profile \"x\"",
        };
        assert_eq!(
            attempt.explain(&minreq::Error::HeadersOverflow),
            "https://console.test sent a malformed answer, not HTTP we understand (its \
             headers are too large): check host in profile \"x\" points at the Snowplow Console"
        );
        for e in [
            minreq::Error::StatusLineOverflow,
            minreq::Error::MalformedContentLength,
            minreq::Error::MalformedChunkLength,
            minreq::Error::MalformedChunkEnd,
            minreq::Error::InvalidUtf8InResponse,
        ] {
            let said = attempt.explain(&e);
            assert!(
                said.contains("malformed answer") && said.contains("points at the Snowplow"),
                "{said}"
            );
            assert!(
                !said.contains(&e.to_string()),
                "minreq's own wording: {said}"
            );
        }
    }

    #[test]
    fn a_refused_connection_is_the_proxys_when_one_is_used() {
        let origin = Origin::parse("https://console.test", "https").unwrap();
        let mut attempt = Attempt {
            origin: &origin,
            timeout: 10,
            via: None,
            relayed: false,
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
