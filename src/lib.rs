//! snowplow-credentials hands tools short-lived Snowplow Console access
//! tokens (JWTs) through each tool's own credential-helper protocol, so that
//! no tool has to hold the Console API key.
//!
//! [`run`] is the whole program, callable in-process; `main.rs` only turns
//! its result into an exit code.

mod cache;
mod cli;
mod commands;
mod complete;
mod config;
mod error;
mod exchange;
mod exec;
mod files;
mod http;
mod ids;
mod jwt;
mod key_command;
mod key_commands;
mod keychain;
mod links;
mod log;
mod protocol;
mod secret;
mod secret_source;
mod signals;
mod sink;
mod status;
mod sys;
mod time;
mod token;
mod url;
mod usage;

/// What the fuzz targets (`fuzz/`) and the parser tests (`tests/cli/`)
/// reach inside the crate, and nothing else: the crate is a program, not a
/// library to build on.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::config::snowplow_cli::{parse_dotenv as dotenv, parse_yml as snowplow_yml};
    pub use crate::config::{Flags, Settings};
    pub use crate::jwt::claims as jwt_claims;
    #[cfg(target_os = "linux")]
    pub use crate::keychain::parse_dbus_message;
    pub use crate::protocol::bazel::parse as bazel_request;
    pub use crate::protocol::docker::Action as DockerAction;
    pub use crate::protocol::git::parse as git_request;
    pub use crate::protocol::kubernetes::api_version as kubernetes_api_version;
    pub use crate::protocol::{answer, read_input};
    pub use crate::secret::Secret;
    pub use crate::token::cache_for;
    pub use crate::token::file_contents as token_file_contents;
}

/// Keeps the key and tokens out of core files and other processes' reach
/// (see [`sys::no_core_dumps`]): for `main.rs`, a crate of its own, to call
/// first.
#[doc(hidden)]
pub fn no_core_dumps() {
    sys::no_core_dumps();
}

/// What std's own `main` would do before ours, and the arguments; and the
/// process's end after it: for `main.rs`'s C `main` (see `sys::start` and
/// `sys::finish`).
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub use sys::{finish, start};

use std::ffi::OsString;
use std::io::Write;

use cli::{Cli, Command};
use config::Settings;
use error::{Error, Result};

/// Runs the program with `args` (argv, including argv[0]) and returns the
/// exit code: 0 success, 1 failure, 2 usage error, or on Windows the code
/// of `exec`'s command, which takes 32 bits there. Output goes to stdout,
/// messages to stderr (unless the protocol answers errors on stdout).
/// Call it before starting any thread: it changes the environment.
pub fn run(args: Vec<OsString>) -> u32 {
    sys::keep_argv0(&args);
    http::take_proxy_variables();
    let result = cli::parse(args).and_then(|cli| {
        log::set_verbose(cli.verbose || log::verbose_from_environment()?);
        let (out, code) = execute(&cli)?;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write to standard output", e))?;
        Ok(code)
    });
    result.unwrap_or_else(|e| {
        log::say(format_args!("{e}"));
        e.exit_code().into()
    })
}

/// What to print, and the exit code to give after printing it. Messages
/// for people (what `clear` and `install-links` did) go to stderr.
fn execute(cli: &Cli) -> Result<(String, u32)> {
    let said = match &cli.command {
        Command::Serve(call) => {
            let (out, code) = call.serve(&|| load(cli), cli.refresh)?;
            return Ok((out, code.into()));
        }
        Command::Help(command) => return Ok((cli::help_text(*command), 0)),
        Command::Version => return Ok((usage::VERSION_LINE.to_string(), 0)),
        Command::Completions(shell) => return Ok((complete::script(*shell), 0)),
        Command::Complete(words) => return Ok((complete::candidates(words), 0)),
        Command::ConsoleUrl { path, json } => {
            let out = commands::console_url(&cli.flags, path.as_deref(), *json)?;
            return Ok((out, 0));
        }
        Command::Sink(options) => return Ok((sink::run(&load(cli)?, options)?, 0)),
        Command::Key(action) => {
            let (out, said) = key_commands::run(&load(cli)?, *action)?;
            for line in said.lines() {
                log::say(format_args!("{line}"));
            }
            return Ok((out, 0));
        }
        Command::Exec(options) => {
            return Ok((String::new(), exec::run(&load(cli)?, options, cli.refresh)?));
        }
        Command::Status { json } => {
            let settings = load(cli)?;
            let (out, fresh) = status::status(&settings, *json);
            if !fresh {
                log::say(format_args!("{}", status::unfresh_advice(&settings)));
            }
            // For people: a profile name or a path from outside must not
            // add lines or repaint the terminal (JSON escapes its own).
            return Ok((escape_lines(&out), u32::from(!fresh)));
        }
        Command::InstallLinks { dir, only, remove } => {
            links::install_links(dir.clone(), only, *remove)?;
            return Ok((String::new(), 0));
        }
        Command::Clear { all: true } => commands::clear_all(&config::cache_dir()?)?,
        Command::Clear { all: false } => commands::clear(&load(cli)?)?,
    };
    // One message, however many line breaks a path in it holds: say
    // escapes them.
    log::say(format_args!("{said}"));
    Ok((String::new(), 0))
}

/// `out` with control characters escaped line by line.
fn escape_lines(out: &str) -> String {
    out.lines()
        .map(|line| log::escape_controls(line) + "\n")
        .collect()
}

fn load(cli: &Cli) -> Result<Settings> {
    let settings = Settings::load(&cli.flags)?;
    debug!("{}", settings.describe_origins());
    Ok(settings)
}
