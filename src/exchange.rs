//! Trading the API key (or the bot user's password) for a JWT: building
//! the one request, reading the answer and explaining a rejection. Sending
//! it (proxy, retries, time and size bounds, network errors) is
//! [`crate::http`]'s job.
//!
//! The secrets are read here, on a cache miss only, and go nowhere but
//! into the request. Errors say what to do and never include a response
//! body: an error page may echo what it was sent.

use serde::Deserialize;

use crate::config::{Auth, ENV_API_KEY_ID, ENV_HOST, ENV_ORG_ID, Settings};
use crate::error::{Error, Result};
use crate::http::{self, Answer, Request};
use crate::secret::Secret;
use crate::url::{Origin, Url};
use crate::warn;

/// What the server gave: the token, and `expires_in` when the protocol has it.
pub struct Issued {
    pub token: Secret<String>,
    pub expires_in: Option<u64>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    V3,
    V2,
    Password,
}

/// Exchanges the configured credentials for a token.
pub fn exchange(settings: &Settings) -> Result<Issued> {
    let (request, kind) = build(settings)?;
    let answer = http::send(&request, settings.timeout)?;
    if answer.status != 200 {
        return Err(rejection(settings, kind, &request, &answer));
    }
    parse_token(settings, kind, &answer.body)
}

fn build(settings: &Settings) -> Result<(Request, Kind)> {
    let place = settings.profile_place();
    let read = |source: &crate::config::SecretSource, what: &str| {
        source.read(what, &place, settings.command_timeout)
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
            let kind = if key_id.is_some() { Kind::V3 } else { Kind::V2 };
            let method = minreq::Method::Get;
            let body = None;
            (
                Request {
                    url,
                    method,
                    headers,
                    body,
                },
                kind,
            )
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
            let request = Request {
                url: auth_url.clone(),
                method: minreq::Method::Post,
                headers: vec![(
                    "Content-Type",
                    Secret::new("application/x-www-form-urlencoded".into()),
                )],
                body: Some(Secret::new(body)),
            };
            (request, Kind::Password)
        }
    };
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

/// A non-200 answer, worded by what the user should do.
fn rejection(settings: &Settings, kind: Kind, request: &Request, answer: &Answer) -> Error {
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
    match (kind, status) {
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
            if kind == Kind::Password {
                "identity server"
            } else {
                "Console"
            },
            http::attempts(answer.attempts),
            answer.elapsed.as_secs_f64()
        )),
        _ => Error::Unavailable(format!(
            "{} answered HTTP {status}{trace} to the token request: check {ENV_HOST}",
            request.url.origin
        )),
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
