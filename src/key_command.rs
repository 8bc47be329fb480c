//! Running a key command (`api_key_command` and the like: `pass show
//! snowplow`, `op read …`) and taking its output as the secret.
//!
//! This runs only on a cache miss. A command runs without a shell (its argv
//! as written), with no stdin, apart from us (Unix: in its own process
//! group, holding the terminal's foreground while it runs if we held it, so
//! that a password manager can still prompt; Windows: in a job object), and
//! for a bounded time in all: past its timeout everything it started is
//! killed, and once the command has exited, output that a background child
//! keeps open is not waited for. Only its program name ever appears in a
//! message, in case later arguments name something private.
//!
//! Its stderr is a pipe of its own, relayed to ours while we wait for it:
//! handed our stderr, a background child it leaves behind would hold that
//! open, and a caller reading our stderr through a pipe (botocore's
//! `credential_process`, Go's `exec` as Docker uses it) would wait for that
//! child, long after we have exited.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::sys::{self, Tree};

/// A key command may print at most this much: a key is a few dozen bytes.
const MAX_OUTPUT: usize = 64 * 1024;
/// How long output may stay open after the command has exited: a background
/// child (a password manager's agent) can hold it open for good.
const EXIT_GRACE: Duration = Duration::from_millis(250);

/// At most this much of a key command's stderr is relayed to ours.
const MAX_RELAYED: usize = 64 * 1024;

/// What the threads watching a command report.
enum Event {
    Output(Vec<u8>),
    /// Some of the command's stderr, to relay.
    Stderr(Vec<u8>),
    OutputEnded(std::io::Result<()>),
    Exited(std::io::Result<ExitStatus>),
}

/// Runs `argv` for at most `timeout_secs` without the `hidden` variables
/// and returns its trimmed output; `what` names the secret in messages
/// ("API key"), `place` says where the command is configured.
pub fn run(
    argv: &[String],
    (what, place): (&str, &str),
    timeout_secs: u64,
    hidden: &[&str],
) -> Result<String> {
    let program = &argv[0];
    let says = |why: String| {
        Error::Config(format!(
            "the command `{program}` that gives the {what} ({place}) {why}"
        ))
    };
    let started = Instant::now();
    let deadline = started
        .checked_add(Duration::from_secs(timeout_secs))
        .unwrap_or(started);
    let (child, tree) = sys::spawn_apart(&mut command(argv, hidden)).map_err(|e| {
        says(if e.kind() == std::io::ErrorKind::NotFound {
            "was not found".to_string()
        } else {
            format!("could not start: {e}")
        })
    })?;
    let events = watch(child);
    match collect(&events, deadline) {
        Collected::Done(status, output) if status.success() => decode(output).map_err(says),
        Collected::Done(status, _) => Err(says(format!("failed ({status})"))),
        Collected::Failed(e) => Err(says(format!("could not be read: {e}"))),
        Collected::TooLong => {
            kill_tree(&tree, &events);
            Err(says(format!(
                "printed more than {} KiB: it must print only the {what}",
                MAX_OUTPUT / 1024
            )))
        }
        Collected::TimedOut => {
            kill_tree(&tree, &events);
            Err(says(format!(
                "did not finish within {timeout_secs} s: check it runs on its own, or raise \
                 command_timeout"
            )))
        }
    }
}

/// `argv` to start with stdout piped, without the `hidden` variables and
/// with the proxy variables this program took from its own environment
/// (see [`crate::http`]).
fn command(argv: &[String], hidden: &[&str]) -> Command {
    let mut command = Command::new(&argv[0]);
    command.envs(crate::http::proxy_variables());
    for var in hidden {
        command.env_remove(var);
    }
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts the threads that read `child`'s stdout and stderr and wait for
/// its exit; the waiter owns the child, so it is reaped however the run
/// ends. A reader ends once nobody listens, closing its pipe.
fn watch(mut child: Child) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    let relay = tx.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match stderr.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    if relay.send(Event::Stderr(chunk[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    });
    let reader = tx.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        let end = loop {
            match stdout.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if reader.send(Event::Output(chunk[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let _ = reader.send(Event::OutputEnded(end));
    });
    std::thread::spawn(move || {
        let _ = tx.send(Event::Exited(child.wait()));
    });
    rx
}

enum Collected {
    Done(ExitStatus, Vec<u8>),
    Failed(std::io::Error),
    TooLong,
    TimedOut,
}

/// Gathers output until the command has exited and its output has ended
/// (or [`EXIT_GRACE`] has passed since it exited), all by `deadline`.
fn collect(events: &mpsc::Receiver<Event>, deadline: Instant) -> Collected {
    let mut output = Vec::new();
    let (mut ended, mut exited) = (false, None);
    let mut relayed = 0;
    let mut grace_ends = None;
    loop {
        if let (true, Some(status)) = (ended, exited) {
            return Collected::Done(status, output);
        }
        let until = grace_ends.map_or(deadline, |ends: Instant| ends.min(deadline));
        match events.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Event::Output(chunk)) => {
                output.extend_from_slice(&chunk);
                if output.len() > MAX_OUTPUT {
                    return Collected::TooLong;
                }
            }
            Ok(Event::Stderr(chunk)) => {
                let room = MAX_RELAYED.saturating_sub(relayed);
                let part = &chunk[..chunk.len().min(room)];
                relayed += part.len();
                // Our stderr gone is no reason to fail the key's reading.
                let _ = std::io::stderr().write_all(part);
            }
            Ok(Event::OutputEnded(Ok(()))) => ended = true,
            Ok(Event::OutputEnded(Err(e)) | Event::Exited(Err(e))) => return Collected::Failed(e),
            Ok(Event::Exited(Ok(status))) => {
                exited = Some(status);
                // Counted from the exit: a child that keeps writing does
                // not extend it.
                grace_ends = Some(Instant::now() + EXIT_GRACE);
            }
            Err(_) => match exited {
                // Exited, but something it started still holds its output.
                Some(status) => return Collected::Done(status, output),
                None => return Collected::TimedOut,
            },
        }
    }
}

/// Kills the command and whatever it started, then waits (briefly) until
/// the command itself has been reaped.
fn kill_tree(tree: &Tree, events: &mpsc::Receiver<Event>) {
    tree.kill();
    let until = Instant::now() + Duration::from_secs(1);
    while let Ok(event) = events.recv_timeout(until.saturating_duration_since(Instant::now())) {
        if matches!(event, Event::Exited(_)) {
            break;
        }
    }
}

/// The command's output as the trimmed secret.
fn decode(output: Vec<u8>) -> Result<String, String> {
    let text =
        String::from_utf8(output).map_err(|_| "printed something that is not UTF-8".to_string())?;
    if text.trim().is_empty() {
        return Err("printed nothing".into());
    }
    Ok(text.trim().to_string())
}
