//! The core contract: exchange, cache, refresh, configuration and the plain
//! outputs, with every error class the user can meet.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use insta::assert_snapshot;

use crate::console::{self, Console, FAR_FUTURE_EXP, Fault, now};
use crate::harness::Sandbox;
use crate::machine::write_private;

#[test]
fn token_exchanges_once_then_serves_the_cache() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let first = sandbox.run(&["token"]);
    assert_snapshot!(first.redacted(&console), @"
    exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    ");
    let second = sandbox.run(&["token"]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(
        console.token_requests(),
        1,
        "the second call is a cache hit"
    );

    let request = &console.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!(
            "/api/msc/v1/organizations/{}/credentials/v3/token",
            console::ORG
        )
    );
    assert_eq!(request.header("x-api-key-id"), Some(console::KEY_ID));
    assert_eq!(request.header("x-api-key"), Some(console::KEY));
    assert!(
        request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("snowplow-credentials/")),
        "{request:?}"
    );
}

#[test]
fn header_prints_an_authorization_line() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    assert_snapshot!(sandbox.run(&["header"]).redacted(&console), @"
    exit: 0
    --- stdout
    Authorization: Bearer <JWT 1>
    --- stderr
    ");
}

#[test]
fn a_token_inside_its_threshold_is_refreshed() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // A day-long token with 10 minutes left: inside the 15-minute threshold.
    console.set_exp(now() + 600);
    let first = sandbox.run(&["token"]);
    first.success();
    let second = sandbox.run(&["token"]);
    second.success();
    assert_eq!(
        console.token_requests(),
        2,
        "a stale token is exchanged again"
    );
    assert_ne!(first.stdout, second.stdout);
    // With a smaller --min-ttl the same token is fresh enough.
    sandbox.run(&["token", "--min-ttl", "60"]).success();
    assert_eq!(console.token_requests(), 2);

    console.set_exp(FAR_FUTURE_EXP);
    sandbox.run(&["token"]).success();
    sandbox.run(&["token"]).success();
    assert_eq!(
        console.token_requests(),
        3,
        "a fresh token is served from the cache"
    );
}

#[test]
fn short_lived_tokens_are_still_served_from_the_cache() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // 20 minutes of life: the 15-minute threshold is capped at half of it.
    console.set_lifetime(1200);
    sandbox.run(&["token"]).success();
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn refresh_flag_exchanges_even_when_fresh() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let first = sandbox.run(&["token"]);
    let refreshed = sandbox.run(&["token", "--refresh"]);
    assert_eq!(console.token_requests(), 2);
    assert_ne!(first.stdout, refreshed.stdout);
    // The refreshed token replaced the cached one.
    assert_eq!(sandbox.run(&["token"]).stdout, refreshed.stdout);
    assert_eq!(console.token_requests(), 2);
}

#[test]
fn without_a_key_id_v2_is_used_with_a_warning_on_exchange_only() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY_ID");
    assert_snapshot!(sandbox.run(&["token"]).redacted(&console), @"
    exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    snowplow-credentials: warning: no API key ID, so using the deprecated v2 Credentials API: set SNOWPLOW_CONSOLE_API_KEY_ID (or api_key_id) to use v3
    ");
    let hit = sandbox.run(&["token"]);
    assert_eq!(hit.stderr, "", "no warning on a cache hit");
    let request = &console.requests()[0];
    assert!(
        request.path.ends_with("/credentials/v2/token"),
        "{}",
        request.path
    );
    assert_eq!(request.header("x-api-key-id"), None);
    assert_eq!(request.header("x-api-key"), Some(console::KEY));
}

#[cfg(unix)]
/// A sandbox whose profile uses the password grant against `console`, the
/// password printed by a command.
fn password_sandbox(console: &Console) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.write_password_profile(
        console,
        &format!(
            r#"password_command = ["printf", "%s\n", "{}"]"#,
            console::PASSWORD
        ),
    );
    sandbox
}

// Unix only: its password command is `printf`.
#[cfg(unix)]
#[test]
fn password_grant_posts_the_form() {
    let console = Console::start();
    let sandbox = password_sandbox(&console);
    let out = sandbox.run(&["aws"]);
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"Version":1,"AccessKeyId":"snowplow","SecretAccessKey":"<JWT 1>","SessionToken":"<JWT 1>","Expiration":"2100-01-01T00:00:00Z"}
    --- stderr
    "#);
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1);
    let request = &console.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/oauth/token")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let body = String::from_utf8(request.body.clone()).unwrap();
    assert_snapshot!(body, @"grant_type=password&username=bot%40example.com&password=canary-pa55word&audience=https%3A%2F%2Fsnowplowanalytics.com%2Fapi%2F&client_id=canary-client-id&client_secret=canary-client-5ecret");
}

// Unix only: its password command is `printf`.
#[cfg(unix)]
#[test]
fn password_grant_lifetime_comes_from_expires_in_without_exp() {
    let console = Console::start();
    console.set_exp_claim(false);
    console.set_lifetime(3600);
    let sandbox = password_sandbox(&console);
    let out = sandbox.run(&["aws"]);
    out.success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let expiration = json["Expiration"].as_str().unwrap();
    assert!(expiration.ends_with('Z'), "{expiration}");
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1, "cached for expires_in");
}

#[test]
fn a_token_without_exp_is_refused() {
    let console = Console::start();
    console.set_exp_claim(false);
    let sandbox = Sandbox::for_console(&console);
    let out = sandbox.run(&["token"]);
    out.failure();
    assert!(out.stderr.contains("has no expiry"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn rejections_say_what_to_do() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "wrong-key");
    let unauthorized = sandbox.run(&["token"]);
    unauthorized.failure();
    assert_snapshot!(unauthorized.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: the Console rejected API key ID 11111111-2222-4333-8444-555555555555 for organization 00000000-0000-4000-8000-000000000001 (HTTP 401, trace ID t-1): check the key from SNOWPLOW_CONSOLE_API_KEY is right, or whether it was deleted (Console, Settings, API keys)
    ");

    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY_ID", console::FORBIDDEN_KEY_ID);
    let forbidden = sandbox.run(&["token"]);
    forbidden.failure();
    assert_snapshot!(forbidden.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: API key ID forbidden-key-id for organization 00000000-0000-4000-8000-000000000001 lacks permission to get a token (HTTP 403, trace ID t-1): grant it in the Console (Settings, API keys)
    ");

    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set(
        "SNOWPLOW_CONSOLE_ORG_ID",
        "00000000-0000-4000-8000-0000000000f3",
    );
    let not_found = sandbox.run(&["token"]);
    not_found.failure();
    assert_snapshot!(not_found.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: <CONSOLE> has no organization 00000000-0000-4000-8000-0000000000f3 (HTTP 404, trace ID t-1): check SNOWPLOW_CONSOLE_ORG_ID and SNOWPLOW_CONSOLE_HOST
    ");
    assert_eq!(console.token_requests(), 3, "4xx answers are not retried");
}

#[test]
fn server_errors_are_retried_then_reported() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    console.fail_always(Some(Fault::Status(503)));
    let out = sandbox.run(&["token"]);
    out.failure();
    assert!(
        out.stderr
            .contains("the Console is unavailable (HTTP 503, trace ID t-fault; 3 attempts in "),
        "{}",
        out.stderr
    );
    assert_eq!(console.token_requests(), 3, "retried within the 3 s budget");
    assert!(sandbox.cache_files().is_empty());

    console.fail_always(None);
    console.push_fault(Fault::Status(500));
    console.push_fault(Fault::Status(502));
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 6, "two failures, then a token");
}

#[test]
fn answers_that_are_not_tokens_are_refused_and_not_cached() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for fault in [
        Fault::Html,
        Fault::Empty,
        Fault::NoAccessToken,
        Fault::NotAJwt,
        Fault::Expired,
        Fault::Huge,
    ] {
        console.push_fault(fault.clone());
        let out = sandbox.run(&["token"]);
        out.failure();
        assert_eq!(out.stdout, "", "{fault:?}");
        let mut line = out.redacted(&console).lines().last().unwrap().to_string();
        // The expired token's time is an hour before now.
        if let Some(at) = line.find("expired at ") {
            let start = at + "expired at ".len();
            line.replace_range(start..start + 20, "<AN HOUR AGO>");
        }
        seen.push_str(&format!("{fault:?}: {line}"));
        seen.push('\n');
        assert!(
            sandbox.cache_files().is_empty(),
            "{fault:?} left a cache file"
        );
    }
    assert_snapshot!(seen, @"
    Html: snowplow-credentials: the Console answered with an HTML page instead of a token: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console (<CONSOLE>)
    Empty: snowplow-credentials: the Console answered with an empty body instead of a token: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console (<CONSOLE>)
    NoAccessToken: snowplow-credentials: the Console answered with JSON without `accessToken` instead of a token: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console (<CONSOLE>)
    NotAJwt: snowplow-credentials: the token from <CONSOLE> is unusable: it is not a JWT (three base64url parts separated by dots); check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console
    Expired: snowplow-credentials: the token from <CONSOLE> expired at <AN HOUR AGO>, before it arrived: check this machine's clock
    Huge: snowplow-credentials: the answer from <CONSOLE> is larger than 64 KiB, far more than any token: check SNOWPLOW_CONSOLE_HOST points at the Snowplow Console
    ");
}

#[test]
fn sixteen_processes_on_a_cold_cache_make_one_exchange() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let children: Vec<_> = (0..16)
        .map(|_| {
            sandbox
                .command(&["token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, outputs[0].stdout);
    }
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn a_corrupt_cache_is_a_miss_and_is_replaced() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    for garbage in [
        "{not json",
        "",
        "{\"identity\":\"someone else\",\"token\":\"x\",\"exp\":4102444800,\"iat\":0}",
    ] {
        std::fs::write(&file, garbage).unwrap();
        let out = sandbox.run(&["token"]);
        out.success();
        assert_eq!(out.stderr, "");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(out.stdout.trim()),
            "replaced with the new token"
        );
    }
    assert_eq!(console.token_requests(), 4);
}

// Unix only: it checks and loosens file modes, which Windows does not have.
#[cfg(unix)]
#[test]
fn cache_files_are_private_and_named_without_secrets() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let dir_mode = std::fs::metadata(sandbox.cache_dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let [file] = sandbox.cache_files().try_into().unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("token-") && !name.contains(console::KEY));

    // A loosened file is not used: it is replaced by a private one.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 2);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn identities_do_not_share_a_cache_file() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY_ID");
    sandbox.run(&["token"]).success();
    assert_eq!(sandbox.cache_files().len(), 2);
    assert_eq!(console.token_requests(), 2);
}

#[test]
fn settings_come_from_flags_then_env_then_profile() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", console::KEY);
    sandbox.write_config(&format!(
        r#"default_profile = "work"

[profiles.work]
org_id = "00000000-0000-4000-8000-0000000000f1"
api_key_id = "{key_id}"
host = "{url}"

[profiles.other]
org_id = "{org}"
api_key_id = "{key_id}"
host = "{url}"
"#,
        key_id = console::KEY_ID,
        org = console::ORG,
        url = console.url(),
    ));
    // default_profile "work" has the wrong org: 404.
    sandbox.run(&["token"]).failure();
    // The environment beats the profile.
    sandbox.set(
        "SNOWPLOW_CONSOLE_ORG_ID",
        "00000000-0000-4000-8000-0000000000f2",
    );
    let env = sandbox.run(&["token", "-v"]);
    assert_eq!(env.code, 1);
    assert!(
        env.stderr.contains("org_id from SNOWPLOW_CONSOLE_ORG_ID"),
        "{}",
        env.stderr
    );
    // A flag beats the environment.
    sandbox.run(&["token", "--org-id", console::ORG]).success();
    sandbox.unset("SNOWPLOW_CONSOLE_ORG_ID");
    // SNOWPLOW_CREDENTIALS_PROFILE beats default_profile; --profile beats both.
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "other");
    sandbox.run(&["token"]).success();
    sandbox.run(&["token", "--profile", "work"]).failure();
    // An empty value counts as unset.
    sandbox.set("SNOWPLOW_CONSOLE_ORG_ID", "");
    sandbox.run(&["token"]).success();
}

// Unix only: it checks and loosens file modes, which Windows does not have.
#[cfg(unix)]
#[test]
fn key_sources_env_command_and_private_inline() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let base = format!(
        "[profiles.default]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\n",
        console::ORG,
        console::KEY_ID,
        console.url()
    );
    sandbox.set("MY_KEY", console::KEY);
    sandbox.write_config(&format!("{base}api_key_env = \"MY_KEY\"\n"));
    sandbox.run(&["token", "--refresh"]).success();

    sandbox.write_config(&format!(
        "{base}api_key_command = [\"printf\", \"%s\\n\", \"{}\"]\n",
        console::KEY
    ));
    sandbox.run(&["token", "--refresh"]).success();

    let path = sandbox.write_config(&format!("{base}api_key = \"{}\"\n", console::KEY));
    sandbox.run(&["token", "--refresh"]).success();
    assert_eq!(console.token_requests(), 3);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = sandbox.run(&["token", "--refresh"]);
    shared.failure();
    assert_snapshot!(shared.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: refusing the inline api_key in ~/.config/snowplow/credentials.toml: others can read the file; run `chmod 600 ~/.config/snowplow/credentials.toml` or use api_key_command
    ");
    assert_eq!(
        console.token_requests(),
        3,
        "refused before anything is sent"
    );
}

// Unix only: its key command is an `sh -c` script.
#[cfg(unix)]
#[test]
fn a_cache_hit_runs_no_key_command() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let marker = sandbox.path("ran");
    sandbox.write_config(&format!(
        "[profiles.default]\napi_key_command = [\"sh\", \"-c\", \"echo x >> {}; echo {}\"]\n",
        marker.display(),
        console::KEY
    ));
    sandbox.run(&["token"]).success();
    sandbox.run(&["token"]).success();
    sandbox.run(&["aws"]).success();
    let runs = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(runs.lines().count(), 1, "the command ran on the miss only");
}

// Unix only: its snapshot holds a Unix error text ("No such file or directory"), which Windows words differently.
#[cfg(unix)]
#[test]
fn configuration_errors_name_what_to_set() {
    let sandbox = Sandbox::new();
    let mut seen = String::new();
    let mut check = |sandbox: &Sandbox, args: &[&str]| {
        let out = sandbox.run(args);
        out.failure();
        seen.push_str(&out.home_redacted(sandbox).stderr);
    };
    check(&sandbox, &["token"]);
    let mut sandbox = Sandbox::new();
    sandbox.set(
        "SNOWPLOW_CONSOLE_ORG_ID",
        "00000000-0000-4000-8000-0000000000f4",
    );
    check(&sandbox, &["token"]);
    sandbox.write_config("[profiles.default]\norg_idd = \"typo\"\n");
    check(&sandbox, &["token"]);
    sandbox.write_config("[profiles.default]\norg_id = \"unterminated\n");
    check(&sandbox, &["token"]);
    sandbox.write_config("[profiles.default]\n");
    check(&sandbox, &["token", "--profile", "missing"]);
    sandbox.set(
        "SNOWPLOW_CREDENTIALS_CONFIG",
        "/nonexistent/credentials.toml",
    );
    check(&sandbox, &["token"]);
    sandbox.unset("SNOWPLOW_CREDENTIALS_CONFIG");
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "k");
    sandbox.set("SNOWPLOW_CONSOLE_HOST", "http://console.example.com");
    check(&sandbox, &["token"]);
    sandbox.set("SNOWPLOW_CONSOLE_HOST", "ftp://console.example.com");
    check(&sandbox, &["token"]);
    sandbox.set(
        "SNOWPLOW_CONSOLE_HOST",
        "https://console.example.com/path?x#y",
    );
    check(&sandbox, &["token"]);
    check(
        &sandbox,
        &["console-url", "--host", "https://h.example.com#y"],
    );
    assert_snapshot!(seen, @r#"
    snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    snowplow-credentials: no API key to exchange for a token: set SNOWPLOW_CONSOLE_API_KEY, run `snowplow-cli setup` (api-key in ~/.config/snowplow/snowplow.yml), or set one of api_key_command, api_key_env, api_key in profile "default" of ~/.config/snowplow/credentials.toml; or, to keep it in the keychain, store it with `snowplow-credentials key set` (the kernel keyring (keyutils) has none)
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 1: unknown field `org_idd`, expected one of `org_id`, `api_key_id`, `host`, `hosts`, `min_ttl`, `timeout`, `command_timeout`, `auth`, `token_file`, `api_key_command`, `api_key_env`, `api_key`, `api_key_source`, `auth_url`, `audience`, `client_id`, `client_secret_command`, `client_secret_env`, `client_secret`, `username`, `password_command`, `password_env`, `password`
    snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 23: invalid basic string, expected `"`
    snowplow-credentials: no profile "missing" (from --profile) in ~/.config/snowplow/credentials.toml; its profiles: default
    snowplow-credentials: cannot read config file /nonexistent/credentials.toml (from SNOWPLOW_CREDENTIALS_CONFIG): No such file or directory (os error 2)
    snowplow-credentials: refusing to send credentials to http://console.example.com over plain http: use an https URL (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)
    snowplow-credentials: bad Console host from SNOWPLOW_CONSOLE_HOST: `ftp://console.example.com` is not an http or https URL
    snowplow-credentials: bad Console host from SNOWPLOW_CONSOLE_HOST: `https://console.example.com/path?x#y` has a query or fragment (`?` or `#`): remove it, a URL given here carries none
    snowplow-credentials: bad Console host from --host: `https://h.example.com#y` has a query or fragment (`?` or `#`): remove it, a URL given here carries none
    "#);
}

#[test]
fn empty_flag_values_are_usage_errors_not_a_silent_fallback() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for flag in [
        "--org-id",
        "--api-key-id",
        "--host",
        "--profile",
        "--config",
        "--token-file",
    ] {
        let out = sandbox.run(&["token", flag, ""]);
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        seen.push_str(&out.stderr);
    }
    assert_snapshot!(seen, @"
    snowplow-credentials: --org-id needs a value, and was given an empty one (an unset variable?)
    snowplow-credentials: --api-key-id needs a value, and was given an empty one (an unset variable?)
    snowplow-credentials: --host needs a value, and was given an empty one (an unset variable?)
    snowplow-credentials: --profile needs a value, and was given an empty one (an unset variable?)
    snowplow-credentials: --config needs a value, and was given an empty one (an unset variable?)
    snowplow-credentials: --token-file needs a value, and was given an empty one (an unset variable?)
    ");
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["frobnicate"]);
    assert_eq!(out.code, 2);
    assert_snapshot!(out.stderr, @"snowplow-credentials: unknown command `frobnicate` (see snowplow-credentials --help)");
    assert_eq!(sandbox.run(&["token", "--api-key", "x"]).code, 2);
    assert_eq!(sandbox.run(&[]).code, 2);
}

#[test]
fn help_and_version() {
    let sandbox = Sandbox::new();
    let help = sandbox.run(&["--help"]);
    help.success();
    assert!(help.stdout.contains("Usage: snowplow-credentials"));
    let version = sandbox.run(&["--version"]);
    // The host build (cargo's default) loads libc at run time; the static
    // build's line is checked in static_build.rs.
    assert_eq!(
        version.stdout,
        format!(
            "snowplow-credentials {} ({}, dynamically linked)\n",
            env!("CARGO_PKG_VERSION"),
            env!("BUILD_TARGET")
        )
    );
}

#[test]
fn status_and_clear() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let none = sandbox.run(&["status"]);
    assert_eq!(none.code, 1);
    assert_snapshot!(none.redacted(&console), @"
    exit: 1
    --- stdout
    profile:       default (no config file)
    host:          <CONSOLE>  (from SNOWPLOW_CONSOLE_HOST)
    organization:  00000000-0000-4000-8000-000000000001  (from SNOWPLOW_CONSOLE_ORG_ID)
    auth:          API key (Credentials API v3), key ID 11111111-2222-4333-8444-555555555555  (from SNOWPLOW_CONSOLE_API_KEY_ID)
    API key:       from SNOWPLOW_CONSOLE_API_KEY
    serves:        <CONSOLE>
    cache file:    ~/.cache/snowplow/credentials/token-<HASH>.json
    token:         none cached
    --- stderr
    snowplow-credentials: no fresh token is cached: run `snowplow-credentials token` to get one
    ");
    sandbox.run(&["token"]).success();
    let fresh = sandbox.run(&["status"]);
    fresh.success();
    // The time left changes daily; everything else is fixed.
    let stable: String = fresh
        .redacted(&console)
        .split(" (in ")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                format!(" (in …){}", part.split_once(')').unwrap().1)
            }
        })
        .collect();
    assert_snapshot!(stable, @"
    exit: 0
    --- stdout
    profile:       default (no config file)
    host:          <CONSOLE>  (from SNOWPLOW_CONSOLE_HOST)
    organization:  00000000-0000-4000-8000-000000000001  (from SNOWPLOW_CONSOLE_ORG_ID)
    auth:          API key (Credentials API v3), key ID 11111111-2222-4333-8444-555555555555  (from SNOWPLOW_CONSOLE_API_KEY_ID)
    API key:       from SNOWPLOW_CONSOLE_API_KEY
    serves:        <CONSOLE>
    cache file:    ~/.cache/snowplow/credentials/token-<HASH>.json
    token:         fresh, expires 2100-01-01T00:00:00Z (in …), will refresh from 2099-12-31T23:45:00Z
    --- stderr
    ");
    assert!(
        !fresh.stdout.contains(&console.issued()[0]),
        "status never shows the token"
    );

    let cleared = sandbox.run(&["clear"]);
    cleared.success();
    assert!(sandbox.cache_files().is_empty());
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 2);
    let all = sandbox.run(&["clear", "--all"]);
    assert_snapshot!(all.home_redacted(&sandbox).redacted(&console), @"
    exit: 0
    --- stdout
    --- stderr
    snowplow-credentials: removed 2 cached files from ~/.cache/snowplow/credentials
    ");
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn an_explicit_config_file_is_used() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    let path = sandbox.path("elsewhere/creds.toml");
    write_private(
        &path,
        &format!(
            "[profiles.default]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\napi_key_env = \"K\"\n",
            console::ORG,
            console::KEY_ID,
            console.url()
        ),
    );
    sandbox.set("K", console::KEY);
    sandbox
        .run(&["token", "--config", path.to_str().unwrap()])
        .success();
    sandbox.set("SNOWPLOW_CREDENTIALS_CONFIG", path.to_str().unwrap());
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1);
}
