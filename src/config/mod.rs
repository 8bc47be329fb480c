//! Where each setting comes from: flags, then the environment, then the
//! selected profile of the TOML config file, then defaults, field by field.
//!
//! The environment variable names are snowplow-cli's own, so a shell already
//! set up for the vendor's CLI works unchanged. Loading reads no secret: the
//! API key, client secret and password are only *located* here (as a
//! [`SecretSource`]) and read on a cache miss, so a cache hit never runs
//! `api_key_command`.
//!
//! `file.rs` reads the TOML, `resolve.rs` applies the precedence rule, and
//! this file holds what they produce: [`Settings`], its token [`Source`]
//! and the [`Credentials`] exchanged for one.

pub mod fields;
mod file;
pub mod migrate;
mod resolve;
pub mod snowplow_cli;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;
pub use crate::secret_source::SecretSource;
use crate::url::{Origin, Url};
use fields::Env;
pub use fields::{
    ENV_API_KEY, ENV_API_KEY_ID, ENV_CACHE_DIR, ENV_CONFIG, ENV_LOCK_WAIT, Flags, display_path, env,
};
#[cfg(test)]
use fields::{ENV_HOST, ENV_ORG_ID, ENV_PROFILE, ENV_TIMEOUT, ENV_TOKEN_FILE};
use resolve::{Definition, Value, pick};

pub const DEFAULT_AUTH_URL: &str = "https://id.snowplowanalytics.com/oauth/token";
pub const DEFAULT_AUDIENCE: &str = "https://snowplowanalytics.com/api/";

/// Where the token comes from: exchanged for credentials (and cached by
/// us), or read from a file something else keeps fresh.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per process, never moved in a loop: a box would only add an indirection"
)]
pub enum Source {
    /// Credentials exchanged for a token on a cache miss.
    Exchange(Credentials),
    /// A token minted elsewhere (ESO, Vault Agent, a sink), read from this
    /// file on every call: no key, no exchange, no cache.
    File {
        path: PathBuf,
        /// `org_id`, when configured: no token file needs one, but
        /// `status` shows it (and `console-url` reads the same setting,
        /// through [`Settings::console`]).
        org: Option<String>,
    },
}

impl Source {
    /// The organization, which every API key has.
    pub fn org(&self) -> Option<&str> {
        match self {
            Source::Exchange(credentials) => credentials.org(),
            Source::File { org, .. } => org.as_deref(),
        }
    }

    /// Names this token's owner; see [`Credentials::identity`]. A token
    /// file is named by its path.
    pub fn identity(&self, host: &Url) -> String {
        match self {
            Source::Exchange(credentials) => credentials.identity(host),
            Source::File { path, .. } => {
                crate::cache::identity(&["file", &path.display().to_string()])
            }
        }
    }

    /// The credentials to exchange, unless the token is read from a file.
    pub fn credentials(&self) -> Option<&Credentials> {
        match self {
            Source::Exchange(credentials) => Some(credentials),
            Source::File { .. } => None,
        }
    }

    /// The kind of source, as `status --json` names it: `v3`, `v2`,
    /// `password` or `token_file`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Exchange(credentials) => credentials.kind(),
            Source::File { .. } => "token_file",
        }
    }

    /// The kind of source and its non-secret names, for `status`.
    pub fn describe(&self) -> String {
        match self {
            Source::Exchange(credentials) => credentials.describe(),
            Source::File { .. } => "a token minted elsewhere: no key, no exchange".into(),
        }
    }
}

/// What is exchanged for a token, and who it is for. The API-key variants
/// always name an organization; the secrets are only located here (read on
/// a cache miss), so a cache hit never reads one.
#[derive(Debug)]
pub enum Credentials {
    /// The Credentials API v3: an API key with its key ID.
    V3 {
        org: String,
        key_id: String,
        key: SecretSource,
    },
    /// The deprecated Credentials API v2: an API key without a key ID.
    V2 { org: String, key: SecretSource },
    /// The legacy OAuth password grant for bot users.
    Password {
        /// Only part of the identity: the grant itself names no organization.
        org: Option<String>,
        auth_url: Url,
        audience: String,
        client_id: String,
        username: String,
        client_secret: SecretSource,
        password: SecretSource,
    },
}

impl Credentials {
    /// The organization, which every API key has.
    pub fn org(&self) -> Option<&str> {
        match self {
            Credentials::V3 { org, .. } | Credentials::V2 { org, .. } => Some(org),
            Credentials::Password { org, .. } => org.as_deref(),
        }
    }

    /// Names this token's owner: host, organization, auth kind and the
    /// non-secret key ID or client ID and user. Two settings with the same
    /// identity may share a cached token; no two different ones do.
    pub fn identity(&self, host: &Url) -> String {
        let (host, org) = (host.to_string(), self.org().unwrap_or(""));
        // Length-prefixed fields (see cache::identity): no two different
        // owners share an entry, whatever spaces their names hold.
        match self {
            Credentials::V3 { key_id, .. } => crate::cache::identity(&["v3", &host, org, key_id]),
            Credentials::V2 { .. } => crate::cache::identity(&["v2", &host, org]),
            Credentials::Password {
                auth_url,
                audience,
                client_id,
                username,
                ..
            } => crate::cache::identity(&[
                "password",
                &host,
                org,
                &auth_url.to_string(),
                audience,
                client_id,
                username,
            ]),
        }
    }

    fn sources(&self) -> Vec<&SecretSource> {
        match self {
            Credentials::V3 { key, .. } | Credentials::V2 { key, .. } => vec![key],
            Credentials::Password {
                client_secret,
                password,
                ..
            } => vec![client_secret, password],
        }
    }

    /// How many of its secrets come from a command, each bounded by
    /// `command_timeout`.
    pub fn commands(&self) -> u32 {
        let commands = (self.sources().into_iter())
            .filter(|s| matches!(s, SecretSource::Command(_)))
            .count();
        u32::try_from(commands).unwrap_or(u32::MAX)
    }

    /// The environment variables that carry a secret: the API key's own and
    /// every one an `*_env` setting names. A key command runs without them.
    pub fn secret_vars(&self) -> Vec<&str> {
        let named = self.sources().into_iter().filter_map(|s| match s {
            SecretSource::Env(var) => Some(var.as_str()),
            _ => None,
        });
        std::iter::once(ENV_API_KEY).chain(named).collect()
    }

    /// The key ID, the one non-secret name of a v3 key.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Credentials::V3 { key_id, .. } => Some(key_id),
            _ => None,
        }
    }

    /// Whether an API key is exchanged (v3 or v2), whose source `status`
    /// names.
    pub fn has_api_key(&self) -> bool {
        !matches!(self, Credentials::Password { .. })
    }

    fn kind(&self) -> &'static str {
        match self {
            Credentials::V3 { .. } => "v3",
            Credentials::V2 { .. } => "v2",
            Credentials::Password { .. } => "password",
        }
    }

    fn describe(&self) -> String {
        match self {
            Credentials::V3 { key_id, .. } => {
                format!("API key (Credentials API v3), key ID {key_id}")
            }
            Credentials::V2 { .. } => "API key (deprecated Credentials API v2, no key ID)".into(),
            Credentials::Password {
                username,
                client_id,
                auth_url,
                ..
            } => format!("password grant at {auth_url}, user {username}, client ID {client_id}"),
        }
    }

    /// Whose credentials a server turned down, for messages.
    pub fn whose(&self) -> String {
        match self {
            Credentials::V3 { org, key_id, .. } => {
                format!("API key ID {key_id} for organization {org}")
            }
            Credentials::V2 { org, .. } => format!("the API key for organization {org}"),
            Credentials::Password {
                username,
                client_id,
                ..
            } => format!("user {username} with client ID {client_id}"),
        }
    }

    /// The server that issues the token, as messages call it.
    pub fn issuer(&self) -> &'static str {
        match self {
            Credentials::Password { .. } => "identity server",
            _ => "Console",
        }
    }

    /// Where the token is asked for: the identity server for the password
    /// grant, else the Console `host`.
    pub fn issuer_origin<'a>(&'a self, host: &'a Url) -> &'a Origin {
        match self {
            Credentials::Password { auth_url, .. } => &auth_url.origin,
            _ => &host.origin,
        }
    }
}

/// The user name git and Docker report beside the token when there is no
/// key ID to report.
pub const DEFAULT_USERNAME: &str = "snowplow";

/// Everything resolved, ready for the cache and the exchange.
#[derive(Debug)]
pub struct Settings {
    pub profile: String,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// A config file that exists but holds no such profile, for `status`.
    pub file_without_profile: Option<PathBuf>,
    pub host: Url,
    pub source: Source,
    pub min_ttl: u64,
    pub timeout: u64,
    pub command_timeout: u64,
    /// Hosts besides the Console host that may be given the token.
    pub hosts: Vec<Origin>,
    pub cache_dir: PathBuf,
    /// For `-v`: each setting and where its value came from.
    pub origins: Vec<(&'static str, String)>,
}

impl Settings {
    pub fn load(flags: &Flags) -> Result<Settings> {
        let (path, read) = read_config(flags)?;
        resolve::settings(flags, &env, path, read)
    }

    /// The settings [`Settings::load`] would give had it read `text` from
    /// the private file `path`, with the same flags and environment: the
    /// config loader without the file system, for the fuzzer.
    pub fn from_toml(flags: &Flags, path: &Path, text: &str) -> Result<Settings> {
        let file = file::parse(path, text)?;
        let read = file::Read {
            file,
            shared: false,
        };
        resolve::settings(flags, &env, path.to_path_buf(), Some(read))
    }

    /// Only the Console URL and the organization ID (if any): what
    /// `console-url` needs, resolved as [`Settings::load`] would.
    pub fn console(flags: &Flags) -> Result<(Url, Option<String>)> {
        let (path, read) = read_config(flags)?;
        resolve::console(flags, &env, path, read)
    }

    /// Names this token's owner; see [`Source::identity`].
    pub fn identity(&self) -> String {
        self.source.identity(&self.host)
    }

    /// The user name the git and Docker protocols report beside the token:
    /// the key ID of a v3 key, else `DEFAULT_USERNAME`.
    pub fn username(&self) -> &str {
        let key_id = self.source.credentials().and_then(Credentials::key_id);
        key_id.unwrap_or(DEFAULT_USERNAME)
    }

    /// The one rule for which hosts get a token: the Console host or an entry
    /// of the profile's `hosts`, by scheme, case-insensitive host and
    /// effective port.
    pub fn serves(&self, asked: &Origin) -> bool {
        let served = self.host.origin.same_as(asked) || self.hosts.iter().any(|h| h.same_as(asked));
        if !served {
            let list: Vec<String> = self.served_hosts().map(Origin::to_string).collect();
            crate::debug!(
                "not answering for {asked}: this profile serves only {} (add other hosts to \
                 `hosts` in a profile)",
                list.join(", ")
            );
        }
        served
    }

    /// [`Settings::serves`] for a URL or `host[:port]` as a tool sends it
    /// (https when it names no scheme); anything unparsable is not served.
    pub fn serves_url(&self, asked: &str) -> bool {
        Origin::parse(asked, "https").is_ok_and(|o| self.serves(&o))
    }

    /// Every host this profile serves, the Console host first.
    pub fn served_hosts(&self) -> impl Iterator<Item = &Origin> {
        std::iter::once(&self.host.origin).chain(&self.hosts)
    }

    /// Where the setting `name` (`host`, `org_id`, …) came from, as messages
    /// name it: `--host`, `SNOWPLOW_CONSOLE_HOST`, `host in profile "x" of
    /// FILE`, `host in ~/.config/snowplow/snowplow.yml`, `default`.
    pub fn origin(&self, name: &str) -> &str {
        let found = self.origins.iter().rev().find(|(n, _)| *n == name);
        found.map_or("default", |(_, origin)| origin.as_str())
    }

    /// Where each setting came from, one line each, for `-v`.
    pub fn describe_origins(&self) -> String {
        let mut out = String::new();
        for (name, origin) in &self.origins {
            let _ = match *name {
                "profile" if self.file.is_none() => write!(out, "no profile of ours; "),
                "profile" => write!(out, "profile \"{}\" from {origin}; ", self.profile),
                _ => write!(out, "{name} from {origin}; "),
            };
        }
        out.trim_end_matches("; ").to_string()
    }

    /// "profile "x" of FILE", for messages that tell where to set something.
    pub fn profile_place(&self) -> String {
        profile_place(
            &self.profile,
            self.file.as_deref().unwrap_or(&file::default_path()),
        )
    }
}

/// The profile names in the config file that `flags` and the environment
/// name, for shell completion: none when it cannot be read or parsed (a
/// completion has nowhere to say why).
pub fn profile_names(flags: &Flags) -> Vec<String> {
    match read_config(flags) {
        Ok((_, Some(read))) => read.file.profiles.into_keys().collect(),
        _ => Vec::new(),
    }
}

/// [`ENV_LOCK_WAIT`] in seconds, if set: the same rule as every duration
/// setting (a whole number, at least 1, at most a day), so `-5`, `soon` or
/// `0` are refused rather than ignored.
pub fn lock_wait() -> Result<Option<u64>> {
    let Some(text) = env(ENV_LOCK_WAIT) else {
        return Ok(None);
    };
    let secs = <u64 as resolve::FromEnv>::from_env(ENV_LOCK_WAIT, text)?;
    crate::time::seconds_rule(secs, 1)
        .map(Some)
        .map_err(|why| Error::Config(format!("{ENV_LOCK_WAIT} {why}")))
}

/// `$SNOWPLOW_CREDENTIALS_CACHE_DIR`, else `<user cache dir>/snowplow/credentials`.
/// Nothing is written there by `clear --all`, so a missing home is no error.
pub fn cache_dir() -> Result<PathBuf> {
    cache_dir_in(&env, false)
}

/// `writes`: a cache will be written there (a token is exchanged, not read
/// from a `token_file`), so a relative HOME is refused at once, and one
/// that does not exist where a cache is written ([`check_cache_home`]). A
/// `token_file` profile writes no cache, so it still works for users such
/// as Debian's `nobody`, whose HOME is /nonexistent.
fn cache_dir_in(env: Env, writes: bool) -> Result<PathBuf> {
    if let Some(dir) = env(ENV_CACHE_DIR) {
        return absolute_setting(ENV_CACHE_DIR, &dir, "");
    }
    // The home the default cache is under (not on Windows, whose cache is
    // under %LOCALAPPDATA% and whose home is %USERPROFILE%).
    if cfg!(not(windows)) && writes {
        match env("HOME") {
            Some(home) => {
                absolute_setting("HOME", &home, &cache_dir_or())?;
            }
            None => crate::debug!(
                "HOME is not set: the cache goes under the home directory the password \
                 database gives"
            ),
        }
    }
    files::cache_home()
        .map(|d| d.join("snowplow").join("credentials"))
        // A relative XDG_CACHE_HOME is ignored by the lookup; be sure.
        .filter(|d| d.is_absolute())
        .ok_or_else(|| {
            Error::Config(format!(
                "no home directory to keep the cache in: set HOME (an absolute path) or \
                 {ENV_CACHE_DIR}"
            ))
        })
}

/// The other way out of a bad HOME, for its messages.
fn cache_dir_or() -> String {
    format!(", or set {ENV_CACHE_DIR}")
}

/// Before a cache is written under the default cache directory: the home
/// it is under must exist, so a HOME that does not is refused rather than
/// created (as root, anywhere). Checked where a cache would be written (a
/// miss or `--refresh`), not on a hit: a cache directory found in the home
/// shows the home exists, and a hit writes nothing (issue 20: one `stat`
/// less per hit).
pub fn check_cache_home() -> Result<()> {
    if cfg!(windows) || env(ENV_CACHE_DIR).is_some() {
        return Ok(());
    }
    match env("HOME") {
        Some(home) if !Path::new(&home).is_dir() => Err(Error::Config(format!(
            "HOME is {home}, which is not an existing directory: set HOME to your home \
             directory{}",
            cache_dir_or()
        ))),
        _ => Ok(()),
    }
}

/// The one rule for a path setting that must be absolute: a helper runs in
/// whatever directory git or kubectl runs in (a repository's work tree), so
/// a relative one would land there. `or` is another way out, for the
/// message.
fn absolute_setting(name: &str, value: &str, or: &str) -> Result<PathBuf> {
    let path = PathBuf::from(value);
    if path.is_relative() {
        return Err(Error::Config(format!(
            "{name} is `{value}`, a relative path: set {name} to an absolute path{or}"
        )));
    }
    Ok(path)
}

fn profile_place(profile: &str, path: &Path) -> String {
    format!("profile \"{profile}\" of {}", display_path(path))
}

/// The config file's path and contents: the file `--config` or the
/// variable names (which must exist), else the first found of the default
/// places.
fn read_config(flags: &Flags) -> Result<(PathBuf, Option<file::Read>)> {
    let named = pick(
        &env,
        ("--config", flags.config.clone()),
        ENV_CONFIG,
        (Definition::Default, None),
    )?;
    match named {
        Some(Value { val, definition }) => {
            let read = file::read(&val, Some(&definition.to_string()))?;
            Ok((val, read))
        }
        None => file::read_default(),
    }
}
