//! The API key in the kernel keyring (keyutils), for real: `key set` from
//! stdin, a miss exchanges with it, a hit does not read it, `key delete`
//! removes it; snowplow-cli's identity finds it before its plain-text key;
//! and the store's failures (keyctl refused, a key too large) are one line
//! naming the store. The Secret Service too, through our own D-Bus
//! client: gnome-keyring in a private D-Bus session (`dbus-run-session`),
//! read back by libsecret's `secret-tool`; the store chosen when none is
//! named; and a locked collection, no bus, and a bus that answers garbage.
//! Each test uses its own stand-in, whose port makes its entry's name its
//! own.

use crate::console::{self, Console};
use std::path::PathBuf;

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
    let name = entry_name(&console);
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

/// A private snowplow.yml for `console`: `start` (which opens the
/// `console:` mapping and holds the key) then the key ID, organization and
/// host; its path and text.
fn snowplow_yml(sandbox: &Sandbox, console: &Console, start: &str) -> (PathBuf, String) {
    let yml = sandbox.path(".config/snowplow/snowplow.yml");
    let text = format!(
        "{start}  api-key-id: {}\n  org-id: {}\n  host: {}\n",
        console::KEY_ID,
        console::ORG,
        console.url()
    );
    crate::machine::write_private(&yml, &text);
    (yml, text)
}

/// `key delete` destroys the entry, not only its link from `@u`: a copy
/// linked into another keyring (by any process of this user) goes too.
#[test]
fn delete_destroys_the_entry_wherever_it_is_linked() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let p = ["--profile", "kc"];
    (sandbox.run_with_stdin(&[&p[..], &["key", "set"]].concat(), console::KEY)).success();
    let name = entry_name(&console);
    // A keyring of its own under @u, holding a second link to the entry.
    let script = format!(
        "id=$(keyctl search @u user '{name}') && ring=$(keyctl newring t{} @u) && \
         keyctl link $id $ring && \"$BIN\" --profile kc key delete && \
         keyctl print $id; echo \"print: $?\"; keyctl unlink $ring @u >/dev/null",
        console.addr().port()
    );
    let out = run_with_bin(&sandbox, "sh", &["-c", &script]);
    assert!(out.stderr.contains("deleted API key ID"), "{}", out.stderr);
    assert!(!out.stdout.contains(console::KEY), "{}", out.stdout);
    assert!(out.stdout.contains("print: 1"), "{}", out.stdout);
}

/// A session keyring that does not link `@u` (`keyctl session -`, as in
/// systemd services and some containers) does not possess what `@u`
/// holds: `key set`, `get` and `delete` work there all the same, and the
/// key set there is the one other sessions find.
#[test]
fn a_session_that_does_not_link_the_user_keyring_sets_gets_and_deletes() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let script = format!(
        "printf %s '{key}' | \"$BIN\" --profile kc key set && \"$BIN\" --profile kc key get && \
         printf %s '{key}2' | \"$BIN\" --profile kc key set && \"$BIN\" --profile kc key get",
        key = console::KEY
    );
    let out = run_with_bin(&sandbox, "keyctl", &["session", "-", "sh", "-c", &script]);
    assert_eq!(
        out.stdout
            .lines()
            .skip_while(|l| l.starts_with("Joined"))
            .collect::<Vec<_>>(),
        [console::KEY.to_string(), format!("{}2", console::KEY)],
        "{}",
        out.stderr
    );
    // Outside that session: the second key, then deleted from inside one.
    let get = sandbox.run(&["--profile", "kc", "key", "get"]);
    assert_eq!(get.success().stdout, format!("{}2\n", console::KEY));
    let script = "\"$BIN\" --profile kc key delete";
    let out = run_with_bin(&sandbox, "keyctl", &["session", "-", "sh", "-c", script]);
    assert!(out.stderr.contains("deleted API key ID"), "{}", out.stderr);
    let get = sandbox.run(&["--profile", "kc", "key", "get"]);
    assert_eq!(get.code, 1, "{}", get.stderr);
}

/// Runs `program` with `args` in the sandbox, with `BIN` naming the
/// binary, for scripts that mix it with keyctl.
fn run_with_bin(sandbox: &Sandbox, program: &str, args: &[&str]) -> harness::Output {
    let mut command = sandbox.program(program, args);
    command.env("BIN", harness::BIN);
    output_of(&mut command, None)
}

/// The entry's name in the stores, for `console`'s identity.
fn entry_name(console: &Console) -> String {
    format!(
        "snowplow-credentials:{}/{}/{}",
        console.url(),
        console::ORG,
        console::KEY_ID
    )
}

/// With snowplow-cli's identity the keychain is looked in first: an entry
/// there that is no key (not text) is an error, never a reason to send the
/// file's key; an empty keychain and no key in the files says `key set`.
#[test]
fn snowplow_clis_identity_never_passes_over_a_broken_entry() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let (yml, _) = snowplow_yml(&sandbox, &console, "console:\n  api-key: file-key\n");
    let add = format!(
        "printf 'sk_\\377' | keyctl padd user '{}' @u >/dev/null",
        entry_name(&console)
    );
    output_of(&mut sandbox.program("sh", &["-c", &add]), None);
    let out = sandbox.run(&["token"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    harness::assert_one_clear_line(&out.stderr);
    assert!(out.stderr.contains("is not text"), "{}", out.stderr);
    assert_eq!(console.token_requests(), 0);
    sandbox.run(&["key", "delete"]).success();
    // No key anywhere (the kernel keyring after a reboot, the file's moved).
    let (_, _) = snowplow_yml(&sandbox, &console, "console:\n");
    let out = sandbox.run(&["token"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("snowplow-credentials key set"),
        "{}",
        out.stderr
    );
    assert!(yml.exists());
}

/// An entry an older build made from another login session has the
/// kernel's default permissions, which a session that does not link @u
/// may not use: said as such (not "keyctl is blocked"), and `key set`
/// there replaces it.
#[test]
fn an_entry_this_session_may_not_use_is_said_and_replaced_by_key_set() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let script = format!(
        "printf old | keyctl padd user '{}' @u >/dev/null; \"$BIN\" --profile kc key get; \
         echo \"get: $?\"; printf new | \"$BIN\" --profile kc key set && \
         \"$BIN\" --profile kc key get && \"$BIN\" --profile kc key delete",
        entry_name(&console)
    );
    let out = run_with_bin(&sandbox, "keyctl", &["session", "-", "sh", "-c", &script]);
    assert!(
        out.stdout.contains("get: 1\nnew\n"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains("this session may not use it"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("seccomp"), "{}", out.stderr);
    assert!(out.stderr.contains("deleted API key ID"), "{}", out.stderr);
}

/// A snowplow.yml whose key cannot be taken out by one line's removal is
/// refused before anything is stored: the message says so, and the store
/// has no entry afterwards.
#[test]
fn a_migrate_refused_stores_nothing_and_says_so() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let key = format!("console:\n  api-key: >-\n    {}\n", console::KEY);
    let (yml, text) = snowplow_yml(&sandbox, &console, &key);
    let out = sandbox.run(&["key", "migrate"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    harness::assert_one_clear_line(&out.stderr);
    assert!(
        out.stderr
            .contains("nothing was stored and no file changed"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&yml).unwrap(), text);
    let get = sandbox.run(&["key", "get"]);
    assert_eq!(get.code, 1, "{}", get.stderr);
    assert!(get.stderr.contains("no API key ID"), "{}", get.stderr);
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
    let got = sandbox.run(&[&p[..], &["-v", "key", "get"]].concat());
    assert_eq!(got.success().stdout, format!("{}\n", console::KEY));
    // The store is chosen (and, on a bus, asked for) once.
    let chosen = got.stderr.matches("keychain: the kernel keyring").count();
    assert_eq!(chosen, 1, "{}", got.stderr);
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
    let key = format!(
        "# written by snowplow-cli setup\nconsole:\n  api-key: {}\n",
        console::KEY
    );
    let (yml, text) = snowplow_yml(&sandbox, &console, &key);
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
    // Moved already: said so, and nothing changes.
    let again = sandbox.run(&["key", "migrate"]);
    assert!(
        again.success().stderr.contains("nothing to migrate"),
        "{}",
        again.stderr
    );
    sandbox.run(&["key", "delete"]).success();
}

/// A different key already in the keychain is the one snowplow-cli's
/// identity uses: migrate never replaces it with the file's.
#[test]
fn migrate_never_replaces_a_different_key_in_the_keychain() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let sandbox = Sandbox::new();
    let (yml, text) = snowplow_yml(&sandbox, &console, "console:\n  api-key: old-file-key\n");
    sandbox
        .run_with_stdin(&["key", "set"], console::KEY)
        .success();
    let out = sandbox.run(&["key", "migrate"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    harness::assert_one_clear_line(&out.stderr);
    assert!(
        out.stderr.contains("already holds a different key"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("old-file-key"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&yml).unwrap(), text);
    let get = sandbox.run(&["key", "get"]);
    assert_eq!(get.success().stdout, format!("{}\n", console::KEY));
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

/// Runs `script` in a private D-Bus session whose gnome-keyring has its
/// login collection created and unlocked (`unlock`) or not, with `BIN` set
/// to the binary; None when the packages are missing.
fn in_dbus_session(sandbox: &Sandbox, script: &str, unlock: bool) -> Option<harness::Output> {
    in_bus(sandbox, script, unlock, None)
}

/// [`in_dbus_session`], on a bus started with `config` (a dbus-daemon
/// configuration file) when given.
fn in_bus(
    sandbox: &Sandbox,
    script: &str,
    unlock: bool,
    config: Option<&str>,
) -> Option<harness::Output> {
    for program in [
        "dbus-run-session",
        "gnome-keyring-daemon",
        "secret-tool",
        "gdbus",
    ] {
        harness::require(program)?;
    }
    // The daemon takes its bus name after `--unlock` returns: wait for it,
    // or the bus would start a second one for the first call.
    let unlock = match unlock {
        true => {
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n\
             gdbus wait --session --timeout 20 org.freedesktop.secrets\n"
        }
        false => "",
    };
    let inner = format!("{unlock}{script}");
    let mut args = Vec::new();
    let option = config.map(|c| format!("--config-file={c}"));
    args.extend(option.as_deref());
    args.extend(["--", "sh", "-c", &inner]);
    let mut command = sandbox.program("dbus-run-session", &args);
    command.env("BIN", harness::BIN);
    Some(output_of(&mut command, None))
}

/// With no store named, a D-Bus session whose bus can start gnome-keyring
/// chooses the Secret Service; libsecret's own `secret-tool` reads what we
/// store, and we read what it stores.
#[test]
fn secret_service_round_trip_in_gnome_keyring() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let name = entry_name(&console);
    let script = format!(
        "set -e\n\
         printf %s '{key}' | \"$BIN\" -v --profile kc key set\n\
         secret-tool lookup service snowplow-credentials account '{name}'; echo\n\
         \"$BIN\" --profile kc token > \"$HOME/first\"\n\
         \"$BIN\" --profile kc key delete\n\
         \"$BIN\" --profile kc token > \"$HOME/second\"\n\
         cmp \"$HOME/first\" \"$HOME/second\" && echo hit-without-the-key\n\
         \"$BIN\" --profile kc --refresh token || echo miss-refused\n\
         printf %s other-key | secret-tool store --label=x service snowplow-credentials \
           account '{name}'\n\
         \"$BIN\" --profile kc key get\n\
         \"$BIN\" --profile kc key delete\n\
         secret-tool lookup service snowplow-credentials account '{name}' || echo gone\n",
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
        [
            console::KEY,
            "hit-without-the-key",
            "miss-refused",
            "other-key",
            "gone"
        ],
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "keychain: the Secret Service (D-Bus), as SNOWPLOW_CREDENTIALS_KEYCHAIN is unset \
             and org.freedesktop.secrets is on the D-Bus session bus"
        ),
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
    // It holds the key, so that `get` finds a locked item.
    in_dbus_session(&sandbox, set, true).unwrap().success();
    let get = format!("{set}; \"$BIN\" --profile kc key get");
    let out = in_dbus_session(&sandbox, &get, false).unwrap();
    assert_eq!(out.code, 1);
    // Two lines (set's and get's), each the one line of its command (the
    // daemon D-Bus starts may say things of its own).
    let ours: Vec<&str> = (out.stderr.lines())
        .filter(|l| l.starts_with("snowplow-credentials: "))
        .collect();
    assert_eq!(ours.len(), 2, "{}", out.stderr);
    for line in ours {
        harness::assert_one_clear_line(line);
        assert!(
            line.contains("the Secret Service (D-Bus) is locked: unlock"),
            "{}",
            out.stderr
        );
    }
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
    // With no store named, the same: the bus cannot be asked, which is an
    // error, not a reason to use the kernel keyring.
    sandbox.unset("SNOWPLOW_CREDENTIALS_KEYCHAIN");
    let out = sandbox.run(&["--profile", "kc", "key", "get"]);
    assert_eq!(out.code, 1);
    harness::assert_one_clear_line(&out.stderr);
    assert!(
        out.stderr
            .contains("cannot connect to the Secret Service (D-Bus)"),
        "{}",
        out.stderr
    );
    assert_eq!(console.token_requests(), 0);
}

/// A dbus-daemon configuration with no service directories: a session
/// bus on which no Secret Service runs or can be started.
const BARE_BUS: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// With no store named, a D-Bus session without a Secret Service chooses
/// the kernel keyring (and -v says why); a cached token never asks the bus.
#[test]
fn with_no_store_named_a_bus_without_a_secret_service_means_the_kernel_keyring() {
    if !keyring_usable() {
        return;
    }
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let config = sandbox.path("bare-bus.conf");
    std::fs::write(&config, BARE_BUS).unwrap();
    let script = format!(
        "set -e\n\
         printf %s '{}' | \"$BIN\" -v --profile kc key set\n\
         \"$BIN\" --profile kc token >/dev/null\n\
         \"$BIN\" --profile kc key delete\n",
        console::KEY
    );
    let Some(out) = in_bus(&sandbox, &script, false, config.to_str()) else {
        return;
    };
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "keychain: the kernel keyring (keyutils), as SNOWPLOW_CREDENTIALS_KEYCHAIN is unset \
             and no org.freedesktop.secrets on the D-Bus session bus"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("in the kernel keyring (keyutils)"),
        "{}",
        out.stderr
    );
    assert_eq!(console.token_requests(), 1);
    // The token is cached now: a hit serves it with a bus address that
    // leads nowhere, so it never connected to one.
    sandbox.set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    sandbox.run(&["--profile", "kc", "token"]).success();
    assert_eq!(console.token_requests(), 1);
}

/// A stand-in bus: authenticates the client, then answers `reply` to
/// whatever it sends. Returns the address and the thread serving it.
fn fake_bus(dir: &std::path::Path, reply: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let path = dir.join("fake-bus");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let serve = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        let mut byte = [0];
        let mut answered = false;
        while !seen.ends_with(b"BEGIN\r\n") {
            if stream.read(&mut byte).unwrap_or(0) == 0 {
                return;
            }
            seen.push(byte[0]);
            if !answered && seen.ends_with(b"\r\n") {
                assert!(seen.starts_with(b"\0AUTH EXTERNAL "), "{seen:?}");
                stream.write_all(b"OK 0123456789abcdef\r\n").unwrap();
                answered = true;
            }
        }
        let _ = stream.write_all(&reply);
        // Until the client hangs up.
        let _ = stream.read_to_end(&mut seen);
    });
    (format!("unix:path={}", path.display()), serve)
}

#[test]
fn a_bus_that_answers_garbage_is_one_line_and_no_panic() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    // A header that claims 2 GiB, and bytes that are no message at all.
    let mut huge = vec![b'l', 2, 0, 1];
    huge.extend_from_slice(&0x8000_0000u32.to_le_bytes());
    huge.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    let dir = tempfile::tempdir().unwrap();
    for (named, reply, says) in [
        (
            true,
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            "not a D-Bus message",
        ),
        (false, huge, "a message over 1024 KiB"),
    ] {
        let (address, serve) = fake_bus(dir.path(), reply);
        sandbox.set("DBUS_SESSION_BUS_ADDRESS", &address);
        match named {
            true => sandbox.set("SNOWPLOW_CREDENTIALS_KEYCHAIN", "secret-service"),
            false => sandbox.unset("SNOWPLOW_CREDENTIALS_KEYCHAIN"),
        };
        let out = sandbox.run(&["--profile", "kc", "key", "get"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        harness::assert_one_clear_line(&out.stderr);
        assert!(
            out.stderr.contains("the Secret Service (D-Bus)") && out.stderr.contains(says),
            "{}",
            out.stderr
        );
        serve.join().unwrap();
        std::fs::remove_file(dir.path().join("fake-bus")).unwrap();
    }
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

/// The fully static binary (`bash .ci/static build`, named by
/// SNOWPLOW_TEST_STATIC_BINARY as for tests/cli/static_build.rs) has the
/// Secret Service too: set, get and delete in gnome-keyring.
#[test]
fn the_static_binary_has_the_secret_service_too() {
    let Some(binary) = std::env::var_os("SNOWPLOW_TEST_STATIC_BINARY") else {
        harness::missing("SNOWPLOW_TEST_STATIC_BINARY is not set (bash .ci/static builds it)");
        return;
    };
    let console = Console::start();
    let sandbox = Sandbox::new();
    keychain_profile(&sandbox, &console);
    let script = format!(
        "set -e\n\
         BIN='{}'\n\
         printf %s '{}' | \"$BIN\" -v --profile kc key set\n\
         \"$BIN\" --profile kc key get\n\
         \"$BIN\" --profile kc key delete\n",
        binary.to_str().unwrap(),
        console::KEY
    );
    let Some(out) = in_dbus_session(&sandbox, &script, true) else {
        return;
    };
    let said: Vec<&str> = (out.stdout.lines())
        .filter(|l| !l.starts_with("GNOME_KEYRING_"))
        .collect();
    assert_eq!(said, [console::KEY], "{}", out.stderr);
    assert!(
        out.stderr
            .contains("keychain: the Secret Service (D-Bus), as"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("deleted API key ID"), "{}", out.stderr);
}
