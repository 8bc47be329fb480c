//! The precedence rule, once: a flag beats its environment variable, which
//! beats the profile's key, which beats the default. [`pick`] returns each
//! value with its [`Definition`] (as cargo's `Value<T>` does), so `-v` can
//! say where every setting came from.
//!
//! The environment comes in as a function ([`Env`]), so the rule is tested
//! in-process by a table rather than by spawning the program.

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::file::{AuthKind, Profile, Read, dirs};
use super::snowplow_cli::{self, CliFile};
use secrets::{API_KEY, CLIENT_SECRET, PASSWORD};

mod keychain;
mod secrets;
use super::fields::{
    API_KEY_ID, COMMAND_TIMEOUT, DEFAULT_COMMAND_TIMEOUT, DEFAULT_HOST, DEFAULT_MIN_TTL,
    DEFAULT_TIMEOUT, ENV_API_KEY, ENV_API_KEY_ID, ENV_HOST, ENV_ORG_ID, Field, HOST, MIN_TTL,
    ORG_ID, PROFILE, TIMEOUT, TOKEN_FILE,
};
use super::{
    Credentials, DEFAULT_AUDIENCE, DEFAULT_AUTH_URL, Flags, SecretSource, Settings, Source,
    cache_dir_in, display_path, profile_place,
};
use crate::error::{Error, Result};
use crate::ids;
use crate::url::{Origin, Url};

pub use super::fields::Env;

/// Where a value came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Definition {
    /// A command-line flag, by name.
    Flag(&'static str),
    /// An environment variable, by name.
    Env(&'static str),
    /// A key of the selected profile, and the profile's place for messages.
    Key(&'static str, Rc<str>),
    /// A top-level key of the config file.
    FileKey(&'static str),
    Default,
}

impl fmt::Display for Definition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Definition::Flag(name) | Definition::Env(name) | Definition::FileKey(name) => {
                f.write_str(name)
            }
            Definition::Key(key, place) => write!(f, "{key} in {place}"),
            Definition::Default => f.write_str("default"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, PartialEq)]
pub struct Value<T> {
    pub val: T,
    pub definition: Definition,
}

/// How a setting's type reads an environment variable's text.
pub trait FromEnv: Sized {
    fn from_env(var: &str, text: String) -> Result<Self>;
}

impl FromEnv for String {
    fn from_env(_: &str, text: String) -> Result<Self> {
        Ok(text)
    }
}

impl FromEnv for PathBuf {
    fn from_env(_: &str, text: String) -> Result<Self> {
        Ok(PathBuf::from(text))
    }
}

/// Every number setting is a count of seconds.
impl FromEnv for u64 {
    fn from_env(var: &str, text: String) -> Result<Self> {
        text.parse().map_err(|_| {
            Error::Config(format!(
                "{var} must be a whole number of seconds, not `{text}`"
            ))
        })
    }
}

/// The first of the flag, the environment variable `var` and the file's
/// value, with where it came from. A bad variable is an error only when no
/// flag overrides it.
pub fn pick<T: FromEnv>(
    env: Env,
    (flag_name, flag): (&'static str, Option<T>),
    var: &'static str,
    (key, file): (Definition, Option<T>),
) -> Result<Option<Value<T>>> {
    let value = |val, definition| Some(Value { val, definition });
    if let Some(val) = flag {
        return Ok(value(val, Definition::Flag(flag_name)));
    }
    if let Some(text) = env(var) {
        return Ok(value(T::from_env(var, text)?, Definition::Env(var)));
    }
    Ok(file.and_then(|val| value(val, key)))
}

/// A field's flag, as [`Definition::Flag`] names it.
fn flag(field: &Field) -> &'static str {
    field.flag.unwrap_or(field.name)
}

/// A field's environment variable (one that has none reads an empty name,
/// which is never set).
fn var(field: &Field) -> &'static str {
    field.var.unwrap_or_default()
}

/// The selected profile of a read file.
struct Loaded {
    profile: Profile,
    /// Whether group or others may read the file: inline secrets are refused.
    shared: bool,
}

/// Resolves every setting from `flags`, `env` and the file read from `path`.
pub(super) fn settings(
    flags: &Flags,
    env: Env,
    path: PathBuf,
    read: Option<Read>,
) -> Result<Settings> {
    resolver(flags, env, path, read)?.resolve()
}

/// Only the Console URL and the organization (if any), for `console-url`:
/// nothing else need be configured.
pub(super) fn console(
    flags: &Flags,
    env: Env,
    path: PathBuf,
    read: Option<Read>,
) -> Result<(Url, Option<String>)> {
    let mut resolver = resolver(flags, env, path, read)?;
    let org = resolver.org()?;
    Ok((resolver.host()?, org))
}

/// Selects the profile (a named one must exist) and readies the resolver.
fn resolver<'a>(
    flags: &'a Flags,
    env: Env<'a>,
    path: PathBuf,
    read: Option<Read>,
) -> Result<Resolver<'a>> {
    let default_profile = read.as_ref().and_then(|r| r.file.default_profile.clone());
    let chosen = pick(
        env,
        (flag(&PROFILE), flags.profile.clone()),
        var(&PROFILE),
        (Definition::FileKey("default_profile"), default_profile),
    )?;
    let Value {
        val: name,
        definition,
    } = chosen.unwrap_or_else(|| Value {
        val: "default".into(),
        definition: Definition::Default,
    });
    // Chosen by name, a profile means that profile: botocore's rule.
    let explicit = matches!(definition, Definition::Flag(_) | Definition::Env(_));
    if explicit {
        ignored_variables(env, &name, &definition);
    }
    let file_exists = read.is_some();
    let loaded = select(read, &name, &definition, &path)?;
    Ok(Resolver {
        env,
        explicit,
        cli: None,
        flags,
        place: profile_place(&name, &path).into(),
        origins: vec![(PROFILE.name, definition.to_string())],
        file_without_profile: (file_exists && loaded.is_none()).then(|| path.clone()),
        file: loaded.is_some().then_some(path),
        profile_name: name,
        loaded,
    })
}

/// The profile `name` of the file `read` from `path`: a profile chosen by
/// name (not [`Definition::Default`]) must exist.
fn select(
    read: Option<Read>,
    name: &str,
    definition: &Definition,
    path: &Path,
) -> Result<Option<Loaded>> {
    let Some(Read { mut file, shared }) = read else {
        if matches!(definition, Definition::Flag(_) | Definition::Env(_)) {
            return Err(Error::Config(format!(
                "no profile \"{name}\" (from {definition}): there is no config file {}",
                display_path(path)
            )));
        }
        return Ok(None);
    };
    match file.profiles.remove(name) {
        Some(profile) => Ok(Some(Loaded { profile, shared })),
        None if *definition == Definition::Default => Ok(None),
        None => {
            let known: Vec<_> = file.profiles.keys().map(String::as_str).collect();
            let known = if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            };
            Err(Error::Config(format!(
                "no profile \"{name}\" (from {definition}) in {}; its profiles: {known}",
                display_path(path)
            )))
        }
    }
}

/// Says (with `-v`) which Console variables a profile chosen by name
/// ignores: the surprise issue 11 reported was exactly these.
fn ignored_variables(env: Env, profile: &str, chosen_by: &Definition) {
    for var in [ENV_ORG_ID, ENV_API_KEY_ID, ENV_API_KEY, ENV_HOST] {
        if env(var).is_some() {
            crate::debug!(
                "{var} is set but not used: profile \"{profile}\" was chosen by {chosen_by}"
            );
        }
    }
}

/// The environment as the resolver sees it: with a profile chosen by name,
/// the Console variables (`SNOWPLOW_CONSOLE_*`) count as unset.
fn masked(env: Env, explicit: bool, var: &str) -> Option<String> {
    if explicit && var.starts_with("SNOWPLOW_CONSOLE_") {
        return None;
    }
    env(var)
}

/// A string key of the profile, empty counting as unset.
fn non_empty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.is_empty())
}

struct Resolver<'a> {
    env: Env<'a>,
    /// The profile was chosen by name (`--profile` or the variable): the
    /// Console variables and snowplow-cli's files do not apply.
    explicit: bool,
    /// snowplow-cli's files, once read (only when no profile of ours is used
    /// and the flags and environment leave an identity setting unset).
    cli: Option<Vec<CliFile>>,
    flags: &'a Flags,
    profile_name: String,
    /// The file, if the selected profile was read from it.
    file: Option<PathBuf>,
    /// The file, if it exists but the profile is not in it.
    file_without_profile: Option<PathBuf>,
    loaded: Option<Loaded>,
    origins: Vec<(&'static str, String)>,
    /// `profile "x" of FILE`, which most origins and messages name: made
    /// once, as the hit path records an origin for every setting.
    place: Rc<str>,
}

impl Resolver<'_> {
    fn profile(&self) -> Option<&Profile> {
        self.loaded.as_ref().map(|l| &l.profile)
    }

    /// [`pick`] for the setting `field` given the flag's value `flag`, its
    /// profile key read by `key`, recording where the value came from.
    fn setting<T: FromEnv>(
        &mut self,
        field: &'static Field,
        flag: Option<T>,
        key: fn(&Profile) -> Option<T>,
    ) -> Result<Option<T>> {
        let from_profile = field.key.then(|| self.profile().and_then(key)).flatten();
        let key = Definition::Key(field.name, self.place.clone());
        let (env, explicit) = (self.env, self.explicit);
        let env = move |var: &str| (!var.is_empty()).then(|| masked(env, explicit, var))?;
        let flag = (self::flag(field), flag);
        let picked = pick(&env, flag, var(field), (key, from_profile))?;
        Ok(picked.map(|Value { val, definition }| {
            self.origins.push((field.name, definition.to_string()));
            val
        }))
    }

    /// A duration setting checked by the field's one rule
    /// ([`Field::seconds`]), the error naming where it was set.
    fn seconds(&self, field: &Field, secs: Option<u64>) -> Result<Option<u64>> {
        let checked = secs.map(|secs| field.seconds(secs)).transpose();
        checked.map_err(|why| Error::Config(format!("{} {why}", self.origin(field.name))))
    }

    /// `value`, or `default` recorded as such.
    fn or_default<T>(&mut self, name: &'static str, value: Option<T>, default: T) -> T {
        value.unwrap_or_else(|| {
            self.origins.push((name, Definition::Default.to_string()));
            default
        })
    }

    fn resolve(mut self) -> Result<Settings> {
        let flags = self.flags;
        let org = self.org()?;
        let org = (org.map(|v| ids::org_id(&v, &self.origin("org_id")))).transpose()?;
        let key_id = flags.api_key_id.clone();
        let key_id = self.console_setting(&API_KEY_ID, "api-key-id", key_id, |p| {
            non_empty(&p.api_key_id)
        })?;
        let key_id = key_id
            .map(|v| ids::name("API key ID", &v, &self.origin("api_key_id")))
            .transpose()?;
        let host = self.host()?;
        let min_ttl = self.setting(&MIN_TTL, flags.min_ttl, |p| p.min_ttl)?;
        let min_ttl = self.seconds(&MIN_TTL, min_ttl)?;
        let min_ttl = self.or_default(MIN_TTL.name, min_ttl, DEFAULT_MIN_TTL);
        let timeout = self.setting(&TIMEOUT, flags.timeout, |p| p.timeout)?;
        let timeout = self.seconds(&TIMEOUT, timeout)?;
        let timeout = self.or_default(TIMEOUT.name, timeout, DEFAULT_TIMEOUT);
        let command_timeout = self.setting(&COMMAND_TIMEOUT, None, |p| p.command_timeout)?;
        let command_timeout = self.seconds(&COMMAND_TIMEOUT, command_timeout)?;
        let hosts = self.hosts()?;
        let source = self.source(org, key_id, &host)?;
        let cache_dir = cache_dir_in(self.env, matches!(source, Source::Exchange(_)))?;
        Ok(Settings {
            profile: self.profile_name,
            file: self.file,
            file_without_profile: self.file_without_profile,
            host,
            source,
            min_ttl,
            timeout,
            command_timeout: command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            hosts,
            cache_dir,
            origins: self.origins,
        })
    }

    /// The organization ID: flag, variable, profile or snowplow-cli's files.
    fn org(&mut self) -> Result<Option<String>> {
        let org = self.flags.org_id.clone();
        self.console_setting(&ORG_ID, "org-id", org, |p| non_empty(&p.org_id))
    }

    /// The Console URL: flag, variable, profile or snowplow-cli's files, else
    /// the production Console.
    fn host(&mut self) -> Result<Url> {
        let host = self.flags.host.clone();
        let host = self.console_setting(&HOST, "host", host, |p| non_empty(&p.host))?;
        let host = self.or_default(HOST.name, host, DEFAULT_HOST.into());
        Url::parse(&host, "https").map_err(|e| {
            Error::Config(format!(
                "bad Console host from {}: {e}",
                self.origin("host")
            ))
        })
    }

    /// Where the setting `name` came from, as recorded.
    fn origin(&self, name: &str) -> String {
        let found = self.origins.iter().rev().find(|(n, _)| *n == name);
        found.map_or_else(|| "default".into(), |(_, o)| o.clone())
    }

    /// Whether snowplow-cli's files are a source: only when no profile of
    /// ours is used, and none was asked for by name.
    fn uses_cli_files(&self) -> bool {
        !self.explicit && self.loaded.is_none()
    }

    /// A Console setting ([`Self::setting`]), falling back on snowplow-cli's
    /// files (`cli_key` in them), which are read only if it comes to that.
    fn console_setting(
        &mut self,
        field: &'static Field,
        cli_key: &'static str,
        flag: Option<String>,
        key: fn(&Profile) -> Option<String>,
    ) -> Result<Option<String>> {
        if let Some(value) = self.setting(field, flag, key)? {
            return Ok(Some(value));
        }
        if !self.uses_cli_files() {
            return Ok(None);
        }
        let found = self.cli_files()?.iter().find_map(|f| {
            let value = f.get(cli_key)?.to_string();
            Some((value, f.place(cli_key)))
        });
        Ok(found.map(|(value, place)| {
            self.origins.push((field.name, place));
            value
        }))
    }

    /// snowplow-cli's `.env` and `snowplow.yml`, read once.
    fn cli_files(&mut self) -> Result<&[CliFile]> {
        if self.cli.is_none() {
            self.cli = Some(snowplow_cli::load(&dirs(self.env))?);
        }
        Ok(self.cli.as_deref().unwrap_or_default())
    }

    fn hosts(&self) -> Result<Vec<Origin>> {
        let hosts = self.profile().and_then(|p| p.hosts.as_deref());
        (hosts.unwrap_or_default().iter())
            .map(|h| {
                // A host handed the token obeys the same transport rule as
                // the Console: https, or plain http to this machine only;
                // Url::parse refuses a query or fragment, as for the host.
                // A token is handed out per host, never per path, so a path
                // would only look like a limit that is not kept.
                Url::parse(h, "https")
                    .and_then(|u| match u.path.is_empty() {
                        true => Ok(u.origin),
                        false => Err(format!(
                            "`{u}` has a path: hosts are matched by scheme, host and port \
                             only, so give those alone (`{}`)",
                            u.origin
                        )),
                    })
                    .and_then(|o| o.check_transport().map(|()| o))
                    .map_err(|e| {
                        Error::Config(format!("bad entry in hosts of {}: {e}", self.place))
                    })
            })
            .collect()
    }

    fn source(
        &mut self,
        org: Option<String>,
        key_id: Option<String>,
        host: &Url,
    ) -> Result<Source> {
        if let Some(path) = self.token_file()? {
            return Ok(Source::File { path, org });
        }
        if self.profile().and_then(|p| p.auth).unwrap_or_default() == AuthKind::Password {
            return self.password_auth(org).map(Source::Exchange);
        }
        let Some(org) = org else {
            return Err(self.no_org());
        };
        let key = self.secret(&API_KEY)?;
        let key = self.keychain(key, host, &org, key_id.as_deref())?;
        Ok(Source::Exchange(match key_id {
            Some(key_id) => Credentials::V3 { org, key_id, key },
            None => Credentials::V2 { org, key },
        }))
    }

    /// `token_file`, which replaces the key source. From a flag or the
    /// environment it beats the profile's key source, as
    /// SNOWPLOW_CONSOLE_API_KEY does; beside a key source in the same
    /// profile it is an error, since only one of them can be meant.
    fn token_file(&mut self) -> Result<Option<PathBuf>> {
        let flag = (flag(&TOKEN_FILE), self.flags.token_file.clone());
        let from_profile = self.profile().and_then(|p| p.token_file.clone());
        let key = Definition::Key(TOKEN_FILE.name, self.place.clone());
        let Some(Value { val, definition }) =
            pick(self.env, flag, var(&TOKEN_FILE), (key, from_profile))?
        else {
            return Ok(None);
        };
        if let (Definition::Key(..), Some(p)) = (&definition, self.profile()) {
            let sources = [
                (p.auth.is_some(), "auth"),
                (p.api_key_command.is_some(), "api_key_command"),
                (p.api_key_env.is_some(), "api_key_env"),
                (p.api_key.is_some(), "api_key"),
                (p.api_key_source.is_some(), "api_key_source"),
            ];
            if let Some((_, key)) = sources.iter().find(|(set, _)| *set) {
                return Err(Error::Config(format!(
                    "{} sets both token_file and {key}: token_file replaces the key source, \
                     so keep one",
                    self.place
                )));
            }
        }
        let path = match definition {
            Definition::Key(..) => self.in_profile(val),
            _ => val,
        };
        self.origins.push(("token_file", definition.to_string()));
        Ok(Some(path))
    }

    /// A path written in the config file, as kubeconfig paths are read:
    /// `~/` is the home directory, and a relative path is relative to the
    /// file's own directory (a helper runs in whatever directory git or
    /// kubectl runs in).
    fn in_profile(&self, path: PathBuf) -> PathBuf {
        if let Ok(rest) = path.strip_prefix("~")
            && let Some(home) = (self.env)("HOME")
        {
            return PathBuf::from(home).join(rest);
        }
        match self.file.as_deref().and_then(|f| f.parent()) {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        }
    }

    fn password_auth(&mut self, org: Option<String>) -> Result<Credentials> {
        let place = self.place.clone();
        let Some(p) = self.profile() else {
            return Err(Error::Config(format!("auth = \"password\" needs {place}")));
        };
        let need = |v: &Option<String>, key: &str| {
            non_empty(v).ok_or_else(|| {
                Error::Config(format!(
                    "no {key}: set {key} in {place} (auth = \"password\")"
                ))
            })
        };
        let client_id = need(&p.client_id, "client_id")?;
        let client_id = ids::name("client ID", &client_id, &format!("client_id in {place}"))?;
        let username = need(&p.username, "username")?;
        let username = ids::name("user name", &username, &format!("username in {place}"))?;
        let auth_url = p.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL);
        let auth_url = Url::parse(auth_url, "https")
            .map_err(|e| Error::Config(format!("bad auth_url in {place}: {e}")))?;
        let audience = p.audience.clone();
        Ok(Credentials::Password {
            org,
            auth_url,
            audience: audience.unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
            client_id,
            username,
            client_secret: self.secret(&CLIENT_SECRET)?,
            password: self.secret(&PASSWORD)?,
        })
    }

    /// No organization ID: where it could have been set, for this profile.
    fn no_org(&self) -> Error {
        let place = &self.place;
        Error::Config(if self.explicit {
            format!(
                "no organization ID: set org_id in {place}, or pass --org-id \
                 ({ENV_ORG_ID} does not apply to a profile chosen by name)"
            )
        } else if self.uses_cli_files() {
            format!(
                "no organization ID: set {ENV_ORG_ID}, run `snowplow-cli setup` (org-id in \
                 ~/.config/snowplow/snowplow.yml), or set org_id in {place}"
            )
        } else {
            format!("no organization ID: set {ENV_ORG_ID} or org_id in {place}")
        })
    }
}
