//! Trading the API key (or the bot user's password) for a JWT: one HTTP
//! request, retried with backoff when the server is busy or down, bounded in
//! time, and never told to follow a redirect (which would carry the key to
//! wherever the `Location` header points).
//!
//! This is the only module that holds a secret in memory, and the only one
//! that talks to the network. Its errors say what to do and never include a
//! response body: an error page may echo what it was sent.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::{Auth, ENV_API_KEY_ID, ENV_HOST, ENV_ORG_ID, Settings};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::url::{Origin, Url};
use crate::{debug, ids, proxy, relay, warn};

/// A real token answer is a few kilobytes; anything far larger is refused
/// without being read whole.
pub const MAX_BODY: u64 = 64 * 1024;
/// Attempts at most, within the time budget.
const MAX_ATTEMPTS: u32 = 4;
/// The first pause between attempts; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What the server gave: the token, and `expires_in` when the protocol has it.
pub struct Issued {
    pub token: Secret<String>,
    pub expires_in: Option<u64>,
}

/// One request, fully described, so that retries resend the same thing.
struct Call {
    url: Url,
    method: minreq::Method,
    headers: Vec<(&'static str, Secret<String>)>,
    body: Option<Secret<String>>,
    /// Which kind of answer to expect and how to word rejections.
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    V3,
    V2,
    Password,
}

/// Exchanges the configured credentials for a token.
pub fn exchange(settings: &Settings) -> Result<Issued> {
    let call = build(settings)?;
    let started = Instant::now();
    let answer = send_with_retries(&call, settings.timeout)?;
    debug!(
        "{} {} -> HTTP {} in {} ms",
        method_name(&call.method),
        call.url,
        answer.status,
        started.elapsed().as_millis()
    );
    if answer.status != 200 {
        return Err(rejection(settings, &call, &answer));
    }
    parse_token(settings, call.kind, &answer.body)
}

fn method_name(m: &minreq::Method) -> &'static str {
    match m {
        minreq::Method::Post => "POST",
        _ => "GET",
    }
}

fn build(settings: &Settings) -> Result<Call> {
    let place = settings.profile_place();
    let hidden = settings.auth.secret_vars();
    let read = |source: &crate::config::SecretSource, what: &str| {
        source.read(what, &place, settings.command_timeout, &hidden)
    };
    let org = settings.org_id.as_deref().unwrap_or_default();
    let call = match &settings.auth {
        Auth::ApiKey { key_id, key } => {
            let version = if key_id.is_some() { "v3" } else { "v2" };
            let url = Url {
                path: format!(
                    "{}/api/msc/v1/organizations/{}/credentials/{version}/token",
                    settings.host.path,
                    percent_encode(org)
                ),
                ..settings.host.clone()
            };
            url.check_transport().map_err(Error::Config)?;
            let mut headers = Vec::new();
            if let Some(id) = key_id {
                headers.push(("X-API-Key-ID", Secret::new(id.clone())));
            } else {
                warn!(
                    "no API key ID, so using the deprecated v2 Credentials API: \
                     set {ENV_API_KEY_ID} (or api_key_id) to use v3"
                );
            }
            headers.push(("X-API-Key", read(key, "API key")?));
            Call {
                url,
                method: minreq::Method::Get,
                headers,
                body: None,
                kind: if key_id.is_some() { Kind::V3 } else { Kind::V2 },
            }
        }
        Auth::Password {
            auth_url,
            audience,
            client_id,
            username,
            client_secret,
            password,
        } => {
            auth_url.check_transport().map_err(Error::Config)?;
            let client_secret = read(client_secret, "client secret")?;
            let password = read(password, "password")?;
            let body = [
                ("grant_type", "password"),
                ("username", username),
                ("password", password.expose()),
                ("audience", audience),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
            ]
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
            Call {
                url: auth_url.clone(),
                method: minreq::Method::Post,
                headers: vec![(
                    "Content-Type",
                    Secret::new("application/x-www-form-urlencoded".into()),
                )],
                body: Some(Secret::new(body)),
                kind: Kind::Password,
            }
        }
    };
    // The one rule for headers: no CR/LF (or other control character) may
    // add a header or split the request. IDs are checked where they are
    // read; this also covers the secrets. Only the header's name is said.
    if let Some((name, _)) = call
        .headers
        .iter()
        .find(|(_, v)| ids::has_control(v.expose()))
    {
        return Err(Error::Config(format!(
            "the {name} header would carry a control character: check where its value is set"
        )));
    }
    call.url.for_client().map_err(Error::Config)?;
    Ok(call)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for form
/// fields and path segments alike.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    attempts: u32,
    elapsed: Duration,
}

/// What went wrong with one attempt, before it is worded for the user.
enum Failure {
    Http(minreq::Error),
    TooLarge,
    /// The connection ended before a status line (minreq reports that as a
    /// 503 of its own making, which the server never sent).
    NoAnswer,
}

/// All attempts of one exchange start within this.
fn budget(timeout: u64) -> Duration {
    Duration::from_secs(timeout.saturating_mul(3))
}

/// The longest one exchange can take: its budget, plus the last attempt's
/// own timeout, which is cut to what is left of the budget but at least a
/// second. A process waiting for another's refresh waits at least this.
pub fn bound(timeout: u64) -> Duration {
    budget(timeout).saturating_add(Duration::from_secs(1))
}

fn send_with_retries(call: &Call, timeout: u64) -> Result<Answer> {
    let budget = budget(timeout);
    let started = Instant::now();
    let proxy = proxy::for_origin(&call.url.origin)
        .map_err(|e| Error::Unavailable(network_message(call, &e, timeout, None)))?;
    if proxy.is_none() {
        proxy::go_direct();
    }
    let via = proxy.as_ref().map(|(_, var)| *var);
    let proxy = if relay::needed(&call.url.origin) {
        let relay = relay::start(&call.url.origin, Duration::from_secs(timeout))
            .map_err(|e| Error::io("cannot start the relay to [::1]", e))?;
        Some((relay, ""))
    } else {
        proxy
    };
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = budget.saturating_sub(started.elapsed());
        let proxy = proxy.as_ref().map(|(p, _)| p.clone());
        let result = send_once(call, timeout.min(left.as_secs().max(1)), proxy);
        let elapsed = started.elapsed();
        let wait = match &result {
            Ok((status, retry_after, _)) if *status == 429 || *status >= 500 => {
                debug!("attempt {attempt}: HTTP {status}");
                Some(retry_after.map(Duration::from_secs).unwrap_or(backoff))
            }
            Err(Failure::Http(e)) if retryable(e) => {
                debug!(
                    "attempt {attempt}: {}",
                    network_message(call, e, timeout, via)
                );
                Some(backoff)
            }
            Err(Failure::NoAnswer) => {
                debug!("attempt {attempt}: the connection closed without an answer");
                Some(backoff)
            }
            _ => None,
        };
        if let Some(wait) = wait
            && attempt < MAX_ATTEMPTS
            && elapsed.saturating_add(wait) <= budget
        {
            std::thread::sleep(wait);
            backoff *= 2;
            continue;
        }
        return match result {
            Ok((status, _, body)) => Ok(Answer {
                status,
                body,
                attempts: attempt,
                elapsed,
            }),
            Err(Failure::TooLarge) => Err(Error::Unavailable(format!(
                "the answer from {} is larger than {} KiB, far more than any token: \
                 check {ENV_HOST} points at the Snowplow Console",
                call.url.origin,
                MAX_BODY / 1024
            ))),
            Err(failure) => {
                let tries = if attempt > 1 {
                    format!(" (after {})", attempts(attempt))
                } else {
                    String::new()
                };
                let message = match failure {
                    Failure::Http(e) => network_message(call, &e, timeout, via),
                    _ => format!(
                        "{} closed the connection without an HTTP answer: try again later, \
                         or check {ENV_HOST}",
                        call.url.origin
                    ),
                };
                Err(Error::Unavailable(format!("{message}{tries}")))
            }
        };
    }
}

type Reply = (u16, Option<u64>, Vec<u8>);

/// The reason minreq gives the 503 it makes up when no status line came.
const NO_STATUS_LINE: &str = "Server did not provide a status line";

fn send_once(call: &Call, timeout: u64, proxy: Option<minreq::Proxy>) -> Result<Reply, Failure> {
    // build() has checked that the client can take the URL.
    let target = call
        .url
        .for_client()
        .unwrap_or_else(|_| call.url.to_string());
    let mut request = minreq::Request::new(call.method.clone(), target)
        .with_timeout(timeout)
        .with_follow_redirects(false)
        .with_header(
            "User-Agent",
            concat!("snowplow-credentials/", env!("CARGO_PKG_VERSION")),
        )
        .with_header("Accept", "application/json");
    for (name, value) in &call.headers {
        request = request.with_header(*name, value.expose().as_str());
    }
    if let Some(body) = &call.body {
        request = request.with_body(body.expose().as_bytes());
    }
    if let Some(p) = proxy {
        request = request.with_proxy(p);
    }
    if call.url.origin.scheme == "https" {
        // rustls comes with two crypto providers here (minreq asks for the
        // default, aws-lc-rs); picking ring lets the linker drop the other.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let response = request.send_lazy().map_err(Failure::Http)?;
    if response.status_code == 503 && response.reason_phrase == NO_STATUS_LINE {
        return Err(Failure::NoAnswer);
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    if header("content-length").and_then(|v| v.parse::<u64>().ok()) > Some(MAX_BODY) {
        return Err(Failure::TooLarge);
    }
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let status = response.status_code;
    let mut body = Vec::new();
    response
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| Failure::Http(minreq::Error::IoError(e)))?;
    if body.len() as u64 > MAX_BODY {
        return Err(Failure::TooLarge);
    }
    Ok((status, retry_after, body))
}

fn is_timeout(e: &minreq::Error) -> bool {
    matches!(e, minreq::Error::IoError(io) if matches!(
        io.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ))
}

fn is_tls(e: &minreq::Error) -> bool {
    match e {
        minreq::Error::RustlsCreateConnection(_) => true,
        minreq::Error::IoError(io) => {
            let text = io.to_string().to_ascii_lowercase();
            text.contains("certificate") || text.contains("tls") || text.contains("handshake")
        }
        _ => false,
    }
}

/// Connection failures are worth another try; a timeout already spent our
/// patience, and TLS or proxy misconfiguration will not fix itself.
fn retryable(e: &minreq::Error) -> bool {
    matches!(e, minreq::Error::IoError(_)) && !is_timeout(e) && !is_tls(e)
}

/// `via` names the variable the proxy came from, if one was used: then the
/// only connection made is to the proxy, so connection errors are its.
fn network_message(call: &Call, e: &minreq::Error, timeout: u64, via: Option<&str>) -> String {
    let origin = &call.url.origin;
    use minreq::Error as E;
    match e {
        E::IoError(io) if via.is_some() && io.kind() == std::io::ErrorKind::ConnectionRefused => {
            let var = via.unwrap_or_default();
            format!(
                "cannot connect to the proxy from {var} for {origin}: connection refused; \
                 check {var}, or add {} to NO_PROXY",
                origin.host
            )
        }
        _ if is_timeout(e) => format!(
            "{origin} did not answer within {timeout} s: check your network, or raise \
             --timeout"
        ),
        _ if is_tls(e) => format!(
            "TLS with {origin} failed ({e}): if your network uses its own certificate \
             authority, point SSL_CERT_FILE at its PEM bundle"
        ),
        E::IoError(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("cannot connect to {origin}: connection refused; check {ENV_HOST}")
        }
        E::AddressNotFound => format!("cannot resolve {}: check {ENV_HOST}", origin.host),
        E::IoError(io) => format!("cannot reach {origin}: {io}; check your network"),
        // The relay to [::1] answers 502 when nothing listens there.
        E::ProxyConnect if relay::needed(origin) => {
            format!("cannot connect to {origin}: check {ENV_HOST}")
        }
        E::BadProxy | E::BadProxyCreds | E::ProxyConnect | E::InvalidProxyCreds => {
            format!(
                "the proxy for {origin} failed ({e}): check HTTPS_PROXY/https_proxy, or add \
                 the host to NO_PROXY"
            )
        }
        _ => format!("bad HTTP answer from {origin}: {e}"),
    }
}

/// A non-200 answer, worded by what the user should do.
fn rejection(settings: &Settings, call: &Call, answer: &Answer) -> Error {
    let status = answer.status;
    let org = settings.org_id.as_deref().unwrap_or("");
    let trace = trace_id(&answer.body)
        .map(|t| format!(", trace ID {t}"))
        .unwrap_or_default();
    let whose = match &settings.auth {
        Auth::ApiKey {
            key_id: Some(id), ..
        } => format!("API key ID {id} for organization {org}"),
        Auth::ApiKey { key_id: None, .. } => format!("the API key for organization {org}"),
        Auth::Password {
            username,
            client_id,
            ..
        } => format!("user {username} with client ID {client_id}"),
    };
    match (call.kind, status) {
        (Kind::Password, 400 | 401 | 403) => Error::Rejected(format!(
            "the identity server rejected {whose} (HTTP {status}{trace}): check the \
             username, password, client ID and client secret"
        )),
        (_, 401) => Error::Rejected(format!(
            "the Console rejected {whose} (HTTP 401{trace}): check the key is right, \
             or whether it was deleted (Console, Settings, API keys)"
        )),
        (_, 403) => Error::Rejected(format!(
            "{whose} lacks permission to get a token (HTTP 403{trace}): grant it in the \
             Console (Settings, API keys)"
        )),
        (_, 404) => Error::Rejected(format!(
            "{} has no organization {org} (HTTP 404{trace}): check {ENV_ORG_ID} and {ENV_HOST}",
            settings.host
        )),
        (_, 429) | (_, 500..) => Error::Unavailable(format!(
            "the {} is unavailable (HTTP {status}{trace}; {} in {:.1} s): try again later",
            if call.kind == Kind::Password {
                "identity server"
            } else {
                "Console"
            },
            attempts(answer.attempts),
            answer.elapsed.as_secs_f64()
        )),
        _ => Error::Unavailable(format!(
            "{} answered HTTP {status}{trace} to the token request: check {ENV_HOST}",
            call.url.origin
        )),
    }
}

/// "1 attempt", "3 attempts".
fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".into()
    } else {
        format!("{n} attempts")
    }
}

/// The Console's error bodies carry a trace ID for support; it is safe to show.
fn trace_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "traceId")]
        trace_id: Option<String>,
    }
    let id = serde_json::from_slice::<ErrorBody>(body).ok()?.trace_id?;
    let safe = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
    safe.then_some(id)
}

fn parse_token(settings: &Settings, kind: Kind, body: &[u8]) -> Result<Issued> {
    #[derive(Deserialize)]
    struct Console {
        #[serde(rename = "accessToken")]
        access_token: Option<String>,
    }
    #[derive(Deserialize)]
    struct OAuth {
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let server = match kind {
        Kind::Password => "the identity server",
        _ => "the Console",
    };
    let (field, parsed) = match kind {
        Kind::Password => (
            "access_token",
            serde_json::from_slice::<OAuth>(body).map(|o| (o.access_token, o.expires_in)),
        ),
        _ => (
            "accessToken",
            serde_json::from_slice::<Console>(body).map(|c| (c.access_token, None)),
        ),
    };
    let not_a_token = |what: &str| {
        Error::Unavailable(format!(
            "{server} answered with {what} instead of a token: check {ENV_HOST} points at \
             the Snowplow Console ({})",
            origin_of(settings, kind)
        ))
    };
    let (token, expires_in) = match parsed {
        Ok((Some(token), expires_in)) => (token, expires_in),
        Ok((None, _)) => return Err(not_a_token(&format!("JSON without `{field}`"))),
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => {
            return Err(not_a_token("an empty body"));
        }
        Err(_) if body.trim_ascii_start().first() == Some(&b'<') => {
            return Err(not_a_token("an HTML page"));
        }
        Err(_) => return Err(not_a_token("something that is not JSON")),
    };
    Ok(Issued {
        token: Secret::new(token),
        expires_in,
    })
}

fn origin_of(settings: &Settings, kind: Kind) -> &Origin {
    match (&settings.auth, kind) {
        (Auth::Password { auth_url, .. }, Kind::Password) => &auth_url.origin,
        _ => &settings.host.origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(percent_encode("p@ss w&rd=/+"), "p%40ss%20w%26rd%3D%2F%2B");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn trace_ids_are_shown_only_when_harmless() {
        assert_eq!(
            trace_id(br#"{"message":"x","traceId":"abc-123"}"#),
            Some("abc-123".into())
        );
        assert_eq!(trace_id(br#"{"traceId":"has space"}"#), None);
        assert_eq!(trace_id(b"<html>"), None);
    }
}
