//! One definition per setting: its profile key, flag, environment
//! variable, placeholder, help line and value rule, in [`FIELDS`]. The flag
//! parser, the resolver, `--help`, completion and the man-page check all
//! read this table; the duration rule is applied here, once, whether a
//! value came from a flag, a variable or a profile key
//! ([`Field::seconds`]).
//!
//! It also holds the access to the environment ([`env`], [`Env`]) and the
//! way paths are shown, so the rest of config/ shares them without
//! importing each other: a leaf of config/.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;
use crate::time;

pub const ENV_ORG_ID: &str = "SNOWPLOW_CONSOLE_ORG_ID";
pub const ENV_API_KEY_ID: &str = "SNOWPLOW_CONSOLE_API_KEY_ID";
pub const ENV_API_KEY: &str = "SNOWPLOW_CONSOLE_API_KEY";
pub const ENV_HOST: &str = "SNOWPLOW_CONSOLE_HOST";
pub const ENV_CONFIG: &str = "SNOWPLOW_CREDENTIALS_CONFIG";
pub const ENV_PROFILE: &str = "SNOWPLOW_CREDENTIALS_PROFILE";
pub const ENV_MIN_TTL: &str = "SNOWPLOW_CREDENTIALS_MIN_TTL";
pub const ENV_TIMEOUT: &str = "SNOWPLOW_CREDENTIALS_TIMEOUT";
pub const ENV_CACHE_DIR: &str = "SNOWPLOW_CREDENTIALS_CACHE_DIR";
pub const ENV_TOKEN_FILE: &str = "SNOWPLOW_CREDENTIALS_TOKEN_FILE";
/// Seconds to wait for another process's refresh (default 30); never less
/// than that refresh may take, whatever it says.
pub const ENV_LOCK_WAIT: &str = "SNOWPLOW_CREDENTIALS_LOCK_WAIT";
/// Linux: which keychain store holds keys (`secret-service` or `keyutils`).
pub const ENV_KEYCHAIN: &str = crate::keychain::ENV_STORE;

pub const DEFAULT_HOST: &str = "https://console.snowplowanalytics.com";
/// Serve a cached token while more than this many seconds remain.
pub const DEFAULT_MIN_TTL: u64 = 900;
/// Connect and read timeout for one HTTP request, in seconds.
pub const DEFAULT_TIMEOUT: u64 = 10;
/// How long an `api_key_command` (a password manager, say) may take.
pub const DEFAULT_COMMAND_TIMEOUT: u64 = 60;

/// Reads an environment variable, empty counting as unset.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

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

/// `path` with the home directory written short (`~` on Unix,
/// `%USERPROFILE%` on Windows), for messages.
pub fn display_path(path: &Path) -> String {
    if let Some(home) = files::home()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        let sep = std::path::MAIN_SEPARATOR;
        return format!("{}{sep}{}", files::HOME_SHORT, rest.display());
    }
    path.display().to_string()
}

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
    pub token_file: Option<PathBuf>,
}

/// Where a flag's value goes in [`Flags`], which says its type.
pub enum Slot<'a> {
    Text(&'a mut Option<String>),
    Path(&'a mut Option<PathBuf>),
    Seconds(&'a mut Option<u64>),
}

/// One setting (or global option).
pub struct Field {
    /// Its name in `-v`, `status` and the profile (when `key`).
    pub name: &'static str,
    /// Whether a profile sets it, under [`Field::name`].
    pub key: bool,
    /// `--flag` (with its dashes, as messages name it), and its short form.
    pub flag: Option<&'static str>,
    pub short: Option<char>,
    pub var: Option<&'static str>,
    /// The value's placeholder in `--help` (none: a switch).
    pub placeholder: Option<&'static str>,
    /// `--help`'s text, `{var}` standing for the variable (later lines
    /// indented).
    pub help: &'static str,
    /// Where the flag's value goes (none: a switch the CLI keeps itself).
    pub slot: Option<fn(&mut Flags) -> Slot<'_>>,
    /// For a duration: the least number of seconds allowed.
    pub least: u64,
}

impl Field {
    /// `--help`'s text, with the variable's name.
    pub fn about(&self) -> String {
        self.help.replace("{var}", self.var.unwrap_or_default())
    }

    /// Whether its value is a path (completion offers files).
    pub fn takes_path(&self) -> bool {
        let mut flags = Flags::default();
        self.slot
            .is_some_and(|slot| matches!(slot(&mut flags), Slot::Path(_)))
    }

    /// The duration rule, once for flags, variables and profile keys: at
    /// least [`Field::least`], at most a day; else why not.
    pub fn seconds(&self, secs: u64) -> std::result::Result<u64, String> {
        time::seconds_rule(secs, self.least)
    }

    /// Stores the flag's `value` in `flags`, checked: text and paths must not
    /// be empty (`--org-id ''`, an unset shell variable, would otherwise fall
    /// back to the environment or the profile without a word), durations
    /// must be whole seconds within the rule.
    pub fn set(&self, flags: &mut Flags, value: OsString) -> Result<()> {
        let (Some(flag), Some(slot)) = (self.flag, self.slot) else {
            return Ok(());
        };
        let empty = || {
            Error::Usage(format!(
                "{flag} needs a value, and was given an empty one (an unset variable?)"
            ))
        };
        match slot(flags) {
            Slot::Seconds(to) => *to = Some(self.flag_seconds(flag, &value)?),
            _ if value.is_empty() => return Err(empty()),
            Slot::Path(to) => *to = Some(value.into()),
            Slot::Text(to) => {
                let text = value.into_string();
                *to = Some(text.map_err(lexopt::Error::NonUnicodeValue)?);
            }
        }
        Ok(())
    }

    /// A flag's whole seconds: out of range is a usage error like a value
    /// that is not a number.
    fn flag_seconds(&self, flag: &str, value: &OsString) -> Result<u64> {
        let text = value.to_string_lossy();
        let see = "(see snowplow-credentials --help)";
        let secs = text.parse().map_err(|_| {
            Error::Usage(format!(
                "{flag}: `{text}` is not a whole number of seconds {see}"
            ))
        })?;
        self.seconds(secs)
            .map_err(|why| Error::Usage(format!("{flag} {why} {see}")))
    }
}

/// A setting with a flag, a variable and a profile key.
const fn setting(
    name: &'static str,
    flag: &'static str,
    var: &'static str,
    placeholder: &'static str,
    help: &'static str,
    slot: fn(&mut Flags) -> Slot<'_>,
) -> Field {
    Field {
        name,
        key: true,
        flag: Some(flag),
        short: None,
        var: Some(var),
        placeholder: Some(placeholder),
        help,
        slot: Some(slot),
        least: 0,
    }
}

/// A switch the command line keeps itself.
const fn switch(
    name: &'static str,
    flag: &'static str,
    short: Option<char>,
    help: &'static str,
) -> Field {
    Field {
        name,
        key: false,
        flag: Some(flag),
        short,
        var: None,
        placeholder: None,
        help,
        slot: None,
        least: 0,
    }
}

pub const PROFILE: Field = Field {
    key: false,
    ..setting(
        "profile",
        "--profile",
        ENV_PROFILE,
        "NAME",
        "profile in the config file  [env: {var}]",
        |f| Slot::Text(&mut f.profile),
    )
};
pub const CONFIG: Field = Field {
    key: false,
    ..setting(
        "config",
        "--config",
        ENV_CONFIG,
        "FILE",
        "config file  [env: {var}]\n[default: ~/.config/snowplow/credentials.toml]",
        |f| Slot::Path(&mut f.config),
    )
};
pub const ORG_ID: Field = setting(
    "org_id",
    "--org-id",
    ENV_ORG_ID,
    "ID",
    "organization ID  [env: {var}]",
    |f| Slot::Text(&mut f.org_id),
);
pub const API_KEY_ID: Field = setting(
    "api_key_id",
    "--api-key-id",
    ENV_API_KEY_ID,
    "ID",
    "API key ID  [env: {var}]",
    |f| Slot::Text(&mut f.api_key_id),
);
pub const HOST: Field = setting(
    "host",
    "--host",
    ENV_HOST,
    "URL",
    "Console URL  [env: {var}]\n[default: https://console.snowplowanalytics.com]",
    |f| Slot::Text(&mut f.host),
);
pub const MIN_TTL: Field = setting(
    "min_ttl",
    "--min-ttl",
    ENV_MIN_TTL,
    "SECONDS",
    "refresh when less than this is left  [default: 900]\n[env: {var}]",
    |f| Slot::Seconds(&mut f.min_ttl),
);
pub const TIMEOUT: Field = Field {
    least: 1,
    ..setting(
        "timeout",
        "--timeout",
        ENV_TIMEOUT,
        "SECONDS",
        "HTTP connect and read timeout, at least 1  [default: 10]\n[env: {var}]",
        |f| Slot::Seconds(&mut f.timeout),
    )
};
pub const REFRESH: Field = switch(
    "refresh",
    "--refresh",
    None,
    "exchange a new token even if the cached one is fresh",
);
pub const TOKEN_FILE: Field = setting(
    "token_file",
    "--token-file",
    ENV_TOKEN_FILE,
    "FILE",
    "serve the token in FILE, minted elsewhere: no key, no exchange\n[env: {var}]",
    |f| Slot::Path(&mut f.token_file),
);
pub const VERBOSE: Field = switch(
    "verbose",
    "--verbose",
    Some('v'),
    "explain what happens, on stderr (secrets redacted)\n\
     [env: SNOWPLOW_CREDENTIALS_VERBOSE=1]",
);
pub const HELP: Field = switch("help", "--help", Some('h'), "print this help");
pub const VERSION: Field = switch(
    "version",
    "--version",
    Some('V'),
    "print the version, target and whether the build is static",
);
/// A profile's own key with no flag or variable: how long its
/// `api_key_command` may take.
pub const COMMAND_TIMEOUT: Field = Field {
    name: "command_timeout",
    key: true,
    flag: None,
    short: None,
    var: None,
    placeholder: None,
    help: "",
    slot: None,
    least: 1,
};

/// A profile's own key with no flag or variable: `"keychain"` reads the
/// API key from the OS keychain (see [`keychain_choice`] for which store).
pub const API_KEY_SOURCE: Field = Field {
    name: "api_key_source",
    key: true,
    flag: None,
    short: None,
    var: None,
    placeholder: None,
    help: "",
    slot: None,
    least: 0,
};

/// The keychain store keys are kept in: the one [`ENV_KEYCHAIN`] names,
/// else the system's default, found only when the keychain is used.
pub fn keychain_choice(env: Env) -> Result<crate::keychain::Choice> {
    let asked = env(ENV_KEYCHAIN);
    crate::keychain::Choice::from_setting(asked.as_deref())
}

/// Every global option, in `--help` order.
pub const FIELDS: &[&Field] = &[
    &PROFILE,
    &CONFIG,
    &ORG_ID,
    &API_KEY_ID,
    &HOST,
    &MIN_TTL,
    &TIMEOUT,
    &REFRESH,
    &TOKEN_FILE,
    &VERBOSE,
    &HELP,
    &VERSION,
];

/// The field of the flag `--name`.
pub fn by_flag(name: &str) -> Option<&'static Field> {
    let flag = |f: &Field| f.flag.and_then(|f| f.strip_prefix("--"));
    FIELDS.iter().copied().find(|f| flag(f) == Some(name))
}

#[cfg(test)]
mod tests {
    use crate::config::fields::*;

    #[test]
    fn one_duration_rule_for_every_source() {
        let mut flags = Flags::default();
        TIMEOUT.set(&mut flags, "5".into()).unwrap();
        assert_eq!(flags.timeout, Some(5));
        let zero = TIMEOUT.set(&mut flags, "0".into()).unwrap_err();
        assert_eq!(
            zero.to_string(),
            format!(
                "--timeout {} (see snowplow-credentials --help)",
                TIMEOUT.seconds(0).unwrap_err()
            )
        );
        assert!(MIN_TTL.seconds(0).is_ok());
        assert!(MIN_TTL.seconds(time::MAX_WAIT_SECS + 1).is_err());
        assert!(ORG_ID.set(&mut flags, "".into()).is_err());
    }

    #[test]
    fn the_help_shows_the_defaults_in_use() {
        for (field, default) in [
            (&HOST, DEFAULT_HOST.to_string()),
            (&MIN_TTL, DEFAULT_MIN_TTL.to_string()),
            (&TIMEOUT, DEFAULT_TIMEOUT.to_string()),
        ] {
            let shown = format!("[default: {default}]");
            assert!(field.about().contains(&shown), "{}", field.name);
        }
        assert!(
            TIMEOUT
                .about()
                .contains(&format!("at least {}", TIMEOUT.least))
        );
    }

    #[test]
    fn every_flag_has_a_placeholder_or_none_and_its_help() {
        for field in FIELDS {
            assert!(!field.about().is_empty(), "{}", field.name);
            assert_eq!(
                field.slot.is_some(),
                field.placeholder.is_some(),
                "{}",
                field.name
            );
            if let Some(var) = field.var {
                assert!(field.about().contains(var), "{}", field.name);
            }
        }
    }
}
