//! `key set` at a real terminal: a pseudo-terminal from Python's `os.openpty`
//! stands for the user's, so the binary sees a terminal on stdin and asks
//! there. What is typed is not echoed back, the terminal's echo is on again
//! afterwards (also after Ctrl-C at the prompt), and the key typed is the
//! one stored.

use crate::console::{self, Console};
use crate::harness::{self, Sandbox, output_of};
use crate::keychain::{keychain_profile, keyring_usable};

/// Starts `key set` on a new pseudo-terminal (its controlling terminal, as
/// a login's is), waits for the question, types what it is given (the key
/// and Enter, or Ctrl-C), and prints on its first line the exit code (a
/// negative signal number if one ended it), whether echo was on while it
/// asked and whether it is on afterwards; then all the terminal showed.
const TYPIST: &str = r#"
import fcntl, os, select, subprocess, sys, termios
binary, typed = sys.argv[1], sys.argv[2].encode()
master, slave = os.openpty()
child = subprocess.Popen([binary, "--profile", "kc", "key", "set"],
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
seen = b""
def read_until(marker):
    global seen
    while marker not in seen:
        if not select.select([master], [], [], 30)[0]:
            sys.exit("no %r on the terminal; it showed %r" % (marker, seen))
        seen += os.read(master, 4096)
read_until(b"API key for ")
read_until(b": ")
asking = termios.tcgetattr(slave)[3] & termios.ECHO
os.write(master, typed)
code = child.wait(timeout=30)
while select.select([master], [], [], 0)[0]:
    seen += os.read(master, 4096)
after = termios.tcgetattr(slave)[3] & termios.ECHO
print(code, bool(asking), bool(after))
sys.stdout.write(seen.decode(errors="replace"))
"#;

#[test]
fn set_at_a_terminal_does_not_echo_the_key_and_restores_echo() {
    if !keyring_usable() {
        return;
    }
    let Some(python) = harness::require("python3") else {
        return;
    };
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    sandbox.set("SNOWPLOW_CREDENTIALS_KEYCHAIN", "keyutils");
    let typed = output_of(
        &mut sandbox.program(
            &python,
            &["-c", TYPIST, harness::BIN, &format!("{}\n", console::KEY)],
        ),
        None,
    );
    assert_eq!(typed.code, 0, "{}{}", typed.stdout, typed.stderr);
    let (summary, shown) = typed.stdout.split_once('\n').unwrap();
    assert_eq!(
        summary, "0 False True",
        "exit code, echo while asking, echo after: {shown}"
    );
    assert!(shown.contains("API key for API key ID"), "{shown}");
    assert!(!shown.contains(console::KEY), "the key was echoed: {shown}");

    let p = ["--profile", "kc"];
    let got = sandbox.run(&[&p[..], &["key", "get"]].concat());
    assert_eq!(got.success().stdout, format!("{}\n", console::KEY));
    sandbox
        .run(&[&p[..], &["key", "delete"]].concat())
        .success();
}

/// `key set` at a new terminal where `typed` is typed: the summary line
/// (exit code, echo while asking, echo after) and what the terminal showed.
fn typed_at_the_prompt(typed: &str) -> Option<(String, String)> {
    let python = harness::require("python3")?;
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    sandbox.set("SNOWPLOW_CREDENTIALS_KEYCHAIN", "keyutils");
    let out = output_of(
        &mut sandbox.program(&python, &["-c", TYPIST, harness::BIN, typed]),
        None,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (summary, shown) = out.stdout.split_once('\n').unwrap();
    Some((summary.to_string(), shown.to_string()))
}

/// Ctrl-C at the prompt ends `key set` as it would any program (by SIGINT),
/// but not before the terminal's echo is back on.
#[test]
fn ctrl_c_at_the_prompt_leaves_the_terminal_echoing() {
    let Some((summary, shown)) = typed_at_the_prompt("\u{3}") else {
        return;
    };
    assert_eq!(
        summary, "-2 False True",
        "exit code, echo while asking, echo after: {shown}"
    );
}

/// Ctrl-D at the prompt (no key) is the empty key's one-line error, on a
/// line of its own rather than after the question; nothing is stored.
#[test]
fn ctrl_d_at_the_prompt_is_an_error_on_its_own_line() {
    let Some((summary, shown)) = typed_at_the_prompt("\u{4}") else {
        return;
    };
    assert_eq!(summary, "1 False True", "{shown}");
    let error = "snowplow-credentials: the API key is empty: nothing was stored";
    assert!(
        shown.lines().any(|line| line.starts_with(error)),
        "{shown:?}"
    );
}
