//! Getting a token to hand out, from whichever [`Source`] the profile names,
//! and the one rule for "fresh".
//!
//! Every protocol goes through [`get`], so the cache, the lock and the expiry
//! threshold behave the same for git, kubectl, botocore and the rest.
//! `cached.rs` serves exchanged tokens from our cache (exchanging on a miss);
//! `file.rs` serves a token something else keeps fresh in a file. Neither
//! uses the other: this file alone chooses between them.

mod cached;
mod file;

use std::path::PathBuf;

use crate::config::{Settings, Source};
use crate::debug;
use crate::error::Result;
use crate::secret::Secret;

pub use cached::cache_for;
/// For the fuzzer and the parser tests (see [`crate::fuzzing`]).
pub use file::parse as file_contents;

/// The seconds before `exp` at which a token stops being served: `min_ttl`,
/// capped at half the token's lifetime so short-lived tokens are still
/// served, and raised to `floor` where a protocol needs it (AWS).
pub fn threshold(min_ttl: u64, iat: u64, exp: u64, floor: u64) -> u64 {
    let lifetime = exp.saturating_sub(iat);
    min_ttl.min(lifetime / 2).max(floor)
}

/// The one rule for "fresh": a token is served from the cache while more
/// than its `threshold` is left before `exp`.
pub fn is_fresh(now: u64, exp: u64, threshold: u64) -> bool {
    exp.saturating_sub(now) > threshold
}

/// Why a token's expiry makes it unusable (written to follow "its token"), wherever the token came from
/// (an exchange's answer, a token file, our cache).
#[derive(Debug, PartialEq, Eq)]
pub enum BadExpiry {
    /// No `exp` claim (nor a positive `expires_in`): a tool would keep it
    /// forever, and it could never be cached.
    Missing,
    /// Already past (or zero, or negative).
    Past(u64),
    /// After the year 9999: not a real expiry.
    Absurd,
}

impl std::fmt::Display for BadExpiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadExpiry::Missing => f.write_str("has no expiry (exp claim)"),
            BadExpiry::Past(exp) => write!(f, "expired at {}", crate::time::rfc3339(*exp)),
            BadExpiry::Absurd => {
                f.write_str("expires after the year 9999, which is not a real expiry")
            }
        }
    }
}

/// The one rule for a token's expiry: it must have one, in the future and
/// before the year 9999, or the token is not served at all.
pub fn usable_exp(exp: Option<u64>, now: u64) -> std::result::Result<u64, BadExpiry> {
    match exp {
        None => Err(BadExpiry::Missing),
        Some(exp) if exp <= now => Err(BadExpiry::Past(exp)),
        Some(exp) if exp > crate::time::LATEST => Err(BadExpiry::Absurd),
        Some(exp) => Ok(exp),
    }
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

/// A token for `settings`: from its token file, or cached if fresh, else
/// newly exchanged.
pub fn get(settings: &Settings, want: Want) -> Result<Served> {
    match &settings.source {
        Source::Exchange(credentials) => cached::get(settings, credentials, want),
        Source::File { path, .. } => file::serve(path, settings.min_ttl, want.floor),
    }
}

/// Drops the cached token, if `only` is `None` or it is the cached one.
/// Returns whether a token was dropped: never one in a token file, which is
/// not ours.
pub fn forget(settings: &Settings, only: Option<&str>) -> Result<bool> {
    match &settings.source {
        Source::Exchange(_) => cached::forget(settings, only),
        Source::File { path, .. } => {
            debug!("nothing to drop: {} is not ours", path.display());
            Ok(false)
        }
    }
}

/// Where the token for a profile is kept, and by whom.
pub struct Kept {
    pub path: PathBuf,
    /// Our cache file, which we refresh; else a token file that only
    /// whatever writes it can replace.
    pub ours: bool,
}

pub fn kept(settings: &Settings) -> Kept {
    match &settings.source {
        Source::Exchange(_) => Kept {
            path: cache_for(settings).path,
            ours: true,
        },
        Source::File { path, .. } => Kept {
            path: path.clone(),
            ours: false,
        },
    }
}

/// The token [`get`] would start from, read without exchanging, as
/// `status` reports it.
pub enum Peek {
    None,
    Unusable(String),
    /// In our cache.
    Cached {
        exp: u64,
        /// When it stops being served and is refreshed.
        refresh_at: u64,
        fresh: bool,
    },
    /// A token minted elsewhere: served until it expires, replaced only
    /// by whatever writes its file.
    Elsewhere {
        exp: u64,
        /// Inside the refresh threshold: its writer is late.
        late: bool,
    },
}

impl Peek {
    /// Whether [`get`] would serve this token as it is: a cached one while
    /// fresh, one minted elsewhere until it expires.
    pub fn servable(&self) -> bool {
        match self {
            Peek::Cached { fresh, .. } => *fresh,
            Peek::Elsewhere { exp, .. } => *exp > crate::time::now(),
            Peek::None | Peek::Unusable(_) => false,
        }
    }
}

pub fn peek(settings: &Settings) -> Peek {
    match &settings.source {
        Source::Exchange(_) => cached::peek(settings),
        Source::File { path, .. } => file::peek(path, settings.min_ttl),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Flags;

    /// A JWT issued 2099-12-31T00:00:00Z that expires a day later.
    const JWT: &str = "e30.eyJpYXQiOjQxMDIzNTg0MDAsImV4cCI6NDEwMjQ0NDgwMH0.c2ln";

    /// A `token_file` profile whose file holds [`JWT`], with a cache
    /// directory that does not exist yet.
    fn file_profile(dir: &Path) -> Settings {
        let file = dir.join("token");
        crate::files::write_atomic(&file, format!("{JWT}\n").as_bytes()).unwrap();
        let text = format!("[profiles.default]\ntoken_file = {file:?}\n");
        let config = dir.join("credentials.toml");
        let mut settings = Settings::from_toml(&Flags::default(), &config, &text).unwrap();
        settings.cache_dir = dir.join("cache");
        settings
    }

    #[test]
    fn a_token_file_is_served_and_kept_by_its_writer_without_touching_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let settings = file_profile(dir.path());
        let served = get(&settings, Want::default()).unwrap();
        assert_eq!(served.token.expose(), JWT);
        assert_eq!(served.exp, Some(4_102_444_800));
        // Not even --refresh exchanges: there is nothing to exchange.
        let refresh = Want {
            refresh: true,
            floor: 0,
        };
        assert_eq!(get(&settings, refresh).unwrap().token.expose(), JWT);
        assert!(!forget(&settings, None).unwrap());
        assert!(dir.path().join("token").exists());
        let kept = kept(&settings);
        assert_eq!((kept.path, kept.ours), (dir.path().join("token"), false));
        assert!(matches!(
            peek(&settings),
            Peek::Elsewhere {
                exp: 4_102_444_800,
                late: false
            }
        ));
        assert!(peek(&settings).servable());
        // No lock, no cache file, not even the directory.
        assert!(!settings.cache_dir.exists());
    }

    #[test]
    fn an_exchanged_token_is_kept_in_our_cache() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[profiles.default]\norg_id = \"00000000-0000-4000-8000-0000000000aa\"\n\
                    api_key_id = \"key-id\"\napi_key = \"key\"\nhost = \"https://console.test\"\n";
        let config = dir.path().join("credentials.toml");
        let mut settings = Settings::from_toml(&Flags::default(), &config, text).unwrap();
        settings.cache_dir = dir.path().join("cache");
        let kept = kept(&settings);
        assert_eq!((kept.path, kept.ours), (cache_for(&settings).path, true));
        assert!(matches!(peek(&settings), Peek::None));
        cache_for(&settings).prepare().unwrap();
        let token = Secret::new(JWT.to_string());
        cache_for(&settings)
            .write(&token, 4_102_444_800, 4_102_358_400)
            .unwrap();
        // Served from the cache: the Console (console.test) is never asked.
        assert_eq!(get(&settings, Want::default()).unwrap().token.expose(), JWT);
        assert!(matches!(
            peek(&settings),
            Peek::Cached {
                refresh_at: 4_102_443_900,
                fresh: true,
                ..
            }
        ));
        assert!(peek(&settings).servable());
        assert!(forget(&settings, Some(JWT)).unwrap());
        assert!(matches!(peek(&settings), Peek::None));
        assert!(!peek(&settings).servable());
    }

    #[test]
    fn a_token_without_a_usable_expiry_is_refused() {
        assert_eq!(usable_exp(None, 1_000), Err(BadExpiry::Missing));
        assert_eq!(usable_exp(Some(0), 1_000), Err(BadExpiry::Past(0)));
        assert_eq!(usable_exp(Some(1_000), 1_000), Err(BadExpiry::Past(1_000)));
        assert_eq!(
            usable_exp(Some(crate::time::LATEST + 1), 1_000),
            Err(BadExpiry::Absurd)
        );
        assert_eq!(usable_exp(Some(1_001), 1_000), Ok(1_001));
    }

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
