//! Attacks from issue 10's outside security review, one test per hole: a
//! careless user or another local user trying to make the binary hang,
//! abort, leak the key, hand a token to the wrong place, or damage files
//! that are not its own. Each failed on the code before the fix.
//!
//! Hangs are caught by a watchdog ([`finish_within`]) that kills the child
//! and fails the test; no test waits on a sleep.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use insta::assert_snapshot;

use crate::connect_proxy::ConnectProxy;
use crate::console::{self, Console, Fault};
use crate::harness::{self, Output, Sandbox, finish_within, output_of};

/// Far longer than any bounded run here takes; only a hang reaches it.
const WATCHDOG: Duration = Duration::from_secs(25);
/// The uid of `nobody`, for files owned by someone else.
const OTHER_UID: u32 = 65534;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// stderr with the sandbox's home written `<HOME>` and tokens, the Console
/// and cache names redacted, for snapshots.
fn stderr_of(out: &Output, sandbox: &Sandbox, console: &Console) -> String {
    harness::redact(&out.stderr, console).replace(sandbox.home.path().to_str().unwrap(), "<HOME>")
}

/// Runs the binary with a watchdog.
#[track_caller]
fn run_bounded(sandbox: &Sandbox, args: &[&str]) -> Output {
    finish_within(sandbox.spawn(args), WATCHDOG)
}

/// A key command (TOML array) running `script` under `sh -c`.
fn sh_command(script: &str) -> String {
    format!("[\"sh\", \"-c\", {}]", toml_string(script))
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A sandbox whose key comes from `api_key_command = sh -c script`.
fn with_key_command(console: &Console, script: &str, extra: &str) -> Sandbox {
    let mut sandbox = Sandbox::for_console(console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.write_config(&format!(
        "[profiles.default]\napi_key_command = {}\n{extra}\n",
        sh_command(script)
    ));
    sandbox
}

// 1. The cache directory is treated as ours even when it is not.

#[test]
fn a_cache_directory_we_did_not_create_keeps_its_mode() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for (name, loose) in [("shared", 0o1777), ("project", 0o755)] {
        let dir = sandbox.path(name);
        std::fs::create_dir(&dir).unwrap();
        set_mode(&dir, loose);
        sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", dir.to_str().unwrap());
        let out = sandbox.run(&["token"]);
        out.success();
        assert_eq!(out.stdout.trim(), console.issued().last().unwrap());
        assert_eq!(mode(&dir), loose, "{name}: the mode was changed");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{name}: cached in it"
        );
        seen.push_str(&stderr_of(&out, &sandbox, &console));
    }
    assert_snapshot!(seen, @"
    snowplow-credentials: warning: cannot use the cache directory <HOME>/shared (it is open to others (mode 1777), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    snowplow-credentials: warning: cannot use the cache directory <HOME>/project (it is open to others (mode 755), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    ");
}

#[test]
fn clear_all_deletes_only_files_it_makes() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let dir = sandbox.path("project");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o700);
    let theirs = [
        "package.json",
        "state.json",
        ".tmp-build",
        "token.json",
        "token-1.json",
    ];
    for name in theirs {
        std::fs::write(dir.join(name), "theirs").unwrap();
    }
    sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", dir.to_str().unwrap());
    let ours = sandbox.run(&["token"]);
    ours.success();
    let out = sandbox.run(&["clear", "--all"]);
    out.success();
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".tmp-build",
            "package.json",
            "state.json",
            "token-1.json",
            "token.json"
        ]
    );
}

// 2. FIFOs and endless files where files are read.

#[test]
fn a_fifo_at_the_cache_or_lock_path_is_a_miss_at_once() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    let lock = file.with_extension("lock");
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    let out = run_bounded(&sandbox, &["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[1]);
    assert!(
        std::fs::symlink_metadata(&file).unwrap().is_file(),
        "replaced"
    );

    std::fs::remove_file(&lock).unwrap();
    mkfifo(&lock);
    let out = run_bounded(&sandbox, &["token", "--refresh"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[2]);
    assert!(
        std::fs::symlink_metadata(&lock).unwrap().is_file(),
        "lock replaced"
    );
}

#[test]
fn a_config_path_that_is_a_fifo_or_endless_is_refused() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let fifo = sandbox.path("config.toml");
    mkfifo(&fifo);
    let out = run_bounded(&sandbox, &["token", "--config", fifo.to_str().unwrap()]);
    out.failure();
    let mut seen = stderr_of(&out, &sandbox, &console);
    // Under a memory limit, so that reading it whole fails rather than
    // filling the machine.
    let mut cmd = sandbox.shell("ulimit -v 1000000; exec \"$0\" token --config /dev/zero");
    let out = output_of(&mut cmd, None);
    out.failure();
    seen.push_str(&out.stderr);
    // snowplow-cli's settings file, read when nothing of ours is set.
    let bare = Sandbox::new();
    let yml = bare.path(".config/snowplow/snowplow.yml");
    std::fs::create_dir_all(yml.parent().unwrap()).unwrap();
    mkfifo(&yml);
    let out = run_bounded(&bare, &["token"]);
    out.failure();
    seen.push_str(&out.stderr);
    assert_snapshot!(seen, @"
    snowplow-credentials: cannot read config file ~/config.toml (from --config): it is not a regular file
    snowplow-credentials: cannot read config file /dev/zero (from --config): it is not a regular file
    snowplow-credentials: cannot read ~/.config/snowplow/snowplow.yml: it is not a regular file
    ");
    assert_eq!(console.token_requests(), 0);
}

// 3. A proxy for a loopback host.

#[test]
fn a_loopback_host_never_goes_through_a_proxy() {
    let console = Console::start();
    let proxy = ConnectProxy::start();
    let mut sandbox = Sandbox::for_console(&console);
    for var in ["http_proxy", "all_proxy", "ALL_PROXY"] {
        sandbox.set(var, &proxy.url());
        sandbox.run(&["token", "--refresh"]).success();
        sandbox.unset(var);
    }
    assert_eq!(
        proxy.tunnels(),
        Vec::<String>::new(),
        "the key went to a proxy"
    );
    assert_eq!(console.token_requests(), 3);
}

// 4. `command_timeout` bounds the whole key command.

#[test]
fn a_key_command_that_lingers_after_printing_is_bounded() {
    let console = Console::start();
    // Prints the key, closes stdout, then lingers far past its timeout.
    let script = format!("echo {}; exec >&-; sleep 300", console::KEY);
    let sandbox = with_key_command(&console, &script, "command_timeout = 2");
    let out = run_bounded(&sandbox, &["token"]);
    out.failure();
    assert_snapshot!(out.stderr, @"snowplow-credentials: the command `sh` that gives the API key (profile \"default\" of ~/.config/snowplow/credentials.toml) did not finish within 2 s: check it runs on its own, or raise command_timeout");
}

#[test]
fn a_key_command_whose_child_keeps_stdout_open_is_used_once_it_exits() {
    let console = Console::start();
    // An agent started in the background inherits stdout and outlives the
    // command, as password managers' agents do.
    let script = format!("echo {}; sleep 60 2>/dev/null & exit 0", console::KEY);
    let sandbox = with_key_command(&console, &script, "command_timeout = 60");
    let out = run_bounded(&sandbox, &["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[0]);
}

#[test]
fn a_key_command_that_times_out_is_killed_with_its_children() {
    let console = Console::start();
    // The grandchild holds our stderr: if it survives, the output never ends.
    let sandbox = with_key_command(&console, "sleep 300 & wait", "command_timeout = 1");
    let out = run_bounded(&sandbox, &["token"]);
    out.failure();
    assert_snapshot!(out.stderr, @"snowplow-credentials: the command `sh` that gives the API key (profile \"default\" of ~/.config/snowplow/credentials.toml) did not finish within 1 s: check it runs on its own, or raise command_timeout");
}

#[test]
fn a_key_command_printing_more_than_64_kib_is_refused() {
    let console = Console::start();
    let sandbox = with_key_command(&console, "head -c 70000 /dev/zero | tr '\\0' a", "");
    let out = run_bounded(&sandbox, &["token"]);
    out.failure();
    assert_snapshot!(out.stderr, @"snowplow-credentials: the command `sh` that gives the API key (profile \"default\" of ~/.config/snowplow/credentials.toml) printed more than 64 KiB: it must print only the API key");
    assert_eq!(console.token_requests(), 0, "a cut key was sent");
}

/// The key command's own process group (so that a timeout kills all it
/// started) must not cost it the terminal: a command that prompts there, as
/// `op` does without biometrics, gets the terminal's foreground while it
/// runs. Run under `script`, which gives the binary a terminal.
#[test]
fn a_key_command_in_its_own_group_can_still_prompt_on_the_terminal() {
    let Some(script) = harness::require("script") else {
        return;
    };
    let console = Console::start();
    let prompt = "printf 'key: ' >/dev/tty; read -r key </dev/tty; echo \"$key\"";
    let sandbox = with_key_command(&console, prompt, "command_timeout = 10");
    let mut child = sandbox
        .program(
            &script,
            &["-qec", &format!("'{}' token", harness::BIN), "/dev/null"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Typed at the prompt; stdin stays open, as a terminal's does.
    let mut typed = child.stdin.take().unwrap();
    typed
        .write_all(format!("{}\n", console::KEY).as_bytes())
        .unwrap();
    let out = finish_within(child, WATCHDOG);
    drop(typed);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&console.issued()[0]), "{out:?}");
}

// 5. Aborts, and core dumps.

#[test]
fn a_huge_retry_after_is_an_error_not_an_abort() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // Two plain 503s first: the backoff between them takes the run past
    // a second, after which adding a huge wait to the time spent overflows.
    for status in [503, 429] {
        console.push_fault(Fault::Status(503));
        console.push_fault(Fault::Status(503));
        console.push_fault(Fault::StatusRetryAfter(status, u64::MAX));
    }
    let mut seen = String::new();
    for _ in 0..2 {
        let out = run_bounded(&sandbox, &["token"]);
        out.failure();
        seen.push_str(&stderr_of(&out, &sandbox, &console));
    }
    // The time spent varies: its digits are not part of the snapshot.
    let seen: String = seen
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_snapshot!(seen, @"
    snowplow-credentials: the Console is unavailable (HTTP 999, trace ID t-fault; 9 attempts in 9.9 s): try again later
    snowplow-credentials: the Console is unavailable (HTTP 999, trace ID t-fault; 9 attempts in 9.9 s): try again later
    ");
}

#[test]
fn absurd_durations_are_config_errors_naming_the_setting() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    let out = run_bounded(&sandbox, &["token", "--timeout", "18446744073709551615"]);
    seen.push_str(&out.stderr);
    // A flag out of range is a usage error, like one that is not a number.
    assert_eq!(out.code, 2, "{}", out.stderr);
    for setting in [
        "timeout = 9223372036854775807",
        "command_timeout = 18446744073709551615",
        "min_ttl = 18446744073709551615",
    ] {
        sandbox.write_config(&format!("[profiles.default]\n{setting}\n"));
        let out = run_bounded(&sandbox, &["token"]);
        out.failure();
        seen.push_str(&out.stderr);
    }
    std::fs::remove_file(sandbox.config_file()).unwrap();
    sandbox.set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "18446744073709551615");
    let out = run_bounded(&sandbox, &["token"]);
    out.failure();
    seen.push_str(&out.stderr);
    assert_snapshot!(seen, @r#"
    snowplow-credentials: --timeout is 18446744073709551615 seconds: at most 86400 (a day) is allowed (see snowplow-credentials --help)
    snowplow-credentials: timeout in profile "default" of ~/.config/snowplow/credentials.toml is 9223372036854775807 seconds: at most 86400 (a day) is allowed
    snowplow-credentials: command_timeout in profile "default" of ~/.config/snowplow/credentials.toml is 18446744073709551615 seconds: at most 86400 (a day) is allowed
    snowplow-credentials: min_ttl in profile "default" of ~/.config/snowplow/credentials.toml is 18446744073709551615 seconds: at most 86400 (a day) is allowed
    snowplow-credentials: SNOWPLOW_CREDENTIALS_LOCK_WAIT is 18446744073709551615 seconds: at most 86400 (a day) is allowed
    "#);
}

#[test]
fn an_unwritable_stream_is_exit_1_not_an_abort() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // An error that cannot be told; an answer that cannot be given (Docker
    // errors go to stdout too); diagnostics that cannot be written.
    let cases = [
        ("token --config /nowhere 2>/dev/full", 1),
        ("docker get >/dev/full </dev/null", 1),
        ("token >/dev/full", 1),
        ("token -v 2>/dev/full >/dev/null", 0),
    ];
    let mut seen = Vec::new();
    for (args, _) in cases {
        let mut cmd = sandbox.shell(&format!("\"$0\" {args}; echo \"exit $?\""));
        seen.push((args, output_of(&mut cmd, None).stdout));
    }
    let expected: Vec<_> = cases
        .iter()
        .map(|(a, code)| (*a, format!("exit {code}\n")))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn the_process_is_not_dumpable_and_dumps_no_core() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let report = sandbox.path("report");
    // The key command looks at its parent, the binary, while it waits.
    let script = format!(
        "{{ grep 'Max core file size' /proc/$PPID/limits; stat -c 'environ owner %u' \
         /proc/$PPID/environ; }} > '{}'; echo {}",
        report.display(),
        console::KEY
    );
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.write_config(&format!(
        "[profiles.default]\napi_key_command = {}\n",
        sh_command(&script)
    ));
    // As root every /proc file is ours anyway: run it as another user, to
    // whom a dumpable process's /proc files belong.
    let mut cmd = sandbox.command(&["token"]);
    let user = if files_owner() == 0 {
        let copy = sandbox.path("snowplow-credentials");
        std::fs::copy(harness::BIN, &copy).unwrap();
        chown_tree(sandbox.home.path(), OTHER_UID);
        cmd = sandbox.program(&copy, &["token"]);
        std::os::unix::process::CommandExt::uid(&mut cmd, OTHER_UID);
        std::os::unix::process::CommandExt::gid(&mut cmd, OTHER_UID);
        OTHER_UID
    } else {
        files_owner()
    };
    let out = output_of(&mut cmd, None);
    out.success();
    let report = std::fs::read_to_string(report).unwrap();
    let fields: Vec<_> = report.split_whitespace().collect();
    assert_eq!(
        fields,
        [
            "Max", "core", "file", "size", "0", "0", "bytes", "environ", "owner", "0"
        ],
        "running as uid {user}: {report}"
    );
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// Who this test process is, as the owner of the files it makes.
fn files_owner() -> u32 {
    tempfile::tempfile().unwrap().metadata().unwrap().uid()
}

// 6. `hosts` entries over plain http to other machines.

#[test]
fn plain_http_hosts_entries_to_other_machines_are_config_errors() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for (entry, git_host) in [
        ("http://registry.example.com", "registry.example.com"),
        ("http://10.1.2.3:5000", "10.1.2.3:5000"),
    ] {
        sandbox.serve_also(&[entry]);
        let git = sandbox.run_with_stdin(
            &["git", "get"],
            &format!("protocol=http\nhost={git_host}\n\n"),
        );
        git.failure();
        assert_eq!(git.stdout, "");
        let docker = sandbox.run_with_stdin(&["docker", "get"], entry);
        assert_eq!(docker.code, 1);
        assert!(!docker.stdout.contains("Secret"), "{}", docker.stdout);
        seen.push_str(
            &git.stderr
                .replace(sandbox.home.path().to_str().unwrap(), "<HOME>"),
        );
    }
    assert_eq!(console.token_requests(), 0);
    assert_snapshot!(seen, @"
    snowplow-credentials: bad entry in hosts of profile \"default\" of ~/.config/snowplow/credentials.toml: http://registry.example.com is plain http to another machine: use an https URL (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)
    snowplow-credentials: bad entry in hosts of profile \"default\" of ~/.config/snowplow/credentials.toml: http://10.1.2.3:5000 is plain http to another machine: use an https URL (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)
    ");
}

// 7. IDs reaching headers and protocol lines.

#[test]
fn control_characters_in_ids_are_refused_where_they_are_read() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for (var, value) in [
        ("SNOWPLOW_CONSOLE_API_KEY_ID", "kid\r\nX-Injected: yes"),
        ("SNOWPLOW_CONSOLE_API_KEY_ID", "kid\npassword=attacker"),
        ("SNOWPLOW_CONSOLE_ORG_ID", ".."),
        ("SNOWPLOW_CONSOLE_ORG_ID", "not-an-org"),
        (
            "SNOWPLOW_CONSOLE_HOST",
            &format!("{}/a\r\nb", console.url()),
        ),
    ] {
        sandbox.set(var, value);
        for (args, stdin) in [
            (&["token"][..], ""),
            (
                &["git", "get"][..],
                &*format!("protocol=http\nhost={}\n\n", console.addr()),
            ),
            (&["status"][..], ""),
        ] {
            let out = sandbox.run_with_stdin(args, stdin);
            out.failure();
            assert_eq!(out.stdout, "", "{args:?} with {var}={value:?}");
            if args == ["token"] {
                seen.push_str(&stderr_of(&out, &sandbox, &console));
            }
        }
        sandbox.set("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID);
        sandbox.set("SNOWPLOW_CONSOLE_ORG_ID", console::ORG);
        sandbox.set("SNOWPLOW_CONSOLE_HOST", &console.url());
    }
    assert!(console.requests().is_empty(), "{:?}", console.requests());
    // Trimmed, they are fine.
    sandbox.set("SNOWPLOW_CONSOLE_ORG_ID", &format!(" {} ", console::ORG));
    sandbox.run(&["token"]).success();
    assert_snapshot!(seen, @"
    snowplow-credentials: the API key ID from SNOWPLOW_CONSOLE_API_KEY_ID has a control character (such as a line break): it must be the bare value
    snowplow-credentials: the API key ID from SNOWPLOW_CONSOLE_API_KEY_ID has a control character (such as a line break): it must be the bare value
    snowplow-credentials: the organization ID from SNOWPLOW_CONSOLE_ORG_ID is not a Console organization ID (a UUID such as 5a0e7f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b)
    snowplow-credentials: the organization ID from SNOWPLOW_CONSOLE_ORG_ID is not a Console organization ID (a UUID such as 5a0e7f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b)
    snowplow-credentials: bad Console host from SNOWPLOW_CONSOLE_HOST: `<CONSOLE>/a\\r\\nb` has a control character
    ");
}

// 8. Two identities, one cache entry.

#[test]
fn identities_that_join_alike_do_not_share_a_cache_entry() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    console.set_password_user("client x", "bot");
    let profile = |name: &str, client_id: &str, username: &str| {
        format!(
            "[profiles.{name}]\nauth = \"password\"\nhost = \"{url}\"\n\
             auth_url = \"{url}/oauth/token\"\nclient_id = \"{client_id}\"\n\
             client_secret = \"{secret}\"\nusername = \"{username}\"\npassword = \"{password}\"\n",
            url = console.url(),
            secret = console::CLIENT_SECRET,
            password = console::PASSWORD,
        )
    };
    sandbox.write_config(&format!(
        "{}\n{}",
        profile("a", "client x", "bot"),
        profile("b", "client", "x bot")
    ));
    sandbox.run(&["token", "--profile", "a"]).success();
    let b = sandbox.run(&["token", "--profile", "b"]);
    assert_ne!(
        b.stdout.trim(),
        console.issued()[0],
        "b was served a's token"
    );
    b.failure();
    assert_eq!(console.token_requests(), 2, "b asked for its own token");
}

// 9. A config file others can write.

#[test]
fn a_config_file_others_can_write_is_refused() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let marker = sandbox.path("command-ran");
    let open_dir = sandbox.path("open");
    let config = open_dir.join("credentials.toml");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::write(
        &config,
        format!(
            "[profiles.default]\napi_key_command = {}\n",
            sh_command(&format!(
                "touch '{}'; echo {}",
                marker.display(),
                console::KEY
            ))
        ),
    )
    .unwrap();
    let mut seen = String::new();
    for (file_mode, dir_mode) in [
        (0o666, 0o700),
        (0o620, 0o700),
        (0o600, 0o777),
        (0o600, 0o770),
    ] {
        set_mode(&config, file_mode);
        set_mode(&open_dir, dir_mode);
        let out = sandbox.run(&["token", "--config", config.to_str().unwrap()]);
        out.failure();
        seen.push_str(
            &out.stderr
                .replace(sandbox.home.path().to_str().unwrap(), "<HOME>"),
        );
    }
    assert!(!marker.exists(), "its command ran");
    assert_eq!(console.token_requests(), 0);
    // A sticky directory (as /tmp) is fine: others cannot replace the file.
    set_mode(&open_dir, 0o1777);
    sandbox
        .run(&["token", "--config", config.to_str().unwrap()])
        .success();
    assert_snapshot!(seen, @"
    snowplow-credentials: refusing config file ~/open/credentials.toml (from --config): it can be changed by others (mode 666), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/open/credentials.toml`
    snowplow-credentials: refusing config file ~/open/credentials.toml (from --config): it can be changed by others (mode 620), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/open/credentials.toml`
    snowplow-credentials: refusing config file ~/open/credentials.toml (from --config): its directory ~/open can be changed by others (mode 777), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/open`
    snowplow-credentials: refusing config file ~/open/credentials.toml (from --config): its directory ~/open can be changed by others (mode 770), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/open`
    ");
}

// 10. The lock wait covers the holder's key command.

#[test]
fn the_lock_wait_covers_the_holders_key_command() {
    let console = Console::start();
    let log = PathBuf::from(format!("{}-runs", console.addr().port()));
    let mut sandbox = Sandbox::for_console(&console);
    let log = sandbox.path(log.to_str().unwrap());
    // A slow prompt: each run is logged. Waiting less than the holder's
    // command_timeout (a short explicit wait) used to run it again.
    let script = format!(
        "echo run >> '{}'; sleep 3; echo {}",
        log.display(),
        console::KEY
    );
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "1");
    sandbox.write_config(&format!(
        "[profiles.default]\napi_key_command = {}\ncommand_timeout = 20\n",
        sh_command(&script)
    ));
    let children: Vec<_> = (0..5).map(|_| sandbox.spawn(&["token"])).collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| finish_within(c, WATCHDOG))
        .collect();
    for out in &outs {
        out.success();
        assert_eq!(out.stdout.trim(), console.issued()[0]);
    }
    assert_eq!(
        harness::line_count(&log),
        1,
        "the key command ran more than once"
    );
    assert_eq!(console.token_requests(), 1);
}

// 11. Smaller ones.

#[test]
fn an_ipv6_literal_host_connects() {
    let console = Console::start_on("[::1]:0");
    let sandbox = Sandbox::for_console(&console);
    assert!(
        console.url().starts_with("http://[::1]:"),
        "{}",
        console.url()
    );
    let out = run_bounded(&sandbox, &["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[0]);
}

#[test]
fn an_expiry_past_year_9999_is_a_bad_answer() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // 300000000000 is in the year 11476.
    console.set_exp(300_000_000_000);
    let mut seen = String::new();
    let out = sandbox.run(&["aws"]);
    out.failure();
    seen.push_str(&stderr_of(&out, &sandbox, &console));
    // The password grant's expires_in near u64::MAX, without an exp claim.
    console.set_exp_claim(false);
    console.set_lifetime(u64::MAX - 10);
    sandbox.set("MY_CLIENT_SECRET", console::CLIENT_SECRET);
    sandbox.write_config(&format!(
        "[profiles.default]\nauth = \"password\"\nhost = \"{url}\"\nauth_url = \"{url}/oauth/token\"\n\
         client_id = \"{}\"\nclient_secret_env = \"MY_CLIENT_SECRET\"\nusername = \"{}\"\n\
         password_command = [\"printf\", \"%s\\n\", \"{}\"]\n",
        console::CLIENT_ID,
        console::USERNAME,
        console::PASSWORD,
        url = console.url(),
    ));
    let out = sandbox.run(&["aws"]);
    out.failure();
    seen.push_str(&stderr_of(&out, &sandbox, &console));
    assert!(sandbox.cache_files().is_empty(), "cached");
    // A token minted elsewhere, in a token_file, likewise.
    let far = console::make_jwt(&serde_json::json!({ "exp": 300_000_000_000_u64 }));
    let file = sandbox.path("token");
    crate::machine::write_private(&file, &far);
    sandbox.write_config(&format!("[profiles.default]\ntoken_file = {file:?}\n"));
    let out = sandbox.run(&["aws"]);
    out.failure();
    seen.push_str(&stderr_of(&out, &sandbox, &console));
    assert_snapshot!(seen, @"
    snowplow-credentials: the token from <CONSOLE> expires after the year 9999, which is not a real answer: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console
    snowplow-credentials: the token from <CONSOLE> expires after the year 9999, which is not a real answer: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console
    snowplow-credentials: cannot use the token file <HOME>/token: its token expires after the year 9999, which is not a real expiry; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    ");
}

#[test]
fn a_huge_cache_file_is_not_read_whole() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    // 1 GiB, sparse; read whole under this memory limit it would abort.
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let mut cmd = sandbox.shell("ulimit -v 600000; exec \"$0\" token -v");
    let out = output_of(&mut cmd, None);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[1]);
    let miss = out
        .stderr
        .lines()
        .find(|l| l.contains("cache miss"))
        .unwrap_or_default();
    assert_snapshot!(stderr_of(&Output { code: 0, stdout: String::new(), stderr: miss.into() }, &sandbox, &console), @"snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (cannot use it: it is larger than 65536 bytes, far more than this program writes); it will be replaced");
}

#[test]
fn clear_all_never_fails_on_a_file_already_gone() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    // Clears racing each other (as one racing refreshes does, whose
    // temporary files come and go): many files, so the race is certain.
    let mut failures = Vec::new();
    for _ in 0..3 {
        for n in 0..3000_u64 {
            let file = sandbox.cache_dir().join(format!("token-{n:016x}.json"));
            crate::machine::write_private(&file, "{}");
        }
        let clears: Vec<_> = (0..4).map(|_| sandbox.spawn(&["clear", "--all"])).collect();
        for clear in clears {
            let out = finish_within(clear, WATCHDOG);
            if out.code != 0 {
                failures.push(stderr_of(&out, &sandbox, &console));
            }
        }
    }
    assert_eq!(failures, Vec::<String>::new());
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn a_lock_file_planted_by_another_user_is_not_used() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    let lock = file.with_extension("lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::write(&lock, "").unwrap();
    set_mode(&lock, 0o666);
    std::os::unix::fs::chown(&lock, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let out = sandbox.run(&["token", "--refresh"]);
    out.success();
    let meta = std::fs::symlink_metadata(&lock).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (files_owner(), 0o600));
}

#[test]
fn helpers_stop_reading_at_the_end_of_the_request() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let uri = format!("{}/x", console.url());
    for (args, request) in [
        (
            ["git", "get"],
            format!("protocol=http\nhost={}\n\n", console.addr()),
        ),
        (["docker", "get"], format!("{}\n", console.url())),
        (
            ["bazel", "get"],
            serde_json::json!({ "uri": uri }).to_string(),
        ),
    ] {
        // The client keeps stdin open after its request.
        let (child, stdin) = sandbox.spawn_with_open_stdin(&args, &request);
        let out = finish_within(child, WATCHDOG);
        drop(stdin);
        out.success();
        assert!(
            out.stdout.contains(&console.issued()[0]),
            "{args:?}: {}",
            out.stdout
        );
    }
}

#[test]
fn key_commands_get_no_secret_variables() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let dump = sandbox.path("env-dump");
    sandbox
        .set("SNOWPLOW_CONSOLE_API_KEY", "canary-env-api-key")
        .set("MY_CLIENT_SECRET", console::CLIENT_SECRET)
        .set("KEEP_ME", "harmless");
    sandbox.write_config(&format!(
        "[profiles.default]\nauth = \"password\"\nhost = \"{url}\"\nauth_url = \"{url}/oauth/token\"\n\
         client_id = \"{}\"\nclient_secret_env = \"MY_CLIENT_SECRET\"\nusername = \"{}\"\n\
         password_command = {}\n",
        console::CLIENT_ID,
        console::USERNAME,
        sh_command(&format!("env > '{}'; echo {}", dump.display(), console::PASSWORD)),
        url = console.url(),
    ));
    sandbox.run(&["token"]).success();
    let env = std::fs::read_to_string(&dump).unwrap();
    assert!(env.contains("KEEP_ME=harmless"), "{env}");
    for secret in ["canary-env-api-key", console::CLIENT_SECRET] {
        assert!(
            !env.contains(secret),
            "the key command saw {secret}:\n{env}"
        );
    }
}

#[test]
fn control_characters_in_messages_are_escaped() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.write_config("[profiles.default]\n");
    let mut seen = String::new();
    let out = sandbox.run(&["token", "--profile", "evil\n\x1b[31mred"]);
    out.failure();
    seen.push_str(&out.stderr);
    let config = sandbox.path("odd\x1b]0;title\x07\nname.toml");
    let out = sandbox.run(&["token", "--config", config.to_str().unwrap()]);
    out.failure();
    seen.push_str(
        &out.stderr
            .replace(sandbox.home.path().to_str().unwrap(), "<HOME>"),
    );
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "x\ty\x1b");
    let out = sandbox.run(&["token"]);
    out.failure();
    seen.push_str(&out.stderr);
    // A profile name with an ESC in it (TOML allows one in a quoted key):
    // `status`, which is for people, prints it escaped on stdout too.
    sandbox.write_config(&format!(
        "[profiles.\"evil\\u001b[2J\"]\norg_id = \"{}\"\n",
        console::ORG
    ));
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "evil\x1b[2J");
    let status = sandbox.run(&["status"]);
    assert!(
        status.stdout.starts_with("profile:       evil\\u{1b}[2J ("),
        "{status:?}"
    );
    seen.push_str(status.stdout.lines().next().unwrap_or_default());
    assert!(!seen.contains('\x1b') && !seen.contains('\x07'), "{seen:?}");
    assert_snapshot!(seen, @"
    snowplow-credentials: no profile \"evil\\n\\u{1b}[31mred\" (from --profile) in ~/.config/snowplow/credentials.toml; its profiles: default
    snowplow-credentials: cannot read config file ~/odd\\u{1b}]0;title\\u{7}\\nname.toml (from --config): No such file or directory (os error 2)
    snowplow-credentials: no profile \"x\\ty\\u{1b}\" (from SNOWPLOW_CREDENTIALS_PROFILE) in ~/.config/snowplow/credentials.toml; its profiles: default
    profile:       evil\\u{1b}[2J (~/.config/snowplow/credentials.toml)
    ");
}

// Red team 3, item 1: a copied CACHEDIR.TAG does not make a directory ours.

#[test]
fn a_copied_cache_tag_does_not_make_a_directory_ours() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let team = sandbox.path("team");
    std::fs::create_dir(&team).unwrap();
    set_mode(&team, 0o2770);
    std::fs::copy(
        sandbox.cache_dir().join("CACHEDIR.TAG"),
        team.join("CACHEDIR.TAG"),
    )
    .unwrap();
    sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", team.to_str().unwrap());
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(mode(&team), 0o2770, "the mode was changed");
    assert_eq!(std::fs::read_dir(&team).unwrap().count(), 1, "cached in it");
    assert_snapshot!(stderr_of(&out, &sandbox, &console), @"snowplow-credentials: warning: cannot use the cache directory <HOME>/team (it is open to others (mode 2770), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR");
}

// Red team 3, item 2: a symlink on the way to the config file sits in a
// directory others may write.

#[test]
fn a_config_symlink_hop_in_an_open_directory_is_refused() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let (private, open) = (sandbox.path("private"), sandbox.path("open"));
    for dir in [&private, &open] {
        std::fs::create_dir(dir).unwrap();
    }
    set_mode(&private, 0o700);
    set_mode(&open, 0o777);
    let real = private.join("real.toml");
    std::fs::write(&real, "[profiles.default]\n").unwrap();
    set_mode(&real, 0o600);
    std::os::unix::fs::symlink(&real, open.join("hop.toml")).unwrap();
    let config = private.join("credentials.toml");
    std::os::unix::fs::symlink(open.join("hop.toml"), &config).unwrap();
    let out = sandbox.run(&["token", "--config", config.to_str().unwrap()]);
    out.failure();
    assert_eq!(console.token_requests(), 0);
    assert_snapshot!(out.stderr.replace(sandbox.home.path().to_str().unwrap(), "<HOME>"), @"snowplow-credentials: refusing config file ~/private/credentials.toml (from --config): its directory ~/open can be changed by others (mode 777), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/open`");
    // The same hop in a private directory is fine.
    set_mode(&open, 0o700);
    sandbox
        .run(&["token", "--config", config.to_str().unwrap()])
        .success();
    // In a sticky directory (as /tmp), a hop another user owns is not:
    // they may still replace it.
    set_mode(&open, 0o1777);
    sandbox
        .run(&["token", "--config", config.to_str().unwrap()])
        .success();
    std::os::unix::fs::lchown(open.join("hop.toml"), Some(OTHER_UID), None).unwrap();
    let out = sandbox.run(&["token", "--config", config.to_str().unwrap()]);
    out.failure();
    assert_snapshot!(out.stderr, @"snowplow-credentials: refusing config file ~/private/credentials.toml (from --config): ~/open/hop.toml belongs to another user (uid 65534); it must be yours or root's");
}

// Red team 3, item 3: `clear --all` leaves alone what is not a file of ours.

#[test]
fn clear_all_skips_entries_that_are_not_files_it_wrote() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let dir = sandbox.cache_dir();
    std::fs::create_dir(dir.join("token-aaaaaaaaaaaaaaaa.json")).unwrap();
    crate::machine::write_private(&dir.join("token-0123456789ABCDEF.json"), "{}");
    crate::machine::write_private(&dir.join("token-0123456789ABCDEF.lock"), "");
    let theirs = dir.join("token-cccccccccccccccc.json");
    crate::machine::write_private(&theirs, "{}");
    std::os::unix::fs::chown(&theirs, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    std::os::unix::fs::symlink(&theirs, dir.join("token-bbbbbbbbbbbbbbbb.json")).unwrap();
    let out = sandbox.run(&["clear", "--all"]);
    out.success();
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_snapshot!(format!("{}{}{}", out.stdout, out.stderr, left.join("\n")).replace(sandbox.home.path().to_str().unwrap(), "<HOME>"), @"
    snowplow-credentials: removed 2 cached files from ~/.cache/snowplow/credentials; left 3 entries named like ours that are not files of yours
    CACHEDIR.TAG
    token-0123456789ABCDEF.json
    token-0123456789ABCDEF.lock
    token-aaaaaaaaaaaaaaaa.json
    token-bbbbbbbbbbbbbbbb.json
    token-cccccccccccccccc.json
    ");
}

// Red team 4, items 2 and 5: the integration recipes. Their own module, so
// its imports stay its own.
mod recipes {
    use std::io::Write;
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::path::Path;
    use std::sync::mpsc;
    use std::thread::JoinHandle;

    use crate::console::{self, Console};
    use crate::curl_make::make;
    use crate::harness::{self, Output, Sandbox, integration, output_of};
    use crate::machine::write_private;

    /// A server on 127.0.0.1 (port 0) that answers one request with a 302
    /// to the same path at `elsewhere`, as a Console behind a misconfigured
    /// front, or an attacker answering in its place, would.
    struct RedirectingFront {
        addr: SocketAddr,
        /// Says "a request came" before the answer is written, so once the
        /// client has exited its request (if any) has been counted.
        got: mpsc::Receiver<()>,
        server: Option<JoinHandle<()>>,
    }

    impl RedirectingFront {
        fn start(elsewhere: &str) -> RedirectingFront {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let elsewhere = elsewhere.to_string();
            let (tx, got) = mpsc::channel();
            let server = std::thread::spawn(move || {
                let (mut stream, _) = listener.accept().unwrap();
                let Some((head, _)) = console::read_head(&mut stream) else {
                    return;
                };
                let _ = tx.send(());
                let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {elsewhere}{path}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes());
            });
            RedirectingFront {
                addr,
                got,
                server: Some(server),
            }
        }

        /// Whether the request came; stops the server either way.
        fn was_asked(mut self) -> bool {
            let asked = self.got.try_recv().is_ok();
            if !asked {
                // Wake the accept() with an empty connection.
                let _ = TcpStream::connect(self.addr);
            }
            if let Some(server) = self.server.take() {
                server.join().unwrap();
            }
            asked
        }
    }

    /// A sandbox for the Console at `url` whose token comes from a token
    /// file (so the front need not exchange keys), with the helper on PATH.
    fn token_file_sandbox(url: &str) -> (Sandbox, String) {
        let mut sandbox = Sandbox::for_host(url);
        let jwt = console::make_jwt(&serde_json::json!({
            "sub": "attacks", "iat": console::now(), "exp": console::FAR_FUTURE_EXP
        }));
        let file = sandbox.path("run/token");
        write_private(&file, &jwt);
        sandbox
            .set("SNOWPLOW_CREDENTIALS_TOKEN_FILE", file.to_str().unwrap())
            .install_on_path();
        (sandbox, jwt)
    }

    /// Item 2: every recipe that sends the token itself, run against a
    /// Console that redirects to another server (another port: another
    /// origin), which records whether the token reached it.
    #[test]
    fn no_recipe_follows_a_redirect_with_the_token() {
        let elsewhere = Console::start();
        let mut recipes: Vec<(&str, Vec<String>)> = Vec::new();
        if let Some(python) = harness::python_with(&["botocore"]) {
            let script = integration("aws/console_api.py");
            recipes.push((
                "aws/console_api.py",
                vec![python.display().to_string(), script.display().to_string()],
            ));
        }
        if harness::require("curl").is_some() && harness::require("bash").is_some() {
            let script = integration("shell/curl.sh");
            recipes.push((
                "shell/curl.sh",
                vec!["bash".into(), script.display().to_string()],
            ));
        }
        if harness::require("make").is_some() {
            let makefile = integration("make/Makefile");
            recipes.push((
                "make/Makefile",
                [
                    "make",
                    "--no-print-directory",
                    "-f",
                    makefile.to_str().unwrap(),
                    "organizations",
                ]
                .map(String::from)
                .to_vec(),
            ));
        }
        let mut seen = String::new();
        for (name, argv) in recipes {
            let front = RedirectingFront::start(&elsewhere.url());
            let front_addr = front.addr;
            let (mut sandbox, jwt) = token_file_sandbox(&format!("http://{front_addr}"));
            sandbox
                .set(
                    "AWS_CONFIG_FILE",
                    integration("aws/config").to_str().unwrap(),
                )
                .set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
            let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
            let mut cmd = sandbox.program(&argv[0], &args);
            cmd.current_dir(sandbox.home.path());
            let out = output_of(&mut cmd, None);
            assert!(
                front.was_asked(),
                "{name} never called the Console: {out:?}"
            );
            let leaked: Vec<_> = elsewhere
                .requests()
                .into_iter()
                .filter_map(|r| r.header("authorization").map(String::from))
                .collect();
            assert!(
                leaked.is_empty(),
                "{name} sent {leaked:?} to the redirect's target: {out:?}"
            );
            assert!(
                !out.stdout.contains(&jwt) && !out.stderr.contains(&jwt),
                "{out:?}"
            );
            seen.push_str(&format!(
                "{name}: exit {}: {}\n",
                out.code,
                out.stderr
                    .replace(&front_addr.to_string(), "<FRONT>")
                    .replace(&elsewhere.url(), "<ELSEWHERE>")
                    .trim()
            ));
        }
        // The Python script says what happened; curl, without -L, never
        // follows (and takes the empty 302 as an answer).
        if let Some(line) = seen.lines().find(|l| l.starts_with("aws/")) {
            insta::assert_snapshot!(line, @"aws/console_api.py: exit 1: console_api.py: http://<FRONT>/api/msc/v1/organizations answered HTTP 302 (a redirect to <ELSEWHERE>/api/msc/v1/organizations), which is not followed with the token: use the Console's own URL in the profile (`snowplow-credentials status` shows it)");
        }
        assert_eq!(elsewhere.requests().len(), 0, "{seen}");
    }

    /// Item 4: the ESO recipes keep the key and its generator in a
    /// namespace of their own, grant the workload namespace `get` on the
    /// token Secret alone, and validate against ESO's own CRD schemas.
    /// tests/integrations/check.py holds those rules (`.ci/check-integrations`
    /// runs it too); here it fails the attack suite as well.
    #[test]
    fn the_eso_recipes_keep_the_key_out_of_the_workload_namespace() {
        let Some(python) =
            harness::python_with(&["kubernetes_validate", "hcl2", "yaml", "jsonschema"])
        else {
            return;
        };
        let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integrations/check.py");
        let mut cmd = Sandbox::new().program(&python, &[check.to_str().unwrap()]);
        let out = output_of(&mut cmd, None);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.ends_with(" 0 failed\n"), "{}", out.stdout);
    }

    /// What the shell would run if a value were pasted into a command line,
    /// inside single quotes, double quotes or none. (make reads `$$` in a
    /// command-line value as `$`, which then reaches the shell.)
    const INJECTIONS: [&str; 4] = [
        "'; touch pwned; '",
        "\"; touch pwned; \"",
        "$$(touch pwned)",
        "x`touch pwned`",
    ];

    #[track_caller]
    fn assert_not_pwned(home: &Path, what: &str, out: &Output) {
        assert!(
            !home.join("pwned").exists(),
            "{what} ran a command: {out:?}"
        );
    }

    /// Item 5: ORG and PROFILE reach commands as values, never as shell
    /// text; ORG must be an organization ID.
    #[test]
    fn the_makefile_runs_nothing_that_org_or_profile_holds() {
        if harness::require("make").is_none() {
            return;
        }
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.install_on_path();
        let makefile = integration("make/Makefile");
        let mut errors = String::new();
        for value in INJECTIONS {
            let org = make(&sandbox, &["data-structures", &format!("ORG={value}")]);
            assert_not_pwned(sandbox.home.path(), "ORG", &org);
            assert_eq!(org.code, 2, "{org:?}");
            errors.push_str(&org.stderr.replace(makefile.to_str().unwrap(), "<MAKEFILE>"));
            let profile = make(&sandbox, &["organizations", &format!("PROFILE={value}")]);
            assert_not_pwned(sandbox.home.path(), "PROFILE", &profile);
            assert_eq!(profile.code, 2, "{profile:?}");
            assert!(
                profile.stderr.contains("no profile"),
                "the helper got the value as it is: {profile:?}"
            );
        }
        assert_eq!(console.requests().len(), 0, "a bad ORG costs no token");
        insta::assert_snapshot!(errors, @"
        <MAKEFILE>:64: *** ORG must be an organization ID such as 00000000-0000-0000-0000-000000000000 (Console, Settings).  Stop.
        <MAKEFILE>:64: *** ORG must be an organization ID such as 00000000-0000-0000-0000-000000000000 (Console, Settings).  Stop.
        <MAKEFILE>:64: *** ORG must be an organization ID such as 00000000-0000-0000-0000-000000000000 (Console, Settings).  Stop.
        <MAKEFILE>:64: *** ORG must be an organization ID such as 00000000-0000-0000-0000-000000000000 (Console, Settings).  Stop.
        ");
        // A real ID on the command line is used.
        let good = make(
            &sandbox,
            &["data-structures", &format!("ORG={}", console::ORG)],
        );
        good.success();
        let last = console.requests().pop().unwrap();
        assert_eq!(
            last.path,
            format!(
                "/api/msc/v1/organizations/{}/data-structures/v1",
                console::ORG
            )
        );
    }

    /// Item 5: make imports every environment variable; ORG and PROFILE
    /// from there (or from a Makefile that includes this one) are refused.
    #[test]
    fn the_makefile_refuses_org_and_profile_from_the_environment() {
        if harness::require("make").is_none() {
            return;
        }
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.install_on_path();
        let makefile = integration("make/Makefile");
        let mut errors = String::new();
        for (name, value) in [
            ("ORG", "22222222-0000-4000-8000-000000000002"),
            ("PROFILE", "$(shell touch pwned)"),
        ] {
            sandbox.set(name, value);
            let out = make(&sandbox, &["data-structures"]);
            sandbox.unset(name);
            assert_not_pwned(sandbox.home.path(), name, &out);
            assert_eq!(out.code, 2, "{out:?}");
            errors.push_str(&out.stderr.replace(makefile.to_str().unwrap(), "<MAKEFILE>"));
        }
        // A project Makefile setting ORG for its own purposes.
        let project = sandbox.path("project.mk");
        std::fs::write(
            &project,
            format!("ORG := the-platform-team\ninclude {}\n", makefile.display()),
        )
        .unwrap();
        let mut cmd = sandbox.program("make", &["-f", project.to_str().unwrap(), "organizations"]);
        cmd.current_dir(sandbox.home.path());
        let out = output_of(&mut cmd, None);
        errors.push_str(&out.stderr.replace(makefile.to_str().unwrap(), "<MAKEFILE>"));
        assert_eq!(console.requests().len(), 0, "nothing was sent");
        insta::assert_snapshot!(errors, @"
        <MAKEFILE>:64: *** ORG is set (environment), but this Makefile takes ORG only from make's command line: run `make TARGET ORG=...`, or unset ORG.  Stop.
        <MAKEFILE>:56: *** PROFILE is set (environment), but this Makefile takes PROFILE only from make's command line: run `make TARGET PROFILE=...`, or unset PROFILE.  Stop.
        <MAKEFILE>:54: *** ORG is set (file), but this Makefile takes ORG only from make's command line: run `make TARGET ORG=...`, or unset ORG.  Stop.
        ");
    }
}

/// Issue 18, items 3, 7, 9 and 11: a token file planted by another user, a
/// password echoed from a host URL, completion reading what the commands
/// refuse, and hosts read loosely. Each failed on the code before the fix.
mod holes {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use insta::assert_snapshot;

    use super::{OTHER_UID, set_mode};
    use crate::console;
    use crate::harness::{Output, Sandbox};
    use crate::machine::write_private;

    fn jwt() -> String {
        console::make_jwt(&serde_json::json!({
            "sub": "holes", "iat": console::now(), "exp": console::FAR_FUTURE_EXP
        }))
    }

    fn mkdir(path: &Path, mode: u32) {
        std::fs::create_dir_all(path).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A sandbox for the Console at `https://console.test` that serves the
    /// token in `file`: no key, no network.
    fn token_file_sandbox(file: &Path) -> Sandbox {
        let mut sandbox = Sandbox::for_host("https://console.test");
        sandbox
            .unset("SNOWPLOW_CONSOLE_API_KEY")
            .set("SNOWPLOW_CREDENTIALS_TOKEN_FILE", file.to_str().unwrap());
        sandbox
    }

    fn home(out: &Output, sandbox: &Sandbox) -> String {
        out.stderr
            .replace(sandbox.home.path().to_str().unwrap(), "<HOME>")
    }

    /// Item 3: in a directory anyone may add to (sticky, as /tmp, or not),
    /// a token file of another user may be anyone's: refused, naming the
    /// file and its owner. One only its owner can add to is trusted,
    /// whoever wrote the file (Vault Agent writes as its own user).
    #[test]
    fn a_token_file_planted_in_a_shared_directory_is_refused() {
        // Holds the files; each run gets a sandbox of its own.
        let sandbox = Sandbox::new();
        let jwt = jwt();
        let shared = sandbox.path("shared");
        mkdir(&shared, 0o1777);
        let planted = shared.join("snowplow-token");
        std::fs::write(&planted, &jwt).unwrap();
        set_mode(&planted, 0o644);
        std::os::unix::fs::chown(&planted, Some(OTHER_UID), None).unwrap();
        let token = |file: &Path| token_file_sandbox(file).run(&["token"]);
        let out = token(&planted);
        out.failure();
        assert!(!out.stdout.contains(&jwt));
        assert_snapshot!(home(&out, &sandbox), @"snowplow-credentials: cannot use the token file <HOME>/shared/snowplow-token: it belongs to user 65534 and sits in <HOME>/shared, which others may write (mode 1777), so anyone could have put it there: it must be yours or root's, or sit in a directory only its owner can write; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file");
        // Through a directory of someone else's in the shared one.
        let theirs = shared.join("theirs");
        mkdir(&theirs, 0o755);
        let deeper = theirs.join("token");
        std::fs::write(&deeper, &jwt).unwrap();
        std::os::unix::fs::chown(&theirs, Some(OTHER_UID), None).unwrap();
        std::os::unix::fs::chown(&deeper, Some(OTHER_UID), None).unwrap();
        let out = token(&deeper);
        out.failure();
        assert_snapshot!(home(&out, &sandbox), @"snowplow-credentials: cannot use the token file <HOME>/shared/theirs/token: <HOME>/shared/theirs belongs to user 65534 and sits in <HOME>/shared, which others may write (mode 1777), so anyone could have put it there: it must be yours or root's, or sit in a directory only its owner can write; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file");
        // Non-sticky and open to all (an emptyDir): the same.
        set_mode(&shared, 0o777);
        token(&planted).failure();
        // Ours (or root's) in the shared directory: served.
        set_mode(&shared, 0o1777);
        std::os::unix::fs::chown(&planted, Some(0), None).unwrap();
        assert_eq!(token(&planted).success().stdout.trim(), jwt);
        // Root's file, reached through another user's symlink in the shared
        // directory: that user chose which file we serve, so refused.
        let link = shared.join("their-link");
        std::os::unix::fs::symlink(&planted, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(OTHER_UID), None).unwrap();
        let out = token(&link);
        out.failure();
        assert_snapshot!(home(&out, &sandbox), @"snowplow-credentials: cannot use the token file <HOME>/shared/their-link: <HOME>/shared/their-link belongs to user 65534 and sits in <HOME>/shared, which others may write (mode 1777), so anyone could have put it there: it must be yours or root's, or sit in a directory only its owner can write; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file");
        // Another user's in a directory only its owner may write: served.
        let private = sandbox.path("private");
        mkdir(&private, 0o755);
        let vault = private.join("token");
        std::fs::write(&vault, &jwt).unwrap();
        set_mode(&vault, 0o644);
        std::os::unix::fs::chown(&vault, Some(OTHER_UID), None).unwrap();
        assert_eq!(token(&vault).success().stdout.trim(), jwt);
    }

    /// Item 7: a password in the Console URL, from a flag, the variable or
    /// the profile, appears in no output of any command.
    #[test]
    fn a_password_in_a_host_url_is_never_repeated() {
        let mut seen = 0;
        // The second, pasted unencoded, has a `/` that ends the authority.
        let hosts = [
            "https://user:s3cr3t@127.0.0.1:1/",
            "https://user:s3/cr3t@127.0.0.1:1/",
        ];
        for (host, source) in hosts
            .iter()
            .flat_map(|h| ["flag", "variable", "profile"].map(|s| (*h, s)))
        {
            let mut sandbox = Sandbox::for_host("https://console.test");
            sandbox.unset("SNOWPLOW_CONSOLE_HOST");
            let mut flag: Vec<&str> = Vec::new();
            match source {
                "flag" => flag = vec!["--host", host],
                "variable" => {
                    sandbox.set("SNOWPLOW_CONSOLE_HOST", host);
                }
                _ => {
                    sandbox.write_config(&format!(
                        "[profiles.default]\nhost = \"{host}\"\norg_id = \"{}\"\n",
                        console::ORG
                    ));
                }
            }
            for command in [
                &["token"][..],
                &["status"],
                &["status", "--json"],
                &["console-url"],
                &["-v", "token"],
                &["-v", "status"],
            ] {
                let args: Vec<&str> = flag.iter().chain(command).copied().collect();
                let out = sandbox.run(&args);
                let all = format!("{}{}", out.stdout, out.stderr);
                assert!(!all.contains("cr3t"), "{source} {args:?}: {all}");
                seen += usize::from(all.contains("127.0.0.1:1"));
            }
        }
        // The messages still name the host, without the password.
        assert!(seen > 0);
        let mut sandbox = Sandbox::for_host(hosts[0]);
        let out = sandbox.unset("SNOWPLOW_CONSOLE_API_KEY").run(&["token"]);
        out.failure();
        assert_snapshot!(out.stderr, @"snowplow-credentials: bad Console host from SNOWPLOW_CONSOLE_HOST: `https://***@127.0.0.1:1/` was given with a user name or password (not shown here): put none in the URL, the key or token is the only credential sent");
    }

    /// Item 9: completion offers the profiles of no file the commands
    /// refuse, and no name a control character could turn into a terminal
    /// escape or split in two.
    #[test]
    fn completion_offers_only_profiles_the_commands_would_read() {
        let sandbox = Sandbox::new();
        let complete = || sandbox.run(&["__complete", "1", "--profile", ""]);
        let config = sandbox.write_config("[profiles.loose]\n");
        set_mode(&config, 0o666);
        assert_eq!(complete().stdout, "");
        set_mode(&config, 0o644);
        std::os::unix::fs::chown(&config, Some(OTHER_UID), None).unwrap();
        assert_eq!(complete().stdout, "");
        std::fs::remove_file(&config).unwrap();
        sandbox.write_config(
            "[profiles.ok]\n[profiles.\"osc\\u001b]0;pwned\\u0007\"]\n\
             [profiles.\"two\\nlines\"]\n[profiles.\"tab\\tbed\"]\n\
             [profiles.\"bidi\\u202ex\"]\n",
        );
        assert_eq!(complete().stdout, "ok\tprofile\n");
    }

    /// Item 11: a wildcard or a path in `hosts` is an error, not a literal
    /// host or a silently dropped path.
    #[test]
    fn hosts_entries_with_a_wildcard_or_a_path_are_refused() {
        let file = tempfile::tempdir().unwrap();
        let token = file.path().join("token");
        write_private(&token, &jwt());
        let mut errors = Vec::new();
        for entry in ["https://*.example.com", "https://registry.example.com/v2"] {
            let sandbox = token_file_sandbox(&token);
            sandbox.write_config(&format!("[profiles.default]\nhosts = [\"{entry}\"]\n"));
            let out = sandbox.run(&["token"]);
            out.failure();
            errors.push(home(&out, &sandbox).trim_end().to_string());
        }
        assert_snapshot!(errors.join("\n"), @r#"
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://*.example.com` has a bad host: give a host name (labels of letters, digits, `-`, `_`, joined by `.`, none starting or ending with `-`), an IPv4 address or [::1]; a wildcard `*` is not supported, list each host
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://registry.example.com/v2` has a path: hosts are matched by scheme, host and port only, so give those alone (`https://registry.example.com`)
        "#);
    }

    /// Red team round four: a Console host with one slash after its scheme
    /// was read as a bare host named `https` (status printed it, password
    /// and all, and `token` tried to reach it); one with `user:pw@` in its
    /// path was quoted as is. Both are refused, from every source, without
    /// repeating the password.
    #[test]
    fn a_console_host_missing_a_slash_or_with_an_at_in_its_path_is_refused() {
        let file = tempfile::tempdir().unwrap();
        let token = file.path().join("token");
        write_private(&token, &jwt());
        for host in [
            "https:/u:SECRETPW@h.com",
            "http:/127.0.0.1:1/x",
            "https://h.com/u:SECRETPW@x",
        ] {
            for args in [
                vec!["status"],
                vec!["console-url"],
                vec!["token"],
                vec!["--host", host, "token"],
            ] {
                let mut sandbox = token_file_sandbox(&token);
                if args[0] != "--host" {
                    sandbox.set("SNOWPLOW_CONSOLE_HOST", host);
                }
                let out = sandbox.run(&args);
                out.failure();
                assert!(
                    !out.stdout.contains("SECRETPW"),
                    "{host} {args:?}: {}",
                    out.stdout
                );
                assert!(
                    !out.stderr.contains("SECRETPW"),
                    "{host} {args:?}: {}",
                    out.stderr
                );
                assert!(out.stderr.contains("bad Console host"), "{}", out.stderr);
            }
            let mut sandbox = token_file_sandbox(&token);
            sandbox.unset("SNOWPLOW_CONSOLE_HOST");
            sandbox.write_config(&format!("[profiles.default]\nhost = \"{host}\"\n"));
            let out = sandbox.run(&["token"]);
            out.failure();
            assert!(!out.stderr.contains("SECRETPW"), "{}", out.stderr);
            assert!(out.stderr.contains("bad Console host"), "{}", out.stderr);
        }
    }

    /// Red team round four: `hosts` took empty labels, labels at a `-` and
    /// IPv6 literals the client cannot reach; a query got a hint naming a
    /// path, which `hosts` refuses.
    #[test]
    fn hosts_entries_with_bad_labels_ipv6_or_a_query_are_refused() {
        let file = tempfile::tempdir().unwrap();
        let token = file.path().join("token");
        write_private(&token, &jwt());
        let mut errors = Vec::new();
        for entry in [
            "https://reg..example.com",
            "https://-reg.example.com",
            "https://[::2]",
            "https://reg.example.com?x",
        ] {
            let sandbox = token_file_sandbox(&token);
            sandbox.write_config(&format!("[profiles.default]\nhosts = [\"{entry}\"]\n"));
            let out = sandbox.run(&["token"]);
            out.failure();
            errors.push(home(&out, &sandbox).trim_end().to_string());
        }
        assert_snapshot!(errors.join("\n"), @r#"
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://reg..example.com` has a bad host: give a host name (labels of letters, digits, `-`, `_`, joined by `.`, none starting or ending with `-`), an IPv4 address or [::1]; a wildcard `*` is not supported, list each host
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://-reg.example.com` has a bad host: give a host name (labels of letters, digits, `-`, `_`, joined by `.`, none starting or ending with `-`), an IPv4 address or [::1]; a wildcard `*` is not supported, list each host
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://[::2]` has a bad host: give a host name (labels of letters, digits, `-`, `_`, joined by `.`, none starting or ending with `-`), an IPv4 address or [::1]; a wildcard `*` is not supported, list each host
        snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `https://reg.example.com?x` has a query or fragment (`?` or `#`): remove it, a URL given here carries none
        "#);
    }

    /// Item 11: git and Terraform name a host alone; one with a `/` is no
    /// host we serve (not the Console before the `/`), and gets each
    /// protocol's own "no credentials" answer.
    #[test]
    fn git_and_terraform_hosts_with_a_slash_are_not_the_console() {
        let file = tempfile::tempdir().unwrap();
        let token = file.path().join("token");
        let jwt = jwt();
        write_private(&token, &jwt);
        let sandbox = token_file_sandbox(&token);
        let git = |host: &str| {
            sandbox.run_with_stdin(&["git", "get"], &format!("protocol=https\nhost={host}\n\n"))
        };
        assert!(git("console.test").success().stdout.contains(&jwt));
        for host in [
            "console.test/elsewhere",
            "console.test/",
            "console.test:443/x",
        ] {
            assert_eq!(git(host).success().stdout, "", "{host}");
        }
        let terraform = |host: &str| sandbox.run(&["terraform", "get", host]);
        assert!(terraform("console.test").success().stdout.contains(&jwt));
        for host in [
            "console.test/elsewhere",
            "https://console.test",
            "console.test/",
        ] {
            assert_eq!(terraform(host).success().stdout, "{}\n", "{host}");
        }
    }
}

/// Issue 18, items 6, 8 and 12: the sink replacing files it did not write,
/// its `--group` checks and messages, and a key command's background child
/// holding our stderr. Each failed on the code before the fix.
mod sink_and_key_command {
    use std::path::Path;
    use std::process::{Command, Stdio};

    use super::{OTHER_UID, WATCHDOG, chown_tree, files_owner, sh_command, stderr_of};
    use crate::console::{self, Console};
    use crate::harness::{self, Sandbox, finish_within, output_of};

    fn s(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    /// 18.6: the sink overwrote any regular file: its own config file,
    /// snowplow-cli's snowplow.yml (and the key in it), as root anything.
    #[test]
    fn the_sink_replaces_only_files_it_wrote() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        let config = sandbox.write_config("[profiles.default]\n");
        let dir = sandbox.path("run");
        std::fs::create_dir_all(&dir).unwrap();
        let yml = dir.join("snowplow.yml");
        let yml_text = "console:\n  api-key: the-long-lived-key\n";
        std::fs::write(&yml, yml_text).unwrap();
        let mut seen = String::new();
        for args in [
            vec!["sink", s(&config), "--once"],
            vec!["sink", s(&config), "--once", "--force"],
            vec!["sink", s(&yml), "--once"],
            vec![
                "sink",
                s(&dir.join("t")),
                "--header-file",
                s(&yml),
                "--once",
            ],
        ] {
            let out = sandbox.run(&args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            seen.push_str(&stderr_of(&out, &sandbox, &console));
        }
        insta::assert_snapshot!(seen, @"
        snowplow-credentials: sink: <HOME>/.config/snowplow/credentials.toml is the config file in use: give the token file another path
        snowplow-credentials: sink: <HOME>/.config/snowplow/credentials.toml is the config file in use: give the token file another path
        snowplow-credentials: sink: <HOME>/run/snowplow.yml exists and was not written by the sink (it holds something other than a token): give another path, or add --force to replace it
        snowplow-credentials: sink: <HOME>/run/snowplow.yml exists and was not written by the sink (it holds something other than a token): give another path, or add --force to replace it
        ");
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "[profiles.default]\n"
        );
        assert_eq!(std::fs::read_to_string(&yml).unwrap(), yml_text);
        assert_eq!(console.token_requests(), 0);

        // What it wrote itself, it replaces; the foreign file with --force.
        let token = dir.join("token");
        let header = dir.join("header");
        // {"alg":"none"} . {"exp":1} . sig
        let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2ln";
        std::fs::write(&token, jwt).unwrap();
        std::fs::write(&header, format!("Authorization: Bearer {jwt}\n")).unwrap();
        let args = ["sink", s(&token), "--header-file", s(&header), "--once"];
        sandbox.run(&args).success();
        let issued = console.issued()[0].clone();
        assert_eq!(std::fs::read_to_string(&token).unwrap(), issued);
        let line = format!("Authorization: Bearer {issued}\n");
        assert_eq!(std::fs::read_to_string(&header).unwrap(), line);
        sandbox.run(&args).success();
        sandbox
            .run(&["sink", s(&yml), "--once", "--force"])
            .success();
        assert_eq!(std::fs::read_to_string(&yml).unwrap(), issued);
    }

    /// snowplow-cli's snowplow.yml and .env, the config in use, were
    /// replaced with --force: the only copy of the API key became a JWT.
    #[test]
    fn the_sink_never_replaces_snowplow_clis_files() {
        use std::os::unix::fs::PermissionsExt;
        let console = Console::start();
        let sandbox = Sandbox::new();
        let dir = sandbox.path(".config/snowplow");
        std::fs::create_dir_all(&dir).unwrap();
        let yml = dir.join("snowplow.yml");
        let env = dir.join(".env");
        let yml_text = format!(
            "console:\n  org-id: {}\n  api-key-id: {}\n  api-key: {}\n  host: {}\n",
            console::ORG,
            console::KEY_ID,
            console::KEY,
            console.url()
        );
        let env_text = format!("SNOWPLOW_CONSOLE_ORG_ID=\"{}\"\n", console::ORG);
        for (path, text) in [(&yml, &yml_text), (&env, &env_text)] {
            std::fs::write(path, text).unwrap();
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(path, private).unwrap();
        }
        // The identity comes from these files: no config of ours.
        sandbox.run(&["token"]).success();
        let before = console.token_requests();
        let run = sandbox.path("run");
        std::fs::create_dir_all(&run).unwrap();
        let mut seen = String::new();
        for target in [&yml, &env, &dir.join("../snowplow/./snowplow.yml")] {
            for args in [
                vec!["sink", s(target), "--once", "--force"],
                vec![
                    "sink",
                    s(&run.join("t")),
                    "--header-file",
                    s(target),
                    "--once",
                    "--force",
                ],
            ] {
                let out = sandbox.run(&args);
                assert_eq!(out.code, 2, "{args:?}: {out:?}");
                seen.push_str(&stderr_of(&out, &sandbox, &console));
            }
        }
        assert!(
            seen.lines()
                .all(|l| l.contains("is snowplow-cli's settings file")),
            "{seen}"
        );
        assert_eq!(seen.lines().count(), 6, "{seen}");
        assert_eq!(std::fs::read_to_string(&yml).unwrap(), yml_text);
        assert_eq!(std::fs::read_to_string(&env).unwrap(), env_text);
        assert_eq!(console.token_requests(), before);
    }

    /// Any three dot-separated words (a host name, a version) passed for
    /// a token the sink wrote, and were replaced without --force.
    #[test]
    fn the_sink_takes_only_a_jwt_for_its_own() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        sandbox.write_config("[profiles.default]\n");
        let dir = sandbox.path("run");
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        let header = dir.join("header");
        for words in ["www.example.com", "1.2.3", "x.y.z"] {
            std::fs::write(&token, words).unwrap();
            let out = sandbox.run(&["sink", s(&token), "--once"]);
            assert_eq!(out.code, 2, "{words}: {out:?}");
            assert_eq!(std::fs::read_to_string(&token).unwrap(), words);
        }
        std::fs::remove_file(&token).unwrap();
        let line = "Authorization: Bearer www.example.com\n";
        std::fs::write(&header, line).unwrap();
        let args = ["sink", s(&token), "--header-file", s(&header), "--once"];
        let out = sandbox.run(&args);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(stderr_of(&out, &sandbox, &console).contains("was not written by the sink"));
        assert_eq!(std::fs::read_to_string(&header).unwrap(), line);
        assert_eq!(console.token_requests(), 0);
    }

    /// 18.8: `--group 4294967295` was taken (chown's "no change"), a group
    /// the user is not in failed late saying the directory must be
    /// writable, and so did a full disk.
    #[test]
    fn sink_group_checks_come_first_and_a_full_disk_says_so() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        let dir = sandbox.path("run");
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        let mut seen = String::new();
        let out = sandbox.run(&["sink", s(&token), "--once", "--group", "4294967295"]);
        assert_eq!(out.code, 2, "{out:?}");
        seen.push_str(&stderr_of(&out, &sandbox, &console));

        // Group 0 (root's), asked for by someone not in it: as root, run it
        // as nobody, in a home that nobody owns.
        let mut cmd = sandbox.command(&["sink", s(&token), "--once", "--group", "0"]);
        if files_owner() == 0 {
            let copy = sandbox.path("snowplow-credentials");
            std::fs::copy(harness::BIN, &copy).unwrap();
            chown_tree(sandbox.home.path(), OTHER_UID);
            cmd = sandbox.program(&copy, &["sink", s(&token), "--once", "--group", "0"]);
            std::os::unix::process::CommandExt::uid(&mut cmd, OTHER_UID);
            std::os::unix::process::CommandExt::gid(&mut cmd, OTHER_UID);
        } else {
            let groups = Command::new("id").arg("-G").output().unwrap().stdout;
            if String::from_utf8_lossy(&groups)
                .split_whitespace()
                .any(|g| g == "0")
            {
                eprintln!("SKIPPED in part: this user is in group 0");
                cmd = sandbox.command(&["sink", s(&token), "--once", "--group", "4294967295"]);
            }
        }
        let out = output_of(&mut cmd, None);
        assert_eq!(out.code, 2, "{out:?}");
        seen.push_str(&stderr_of(&out, &sandbox, &console));
        insta::assert_snapshot!(seen, @"
        snowplow-credentials: --group 4294967295 is not a group: chown takes it to mean no change; give a real group
        snowplow-credentials: --group 0: this user is not in that group, so cannot give it the files: give one of the groups `id -G` lists, or run as root
        ");
        assert!(!token.exists());
        assert_eq!(console.token_requests(), 0);
    }

    /// A small tmpfs, unmounted when dropped.
    struct Tmpfs<'a>(&'a Path);

    impl Drop for Tmpfs<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }

    #[test]
    fn sink_on_a_full_disk_says_the_disk_is_full() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        let dir = sandbox.path("full");
        std::fs::create_dir_all(&dir).unwrap();
        // Mounting takes root with CAP_SYS_ADMIN, which a CI container may
        // not have: then there is nothing to test here.
        let mounted = files_owner() == 0
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs", s(&dir)])
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED: cannot mount a small tmpfs here");
            return;
        }
        let _mount = Tmpfs(&dir);
        // Fill it: writes stop at ENOSPC.
        let filler = vec![b'x'; 64 * 1024];
        let _ = std::fs::write(dir.join("filler"), &filler);
        let token = dir.join("token");
        let out = sandbox.run(&["sink", s(&token), "--once"]);
        assert_eq!(out.code, 1, "{out:?}");
        // The temporary file's name is random: the message up to it.
        let stderr = stderr_of(&out, &sandbox, &console);
        assert!(
            stderr.starts_with(
                "snowplow-credentials: cannot write <HOME>/full/token: No space left on device"
            ),
            "{stderr}"
        );
        assert!(!token.exists());
    }

    /// 18.12: a key command that leaves a child holding its stderr made a
    /// caller reading our stderr through a pipe (botocore, Go's exec) wait
    /// for that child: here, 30 s.
    #[test]
    fn a_key_command_child_holding_stderr_does_not_hold_our_caller() {
        let Some(python) = harness::python_with(&["subprocess"]) else {
            return;
        };
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
        let script = format!(
            "echo {}; echo from the key command >&2; sleep 30 & exit 0",
            console::KEY
        );
        sandbox.write_config(&format!(
            "[profiles.default]\napi_key_command = {}\n",
            sh_command(&script)
        ));
        let caller = "import subprocess, sys\n\
            try:\n    r = subprocess.run(sys.argv[1:], capture_output=True, timeout=10)\n\
            except subprocess.TimeoutExpired:\n    print('waited for the background child')\n    sys.exit(3)\n\
            sys.stdout.buffer.write(r.stdout)\nsys.stderr.buffer.write(r.stderr)\nsys.exit(r.returncode)\n";
        let mut cmd = sandbox.program(&python, &["-c", caller, harness::BIN, "token"]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = finish_within(cmd.spawn().unwrap(), WATCHDOG);
        out.success();
        assert_eq!(out.stdout.trim(), console.issued()[0]);
        assert!(
            out.stderr.contains("from the key command"),
            "the command's stderr is relayed: {out:?}"
        );
    }
}

// Red team 4 (the CLI's findings): install-links keeps another program's
// link, every message is one escaped line, bad Console answers say what was
// wrong, usage errors for `help nope` and `--version extra`, and `-v git
// erase` says it dropped the token. Its own module, so its imports stay its
// own.
mod red_team_four_cli {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::path::Path;

    use crate::console::{self, Console};
    use crate::harness::{self, Output, Sandbox, integration, output_of};

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Item 1: a symlink to another program is not ours to replace.
    #[test]
    fn install_links_keeps_a_link_to_another_program() {
        let sandbox = Sandbox::new();
        let dir = sandbox.path("links");
        std::fs::create_dir_all(&dir).unwrap();
        let git = dir.join("git-credential-snowplow");
        std::os::unix::fs::symlink("/etc/passwd", &git).unwrap();
        let out = sandbox.run(&["install-links", dir.to_str().unwrap(), "--only", "git"]);
        assert_eq!(out.code, 1, "{out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", out.stderr);
        assert_eq!(
            lines[0],
            format!(
                "snowplow-credentials: warning: {} links to /etc/passwd, not this program; \
                 move it away and run install-links again",
                git.display()
            )
        );
        assert_eq!(std::fs::read_link(&git).unwrap(), Path::new("/etc/passwd"));

        // A link that leads to this binary is ours: kept, and said so.
        std::fs::remove_file(&git).unwrap();
        let made = sandbox.run(&["install-links", dir.to_str().unwrap(), "--only", "git"]);
        assert_eq!(made.code, 0, "{made:?}");
        let via = dir.join("via");
        std::os::unix::fs::symlink(std::fs::read_link(&git).unwrap(), &via).unwrap();
        std::fs::remove_file(&git).unwrap();
        std::os::unix::fs::symlink(&via, &git).unwrap();
        let again = sandbox.run(&["install-links", dir.to_str().unwrap(), "--only", "git"]);
        assert_eq!(again.code, 0, "{again:?}");
        assert!(
            again.stderr.contains("already links to"),
            "{}",
            again.stderr
        );
        assert_eq!(std::fs::read_link(&git).unwrap(), via);
    }

    /// Item 2: a newline in the directory's name stays inside one escaped
    /// line per name, on success as on failure.
    #[test]
    fn install_links_says_a_path_with_a_newline_on_one_line() {
        let sandbox = Sandbox::new();
        let dir = sandbox.path("two\nlines");
        let out = sandbox.run(&["install-links", dir.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(names_in(&dir).len(), 3);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 3, "{}", out.stderr);
        for line in lines {
            assert!(
                line.starts_with("snowplow-credentials: ") && line.contains("two\\nlines"),
                "{line}"
            );
        }
    }

    /// The same for `clear --all`: its one message names a cache directory
    /// with a newline in it on one escaped line.
    #[test]
    fn clear_says_a_cache_directory_with_a_newline_on_one_line() {
        let mut sandbox = Sandbox::new();
        let dir = sandbox.path("cache\nhere");
        std::fs::create_dir(&dir).unwrap();
        sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", dir.to_str().unwrap());
        let out = sandbox.run(&["clear", "--all"]);
        assert_eq!(out.code, 0, "{out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", out.stderr);
        assert!(lines[0].contains("cache\\nhere"), "{}", lines[0]);
    }

    /// A server on 127.0.0.1 (port 0) that answers one connection with
    /// `answer`, whatever it asked; the client's exit is when it is done.
    fn answering(answer: Vec<u8>, run: impl FnOnce(&str) -> Output) -> Output {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            if console::read_head(&mut stream).is_some() {
                let _ = stream.write_all(&answer);
            }
        });
        let out = run(&format!("http://{addr}"));
        // Wake the accept() if no request came; refused once it has gone.
        let _ = TcpStream::connect(addr);
        server.join().unwrap();
        out
    }

    fn token_from(answer: Vec<u8>) -> Output {
        answering(answer, |url| Sandbox::for_host(url).run(&["token"]))
    }

    fn ok_json(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    /// Item 3: JSON of the wrong shape is not "not JSON".
    #[test]
    fn json_of_the_wrong_shape_says_so() {
        for body in [
            r#"{"accessToken":5}"#,
            "[]",
            r#"{"accessToken":"a","accessToken":"b"}"#,
        ] {
            let out = token_from(ok_json(body));
            assert_eq!(out.code, 1, "{body}: {out:?}");
            assert!(
                out.stderr.contains(
                    "answered with JSON of the wrong shape (it needs one `accessToken`, \
                     a string) instead of a token"
                ),
                "{body}: {}",
                out.stderr
            );
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        }
        let not_json = token_from(ok_json("{accessToken"));
        assert!(
            not_json.stderr.contains("something that is not JSON"),
            "{}",
            not_json.stderr
        );
    }

    /// Item 3: an answer minreq cannot read is worded as ours, with what
    /// to check.
    #[test]
    fn a_malformed_http_answer_says_what_to_check() {
        let huge = format!(
            "HTTP/1.1 200 OK\r\nX-Filler: {}\r\nContent-Length: 2\r\n\r\n{{}}",
            "a".repeat(20_000)
        );
        let bad_length =
            "HTTP/1.1 200 OK\r\nContent-Length: lots\r\nConnection: close\r\n\r\n{}".to_string();
        for answer in [huge, bad_length] {
            let out = token_from(answer.into_bytes());
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr
                    .contains("sent a malformed answer, not HTTP we understand")
                    && out
                        .stderr
                        .contains("check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console"),
                "{}",
                out.stderr
            );
            assert!(
                !out.stderr.contains("max_headers_size") && !out.stderr.contains("usize"),
                "{}",
                out.stderr
            );
        }
    }

    /// Item 4: `help nope` names the unknown command; `--version extra` is
    /// a usage error, `--version` alone and Docker's `version` are not.
    #[test]
    fn help_for_an_unknown_command_and_version_with_extra_words() {
        let sandbox = Sandbox::new();
        let out = sandbox.run(&["help", "nope"]);
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
        assert_eq!(
            out.stderr,
            "snowplow-credentials: help: unknown command `nope` (see snowplow-credentials --help)\n"
        );
        let out = sandbox.run(&["--version", "extra"]);
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
        assert_eq!(
            out.stderr,
            "snowplow-credentials: unknown command `extra` (see snowplow-credentials --help)\n"
        );
        assert_eq!(sandbox.run(&["token", "--version"]).code, 0);
        let out = sandbox.run(&["--version"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout.starts_with("snowplow-credentials "),
            "{}",
            out.stdout
        );
        let out = sandbox.run(&["docker", "version"]);
        assert_eq!(out.code, 0, "{out:?}");
    }

    /// Item 6: `-v git erase` with the cached token says it dropped it.
    #[test]
    fn verbose_git_erase_says_the_cached_token_was_dropped() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        let get = format!("protocol=http\nhost={}\n\n", console.addr());
        sandbox.run_with_stdin(&["git", "get"], &get).success();
        let jwt = &console.issued()[0];
        let erase = format!(
            "protocol=http\nhost={}\nusername=x\npassword={jwt}\n\n",
            console.addr()
        );
        let out = sandbox.run_with_stdin(&["-v", "git", "erase"], &erase);
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
        assert!(sandbox.cache_files().is_empty());
        assert_eq!(
            out.stderr
                .lines()
                .filter(|l| l.contains("dropped the cached token of profile"))
                .count(),
            1,
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains(jwt.as_str()));
    }

    /// Item 5: `sh integrations/shell/curl.sh` (how a reader may run it)
    /// works as bash does, not failing on `<(...)`.
    #[test]
    fn the_curl_script_run_with_sh_runs_under_bash() {
        let console = Console::start();
        if harness::require("bash").is_none() || harness::require("curl").is_none() {
            return;
        }
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.install_on_path();
        let script = integration("shell/curl.sh");
        let mut sh = sandbox.program("sh", &[script.to_str().unwrap()]);
        let out = output_of(sh.current_dir(sandbox.home.path()), None);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("Stand-in Org"), "{}", out.stdout);
    }
}

/// The fourth outside review's findings on tokens, the cache and the paths
/// and waits around them; each test failed before its fix.
mod red_team_four_tokens {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;

    use super::{WATCHDOG, set_mode};
    use crate::console::{self, Console};
    use crate::harness::{Sandbox, finish_within};
    use crate::machine::write_private;

    /// 4.1: a Console token with no `exp`, or `exp` 0, was served (tools
    /// then kept it forever) and never cached.
    #[test]
    fn a_console_token_without_a_usable_expiry_is_refused() {
        let console = Console::start();
        console.set_exp_claim(false);
        let sandbox = Sandbox::for_console(&console);
        for args in [&["token"][..], &["aws"]] {
            let out = sandbox.run(args);
            assert_eq!(out.code, 1, "{out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
            assert!(
                out.stderr.contains("has no expiry") && out.stderr.ends_with("Console\n"),
                "{}",
                out.stderr
            );
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        }
        console.set_exp_claim(true);
        console.set_exp(0);
        let out = sandbox.run(&["token"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("expired at 1970-01-01T00:00:00Z"),
            "{out:?}"
        );
        assert!(sandbox.cache_files().is_empty());
    }

    /// 4.1: the password grant's `expires_in: 0` on a token without `exp`.
    #[test]
    fn a_password_grant_token_that_expires_in_zero_is_refused() {
        let console = Console::start();
        console.set_exp_claim(false);
        console.set_lifetime(0);
        let mut sandbox = Sandbox::new();
        sandbox.write_password_profile(
            &console,
            &format!(
                r#"password_command = ["printf", "%s\n", "{}"]"#,
                console::PASSWORD
            ),
        );
        let out = sandbox.run(&["token"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stdout.is_empty() && out.stderr.contains("before it arrived"),
            "{out:?}"
        );
    }

    /// Writes a cache entry for the sandbox's one identity: first makes the
    /// real entry with a `token` call, then rewrites its token and exp.
    fn plant(sandbox: &Sandbox, token: &str, exp: u64) {
        sandbox.run(&["token"]).success();
        let [file] = &sandbox.cache_files()[..] else {
            panic!("one cache file")
        };
        let mut entry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        entry["token"] = token.into();
        entry["exp"] = exp.into();
        write_private(file, &entry.to_string());
        set_mode(file, 0o600);
    }

    /// 4.2: a cached token was served as stored: a newline in it injected
    /// a line into git's output.
    #[test]
    fn a_cached_token_that_is_not_a_jwt_is_a_miss() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        plant(&sandbox, "a.b.c\nhost=evil.com", console::FAR_FUTURE_EXP);
        let out = sandbox.run(&["token", "-v"]);
        out.success();
        assert!(!out.stdout.contains("evil"), "{out:?}");
        assert!(
            out.stderr.contains("its token is not a JWT"),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout.trim(), console.issued().last().unwrap());
    }

    /// 4.2: the file's `exp` was trusted over the token's own.
    #[test]
    fn a_cached_token_whose_own_exp_is_past_is_a_miss() {
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        let past = console::make_jwt(&serde_json::json!({"iat": 1, "exp": 2}));
        plant(&sandbox, &past, console::FAR_FUTURE_EXP);
        let out = sandbox.run(&["token", "-v"]);
        out.success();
        assert_ne!(out.stdout.trim(), past);
        assert!(
            out.stderr.contains("does not match its token's exp claim"),
            "{}",
            out.stderr
        );
        assert_eq!(console.token_requests(), 2);
    }

    /// 4.3: a relative cache directory landed in the current directory (a
    /// repository, under git).
    #[test]
    fn a_relative_cache_dir_is_refused() {
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", "cache");
        let mut cmd = sandbox.command(&["token"]);
        cmd.current_dir(sandbox.home.path());
        let out = crate::harness::output_of(&mut cmd, None);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr,
            "snowplow-credentials: SNOWPLOW_CREDENTIALS_CACHE_DIR is `cache`, a relative path: \
             set SNOWPLOW_CREDENTIALS_CACHE_DIR to an absolute path\n"
        );
        assert!(!sandbox.path("cache").exists());
        assert_eq!(console.token_requests(), 0);
    }

    /// 4.4: a HOME that does not exist was created (as root, anywhere).
    #[test]
    fn a_home_that_does_not_exist_is_refused_not_created() {
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        let missing = sandbox.path("nonexistent");
        sandbox
            .set("HOME", missing.to_str().unwrap())
            .unset("XDG_CACHE_HOME")
            .unset("SNOWPLOW_CREDENTIALS_CACHE_DIR");
        let out = sandbox.run(&["token"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("which is not an existing directory: set HOME to your home")
                && out
                    .stderr
                    .ends_with("or set SNOWPLOW_CREDENTIALS_CACHE_DIR\n"),
            "{}",
            out.stderr
        );
        assert!(!missing.exists());
        // A token_file profile writes no cache: it works there (Debian's
        // `nobody` has HOME=/nonexistent).
        let token_file = sandbox.path("token");
        let jwt = console::make_jwt(&serde_json::json!({ "exp": 4_000_000_000_u64 }));
        crate::machine::write_private(&token_file, &jwt);
        sandbox.set(
            "SNOWPLOW_CREDENTIALS_TOKEN_FILE",
            token_file.to_str().unwrap(),
        );
        sandbox.run(&["token"]).success();
        assert!(!missing.exists());
        sandbox.unset("SNOWPLOW_CREDENTIALS_TOKEN_FILE");
        // Unset, the password database's home is used, and -v says so.
        sandbox.unset("HOME");
        let out = sandbox.run(&["token", "-v"]);
        assert!(out.stderr.contains("HOME is not set"), "{}", out.stderr);
    }

    /// 4.6: a lock wait that is not a duration was accepted on a hit and
    /// `-5`, `0` never refused like other durations.
    #[test]
    fn a_bad_lock_wait_is_refused_like_any_duration() {
        let console = Console::start();
        let mut sandbox = Sandbox::for_console(&console);
        sandbox.run(&["token"]).success();
        for (value, why) in [
            ("-5", "must be a whole number of seconds, not `-5`"),
            ("0", "must be at least 1 second, not 0"),
            (
                "86401",
                "is 86401 seconds: at most 86400 (a day) is allowed",
            ),
        ] {
            sandbox.set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", value);
            let out = sandbox.run(&["token"]);
            assert_eq!(out.code, 1, "{value}: {out:?}");
            assert_eq!(
                out.stderr,
                format!("snowplow-credentials: SNOWPLOW_CREDENTIALS_LOCK_WAIT {why}\n")
            );
        }
        assert_eq!(console.token_requests(), 1);
    }

    /// 4.5: N concurrent `--refresh` calls made N exchanges, one after
    /// another. The test holds the lock until every call is waiting for it
    /// (each says so under -v), so all started before any new token.
    #[test]
    fn concurrent_refreshes_share_one_exchange() {
        const CALLS: usize = 10;
        let console = Console::start();
        let sandbox = Sandbox::for_console(&console);
        sandbox.run(&["token"]).success();
        let lock_path = sandbox.cache_files()[0].with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lock_path)
            .unwrap();
        lock.lock().unwrap();
        let (waiting, waited) = mpsc::channel();
        let mut children = Vec::new();
        for _ in 0..CALLS {
            let mut child = sandbox.spawn(&["token", "--refresh", "-v"]);
            let stderr = child.stderr.take().unwrap();
            let waiting = waiting.clone();
            let rest = std::thread::spawn(move || {
                let mut lines = Vec::new();
                for line in BufReader::new(stderr).lines() {
                    let line = line.unwrap();
                    if line.contains("waiting up to") {
                        let _ = waiting.send(());
                    }
                    lines.push(line);
                }
                lines
            });
            children.push((child, rest));
        }
        for _ in 0..CALLS {
            waited
                .recv_timeout(WATCHDOG)
                .expect("every call waits for the lock");
        }
        drop(lock);
        let mut served = Vec::new();
        for (child, rest) in children {
            let out = finish_within(child, WATCHDOG);
            let stderr = rest.join().unwrap().join("\n");
            assert_eq!(out.code, 0, "{stderr}");
            served.push(out.stdout.trim().to_string());
        }
        // One initial exchange, then at most two for the ten refreshes.
        let exchanges = console.token_requests() - 1;
        assert!(
            exchanges <= 2,
            "{exchanges} exchanges for {CALLS} --refresh calls"
        );
        assert!(served.iter().all(|t| *t != console.issued()[0]));
    }
}
