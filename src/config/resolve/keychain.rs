//! `api_key_source = "keychain"`, and for snowplow-cli's identity the
//! keychain entry before the plain-text key: only located here, read from
//! the store on a cache miss.

use super::super::SecretSource;
use super::super::fields::{API_KEY_SOURCE, ENV_API_KEY, keychain_choice};
use super::super::file::KeySource;
use super::Resolver;
use crate::error::{Error, Result};
use crate::keychain::Entry;
use crate::url::Url;

impl Resolver<'_> {
    /// The API key's source once the keychain is taken into account.
    pub(super) fn keychain(
        &mut self,
        key: SecretSource,
        host: &Url,
        org: &str,
        key_id: Option<&str>,
    ) -> Result<SecretSource> {
        let wanted = self.profile().and_then(|p| p.api_key_source) == Some(KeySource::Keychain);
        let cli_identity = matches!(
            key,
            SecretSource::Inline(_) | SecretSource::SnowplowCli { .. } | SecretSource::Missing(_)
        ) && self.uses_cli_files();
        if !wanted && !cli_identity {
            return Ok(key);
        }
        let entry = Entry {
            host: host.to_string(),
            org: org.into(),
            key_id: key_id.unwrap_or_default().into(),
            store: keychain_choice(self.env)?,
        };
        if !wanted {
            let origin = self.origin("api_key");
            self.origins.retain(|(name, _)| *name != "api_key");
            let origin = format!("the OS keychain if it has the key, else {origin}");
            self.origins.push(("api_key", origin));
            return Ok(SecretSource::KeychainFirst(Box::new(entry), Box::new(key)));
        }
        match key {
            // The variable beats the profile, as for every key source.
            SecretSource::Env(var) if var == ENV_API_KEY => Ok(SecretSource::Env(var)),
            SecretSource::Missing(_) => {
                self.origins.retain(|(name, _)| *name != "api_key");
                let origin = format!(
                    "the OS keychain ({} in {})",
                    API_KEY_SOURCE.name, self.place
                );
                self.origins.push(("api_key", origin));
                Ok(SecretSource::Keychain(Box::new(entry)))
            }
            _ => Err(Error::Config(format!(
                "{} sets api_key_source = \"keychain\" and another key source \
                 (api_key_command, api_key_env or api_key): keep one",
                self.place
            ))),
        }
    }
}
