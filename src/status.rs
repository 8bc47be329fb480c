//! `status`: everything about the selected identity but the token, for
//! people (text) or scripts (`--json`), from one reading of the cache, so
//! the two can never disagree.

use std::fmt::Write as _;

use crate::cache::Lookup;
use crate::config::{Auth, Settings, display_path};
use crate::{time, token};

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
}

fn cached(settings: &Settings) -> Cached {
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

/// The report, and whether a fresh token is cached (the exit code says so).
pub fn status(settings: &Settings, json: bool) -> (String, bool) {
    let cached = cached(settings);
    let fresh = matches!(cached, Cached::Found { fresh: true, .. });
    let out = if json {
        as_json(settings, &cached)
    } else {
        as_text(settings, &cached)
    };
    (out, fresh)
}

fn as_text(settings: &Settings, cached: &Cached) -> String {
    let mut out = String::new();
    let file = match &settings.file {
        Some(path) => display_path(path),
        None => "no config file".into(),
    };
    let from = |name: &str| format!("  (from {})", settings.origin(name));
    let org = settings.auth.org().unwrap_or("(none)");
    let served: Vec<String> = settings.served_hosts().map(|h| h.to_string()).collect();
    let cache = token::cache_for(settings).path;
    let key_from = match &settings.auth {
        Auth::Password { .. } => String::new(),
        _ => format!("API key:       from {}\n", settings.origin("api_key")),
    };
    let _ = writeln!(out, "profile:       {} ({file})", settings.profile);
    let _ = writeln!(out, "host:          {}{}", settings.host, from("host"));
    let _ = writeln!(out, "organization:  {org}{}", from("org_id"));
    let _ = writeln!(
        out,
        "auth:          {}{}",
        settings.auth.describe(),
        key_id_from(settings)
    );
    out.push_str(&key_from);
    let _ = writeln!(out, "serves:        {}", served.join(", "));
    let _ = writeln!(out, "cache file:    {}", display_path(&cache));
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
        "cache_file": token::cache_for(settings).path,
        "expires": expires,
        "refresh_at": refresh_at,
        "fresh": fresh,
        "sources": sources,
    });
    format!("{report}\n")
}
