//! Getting a token to hand out: from the cache while it is fresh, otherwise
//! by exchange under the refresh lock, and the one rule for "fresh".
//!
//! Every protocol goes through [`get`], so the cache, the lock and the expiry
//! threshold behave the same for git, kubectl, botocore and the rest.

use std::time::Duration;

use crate::cache::{Cache, Lock, Lookup};
use crate::config::{Auth, ENV_CACHE_DIR, Settings, env};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::{debug, exchange, jwt, time, token_file, warn};

/// The least a refresh waits for another process's refresh to finish.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);
/// Raises [`DEFAULT_LOCK_WAIT`] (seconds); the wait never ends before the
/// holder's own bounds, whatever it says.
pub const ENV_LOCK_WAIT: &str = "SNOWPLOW_CREDENTIALS_LOCK_WAIT";

/// The seconds before `exp` at which a token stops being served: `min_ttl`,
/// capped at half the token's lifetime so short-lived tokens are still
/// served, and raised to `floor` where a protocol needs it (AWS).
pub fn threshold(min_ttl: u64, iat: u64, exp: u64, floor: u64) -> u64 {
    let lifetime = exp.saturating_sub(iat);
    min_ttl.min(lifetime / 2).max(floor)
}

/// The one rule for "fresh": a cached token is served while more than its
/// `threshold` is left before `exp`.
pub fn is_fresh(now: u64, exp: u64, threshold: u64) -> bool {
    exp.saturating_sub(now) > threshold
}

/// A token to hand out.
pub struct Served {
    pub token: Secret<String>,
    /// The token's real `exp`, when it has one.
    pub exp: Option<u64>,
    /// When we would stop serving it from the cache: the expiry to report to
    /// clients that keep a token until then (git, Kubernetes, Bazel).
    pub refresh_at: Option<u64>,
}

/// What the caller needs beyond the settings.
#[derive(Clone, Copy, Default)]
pub struct Want {
    /// Exchange even if the cache is fresh (`--refresh`).
    pub refresh: bool,
    /// The least threshold this protocol tolerates (see [`crate::protocol::aws::MIN_THRESHOLD`]).
    pub floor: u64,
}

pub fn cache_for(settings: &Settings) -> Cache {
    Cache::new(settings.cache_dir.clone(), settings.identity())
}

/// A token for `settings`: cached if fresh, else newly exchanged.
pub fn get(settings: &Settings, want: Want) -> Result<Served> {
    if let Auth::TokenFile { path, .. } = &settings.auth {
        return token_file::serve(path, settings.min_ttl, want.floor);
    }
    let cache = cache_for(settings);
    let now = time::now();
    if !want.refresh {
        match fresh(settings, &cache, now, want.floor) {
            Ok(served) => {
                debug!("cache hit: {}", cache.path.display());
                return Ok(served);
            }
            Err(why) => debug!("{why}"),
        }
    }
    let _lock = match cache.prepare() {
        Ok(()) => match cache.lock(lock_wait(settings)?) {
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
            return exchange_now(settings, None, want);
        }
    };
    // Another process may have refreshed while we waited for the lock.
    if !want.refresh
        && let Ok(served) = fresh(settings, &cache, time::now(), want.floor)
    {
        debug!("another process refreshed the token while we waited");
        return Ok(served);
    }
    exchange_now(settings, Some(&cache), want)
}

/// How long to wait for another process's refresh: at least as long as that
/// refresh may legitimately take (its key commands, each up to
/// `command_timeout`, then the exchange), so that a slow prompt is not
/// answered twice; [`DEFAULT_LOCK_WAIT`] or [`ENV_LOCK_WAIT`] if longer.
fn lock_wait(settings: &Settings) -> Result<Duration> {
    let asked = match env(ENV_LOCK_WAIT) {
        None => DEFAULT_LOCK_WAIT,
        Some(v) => v
            .parse()
            .ok()
            .filter(|secs| *secs <= time::MAX_WAIT_SECS)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{ENV_LOCK_WAIT} must be a whole number of seconds up to {}, not `{v}`",
                    time::MAX_WAIT_SECS
                ))
            })?,
    };
    let commands =
        Duration::from_secs(settings.command_timeout).saturating_mul(settings.auth.commands());
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

fn exchange_now(settings: &Settings, cache: Option<&Cache>, want: Want) -> Result<Served> {
    let issued = exchange::exchange(settings)?;
    let now = time::now();
    let claims = jwt::claims(issued.token.expose()).map_err(|e| {
        Error::Unavailable(format!(
            "the token from {} is unusable: {e}; check {} points at the Snowplow Console",
            settings.host,
            settings.origin("host")
        ))
    })?;
    let exp = claims
        .exp
        .or(issued.expires_in.map(|s| now.saturating_add(s)));
    let Some(exp) = exp else {
        debug!("the token has no readable exp claim, so it is served but not cached");
        return Ok(Served {
            token: issued.token,
            exp: None,
            refresh_at: None,
        });
    };
    if exp <= now {
        return Err(Error::Unavailable(format!(
            "the token from {} expired at {}, before it arrived: check this machine's clock",
            settings.host,
            time::rfc3339(exp)
        )));
    }
    if exp > time::LATEST {
        return Err(Error::Unavailable(format!(
            "the token from {} expires after the year 9999, which is not a real answer: check \
             SNOWPLOW_CONSOLE_HOST points at the Snowplow Console",
            settings.host
        )));
    }
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

/// Drops the cached token, if `only` is `None` or it is the cached one.
/// Returns whether a token was dropped.
pub fn forget(settings: &Settings, only: Option<&str>) -> Result<bool> {
    if let Auth::TokenFile { path, .. } = &settings.auth {
        debug!("nothing to drop: {} is not ours", path.display());
        return Ok(false);
    }
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

#[cfg(test)]
mod tests {
    use super::{is_fresh, threshold};

    #[test]
    fn fresh_means_more_than_the_threshold_left() {
        assert!(is_fresh(1_000, 2_000, 999));
        assert!(!is_fresh(1_000, 2_000, 1_000));
        // Expired long ago: no underflow.
        assert!(!is_fresh(5_000, 2_000, 0));
    }

    #[test]
    fn threshold_is_min_ttl_capped_at_half_life_and_raised_to_the_floor() {
        // A 24 h token: the default 15 minutes.
        assert_eq!(threshold(900, 0, 86_400, 0), 900);
        // A 10 minute token: half of it.
        assert_eq!(threshold(900, 0, 600, 0), 300);
        // AWS never goes below 15 minutes.
        assert_eq!(threshold(60, 0, 86_400, 900), 900);
        assert_eq!(threshold(900, 0, 600, 900), 900);
        // Nonsense times do not underflow.
        assert_eq!(threshold(900, 100, 50, 0), 0);
    }
}
