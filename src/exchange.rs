//! Trading the API key (or the bot user's password) for a JWT: building
//! the one request, reading the answer and explaining a rejection. Sending
//! it (proxy, retries, time and size bounds, network errors) is
//! [`crate::http`]'s job.
//!
//! The secrets are read here, on a cache miss only, and go nowhere but
//! into the request. Errors say what to do and never include a response
//! body: an error page may echo what it was sent.

use serde::Deserialize;

use crate::config::{Credentials, ENV_API_KEY_ID, SecretSource, Settings};
use crate::error::{Error, Result};
use crate::http::{self, Answer, Method, Request};
use crate::secret::Secret;
use crate::url::{Url, percent_encode};
use crate::warn;

/// What the server gave: the token, and `expires_in` when the protocol has it.
pub struct Issued {
    pub token: Secret<String>,
    /// Seconds, as sent: zero or negative means already expired.
    pub expires_in: Option<i64>,
}

/// Exchanges `credentials` for a token, as `settings` say where and how.
pub fn exchange(settings: &Settings, credentials: &Credentials) -> Result<Issued> {
    let request = build(settings, credentials)?;
    let answer = http::send(&request, settings.timeout)?;
    if answer.status != 200 {
        return Err(rejection(settings, credentials, &request, &answer));
    }
    parse_token(settings, credentials, &answer.body)
}

fn build(settings: &Settings, credentials: &Credentials) -> Result<Request> {
    let place = settings.profile_place();
    let hidden = credentials.secret_vars();
    let read = |source: &SecretSource, what: &str| {
        source.read(what, &place, settings.command_timeout, &hidden)
    };
    match credentials {
        Credentials::V3 { org, key_id, key } => {
            let url = console_url(settings, org, "v3")?;
            let id = ("X-API-Key-ID", Secret::new(key_id.clone()));
            Ok(console_call(
                settings,
                url,
                vec![id, ("X-API-Key", read(key, "API key")?)],
            ))
        }
        Credentials::V2 { org, key } => {
            let url = console_url(settings, org, "v2")?;
            let key = read(key, "API key")?;
            warn!(
                "no API key ID, so using the deprecated v2 Credentials API: \
                 set {ENV_API_KEY_ID} (or api_key_id) to use v3"
            );
            Ok(console_call(settings, url, vec![("X-API-Key", key)]))
        }
        Credentials::Password {
            auth_url,
            audience,
            client_id,
            username,
            client_secret,
            password,
            ..
        } => {
            auth_url.check_transport().map_err(Error::Config)?;
            let client_secret = read(client_secret, "client secret")?;
            let password = read(password, "password")?;
            let body = form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password.expose()),
                ("audience", audience),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
            ]);
            Ok(form_post(settings, auth_url, body))
        }
    }
}

/// The Credentials API's token endpoint for `org`, of API `version`.
fn console_url(settings: &Settings, org: &str, version: &str) -> Result<Url> {
    let url = Url {
        path: format!(
            "{}/api/msc/v1/organizations/{}/credentials/{version}/token",
            settings.host.path,
            percent_encode(org)
        ),
        ..settings.host.clone()
    };
    url.check_transport().map_err(Error::Config)?;
    Ok(url)
}

/// A GET to the Console; failures point at where its host was set.
fn console_call(
    settings: &Settings,
    url: Url,
    headers: Vec<(&'static str, Secret<String>)>,
) -> Request {
    Request {
        url,
        method: Method::Get,
        headers,
        body: None,
        check: settings.origin("host").to_string(),
    }
}

/// A form POST to the identity server; failures point at `auth_url`.
fn form_post(settings: &Settings, auth_url: &Url, body: String) -> Request {
    Request {
        url: auth_url.clone(),
        method: Method::Post,
        headers: vec![(
            "Content-Type",
            Secret::new("application/x-www-form-urlencoded".into()),
        )],
        body: Some(Secret::new(body)),
        check: format!("auth_url in {}", settings.profile_place()),
    }
}

/// An `application/x-www-form-urlencoded` body.
fn form(fields: &[(&str, &str)]) -> String {
    let fields = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)));
    fields.collect::<Vec<_>>().join("&")
}

/// A non-200 answer, worded by what the user should do.
fn rejection(settings: &Settings, auth: &Credentials, request: &Request, answer: &Answer) -> Error {
    let status = answer.status;
    let trace = trace_id(&answer.body)
        .map(|t| format!(", trace ID {t}"))
        .unwrap_or_default();
    let whose = auth.whose();
    match (auth, status) {
        (Credentials::Password { .. }, 400 | 401 | 403) => Error::Rejected(format!(
            "the identity server rejected {whose} (HTTP {status}{trace}): check the \
             username, password, client ID and client secret"
        )),
        (Credentials::Password { auth_url, .. }, 404) => Error::Rejected(format!(
            "the identity server has no token endpoint at {auth_url} (HTTP 404{trace}): \
             check auth_url in {}",
            settings.profile_place()
        )),
        (_, 401) => Error::Rejected(format!(
            "the Console rejected {whose} (HTTP 401{trace}): check the key from {} is right, \
             or whether it was deleted (Console, Settings, API keys)",
            settings.origin("api_key")
        )),
        (_, 403) => Error::Rejected(format!(
            "{whose} lacks permission to get a token (HTTP 403{trace}): grant it in the \
             Console (Settings, API keys)"
        )),
        (_, 404) => Error::Rejected(format!(
            "{} has no organization {} (HTTP 404{trace}): check {} and {}",
            settings.host,
            auth.org().unwrap_or(""),
            settings.origin("org_id"),
            settings.origin("host")
        )),
        (_, 429) | (_, 500..) => Error::Unavailable(format!(
            "the {} is unavailable (HTTP {status}{trace}; {} in {:.1} s): try again later",
            auth.issuer(),
            http::attempts(answer.attempts),
            answer.elapsed.as_secs_f64()
        )),
        _ => Error::Unavailable(format!(
            "{} answered HTTP {status}{trace} to the token request: check {}",
            request.url.origin, request.check
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

/// A token answer's token and its `expires_in`, each of which may be absent.
type Fields = (Option<String>, Option<i64>);

/// What a token answer's body decodes to, in its issuer's own shape: the
/// Console's `accessToken`, or an identity server's OAuth `access_token` and
/// `expires_in`. On its own so that [`parse_token`] deals only with what
/// came back; also returns the token's field name, which its errors cite.
fn decode_token(auth: &Credentials, body: &[u8]) -> (&'static str, serde_json::Result<Fields>) {
    #[derive(Deserialize)]
    struct Console {
        #[serde(rename = "accessToken")]
        access_token: Option<String>,
    }
    #[derive(Deserialize)]
    struct OAuth {
        access_token: Option<String>,
        expires_in: Option<serde_json::Number>,
    }
    match auth {
        Credentials::Password { .. } => (
            "access_token",
            serde_json::from_slice::<OAuth>(body)
                .map(|o| (o.access_token, o.expires_in.as_ref().map(seconds))),
        ),
        _ => (
            "accessToken",
            serde_json::from_slice::<Console>(body).map(|c| (c.access_token, None)),
        ),
    }
}

fn parse_token(settings: &Settings, auth: &Credentials, body: &[u8]) -> Result<Issued> {
    let (field, parsed) = decode_token(auth, body);
    // The setting that chose the server that answered.
    let (setting, meant) = match auth {
        Credentials::Password { .. } => (
            format!("auth_url in {}", settings.profile_place()),
            "Snowplow's identity server",
        ),
        _ => (settings.origin("host").to_string(), "the Snowplow Console"),
    };
    let not_a_token = |what: &str| {
        Error::Unavailable(format!(
            "the {} answered with {what} instead of a token: check {setting} points at \
             {meant} ({})",
            auth.issuer(),
            auth.issuer_origin(&settings.host)
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
        // JSON, but not of the shape asked for: say so, not "not JSON".
        Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            return Err(not_a_token(&format!(
                "JSON of the wrong shape (it needs one `{field}`, a string{})",
                if field == "access_token" {
                    ", and a numeric `expires_in` if any"
                } else {
                    ""
                }
            )));
        }
        Err(_) => return Err(not_a_token("something that is not JSON")),
    };
    Ok(Issued {
        token: Secret::new(token),
        expires_in,
    })
}

/// `expires_in` as whole seconds: more than an i64 holds saturates, a
/// fraction is dropped, and zero or negative stays so (already expired).
fn seconds(n: &serde_json::Number) -> i64 {
    n.as_i64()
        .or_else(|| n.as_u64().map(|_| i64::MAX))
        .unwrap_or_else(|| n.as_f64().map_or(0, |f| f as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn settings(auth: Credentials) -> Settings {
        Settings {
            profile: "bot".into(),
            file: Some("/etc/credentials.toml".into()),
            file_without_profile: None,
            host: Url::parse("https://console.test", "https").unwrap(),
            source: Source::Exchange(auth),
            min_ttl: 900,
            timeout: 1,
            command_timeout: 1,
            hosts: Vec::new(),
            cache_dir: "/cache".into(),
            origins: vec![
                ("org_id", "SNOWPLOW_CONSOLE_ORG_ID".into()),
                ("host", "SNOWPLOW_CONSOLE_HOST".into()),
            ],
        }
    }

    /// The message for an answer with `status` to the request `auth` makes.
    fn rejected(auth: Credentials, status: u16) -> String {
        let settings = settings(auth);
        let auth = settings.source.credentials().unwrap();
        let request = build_url_only(&settings, auth);
        let answer = Answer {
            status,
            body: br#"{"traceId":"t-1"}"#.to_vec(),
            attempts: 1,
            elapsed: std::time::Duration::ZERO,
            retry_after: None,
        };
        rejection(&settings, auth, &request, &answer).to_string()
    }

    /// The request without reading any secret: only its URL matters here.
    fn build_url_only(settings: &Settings, auth: &Credentials) -> Request {
        let url = match auth {
            Credentials::Password { auth_url, .. } => auth_url.clone(),
            _ => settings.host.clone(),
        };
        console_call(settings, url, Vec::new())
    }

    fn key() -> SecretSource {
        SecretSource::Inline(Secret::new("k".into()))
    }

    #[test]
    fn a_404_from_the_identity_server_blames_auth_url_not_the_organization() {
        let password = Credentials::Password {
            org: Some("o".into()),
            auth_url: Url::parse("https://id.test/oauth/token", "https").unwrap(),
            audience: "a".into(),
            client_id: "c".into(),
            username: "u".into(),
            client_secret: key(),
            password: key(),
        };
        assert_eq!(
            rejected(password, 404),
            "the identity server has no token endpoint at https://id.test/oauth/token \
             (HTTP 404, trace ID t-1): check auth_url in profile \"bot\" of \
             /etc/credentials.toml"
        );
        let v2 = Credentials::V2 {
            org: "o".into(),
            key: key(),
        };
        assert_eq!(
            rejected(v2, 404),
            "https://console.test has no organization o (HTTP 404, trace ID t-1): check \
             SNOWPLOW_CONSOLE_ORG_ID and SNOWPLOW_CONSOLE_HOST"
        );
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
