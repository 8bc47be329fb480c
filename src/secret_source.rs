//! Reading a secret where the configuration says it lives: an environment
//! variable, a command such as `pass show snowplow` or `op read …`, or the
//! private config file.
//!
//! This runs only on a cache miss. A command runs without a shell (its argv
//! as written), with no stdin, and for a bounded time; only its program name
//! ever appears in a message, in case later arguments name something private.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where a secret is read from, on a cache miss only.
#[derive(Debug)]
pub enum SecretSource {
    /// An environment variable's value.
    Env(String),
    /// An argv run without a shell; its trimmed stdout.
    Command(Vec<String>),
    /// Written in the (private) config file.
    Inline(Secret<String>),
    /// The API key of snowplow-cli's files in `dirs`, read only on a cache
    /// miss; `missing` says what to do if they have none.
    SnowplowCli { dirs: Vec<PathBuf>, missing: String },
    /// Configured nowhere: fine for a cache hit, and this message for an
    /// exchange.
    Missing(String),
}

impl SecretSource {
    /// The secret's value, trimmed. `what` names it in messages ("API key"),
    /// `place` says where it is configured.
    pub fn read(&self, what: &str, place: &str, timeout_secs: u64) -> Result<Secret<String>> {
        let value = match self {
            SecretSource::Inline(secret) => secret.expose().trim().to_string(),
            SecretSource::Env(var) => std::env::var(var)
                .map_err(|e| {
                    let why = match e {
                        std::env::VarError::NotPresent => "is not set",
                        std::env::VarError::NotUnicode(_) => "is not UTF-8 text",
                    };
                    Error::Config(format!("no {what}: ${var} {why} (named by {place})"))
                })?
                .trim()
                .to_string(),
            SecretSource::Command(argv) => run(argv, what, place, timeout_secs)?,
            SecretSource::SnowplowCli { dirs, missing } => {
                let files = crate::config::snowplow_cli::load(dirs)?;
                let key = files
                    .iter()
                    .find_map(|f| f.get(crate::config::snowplow_cli::SECRET));
                key.ok_or_else(|| Error::Config(missing.clone()))?
                    .trim()
                    .to_string()
            }
            SecretSource::Missing(message) => return Err(Error::Config(message.clone())),
        };
        if value.is_empty() {
            return Err(Error::Config(format!("the {what} from {place} is empty")));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(Error::Config(format!(
                "the {what} from {place} has more than one line: it must be the bare value"
            )));
        }
        Ok(Secret::new(value))
    }
}

fn run(argv: &[String], what: &str, place: &str, timeout_secs: u64) -> Result<String> {
    let program = &argv[0];
    let mut child = spawn(argv, what, place)?;
    let tree = crate::files::CommandTree::new(&child);
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        // A password manager prints a few bytes; cap it so a runaway command
        // cannot fill memory.
        let mut out = Vec::new();
        let read = (&mut stdout).take(64 * 1024).read_to_end(&mut out);
        let _ = done.send(read.map(|_| out));
    });
    let output = match finished.recv_timeout(Duration::from_secs(timeout_secs)) {
        Ok(read) => read,
        Err(_) => {
            tree.kill(&mut child);
            let _ = child.wait();
            return Err(Error::Config(format!(
                "the command `{program}` that gives the {what} ({place}) did not finish \
                 within {timeout_secs} s: check it runs on its own, or raise command_timeout"
            )));
        }
    };
    let status = child
        .wait()
        .map_err(|e| Error::io(format!("waiting for `{program}`"), e))?;
    if !status.success() {
        return Err(Error::Config(format!(
            "the command `{program}` that gives the {what} ({place}) failed ({status})"
        )));
    }
    let output = output.map_err(|e| Error::io(format!("reading from `{program}`"), e))?;
    let text = String::from_utf8(output).map_err(|_| {
        Error::Config(format!(
            "the command `{program}` that gives the {what} ({place}) printed something \
             that is not UTF-8"
        ))
    })?;
    if text.trim().is_empty() {
        return Err(Error::Config(format!(
            "the command `{program}` that gives the {what} ({place}) printed nothing"
        )));
    }
    Ok(text.trim().to_string())
}

/// Starts `argv` with stdout piped, and with the proxy variables the
/// program took from its own environment (see [`crate::proxy`]).
fn spawn(argv: &[String], what: &str, place: &str) -> Result<Child> {
    let program = &argv[0];
    Command::new(program)
        .args(&argv[1..])
        .envs(crate::proxy::taken())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "was not found".to_string()
            } else {
                format!("could not start: {e}")
            };
            Error::Config(format!(
                "the command `{program}` that gives the {what} ({place}) {why}"
            ))
        })
}
