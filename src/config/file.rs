//! The config file: its TOML shape, and reading it together with whether
//! anyone else may read it (which decides whether inline secrets are
//! allowed). Errors name the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::fields::{self, Env, display_path};
use crate::error::{Error, Result};
use crate::files::{self, ConfigFileError};
use crate::secret::Secret;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "kebab-case")]
pub(super) enum AuthKind {
    #[default]
    ApiKey,
    Password,
}

/// Where the API key is kept when not in the profile: `api_key_source`.
#[derive(Deserialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "kebab-case")]
pub(super) enum KeySource {
    /// The OS keychain, under the profile's identity (see keychain/).
    Keychain,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct Profile {
    pub org_id: Option<String>,
    pub api_key_id: Option<String>,
    pub host: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub min_ttl: Option<u64>,
    pub timeout: Option<u64>,
    pub command_timeout: Option<u64>,
    pub auth: Option<AuthKind>,
    pub token_file: Option<PathBuf>,
    pub api_key_command: Option<Vec<String>>,
    pub api_key_env: Option<String>,
    pub api_key: Option<Secret<String>>,
    pub api_key_source: Option<KeySource>,
    pub auth_url: Option<String>,
    pub audience: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_command: Option<Vec<String>>,
    pub client_secret_env: Option<String>,
    pub client_secret: Option<Secret<String>>,
    pub username: Option<String>,
    pub password_command: Option<Vec<String>>,
    pub password_env: Option<String>,
    pub password: Option<Secret<String>>,
}

/// A parsed file, and whether group or others may read it.
pub(super) struct Read {
    pub file: File,
    pub shared: bool,
}

/// The directories settings files are looked up in, first match wins:
/// `$HOME/.config/snowplow` (on every OS, as snowplow-cli does; the home is
/// `%USERPROFILE%` on Windows, as Go's `os.UserHomeDir`), then the
/// OS config directory's `snowplow` (`$XDG_CONFIG_HOME` or `~/.config` on
/// Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows,
/// as Go's `os.UserConfigDir`). The one list for our own config file and
/// for snowplow-cli's files; `env` reads the environment.
pub fn dirs(env: Env) -> Vec<PathBuf> {
    // A relative HOME (HOME=.) would make the current directory's files
    // our config: ignored, as a relative XDG_CONFIG_HOME is.
    let home = env(if cfg!(windows) { "USERPROFILE" } else { "HOME" })
        .map(PathBuf::from)
        .filter(|h| h.is_absolute());
    let os = if cfg!(target_os = "macos") {
        home.as_ref().map(|h| h.join("Library/Application Support"))
    } else if cfg!(windows) {
        env("APPDATA").map(PathBuf::from)
    } else {
        let xdg = env("XDG_CONFIG_HOME").map(PathBuf::from);
        xdg.filter(|x| x.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")))
    };
    let mut dirs: Vec<PathBuf> = home.map(|h| h.join(".config")).into_iter().collect();
    dirs.extend(os);
    dirs.dedup();
    dirs.into_iter().map(|d| d.join("snowplow")).collect()
}

/// Where `credentials.toml` is looked for, in order (see [`dirs`]).
fn candidates() -> Vec<PathBuf> {
    let dirs = dirs(&fields::env);
    dirs.iter().map(|d| d.join("credentials.toml")).collect()
}

/// Where messages say to write `credentials.toml`: the first candidate.
pub(super) fn default_path() -> PathBuf {
    let first = candidates().into_iter().next();
    first.unwrap_or_else(|| PathBuf::from("~/.config/snowplow/credentials.toml"))
}

/// The first `credentials.toml` of the candidates that exists, read (with
/// its path), else the first candidate's path and nothing: each is only
/// opened, never checked beforehand, so a hit pays no extra system call.
pub(super) fn read_default() -> Result<(PathBuf, Option<Read>)> {
    for path in candidates() {
        if let Some(read) = read(&path, None)? {
            return Ok((path, Some(read)));
        }
    }
    Ok((default_path(), None))
}

/// Reads and parses `path`. A missing file is no error unless the user named
/// it (`explicit` says how: `--config` or the variable).
pub(super) fn read(path: &Path, explicit: Option<&str>) -> Result<Option<Read>> {
    // Made only for a message: a hit has none to give.
    let label = || {
        let from = explicit.map(|e| format!(" (from {e})")).unwrap_or_default();
        format!("config file {}{from}", display_path(path))
    };
    let Some((text, shared)) = read_checked(path, &label)? else {
        if explicit.is_none() {
            return Ok(None);
        }
        let missing = crate::sys::file_not_found();
        return Err(Error::Config(format!("cannot read {}: {missing}", label())));
    };
    let file = parse(path, &text)?;
    Ok(Some(Read { file, shared }))
}

/// A settings file's text, with whether others may read it, through the
/// one set of rules for files we take settings from ([`files::read_config`]:
/// regular, bounded, changeable only by its owner); `None` if it does not
/// exist. `label` names it in messages.
pub(super) fn read_checked(
    path: &Path,
    label: &dyn Fn() -> String,
) -> Result<Option<(String, bool)>> {
    match files::read_config(path) {
        Ok(read) => Ok(read),
        Err(ConfigFileError::Io(e)) => Err(Error::Config(format!("cannot read {}: {e}", label()))),
        Err(ConfigFileError::Writable { path: at, mode }) => {
            let what = match at == path {
                true => "it".to_string(),
                false => format!("its directory {}", display_path(&at)),
            };
            Err(Error::Config(format!(
                "refusing {}: {what} can be changed by others (mode {mode:o}), who could \
                 make us run their commands or send the key elsewhere; run `chmod go-w {}`",
                label(),
                display_path(&at)
            )))
        }
        Err(ConfigFileError::Owner { path: at, uid }) => Err(Error::Config(format!(
            "refusing {}: {} belongs to another user (uid {uid}); it must be yours or \
             root's",
            label(),
            display_path(&at)
        ))),
    }
}

/// Parses config text read from `path`; errors say where, by line and
/// column.
pub(super) fn parse(path: &Path, text: &str) -> Result<File> {
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

#[cfg(test)]
mod tests {
    use crate::config::file::*;

    #[track_caller]
    fn error(text: &str) -> String {
        match parse(Path::new("/etc/credentials.toml"), text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_the_line_and_the_column_in_characters() {
        assert_eq!(
            error("[profiles.default]\norg_idd = \"x\"\n"),
            "config file /etc/credentials.toml, line 2, column 1: unknown field `org_idd`, \
             expected one of `org_id`, `api_key_id`, `host`, `hosts`, `min_ttl`, `timeout`, \
             `command_timeout`, `auth`, `token_file`, `api_key_command`, `api_key_env`, \
             `api_key`, `api_key_source`, `auth_url`, `audience`, `client_id`, \
             `client_secret_command`, `client_secret_env`, `client_secret`, `username`, \
             `password_command`, `password_env`, `password`"
        );
        // "é" is two bytes but one column.
        let e = error("[profiles.default]\nusername = \"é\"  junk\n");
        assert!(e.contains(", line 2, column 17: "), "{e}");
        let e = error("# é\n[profiles.x]\nauth = \"oauth\"\n");
        assert!(
            e.starts_with("config file /etc/credentials.toml, line 3, column 8: "),
            "{e}"
        );
    }

    #[test]
    fn errors_are_one_line() {
        let e = error("[profiles.default\norg_id = 1\n");
        assert!(!e.contains('\n') && e.contains(", line 1, column "), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_error_only_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.toml");
        assert!(read(&path, None).unwrap().is_none());
        let Err(e) = read(&path, Some("--config")) else {
            panic!("a named missing file was accepted")
        };
        assert!(e.to_string().contains(" (from --config): "), "{e}");
    }

    // Unix only: it sets modes, which Windows does not have.
    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_marked_shared() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "default_profile = \"p\"\n").unwrap();
        for (mode, shared) in [(0o600, false), (0o640, true), (0o604, true)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let read = read(&path, None).unwrap().unwrap();
            assert_eq!(read.shared, shared, "mode {mode:o}");
            assert_eq!(read.file.default_profile.as_deref(), Some("p"));
        }
    }
}
