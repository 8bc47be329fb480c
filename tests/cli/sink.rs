//! `sink PATH`: the token file it keeps fresh, against a stand-in Console
//! that issues short-lived tokens. Refreshes come before expiry; a Console
//! that goes down leaves the last token in place until it expires; SIGTERM
//! and SIGINT end it with exit 0; `kill -9` while it writes leaves the file
//! whole.
//!
//! The tests follow the sink through its log, one line per refresh or
//! failure, read as it is written: each step waits for the line that says it
//! happened, never for a length of time.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use insta::assert_snapshot;

use snowplow_credentials::fuzzing::jwt_claims;

use crate::console::{self, Console, Fault, now};
use crate::harness::Sandbox;

/// Long enough for any step; only a broken sink makes a test wait it out.
const PATIENCE: Duration = Duration::from_secs(60);

/// A sink started in the background, its stderr read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(sandbox: &Sandbox, args: &[&str]) -> Running {
        let mut child = sandbox
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the sink starts");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line that contains `needle`, however many come before it.
    #[track_caller]
    fn line_with(&mut self, needle: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(PATIENCE).unwrap_or_else(|_| {
                panic!(
                    "no line with {needle:?} came; so far:\n{}",
                    self.seen.join("\n")
                )
            });
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit; returns its code and every line it wrote.
    fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        (status.code(), self.seen)
    }
}

/// A directory for the token file, as a sidecar's shared volume.
fn volume(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.path("run");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn exp_of(token: &str) -> u64 {
    jwt_claims(token).unwrap().exp.unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

/// Output with the sandbox's paths and the stand-in's tokens made stable.
fn shown(sandbox: &Sandbox, console: &Console, text: &str) -> String {
    let home = sandbox.home.path().to_str().unwrap();
    crate::harness::redact(&text.replace(home, "<HOME>"), console)
}

#[test]
fn once_writes_the_token_and_header_files_and_exits() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let dir = volume(&sandbox);
    let (token, header) = (dir.join("token"), dir.join("header"));
    let (token_s, header_s) = (token.to_str().unwrap(), header.to_str().unwrap());
    let out = sandbox.run(&["sink", token_s, "--header-file", header_s, "--once"]);
    assert_snapshot!(shown(&sandbox, &console, &format!("{}\n{}", out.code, out.stderr)), @"
    0
    snowplow-credentials: sink: wrote <HOME>/run/token and <HOME>/run/header (token expires at 2100-01-01T00:00:00Z)
    ");
    assert_eq!(out.stdout, "");
    let jwt = &console.issued()[0];
    assert_eq!(
        read(&token),
        *jwt,
        "the bare token, as projected tokens are"
    );
    assert_eq!(read(&header), format!("Authorization: Bearer {jwt}\n"));
    assert_eq!((mode(&token), mode(&header)), (0o600, 0o600));

    // 0640 and our own group, for a reader in another container; the token
    // comes from the cache.
    // SAFETY: getegid has no preconditions.
    let gid = unsafe { libc::getegid() }.to_string();
    let args = ["sink", token_s, "--mode", "0640", "--group", &gid, "--once"];
    sandbox.run(&args).success();
    assert_eq!(mode(&token), 0o640);
    assert_eq!(std::fs::metadata(&token).unwrap().gid().to_string(), gid);
    assert_eq!(console.token_requests(), 1);
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 2, "the two files and no temporary one");
}

#[test]
fn bad_sink_options_are_usage_errors() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for args in [
        &["sink"][..],
        &["sink", "/x/token", "--mode", "0644"],
        &["sink", "/x/token", "--group", "no-such-group-here"],
        &["sink", "a", "b"],
        &["sink", ""],
        &["sink", "/x/token", "--header-file", ""],
        &["sink", "/x/token", "--mode", "0o640"],
        &["sink", "/x/token", "--mode", "0600", "--group", "0"],
    ] {
        let out = sandbox.run(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        seen.push_str(&out.stderr);
    }
    assert_snapshot!(seen, @"
    snowplow-credentials: sink needs one argument: the token file's path (see snowplow-credentials --help)
    snowplow-credentials: --mode `0644`: give 0600 (the default) or 0640 (read by the file's group)
    snowplow-credentials: --group: no group `no-such-group-here` on this system; give its number instead
    snowplow-credentials: sink needs one argument: the token file's path (see snowplow-credentials --help)
    snowplow-credentials: sink needs one argument: the token file's path (see snowplow-credentials --help)
    snowplow-credentials: --header-file needs a path
    snowplow-credentials: --mode `0o640`: give 0600 (the default) or 0640 (read by the file's group)
    snowplow-credentials: --group gives its group read access, which 0600 denies: drop --mode (--group means 0640)
    ");
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn paths_it_must_not_replace_are_refused_and_left_alone() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let dir = volume(&sandbox);
    let (fifo, link, sub, served) = (
        dir.join("fifo"),
        dir.join("link"),
        dir.join("sub"),
        dir.join("served"),
    );
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    std::fs::write(dir.join("target"), "kept").unwrap();
    std::os::unix::fs::symlink(dir.join("target"), &link).unwrap();
    std::fs::create_dir(&sub).unwrap();
    std::fs::create_dir_all(sandbox.cache_dir()).unwrap();
    let cached = sandbox.cache_dir().join("token");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let mut seen = String::new();
    let mut run = |sandbox: &Sandbox, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sandbox.run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        seen.push_str(&shown(sandbox, &console, &out.stderr));
    };
    for path in [&fifo, &link, &sub] {
        run(&sandbox, &["sink".into(), s(path), "--once".into()]);
    }
    let same = [
        "sink".into(),
        s(&served),
        "--header-file".into(),
        s(&dir.join("../run/served")),
    ];
    run(&sandbox, &same);
    run(&sandbox, &["sink".into(), s(&cached), "--once".into()]);
    sandbox.set("SNOWPLOW_CREDENTIALS_TOKEN_FILE", &s(&served));
    run(&sandbox, &["sink".into(), s(&served), "--once".into()]);
    assert_snapshot!(seen, @"
    snowplow-credentials: sink: <HOME>/run/fifo is a FIFO, not a regular file: give the path of a regular file or a new one
    snowplow-credentials: sink: <HOME>/run/link is a symlink, not a regular file: give the path of a regular file or a new one
    snowplow-credentials: sink: <HOME>/run/sub is a directory, not a regular file: give the path of a regular file or a new one
    snowplow-credentials: sink: --header-file must differ from the token file's path
    snowplow-credentials: sink: <HOME>/.cache/snowplow/credentials/token is in the cache directory, which only snowplow-credentials writes
    snowplow-credentials: sink: <HOME>/run/served is the token file this profile serves: the sink would read its own output
    ");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(read(&dir.join("target")), "kept");
    assert!(sub.is_dir());
    assert!(!served.exists() && !cached.exists());
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn a_directory_others_can_write_gets_a_warning() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let dir = volume(&sandbox).join("open");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let token = dir.join("token");
    let out = sandbox.run(&["sink", token.to_str().unwrap(), "--once"]);
    assert_snapshot!(shown(&sandbox, &console, &format!("{}\n{}", out.code, out.stderr)), @"
    0
    snowplow-credentials: warning: sink: others may replace <HOME>/run/open/token: its directory <HOME>/run/open is writable by others (mode 777) and not sticky
    snowplow-credentials: sink: wrote <HOME>/run/open/token (token expires at 2100-01-01T00:00:00Z)
    ");
}

#[test]
fn group_alone_means_0640() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let token = volume(&sandbox).join("token");
    // SAFETY: getegid has no preconditions.
    let gid = unsafe { libc::getegid() }.to_string();
    let out = sandbox.run(&["sink", token.to_str().unwrap(), "--group", &gid, "--once"]);
    out.success();
    assert_eq!(mode(&token), 0o640, "the group can read it");
}

#[test]
fn what_cannot_get_better_ends_it_with_one_line() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let token = volume(&sandbox).join("token");
    let missing_dir = sandbox.path("nowhere/token");
    let mut seen = String::new();
    let mut run = |sandbox: &Sandbox, path: &Path| {
        let out = sandbox.run(&["sink", path.to_str().unwrap()]);
        out.failure();
        seen.push_str(&shown(sandbox, &console, &out.stderr));
    };
    // A rejected key while there is no token to keep serving: a restarted
    // container picks up a fixed one.
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "wrong-key-5ecret");
    run(&sandbox, &token);
    sandbox.unset("SNOWPLOW_CONSOLE_ORG_ID");
    run(&sandbox, &token);
    sandbox
        .set("SNOWPLOW_CONSOLE_ORG_ID", console::ORG)
        .set("SNOWPLOW_CONSOLE_API_KEY", console::KEY);
    run(&sandbox, &missing_dir);
    assert_snapshot!(seen, @r#"
    snowplow-credentials: the Console rejected API key ID 11111111-2222-4333-8444-555555555555 for organization 00000000-0000-4000-8000-000000000001 (HTTP 401, trace ID t-1): check the key from SNOWPLOW_CONSOLE_API_KEY is right, or whether it was deleted (Console, Settings, API keys)
    snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: cannot write <HOME>/nowhere/token (its directory must exist): No such file or directory (os error 2)
    "#);
    assert!(!token.exists());
}

#[test]
fn it_refreshes_each_token_before_it_expires() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // 8 s tokens: the threshold is half of that, so a refresh comes 3 to 4 s
    // before each expiry (the jitter takes up to a quarter of it).
    console.set_lifetime(8);
    let token = volume(&sandbox).join("token");
    let mut sink = Running::start(&sandbox, &["sink", token.to_str().unwrap()]);
    for _ in 0..3 {
        sink.line_with("sink: wrote");
    }
    let issued = console.issued();
    assert_eq!(read(&token), issued[2]);
    sink.signal("TERM");
    let (code, lines) = sink.finish();
    assert_eq!(code, Some(0), "{lines:#?}");
    assert_eq!(issued.len(), 3, "one exchange per refresh");
    let requests = console.requests();
    for i in 1..3 {
        let at = requests[i]
            .at
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let expired = exp_of(&issued[i - 1]) as f64;
        // For the record (cargo test -- --nocapture): how early it was.
        eprintln!(
            "refresh {i}: {:.2} s before the old token expired",
            expired - at
        );
        assert!(
            at < expired,
            "token {} was asked for after token {i} expired",
            i + 1
        );
    }
}

#[test]
fn a_console_down_mid_way_leaves_the_old_token_until_it_expires() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    console.set_lifetime(20);
    let token = volume(&sandbox).join("token");
    let mut sink = Running::start(&sandbox, &["sink", token.to_str().unwrap()]);
    let wrote = sink.line_with("sink: wrote");
    let first = console.issued()[0].clone();
    let expires = wrote
        .split_once("token expires at ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .unwrap()
        .0
        .to_string();
    console.fail_always(Some(Fault::Status(503)));

    let failed = sink.line_with("sink: ");
    eprintln!("a failed refresh says: {failed}");
    assert!(
        failed.contains(&format!("keeps the token that expires at {expires}")),
        "{failed}"
    );
    assert_eq!(read(&token), first, "the last good token stays");
    let removed = sink.line_with("could not be replaced: removed it");
    assert!(removed.contains(&expires), "{removed}");
    assert!(!token.exists(), "no reader is handed an expired token");
    assert!(now() >= exp_of(&first));

    console.fail_always(None);
    sink.line_with("sink: wrote");
    assert_eq!(read(&token), console.issued()[1]);
    sink.signal("TERM");
    let (code, lines) = sink.finish();
    assert_eq!(code, Some(0));
    let failures = lines.iter().filter(|l| l.contains("next try at")).count();
    assert!(failures >= 1, "{lines:#?}");
    assert!(
        lines.iter().all(|l| !l.contains(&first)),
        "the token is never logged"
    );
}

#[test]
fn sigterm_and_sigint_end_it_with_exit_0() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let token = volume(&sandbox).join("token");
    let path = token.to_str().unwrap();

    // Waiting for the next refresh, hours away.
    let mut sink = Running::start(&sandbox, &["sink", path]);
    sink.line_with("sink: wrote");
    let signalled = std::time::Instant::now();
    sink.signal("TERM");
    let (code, lines) = sink.finish();
    // For the record (cargo test -- --nocapture): the wait ends on the signal.
    eprintln!("SIGTERM to exit: {:?}", signalled.elapsed());
    assert_eq!(code, Some(0), "{lines:#?}");
    assert_eq!(
        lines.last().unwrap(),
        "snowplow-credentials: sink: stopped by SIGTERM"
    );
    assert_eq!(
        read(&token),
        console.issued()[0],
        "the file stays for readers"
    );

    // Backing off after a failure, with no token yet.
    console.fail_always(Some(Fault::Status(503)));
    std::fs::remove_file(&token).unwrap();
    let cache = sandbox.path("other-cache");
    let mut sandbox = sandbox;
    sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", cache.to_str().unwrap());
    let mut sink = Running::start(&sandbox, &["sink", path]);
    let failed = sink.line_with("next try at");
    assert!(failed.contains("holds no token"), "{failed}");
    sink.signal("INT");
    let (code, lines) = sink.finish();
    assert_eq!(code, Some(0), "{lines:#?}");
    assert_eq!(
        lines.last().unwrap(),
        "snowplow-credentials: sink: stopped by SIGINT"
    );
}

#[test]
fn kill_9_while_it_writes_leaves_the_file_whole() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let dir = volume(&sandbox);
    let token = dir.join("token");
    let header = dir.join("header");
    let args = [
        "sink",
        token.to_str().unwrap(),
        "--header-file",
        header.to_str().unwrap(),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    // Where the kills landed: before the new token reached the file, while a
    // file was being written (a temporary file left), or after.
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for round in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // A cache of its own, so each sink exchanges at once.
        let cache = sandbox.path(&format!("cache-{round}"));
        sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", cache.to_str().unwrap());
        let seen = console.requests().len();
        let mut child = sandbox
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            console.wait_for_requests(seen + 1, PATIENCE),
            "round {round}: no request"
        );
        // Not synchronisation: the varied pause is what varies the kill
        // point over reading the answer, caching it and writing both files.
        std::thread::sleep(Duration::from_micros(seed % 20_000));
        child.kill().unwrap();
        child.wait().unwrap();
        let issued = console.issued();
        let temporary = std::fs::read_dir(&dir).unwrap().any(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.starts_with(".token.tmp-") || name.starts_with(".header.tmp-")
        });
        let outcome = match std::fs::read_to_string(&token) {
            _ if temporary => "mid-write",
            Ok(text) if Some(&text) == issued.last() => "after",
            _ => "before",
        };
        *outcomes.entry(outcome).or_default() += 1;
        if let Ok(text) = std::fs::read_to_string(&token) {
            assert!(
                issued.contains(&text),
                "round {round}: a partial token file"
            );
        }
        if let Ok(text) = std::fs::read_to_string(&header) {
            let jwt = text
                .strip_prefix("Authorization: Bearer ")
                .unwrap_or_default();
            assert!(
                issued.iter().any(|t| format!("{t}\n") == jwt),
                "round {round}: {text}"
            );
        }
    }
    eprintln!("kill -9 outcomes: {outcomes:?}");
    // A sink started afterwards clears what the killed ones left half-done.
    sandbox
        .run(
            &args[..2]
                .iter()
                .copied()
                .chain(["--once"])
                .collect::<Vec<_>>(),
        )
        .success();
    let mut sink = Running::start(&sandbox, &args);
    sink.line_with("sink: wrote");
    sink.signal("TERM");
    assert_eq!(sink.finish().0, Some(0));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["header", "token"]);
}

/// The sink containers of a recipe, init first: each one's arguments and
/// plain environment values (the key comes from the sandbox instead), with
/// every `/run/` path moved under `root`.
type Containers = Vec<(Vec<String>, Vec<(String, String)>)>;

fn moved(value: &serde_json::Value, root: &Path) -> String {
    let root = format!("{}/run/", root.display());
    value.as_str().unwrap().replace("/run/", &root)
}

fn sidecar_containers(documents: &[serde_json::Value], root: &Path) -> Containers {
    let deployment = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let containers = deployment["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap();
    (containers.iter())
        .map(|c| {
            let args = c["args"].as_array().unwrap().iter().map(|a| moved(a, root));
            let env = c["env"].as_array().unwrap().iter();
            let env = env.map(|e| (e["name"].as_str().unwrap().into(), moved(&e["value"], root)));
            (args.collect(), env.collect())
        })
        .collect()
}

fn compose_containers(compose: &serde_json::Value, root: &Path) -> Containers {
    ["snowplow-token-first", "snowplow-token"]
        .iter()
        .map(|name| {
            let service = &compose["services"][name];
            let args = service["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| moved(a, root));
            let env = service["environment"].as_object().unwrap().iter();
            // `${…}` values come from the user's .env: the sandbox has them.
            let env = env.filter(|(_, v)| !v.as_str().unwrap().starts_with("${"));
            let env = env.map(|(k, v)| (k.clone(), moved(v, root)));
            (args.collect(), env.collect())
        })
        .collect()
}

#[test]
fn the_recipes_sink_containers_run_as_written_with_one_exchange_between_them() {
    let Some(python) = crate::harness::python_with(&["yaml"]) else {
        return;
    };
    let recipes =
        |name: &str| crate::harness::yaml_documents(&python, &crate::harness::integration(name));
    let console = Console::start();
    let roots = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let sidecar = recipes("kubernetes/sidecar.yaml");
    let compose = recipes("kubernetes/docker-compose.yaml");
    for (recipe, containers) in [
        (
            "sidecar.yaml",
            sidecar_containers(&sidecar, roots[0].path()),
        ),
        (
            "docker-compose.yaml",
            compose_containers(&compose[0], roots[1].path()),
        ),
    ] {
        let exchanges = console.token_requests();
        let [(first, first_env), (long, long_env)] = containers.try_into().unwrap();
        let token = PathBuf::from(&first[1]);
        // The volume the orchestrator mounts.
        std::fs::create_dir_all(token.parent().unwrap()).unwrap();
        let mut sandbox = Sandbox::for_console(&console);
        for (name, value) in first_env.iter().chain(&long_env) {
            sandbox.set(name, value);
        }
        sandbox.run(&strs(&first)).success();
        let mut sink = Running::start(&sandbox, &strs(&long));
        sink.line_with("sink: wrote");
        sink.signal("TERM");
        assert_eq!(sink.finish().0, Some(0), "{recipe}");
        assert_eq!(
            console.token_requests(),
            exchanges + 1,
            "{recipe}: one exchange"
        );
        assert_eq!(mode(&token), 0o640, "{recipe}");
        let jwt = console.issued().last().unwrap().clone();
        assert_eq!(read(&token), jwt, "{recipe}");
        let header = token.with_file_name("header");
        assert_eq!(
            read(&header),
            format!("Authorization: Bearer {jwt}\n"),
            "{recipe}"
        );
    }
}

fn strs(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

/// libfaketime's preload library, where Debian's `faketime` installs it.
fn libfaketime() -> Option<PathBuf> {
    let found = ["x86_64-linux-gnu", "aarch64-linux-gnu", ""]
        .iter()
        .map(|arch| {
            Path::new("/usr/lib")
                .join(arch)
                .join("faketime/libfaketime.so.1")
        })
        .find(|path| path.exists());
    if found.is_none() {
        crate::harness::missing("libfaketime (Debian's `faketime`) is not installed");
    }
    found
}

/// Issue 18.1: the sink waited for the next refresh in one long wait on the
/// monotonic clock, which stands still while the machine is suspended: after
/// a resume the file held an expired token for up to a day. Here the wall
/// clock jumps two days ahead under libfaketime (its control file is
/// rewritten, as a resume would move the clock), with the Console down: the
/// expired token must go at once, not at the end of the wait. The clock
/// runs 60 times fast, which libfaketime also applies to `poll`'s timeout,
/// so a wait of a minute of the sink's time takes a second of ours; the
/// day-long wait the sink used to make would take twelve minutes.
#[test]
fn a_clock_jump_past_expiry_removes_the_token_at_once() {
    let Some(lib) = libfaketime() else { return };
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    console.set_lifetime(86_400);
    let clock = sandbox.path("faketime");
    std::fs::write(&clock, "+0 x60\n").unwrap();
    sandbox
        .set("LD_PRELOAD", lib.to_str().unwrap())
        .set("FAKETIME_TIMESTAMP_FILE", clock.to_str().unwrap())
        .set("FAKETIME_NO_CACHE", "1");
    let token = volume(&sandbox).join("token");
    let mut sink = Running::start(&sandbox, &["sink", token.to_str().unwrap()]);
    sink.line_with("sink: wrote");
    assert_eq!(read(&token), console.issued()[0]);
    console.fail_always(Some(Fault::Status(503)));
    // Replaced whole, so the sink never reads half a setting.
    let next = sandbox.path("faketime.next");
    std::fs::write(&next, "+2d x60\n").unwrap();
    std::fs::rename(&next, &clock).unwrap();
    sink.line_with("could not be replaced: removed it");
    assert!(!token.exists(), "no reader is handed an expired token");
    sink.signal("TERM");
    let (code, lines) = sink.finish();
    assert_eq!(code, Some(0), "{lines:#?}");
}
