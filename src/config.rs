//! Where each setting comes from: flags, then the environment, then the
//! selected profile of the TOML config file, then defaults, field by field.
//!
//! The environment variable names are snowplow-cli's own, so a shell already
//! set up for the vendor's CLI works unchanged. Loading reads no secret: the
//! API key, client secret and password are only *located* here (as a
//! [`SecretSource`]) and read on a cache miss, so a cache hit never runs
//! `api_key_command`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::files::ConfigFileError;
use crate::ids;
use crate::secret::Secret;
use crate::url::{Origin, Url};

pub const ENV_ORG_ID: &str = "SNOWPLOW_CONSOLE_ORG_ID";
pub const ENV_API_KEY_ID: &str = "SNOWPLOW_CONSOLE_API_KEY_ID";
pub const ENV_API_KEY: &str = "SNOWPLOW_CONSOLE_API_KEY";
pub const ENV_HOST: &str = "SNOWPLOW_CONSOLE_HOST";
pub const ENV_CONFIG: &str = "SNOWPLOW_CREDENTIALS_CONFIG";
pub const ENV_PROFILE: &str = "SNOWPLOW_CREDENTIALS_PROFILE";
pub const ENV_MIN_TTL: &str = "SNOWPLOW_CREDENTIALS_MIN_TTL";
pub const ENV_TIMEOUT: &str = "SNOWPLOW_CREDENTIALS_TIMEOUT";
pub const ENV_CACHE_DIR: &str = "SNOWPLOW_CREDENTIALS_CACHE_DIR";

pub const DEFAULT_HOST: &str = "https://console.snowplowanalytics.com";
pub const DEFAULT_AUTH_URL: &str = "https://id.snowplowanalytics.com/oauth/token";
pub const DEFAULT_AUDIENCE: &str = "https://snowplowanalytics.com/api/";
/// Serve a cached token while more than this many seconds remain.
pub const DEFAULT_MIN_TTL: u64 = 900;
/// Connect and read timeout for one HTTP request, in seconds.
pub const DEFAULT_TIMEOUT: u64 = 10;
/// How long an `api_key_command` (a password manager, say) may take.
pub const DEFAULT_COMMAND_TIMEOUT: u64 = 60;

/// Values given on the command line. There is deliberately no flag for a
/// secret: argv is visible to every user of the machine.
#[derive(Debug, Default)]
pub struct Flags {
    pub org_id: Option<String>,
    pub api_key_id: Option<String>,
    pub host: Option<String>,
    pub profile: Option<String>,
    pub config: Option<PathBuf>,
    pub min_ttl: Option<u64>,
    pub timeout: Option<u64>,
}

/// Where a secret is read from, on a cache miss only.
#[derive(Debug)]
pub enum SecretSource {
    /// An environment variable's value.
    Env(String),
    /// An argv run without a shell; its trimmed stdout.
    Command(Vec<String>),
    /// Written in the (private) config file.
    Inline(Secret<String>),
}

#[derive(Debug)]
pub enum Auth {
    /// The Credentials API: v3 with a key ID, the deprecated v2 without.
    ApiKey {
        key_id: Option<String>,
        key: SecretSource,
    },
    /// The legacy OAuth password grant for bot users.
    Password {
        auth_url: Url,
        audience: String,
        client_id: String,
        username: String,
        client_secret: SecretSource,
        password: SecretSource,
    },
}

/// Everything resolved, ready for the cache and the exchange.
#[derive(Debug)]
pub struct Settings {
    pub profile: String,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    pub host: Url,
    pub org_id: Option<String>,
    pub auth: Auth,
    pub min_ttl: u64,
    pub timeout: u64,
    pub command_timeout: u64,
    /// Hosts besides the Console host that may be given the token.
    pub hosts: Vec<Origin>,
    pub cache_dir: PathBuf,
    /// For `-v`: each setting and where its value came from.
    pub origins: Vec<(&'static str, String)>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum AuthKind {
    #[default]
    ApiKey,
    Password,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Profile {
    org_id: Option<String>,
    api_key_id: Option<String>,
    host: Option<String>,
    hosts: Option<Vec<String>>,
    min_ttl: Option<u64>,
    timeout: Option<u64>,
    command_timeout: Option<u64>,
    auth: Option<AuthKind>,
    api_key_command: Option<Vec<String>>,
    api_key_env: Option<String>,
    api_key: Option<Secret<String>>,
    auth_url: Option<String>,
    audience: Option<String>,
    client_id: Option<String>,
    client_secret_command: Option<Vec<String>>,
    client_secret_env: Option<String>,
    client_secret: Option<Secret<String>>,
    username: Option<String>,
    password_command: Option<Vec<String>>,
    password_env: Option<String>,
    password: Option<Secret<String>>,
}

/// An environment variable, with empty values counting as unset (as in
/// snowplow-cli). A value that is not UTF-8 counts as unset too, with a
/// warning, so that a message saying "set X" is not left unexplained.
pub fn env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value).filter(|v| !v.is_empty()),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            crate::warn!("{name} is not UTF-8 text, so it is ignored");
            None
        }
    }
}

/// `path` with the home directory written as `~`, for messages.
pub fn display_path(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// The loaded file and how to name it in messages.
struct Loaded {
    path: PathBuf,
    profile: Profile,
    /// Whether group or others may read the file: inline secrets are refused.
    shared: bool,
}

impl Auth {
    fn sources(&self) -> Vec<&SecretSource> {
        match self {
            Auth::ApiKey { key, .. } => vec![key],
            Auth::Password {
                client_secret,
                password,
                ..
            } => vec![client_secret, password],
        }
    }

    /// How many of its secrets come from a command, each bounded by
    /// `command_timeout`.
    pub fn commands(&self) -> u32 {
        let commands = self
            .sources()
            .into_iter()
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
}

impl Settings {
    pub fn load(flags: &Flags) -> Result<Settings> {
        let (path, explicit) = config_path(flags)?;
        let file = read_file(&path, explicit)?;
        Settings::resolve(flags, path, file)
    }

    /// The settings [`Settings::load`] would give had it read `text` from
    /// the private file `path`, with the same flags and environment: the
    /// config loader without the file system, for the fuzzer.
    pub fn from_toml(flags: &Flags, path: &Path, text: &str) -> Result<Settings> {
        let parsed = parse_file(path, text)?;
        Settings::resolve(flags, path.to_path_buf(), Some((parsed, false)))
    }

    /// Selects the profile of the parsed file (with whether others may read
    /// it) and resolves every setting.
    fn resolve(flags: &Flags, path: PathBuf, file: Option<(File, bool)>) -> Result<Settings> {
        let (profile_name, profile_origin) = select_profile(flags, file.as_ref().map(|f| &f.0));
        let loaded = match file {
            Some((mut parsed, shared)) => match parsed.profiles.remove(&profile_name) {
                Some(profile) => Some(Loaded {
                    path: path.clone(),
                    profile,
                    shared,
                }),
                None if profile_origin == "default" => None,
                None => {
                    let known: Vec<_> = parsed.profiles.keys().map(String::as_str).collect();
                    return Err(Error::Config(format!(
                        "no profile \"{profile_name}\" (from {profile_origin}) in {}; its profiles: {}",
                        display_path(&path),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            },
            None => None,
        };
        Resolver {
            flags,
            place: profile_place(&profile_name, &path),
            profile_name,
            loaded,
            origins: vec![("profile", profile_origin)],
        }
        .resolve()
    }

    /// Names this token's owner: host, organization, auth kind and the
    /// non-secret key ID or client ID and user. Two settings with the same
    /// identity may share a cached token; no two different ones do.
    pub fn identity(&self) -> String {
        let org = self.org_id.as_deref().unwrap_or("");
        let host = self.host.to_string();
        match &self.auth {
            Auth::ApiKey {
                key_id: Some(id), ..
            } => crate::cache::identity(&["v3", &host, org, id]),
            Auth::ApiKey { key_id: None, .. } => crate::cache::identity(&["v2", &host, org]),
            Auth::Password {
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

    /// The user name the git and Docker protocols report beside the token.
    pub fn username(&self) -> &str {
        match &self.auth {
            Auth::ApiKey {
                key_id: Some(id), ..
            } => id,
            _ => "snowplow",
        }
    }

    /// The one rule for which hosts get a token: the Console host or an entry
    /// of the profile's `hosts`, by scheme, case-insensitive host and
    /// effective port.
    pub fn serves(&self, asked: &Origin) -> bool {
        self.host.origin.same_as(asked) || self.hosts.iter().any(|h| h.same_as(asked))
    }

    /// Every host this profile serves, the Console host first.
    pub fn served_hosts(&self) -> impl Iterator<Item = &Origin> {
        std::iter::once(&self.host.origin).chain(&self.hosts)
    }

    /// Where each setting came from, one line each, for `-v`.
    pub fn describe_origins(&self) -> String {
        let mut out = String::new();
        for (name, origin) in &self.origins {
            let _ = match *name {
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
            self.file.as_deref().unwrap_or(&default_config_path()),
        )
    }
}

/// `$SNOWPLOW_CREDENTIALS_CACHE_DIR`, else `<user cache dir>/snowplow/credentials`.
pub fn cache_dir() -> Result<PathBuf> {
    match env(ENV_CACHE_DIR) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => directories::BaseDirs::new()
            .map(|d| d.cache_dir().join("snowplow").join("credentials"))
            .ok_or_else(|| {
                Error::Config(format!(
                    "no home directory to keep the cache in: set HOME or {ENV_CACHE_DIR}"
                ))
            }),
    }
}

fn default_config_path() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.config_dir().join("snowplow").join("credentials.toml"))
        .unwrap_or_else(|| PathBuf::from("~/.config/snowplow/credentials.toml"))
}

fn profile_place(profile: &str, path: &Path) -> String {
    format!("profile \"{profile}\" of {}", display_path(path))
}

/// The config file's path, and whether the user named it explicitly (then it
/// must exist).
fn config_path(flags: &Flags) -> Result<(PathBuf, Option<&'static str>)> {
    if let Some(path) = &flags.config {
        return Ok((path.clone(), Some("--config")));
    }
    if let Some(path) = env(ENV_CONFIG) {
        return Ok((PathBuf::from(path), Some(ENV_CONFIG)));
    }
    Ok((default_config_path(), None))
}

fn read_file(path: &Path, explicit: Option<&str>) -> Result<Option<(File, bool)>> {
    let from = || explicit.map(|e| format!(" (from {e})")).unwrap_or_default();
    let shown = display_path(path);
    let (text, shared) = match crate::files::read_config(path) {
        Ok(Some(read)) => read,
        Ok(None) if explicit.is_none() => return Ok(None),
        Ok(None) => {
            return Err(Error::Config(format!(
                "cannot read config file {shown}{}: No such file or directory (os error 2)",
                from()
            )));
        }
        Err(ConfigFileError::Io(e)) => {
            return Err(Error::Config(format!(
                "cannot read config file {shown}{}: {e}",
                from()
            )));
        }
        Err(ConfigFileError::Writable { path: at, mode }) => {
            let at = display_path(&at);
            let what = if at == shown {
                "it".to_string()
            } else {
                format!("its directory {at}")
            };
            return Err(Error::Config(format!(
                "refusing config file {shown}: {what} can be changed by others (mode {mode:o}), \
                 who could make it run their commands; run `chmod go-w {at}`"
            )));
        }
        Err(ConfigFileError::Owner { path: at, uid }) => {
            return Err(Error::Config(format!(
                "refusing config file {shown}: {} belongs to another user (uid {uid}); it must \
                 be yours or root's",
                display_path(&at)
            )));
        }
    };
    Ok(Some((parse_file(path, &text)?, shared)))
}

/// Parses config text read from `path`; errors say where, by line and
/// column.
fn parse_file(path: &Path, text: &str) -> Result<File> {
    toml::from_str(text).map_err(|e| {
        let place = match e.span() {
            Some(span) => {
                // Columns count characters, as editors do, not bytes.
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before[line_start..].chars().count() + 1;
                format!(", line {line}, column {column}")
            }
            None => String::new(),
        };
        Error::Config(format!(
            "config file {}{place}: {}",
            display_path(path),
            e.message().trim().replace('\n', " ")
        ))
    })
}

/// A duration setting, if it is at most a day: more is a mistake, and near
/// `u64::MAX` it would overflow every clock it is added to.
fn seconds_at_most_a_day(secs: u64, origin: &str) -> Result<u64> {
    if secs > crate::time::MAX_WAIT_SECS {
        return Err(Error::Config(format!(
            "{origin} is {secs} seconds: at most {} (a day) is allowed",
            crate::time::MAX_WAIT_SECS
        )));
    }
    Ok(secs)
}

fn select_profile(flags: &Flags, file: Option<&File>) -> (String, String) {
    if let Some(p) = &flags.profile {
        return (p.clone(), "--profile".into());
    }
    if let Some(p) = env(ENV_PROFILE) {
        return (p, ENV_PROFILE.into());
    }
    if let Some(p) = file.and_then(|f| f.default_profile.clone()) {
        return (p, "default_profile".into());
    }
    ("default".into(), "default".into())
}

/// A secret's `_command`, `_env` and inline keys, as read from a profile.
type SourceFields = (Option<Vec<String>>, Option<String>, Option<Secret<String>>);

struct Resolver<'a> {
    flags: &'a Flags,
    profile_name: String,
    loaded: Option<Loaded>,
    origins: Vec<(&'static str, String)>,
    /// `profile "x" of FILE`, which most origins and messages name: made
    /// once, as the hit path records an origin for every setting.
    place: String,
}

impl Resolver<'_> {
    fn profile(&self) -> Option<&Profile> {
        self.loaded.as_ref().map(|l| &l.profile)
    }

    fn place(&self) -> String {
        self.place.clone()
    }

    /// The first of flag, environment variable, profile key; records where it
    /// came from.
    fn pick(
        &mut self,
        name: &'static str,
        flag: Option<String>,
        (flag_name, env_name): (&str, &str),
        from_profile: Option<String>,
    ) -> Option<String> {
        let (value, origin) = if let Some(v) = flag {
            (v, flag_name.to_string())
        } else if let Some(v) = env(env_name) {
            (v, env_name.to_string())
        } else if let Some(v) = from_profile.filter(|v| !v.is_empty()) {
            (v, format!("{name} in {}", self.place))
        } else {
            return None;
        };
        self.origins.push((name, origin));
        Some(value)
    }

    /// Like [`Self::pick`] for whole seconds.
    fn pick_seconds(
        &mut self,
        name: &'static str,
        flag: Option<u64>,
        names: (&str, &str),
        from_profile: Option<u64>,
        default: u64,
    ) -> Result<u64> {
        let env_name = names.1;
        if flag.is_none()
            && let Some(v) = env(env_name)
            && v.parse::<u64>().is_err()
        {
            return Err(Error::Config(format!(
                "{env_name} must be a whole number of seconds, not `{v}`"
            )));
        }
        let picked = self.pick(
            name,
            flag.map(|v| v.to_string()),
            names,
            from_profile.map(|v| v.to_string()),
        );
        Ok(match picked {
            Some(v) => {
                let secs = v.parse().unwrap_or(default);
                seconds_at_most_a_day(secs, &self.origin_of(name))?
            }
            None => {
                self.origins.push((name, "default".into()));
                default
            }
        })
    }

    /// Where the setting `name` came from, as recorded by [`Self::pick`].
    fn origin_of(&self, name: &str) -> String {
        self.origins
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map_or_else(|| name.to_string(), |(_, origin)| origin.clone())
    }

    fn missing(&self, what: &str, env_name: &str, key: &str) -> Error {
        Error::Config(format!(
            "no {what}: set {env_name} or {key} in {}",
            self.place()
        ))
    }

    fn resolve(mut self) -> Result<Settings> {
        let flags = self.flags;
        let p = |f: fn(&Profile) -> Option<String>| self.profile().and_then(f);
        let (org, key_id, host) = (
            p(|p| p.org_id.clone()),
            p(|p| p.api_key_id.clone()),
            p(|p| p.host.clone()),
        );
        let org_id = self.pick(
            "org_id",
            flags.org_id.clone(),
            ("--org-id", ENV_ORG_ID),
            org,
        );
        let org_id = org_id
            .map(|v| ids::org_id(&v, &self.origin_of("org_id")))
            .transpose()?;
        let key_id = self.pick(
            "api_key_id",
            flags.api_key_id.clone(),
            ("--api-key-id", ENV_API_KEY_ID),
            key_id,
        );
        let key_id = key_id
            .map(|v| ids::name("API key ID", &v, &self.origin_of("api_key_id")))
            .transpose()?;
        let host = match self.pick("host", flags.host.clone(), ("--host", ENV_HOST), host) {
            Some(h) => h,
            None => {
                self.origins.push(("host", "default".into()));
                DEFAULT_HOST.to_string()
            }
        };
        let host = Url::parse(&host, "https").map_err(|e| {
            Error::Config(format!(
                "bad Console host from {}: {e}",
                self.origin_of("host")
            ))
        })?;

        let profile = self.profile();
        let (min_ttl, timeout, command_timeout) = (
            profile.and_then(|p| p.min_ttl),
            profile.and_then(|p| p.timeout),
            profile.and_then(|p| p.command_timeout),
        );
        let min_ttl = self.pick_seconds(
            "min_ttl",
            flags.min_ttl,
            ("--min-ttl", ENV_MIN_TTL),
            min_ttl,
            DEFAULT_MIN_TTL,
        )?;
        let timeout = self
            .pick_seconds(
                "timeout",
                flags.timeout,
                ("--timeout", ENV_TIMEOUT),
                timeout,
                DEFAULT_TIMEOUT,
            )?
            .max(1);
        let command_timeout = match command_timeout {
            Some(secs) => {
                seconds_at_most_a_day(secs, &format!("command_timeout in {}", self.place()))?
            }
            None => DEFAULT_COMMAND_TIMEOUT,
        }
        .max(1);

        let mut hosts = Vec::new();
        for h in self
            .profile()
            .and_then(|p| p.hosts.clone())
            .unwrap_or_default()
        {
            let origin = Origin::parse(&h, "https")
                .and_then(|o| o.check_transport().map(|()| o))
                .map_err(|e| {
                    Error::Config(format!("bad entry in hosts of {}: {e}", self.place()))
                })?;
            hosts.push(origin);
        }

        let kind = self.profile().and_then(|p| p.auth).unwrap_or_default();
        let auth = match kind {
            AuthKind::ApiKey => {
                if org_id.is_none() {
                    return Err(self.missing("organization ID", ENV_ORG_ID, "org_id"));
                }
                let key = match env(ENV_API_KEY) {
                    Some(_) => {
                        self.origins.push(("api_key", ENV_API_KEY.into()));
                        SecretSource::Env(ENV_API_KEY.into())
                    }
                    None => self
                        .secret_source("api_key", |p| {
                            (
                                p.api_key_command.clone(),
                                p.api_key_env.clone(),
                                p.api_key.clone(),
                            )
                        })?
                        .ok_or_else(|| {
                            Error::Config(format!(
                                "no API key: set {ENV_API_KEY} or one of api_key_command, \
                                 api_key_env, api_key in {}",
                                self.place()
                            ))
                        })?,
                };
                Auth::ApiKey { key_id, key }
            }
            AuthKind::Password => self.password_auth()?,
        };

        let cache_dir = cache_dir()?;

        Ok(Settings {
            profile: self.profile_name.clone(),
            file: self.loaded.as_ref().map(|l| l.path.clone()),
            host,
            org_id,
            auth,
            min_ttl,
            timeout,
            command_timeout,
            hosts,
            cache_dir,
            origins: self.origins,
        })
    }

    fn password_auth(&mut self) -> Result<Auth> {
        let place = self.place();
        let Some(p) = self.profile() else {
            return Err(Error::Config(format!("auth = \"password\" needs {place}")));
        };
        let need = |v: &Option<String>, key: &str| {
            v.clone().filter(|v| !v.is_empty()).ok_or_else(|| {
                Error::Config(format!(
                    "no {key}: set {key} in {place} (auth = \"password\")"
                ))
            })
        };
        let client_id = ids::name(
            "client ID",
            &need(&p.client_id, "client_id")?,
            &format!("client_id in {place}"),
        )?;
        let username = ids::name(
            "user name",
            &need(&p.username, "username")?,
            &format!("username in {place}"),
        )?;
        let auth_url = p
            .auth_url
            .clone()
            .unwrap_or_else(|| DEFAULT_AUTH_URL.into());
        let auth_url = Url::parse(&auth_url, "https")
            .map_err(|e| Error::Config(format!("bad auth_url in {place}: {e}")))?;
        let audience = p
            .audience
            .clone()
            .unwrap_or_else(|| DEFAULT_AUDIENCE.into());
        let client_secret = self
            .secret_source("client_secret", |p| {
                (
                    p.client_secret_command.clone(),
                    p.client_secret_env.clone(),
                    p.client_secret.clone(),
                )
            })?
            .ok_or_else(|| {
                Error::Config(format!(
                    "no client secret: set one of client_secret_command, client_secret_env, \
                     client_secret in {place}"
                ))
            })?;
        let password = self
            .secret_source("password", |p| {
                (
                    p.password_command.clone(),
                    p.password_env.clone(),
                    p.password.clone(),
                )
            })?
            .ok_or_else(|| {
                Error::Config(format!(
                    "no password: set one of password_command, password_env, password in {place}"
                ))
            })?;
        Ok(Auth::Password {
            auth_url,
            audience,
            client_id,
            username,
            client_secret,
            password,
        })
    }

    /// Exactly one of `<name>_command`, `<name>_env`, `<name>` from the
    /// profile; an inline secret only in a file no one else may read.
    fn secret_source(
        &mut self,
        name: &'static str,
        fields: fn(&Profile) -> SourceFields,
    ) -> Result<Option<SecretSource>> {
        let place = self.place();
        let Some(loaded) = &self.loaded else {
            return Ok(None);
        };
        let (command, env_name, inline) = fields(&loaded.profile);
        let set = [command.is_some(), env_name.is_some(), inline.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(Error::Config(format!(
                "{place} sets more than one of {name}_command, {name}_env, {name}: keep one"
            )));
        }
        let source = if let Some(argv) = command {
            if argv.first().is_none_or(|a| a.is_empty()) {
                return Err(Error::Config(format!(
                    "{name}_command in {place} is empty: give the program and its arguments, \
                     e.g. [\"pass\", \"show\", \"snowplow\"]"
                )));
            }
            SecretSource::Command(argv)
        } else if let Some(var) = env_name {
            SecretSource::Env(var)
        } else if let Some(secret) = inline {
            if loaded.shared {
                let path = display_path(&loaded.path);
                return Err(Error::Config(format!(
                    "refusing the inline {name} in {path}: others can read the file; \
                     run `chmod 600 {path}` or use {name}_command"
                )));
            }
            SecretSource::Inline(secret)
        } else {
            return Ok(None);
        };
        let origin = match &source {
            SecretSource::Command(argv) => format!("{name}_command `{}` in {place}", argv[0]),
            SecretSource::Env(var) => format!("{name}_env ${var} in {place}"),
            SecretSource::Inline(_) => format!("{name} in {place}"),
        };
        self.origins.push((name, origin));
        Ok(Some(source))
    }
}
