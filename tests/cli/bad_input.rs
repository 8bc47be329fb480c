//! Bad input from every direction: what a tool sends on stdin or in the
//! environment, a broken config file, a key command that misbehaves, argv
//! that is not text. Each gets one clear line (on stderr; on stdout for
//! Docker, whose protocol reads errors there), a non-zero exit, no output
//! meant for the tool, and never a panic. Nothing reaches the Console.

#[cfg(unix)]
use std::ffi::OsStr;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;

use insta::assert_snapshot;

use crate::console::Console;
#[cfg(unix)]
use crate::harness::output_of;
use crate::harness::{Output, Sandbox};

/// The one error line of a failed run, with the sandbox's home as `<HOME>`.
#[track_caller]
fn error_line(out: &Output, sandbox: &Sandbox) -> String {
    out.failure();
    assert_eq!(out.stdout, "", "no protocol output on failure");
    out.home_redacted(sandbox).stderr.trim_end().to_string()
}

/// Runs `args` with `stdin` and returns its error line.
#[track_caller]
fn fails_with(sandbox: &Sandbox, args: &[&str], stdin: &[u8]) -> String {
    error_line(&sandbox.run_stdin(args, Some(stdin)), sandbox)
}

#[test]
fn git_input_that_is_not_a_credential_request() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let long_line = format!("host={}\n", "a".repeat(1024 * 1024));
    let cases: [(&str, &[u8]); 5] = [
        ("binary", b"\x89PNG\r\n\x1a\n\xff\xfe"),
        ("invalid UTF-8", b"protocol=https\nhost=caf\xe9.example\n"),
        ("a line without =", b"protocol=https\nhello\n"),
        ("a 1 MB line", long_line.as_bytes()),
        ("a NUL byte", b"protocol=https\nhost=a\0b\n"),
    ];
    let mut seen = String::new();
    for action in ["get", "store", "erase"] {
        for (what, input) in cases {
            let line = fails_with(&sandbox, &["git", action], input);
            if action == "get" {
                seen.push_str(&format!("{what}: {line}\n"));
            }
        }
    }
    assert_snapshot!(seen, @"
    binary: snowplow-credentials: git sent standard input that is not UTF-8: that is not a credential request
    invalid UTF-8: snowplow-credentials: git sent standard input that is not UTF-8: that is not a credential request
    a line without =: snowplow-credentials: git sent a line without `=`: expected git's credential format (key=value lines, see `git help credential`)
    a 1 MB line: snowplow-credentials: git sent more than 64 KiB on standard input: that is not a credential request
    a NUL byte: snowplow-credentials: git sent a NUL byte on standard input: that is not a credential request
    ");
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn docker_input_that_is_not_a_server_url() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for (action, input) in [
        ("get", &b""[..]),
        ("get", b"\n  \n"),
        ("erase", b""),
        ("get", b"https://\xff"),
        ("get", b"https://a\0b"),
    ] {
        let out = sandbox.run_stdin(&["docker", action], Some(input));
        // Docker reads a helper's errors on stdout.
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(out.stderr, "");
        assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
        let input = String::from_utf8_lossy(input);
        seen.push_str(&format!("{action} {:?}: {}", input, out.stdout));
    }
    assert_snapshot!(seen, @r#"
    get "": docker sent no server URL on standard input: expected e.g. https://console.snowplowanalytics.com
    get "\n  \n": docker sent no server URL on standard input: expected e.g. https://console.snowplowanalytics.com
    erase "": docker sent no server URL on standard input: expected e.g. https://console.snowplowanalytics.com
    get "https://�": docker sent standard input that is not UTF-8: that is not a credential request
    get "https://a\0b": docker sent a NUL byte on standard input: that is not a credential request
    "#);
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn kubernetes_exec_info_that_is_not_an_exec_credential() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for info in [
        "{",
        "[]",
        "null",
        "\"ExecCredential\"",
        r#"{"apiVersion": 5}"#,
        r#"{"apiVersion": "client.authentication.k8s.io/v2"}"#,
    ] {
        sandbox.set("KUBERNETES_EXEC_INFO", info);
        seen.push_str(&format!(
            "{info}: {}\n",
            error_line(&sandbox.run(&["kubernetes"]), &sandbox)
        ));
    }
    assert_snapshot!(seen, @r#"
    {: snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (EOF while parsing an object at line 1 column 1): run this from a kubeconfig exec entry, or unset it
    []: snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (invalid type: sequence, expected a map at line 1 column 0): run this from a kubeconfig exec entry, or unset it
    null: snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (invalid type: null, expected a map at line 1 column 4): run this from a kubeconfig exec entry, or unset it
    "ExecCredential": snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (invalid type: string "ExecCredential", expected a map at line 1 column 16): run this from a kubeconfig exec entry, or unset it
    {"apiVersion": 5}: snowplow-credentials: KUBERNETES_EXEC_INFO asks for apiVersion 5; set apiVersion to client.authentication.k8s.io/v1 in the kubeconfig exec entry
    {"apiVersion": "client.authentication.k8s.io/v2"}: snowplow-credentials: KUBERNETES_EXEC_INFO asks for apiVersion client.authentication.k8s.io/v2; set apiVersion to client.authentication.k8s.io/v1 in the kubeconfig exec entry
    "#);
    assert_eq!(console.token_requests(), 0);
}

// Unix only: Windows environment values and arguments are UTF-16, so no byte string can stand for text that is not UTF-8.
#[cfg(unix)]
#[test]
fn environment_values_that_are_not_text_are_named() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let bad = OsStr::from_bytes(b"caf\xe9");
    let mut seen = String::new();
    for name in ["SNOWPLOW_CONSOLE_API_KEY", "SNOWPLOW_CONSOLE_ORG_ID"] {
        let out = output_of(sandbox.command(&["token"]).env(name, bad), None);
        seen.push_str(&error_line(&out, &sandbox));
        seen.push('\n');
    }
    // A variable the profile names for the key.
    sandbox.write_config("[profiles.default]\napi_key_env = \"MY_KEY\"\n");
    let out = output_of(
        sandbox
            .command(&["token"])
            .env_remove("SNOWPLOW_CONSOLE_API_KEY")
            .env("MY_KEY", bad),
        None,
    );
    seen.push_str(&error_line(&out, &sandbox));
    assert_snapshot!(seen, @r#"
    snowplow-credentials: warning: SNOWPLOW_CONSOLE_API_KEY is not UTF-8 text, so it is ignored
    snowplow-credentials: no API key to exchange for a token: set SNOWPLOW_CONSOLE_API_KEY, run `snowplow-cli setup` (api-key in ~/.config/snowplow/snowplow.yml), or set one of api_key_command, api_key_env, api_key in profile "default" of ~/.config/snowplow/credentials.toml; or, to keep it in the keychain, store it with `snowplow-credentials key set` (the kernel keyring (keyutils) has none)
    snowplow-credentials: warning: SNOWPLOW_CONSOLE_ORG_ID is not UTF-8 text, so it is ignored
    snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: no API key: $MY_KEY is not UTF-8 text (named by profile "default" of ~/.config/snowplow/credentials.toml)
    "#);
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn bazel_input_that_is_not_a_request() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for input in [
        &b""[..],
        b"uri=https://x",
        b"{}",
        b"[]",
        br#"{"uri": 5}"#,
        br#"{"uri": "https://x""#,
        b"{\"uri\": \"\xff\"}",
    ] {
        seen.push_str(&format!(
            "{}: {}\n",
            String::from_utf8_lossy(input),
            fails_with(&sandbox, &["bazel", "get"], input)
        ));
    }
    assert_snapshot!(seen, @r#"
    : snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (EOF while parsing a value at line 1 column 0)
    uri=https://x: snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (expected value at line 1 column 1)
    {}: snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (missing field `uri` at line 1 column 2)
    []: snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (invalid length 0, expected struct Request with 1 element at line 1 column 2)
    {"uri": 5}: snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (invalid type: integer `5`, expected a string at line 1 column 9)
    {"uri": "https://x": snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (EOF while parsing an object at line 1 column 19)
    {"uri": "�"}: snowplow-credentials: the build tool sent standard input that is not UTF-8: that is not a credential request
    "#);
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn terraform_store_input_that_is_not_text() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let line = fails_with(
        &sandbox,
        &["terraform", "store", "console.test"],
        b"{\"token\": \"\xff\"}",
    );
    assert_snapshot!(line, @"snowplow-credentials: terraform sent standard input that is not UTF-8: that is not a credential request");
}

// Unix only: its snapshot holds Unix error texts ("Is a directory"), which Windows words differently.
#[cfg(unix)]
#[test]
fn config_files_that_cannot_be_used() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    let cases = [
        "[profiles.default\norg_id = \"x\"\n",
        "[profiles.default]\norg_id = \"a\"\norg_id = \"b\"\n",
        "[profiles.default]\nmin_ttl = \"soon\"\n",
        "[profiles.default]\nhosts = \"console.test\"\n",
        "[profiles.default]\napi_key_command = \"pass show snowplow\"\n",
        "[profiles.default]\nauth = \"oauth\"\n",
        "colour = \"blue\"\n",
        "[profile.default]\n",
        "[profiles.default]\n\n\n   timeout = -1\n",
        "[profiles.default]\nhosts = [\"ftp://x\"]\n",
        "[profiles.default]\napi_key_command = []\n",
        "[profiles.default]\napi_key_env = \"K\"\napi_key_command = [\"pass\"]\n",
        "[profiles.default]\nnote = \"caf\u{e9} \u{2603}\" = 1\n",
    ];
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    for text in cases {
        sandbox.write_config(text);
        seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
        seen.push('\n');
    }
    // Not UTF-8, and a NUL byte.
    for bytes in [&b"[profiles.default]\norg_id = \"\xff\"\n"[..], b"\0"] {
        let path = sandbox.write_config("");
        std::fs::write(&path, bytes).unwrap();
        seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
        seen.push('\n');
    }
    // A directory where the file should be.
    let path = sandbox.config_file();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    seen.push('\n');
    assert_snapshot!(seen, @r#"
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 1, column 18: unclosed table, expected `]`
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 3, column 1: duplicate key
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 11: invalid type: string "soon", expected u64
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 9: invalid type: string "console.test", expected a sequence
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 19: invalid type: string "pass show snowplow", expected a sequence
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 8: unknown variant `oauth`, expected `api-key` or `password`
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 1, column 1: unknown field `colour`, expected `default_profile` or `profiles`
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 1, column 2: unknown field `profile`, expected `default_profile` or `profiles`
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 4, column 14: invalid value: integer `-1`, expected u64
    snowplow-credentials: bad entry in hosts of profile "default" of ~/.config/snowplow/credentials.toml: `ftp://x` is not an http or https URL
    snowplow-credentials: api_key_command in profile "default" of ~/.config/snowplow/credentials.toml is empty: give the program and its arguments, e.g. ["pass", "show", "snowplow"]
    snowplow-credentials: profile "default" of ~/.config/snowplow/credentials.toml sets more than one of api_key_command, api_key_env, api_key: keep one
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 17: unexpected key or value, expected newline, `#`
    snowplow-credentials: cannot read config file ~/.config/snowplow/credentials.toml: it is not UTF-8 text
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 1, column 2: key with no value, expected `=`
    snowplow-credentials: cannot read config file ~/.config/snowplow/credentials.toml: it is not a regular file
    "#);
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn missing_settings_name_the_variable_and_the_key() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "staging");
    sandbox.write_config("[profiles.default]\n");
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    seen.push('\n');
    sandbox.unset("SNOWPLOW_CREDENTIALS_PROFILE");
    // The password grant, one missing field at a time.
    let full = [
        "auth = \"password\"",
        "client_id = \"id\"",
        "username = \"bot@example.com\"",
        "client_secret_env = \"S\"",
        "password_env = \"P\"",
    ];
    // The secrets the others name are set, so each missing one is what fails.
    sandbox.set("S", "secret").set("P", "password");
    for skip in 1..full.len() {
        let profile: Vec<_> = full
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, line)| *line)
            .collect();
        sandbox.write_config(&format!("[profiles.default]\n{}\n", profile.join("\n")));
        seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
        seen.push('\n');
    }
    // Named, but not set.
    sandbox.unset("S").unset("P");
    sandbox.write_config(&format!("[profiles.default]\n{}\n", full.join("\n")));
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    seen.push('\n');
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "soon");
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    seen.push('\n');
    sandbox.unset("SNOWPLOW_CREDENTIALS_TIMEOUT");
    sandbox.set("SNOWPLOW_CREDENTIALS_LOCK_WAIT", "forever");
    sandbox.write_config("");
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    seen.push('\n');
    assert_snapshot!(seen, @r#"
    snowplow-credentials: no profile "staging" (from SNOWPLOW_CREDENTIALS_PROFILE) in ~/.config/snowplow/credentials.toml; its profiles: default
    snowplow-credentials: no client_id: set client_id in profile "default" of ~/.config/snowplow/credentials.toml (auth = "password")
    snowplow-credentials: no username: set username in profile "default" of ~/.config/snowplow/credentials.toml (auth = "password")
    snowplow-credentials: no client secret to exchange for a token: set one of client_secret_command, client_secret_env, client_secret in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: no password to exchange for a token: set one of password_command, password_env, password in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: no client secret: $S is not set (named by profile "default" of ~/.config/snowplow/credentials.toml)
    snowplow-credentials: SNOWPLOW_CREDENTIALS_TIMEOUT must be a whole number of seconds, not `soon`
    snowplow-credentials: SNOWPLOW_CREDENTIALS_LOCK_WAIT must be a whole number of seconds, not `forever`
    "#);
    assert_eq!(console.token_requests(), 0);
}

// Unix only: its key commands are Unix tools (false, true, printf, sleep).
#[cfg(unix)]
#[test]
fn key_commands_that_misbehave() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let mut seen = String::new();
    for command in [
        r#"["false"]"#,
        r#"["/nonexistent/pass", "show", "snowplow"]"#,
        r#"["true"]"#,
        r#"["printf", "\n  \n"]"#,
        r#"["printf", "\\377\\376"]"#,
        r#"["printf", "one\ntwo\n"]"#,
        // Bounded by command_timeout.
        r#"["sleep", "30"]"#,
    ] {
        sandbox.write_config(&format!(
            "[profiles.default]\ncommand_timeout = 1\napi_key_command = {command}\n"
        ));
        seen.push_str(&format!(
            "{command}: {}\n",
            error_line(&sandbox.run(&["token"]), &sandbox)
        ));
    }
    assert_snapshot!(seen, @r#"
    ["false"]: snowplow-credentials: the command `false` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) failed (exit status: 1)
    ["/nonexistent/pass", "show", "snowplow"]: snowplow-credentials: the command `/nonexistent/pass` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) was not found
    ["true"]: snowplow-credentials: the command `true` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) printed nothing
    ["printf", "\n  \n"]: snowplow-credentials: the command `printf` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) printed nothing
    ["printf", "\\377\\376"]: snowplow-credentials: the command `printf` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) printed something that is not UTF-8
    ["printf", "one\ntwo\n"]: snowplow-credentials: the API key from the command `printf` (profile "default" of ~/.config/snowplow/credentials.toml) has more than one line: it must be the bare value
    ["sleep", "30"]: snowplow-credentials: the command `sleep` that gives the API key (profile "default" of ~/.config/snowplow/credentials.toml) did not finish within 1 s: check it runs on its own, or raise command_timeout
    "#);
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn keys_with_line_breaks_name_where_they_came_from() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // No config file: the profile is not where the key came from.
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "abc\r\nX: 1");
    let mut seen = error_line(&sandbox.run(&["token"]), &sandbox);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.set("MY_KEY", "abc\nX: 1");
    sandbox.write_config("[profiles.default]\napi_key_env = \"MY_KEY\"\n");
    seen.push('\n');
    seen.push_str(&error_line(&sandbox.run(&["token"]), &sandbox));
    assert_snapshot!(seen, @"
    snowplow-credentials: the API key from SNOWPLOW_CONSOLE_API_KEY has more than one line: it must be the bare value
    snowplow-credentials: the API key from MY_KEY has more than one line: it must be the bare value
    ");
    assert_eq!(console.token_requests(), 0);
}

// Unix only: Windows environment values and arguments are UTF-16, so no byte string can stand for text that is not UTF-8.
#[cfg(unix)]
#[test]
fn arguments_that_are_not_text_or_numbers() {
    let sandbox = Sandbox::new();
    let mut seen = String::new();
    let mut run = |args: &[&OsStr]| {
        let out = output_of(sandbox.command(&[]).args(args), None);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(!out.stderr.contains("panicked"));
        assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
        seen.push_str(&out.stderr);
    };
    let bad = OsStr::from_bytes(b"caf\xe9");
    run(&[OsStr::new("token"), OsStr::new("--profile"), bad]);
    run(&[bad]);
    run(&[
        OsStr::new("token"),
        OsStr::new("--min-ttl"),
        OsStr::new("-5"),
    ]);
    run(&[
        OsStr::new("token"),
        OsStr::new("--timeout"),
        OsStr::new("1e3"),
    ]);
    run(&[OsStr::new("token"), OsStr::new("--profile")]);
    run(&[OsStr::new("token"), OsStr::new("--frobnicate")]);
    assert_snapshot!(seen, @r#"
    snowplow-credentials: argument is invalid unicode: "caf\xE9" (see snowplow-credentials --help)
    snowplow-credentials: argument is invalid unicode: "caf\xE9" (see snowplow-credentials --help)
    snowplow-credentials: --min-ttl: `-5` is not a whole number of seconds (see snowplow-credentials --help)
    snowplow-credentials: --timeout: `1e3` is not a whole number of seconds (see snowplow-credentials --help)
    snowplow-credentials: missing argument for option '--profile' (see snowplow-credentials --help)
    snowplow-credentials: invalid option '--frobnicate' (see snowplow-credentials --help)
    "#);
}
