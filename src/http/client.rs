//! The HTTP client (minreq) and what it needs from us: a URL it can parse,
//! the route to the server (direct, the proxy from the environment, or the
//! relay to this machine), the TLS crypto provider, and one attempt sent
//! and read within its bounds. Replacing the client is this file's change,
//! and [`super::failure`]'s classification of its errors.

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use super::failure::Failure;
use super::proxy;
use super::relay::{self, Relay};
use super::request::{Answer, Method, Request};
use super::retry::{MAX_BODY, retry_after};
use crate::error::{Error, Result};
use crate::time;
use crate::url::{Origin, Url};

/// The reason minreq gives the 503 it makes up when no status line came.
const NO_STATUS_LINE: &str = "Server did not provide a status line";

/// How requests reach the server.
pub enum Route {
    Direct,
    /// The proxy a variable names, and that variable's name.
    Proxy(minreq::Proxy, &'static str),
    /// The relay to this machine.
    Relay(Relay),
}

impl Route {
    /// The route to `origin`: the relay for this machine's names minreq
    /// cannot reach itself, else the proxy the environment names, if any.
    /// A bad proxy variable is worded by `explain`.
    pub fn to(
        origin: &Origin,
        connect_timeout: Duration,
        explain: impl FnOnce(&minreq::Error) -> String,
    ) -> Result<Route> {
        let proxy = proxy::for_origin(origin).map_err(|e| Error::Unavailable(explain(&e)))?;
        if relay::needed(origin) {
            let relay = Relay::start(origin, connect_timeout)
                .map_err(|e| Error::io("cannot start the relay to this machine", e))?;
            return Ok(Route::Relay(relay));
        }
        Ok(match proxy {
            Some((proxy, var)) => Route::Proxy(proxy, var),
            None => Route::Direct,
        })
    }

    fn proxy(&self) -> Option<minreq::Proxy> {
        match self {
            Route::Direct => None,
            Route::Proxy(proxy, _) => Some(proxy.clone()),
            Route::Relay(relay) => Some(relay.proxy()),
        }
    }
}

/// `url` as minreq can connect to it. Its URL parser cannot read an IPv6
/// literal, so `::1` is reached as `localhost` (through the relay); any
/// other IPv6 literal is refused with a way out.
pub fn url(url: &Url) -> Result<String, String> {
    let origin = &url.origin;
    let host = match origin.host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) if ip.is_loopback() => "localhost".into(),
        Ok(IpAddr::V6(_)) => {
            return Err(format!(
                "cannot connect to {origin}: the HTTP client does not support IPv6 address \
                 literals other than [::1]; give the host by name"
            ));
        }
        _ => origin.host.clone(),
    };
    let client = Origin {
        host,
        ..origin.clone()
    };
    Ok(format!("{client}{}", url.path))
}

/// Sends `request` once to `url` (its [`url`]), waiting at most `timeout`
/// seconds, never following a redirect (which would carry the request's
/// secrets to wherever `Location` points).
pub fn send_once(
    request: &Request,
    url: &str,
    timeout: u64,
    route: &Route,
) -> Result<Answer, Failure> {
    let method = match request.method {
        Method::Get => minreq::Method::Get,
        Method::Post => minreq::Method::Post,
    };
    let mut sent = minreq::Request::new(method, url)
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
    if let Some(p) = route.proxy() {
        sent = sent.with_proxy(p);
    }
    if request.url.origin.scheme == "https" {
        // rustls comes with two crypto providers here (minreq asks for the
        // default, aws-lc-rs); picking ring lets the linker drop the other.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let response = sent.send_lazy().map_err(|e| match route {
        Route::Relay(relay) => Failure::Http(relay.unwrap_error(e)),
        _ => Failure::Http(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_gets_a_host_it_can_parse() {
        let parsed = |s| Url::parse(s, "https").unwrap();
        assert_eq!(
            url(&parsed("http://[::1]:8080/base")).unwrap(),
            "http://localhost:8080/base"
        );
        assert_eq!(
            url(&parsed("https://Example.com/x")).unwrap(),
            "https://example.com/x"
        );
        // Url::parse refuses it first; built by hand to test this guard too.
        let v6 = Url {
            origin: crate::url::Origin {
                scheme: "https".into(),
                host: "2001:db8::1".into(),
                port: 443,
            },
            path: String::new(),
        };
        assert!(url(&v6).is_err());
    }
}
