//! A newcomer's first day (issue 11): snowplow-cli's own files need no
//! setup, an explicit profile means that profile, a cache hit needs no key,
//! scripts can ask for the Console URL, and every answer says why.
//!
//! Each test runs the real binary in a temporary HOME against the stand-in
//! Console, with the files snowplow-cli writes (`snowplow.yml`, `.env`) in
//! the places it reads them from.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use insta::assert_snapshot;

use crate::console::{self, Console};
use crate::harness::{Sandbox, free_port, output_of};
use crate::machine::write_private;

/// What `snowplow-cli setup` writes: the `console:` mapping, `host` only
/// when it is not the default.
fn snowplow_yml(org: &str, key_id: &str, key: &str, host: Option<&str>) -> String {
    let host = host.map(|h| format!("  host: {h}\n")).unwrap_or_default();
    format!("console:\n  api-key: {key}\n  api-key-id: {key_id}\n  org-id: {org}\n{host}")
}

/// snowplow-cli's files for `console`, in `dir` (relative to HOME).
fn write_yml_for(sandbox: &Sandbox, dir: &str, console: &Console) -> PathBuf {
    let path = sandbox.path(dir).join("snowplow.yml");
    let text = snowplow_yml(
        console::ORG,
        console::KEY_ID,
        console::KEY,
        Some(&console.url()),
    );
    write_private(&path, &text);
    path
}

/// A `.env` as godotenv writes it: `KEY="value"` lines.
fn write_dotenv(sandbox: &Sandbox, dir: &str, vars: &[(&str, &str)]) -> PathBuf {
    let path = sandbox.path(dir).join(".env");
    let text: String = vars.iter().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect();
    write_private(&path, &text);
    path
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `status --json`, parsed.
#[track_caller]
fn status_json(sandbox: &Sandbox, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["status", "--json"];
    all.extend_from_slice(args);
    let out = sandbox.run(&all);
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json printed no JSON ({e}): {out:?}"))
}

/// Where `status --json` says `field` came from.
#[track_caller]
fn source_of(status: &serde_json::Value, field: &str) -> String {
    status["sources"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no source for {field}: {status}"))
        .to_string()
}

// ---- snowplow-cli's files -------------------------------------------------

#[test]
fn snowplow_cli_setup_needs_no_setup_of_ours() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    write_yml_for(&sandbox, ".config/snowplow", &console);
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(console.token_requests(), 1);
    let request = &console.requests()[0];
    assert_eq!(request.header("x-api-key-id"), Some(console::KEY_ID));
    assert_eq!(request.header("x-api-key"), Some(console::KEY));
    assert_snapshot!(sandbox.run(&["-v", "token"]).home_redacted(&sandbox).redacted(&console), @"
    exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    snowplow-credentials: no profile of ours; org_id from org-id in ~/.config/snowplow/snowplow.yml; api_key_id from api-key-id in ~/.config/snowplow/snowplow.yml; host from host in ~/.config/snowplow/snowplow.yml; min_ttl from default; timeout from default; api_key from the OS keychain if it has the key, else api-key in ~/.config/snowplow/snowplow.yml
    snowplow-credentials: cache hit: <HOME>/.cache/snowplow/credentials/token-<HASH>.json
    ");
}

#[test]
fn a_dotenv_beside_it_works_too_and_godotenv_quoting_is_read() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    // godotenv quotes every value and escapes what needs it.
    let path = sandbox.path(".config/snowplow/.env");
    write_private(
        &path,
        &format!(
            "# written by snowplow-cli setup --dotenv, then moved here\n\
             export SNOWPLOW_CONSOLE_ORG_ID='{}'\n\
             SNOWPLOW_CONSOLE_API_KEY_ID=\"{}\"\n\
             SNOWPLOW_CONSOLE_API_KEY=\"{}\" # the secret\n\
             SNOWPLOW_CONSOLE_HOST={}\n",
            console::ORG,
            console::KEY_ID,
            console::KEY,
            console.url()
        ),
    );
    sandbox.run(&["token"]).success();
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn the_environment_beats_dotenv_which_beats_snowplow_yml_field_by_field() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    // snowplow.yml: everything, but a wrong host and key ID.
    write_private(
        &sandbox.path(".config/snowplow/snowplow.yml"),
        &snowplow_yml(
            console::ORG,
            "wrong-key-id",
            console::KEY,
            Some("http://127.0.0.1:9"),
        ),
    );
    // .env: the right key ID (and a wrong host, which the environment beats).
    write_dotenv(
        &sandbox,
        ".config/snowplow",
        &[
            ("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID),
            ("SNOWPLOW_CONSOLE_HOST", "http://127.0.0.1:10"),
        ],
    );
    sandbox.set("SNOWPLOW_CONSOLE_HOST", &console.url());
    let status = status_json(&sandbox, &[]);
    assert_eq!(source_of(&status, "host"), "SNOWPLOW_CONSOLE_HOST");
    assert_eq!(
        source_of(&status, "api_key_id"),
        "SNOWPLOW_CONSOLE_API_KEY_ID in ~/.config/snowplow/.env"
    );
    assert_eq!(
        source_of(&status, "org_id"),
        "org-id in ~/.config/snowplow/snowplow.yml"
    );
    assert_eq!(
        source_of(&status, "api_key"),
        "the OS keychain if it has the key, else api-key in ~/.config/snowplow/snowplow.yml"
    );
    sandbox.run(&["token"]).success();
    assert_eq!(
        console.requests()[0].header("x-api-key-id"),
        Some(console::KEY_ID)
    );
}

#[test]
fn home_dot_config_comes_before_the_os_config_directory() {
    let console = Console::start();
    let elsewhere = Console::start();
    let mut sandbox = Sandbox::new();
    let xdg = sandbox.path("xdg");
    sandbox.set("XDG_CONFIG_HOME", xdg.to_str().unwrap());
    let home_yml = write_yml_for(&sandbox, ".config/snowplow", &console);
    write_yml_for(&sandbox, "xdg/snowplow", &elsewhere);
    sandbox.run(&["token"]).success();
    assert_eq!(
        (console.token_requests(), elsewhere.token_requests()),
        (1, 0)
    );

    // Without the first, the OS config directory's file is read.
    std::fs::remove_file(&home_yml).unwrap();
    let status = status_json(&sandbox, &[]);
    assert_eq!(
        source_of(&status, "host"),
        "host in ~/xdg/snowplow/snowplow.yml"
    );

    // .env likewise: the first found is the only one read, as snowplow-cli does.
    write_dotenv(
        &sandbox,
        ".config/snowplow",
        &[("SNOWPLOW_CONSOLE_HOST", &console.url())],
    );
    write_dotenv(
        &sandbox,
        "xdg/snowplow",
        &[
            ("SNOWPLOW_CONSOLE_HOST", &elsewhere.url()),
            ("SNOWPLOW_CONSOLE_ORG_ID", "from-the-second-env-file"),
        ],
    );
    let status = status_json(&sandbox, &[]);
    assert_eq!(
        source_of(&status, "host"),
        "SNOWPLOW_CONSOLE_HOST in ~/.config/snowplow/.env"
    );
    assert_eq!(
        source_of(&status, "org_id"),
        "org-id in ~/xdg/snowplow/snowplow.yml"
    );
}

#[test]
fn a_repository_dotenv_is_never_read() {
    let console = Console::start();
    let planted = Console::start();
    let sandbox = Sandbox::new();
    write_yml_for(&sandbox, ".config/snowplow", &console);
    let repo = sandbox.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    // A repository's .env that would send the key to another host.
    std::fs::write(
        repo.join(".env"),
        format!("SNOWPLOW_CONSOLE_HOST=\"{}\"\n", planted.url()),
    )
    .unwrap();
    let mut cmd = sandbox.command(&["token"]);
    cmd.current_dir(&repo);
    let out = output_of(&mut cmd, None);
    out.success();
    assert_eq!((console.token_requests(), planted.requests().len()), (1, 0));

    // With nothing else configured, the repository's .env still gives nothing.
    let bare = Sandbox::new();
    let mut cmd = bare.command(&["token"]);
    cmd.current_dir(&repo);
    let out = output_of(&mut cmd, None);
    out.failure();
    assert_eq!(planted.requests().len(), 0);
}

#[test]
fn a_snowplow_yml_others_can_read_keeps_its_key_to_itself() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    let path = write_yml_for(&sandbox, ".config/snowplow", &console);
    chmod(&path, 0o644);
    assert_snapshot!(sandbox.run(&["token"]).redacted(&console), @r"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: refusing the API key in ~/.config/snowplow/snowplow.yml: others can read the file; run `chmod 600 ~/.config/snowplow/snowplow.yml`
    ");
    assert_eq!(console.token_requests(), 0);
}

#[test]
fn a_snowplow_yml_others_can_write_is_not_read_at_all() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_HOST");
    // No key in it, but whoever can write it could send our key elsewhere.
    let path = sandbox.path(".config/snowplow/snowplow.yml");
    write_private(&path, &format!("console:\n  host: {}\n", console.url()));
    chmod(&path, 0o622);
    assert_snapshot!(sandbox.run(&["token"]).redacted(&console), @r"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: refusing ~/.config/snowplow/snowplow.yml: it can be changed by others (mode 622), who could make us run their commands or send the key elsewhere; run `chmod go-w ~/.config/snowplow/snowplow.yml`
    ");
    let dotenv = write_dotenv(
        &sandbox,
        ".config/snowplow",
        &[("SNOWPLOW_CONSOLE_API_KEY", console::KEY)],
    );
    std::fs::remove_file(&path).unwrap();
    chmod(&dotenv, 0o640);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.set("SNOWPLOW_CONSOLE_HOST", &console.url());
    assert_snapshot!(sandbox.run(&["token"]).redacted(&console), @r"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: refusing the API key in ~/.config/snowplow/.env: others can read the file; run `chmod 600 ~/.config/snowplow/.env`
    ");
}

#[test]
fn a_broken_snowplow_yml_is_one_line_naming_the_place() {
    let sandbox = Sandbox::new();
    write_private(
        &sandbox.path(".config/snowplow/snowplow.yml"),
        "console:\n  org-id: [unclosed\n",
    );
    let out = sandbox.run(&["status"]);
    out.failure();
    assert!(
        out.stderr.contains("~/.config/snowplow/snowplow.yml") && out.stderr.contains("line "),
        "{}",
        out.stderr
    );
}

#[test]
fn our_profile_is_never_mixed_with_snowplow_cli_files() {
    let console = Console::start();
    let elsewhere = Console::start();
    let mut sandbox = Sandbox::new();
    write_yml_for(&sandbox, ".config/snowplow", &elsewhere);
    sandbox.write_key_env_profile("default", &console, "MY_KEY");
    sandbox.run(&["token"]).success();
    assert_eq!(
        (console.token_requests(), elsewhere.requests().len()),
        (1, 0)
    );
    let status = status_json(&sandbox, &[]);
    assert_eq!(
        source_of(&status, "api_key"),
        "api_key_env $MY_KEY in profile \"default\" of ~/.config/snowplow/credentials.toml"
    );
}

// ---- an explicit profile wins ---------------------------------------------

/// Console variables for `prod`, and a `staging` profile for `staging`.
fn prod_env_staging_profile(prod: &Console, staging: &Console) -> Sandbox {
    let mut sandbox = Sandbox::for_console(prod);
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "the-production-key");
    sandbox.write_key_env_profile("staging", staging, "STAGING_KEY");
    sandbox
}

#[test]
fn an_explicit_profile_negates_the_console_variables() {
    let (prod, staging) = (Console::start(), Console::start());
    let mut sandbox = prod_env_staging_profile(&prod, &staging);
    sandbox.run(&["--profile", "staging", "token"]).success();
    assert_eq!((prod.requests().len(), staging.token_requests()), (0, 1));
    let status = status_json(&sandbox, &["--profile", "staging"]);
    assert_eq!(status["host"], staging.url());
    assert_eq!(
        source_of(&status, "host"),
        "host in profile \"staging\" of ~/.config/snowplow/credentials.toml"
    );
    assert_eq!(source_of(&status, "profile"), "--profile");
    // -v says which variables the named profile set aside.
    let verbose = sandbox.run(&["--profile", "staging", "-v", "token"]);
    assert!(
        verbose.stderr.contains(
            "SNOWPLOW_CONSOLE_HOST is set but not used: profile \"staging\" was chosen by --profile"
        ),
        "{}",
        verbose.stderr
    );

    // SNOWPLOW_CREDENTIALS_PROFILE chooses as explicitly as --profile.
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "staging");
    let status = status_json(&sandbox, &[]);
    assert_eq!(status["host"], staging.url());

    // Flags still win.
    let status = status_json(&sandbox, &["--host", &prod.url()]);
    assert_eq!(status["host"], prod.url());
    assert_eq!(source_of(&status, "host"), "--host");
}

#[test]
fn a_default_profile_still_yields_to_the_environment() {
    let (prod, staging) = (Console::start(), Console::start());
    let sandbox = prod_env_staging_profile(&prod, &staging);
    let mut text = std::fs::read_to_string(sandbox.config_file()).unwrap();
    text.insert_str(0, "default_profile = \"staging\"\n");
    sandbox.write_config(&text);
    let status = status_json(&sandbox, &[]);
    assert_eq!(status["host"], prod.url());
    assert_eq!(source_of(&status, "host"), "SNOWPLOW_CONSOLE_HOST");
}

#[test]
fn an_explicit_profile_that_lacks_a_value_says_where_to_set_it() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.write_config("[profiles.staging]\napi_key_env = \"STAGING_KEY\"\n");
    assert_snapshot!(sandbox.run(&["--profile", "staging", "token"]).redacted(&console), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: no organization ID: set org_id in profile "staging" of ~/.config/snowplow/credentials.toml, or pass --org-id (SNOWPLOW_CONSOLE_ORG_ID does not apply to a profile chosen by name)
    "#);
    assert_snapshot!(sandbox.run(&["--profile", "nope", "token"]).redacted(&console), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: no profile "nope" (from --profile) in ~/.config/snowplow/credentials.toml; its profiles: staging
    "#);
}

// ---- a hit needs no key ---------------------------------------------------

#[test]
fn a_cache_hit_needs_no_api_key() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let first = sandbox.run(&["token"]);
    first.success();
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let hit = sandbox.run(&["token"]);
    hit.success();
    assert_eq!(hit.stdout, first.stdout);
    // A miss needs it, and says so.
    assert_snapshot!(sandbox.run(&["token", "--refresh"]).redacted(&console), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: no API key to exchange for a token: set SNOWPLOW_CONSOLE_API_KEY, run `snowplow-cli setup` (api-key in ~/.config/snowplow/snowplow.yml), or set one of api_key_command, api_key_env, api_key in profile "default" of ~/.config/snowplow/credentials.toml; or, to keep it in the keychain, store it with `snowplow-credentials key set` (the kernel keyring (keyutils) has none)
    "#);
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn a_hit_reads_no_snowplow_yml_when_the_environment_names_the_identity() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    // Unparsable: a hit that read it would fail.
    write_private(
        &sandbox.path(".config/snowplow/snowplow.yml"),
        "console: [\n",
    );
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.run(&["token"]).success();
    // The miss needs the key, so it reads the file, and says what is wrong.
    let miss = sandbox.run(&["token", "--refresh"]);
    miss.failure();
    assert!(miss.stderr.contains("snowplow.yml"), "{}", miss.stderr);
}

// ---- scripts can ask -------------------------------------------------------

#[test]
fn status_json_has_everything_but_the_token() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.write_config("[profiles.default]\nhosts = [\"https://registry.example.com\"]\n");
    let before = status_json(&sandbox, &[]);
    assert_eq!(before["fresh"], false);
    assert!(before["expires"].is_null(), "{before}");
    let token = sandbox.run(&["token"]);
    token.success();
    let out = sandbox.run(&["status", "--json"]);
    out.success();
    assert!(!out.stdout.contains(token.stdout.trim()));
    let status: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(status["profile"], "default");
    assert_eq!(status["host"], console.url());
    assert_eq!(status["organization"], console::ORG);
    assert_eq!(status["auth"], "v3");
    assert_eq!(status["key_id"], console::KEY_ID);
    assert_eq!(
        status["served_hosts"],
        serde_json::json!([console.url(), "https://registry.example.com"])
    );
    assert_eq!(status["fresh"], true);
    assert_eq!(status["expires"], "2100-01-01T00:00:00Z");
    assert_eq!(status["refresh_at"], "2099-12-31T23:45:00Z");
    let cache = status["cache_file"].as_str().unwrap();
    assert!(Path::new(cache).is_file(), "{cache}");
    assert_eq!(source_of(&status, "org_id"), "SNOWPLOW_CONSOLE_ORG_ID");
    assert_eq!(source_of(&status, "min_ttl"), "default");
}

#[test]
fn console_url_prints_the_selected_consoles_url() {
    let (prod, staging) = (Console::start(), Console::start());
    let sandbox = prod_env_staging_profile(&prod, &staging);
    let out = sandbox.run(&["--profile", "staging", "console-url"]);
    assert_eq!(
        (out.code, out.stdout.clone(), out.stderr.clone()),
        (0, format!("{}\n", staging.url()), String::new())
    );
    let out = sandbox.run(&["console-url"]);
    assert_eq!(out.stdout, format!("{}\n", prod.url()));
    // The default, with nothing configured at all (no key, no organization).
    let out = Sandbox::new().run(&["console-url"]);
    assert_eq!(out.stdout, "https://console.snowplowanalytics.com\n");
    // From snowplow-cli's file.
    let cli = Sandbox::new();
    write_yml_for(&cli, ".config/snowplow", &staging);
    assert_eq!(
        cli.run(&["console-url"]).stdout,
        format!("{}\n", staging.url())
    );
}

#[test]
fn console_url_refuses_a_path_with_control_characters() {
    let sandbox = Sandbox::new();
    let mut seen = String::new();
    for path in ["/x\r\n{org}\u{1b}[31m", "/a\tb", "/\u{7f}"] {
        let out = sandbox.run(&["console-url", path]);
        seen.push_str(&format!(
            "exit {}, stdout {:?}: {}",
            out.code, out.stdout, out.stderr
        ));
    }
    assert_snapshot!(seen, @r#"
    exit 2, stdout "": snowplow-credentials: the PATH of console-url has the control character '\r': give the path as it appears in a URL (see snowplow-credentials console-url --help)
    exit 2, stdout "": snowplow-credentials: the PATH of console-url has the control character '\t': give the path as it appears in a URL (see snowplow-credentials console-url --help)
    exit 2, stdout "": snowplow-credentials: the PATH of console-url has the control character '\u{7f}': give the path as it appears in a URL (see snowplow-credentials console-url --help)
    "#);
}

// ---- -v explains silence ---------------------------------------------------

#[test]
fn verbose_says_which_host_was_asked_and_which_are_served() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let git = sandbox.run_with_stdin(&["-v", "git", "get"], "protocol=https\nhost=github.com\n\n");
    assert_snapshot!(git.redacted(&console), @"
    exit: 0
    --- stdout
    --- stderr
    snowplow-credentials: no profile of ours; org_id from SNOWPLOW_CONSOLE_ORG_ID; api_key_id from SNOWPLOW_CONSOLE_API_KEY_ID; host from SNOWPLOW_CONSOLE_HOST; min_ttl from default; timeout from default; api_key from SNOWPLOW_CONSOLE_API_KEY
    snowplow-credentials: not answering for https://github.com: this profile serves only <CONSOLE> (add other hosts to `hosts` in a profile)
    ");
    // Tools that run us without our arguments: the variable turns it on.
    sandbox.set("SNOWPLOW_CREDENTIALS_VERBOSE", "1");
    for (args, stdin) in [
        (&["docker", "get"][..], "https://registry.example.com"),
        (&["terraform", "get", "app.terraform.io"], ""),
        (
            &["bazel", "get"],
            r#"{"uri":"https://bazel.example.com/x"}"#,
        ),
    ] {
        let out = sandbox.run_with_stdin(args, stdin);
        assert!(
            out.stderr.contains("not answering for https://")
                && out
                    .stderr
                    .contains(&format!("serves only {}", console.url())),
            "{args:?}: {}",
            out.stderr
        );
    }
    sandbox.set("SNOWPLOW_CREDENTIALS_VERBOSE", "0");
    let quiet = sandbox.run_with_stdin(&["git", "get"], "protocol=https\nhost=github.com\n\n");
    assert_eq!(quiet.stderr, "");
    sandbox.set("SNOWPLOW_CREDENTIALS_VERBOSE", "loud");
    let bad = sandbox.run(&["token"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("SNOWPLOW_CREDENTIALS_VERBOSE"),
        "{bad:?}"
    );
}

#[test]
fn status_lists_the_served_hosts_and_when_it_will_refresh() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.write_config("[profiles.default]\nhosts = [\"https://registry.example.com\"]\n");
    sandbox.run(&["token"]).success();
    let out = sandbox.run(&["status"]);
    // Time left changes by the second; the rest must not.
    let stable = out.redacted(&console);
    let stable: String = match (stable.find("(in "), stable.find("), will")) {
        (Some(a), Some(b)) => format!("{}(in …{}", &stable[..a], &stable[b..]),
        _ => stable,
    };
    assert_snapshot!(stable, @r#"
    exit: 0
    --- stdout
    profile:       default (~/.config/snowplow/credentials.toml)
    host:          <CONSOLE>  (from SNOWPLOW_CONSOLE_HOST)
    organization:  00000000-0000-4000-8000-000000000001  (from SNOWPLOW_CONSOLE_ORG_ID)
    auth:          API key (Credentials API v3), key ID 11111111-2222-4333-8444-555555555555  (from SNOWPLOW_CONSOLE_API_KEY_ID)
    API key:       from SNOWPLOW_CONSOLE_API_KEY
    serves:        <CONSOLE>, https://registry.example.com
    cache file:    ~/.cache/snowplow/credentials/token-<HASH>.json
    token:         fresh, expires 2100-01-01T00:00:00Z (in …), will refresh from 2099-12-31T23:45:00Z
    --- stderr
    "#);
}

// ---- install-links ---------------------------------------------------------

#[test]
fn install_links_creates_the_directory_links_only_what_is_asked_and_removes() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path(".terraform.d/plugins");
    let dir_s = dir.to_str().unwrap();
    let out = sandbox.run(&["install-links", dir_s, "--only", "terraform"]);
    out.success();
    assert_eq!(out.stdout, "", "messages go to stderr");
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    assert_eq!(names(&dir), ["terraform-credentials-snowplow"]);
    assert!(out.stderr.contains("linked"), "{}", out.stderr);

    let bin = sandbox.path("bin");
    sandbox
        .run(&[
            "install-links",
            bin.to_str().unwrap(),
            "--only",
            "git,docker",
        ])
        .success();
    assert_eq!(
        names(&bin),
        ["docker-credential-snowplow", "git-credential-snowplow"]
    );
    // A file of the same name that is not our link is left alone.
    std::fs::write(bin.join("terraform-credentials-snowplow"), "#!/bin/sh\n").unwrap();
    let removed = sandbox.run(&["install-links", "--remove", bin.to_str().unwrap()]);
    removed.success();
    assert_eq!(removed.stdout, "");
    assert_eq!(names(&bin), ["terraform-credentials-snowplow"]);
    let out = sandbox.run(&["install-links", dir_s, "--only", "kubectl"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--only"), "{}", out.stderr);
}

#[test]
fn install_links_without_dir_uses_the_invoked_path_and_reports_each_conflict() {
    let mut sandbox = Sandbox::new();
    // As Homebrew: bin/snowplow-credentials is a symlink to the binary
    // elsewhere, found through PATH.
    let bin = sandbox.bin_dir();
    std::fs::write(bin.join("git-credential-snowplow"), "mine").unwrap();
    sandbox.prepend_path(&bin);
    let out = output_of(
        &mut sandbox.program("snowplow-credentials", &["install-links"]),
        None,
    );
    let home = sandbox.home.path().to_str().unwrap();
    assert_snapshot!(format!("{}\n{}", out.code, out.stderr.replace(home, "<HOME>")), @"
    1
    snowplow-credentials: warning: <HOME>/bin/git-credential-snowplow exists and is not a link; move it away and run install-links again
    snowplow-credentials: linked <HOME>/bin/docker-credential-snowplow -> <HOME>/bin/snowplow-credentials
    snowplow-credentials: linked <HOME>/bin/terraform-credentials-snowplow -> <HOME>/bin/snowplow-credentials
    snowplow-credentials: install-links: 1 of 3 name(s) not done, as said above
    ");
    assert_eq!(
        std::fs::read_to_string(bin.join("git-credential-snowplow")).unwrap(),
        "mine"
    );
    let link = std::fs::read_link(bin.join("docker-credential-snowplow")).unwrap();
    assert_eq!(
        link,
        bin.join("snowplow-credentials"),
        "the invoked path, not its target"
    );
    // A file where the directory should be.
    let file = bin.join("git-credential-snowplow");
    let out = sandbox.run(&["install-links", file.to_str().unwrap()]);
    assert_snapshot!(format!("{}\n{}", out.code, out.stderr.replace(home, "<HOME>")), @"
    2
    snowplow-credentials: install-links: <HOME>/bin/git-credential-snowplow is not a directory; give the directory to put the links in
    ");
}

// ---- messages name the real source ----------------------------------------

#[test]
fn a_404_names_the_profile_that_set_the_organization() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!(
        "[profiles.default]\norg_id = \"00000000-0000-4000-8000-0000000000f3\"\napi_key_id = \"{}\"\nhost = \"{}\"\napi_key_env = \"MY_KEY\"\n",
        console::KEY_ID,
        console.url()
    ));
    let mut sandbox = sandbox;
    sandbox.set("MY_KEY", console::KEY);
    assert_snapshot!(sandbox.run(&["token"]).redacted(&console), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: <CONSOLE> has no organization 00000000-0000-4000-8000-0000000000f3 (HTTP 404, trace ID t-1): check org_id in profile "default" of ~/.config/snowplow/credentials.toml and host in profile "default" of ~/.config/snowplow/credentials.toml
    "#);
}

#[test]
fn a_refused_connection_names_where_the_host_came_from() {
    // A port nothing listens on: connections are refused.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut sandbox = Sandbox::new();
    write_private(
        &sandbox.path(".config/snowplow/snowplow.yml"),
        &snowplow_yml(console::ORG, console::KEY_ID, console::KEY, Some(&closed)),
    );
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    let out = sandbox.run(&["token"]);
    out.failure();
    assert!(
        out.stderr
            .contains("check host in ~/.config/snowplow/snowplow.yml"),
        "{}",
        out.stderr
    );
    let flagged = sandbox.run(&["token", "--host", &closed]);
    assert!(
        flagged.stderr.contains("check --host"),
        "{}",
        flagged.stderr
    );
}

// ---- options and consistency ----------------------------------------------

#[test]
fn option_errors_name_the_option() {
    let sandbox = Sandbox::new();
    let bad = sandbox.run(&["token", "--min-ttl", "abc"]);
    assert_eq!(bad.code, 2);
    assert_snapshot!(bad.stderr, @"snowplow-credentials: --min-ttl: `abc` is not a whole number of seconds (see snowplow-credentials --help)
");
}

/// One rule for every duration, wherever it is set: a flag out of range is a
/// usage error (exit 2) like one that is not a number; a variable or a
/// config key is a configuration error naming it (exit 1).
#[test]
fn a_zero_negative_or_huge_timeout_is_refused_everywhere() {
    let mut sandbox = Sandbox::new();
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", "k");
    let mut seen = String::new();
    let mut run = |sandbox: &Sandbox, what: &str, args: &[&str]| {
        let out = sandbox.run(args);
        assert_eq!(out.stdout, "");
        seen.push_str(&format!("{what}: exit {}: {}", out.code, out.stderr));
    };
    for value in ["0", "-1", "86401"] {
        run(
            &sandbox,
            &format!("--timeout {value}"),
            &["token", "--timeout", value],
        );
    }
    run(
        &sandbox,
        "--min-ttl 86401",
        &["token", "--min-ttl", "86401"],
    );
    for value in ["0", "-1"] {
        sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", value);
        run(
            &sandbox,
            &format!("SNOWPLOW_CREDENTIALS_TIMEOUT={value}"),
            &["token"],
        );
    }
    sandbox.unset("SNOWPLOW_CREDENTIALS_TIMEOUT");
    for line in ["timeout = 0", "command_timeout = 0", "command_timeout = -1"] {
        sandbox.write_config(&format!("[profiles.default]\n{line}\n"));
        run(&sandbox, line, &["token"]);
    }
    assert_snapshot!(seen, @r#"
    --timeout 0: exit 2: snowplow-credentials: --timeout must be at least 1 second, not 0 (see snowplow-credentials --help)
    --timeout -1: exit 2: snowplow-credentials: --timeout: `-1` is not a whole number of seconds (see snowplow-credentials --help)
    --timeout 86401: exit 2: snowplow-credentials: --timeout is 86401 seconds: at most 86400 (a day) is allowed (see snowplow-credentials --help)
    --min-ttl 86401: exit 2: snowplow-credentials: --min-ttl is 86401 seconds: at most 86400 (a day) is allowed (see snowplow-credentials --help)
    SNOWPLOW_CREDENTIALS_TIMEOUT=0: exit 1: snowplow-credentials: SNOWPLOW_CREDENTIALS_TIMEOUT must be at least 1 second, not 0
    SNOWPLOW_CREDENTIALS_TIMEOUT=-1: exit 1: snowplow-credentials: SNOWPLOW_CREDENTIALS_TIMEOUT must be a whole number of seconds, not `-1`
    timeout = 0: exit 1: snowplow-credentials: timeout in profile "default" of ~/.config/snowplow/credentials.toml must be at least 1 second, not 0
    command_timeout = 0: exit 1: snowplow-credentials: command_timeout in profile "default" of ~/.config/snowplow/credentials.toml must be at least 1 second, not 0
    command_timeout = -1: exit 1: snowplow-credentials: config file ~/.config/snowplow/credentials.toml, line 2, column 19: invalid value: integer `-1`, expected u64
    "#);
}

#[test]
fn every_message_goes_to_stderr() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    for args in [&["clear"][..], &["clear"], &["clear", "--all"]] {
        let out = sandbox.run(args);
        out.success();
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(
            out.stderr.starts_with("snowplow-credentials: "),
            "{args:?}: {out:?}"
        );
    }
}

#[test]
fn clear_all_removes_lock_files_too() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let locks = || -> usize {
        std::fs::read_dir(sandbox.cache_dir())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "lock")
            })
            .count()
    };
    assert_eq!(locks(), 1, "a refresh leaves its lock file");
    let out = sandbox.run(&["clear", "--all"]);
    assert_eq!(
        out.stderr.trim(),
        format!(
            "snowplow-credentials: removed 2 cached files from {}",
            "~/.cache/snowplow/credentials"
        )
    );
    assert_eq!(locks(), 0);
}

#[test]
fn help_explains_one_command() {
    let sandbox = Sandbox::new();
    let help = sandbox.run(&["help", "install-links"]);
    help.success();
    assert!(help.stdout.contains("--only"), "{}", help.stdout);
    assert!(help.stdout.contains("--remove"), "{}", help.stdout);
    assert_eq!(
        sandbox.run(&["install-links", "--help"]).stdout,
        help.stdout
    );
    let status = sandbox.run(&["status", "--help"]);
    assert!(status.stdout.contains("--json"), "{}", status.stdout);
    assert_eq!(
        sandbox.run(&["help"]).stdout,
        sandbox.run(&["--help"]).stdout
    );
    let bad = sandbox.run(&["help", "nope"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

/// Every `SNOWPLOW_*` variable the source reads is listed in `--help`.
#[test]
fn help_lists_every_environment_variable() {
    let help = Sandbox::new().run(&["--help"]).stdout;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let named = variables_named_in(&src);
    assert!(named.len() >= 10, "found only {named:?}");
    for name in named {
        if !help.contains(&name) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "--help does not list {missing:?}");
}

/// Every `"SNOWPLOW_…"` string literal in the Rust files under `dir`.
fn variables_named_in(dir: &Path) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(variables_named_in(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("\"SNOWPLOW_").skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                if piece[name.len()..].starts_with('"') {
                    found.insert(format!("SNOWPLOW_{name}"));
                }
            }
        }
    }
    found
}

// ---- integration files follow the profile ---------------------------------

/// curl.sh and console_api.py call the Console of the profile they use,
/// not production and not what SNOWPLOW_CONSOLE_HOST names.
#[test]
fn the_integration_scripts_call_the_profiles_console() {
    let (prod, staging) = (Console::start(), Console::start());
    let mut sandbox = prod_env_staging_profile(&prod, &staging);
    sandbox.install_on_path();
    sandbox.set("SNOWPLOW_CREDENTIALS_PROFILE", "staging");
    if crate::harness::require("curl").is_some() {
        let script = crate::harness::integration("shell/curl.sh");
        let out = sandbox.bash(&[
            script.to_str().unwrap(),
            "/api/msc/v1/organizations/{org}/data-structures/v1",
        ]);
        assert_eq!((out.code, out.stdout.as_str()), (0, "[]\n"), "{out:?}");
    }
    let Some(python) = crate::harness::python_with(&["botocore"]) else {
        return;
    };
    // The AWS profile as the README says to write it for another profile.
    sandbox.unset("SNOWPLOW_CREDENTIALS_PROFILE");
    let aws_config = sandbox.path("aws-config");
    std::fs::write(
        &aws_config,
        "[profile snowplow]\ncredential_process = snowplow-credentials aws --profile staging\n",
    )
    .unwrap();
    sandbox
        .set("AWS_CONFIG_FILE", aws_config.to_str().unwrap())
        .set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let script = crate::harness::integration("aws/console_api.py");
    let mut cmd = sandbox.program(&python, &[script.to_str().unwrap()]);
    let out = output_of(&mut cmd, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Stand-in Org"), "{out:?}");
    assert_eq!(prod.requests().len(), 0, "nothing went to production");
    let organizations = staging.requests();
    assert!(
        organizations
            .iter()
            .any(|r| r.path == "/api/msc/v1/organizations")
    );
}

#[test]
fn a_relative_home_is_ignored_as_a_relative_xdg_config_home_is() {
    let console = Console::start();
    let mut sandbox = Sandbox::new();
    write_yml_for(&sandbox, ".config/snowplow", &console);
    // HOME=. in the directory that holds .config/snowplow: a repository's
    // files must not become the config.
    sandbox.set("HOME", ".").unset("XDG_CONFIG_HOME");
    let mut cmd = sandbox.command(&["token"]);
    cmd.current_dir(sandbox.home.path());
    let out = output_of(&mut cmd, None);
    assert_snapshot!(format!("{}\n{}", out.code, out.stderr), @r#"
    1
    snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    "#);
    assert_eq!(console.token_requests(), 0);
    // Nor does the cache go in the directory we run in.
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("HOME", ".").unset("XDG_CACHE_HOME");
    let mut cmd = sandbox.command(&["token"]);
    cmd.current_dir(sandbox.home.path());
    let out = output_of(&mut cmd, None);
    assert_snapshot!(format!("{}\n{}", out.code, out.stderr), @"
    1
    snowplow-credentials: HOME is `.`, a relative path: set HOME to an absolute path, or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    ");
    assert!(!sandbox.home.path().join(".cache").exists());
}

#[test]
fn a_snowplow_yml_snowplow_cli_would_read_otherwise_is_a_one_line_error() {
    let sandbox = Sandbox::new();
    let path = sandbox.path(".config/snowplow/snowplow.yml");
    write_private(
        &path,
        "console:\n  org-id: 11111111-1111-4111-8111-111111111111\n  org-id: 22222222-2222-4222-8222-222222222222\n",
    );
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.home_redacted(&sandbox).stderr, @"snowplow-credentials: ~/.config/snowplow/snowplow.yml, line 3, column 3: `org-id` appears twice in one mapping (snowplow-cli refuses that too)");
}

#[test]
fn status_says_the_config_file_exists_without_the_profile() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.write_config("[profiles.other]\norg_id = \"o\"\n");
    let out = sandbox.run(&["status"]);
    let first = out.home_redacted(&sandbox).stdout;
    assert_snapshot!(first.lines().next().unwrap(), @"profile:       default (not in ~/.config/snowplow/credentials.toml)");
    std::fs::write(sandbox.config_file(), "").unwrap();
    let out = sandbox.run(&["status"]);
    let first = out.home_redacted(&sandbox).stdout;
    assert_snapshot!(first.lines().next().unwrap(), @"profile:       default (not in ~/.config/snowplow/credentials.toml)");
}

#[test]
fn a_dotenv_value_over_several_lines_is_read_as_godotenv_reads_it() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    let url = console.url();
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----";
    write_dotenv(
        &sandbox,
        ".config/snowplow",
        &[("OTHER_PEM", pem), ("SNOWPLOW_CONSOLE_HOST", &url)],
    );
    assert_eq!(sandbox.run(&["console-url"]).stdout, format!("{url}\n"));
    write_dotenv(
        &sandbox,
        ".config/snowplow",
        &[(
            "SNOWPLOW_CONSOLE_HOST",
            &format!("{url}\nhttps://elsewhere.test"),
        )],
    );
    let out = sandbox.run(&["console-url"]);
    out.failure();
    assert_snapshot!(out.home_redacted(&sandbox).stderr, @"snowplow-credentials: ~/.config/snowplow/.env, line 1: SNOWPLOW_CONSOLE_HOST must be one line");
}

/// Our own config file is looked up in the same directories, in the same
/// order, as snowplow-cli's files (one list for both).
#[test]
fn credentials_toml_is_found_in_the_same_directories_in_the_same_order() {
    let mut sandbox = Sandbox::new();
    let xdg = sandbox.path("xdg");
    sandbox.set("XDG_CONFIG_HOME", xdg.to_str().unwrap());
    let profile = |name: &str| {
        format!(
            "default_profile = \"{name}\"\n[profiles.{name}]\norg_id = \"{}\"\n",
            console::ORG
        )
    };
    write_private(&xdg.join("snowplow/credentials.toml"), &profile("from-xdg"));
    assert_eq!(status_json(&sandbox, &[])["profile"], "from-xdg");
    write_private(
        &sandbox.path(".config/snowplow/credentials.toml"),
        &profile("from-home"),
    );
    assert_eq!(status_json(&sandbox, &[])["profile"], "from-home");
}
