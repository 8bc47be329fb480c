//! Crashes and stuck peers: a refresh killed with SIGKILL at many points
//! must leave the cache absent or whole and the refresh lock free, and a
//! lock holder that is stopped (SIGSTOP) must hold up the others only for
//! the bounded wait, after which they go on with a warning.
//!
//! "The lock is free" is checked by outcome, not time: the next refresh
//! runs with a 20 s lock wait, and a lock still held would show as the
//! lock warning on its stderr.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

use insta::assert_snapshot;

use crate::console::{self, Console, Fault};
use crate::harness::{Sandbox, finish};

/// Long enough for any request to arrive; only a broken test waits it out.
const PATIENCE: Duration = Duration::from_secs(30);

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// The cache after a crash: no token file, or one whole entry holding a
/// token the stand-in issued. Leftover `.tmp-*` files are allowed.
#[track_caller]
fn assert_absent_or_whole(sandbox: &Sandbox, console: &Console) {
    let files = sandbox.cache_files();
    assert!(files.len() <= 1, "{files:?}");
    if let Some(file) = files.first() {
        let text = std::fs::read(file).unwrap();
        let entry: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|e| {
            panic!(
                "a partial cache file ({e}): {}",
                String::from_utf8_lossy(&text)
            )
        });
        let token = entry["token"].as_str().expect("a token field");
        assert!(console.issued().iter().any(|t| t == token), "{entry}");
        assert!(entry["exp"].is_u64() && entry["iat"].is_u64(), "{entry}");
        assert!(entry["identity"].is_string(), "{entry}");
    }
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect()
}

/// A refresh right after a crash: it must take the lock at once (no lock
/// warning) and cache the token it got.
#[track_caller]
fn assert_lock_free_and_refresh_works(sandbox: &Sandbox, console: &Console) {
    let out = sandbox.run(&["token", "--refresh"]);
    out.success();
    assert_eq!(out.stderr, "", "the lock was left held");
    let token = out.stdout.trim();
    assert_eq!(token, console.issued().last().unwrap());
    let [file] = sandbox.cache_files().try_into().unwrap();
    let entry: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(entry["token"], token);
}

/// Where in a refresh the process is killed.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// Just after it was started: before, during or after the cache read.
    AtOnce,
    /// While it waits for an answer that never comes, holding the lock.
    AwaitingAnswer,
    /// While it sleeps before retrying a 503, holding the lock.
    BetweenRetries,
    /// After the Console answered, `delay_us` later: while it reads the
    /// answer, writes the temporary file, renames it, or prints.
    AfterAnswer { delay_us: u64 },
}

#[test]
fn a_refresh_killed_at_any_point_leaves_a_whole_cache_and_a_free_lock() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox
        .set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "20")
        .set("SNOWPLOW_CREDENTIALS_TIMEOUT", "20");
    // A small xorshift, seeded: the kill points vary, yet each run is the same.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = std::collections::BTreeMap::new();
    for i in 0..120 {
        let point = match i % 6 {
            0 => KillPoint::AtOnce,
            1 => KillPoint::AwaitingAnswer,
            2 => KillPoint::BetweenRetries,
            _ => KillPoint::AfterAnswer {
                delay_us: next() % 3_000,
            },
        };
        match point {
            KillPoint::AwaitingAnswer => console.push_fault(Fault::Hang),
            KillPoint::BetweenRetries => console.push_fault(Fault::Status(503)),
            _ => {}
        }
        let seen = console.requests().len();
        let mut child = sandbox.spawn(&["token", "--refresh"]);
        if !matches!(point, KillPoint::AtOnce) {
            assert!(
                console.wait_for_requests(seen + 1, PATIENCE),
                "{point:?}: no request"
            );
        }
        if let KillPoint::AfterAnswer { delay_us } = point {
            // Not synchronisation: the varied pause is what varies the kill point.
            std::thread::sleep(Duration::from_micros(delay_us));
        }
        let before = sandbox
            .cache_files()
            .first()
            .map(|f| std::fs::read(f).unwrap());
        child.kill().unwrap();
        let finished = child.wait().unwrap().success();
        assert_eq!(console.pending_faults(), 0, "{point:?}: fault left unused");
        assert_absent_or_whole(&sandbox, &console);
        let after = sandbox
            .cache_files()
            .first()
            .map(|f| std::fs::read(f).unwrap());
        let outcome = match (finished, before == after) {
            (true, _) => "finished before the kill",
            (false, true) => "killed before replacing the cache",
            (false, false) => "killed after replacing the cache",
        };
        if matches!(point, KillPoint::AwaitingAnswer | KillPoint::BetweenRetries) {
            assert_eq!(outcome, "killed before replacing the cache", "{point:?}");
        }
        *outcomes.entry(outcome).or_insert(0) += 1;
        assert_lock_free_and_refresh_works(&sandbox, &console);
    }
    let tmp_leftovers = leftovers(&sandbox.cache_dir()).len();
    eprintln!("kill outcomes: {outcomes:?}; temporary files left: {tmp_leftovers}");
    // `clear --all` removes leftovers with the token files.
    sandbox.run(&["clear", "--all"]).success();
    assert!(sandbox.cache_files().is_empty());
    assert!(leftovers(&sandbox.cache_dir()).is_empty());
}

/// Opens a FIFO for reading in a thread (the open blocks until a writer
/// comes) and hands back what it read, within [`PATIENCE`].
fn read_fifo(path: PathBuf) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Ok(mut fifo) = File::open(&path) {
            let _ = fifo.read_to_string(&mut text);
        }
        let _ = tx.send(text);
    });
    rx
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_refresh_killed_while_its_key_command_runs_frees_the_lock() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let (ready, go) = (sandbox.path("ready"), sandbox.path("go"));
    mkfifo(&ready);
    mkfifo(&go);
    sandbox
        .set("READY", ready.to_str().unwrap())
        .set("GO", go.to_str().unwrap())
        .set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "20");
    // The key command says it started, then blocks until told to go on: it
    // outlives the refresh that ran it, and must not keep its lock.
    sandbox.write_config(
        "[profiles.default]\napi_key_command = [\"sh\", \"-c\", \
         \"echo started > \\\"$READY\\\"; cat \\\"$GO\\\"\"]\n",
    );
    for _ in 0..3 {
        let started = read_fifo(ready.clone());
        let mut child = sandbox.spawn(&["token"]);
        let said = started.recv_timeout(PATIENCE);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(said.as_deref(), Ok("started\n"), "the key command ran");
        assert!(sandbox.cache_files().is_empty());

        // With the command still running: the key from the environment
        // beats the profile's command, and the lock must be free.
        sandbox.set("SNOWPLOW_CONSOLE_API_KEY", console::KEY);
        assert_lock_free_and_refresh_works(&sandbox, &console);
        sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
        std::fs::remove_file(sandbox.cache_files().pop().unwrap()).unwrap();

        // Let the orphaned command finish (it holds the killed process's
        // stderr): opening without blocking fails if it has gone already.
        if let Ok(fifo) = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&go)
        {
            drop(fifo);
        }
        let out = finish(child);
        assert_eq!(out.stdout, "", "killed before printing");
    }
    assert_eq!(console.token_requests(), 3, "only the follow-ups exchanged");
}

#[test]
fn a_stopped_lock_holder_delays_the_others_only_up_to_the_bound() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // The others wait as long as the holder may take: with a 1 s timeout,
    // its exchange's bound (3 s) and a little more.
    sandbox
        .set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "2")
        .set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    // The holder takes the lock, asks, gets no answer, and is stopped.
    console.push_fault(Fault::Hang);
    let holder = sandbox.spawn(&["token"]);
    assert!(console.wait_for_requests(1, PATIENCE), "the holder asked");
    signal(&holder, "STOP");

    let others: Vec<_> = (0..3).map(|_| sandbox.spawn(&["token"])).collect();
    let outputs: Vec<_> = others.into_iter().map(finish).collect();
    let mut holder = holder;
    holder.kill().unwrap();
    holder.wait().unwrap();

    for out in &outputs {
        out.success();
        assert!(console.issued().contains(&out.stdout.trim().to_string()));
        assert_eq!(out.stderr, outputs[0].stderr, "the same warning");
    }
    assert_snapshot!(crate::harness::redact(&outputs[0].home_redacted(&sandbox).stderr, &console), @"snowplow-credentials: warning: another snowplow-credentials process held the lock on <HOME>/.cache/snowplow/credentials/token-<HASH>.lock for the whole wait; exchanging without it");
    // Each went on without the lock; one that timed out a little later may
    // find the token another cached meanwhile.
    let exchanges = console.token_requests() - 1;
    assert!((1..=3).contains(&exchanges), "{exchanges} exchanges");
    assert_lock_free_and_refresh_works(&sandbox, &console);
}
