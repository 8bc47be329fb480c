//! `status`: everything about the selected identity but the token, for
//! people (text) or scripts (`--json`), from one reading of the cache, so
//! the two can never disagree.

use std::fmt::Write as _;

use std::path::PathBuf;

use crate::cache::Lookup;
use crate::config::{Auth, Settings, display_path};
use crate::{time, token, token_file};

/// The cached token, as `status` reports it.
enum Cached {
    None,
    Unusable(String),
    Found {
        exp: u64,
        /// When it stops being served and is refreshed.
        refresh_at: u64,
        fresh: bool,
    },
    /// A `token_file`'s token: served until it expires, replaced only by
    /// whatever writes the file.
    FromFile {
        exp: u64,
        /// Inside the refresh threshold: its writer is late.
        late: bool,
    },
}

/// Where the token is read from: our cache, or a `token_file` that
/// something else writes.
fn token_path(settings: &Settings) -> PathBuf {
    match &settings.auth {
        Auth::TokenFile { path, .. } => path.clone(),
        _ => token::cache_for(settings).path,
    }
}

fn cached(settings: &Settings) -> Cached {
    if let Auth::TokenFile { path, .. } = &settings.auth {
        return from_token_file(path, settings.min_ttl);
    }
    match token::cache_for(settings).read() {
        Lookup::Missing => Cached::None,
        Lookup::Unusable(why) => Cached::Unusable(why),
        Lookup::Found(entry) => {
            let threshold = token::threshold(settings.min_ttl, entry.iat, entry.exp, 0);
            Cached::Found {
                exp: entry.exp,
                refresh_at: entry.exp - threshold,
                fresh: token::is_fresh(time::now(), entry.exp, threshold),
            }
        }
    }
}

/// A token file's token, judged by the same freshness rule. Only its writer
/// can replace it, so one inside its threshold but unexpired is still
/// served: `status` then exits 0.
fn from_token_file(path: &std::path::Path, min_ttl: u64) -> Cached {
    match token_file::read(path) {
        Err(e) => Cached::Unusable(e.to_string()),
        Ok(read) => {
            let threshold = token::threshold(min_ttl, read.iat.unwrap_or(0), read.exp, 0);
            Cached::FromFile {
                exp: read.exp,
                late: !token::is_fresh(time::now(), read.exp, threshold),
            }
        }
    }
}

/// What to do when `status` finds no token to serve.
pub fn unfresh_advice(settings: &Settings) -> String {
    match &settings.auth {
        Auth::TokenFile { path, .. } => format!(
            "{} holds no token that can be served: check what writes it (ESO, Vault Agent, \
             snowplow-credentials sink)",
            display_path(path)
        ),
        _ => "no fresh token is cached: run `snowplow-credentials token` to get one".into(),
    }
}

/// The report, and whether a fresh token is cached (the exit code says so).
pub fn status(settings: &Settings, json: bool) -> (String, bool) {
    let cached = cached(settings);
    let fresh = match cached {
        Cached::Found { fresh, .. } => fresh,
        Cached::FromFile { exp, .. } => exp > time::now(),
        _ => false,
    };
    let out = if json {
        as_json(settings, &cached)
    } else {
        as_text(settings, &cached)
    };
    (out, fresh)
}

fn as_text(settings: &Settings, cached: &Cached) -> String {
    let mut out = String::new();
    let file = match (&settings.file, &settings.file_without_profile) {
        (Some(path), _) => display_path(path),
        (None, Some(path)) => format!("not in {}", display_path(path)),
        (None, None) => "no config file".into(),
    };
    let from = |name: &str| format!("  (from {})", settings.origin(name));
    let org = settings.auth.org().unwrap_or("(none)");
    let served: Vec<String> = settings.served_hosts().map(|h| h.to_string()).collect();
    let key_from = match &settings.auth {
        Auth::Password { .. } | Auth::TokenFile { .. } => String::new(),
        _ => format!("API key:       from {}\n", settings.origin("api_key")),
    };
    let file_label = match &settings.auth {
        Auth::TokenFile { .. } => "token file:   ",
        _ => "cache file:   ",
    };
    let _ = writeln!(out, "profile:       {} ({file})", settings.profile);
    let _ = writeln!(out, "host:          {}{}", settings.host, from("host"));
    let org_from = settings
        .auth
        .org()
        .map(|_| from("org_id"))
        .unwrap_or_default();
    let _ = writeln!(out, "organization:  {org}{org_from}");
    let _ = writeln!(
        out,
        "auth:          {}{}",
        settings.auth.describe(),
        key_id_from(settings)
    );
    out.push_str(&key_from);
    let _ = writeln!(out, "serves:        {}", served.join(", "));
    let _ = writeln!(out, "{file_label} {}", display_path(&token_path(settings)));
    let _ = writeln!(out, "token:         {}", token_line(cached));
    out
}

fn key_id_from(settings: &Settings) -> String {
    match &settings.auth {
        Auth::V3 { .. } => format!("  (from {})", settings.origin("api_key_id")),
        _ => String::new(),
    }
}

fn token_line(cached: &Cached) -> String {
    match cached {
        Cached::None => "none cached".into(),
        Cached::Unusable(why) => format!("none usable ({why})"),
        Cached::FromFile { exp, late } => {
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
        Cached::Found {
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

fn as_json(settings: &Settings, cached: &Cached) -> String {
    let (auth, key_id) = match &settings.auth {
        Auth::V3 { key_id, .. } => ("v3", Some(key_id.as_str())),
        Auth::V2 { .. } => ("v2", None),
        Auth::Password { .. } => ("password", None),
        Auth::TokenFile { .. } => ("token_file", None),
    };
    let (expires, refresh_at, fresh) = match cached {
        Cached::Found {
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
        "organization": settings.auth.org(),
        "auth": auth,
        "key_id": key_id,
        "served_hosts": served,
        "cache_file": token_path(settings),
        "expires": expires,
        "refresh_at": refresh_at,
        "fresh": fresh,
        "sources": sources,
    });
    format!("{report}\n")
}
