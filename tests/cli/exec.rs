//! `exec -- CMD`: the command, and it alone, gets the Console variables (or
//! only a token with --token); its exit status and its death by a signal
//! are ours. The children are real: `sh -c` printing what it was given.

use std::os::unix::process::ExitStatusExt;

use crate::console::{self, Console};
use crate::harness::{BIN, Sandbox, output_of};

/// Prints each Console variable the child sees, as `NAME=value`, sorted.
const SHOW: &str = "env | grep '^SNOWPLOW_CONSOLE_' | sort";

#[test]
fn the_child_alone_gets_the_profiles_key_and_identity() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    sandbox.write_key_env_profile("work", &console, "WORK_KEY");
    // The parent shell runs exec, then looks at its own environment.
    let script =
        format!("'{BIN}' exec --profile work -- sh -c \"{SHOW}\"; echo parent:; {SHOW}; true");
    let out = output_of(&mut sandbox.shell(&script), None);
    assert_eq!(
        out.stdout,
        format!(
            "SNOWPLOW_CONSOLE_API_KEY={}\nSNOWPLOW_CONSOLE_API_KEY_ID={}\n\
             SNOWPLOW_CONSOLE_HOST={}\nSNOWPLOW_CONSOLE_ORGANIZATION_ID={org}\n\
             SNOWPLOW_CONSOLE_ORG_ID={org}\nparent:\n",
            console::KEY,
            console::KEY_ID,
            console.url(),
            org = console::ORG,
        ),
        "{}",
        out.stderr
    );
    // Handing over the key needs no token.
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn the_childs_exit_code_and_signal_are_passed_on() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let status = sandbox
        .command(&["exec", "--", "sh", "-c", "exit 7"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    let status = sandbox
        .command(&["exec", "--", "sh", "-c", "kill -TERM $$"])
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    let out = sandbox.run(&["exec", "--", "no-such-program-here"]);
    assert_eq!(out.code, 127);
    assert!(out.stderr.contains("`no-such-program-here` was not found"));
}

#[test]
fn arguments_after_the_dashes_are_the_commands_own() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let out = sandbox.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s|' \"$@\"",
        "sh",
        "--profile",
        "-v",
        "--",
        "x",
    ]);
    assert_eq!(out.stdout, "--profile|-v|--|x|", "{}", out.stderr);
    for words in [&["exec"][..], &["exec", "--"], &["exec", "sh"]] {
        let out = sandbox.run(words);
        assert_eq!(out.code, 2, "{words:?}");
        assert!(out.stderr.contains("exec -- CMD ARGS"), "{}", out.stderr);
    }
}

#[test]
fn with_token_the_child_gets_a_token_and_no_key() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let token = sandbox.run(&["token"]).success().stdout.trim().to_string();
    let out = sandbox.run(&["exec", "--token", "--", "sh", "-c", SHOW]);
    assert_eq!(
        out.stdout,
        format!(
            "SNOWPLOW_CONSOLE_HOST={}\nSNOWPLOW_CONSOLE_ORGANIZATION_ID={org}\n\
             SNOWPLOW_CONSOLE_ORG_ID={org}\nSNOWPLOW_CONSOLE_TOKEN={token}\n",
            console.url(),
            org = console::ORG,
        ),
        "{}",
        out.stderr
    );
    // The cached token was handed over: one exchange in all.
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn a_profile_without_a_key_is_told_to_use_token() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    sandbox.write_password_profile(&console, "password_env = \"MY_CLIENT_SECRET\"");
    let out = sandbox.run(&["exec", "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("use exec --token"), "{}", out.stderr);
}
