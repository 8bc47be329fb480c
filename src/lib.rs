//! snowplow-credentials hands tools short-lived Snowplow Console access
//! tokens (JWTs) through each tool's own credential-helper protocol, so that
//! no tool has to hold the Console API key.
//!
//! [`run`] is the whole program, callable in-process; `main.rs` only turns
//! its result into an exit code.

pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod exchange;
pub mod files;
pub mod ids;
pub mod jwt;
pub mod log;
pub mod protocol;
pub mod proxy;
pub mod relay;
pub mod secret;
pub mod secret_source;
pub mod time;
pub mod token;
pub mod url;

use std::ffi::OsString;
use std::io::Write;

use cli::Command;
use config::Settings;
use error::{Error, Result};
use protocol::{aws, bazel, docker, git, kubernetes, plain, terraform};
use token::Want;

/// Runs the program with `args` (argv, including argv[0]) and returns the
/// exit code: 0 success, 1 failure, 2 usage error. Output goes to stdout,
/// messages to stderr (Docker's protocol wants its errors on stdout).
pub fn run(args: Vec<OsString>) -> u8 {
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            log::say(format_args!("{e}"));
            return e.exit_code();
        }
    };
    log::set_verbose(cli.verbose);
    let errors_to_stdout = matches!(cli.command, Command::Docker(_));
    let result = execute(&cli).and_then(|(out, code)| {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write to standard output", e))?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) if errors_to_stdout => {
            // Nowhere else to say it if stdout fails too: exit 1 tells.
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                log::escape_controls(&e.to_string())
            );
            1
        }
        Err(e) => {
            log::say(format_args!("{e}"));
            e.exit_code()
        }
    }
}

/// What to print, and the exit code to give after printing it.
fn execute(cli: &cli::Cli) -> Result<(String, u8)> {
    let want = Want {
        refresh: cli.refresh,
        floor: 0,
    };
    let load = || {
        let settings = Settings::load(&cli.flags)?;
        debug!("{}", settings.describe_origins());
        Ok::<_, Error>(settings)
    };
    let out = match &cli.command {
        Command::Help => cli::HELP.to_string(),
        Command::Version => format!("snowplow-credentials {}\n", env!("CARGO_PKG_VERSION")),
        Command::InstallLinks(dir) => commands::install_links(dir.clone())?,
        Command::Clear { all: true } => commands::clear_all(&config::cache_dir()?)?,
        // Docker asks for the version without any configuration.
        Command::Docker(action) if action == "version" => docker::run_unconfigured(action)?,
        Command::Token => plain::token(&load()?, want)?,
        Command::Header => plain::header(&load()?, want)?,
        Command::Status => {
            let (out, fresh) = commands::status(&load()?);
            if !fresh {
                log::say(format_args!(
                    "no fresh token is cached: run `snowplow-credentials token` to get one"
                ));
            }
            return Ok((out, u8::from(!fresh)));
        }
        Command::Clear { all: false } => commands::clear(&load()?)?,
        Command::Aws => aws::run(&load()?, want)?,
        Command::Kubernetes => kubernetes::run(&load()?, want)?,
        Command::Git(action) => {
            let input = protocol::read_stdin("git", protocol::End::BlankLine)?;
            git::run(&load()?, want, action, &input)?
        }
        Command::Docker(action) => {
            let input = match action.as_str() {
                "list" => String::new(),
                "store" => protocol::read_stdin("docker", protocol::End::JsonObject)?,
                _ => protocol::read_stdin("docker", protocol::End::Line)?,
            };
            docker::run(&load()?, want, action, &input)?
        }
        Command::Terraform(action, host) => {
            if action == "store" {
                protocol::read_stdin("terraform", protocol::End::Eof)?;
            }
            terraform::run(&load()?, want, action, host)?
        }
        Command::Bazel(action) => {
            let input = protocol::read_stdin("the build tool", protocol::End::JsonObject)?;
            bazel::run(&load()?, want, action, &input)?
        }
    };
    Ok((out, 0))
}
