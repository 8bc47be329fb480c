//! curl and make, as users write them: the `header` output read by
//! `curl -H @file`, and the files in `integrations/shell` and
//! `integrations/make` run verbatim by bash and GNU make against the stand-in
//! Console, pointed at it only through the variables a user sets.

use std::path::PathBuf;

use insta::assert_snapshot;

use crate::console::{self, Console};
use crate::harness::{self, Output, Sandbox, integration, output_of};

/// A sandbox with `snowplow-credentials` on PATH, and bash and curl to run.
fn shell_sandbox(console: &Console) -> Option<Sandbox> {
    harness::require("bash")?;
    harness::require("curl")?;
    let mut sandbox = Sandbox::for_console(console);
    sandbox.install_on_path();
    Some(sandbox)
}

/// The Authorization header of each request the stand-in got outside its
/// token endpoints.
fn resource_authorizations(console: &Console) -> Vec<(String, Option<String>)> {
    console
        .requests()
        .into_iter()
        .filter(|r| !r.path.contains("/credentials/") && r.path != "/oauth/token")
        .map(|r| (r.path.clone(), r.header("authorization").map(String::from)))
        .collect()
}

/// Every request to the API carried the first token as a Bearer token.
#[track_caller]
fn assert_all_bearer(console: &Console, expected_requests: usize) {
    let bearer = format!("Bearer {}", console.issued()[0]);
    let sent = resource_authorizations(console);
    assert_eq!(sent.len(), expected_requests, "{sent:?}");
    for (path, auth) in sent {
        assert_eq!(auth.as_deref(), Some(bearer.as_str()), "{path}");
    }
}

#[test]
fn curl_reads_the_header_from_a_file() {
    let console = Console::start();
    let Some(sandbox) = shell_sandbox(&console) else {
        return;
    };
    let script = r#"(umask 077 && snowplow-credentials header > "$1") &&
        curl --silent --show-error --fail-with-body -H @"$1" \
            "$SNOWPLOW_CONSOLE_HOST/api/msc/v1/organizations""#;
    let file = sandbox.path("auth-header");
    let out = sandbox.bash(&["-c", script, "_", file.to_str().unwrap()]);
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    [{"id":"00000000-0000-4000-8000-000000000001","name":"Stand-in Org"}]--- stderr
    "#);
    assert_all_bearer(&console, 1);
}

#[test]
fn curl_reads_the_header_from_process_substitution() {
    let console = Console::start();
    let Some(sandbox) = shell_sandbox(&console) else {
        return;
    };
    let script = r#"curl --silent --show-error --fail-with-body \
        -H @<(snowplow-credentials header) \
        "$SNOWPLOW_CONSOLE_HOST/api/msc/v1/organizations/$SNOWPLOW_CONSOLE_ORG_ID/data-structures/v1""#;
    let out = sandbox.bash(&["-c", script]);
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    []--- stderr
    ");
    assert_all_bearer(&console, 1);
}

#[test]
fn the_curl_script_calls_the_console() {
    let console = Console::start();
    let Some(mut sandbox) = shell_sandbox(&console) else {
        return;
    };
    let script = integration("shell/curl.sh");
    let script = script.to_str().unwrap();
    let orgs = sandbox.bash(&[script]);
    assert_snapshot!(orgs.redacted(&console), @r#"
    exit: 0
    --- stdout
    [{"id":"00000000-0000-4000-8000-000000000001","name":"Stand-in Org"}]
    --- stderr
    "#);
    let path = format!(
        "/api/msc/v1/organizations/{}/data-structures/v1",
        console::ORG
    );
    let structures = sandbox.bash(&[script, &path]);
    assert_snapshot!(structures.redacted(&console), @"
    exit: 0
    --- stdout
    []
    --- stderr
    ");
    assert_all_bearer(&console, 2);
    assert_eq!(console.token_requests(), 1, "the second run is a cache hit");

    // Without a token: the helper's error, then curl's 401.
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "wrong");
    sandbox.set(
        "SNOWPLOW_CREDENTIALS_CACHE_DIR",
        sandbox.path("other-cache").to_str().unwrap(),
    );
    let refused = sandbox.bash(&[script]);
    assert_snapshot!(refused.redacted(&console), @r#"
    exit: 22
    --- stdout
    {"message":"Unauthorized"}
    --- stderr
    snowplow-credentials: the Console rejected API key ID 11111111-2222-4333-8444-555555555555 for organization 00000000-0000-4000-8000-000000000001 (HTTP 401, trace ID t-1): check the key from SNOWPLOW_CONSOLE_API_KEY is right, or whether it was deleted (Console, Settings, API keys)
    curl: (22) The requested URL returned error: 401
    "#);
}

/// A script that sources `export-token.sh` and hands the token to curl
/// through a child process, which sees it only if it was exported.
fn export_user_script(sandbox: &Sandbox) -> PathBuf {
    let script = sandbox.path("user-script.sh");
    std::fs::write(
        &script,
        format!(
            r#". "{}"
echo "exported a token of ${{#SNOWPLOW_TOKEN}} characters"
sh -c 'printf "Authorization: Bearer %s\n" "$SNOWPLOW_TOKEN"' |
    curl --silent --show-error --fail-with-body -H @- "$SNOWPLOW_CONSOLE_HOST/api/msc/v1/organizations"
"#,
            integration("shell/export-token.sh").display()
        ),
    )
    .unwrap();
    script
}

#[test]
fn the_export_script_exports_the_token_without_eval() {
    let console = Console::start();
    let Some(mut sandbox) = shell_sandbox(&console) else {
        return;
    };
    let script = export_user_script(&sandbox);
    let out = sandbox.bash(&[script.to_str().unwrap()]);
    let length = console.issued()[0].len().to_string();
    assert_snapshot!(out.redacted(&console).replace(&length, "<N>"), @r#"
    exit: 0
    --- stdout
    exported a token of <N> characters
    [{"id":"00000000-0000-4000-8000-000000000001","name":"Stand-in Org"}]--- stderr
    "#);
    assert_all_bearer(&console, 1);

    // No token: the sourcing script stops with the helper's status.
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "wrong");
    sandbox.set(
        "SNOWPLOW_CREDENTIALS_CACHE_DIR",
        sandbox.path("other-cache").to_str().unwrap(),
    );
    let refused = sandbox.bash(&[script.to_str().unwrap()]);
    assert_snapshot!(refused.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: the Console rejected API key ID 11111111-2222-4333-8444-555555555555 for organization 00000000-0000-4000-8000-000000000001 (HTTP 401, trace ID t-1): check the key from SNOWPLOW_CONSOLE_API_KEY is right, or whether it was deleted (Console, Settings, API keys)
    ");
    assert_eq!(resource_authorizations(&console).len(), 1, "curl never ran");

    // Sourced in an interactive shell, it fails the `.` command but does
    // not close the shell: sh (dash) and bash alike.
    let sourced = format!(
        ". \"{}\"\necho \"still open: $? token:${{SNOWPLOW_TOKEN-unset}}\"\n",
        integration("shell/export-token.sh").display()
    );
    for shell in [&["sh", "-i"][..], &["bash", "--norc", "--noprofile", "-i"]] {
        let mut cmd = sandbox.program(shell[0], &shell[1..]);
        let out = output_of(&mut cmd, Some(sourced.as_bytes()));
        assert_eq!(
            out.stdout, "still open: 1 token:unset\n",
            "{shell:?}: {out:?}"
        );
    }
}

/// GNU make on the integration Makefile, verbatim, in a scratch directory.
pub(crate) fn make(sandbox: &Sandbox, args: &[&str]) -> Output {
    let makefile = integration("make/Makefile");
    let mut all = vec!["--no-print-directory", "-f", makefile.to_str().unwrap()];
    all.extend(args);
    let mut cmd = sandbox.program("make", &all);
    cmd.current_dir(sandbox.home.path());
    output_of(&mut cmd, None)
}

fn make_sandbox(console: &Console) -> Option<Sandbox> {
    harness::require("make")?;
    shell_sandbox(console)
}

/// Neither the token nor its parts appear in what make printed.
#[track_caller]
fn assert_no_token(out: &Output, console: &Console) {
    for token in console.issued() {
        let body = token.split('.').nth(1).unwrap();
        assert!(
            !out.stdout.contains(body) && !out.stderr.contains(body),
            "make printed a token: {out:?}"
        );
    }
}

#[test]
fn the_makefile_calls_the_console_without_echoing_the_token() {
    let console = Console::start();
    let Some(sandbox) = make_sandbox(&console) else {
        return;
    };
    let out = make(&sandbox, &["data-structures", "organizations"]);
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    []
    [{"id":"00000000-0000-4000-8000-000000000001","name":"Stand-in Org"}]
    --- stderr
    "#);
    assert_no_token(&out, &console);
    assert_all_bearer(&console, 2);
    assert_eq!(console.token_requests(), 1);

    // A warm cache: no exchange at all.
    let warm = make(&sandbox, &["data-products", "event-specs"]);
    warm.success();
    assert_no_token(&warm, &console);
    assert_eq!(console.token_requests(), 1);
    assert_all_bearer(&console, 4);

    // A dry run shows the commands, which name the variable, not its value.
    let dry = make(&sandbox, &["-n", "organizations"]);
    assert_snapshot!(dry.redacted(&console), @r#"
    exit: 0
    --- stdout
    url=$(snowplow-credentials ${SNOWPLOW_MAKE_PROFILE:+--profile "$SNOWPLOW_MAKE_PROFILE"} console-url "/api/msc/v1/organizations") && test -n "$SNOWPLOW_TOKEN" && printf 'Authorization: Bearer %s\n' "$SNOWPLOW_TOKEN" | curl --silent --show-error --fail-with-body --write-out '\n' -H @- "$url"
    --- stderr
    "#);
    assert_no_token(&dry, &console);
}

#[test]
fn the_makefile_runs_the_helper_once_per_run() {
    let console = Console::start();
    let Some(mut sandbox) = make_sandbox(&console) else {
        return;
    };
    // With an unusable cache every run of the helper is an exchange, so the
    // exchanges count the runs.
    let not_a_dir = sandbox.path("not-a-dir");
    std::fs::write(&not_a_dir, "").unwrap();
    sandbox.set(
        "SNOWPLOW_CREDENTIALS_CACHE_DIR",
        not_a_dir.to_str().unwrap(),
    );
    let out = make(
        &sandbox,
        &[
            "organizations",
            "data-structures",
            "data-products",
            "event-specs",
        ],
    );
    out.success();
    assert_no_token(&out, &console);
    assert_eq!(console.token_requests(), 1, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("cannot use the cache directory").count(),
        1
    );
    assert_all_bearer(&console, 4);
}

#[test]
fn the_makefile_runs_no_helper_for_targets_that_do_not_need_it() {
    let console = Console::start();
    let Some(sandbox) = make_sandbox(&console) else {
        return;
    };
    // A project Makefile that includes it, as the file suggests.
    let project = sandbox.path("project.mk");
    std::fs::write(
        &project,
        format!(
            "include {}\n\nhello:\n\t@echo hello\n",
            integration("make/Makefile").display()
        ),
    )
    .unwrap();
    let mut cmd = sandbox.program("make", &["-f", project.to_str().unwrap(), "hello"]);
    cmd.current_dir(sandbox.home.path());
    let out = output_of(&mut cmd, None);
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    hello
    --- stderr
    ");
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn the_makefile_says_what_is_missing() {
    let console = Console::start();
    let Some(mut sandbox) = make_sandbox(&console) else {
        return;
    };
    let makefile = integration("make/Makefile");
    let redact = |out: Output| {
        out.redacted(&console)
            .replace(makefile.to_str().unwrap(), "<MAKEFILE>")
    };
    // No token: the helper's error, and curl is never run.
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "wrong");
    let no_token = make(&sandbox, &["organizations"]);
    assert_snapshot!(redact(no_token), @"
    exit: 2
    --- stdout
    --- stderr
    snowplow-credentials: the Console rejected API key ID 11111111-2222-4333-8444-555555555555 for organization 00000000-0000-4000-8000-000000000001 (HTTP 401, trace ID t-1): check the key from SNOWPLOW_CONSOLE_API_KEY is right, or whether it was deleted (Console, Settings, API keys)
    make: *** [<MAKEFILE>:73: organizations] Error 1
    ");
    // No organization anywhere: the helper says where to set one, and
    // neither the token nor curl is tried with a broken URL.
    sandbox.unset("SNOWPLOW_CONSOLE_ORG_ID");
    let no_org = make(&sandbox, &["data-structures"]);
    assert_snapshot!(redact(no_org), @r#"
    exit: 2
    --- stdout
    --- stderr
    snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: no organization ID for {org} in `/api/msc/v1/organizations/{org}/data-structures/v1`: set SNOWPLOW_CONSOLE_ORG_ID, --org-id, or org_id in the profile
    make: *** [<MAKEFILE>:64: data-structures] Error 1
    "#);
    assert_eq!(resource_authorizations(&console).len(), 0);
}

#[test]
fn the_makefile_calls_the_profiles_console_not_the_variables() {
    let (prod, staging) = (Console::start(), Console::start());
    let Some(mut sandbox) = make_sandbox(&prod) else {
        return;
    };
    // snowplow-cli's variables name production; the staging profile, named
    // with PROFILE=, must win for both the token and the URL.
    sandbox.write_key_env_profile("staging", &staging, "STAGING_KEY");
    let out = make(&sandbox, &["data-structures", "PROFILE=staging"]);
    assert_snapshot!(out.redacted(&staging), @"
    exit: 0
    --- stdout
    []
    --- stderr
    ");
    assert_eq!(prod.requests().len(), 0, "nothing went to production");
    assert_all_bearer(&staging, 1);
}

#[test]
fn the_makefile_defaults_to_the_real_console() {
    let console = Console::start();
    let Some(mut sandbox) = make_sandbox(&console) else {
        return;
    };
    sandbox.unset("SNOWPLOW_CONSOLE_HOST");
    // A dry run runs nothing: it shows that the URL comes from the helper.
    let dry = make(&sandbox, &["-n", "data-structures"]);
    assert_snapshot!(dry.redacted(&console), @r#"
    exit: 0
    --- stdout
    url=$(snowplow-credentials ${SNOWPLOW_MAKE_PROFILE:+--profile "$SNOWPLOW_MAKE_PROFILE"} console-url "/api/msc/v1/organizations/{org}/data-structures/v1") && test -n "$SNOWPLOW_TOKEN" && printf 'Authorization: Bearer %s\n' "$SNOWPLOW_TOKEN" | curl --silent --show-error --fail-with-body --write-out '\n' -H @- "$url"
    --- stderr
    "#);
    assert_eq!(console.token_requests(), 0);
    // And the helper, with no host set anywhere, names the production Console.
    let url = sandbox.run(&[
        "console-url",
        "/api/msc/v1/organizations/{org}/data-structures/v1",
    ]);
    assert_eq!(
        url.stdout,
        format!(
            "https://console.snowplowanalytics.com/api/msc/v1/organizations/{}/data-structures/v1\n",
            console::ORG
        )
    );
}
