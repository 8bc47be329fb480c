//! The API key in the kernel keyring (keyutils), for real: `key set` from
//! stdin, a miss exchanges with it, a hit does not read it, `key delete`
//! removes it; snowplow-cli's identity finds it before its plain-text key;
//! and the store's failures (keyctl refused, a key too large) are one line
//! naming the store. The Secret Service's tests (gnome-keyring in a
//! private D-Bus session) run only in builds with the `secret-service`
//! feature: `cargo test --features secret-service --test cli keychain`. Each test uses its own stand-in, whose port makes its
//! entry's name its own.

use crate::console::{self, Console};
use crate::harness::{self, Sandbox, output_of};

/// A profile whose key is in the keychain.
pub(crate) fn keychain_profile(sandbox: &Sandbox, console: &Console) {
    sandbox.write_config(&format!(
        "[profiles.kc]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\n\
         api_key_source = \"keychain\"\n",
        console::ORG,
        console::KEY_ID,
        console.url()
    ));
}

/// Whether this system lets us use the kernel keyring (a container may not).
pub(crate) fn keyring_usable() -> bool {
    let ok = std::process::Command::new("sh")
        .args([
            "-c",
            "command -v keyctl >/dev/null && keyctl show @u >/dev/null 2>&1",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        harness::missing("keyctl with a usable user keyring (apt-get install keyutils)");
    }
    ok
}

#[test]
fn set_then_a_miss_exchanges_with_it_a_hit_does_not_read_it_and_delete_removes_it() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let p = ["--profile", "kc"];
    let set = sandbox.run_with_stdin(
        &[&p[..], &["key", "set"]].concat(),
        &format!("{}\n", console::KEY),
    );
    set.success();
    assert!(
        set.stderr.contains("in the kernel keyring (keyutils)"),
        "{}",
        set.stderr
    );
    // keyctl itself sees the entry under its name, and not the key in argv.
    let name = format!(
        "snowplow-credentials:{}/{}/{}",
        console.url(),
        console::ORG,
        console::KEY_ID
    );
    let found = output_of(
        &mut sandbox.program(
            "sh",
            &[
                "-c",
                &format!("keyctl print $(keyctl search @u user '{name}')"),
            ],
        ),
        None,
    );
    assert_eq!(found.stdout.trim(), console::KEY, "{}", found.stderr);

    let first = sandbox.run(&[&p[..], &["token"]].concat());
    first.success();
    assert_eq!(console.token_requests(), 1);
    // A hit does not touch the key: with the entry gone, it is still served.
    sandbox
        .run(&[&p[..], &["key", "delete"]].concat())
        .success();
    let hit = sandbox.run(&[&p[..], &["token"]].concat());
    assert_eq!(hit.success().stdout, first.stdout);
    assert_eq!(console.token_requests(), 1);
    // A miss now says where the key should be and how to put it there.
    let miss = sandbox.run(&[&p[..], &["--refresh", "token"]].concat());
    assert_eq!(miss.code, 1);
    harness::assert_one_clear_line(&miss.stderr);
    assert!(
        miss.stderr
            .contains("in the kernel keyring (keyutils): store it with"),
        "{}",
        miss.stderr
    );
    let again = sandbox.run(&[&p[..], &["key", "delete"]].concat());
    assert!(again.success().stderr.contains("nothing to delete"));
}

#[test]
fn get_prints_the_key_to_a_pipe_and_exec_hands_it_over() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let p = ["--profile", "kc"];
    sandbox
        .run_with_stdin(&[&p[..], &["key", "set"]].concat(), console::KEY)
        .success();
    let got = sandbox.run(&[&p[..], &["key", "get"]].concat());
    assert_eq!(got.success().stdout, format!("{}\n", console::KEY));
    let exec = sandbox.run(
        &[
            &p[..],
            &[
                "exec",
                "--",
                "sh",
                "-c",
                "echo \"$SNOWPLOW_CONSOLE_API_KEY\"",
            ],
        ]
        .concat(),
    );
    assert_eq!(exec.success().stdout, format!("{}\n", console::KEY));
    sandbox
        .run(&[&p[..], &["key", "delete"]].concat())
        .success();
}

#[test]
fn snowplow_clis_identity_takes_the_keychains_key_before_its_plain_text_one() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let yml = sandbox.path(".config/snowplow/snowplow.yml");
    crate::machine::write_private(
        &yml,
        &format!(
            "console:\n  api-key: canary-stale-plain-key\n  api-key-id: {}\n  org-id: {}\n  host: {}\n",
            console::KEY_ID,
            console::ORG,
            console.url()
        ),
    );
    sandbox
        .run_with_stdin(&["key", "set"], console::KEY)
        .success();
    sandbox.run(&["token"]).success();
    let sent = console.requests();
    assert_eq!(sent.last().unwrap().header("x-api-key"), Some(console::KEY));
    sandbox.run(&["key", "delete"]).success();
}

#[test]
fn empty_multiline_and_oversized_keys_are_refused_before_the_store() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    for (input, says) in [
        ("\n".to_string(), "the API key is empty"),
        ("a\nb\n".to_string(), "more than one line"),
        (
            "k".repeat(5000),
            "more than the 2048 a keychain entry takes",
        ),
    ] {
        let out = sandbox.run_with_stdin(&["--profile", "kc", "key", "set"], &input);
        assert_eq!(out.code, 1);
        harness::assert_one_clear_line(&out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
    }
}

/// A seccomp filter that fails add_key and keyctl with EPERM, as Docker's
/// default profile does, installed in the child before it runs.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn refuse_keyctl(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    let filter = [
        // A = syscall number
        libc::sock_filter {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        },
        // if A == SYS_add_key or SYS_keyctl: EPERM
        libc::sock_filter {
            code: 0x15,
            jt: 2,
            jf: 0,
            k: libc::SYS_add_key as u32,
        },
        libc::sock_filter {
            code: 0x15,
            jt: 1,
            jf: 0,
            k: libc::SYS_keyctl as u32,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: RET_ALLOW,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: RET_ERRNO | libc::EPERM as u32,
        },
    ];
    // SAFETY: prctl with a filter that outlives the call; async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, 2, &prog as *const _, 0, 0) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn keyctl_refused_is_one_line_naming_the_store_and_never_a_file() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    for words in [&["key", "set"][..], &["key", "get"], &["token"]] {
        let mut command = sandbox.command(&[&["--profile", "kc"][..], words].concat());
        refuse_keyctl(&mut command);
        let out = output_of(&mut command, Some(console::KEY.as_bytes()));
        assert_eq!(out.code, 1, "{words:?}");
        harness::assert_one_clear_line(&out.stderr);
        assert!(
            out.stderr.contains("the kernel keyring (keyutils)")
                && out.stderr.contains("Operation not permitted")
                && out.stderr.contains("containers often block it"),
            "{words:?}: {}",
            out.stderr
        );
    }
    assert_eq!(console.token_requests(), 0);
    // Nothing was written anywhere instead: no file holds the key.
    let grep = output_of(
        &mut sandbox.program(
            "grep",
            &["-rl", console::KEY, sandbox.home.path().to_str().unwrap()],
        ),
        None,
    );
    assert_eq!(grep.stdout, "");
}

#[test]
fn migrate_moves_snowplow_clis_key_into_the_keychain_and_out_of_its_file() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let yml = sandbox.path(".config/snowplow/snowplow.yml");
    let text = format!(
        "# written by snowplow-cli setup\nconsole:\n  api-key: {}\n  api-key-id: {}\n  org-id: {}\n  host: {}\n",
        console::KEY,
        console::KEY_ID,
        console::ORG,
        console.url()
    );
    crate::machine::write_private(&yml, &text);
    let out = sandbox.run(&["key", "migrate"]);
    out.success();
    assert!(out.stderr.contains("stored API key ID"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("removed the key's line from ~/.config/snowplow/snowplow.yml")
    );
    assert!(out.stderr.contains("exec -- snowplow-cli"));
    let left = std::fs::read_to_string(&yml).unwrap();
    assert_eq!(
        left,
        text.replace(&format!("  api-key: {}\n", console::KEY), "")
    );
    // The identity from the file, the key from the keychain: one exchange.
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1);
    let sent = console.requests();
    assert_eq!(sent.last().unwrap().header("x-api-key"), Some(console::KEY));
    // snowplow-cli, run through exec, gets it in its environment.
    let exec = sandbox.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"$SNOWPLOW_CONSOLE_API_KEY\"",
    ]);
    assert_eq!(exec.success().stdout, format!("{}\n", console::KEY));
    sandbox.run(&["key", "delete"]).success();
}

#[test]
fn migrate_turns_an_inline_key_into_api_key_source_keychain() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let config = sandbox.write_config(&format!(
        "[profiles.other]\norg_id = \"{org}\"\napi_key = \"other-inline-key\"\n\n\
         [profiles.kc]\norg_id = \"{org}\"\napi_key_id = \"{}\"\nhost = \"{}\"\napi_key = \"{}\"\n",
        console::KEY_ID,
        console.url(),
        console::KEY,
        org = console::ORG,
    ));
    let out = sandbox.run(&["--profile", "kc", "key", "migrate"]);
    out.success();
    assert!(
        out.stderr
            .contains("replaced api_key with api_key_source = \"keychain\" in profile \"kc\""),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(console::KEY), "{text}");
    assert!(text.contains("api_key = \"other-inline-key\""), "{text}");
    sandbox.run(&["--profile", "kc", "token"]).success();
    assert_eq!(console.token_requests(), 1);
    let again = sandbox.run(&["--profile", "kc", "key", "migrate"]);
    assert!(again.success().stderr.contains("nothing to migrate"));
    sandbox.run(&["--profile", "kc", "key", "delete"]).success();
}

/// Without the `secret-service` feature, choosing the Secret Service
/// (by name, or as the default in a D-Bus session) never falls back: it is
/// one line saying this build has none and what to use instead.
#[cfg(not(feature = "secret-service"))]
#[test]
fn a_build_without_the_secret_service_says_so_when_it_is_chosen() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    sandbox.set("SNOWPLOW_CREDENTIALS_KEYCHAIN", "secret-service");
    for args in [&["key", "get"][..], &["token"]] {
        let mut words = vec!["--profile", "kc"];
        words.extend(args);
        let out = sandbox.run(&words);
        assert_eq!(out.code, 1, "{}", out.stderr);
        harness::assert_one_clear_line(&out.stderr);
        assert!(
            out.stderr
                .contains("this build has no Secret Service store"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("SNOWPLOW_CREDENTIALS_KEYCHAIN=keyutils"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(console.token_requests(), 0);
}

/// Runs `script` in a private D-Bus session whose gnome-keyring has its
/// login collection created and unlocked (`unlock`) or not, with `BIN` set
/// to the binary; None when the packages are missing.
#[cfg(feature = "secret-service")]
fn in_dbus_session(sandbox: &Sandbox, script: &str, unlock: bool) -> Option<harness::Output> {
    for program in ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"] {
        harness::require(program)?;
    }
    let unlock = match unlock {
        true => "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n",
        false => "",
    };
    let inner = format!("{unlock}{script}");
    let mut command = sandbox.program("dbus-run-session", &["--", "sh", "-c", &inner]);
    command.env("BIN", harness::BIN);
    Some(output_of(&mut command, None))
}

#[cfg(feature = "secret-service")]
#[test]
fn secret_service_round_trip_in_gnome_keyring() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let name = format!(
        "snowplow-credentials:{}/{}/{}",
        console.url(),
        console::ORG,
        console::KEY_ID
    );
    let script = format!(
        "set -e\n\
         printf %s '{key}' | \"$BIN\" --profile kc key set\n\
         secret-tool lookup service snowplow-credentials account '{name}'; echo\n\
         \"$BIN\" --profile kc token > \"$HOME/first\"\n\
         \"$BIN\" --profile kc key delete\n\
         \"$BIN\" --profile kc token > \"$HOME/second\"\n\
         cmp \"$HOME/first\" \"$HOME/second\" && echo hit-without-the-key\n\
         \"$BIN\" --profile kc --refresh token || echo miss-refused\n",
        key = console::KEY,
    );
    let Some(out) = in_dbus_session(&sandbox, &script, true) else {
        return;
    };
    // A daemon that D-Bus activates may print its variables on the bus's stdout.
    let said: Vec<&str> = (out.stdout.lines())
        .filter(|l| !l.starts_with("GNOME_KEYRING_"))
        .collect();
    assert_eq!(
        said,
        [console::KEY, "hit-without-the-key", "miss-refused"],
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("stored API key ID"), "{}", out.stderr);
    assert!(
        out.stderr.contains("in the Secret Service (D-Bus)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("deleted API key ID"), "{}", out.stderr);
    assert_eq!(console.token_requests(), 1);
}

#[cfg(feature = "secret-service")]
#[test]
fn a_locked_collection_and_no_dbus_are_one_line_naming_the_store() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    // No collection yet: said, never a prompt.
    let set = "printf k | \"$BIN\" --profile kc key set";
    let Some(out) = in_dbus_session(&sandbox, set, false) else {
        return;
    };
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("has no default collection"),
        "{}",
        out.stderr
    );
    // The login collection made (and unlocked) in one session, then a new
    // daemon that has it locked: an error, never a prompt.
    in_dbus_session(&sandbox, "true", true).unwrap();
    let out = in_dbus_session(&sandbox, set, false).unwrap();
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("the Secret Service (D-Bus) is locked: unlock"),
        "{}",
        out.stderr
    );
    // A bus address with nothing behind it.
    sandbox
        .set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .set("SNOWPLOW_CREDENTIALS_KEYCHAIN", "secret-service");
    let out = sandbox.run(&["--profile", "kc", "key", "get"]);
    assert_eq!(out.code, 1);
    harness::assert_one_clear_line(&out.stderr);
    assert!(
        out.stderr
            .contains("cannot connect to the Secret Service (D-Bus)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("SNOWPLOW_CREDENTIALS_KEYCHAIN=keyutils"),
        "{}",
        out.stderr
    );
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn get_refuses_a_terminal_without_force() {
    let Some(script) = harness::require("script") else {
        return;
    };
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    // `script` gives the command a terminal for its stdout; the store is
    // not reached, so this needs none.
    let line = format!("'{}' --profile kc key get", harness::BIN);
    let out = output_of(
        &mut sandbox.program(&script, &["-qec", &line, "/dev/null"]),
        None,
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("add --force to show it on this terminal"),
        "{}",
        out.stdout
    );
}
