//! The token cache: one small JSON file per identity, and a lock file beside
//! it that serialises refreshes.
//!
//! A hit is one `open`, `fstat` and `read`, and takes no lock: writers
//! replace the file atomically, so a reader sees the old token or the new
//! one. Only a refresh locks, on a separate `.lock` file (locking the data
//! file itself breaks atomic replacement), and re-reads under the lock so
//! that N processes racing on a stale cache make one exchange between them.
//! A file that cannot be parsed, is too open, or names another identity is a
//! miss, and gets replaced.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::files;
use crate::secret::Secret;

/// A cached token. `iat` is when its lifetime began (the JWT's `iat`, or the
/// time of the exchange), from which the refresh threshold is derived.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    pub identity: String,
    pub token: Secret<String>,
    pub exp: u64,
    pub iat: u64,
}

/// The largest cache file read: a real entry is a few KiB.
const MAX_ENTRY: u64 = 64 * 1024;

pub enum Lookup {
    Missing,
    Found(Entry),
    /// Present but not usable; the reason is for `-v` and `status`.
    Unusable(String),
}

pub struct Cache {
    pub dir: PathBuf,
    pub path: PathBuf,
    identity: String,
}

/// How a refresh got on with the lock.
pub enum Lock {
    /// We hold it until the file is dropped.
    Held(File),
    /// Another process held it for the whole wait: go on without it.
    TimedOut,
    /// It could not be taken (unwritable directory, say): go on without it.
    Failed(io::Error),
}

impl Cache {
    pub fn new(dir: PathBuf, identity: String) -> Cache {
        let path = dir.join(file_name(&identity));
        Cache {
            dir,
            path,
            identity,
        }
    }

    pub fn read(&self) -> Lookup {
        // A directory others may write lets them swap or plant the file: a
        // miss, checked before the file is opened, so the refresh path
        // checks the directory again (refusing it, never changing it).
        match fs::metadata(&self.dir).map(|meta| files::too_open(&meta)) {
            Ok(None) => {}
            Ok(Some(why)) => {
                return Lookup::Unusable(format!("its directory is open to others ({why})"));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Unusable(format!("cannot check its directory: {e}")),
        }
        let text = match files::read_private(&self.path, MAX_ENTRY) {
            Ok(Some(text)) => text,
            Ok(None) => return Lookup::Missing,
            Err(e) => return Lookup::Unusable(format!("cannot use it: {e}")),
        };
        match serde_json::from_slice::<Entry>(&text) {
            Ok(entry) if entry.identity == self.identity => match token_disagrees(&entry) {
                None => Lookup::Found(entry),
                Some(why) => Lookup::Unusable(why.into()),
            },
            Ok(_) => Lookup::Unusable("it belongs to another identity".into()),
            Err(_) => Lookup::Unusable("it is not a valid cache file".into()),
        }
    }

    /// When the cached file was written (its modification time), if known:
    /// a `--refresh` that waited for the lock serves a token written after
    /// it started instead of exchanging again.
    pub fn written(&self) -> Option<std::time::SystemTime> {
        fs::symlink_metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }

    /// Makes the directory private if needed; an error means the cache
    /// cannot be used at all.
    pub fn prepare(&self) -> io::Result<()> {
        files::ensure_private_dir(&self.dir)
    }

    pub fn write(&self, token: &Secret<String>, exp: u64, iat: u64) -> io::Result<()> {
        let entry = Entry {
            identity: self.identity.clone(),
            token: token.clone(),
            exp,
            iat,
        };
        let json = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        files::write_atomic(&self.path, &json)
    }

    /// Drops this identity's token. `Ok(false)` if there was none.
    pub fn remove(&self) -> io::Result<bool> {
        files::remove_own(&self.path)
    }

    /// Takes the refresh lock, waiting at most `wait`. The OS releases it
    /// when the holder exits, however it exits.
    pub fn lock(&self, wait: Duration) -> Lock {
        let path = self.path.with_extension("lock");
        let file = match files::open_lock_file(&path) {
            Ok(file) => file,
            Err(e) => return Lock::Failed(e),
        };
        match file.try_lock() {
            Ok(()) => return Lock::Held(file),
            Err(fs::TryLockError::Error(e)) => return Lock::Failed(e),
            Err(fs::TryLockError::WouldBlock) => {}
        }
        crate::debug!(
            "waiting up to {} s for another process's refresh (lock on {})",
            wait.as_secs(),
            path.display()
        );
        // Block in a thread so the wait can be bounded; the kernel wakes it
        // the moment the holder lets go, with no polling.
        let (tx, rx) = mpsc::channel();
        let waiter = match file.try_clone() {
            Ok(waiter) => waiter,
            Err(e) => return Lock::Failed(e),
        };
        std::thread::spawn(move || {
            let _ = tx.send(waiter.lock().map(|()| waiter));
        });
        match rx.recv_timeout(wait) {
            Ok(Ok(held)) => Lock::Held(held),
            Ok(Err(e)) => Lock::Failed(e),
            Err(_) => Lock::TimedOut,
        }
    }
}

/// Why a cached entry is corrupt, checked on every read as a fresh token is
/// on arrival: the token must be a JWT (so no newline or other byte can
/// reach a tool's output), and its own `exp` claim decides, so the file's
/// `exp` must match it. A token without the claim (the password grant's)
/// keeps the file's `exp`, which came from `expires_in`. One payload parse.
fn token_disagrees(entry: &Entry) -> Option<&'static str> {
    match crate::jwt::claims(entry.token.expose()) {
        Err(_) => Some("its token is not a JWT"),
        Ok(claims) if claims.exp.is_some_and(|exp| exp != entry.exp) => {
            Some("its expiry does not match its token's exp claim")
        }
        Ok(_) => None,
    }
}

/// Every entry in `dir` named as this program names its files: tokens,
/// their lock files and leftover temporary files, for `clear --all`, which
/// removes those that are regular files of ours ([`files::remove_own`]).
/// Nothing else there is ours to remove.
pub fn all_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ours = is_token_file_name(name, ".json") || is_token_file_name(name, ".lock");
        if ours || name.starts_with(files::TEMP_PREFIX) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// An identity from its fields, each prefixed with its length, so that no
/// two different lists of fields give the same identity: space-joined,
/// org `A B` with key ID `C` was org `A` with key ID `B C`.
pub fn identity(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|field| format!("{}:{field}", field.len()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `name` is one [`file_name`] makes, with `extension` (`.json`
/// for the token, `.lock` for its lock file).
fn is_token_file_name(name: &str, extension: &str) -> bool {
    name.strip_prefix("token-")
        .and_then(|rest| rest.strip_suffix(extension))
        .is_some_and(|hash| {
            // Lower case only: `file_name` never writes upper case.
            hash.len() == 16 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

/// `token-<16 hex digits>.json`, from a hash of the identity: no secret and
/// nothing user-controlled reaches the file system, and the identity is
/// checked again on read, so even a hash collision only costs a refresh.
fn file_name(identity: &str) -> String {
    // FNV-1a, 64 bits: stable across Rust releases, unlike std's hasher.
    let hash = identity.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("token-{hash:016x}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_stable_and_distinct() {
        assert_eq!(file_name("v3 https://x o k"), file_name("v3 https://x o k"));
        assert_ne!(
            file_name("v3 https://x o k"),
            file_name("v3 https://x o k2")
        );
        assert!(file_name("a").starts_with("token-") && file_name("a").len() == 27);
        assert!(is_token_file_name(&file_name("a"), ".json"));
        assert!(!is_token_file_name("package.json", ".json"));
        assert!(!is_token_file_name("token-1.json", ".json"));
        assert!(!is_token_file_name("token-0123456789ABCDEF.json", ".json"));
    }

    #[test]
    fn identities_are_unambiguous() {
        assert_ne!(
            identity(&["v3", "h", "A B", "C"]),
            identity(&["v3", "h", "A", "B C"])
        );
        assert_ne!(identity(&["a", ""]), identity(&["a"]));
        assert_eq!(identity(&["v2", "h", "o"]), "2:v2 1:h 1:o");
    }

    #[test]
    fn round_trips_and_rejects_other_identities() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"), "me".into());
        assert!(matches!(cache.read(), Lookup::Missing));
        cache.prepare().unwrap();
        // {} . {"exp":20} . sig
        let token = "e30.eyJleHAiOjIwfQ.c2ln";
        cache.write(&Secret::new(token.into()), 20, 10).unwrap();
        let Lookup::Found(entry) = cache.read() else {
            panic!("expected a hit")
        };
        assert_eq!(
            (entry.token.expose().as_str(), entry.exp, entry.iat),
            (token, 20, 10)
        );
        let other = Cache {
            identity: "someone else".into(),
            ..Cache::new(dir.path().join("c"), "me".into())
        };
        assert!(matches!(other.read(), Lookup::Unusable(_)));
        fs::write(&cache.path, b"{\"identity\":").unwrap();
        assert!(matches!(cache.read(), Lookup::Unusable(_)));
        assert!(cache.remove().unwrap());
        assert!(!cache.remove().unwrap());
    }

    #[test]
    fn a_token_that_is_not_a_jwt_or_disagrees_with_its_exp_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"), "me".into());
        cache.prepare().unwrap();
        let miss = |token: &str, exp: u64| {
            cache.write(&Secret::new(token.into()), exp, 10).unwrap();
            matches!(cache.read(), Lookup::Unusable(_))
        };
        // A line injected into git's output.
        assert!(miss("a.b.c\nhost=evil.com", 4_102_444_800));
        assert!(miss("not-a-jwt", 4_102_444_800));
        // The token's own exp (20) is past; the file claims a far one.
        assert!(miss("e30.eyJleHAiOjIwfQ.c2ln", 4_102_444_800));
        assert!(!miss("e30.eyJleHAiOjIwfQ.c2ln", 20));
        // No exp claim (the password grant's): the file's exp stands.
        assert!(!miss("e30.e30.c2ln", 4_102_444_800));
    }

    #[test]
    fn a_second_locker_waits_then_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), "me".into());
        let Lock::Held(first) = cache.lock(Duration::from_secs(1)) else {
            panic!("the first lock should be free")
        };
        assert!(matches!(
            cache.lock(Duration::from_millis(50)),
            Lock::TimedOut
        ));
        drop(first);
        assert!(matches!(cache.lock(Duration::from_secs(5)), Lock::Held(_)));
    }
}
