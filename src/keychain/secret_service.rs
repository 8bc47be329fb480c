//! The Secret Service (GNOME Keyring, KWallet, KeePassXC) over the D-Bus
//! session bus, through the `secret-service` crate: pure Rust (zbus), so
//! the static build links no libdbus. Only in builds with the non-default
//! `secret-service` feature (it adds zbus and about 60 crates). Secrets cross the bus encrypted (the
//! Diffie-Hellman session).
//!
//! A locked collection is an error, never a prompt: this runs under git,
//! kubectl and cron, where no one may be there to answer one.

use std::collections::HashMap;

use secret_service::blocking::Item;
use secret_service::blocking::SecretService as Service;
use secret_service::{EncryptionType, SearchItemsResult};

use super::{Entry, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;

pub struct SecretService;

const NAME: &str = "the Secret Service (D-Bus)";

fn attributes(entry: &Entry) -> HashMap<&'static str, String> {
    HashMap::from([
        ("service", "snowplow-credentials".to_string()),
        ("account", entry.name()),
    ])
}

/// The items stored for `entry`, unlocked and locked: what `get` and
/// `delete` look at.
fn search<'a>(service: &'a Service<'a>, entry: &Entry) -> Result<SearchItemsResult<Item<'a>>> {
    let attrs = attributes(entry);
    let attrs = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    service
        .search_items(attrs)
        .map_err(|e| failed("search", &e))
}

fn connect() -> Result<Service<'static>> {
    Service::connect(EncryptionType::Dh).map_err(|e| match e {
        secret_service::Error::Unavailable => failed("connect to", &e),
        e => Error::Config(format!(
            "cannot connect to {NAME} ({e}): start a D-Bus session with a Secret Service \
             (gnome-keyring, KWallet, KeePassXC), or set {}=keyutils to use the kernel keyring",
            super::ENV_STORE
        )),
    })
}

impl Store for SecretService {
    fn name(&self) -> &'static str {
        NAME
    }

    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()> {
        let service = connect()?;
        let collection = service.get_default_collection().map_err(|e| match e {
            secret_service::Error::NoResult => Error::Config(format!(
                "{NAME} has no default collection to store the key in: create and \
                     unlock one (log in to the desktop, or `gnome-keyring-daemon --unlock` on a \
                     headless machine)"
            )),
            e => failed("open the default collection of", &e),
        })?;
        if collection.is_locked().map_err(|e| failed("use", &e))? {
            return Err(locked());
        }
        let attrs = attributes(entry);
        let attrs = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let label = format!("Snowplow {}", entry.describe());
        collection
            .create_item(&label, attrs, key.expose().as_bytes(), true, "text/plain")
            .map_err(|e| failed("store the key in", &e))?;
        Ok(())
    }

    fn get(&self, entry: &Entry) -> Result<Option<Secret<String>>> {
        let service = connect()?;
        let found = search(&service, entry)?;
        let Some(item) = found.unlocked.first() else {
            return match found.locked.is_empty() {
                true => Ok(None),
                false => Err(locked()),
            };
        };
        let bytes = item
            .get_secret()
            .map_err(|e| failed("read the key from", &e))?;
        let key = String::from_utf8(bytes).map_err(|_| super::not_text(entry, NAME))?;
        Ok(Some(Secret::new(key)))
    }

    fn delete(&self, entry: &Entry) -> Result<bool> {
        let service = connect()?;
        let found = search(&service, entry)?;
        if !found.locked.is_empty() {
            return Err(locked());
        }
        for item in &found.unlocked {
            item.delete()
                .map_err(|e| failed("delete the key from", &e))?;
        }
        Ok(!found.unlocked.is_empty())
    }
}

fn locked() -> Error {
    Error::Config(format!(
        "{NAME} is locked: unlock its default collection (log in to the desktop, or \
         `gnome-keyring-daemon --unlock` on a headless machine), then try again"
    ))
}

/// One line naming the store and what to do.
fn failed(what: &str, e: &secret_service::Error) -> Error {
    use secret_service::Error as E;
    match e {
        E::Locked => locked(),
        E::Unavailable => Error::Config(format!(
            "cannot {what} {NAME}: no D-Bus session or no Secret Service answers on it; start \
             one (gnome-keyring, KWallet, KeePassXC), or set {}=keyutils to use the kernel \
             keyring instead",
            super::ENV_STORE
        )),
        E::Prompt | E::PromptDisconnected => locked(),
        other => Error::Config(format!(
            "cannot {what} {NAME}: {other}; check a Secret Service runs (`secret-tool search \
             service snowplow-credentials`)"
        )),
    }
}
