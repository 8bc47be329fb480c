//! `exec -- CMD ARGS…`: runs a tool that only takes a key (snowplow-cli, the
//! Terraform provider, Snowplow's SDKs) with the key in its environment
//! alone, so that no file has to hold it; `exec --token` hands it only a
//! token instead.
//!
//! On Unix this process *becomes* the command ([`crate::sys::become_or_run`]):
//! nothing remains to do afterwards, so its exit status, its signals and the
//! terminal are the command's own, as with `aws-vault exec`. Windows has no
//! exec: the command runs as a child, Ctrl-C is left to it, and its exit
//! code is returned whole (32 bits there), as with `cargo run`.

use std::ffi::OsString;
use std::process::Command;

use crate::config::fields::{ENV_API_KEY, ENV_API_KEY_ID, ENV_HOST, ENV_ORG_ID};
use crate::config::{Credentials, Settings};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token::{self, Want};

/// The organization ID under the name the Terraform provider reads.
pub const ENV_ORGANIZATION_ID: &str = "SNOWPLOW_CONSOLE_ORGANIZATION_ID";
/// The token `exec --token` hands the command.
pub const ENV_TOKEN: &str = "SNOWPLOW_CONSOLE_TOKEN";

/// What to run, and whether to give it a token rather than the key.
#[derive(Debug, PartialEq, Default)]
pub struct Options {
    pub token: bool,
    /// The command and its arguments, as given after `--`.
    pub argv: Vec<OsString>,
}

/// The variables the command gets: set ones, and ones to remove.
struct ChildEnv {
    set: Vec<(&'static str, Secret<String>)>,
    remove: Vec<String>,
}

/// Runs the command; on Unix returns only if it could not be started. On
/// Windows gives the command's exit code, all 32 bits of it.
pub fn run(settings: &Settings, options: &Options, refresh: bool) -> Result<u32> {
    let (program, args) = options
        .argv
        .split_first()
        .ok_or_else(|| Error::Usage(USAGE.into()))?;
    let env = if options.token {
        token_env(settings, refresh)?
    } else {
        key_env(settings)?
    };
    let mut command = Command::new(program);
    command.args(args).envs(crate::http::proxy_variables());
    for var in &env.remove {
        command.env_remove(var);
    }
    for (var, value) in &env.set {
        command.env(var, value.expose());
    }
    Ok(match crate::sys::become_or_run(&mut command) {
        Ok(code) => code,
        Err(e) => not_started(program, &e),
    })
}

/// What `exec` without a command says.
pub const USAGE: &str = "exec runs a command given after `--`: snowplow-credentials exec -- CMD \
                         ARGS… (or exec --token -- CMD ARGS…)";

/// The Console variables snowplow-cli and the Terraform provider read:
/// host, organization, key ID and the key itself, read from its source now.
fn key_env(settings: &Settings) -> Result<ChildEnv> {
    let credentials = settings.source.credentials();
    let (org, key_id, key) = match credentials {
        Some(Credentials::V3 { org, key_id, key }) => (org, Some(key_id), key),
        Some(Credentials::V2 { org, key }) => (org, None, key),
        _ => {
            return Err(Error::Config(format!(
                "exec hands a command an API key, and {} has none ({}): use exec --token",
                settings.profile_place(),
                settings.source.describe()
            )));
        }
    };
    let hidden = credentials
        .map(Credentials::secret_vars)
        .unwrap_or_default();
    let key = key.read(
        "API key",
        &settings.profile_place(),
        settings.command_timeout,
        &hidden,
    )?;
    let mut set = vec![
        (ENV_HOST, Secret::new(host(settings))),
        (ENV_ORG_ID, Secret::new(org.clone())),
        (ENV_ORGANIZATION_ID, Secret::new(org.clone())),
    ];
    let mut remove = vec![ENV_TOKEN.to_string()];
    match key_id {
        Some(id) => set.push((ENV_API_KEY_ID, Secret::new(id.clone()))),
        // A key ID inherited from our own environment would not match.
        None => remove.push(ENV_API_KEY_ID.into()),
    }
    set.push((ENV_API_KEY, key));
    Ok(ChildEnv { set, remove })
}

/// The token alone, with the host and organization it is for: every
/// variable that may carry a key is removed.
fn token_env(settings: &Settings, refresh: bool) -> Result<ChildEnv> {
    let served = token::get(
        settings,
        Want {
            refresh,
            ..Want::default()
        },
    )?;
    let mut set = vec![(ENV_HOST, Secret::new(host(settings)))];
    let secret_vars = (settings.source.credentials())
        .map(Credentials::secret_vars)
        .unwrap_or_else(|| vec![ENV_API_KEY]);
    let mut remove: Vec<String> = secret_vars.into_iter().map(String::from).collect();
    remove.push(ENV_API_KEY_ID.into());
    match settings.source.org() {
        Some(org) => {
            set.push((ENV_ORG_ID, Secret::new(org.to_string())));
            set.push((ENV_ORGANIZATION_ID, Secret::new(org.to_string())));
        }
        None => remove.extend([ENV_ORG_ID.into(), ENV_ORGANIZATION_ID.into()]),
    }
    set.push((ENV_TOKEN, served.token));
    Ok(ChildEnv { set, remove })
}

/// The Console URL as the tools take it: no trailing slash.
fn host(settings: &Settings) -> String {
    settings.host.to_string().trim_end_matches('/').to_string()
}

/// Says why the command could not start, as a shell does, and gives a
/// shell's exit code: 127 not found, 126 found but not runnable.
fn not_started(program: &OsString, e: &std::io::Error) -> u32 {
    let program = crate::log::escape_controls(&program.to_string_lossy());
    if e.kind() == std::io::ErrorKind::NotFound {
        crate::log::say(format_args!(
            "exec: `{program}` was not found: check the name and PATH"
        ));
        return 127;
    }
    crate::log::say(format_args!("exec: cannot run `{program}`: {e}"));
    126
}
