//! `key set` at a real terminal: a pseudo-terminal from Python's `os.openpty`
//! stands for the user's, so the binary sees a terminal on stdin and asks
//! there. What is typed is not echoed back, the terminal's echo is on again
//! afterwards, and the key typed is the one stored.

use crate::console::{self, Console};
use crate::harness::{self, Sandbox, output_of};
use crate::keychain::{keychain_profile, keyring_usable};

/// Starts `key set` on a new pseudo-terminal, waits for the question, types
/// the key and Enter, and prints on its first line the exit code, whether
/// echo was on while it asked and whether it is on afterwards; then all the
/// terminal showed.
const TYPIST: &str = r#"
import os, select, subprocess, sys, termios
binary, key = sys.argv[1], sys.argv[2].encode()
master, slave = os.openpty()
child = subprocess.Popen([binary, "--profile", "kc", "key", "set"],
                         stdin=slave, stdout=slave, stderr=slave)
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
os.write(master, key + b"\n")
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
        &mut sandbox.program(&python, &["-c", TYPIST, harness::BIN, console::KEY]),
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
