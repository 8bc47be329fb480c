//! The OS keychain, where the API key can live instead of a file: one
//! entry per identity (Console host, organization, key ID), and only the
//! key: the token stays in the private cache file.
//!
//! Each OS has its store, in a file of its own: on Linux the Secret
//! Service (over our own small D-Bus client, `dbus.rs`) and the kernel
//! keyring (keyutils), on Windows Credential Manager, on macOS the
//! Keychain. Their system calls are in `sys/`. A store that is missing,
//! locked or refused is an error that names it and says what to do;
//! nothing here falls back to another store or to a file.

#[cfg(target_os = "linux")]
mod dbus;
#[cfg(target_os = "linux")]
mod keyutils;
// Compiled everywhere in tests, so that its messages are tested here.
#[cfg(any(target_os = "macos", test))]
mod macos;
#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(windows)]
mod windows;

/// For the fuzz target.
#[cfg(target_os = "linux")]
pub use dbus::parse_message as parse_dbus_message;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The variable that chooses the store on Linux (read by config/fields.rs,
/// named here for the messages).
pub const ENV_STORE: &str = "SNOWPLOW_CREDENTIALS_KEYCHAIN";

/// The largest key a store is given: Snowplow's keys are a few dozen bytes,
/// and some stores refuse items of a few KiB (Windows: 2560 bytes).
pub const MAX_KEY: usize = 2048;

/// Which store holds the entries: the OS's own, or on Linux the one
/// [`ENV_STORE`] names, or, when it names none, the one [`store`] finds
/// (config reads the variable; see [`Choice::from_setting`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// The OS's one store: Credential Manager on Windows, the Keychain on
    /// macOS (none on other systems).
    Os,
    /// Linux, by name: the kernel keyring.
    Keyutils,
    /// Linux, by name: the Secret Service over D-Bus.
    SecretService,
    /// Linux, none named: the Secret Service if the D-Bus session bus has
    /// one, else the kernel keyring. Decided by [`store`], so only when a
    /// key is read or written: a cached token never costs a bus round trip.
    Unnamed,
}

impl Choice {
    /// The choice for the setting's value (`secret-service`, `keyutils` or
    /// unset). The rule for unset is in [`store`] (and docs/keychain.md);
    /// the choice is never changed on failure.
    pub fn from_setting(value: Option<&str>) -> Result<Choice> {
        if !cfg!(target_os = "linux") {
            return Ok(Choice::Os);
        }
        match value {
            Some("keyutils") => Ok(Choice::Keyutils),
            Some("secret-service") => Ok(Choice::SecretService),
            None => Ok(Choice::Unnamed),
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
    /// The entry's bytes, or `None` when the store has no such entry
    /// ([`usable`] makes them a key).
    fn get(&self, entry: &Entry) -> Result<Option<Secret<Vec<u8>>>>;
    /// Whether there was an entry to delete.
    fn delete(&self, entry: &Entry) -> Result<bool>;
}

/// The store `choice` names, if this build has it. With none named (on
/// Linux): the Secret Service when `DBUS_SESSION_BUS_ADDRESS` is set and
/// the bus says `org.freedesktop.secrets` has an owner or can be started;
/// else the kernel keyring. That asks the bus, so it is called only when
/// the key is read or written. A bus that cannot be asked is an error, not
/// a reason to pick the other store.
pub fn store(choice: Choice) -> Result<Box<dyn Store>> {
    #[cfg(target_os = "linux")]
    let (choice, why) = match choice {
        Choice::Unnamed => unnamed()?,
        named => (named, format!("{ENV_STORE} names it")),
    };
    let store: Result<Box<dyn Store>> = match choice {
        #[cfg(target_os = "linux")]
        Choice::Keyutils => Ok(Box::new(keyutils::Keyutils)),
        #[cfg(target_os = "linux")]
        Choice::SecretService => Ok(Box::new(secret_service::SecretService)),
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
    };
    #[cfg(target_os = "linux")]
    if let Ok(chosen) = &store {
        crate::debug!("keychain: {}, as {why}", chosen.name());
    }
    store
}

/// The store for [`Choice::Unnamed`], and why, for -v.
#[cfg(target_os = "linux")]
fn unnamed() -> Result<(Choice, String)> {
    let unset = format!("{ENV_STORE} is unset and");
    Ok(if dbus::session_address().is_none() {
        let why = format!("{unset} {} is not set", dbus::ENV_ADDRESS);
        (Choice::Keyutils, why)
    } else if secret_service::on_the_bus()? {
        let why = format!("{unset} org.freedesktop.secrets is on the D-Bus session bus");
        (Choice::SecretService, why)
    } else {
        let why = format!("{unset} no org.freedesktop.secrets on the D-Bus session bus");
        (Choice::Keyutils, why)
    })
}

/// Checks a key before it is stored: one line, not empty, not huge.
pub fn check(key: &str) -> Result<()> {
    match flaw(key) {
        None => Ok(()),
        Some(flaw) => Err(Error::Input(format!(
            "the API key {flaw}: nothing was stored; give the bare value"
        ))),
    }
}

/// What makes `key` no API key, if anything: the one rule for a key going
/// into a store and for one coming out of it (another program may have
/// written the entry).
fn flaw(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("is empty".into());
    }
    if key.contains(['\r', '\n']) {
        return Some("has more than one line".into());
    }
    // It goes into an HTTP header, where a control character is refused at
    // every exchange: refuse it here, once, where it can be fixed.
    if key.chars().any(char::is_control) {
        return Some("holds a control character".into());
    }
    // A Console key is printable ASCII; anything else (a byte-order mark
    // from a clipboard, a line separator, a bidi override) would only be
    // refused by the Console later, with no word of why.
    if !key.is_ascii() {
        return Some("holds a character that is not ASCII (a byte-order mark, say)".into());
    }
    if key.contains(' ') {
        return Some("holds a space".into());
    }
    if key.len() > MAX_KEY {
        return Some(format!(
            "is {} bytes, more than the {MAX_KEY} a keychain entry takes",
            key.len()
        ));
    }
    None
}

/// The key in an entry's bytes, if they are one: UTF-8 text that passes
/// [`flaw`]'s rule, whichever program stored it. Else an error of the
/// entry (never a reason to look for the key elsewhere).
pub fn usable(entry: &Entry, store: &str, bytes: Secret<Vec<u8>>) -> Result<Secret<String>> {
    let again = "store the key again with `snowplow-credentials key set`";
    let Ok(key) = std::str::from_utf8(bytes.expose()) else {
        return Err(Error::Config(format!(
            "the entry for {} in {store} is not text: {again}",
            entry.describe()
        )));
    };
    match flaw(key) {
        None => Ok(Secret::new(key.to_string())),
        Some(flaw) => Err(Error::Config(format!(
            "the entry for {} in {store} {flaw}: {again}",
            entry.describe()
        ))),
    }
}

/// The key of `entry`, read from the store on a cache miss; an error when
/// there is none, saying how to store it.
pub fn read(entry: &Entry) -> Result<Secret<String>> {
    read_from(&*store(entry.store)?, entry)
}

/// [`read`] from a store already chosen (`key get` has one).
pub fn read_from(store: &dyn Store, entry: &Entry) -> Result<Secret<String>> {
    let bytes = store.get(entry)?.ok_or_else(|| {
        Error::Config(format!(
            "no {} in {}: store it with `snowplow-credentials key set` (or `key migrate`)",
            entry.describe(),
            store.name()
        ))
    })?;
    usable(entry, store.name(), bytes)
}

/// The key of `entry` if the store has it, else `other`'s: for a key that
/// may or may not have been moved into the keychain (snowplow-cli's
/// identity). A store that cannot be used here ([`Error::Store`]: none
/// runs, it is locked, keyctl is blocked) is only mentioned with -v, unless
/// `other` fails too: then both are said. An entry that is there but holds
/// no usable key is an error, whatever `other` holds. `missing` is the
/// error `other` gives when it has no key at all: then, the keychain
/// being empty too (the kernel keyring after a reboot), it also says
/// `key set`.
pub fn read_or(
    entry: &Entry,
    missing: Option<&str>,
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
        Ok((store.name(), found))
    });
    match found {
        Ok((name, Some(bytes))) => usable(entry, name, bytes),
        // Empty (after a reboot, for the kernel keyring): say so if the
        // files have no key either.
        Ok((name, None)) => other().map_err(|e| match e {
            Error::Config(m) if Some(m.as_str()) == missing => Error::Config(format!(
                "{m}; or, to keep it in the keychain, store it with `snowplow-credentials key \
                 set` ({name} has none)"
            )),
            e => e,
        }),
        Err(Error::Store(e)) => {
            crate::debug!("{e}");
            other().map_err(|missing| Error::Config(format!("{missing} (the keychain: {e})")))
        }
        Err(e) => Err(e),
    }
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
        for bad in ["\u{feff}abc", "a\u{2028}b", "a\u{202e}b", "ab\u{a0}"] {
            let why = check(bad).unwrap_err().to_string();
            assert!(why.contains("not ASCII"), "{bad:?}: {why}");
        }
        for bad in [" abc", "abc ", "a b"] {
            assert!(
                check(bad).unwrap_err().to_string().contains("a space"),
                "{bad:?}"
            );
        }
        assert!(check("fine").is_ok());
        // What another program stored is held to the same rule.
        let e = usable(&entry, "the store", Secret::new(b"a\nb".to_vec())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the entry for API key ID k for organization o at https://console.example/ in the \
             store has more than one line: store the key again with `snowplow-credentials key set`"
        );
        assert!(usable(&entry, "s", Secret::new(b"fine".to_vec())).is_ok());
        let e = usable(&entry, "s", Secret::new(b"sk_\xff".to_vec())).unwrap_err();
        assert!(e.to_string().contains("is not text"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_store_is_named_or_left_to_the_bus_and_never_switched() {
        let choice = |value| Choice::from_setting(value).unwrap();
        assert_eq!(choice(Some("keyutils")), Choice::Keyutils);
        assert_eq!(choice(Some("secret-service")), Choice::SecretService);
        assert_eq!(choice(None), Choice::Unnamed);
        assert!(Choice::from_setting(Some("file")).is_err());
    }
}
