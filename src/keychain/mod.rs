//! The OS keychain, where the API key can live instead of a file: one
//! entry per identity (Console host, organization, key ID), and only the
//! key: the token stays in the private cache file.
//!
//! Each OS has its store, in a file of its own: the kernel keyring
//! (keyutils) on Linux, Credential Manager on Windows, the Keychain on
//! macOS, and, in builds with
//! the non-default `secret-service` feature, the Secret Service on Linux.
//! Their system calls are in `sys/`. A store that is missing, locked or
//! refused is an error that names it and says what to do; nothing here
//! falls back to another store or to a file.

#[cfg(target_os = "linux")]
mod keyutils;
// Compiled everywhere in tests, so that its messages are tested here.
#[cfg(any(target_os = "macos", test))]
mod macos;
#[cfg(all(target_os = "linux", feature = "secret-service"))]
mod secret_service;
#[cfg(windows)]
mod windows;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The variable that chooses the store on Linux (read by config/fields.rs,
/// named here for the messages).
pub const ENV_STORE: &str = "SNOWPLOW_CREDENTIALS_KEYCHAIN";

/// The largest key a store is given: Snowplow's keys are a few dozen bytes,
/// and some stores refuse items of a few KiB (Windows: 2560 bytes).
pub const MAX_KEY: usize = 2048;

/// Which store holds the entries: the OS's own, or on Linux the one
/// [`ENV_STORE`] names (config decides; see [`Choice::from_setting`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// The OS's one store: Credential Manager on Windows, the Keychain on
    /// macOS (none on other systems).
    Os,
    /// Linux: the kernel keyring.
    Keyutils,
    /// Linux: the Secret Service over D-Bus (only in builds with the
    /// `secret-service` feature).
    SecretService,
}

impl Choice {
    /// The choice for the setting's value (`secret-service`, `keyutils` or
    /// unset), with whether a D-Bus session is there. Unset, a build with
    /// the Secret Service uses it in a D-Bus session; every other build uses
    /// the kernel keyring (see docs/keychain.md). The choice is never
    /// changed on failure.
    pub fn from_setting(value: Option<&str>, dbus_session: bool) -> Result<Choice> {
        if !cfg!(target_os = "linux") {
            return Ok(Choice::Os);
        }
        match value {
            Some("keyutils") => Ok(Choice::Keyutils),
            Some("secret-service") => Ok(Choice::SecretService),
            None if dbus_session && cfg!(feature = "secret-service") => Ok(Choice::SecretService),
            None => Ok(Choice::Keyutils),
            Some(other) => Err(Error::Config(format!(
                "{ENV_STORE} is `{other}`: set it to secret-service or keyutils, or unset it"
            ))),
        }
    }
}

/// Whose key an entry holds: the Console, the organization and the key ID,
/// the names a person sees in the Console; and the store that keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub host: String,
    pub org: String,
    /// Empty for a deprecated v2 key, which has no ID.
    pub key_id: String,
    pub store: Choice,
}

impl Entry {
    /// The name the stores file the entry under, readable in their own
    /// tools (`keyctl show`, `cmdkey /list`).
    pub fn name(&self) -> String {
        format!(
            "snowplow-credentials:{}/{}/{}",
            self.host.trim_end_matches('/'),
            self.org,
            self.key_id
        )
    }

    /// For messages: which key this is.
    pub fn describe(&self) -> String {
        match self.key_id.as_str() {
            "" => format!("the API key for organization {} at {}", self.org, self.host),
            id => format!(
                "API key ID {id} for organization {} at {}",
                self.org, self.host
            ),
        }
    }
}

/// One OS store.
pub trait Store {
    /// How messages name it: "the kernel keyring (keyutils)".
    fn name(&self) -> &'static str;
    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()>;
    /// The key, or `None` when the store has no such entry.
    fn get(&self, entry: &Entry) -> Result<Option<Secret<String>>>;
    /// Whether there was an entry to delete.
    fn delete(&self, entry: &Entry) -> Result<bool>;
}

/// The store `choice` names, if this build has it.
pub fn store(choice: Choice) -> Result<Box<dyn Store>> {
    match choice {
        #[cfg(target_os = "linux")]
        Choice::Keyutils => Ok(Box::new(keyutils::Keyutils)),
        #[cfg(all(target_os = "linux", feature = "secret-service"))]
        Choice::SecretService => Ok(Box::new(secret_service::SecretService)),
        #[cfg(all(target_os = "linux", not(feature = "secret-service")))]
        Choice::SecretService => Err(Error::Config(format!(
            "this build has no Secret Service store (it is the optional `secret-service` \
             feature): set {ENV_STORE}=keyutils to use the kernel keyring, or use a build \
             with that feature"
        ))),
        #[cfg(windows)]
        Choice::Os => Ok(Box::new(windows::CredentialManager)),
        #[cfg(target_os = "macos")]
        Choice::Os => Ok(Box::new(macos::Keychain)),
        #[allow(unreachable_patterns, reason = "which arms remain depends on the OS")]
        _ => Err(Error::Config(
            "this build has no keychain store for this system yet: keep the key in \
             api_key_command or api_key_env"
                .into(),
        )),
    }
}

/// Checks a key before it is stored: one line, not empty, not huge.
pub fn check(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::Input(
            "the API key is empty: nothing was stored".into(),
        ));
    }
    if key.contains(['\r', '\n']) {
        return Err(Error::Input(
            "the API key has more than one line: give the bare value".into(),
        ));
    }
    // It goes into an HTTP header, where a control character is refused at
    // every exchange: refuse it here, once, where it can be fixed.
    if key.chars().any(char::is_control) {
        return Err(Error::Input(
            "the API key holds a control character: give the bare value".into(),
        ));
    }
    if key.len() > MAX_KEY {
        return Err(Error::Input(format!(
            "the API key is {} bytes, more than the {MAX_KEY} a keychain entry takes: is it \
             really the key?",
            key.len()
        )));
    }
    Ok(())
}

/// The key of `entry`, read from the store on a cache miss; an error when
/// there is none, saying how to store it.
pub fn read(entry: &Entry) -> Result<Secret<String>> {
    let store = store(entry.store)?;
    store.get(entry)?.ok_or_else(|| {
        Error::Config(format!(
            "no {} in {}: store it with `snowplow-credentials key set` (or `key migrate`)",
            entry.describe(),
            store.name()
        ))
    })
}

/// The key of `entry` if the store has it, else `other`'s: for a key that
/// may or may not have been moved into the keychain. A store that cannot
/// be used (none runs here, keyctl is blocked) is only mentioned with -v,
/// unless `other` fails too: then both are said.
pub fn read_or(
    entry: &Entry,
    other: impl FnOnce() -> Result<Secret<String>>,
) -> Result<Secret<String>> {
    let found = store(entry.store).and_then(|store| {
        let found = store.get(entry)?;
        crate::debug!(
            "{} {} in {}",
            if found.is_some() { "found" } else { "no" },
            entry.describe(),
            store.name()
        );
        Ok(found)
    });
    match found {
        Ok(Some(key)) => Ok(key),
        Ok(None) => other(),
        Err(e) => {
            crate::debug!("{e}");
            other().map_err(|missing| Error::Config(format!("{missing} (the keychain: {e})")))
        }
    }
}

/// A stored key that is not UTF-8 text. (Only where a store exists.)
#[cfg(any(target_os = "linux", target_os = "macos", windows))]
fn not_text(entry: &Entry, store: &str) -> Error {
    Error::Config(format!(
        "the entry for {} in {store} is not text: store it again with \
         `snowplow-credentials key set`",
        entry.describe()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_named_by_host_org_and_key_id() {
        let entry = Entry {
            host: "https://console.example/".into(),
            org: "o".into(),
            key_id: "k".into(),
            store: Choice::Keyutils,
        };
        assert_eq!(
            entry.name(),
            "snowplow-credentials:https://console.example/o/k"
        );
        assert!(check("").is_err());
        assert!(check("a\nb").is_err());
        assert!(check(&"x".repeat(MAX_KEY + 1)).is_err());
        for bad in ["abc\u{1b}def", "abc\0def", "a\tb"] {
            let why = check(bad).unwrap_err().to_string();
            assert!(why.contains("control character"), "{bad:?}: {why}");
        }
        assert!(check("fine").is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_store_is_chosen_once_and_never_switched() {
        let choice = |value, dbus| Choice::from_setting(value, dbus).unwrap();
        assert_eq!(choice(Some("keyutils"), true), Choice::Keyutils);
        assert_eq!(choice(Some("secret-service"), false), Choice::SecretService);
        assert_eq!(choice(None, false), Choice::Keyutils);
        let default = match cfg!(feature = "secret-service") {
            true => Choice::SecretService,
            false => Choice::Keyutils,
        };
        assert_eq!(choice(None, true), default);
        assert!(Choice::from_setting(Some("file"), false).is_err());
        #[cfg(not(feature = "secret-service"))]
        {
            let e = store(Choice::SecretService).err().unwrap().to_string();
            assert!(e.contains("no Secret Service store"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
