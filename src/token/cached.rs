//! Serving an exchanged token: from our cache while it is fresh, otherwise
//! by exchange under the refresh lock, written back to the cache.
//!
//! The lock makes concurrent misses (a `make -j`, a fleet of pods sharing a
//! cache) exchange once; a cache that cannot be used costs the caching,
//! never the token.

use std::time::Duration;

use super::{BadExpiry, Peek, Served, Want, is_fresh, threshold, usable_exp};
use crate::cache::{Cache, Lock, Lookup};
use crate::config::{self, Credentials, ENV_CACHE_DIR, Settings};
use crate::error::{Error, Result};
use crate::{debug, exchange, jwt, time, warn};

/// The least a refresh waits for another process's refresh to finish.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Our cache for the token of `settings`.
pub fn cache_for(settings: &Settings) -> Cache {
    Cache::new(settings.cache_dir.clone(), settings.identity())
}

/// A token for `credentials`: cached if fresh, else newly exchanged.
pub fn get(settings: &Settings, credentials: &Credentials, want: Want) -> Result<Served> {
    let started = std::time::SystemTime::now();
    let cache = cache_for(settings);
    let now = time::now();
    // Checked on every call, a hit too, so a bad value is never ignored.
    let wait = lock_wait(settings, credentials)?;
    if !want.refresh {
        match fresh(settings, &cache, now, want.floor) {
            Ok(served) => {
                debug!("cache hit: {}", cache.path.display());
                return Ok(served);
            }
            Err(why) => debug!("{why}"),
        }
    }
    // A cache is written from here on: the home it goes under must exist.
    config::check_cache_home()?;
    let _lock = match cache.prepare() {
        Ok(()) => match cache.lock(wait) {
            Lock::Held(file) => Some(file),
            Lock::TimedOut => {
                warn!(
                    "another snowplow-credentials process held the lock on {} for the whole \
                     wait; exchanging without it",
                    cache.path.with_extension("lock").display()
                );
                None
            }
            Lock::Failed(e) => {
                warn!("cannot lock the cache ({e}); exchanging without the lock");
                None
            }
        },
        Err(e) => {
            warn!(
                "cannot use the cache directory {} ({e}); serving a token without caching \
                 it: fix the directory or set {ENV_CACHE_DIR}",
                cache.dir.display()
            );
            return exchange_now(settings, credentials, None, want);
        }
    };
    // Another process may have refreshed while we waited for the lock. For
    // `--refresh`, only a token written after this call started will do:
    // N concurrent `--refresh` calls then make one exchange, not N.
    let new_enough = !want.refresh || cache.written().is_some_and(|at| at >= started);
    if new_enough && let Ok(served) = fresh(settings, &cache, time::now(), want.floor) {
        debug!("another process refreshed the token while we waited");
        return Ok(served);
    }
    exchange_now(settings, credentials, Some(&cache), want)
}

/// How long to wait for another process's refresh: at least as long as that
/// refresh may legitimately take (its key commands, each up to
/// `command_timeout`, then the exchange), so that a slow prompt is not
/// answered twice; [`ENV_LOCK_WAIT`] (default [`DEFAULT_LOCK_WAIT`]) if
/// longer.
fn lock_wait(settings: &Settings, credentials: &Credentials) -> Result<Duration> {
    let asked = config::lock_wait()?.map_or(DEFAULT_LOCK_WAIT, Duration::from_secs);
    let commands =
        Duration::from_secs(settings.command_timeout).saturating_mul(credentials.commands());
    let holder = commands
        .saturating_add(crate::http::bound(settings.timeout))
        .saturating_add(HOLDER_SLACK);
    Ok(asked.max(holder))
}

/// Beyond its key commands and exchange, what a refresh does under the lock
/// (start-up, reading the cache, writing it with fsyncs).
const HOLDER_SLACK: Duration = Duration::from_secs(2);

/// The cached token if more than its threshold remains, else why not.
fn fresh(settings: &Settings, cache: &Cache, now: u64, floor: u64) -> Result<Served, String> {
    let entry = match cache.read() {
        Lookup::Found(entry) => entry,
        Lookup::Missing => return Err(format!("cache miss: no {}", cache.path.display())),
        Lookup::Unusable(why) => {
            return Err(format!(
                "cache miss: {} ({why}); it will be replaced",
                cache.path.display()
            ));
        }
    };
    if entry.exp > time::LATEST {
        return Err(format!(
            "cache miss: {} (its expiry is after the year 9999); it will be replaced",
            cache.path.display()
        ));
    }
    let threshold = threshold(settings.min_ttl, entry.iat, entry.exp, floor);
    if is_fresh(now, entry.exp, threshold) {
        return Ok(Served {
            token: entry.token,
            exp: Some(entry.exp),
            refresh_at: Some(entry.exp - threshold),
        });
    }
    Err(format!(
        "cache stale: the token expires at {}, within its {threshold} s threshold",
        time::rfc3339(entry.exp)
    ))
}

fn exchange_now(
    settings: &Settings,
    credentials: &Credentials,
    cache: Option<&Cache>,
    want: Want,
) -> Result<Served> {
    let issued = exchange::exchange(settings, credentials)?;
    let now = time::now();
    let claims = jwt::claims(issued.token.expose()).map_err(|e| {
        Error::Unavailable(format!(
            "the token from {} is unusable: {e}; check {} points at the Snowplow Console",
            settings.host,
            settings.origin("host")
        ))
    })?;
    // `expires_in` (the password grant's) counts only without an `exp`
    // claim; zero or negative means already expired.
    let from_expires_in = issued
        .expires_in
        .map(|secs| u64::try_from(secs).map_or(now, |secs| now.saturating_add(secs)));
    let exp =
        usable_exp(claims.exp.or(from_expires_in), now).map_err(|why| bad_expiry(settings, why))?;
    let iat = claims.iat.filter(|iat| *iat < exp).unwrap_or(now);
    if let Some(cache) = cache {
        match cache.write(&issued.token, exp, iat) {
            Ok(()) => debug!(
                "cached until {} in {}",
                time::rfc3339(exp),
                cache.path.display()
            ),
            Err(e) => warn!(
                "cannot write the cache file {} ({e}); the token is served but not cached",
                cache.path.display()
            ),
        }
    }
    let threshold = threshold(settings.min_ttl, iat, exp, want.floor);
    Ok(Served {
        token: issued.token,
        exp: Some(exp),
        // A new token is served even when shorter-lived than the threshold;
        // report no earlier than now, so clients do not discard it at once.
        refresh_at: Some(exp.saturating_sub(threshold).max(now.min(exp))),
    })
}

/// The error for a new token whose expiry [`usable_exp`] refused, saying
/// what to check for each reason: a token that cannot be served or cached
/// comes from the wrong server or a wrong clock, and the user must be told
/// which.
fn bad_expiry(settings: &Settings, why: BadExpiry) -> Error {
    Error::Unavailable(match why {
        BadExpiry::Missing => format!(
            "the token from {} has no expiry (no exp claim, no expires_in), so tools would \
             keep it forever: it is refused; check {} points at the Snowplow Console",
            settings.host,
            settings.origin("host")
        ),
        BadExpiry::Past(exp) => format!(
            "the token from {} expired at {}, before it arrived: check this machine's clock",
            settings.host,
            time::rfc3339(exp)
        ),
        BadExpiry::Absurd => format!(
            "the token from {} expires after the year 9999, which is not a real answer: \
             check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console",
            settings.host
        ),
    })
}

/// Drops the cached token, if `only` is `None` or it is the cached one.
/// Returns whether a token was dropped.
pub fn forget(settings: &Settings, only: Option<&str>) -> Result<bool> {
    let cache = cache_for(settings);
    if let Some(token) = only {
        match cache.read() {
            Lookup::Found(entry) if entry.token.expose() == token => {}
            _ => {
                debug!("the credential to erase is not the cached token: nothing dropped");
                return Ok(false);
            }
        }
    }
    cache
        .remove()
        .map_err(|e| Error::io(format!("cannot remove {}", cache.path.display()), e))
}

/// The cached token, judged by the one freshness rule, for `status`.
pub fn peek(settings: &Settings) -> Peek {
    match cache_for(settings).read() {
        Lookup::Missing => Peek::None,
        Lookup::Unusable(why) => Peek::Unusable(why),
        Lookup::Found(entry) => {
            let threshold = threshold(settings.min_ttl, entry.iat, entry.exp, 0);
            Peek::Cached {
                exp: entry.exp,
                refresh_at: entry.exp - threshold,
                fresh: is_fresh(time::now(), entry.exp, threshold),
            }
        }
    }
}
