//! Where each secret (API key, client secret, password) is read from: the
//! variable, exactly one of the profile's `_command`, `_env` and inline
//! keys, or snowplow-cli's files; and, when none, what an exchange will say.
//! Only located here: read on a cache miss.

use super::super::snowplow_cli;
use super::{ENV_API_KEY, Profile, Resolver, SecretSource, dirs, display_path, masked};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How one secret may be configured: `<name>_command`, `<name>_env` or
/// `<name>` in the profile, or (for the API key) an environment variable
/// above them all.
pub(super) struct SecretKeys {
    name: &'static str,
    /// How messages call it.
    what: &'static str,
    var: Option<&'static str>,
    fields: fn(&Profile) -> SourceFields,
}

/// A secret's `_command`, `_env` and inline keys, as read from a profile.
type SourceFields = (
    Option<Vec<String>>,
    Option<String>,
    Option<crate::secret::Secret<String>>,
);

pub(super) const API_KEY: SecretKeys = SecretKeys {
    name: "api_key",
    what: "API key",
    var: Some(ENV_API_KEY),
    fields: |p| {
        (
            p.api_key_command.clone(),
            p.api_key_env.clone(),
            p.api_key.clone(),
        )
    },
};
pub(super) const CLIENT_SECRET: SecretKeys = SecretKeys {
    name: "client_secret",
    what: "client secret",
    var: None,
    fields: |p| {
        let (c, e, i) = (
            &p.client_secret_command,
            &p.client_secret_env,
            &p.client_secret,
        );
        (c.clone(), e.clone(), i.clone())
    },
};
pub(super) const PASSWORD: SecretKeys = SecretKeys {
    name: "password",
    what: "password",
    var: None,
    fields: |p| {
        (
            p.password_command.clone(),
            p.password_env.clone(),
            p.password.clone(),
        )
    },
};

impl Resolver<'_> {
    /// Where the secret `keys` describes is read from: its variable if set,
    /// else exactly one of its profile keys; an inline secret only in a file
    /// no one else may read.
    pub(super) fn secret(&mut self, keys: &SecretKeys) -> Result<SecretSource> {
        let (name, place) = (keys.name, self.place.clone());
        let (env, explicit) = (self.env, self.explicit);
        if let Some(var) = keys.var.filter(|var| masked(env, explicit, var).is_some()) {
            self.origins.push((name, var.into()));
            return Ok(SecretSource::Env(var.into()));
        }
        if keys.var.is_some() && self.uses_cli_files() {
            return self.cli_key(keys);
        }
        let (command, var, inline) = self.profile().map(keys.fields).unwrap_or_default();
        let set = [command.is_some(), var.is_some(), inline.is_some()];
        if set.iter().filter(|set| **set).count() > 1 {
            return Err(Error::Config(format!(
                "{place} sets more than one of {name}_command, {name}_env, {name}: keep one"
            )));
        }
        let (source, origin) = match (command, var, inline) {
            (Some(argv), ..) if argv.first().is_none_or(|a| a.is_empty()) => {
                return Err(Error::Config(format!(
                    "{name}_command in {place} is empty: give the program and its arguments, \
                     e.g. [\"pass\", \"show\", \"snowplow\"]"
                )));
            }
            (Some(argv), ..) => {
                let origin = format!("{name}_command `{}` in {place}", argv[0]);
                (SecretSource::Command(argv), origin)
            }
            (_, Some(var), _) => {
                let origin = format!("{name}_env ${var} in {place}");
                (SecretSource::Env(var), origin)
            }
            (_, _, Some(secret)) => {
                self.refuse_shared(name)?;
                (SecretSource::Inline(secret), format!("{name} in {place}"))
            }
            (None, None, None) => return Ok(self.no_secret(keys)),
        };
        self.origins.push((name, origin));
        Ok(source)
    }

    /// Refuses an inline secret in a file that others may read.
    fn refuse_shared(&self, name: &str) -> Result<()> {
        match (&self.loaded, &self.file) {
            (Some(loaded), Some(path)) if loaded.shared => {
                let path = display_path(path);
                Err(Error::Config(format!(
                    "refusing the inline {name} in {path}: others can read the file; \
                     run `chmod 600 {path}` or use {name}_command"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The API key from snowplow-cli's files: at once if they were read for
    /// the identity, else only on a cache miss (a hit needs no key).
    fn cli_key(&mut self, keys: &SecretKeys) -> Result<SecretSource> {
        let missing = self.missing_secret(keys);
        let (source, origin) = match &self.cli {
            Some(files) => {
                let found = files.iter().find_map(|f| {
                    let key = f.get(snowplow_cli::SECRET)?.to_string();
                    Some((key, f.place(snowplow_cli::SECRET)))
                });
                let Some((key, place)) = found else {
                    return Ok(self.no_secret(keys));
                };
                (SecretSource::Inline(Secret::new(key)), place)
            }
            None => {
                let source = SecretSource::SnowplowCli {
                    dirs: dirs(self.env),
                    find: |dirs| {
                        let files = snowplow_cli::load(dirs)?;
                        let key = files.iter().find_map(|f| f.get(snowplow_cli::SECRET));
                        Ok(key.map(str::to_string))
                    },
                    missing,
                };
                (
                    source,
                    "snowplow-cli's .env or snowplow.yml, read on a cache miss".into(),
                )
            }
        };
        self.origins.push((keys.name, origin));
        Ok(source)
    }

    /// No source for a secret: an error only if an exchange needs it.
    fn no_secret(&mut self, keys: &SecretKeys) -> SecretSource {
        let origins = "nowhere (only an exchange needs it)".to_string();
        self.origins.push((keys.name, origins));
        SecretSource::Missing(self.missing_secret(keys))
    }

    /// What to say when an exchange needs a secret that is set nowhere.
    fn missing_secret(&self, keys: &SecretKeys) -> String {
        let SecretKeys { name, what, .. } = keys;
        let mut ways = Vec::new();
        if let Some(var) = keys.var.filter(|_| !self.explicit) {
            ways.push(format!("set {var}"));
        }
        if keys.var.is_some() && self.uses_cli_files() {
            ways.push(
                "run `snowplow-cli setup` (api-key in ~/.config/snowplow/snowplow.yml)".into(),
            );
        }
        ways.push(format!(
            "set one of {name}_command, {name}_env, {name} in {}",
            self.place
        ));
        let last = ways.pop().unwrap_or_default();
        let ways = match ways.is_empty() {
            true => last,
            false => format!("{}, or {last}", ways.join(", ")),
        };
        format!("no {what} to exchange for a token: {ways}")
    }
}
