//! `exec` on Windows (under Wine in `.ci/cross`), where it runs the command
//! as a child rather than becoming it: the child gets the Console
//! variables, and its exit code comes back whole, 32 bits of it (Windows'
//! codes do not fit a byte: 0xC000013A is a console's Ctrl-C). The children
//! are `cmd /c`.
//!
//! What cannot be tested here: Ctrl-C left to the child (Wine gives a
//! test's processes no console to send it to), and `key set` asking without
//! echo at a console (for the same reason; the piped `key set` is in
//! keychain_windows.rs).

use crate::console::{self, Console};
use crate::harness::Sandbox;

#[test]
fn the_childs_exit_code_is_passed_on_whole() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    for code in [0, 3, 255, 256, 300, -1_073_741_510] {
        let status = sandbox
            .command(&["exec", "--", "cmd", "/c", &format!("exit {code}")])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "cmd /c exit {code}");
    }
    let out = sandbox.run(&["exec", "--", "no-such-program-here"]);
    assert_eq!(out.code, 127);
    assert!(out.stderr.contains("`no-such-program-here` was not found"));
}

#[test]
fn the_child_gets_the_profiles_key_and_identity() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    sandbox.set("WORK_KEY", console::KEY);
    sandbox.write_config(&format!(
        "[profiles.work]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\n\
         api_key_env = \"WORK_KEY\"\n",
        console::ORG,
        console::KEY_ID,
        console.url()
    ));
    let out = sandbox.run(&[
        "--profile",
        "work",
        "exec",
        "--",
        "cmd",
        "/c",
        "set SNOWPLOW_CONSOLE_",
    ]);
    let mut lines: Vec<&str> = out.stdout.lines().map(str::trim_end).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            format!("SNOWPLOW_CONSOLE_API_KEY={}", console::KEY),
            format!("SNOWPLOW_CONSOLE_API_KEY_ID={}", console::KEY_ID),
            format!("SNOWPLOW_CONSOLE_HOST={}", console.url()),
            format!("SNOWPLOW_CONSOLE_ORGANIZATION_ID={}", console::ORG),
            format!("SNOWPLOW_CONSOLE_ORG_ID={}", console::ORG),
        ],
        "{}",
        out.stderr
    );
    assert_eq!(console.token_requests(), 0);
}
