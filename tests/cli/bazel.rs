//! The credential-helper protocol of Bazel's `--credential_helper` (the
//! EngFlow credential-helper spec). Bazel is not installed here, so the spec
//! is the client: `<helper> get`, `{"uri": …}` on stdin, run from the
//! workspace, as the shipped bazelrc line and wrapper set it up.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
#[cfg(unix)]
use std::path::Path;

use insta::assert_snapshot;
#[cfg(unix)]
use serde_json::Value;
use serde_json::json;

use crate::console::Console;
use crate::harness::Sandbox;
#[cfg(unix)]
use crate::harness::{integration, output_of};

#[test]
fn bazel_get_answers_the_authorization_header_and_expiry() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let request = json!({"uri": format!("{}/x", console.url())}).to_string();
    let out = sandbox.run_with_stdin(&["bazel", "get"], &request);
    // `expires` is when we would stop serving it: 15 minutes before `exp`.
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"headers":{"Authorization":["Bearer <JWT 1>"]},"expires":"2099-12-31T23:45:00Z"}
    --- stderr
    "#);
    assert_eq!(
        sandbox.run_with_stdin(&["bazel", "get"], &request).stdout,
        out.stdout
    );
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn bazel_get_adds_nothing_for_another_host() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    for uri in [
        "https://bcr.bazel.build/modules/x",
        // Same host, other scheme and port: not the Console either.
        &format!("https://{}/x", console.addr()),
    ] {
        let out = sandbox.run_with_stdin(&["bazel", "get"], &json!({ "uri": uri }).to_string());
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, "{}\n", "")
        );
    }
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn bazel_get_refuses_what_is_not_a_request() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let out = sandbox.run_with_stdin(&["bazel", "get"], "https://console.snowplowanalytics.com\n");
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: expected {"uri": "https://…"} on standard input from the build tool (expected value at line 1 column 1)
    "#);
    out.failure();
    let no_uri = sandbox.run_with_stdin(&["bazel", "get"], r#"{"url":"https://x.test/"}"#);
    no_uri.failure();
    assert!(
        no_uri.stderr.contains("missing field `uri`"),
        "{}",
        no_uri.stderr
    );
    assert_eq!(console.token_requests(), 0);
}

/// One `--credential_helper` line of a bazelrc: (scope, helper path).
#[cfg(unix)]
fn credential_helper(line: &str) -> (String, String) {
    let (command, flag) = line
        .split_once(char::is_whitespace)
        .unwrap_or_else(|| panic!("not `<command> <flag>`: {line}"));
    // The commands a bazelrc may name, optionally with `:config`.
    let command = command.split(':').next().unwrap();
    assert!(
        [
            "common", "always", "build", "fetch", "query", "sync", "test", "run"
        ]
        .contains(&command),
        "unknown bazelrc command in {line}"
    );
    let value = flag
        .trim()
        .strip_prefix("--credential_helper=")
        .unwrap_or_else(|| panic!("not a --credential_helper flag: {line}"));
    let (scope, path) = value.split_once('=').expect("the scoped form");
    assert!(!path.contains(char::is_whitespace), "{line}");
    (scope.to_string(), path.to_string())
}

// Unix only: the shipped helper is a shell script.
#[cfg(unix)]
#[test]
fn the_shipped_bazelrc_runs_the_shipped_helper_for_the_console() {
    let bazelrc = std::fs::read_to_string(integration("bazel/bazelrc")).unwrap();
    let helpers: Vec<_> = bazelrc
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(credential_helper)
        .collect();
    assert_eq!(helpers.len(), 1, "{bazelrc}");
    let (scope, path) = &helpers[0];
    assert_eq!(scope, "console.snowplowanalytics.com");
    let relative = path
        .strip_prefix("%workspace%/")
        .expect("a path in the workspace");

    // A workspace with the wrapper where the bazelrc says, and the binary on
    // PATH; the profile's `hosts` lets the stand-in's token go to the scope.
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.install_on_path();
    sandbox.serve_also(&[&format!("https://{scope}")]);
    let workspace = sandbox.path("workspace");
    let helper = workspace.join(relative);
    std::fs::create_dir_all(helper.parent().unwrap()).unwrap();
    let shipped = integration(&format!(
        "bazel/{}",
        Path::new(relative).file_name().unwrap().to_str().unwrap()
    ));
    assert!(
        std::fs::metadata(&shipped).unwrap().permissions().mode() & 0o111 != 0,
        "the shipped helper is executable"
    );
    std::fs::copy(&shipped, &helper).unwrap();

    // What Bazel does for a download from the Console.
    let uri = format!("https://{scope}/api/msc/v1/organizations");
    let mut cmd = sandbox.program(&helper, &["get"]);
    cmd.current_dir(&workspace);
    let out = output_of(&mut cmd, Some(json!({ "uri": uri }).to_string().as_bytes()));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        answer,
        json!({
            "headers": {"Authorization": [format!("Bearer {}", console.issued()[0])]},
            "expires": "2099-12-31T23:45:00Z",
        })
    );
}
