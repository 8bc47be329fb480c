//! `status`: everything about the selected identity but the token, for
//! people (text) or scripts (`--json`), from one reading of the cache, so
//! the two can never disagree.

use std::fmt::Write as _;

use crate::config::{Credentials, Settings, display_path};
use crate::time;
use crate::token::{self, Peek};

/// What to do when `status` finds no token to serve.
pub fn unfresh_advice(settings: &Settings) -> String {
    let kept = token::kept(settings);
    match kept.ours {
        true => "no fresh token is cached: run `snowplow-credentials token` to get one".into(),
        false => format!(
            "{} holds no token that can be served: check what writes it (ESO, Vault Agent, \
             snowplow-credentials sink)",
            display_path(&kept.path)
        ),
    }
}

/// The report, and whether a fresh token is cached (the exit code says so).
pub fn status(settings: &Settings, json: bool) -> (String, bool) {
    let peek = token::peek(settings);
    let fresh = peek.servable();
    let out = if json {
        as_json(settings, &peek)
    } else {
        as_text(settings, &peek)
    };
    (out, fresh)
}

fn as_text(settings: &Settings, peek: &Peek) -> String {
    let mut out = String::new();
    let file = match (&settings.file, &settings.file_without_profile) {
        (Some(path), _) => display_path(path),
        (None, Some(path)) => format!("not in {}", display_path(path)),
        (None, None) => "no config file".into(),
    };
    let from = |name: &str| format!("  (from {})", settings.origin(name));
    let org = settings.source.org().unwrap_or("(none)");
    let served: Vec<String> = settings.served_hosts().map(|h| h.to_string()).collect();
    let key_from = match settings.source.credentials() {
        Some(credentials) if credentials.has_api_key() => {
            format!("API key:       from {}\n", settings.origin("api_key"))
        }
        _ => String::new(),
    };
    let kept = token::kept(settings);
    let file_label = match kept.ours {
        true => "cache file:   ",
        false => "token file:   ",
    };
    let _ = writeln!(out, "profile:       {} ({file})", settings.profile);
    let _ = writeln!(out, "host:          {}{}", settings.host, from("host"));
    let org_from = settings
        .source
        .org()
        .map(|_| from("org_id"))
        .unwrap_or_default();
    let _ = writeln!(out, "organization:  {org}{org_from}");
    let _ = writeln!(
        out,
        "auth:          {}{}",
        settings.source.describe(),
        key_id_from(settings)
    );
    out.push_str(&key_from);
    let _ = writeln!(out, "serves:        {}", served.join(", "));
    let _ = writeln!(out, "{file_label} {}", display_path(&kept.path));
    let _ = writeln!(out, "token:         {}", token_line(peek));
    out
}

fn key_id_from(settings: &Settings) -> String {
    match key_id(settings) {
        Some(_) => format!("  (from {})", settings.origin("api_key_id")),
        None => String::new(),
    }
}

/// The v3 key ID, if the profile exchanges a v3 key.
fn key_id(settings: &Settings) -> Option<&str> {
    settings.source.credentials().and_then(Credentials::key_id)
}

fn token_line(peek: &Peek) -> String {
    match peek {
        Peek::None => "none cached".into(),
        Peek::Unusable(why) => format!("none usable ({why})"),
        Peek::Elsewhere { exp, late } => {
            let left = exp.saturating_sub(time::now());
            let state = match late {
                false => "fresh",
                true => "inside its refresh threshold (only its writer can replace it)",
            };
            match left {
                0 => format!("expired at {}", time::rfc3339(*exp)),
                _ => format!(
                    "{state}, expires {} (in {})",
                    time::rfc3339(*exp),
                    time::human_duration(left)
                ),
            }
        }
        Peek::Cached {
            exp,
            refresh_at,
            fresh,
        } => {
            let left = exp.saturating_sub(time::now());
            let left = match left {
                0 => "expired".to_string(),
                _ => format!("in {}", time::human_duration(left)),
            };
            format!(
                "{}, expires {} ({left}), will refresh from {}",
                if *fresh { "fresh" } else { "stale" },
                time::rfc3339(*exp),
                time::rfc3339(*refresh_at)
            )
        }
    }
}

fn as_json(settings: &Settings, peek: &Peek) -> String {
    let (expires, refresh_at, fresh) = match peek {
        Peek::Cached {
            exp,
            refresh_at,
            fresh,
        } => (
            Some(time::rfc3339(*exp)),
            Some(time::rfc3339(*refresh_at)),
            *fresh,
        ),
        _ => (None, None, false),
    };
    let sources: serde_json::Map<String, serde_json::Value> = (settings.origins.iter())
        .map(|(name, origin)| (name.to_string(), origin.as_str().into()))
        .collect();
    let served: Vec<String> = settings.served_hosts().map(|h| h.to_string()).collect();
    let report = serde_json::json!({
        "profile": settings.profile,
        "host": settings.host.to_string(),
        "organization": settings.source.org(),
        "auth": settings.source.kind(),
        "key_id": key_id(settings),
        "served_hosts": served,
        "cache_file": token::kept(settings).path,
        "expires": expires,
        "refresh_at": refresh_at,
        "fresh": fresh,
        "sources": sources,
    });
    format!("{report}\n")
}
