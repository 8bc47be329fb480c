//! Where a secret comes from: an environment variable, a command such as
//! `pass show snowplow` or `op read …` (run by `key_command.rs`), the
//! private config file, the OS keychain (`keychain/`), or snowplow-cli's
//! files; and the checks every
//! secret passes, wherever it came from.
//!
//! Secrets are read only on a cache miss: the configuration only locates
//! them (as a [`SecretSource`]).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::key_command;
use crate::keychain;
use crate::secret::Secret;

/// Reads the API key from snowplow-cli's files in the directories given, if
/// they hold one.
pub type FindKey = fn(&[PathBuf]) -> Result<Option<String>>;

/// Where a secret is read from, on a cache miss only.
#[derive(Debug)]
pub enum SecretSource {
    /// An environment variable's value.
    Env(String),
    /// An argv run without a shell; its trimmed stdout.
    Command(Vec<String>),
    /// Written in the (private) config file.
    Inline(Secret<String>),
    /// The API key of snowplow-cli's files in `dirs`, read only on a cache
    /// miss by `find` (the config's reader of those files, passed in so that
    /// this module needs nothing from the config); `missing` says what to do
    /// if they have none.
    SnowplowCli {
        dirs: Vec<PathBuf>,
        find: FindKey,
        missing: String,
    },
    /// Configured nowhere: fine for a cache hit, and this message for an
    /// exchange.
    Missing(String),
    /// The OS keychain's entry (`api_key_source = "keychain"`).
    Keychain(Box<keychain::Entry>),
    /// The keychain's entry if it has one, else the other source: for
    /// snowplow-cli's identity, whose key may have been moved there.
    KeychainFirst(Box<keychain::Entry>, Box<SecretSource>),
}

impl SecretSource {
    /// The secret's value, trimmed. `what` names it in messages ("API key"),
    /// `place` says where it is configured.
    /// A command runs without the variables in `hidden`, which carry
    /// secrets it has no business seeing.
    pub fn read(
        &self,
        what: &str,
        place: &str,
        timeout_secs: u64,
        hidden: &[&str],
    ) -> Result<Secret<String>> {
        let value = match self {
            SecretSource::Inline(secret) => secret.expose().trim().to_string(),
            SecretSource::Env(var) => std::env::var(var)
                .map_err(|e| {
                    let why = match e {
                        std::env::VarError::NotPresent => "is not set",
                        std::env::VarError::NotUnicode(_) => "is not UTF-8 text",
                    };
                    Error::Config(format!("no {what}: ${var} {why} (named by {place})"))
                })?
                .trim()
                .to_string(),
            SecretSource::Command(argv) => {
                key_command::run(argv, (what, place), timeout_secs, hidden)?
            }
            SecretSource::SnowplowCli {
                dirs,
                find,
                missing,
            } => find(dirs)?
                .ok_or_else(|| Error::Config(missing.clone()))?
                .trim()
                .to_string(),
            SecretSource::Missing(message) => return Err(Error::Config(message.clone())),
            SecretSource::Keychain(entry) => keychain::read(entry)?.expose().trim().to_string(),
            SecretSource::KeychainFirst(entry, other) => {
                let missing = match &**other {
                    SecretSource::Missing(m) | SecretSource::SnowplowCli { missing: m, .. } => {
                        Some(m.as_str())
                    }
                    _ => None,
                };
                let other = || other.read(what, place, timeout_secs, hidden);
                return keychain::read_or(entry, missing, other);
            }
        };
        let from = self.origin(place);
        if value.is_empty() {
            return Err(Error::Config(format!("the {what} from {from} is empty")));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(Error::Config(format!(
                "the {what} from {from} has more than one line: it must be the bare value"
            )));
        }
        Ok(Secret::new(value))
    }

    /// Where the value just read came from, for a message about it: the
    /// variable or command itself, since the profile may not even exist.
    fn origin(&self, place: &str) -> String {
        match self {
            SecretSource::Env(var) => var.clone(),
            SecretSource::Command(argv) => format!("the command `{}` ({place})", argv[0]),
            _ => place.to_string(),
        }
    }
}
