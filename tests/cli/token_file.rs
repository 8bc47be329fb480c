//! `token_file`: a profile that serves a token minted elsewhere (by ESO,
//! Vault Agent or a sink) through every protocol, with no key, no exchange,
//! no lock and no cache; re-read on every call, as Kubernetes swaps Secret
//! files under running pods; and read by the real git, botocore and kubectl.
//!
//! The tokens are minted by the stand-in Console, through the binary in a
//! sandbox that has the key; the sandboxes under test have none.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use insta::assert_snapshot;

use crate::console::{self, Console, make_jwt, now};
use crate::harness::{self, BIN, Output, Sandbox};

const ENV: &str = "SNOWPLOW_CREDENTIALS_TOKEN_FILE";

/// A token from the stand-in, minted through a sandbox that holds the key.
fn mint(console: &Console) -> String {
    let out = Sandbox::for_console(console).run(&["token"]);
    out.success();
    out.stdout.trim().to_string()
}

/// Writes `text` at `path` with `mode`, as the writer of a token file would.
fn put(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A sandbox with no key, no organization and no host (the protocols that
/// name a host compare it with the default Console host): only the file.
fn reader(file: &Path) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.set(ENV, file.to_str().unwrap());
    sandbox
}

/// The Console host, as the tools that name a host ask for it.
const HOST: &str = "console.snowplowanalytics.com";

fn shown(sandbox: &Sandbox, console: &Console, out: &Output) -> String {
    let home = sandbox.home.path().to_str().unwrap();
    out.redacted(console).replace(home, "<HOME>")
}

#[test]
fn every_protocol_serves_the_file_without_a_key_or_an_exchange() {
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o640);
    let sandbox = reader(&file);
    let url = format!("https://{HOST}");
    let git = format!("capability[]=authtype\nprotocol=https\nhost={HOST}\n\n");
    let bazel = format!(r#"{{"uri": "{url}/x"}}"#);
    let host = HOST.to_string();
    let mut all = String::new();
    for (args, stdin) in [
        (&["token"][..], None),
        (&["header"], None),
        (&["aws"], None),
        (&["git", "get"], Some(git.as_str())),
        (&["kubernetes"], None),
        (&["docker", "get"], Some(url.as_str())),
        (&["terraform", "get", &host], None),
        (&["bazel", "get"], Some(bazel.as_str())),
    ] {
        let out = sandbox.run_stdin(args, stdin.map(str::as_bytes));
        all.push_str(&format!("$ {}\n{}", args.join(" "), out.redacted(&console)));
    }
    assert_snapshot!(all, @r#"
    $ token
    exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    $ header
    exit: 0
    --- stdout
    Authorization: Bearer <JWT 1>
    --- stderr
    $ aws
    exit: 0
    --- stdout
    {"Version":1,"AccessKeyId":"snowplow","SecretAccessKey":"<JWT 1>","SessionToken":"<JWT 1>","Expiration":"2100-01-01T00:00:00Z"}
    --- stderr
    $ git get
    exit: 0
    --- stdout
    capability[]=authtype
    authtype=Bearer
    credential=<JWT 1>
    ephemeral=1
    password_expiry_utc=4102443900
    --- stderr
    $ kubernetes
    exit: 0
    --- stdout
    {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"<JWT 1>","expirationTimestamp":"2099-12-31T23:45:00Z"}}
    --- stderr
    $ docker get
    exit: 0
    --- stdout
    {"ServerURL":"https://console.snowplowanalytics.com","Username":"snowplow","Secret":"<JWT 1>"}
    --- stderr
    $ terraform get console.snowplowanalytics.com
    exit: 0
    --- stdout
    {"token":"<JWT 1>"}
    --- stderr
    $ bazel get
    exit: 0
    --- stdout
    {"headers":{"Authorization":["Bearer <JWT 1>"]},"expires":"2099-12-31T23:45:00Z"}
    --- stderr
    "#);
    assert_eq!(console.token_requests(), 1, "only the minting");
    assert!(!sandbox.path(".cache").exists(), "no cache, no lock");
}

/// A token_file profile's org_id is shown by status and used by
/// console-url alike (one reading of the profile).
#[test]
fn status_shows_the_organization_console_url_uses() {
    let console = Console::start();
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &mint(&console), 0o600);
    let sandbox = Sandbox::new();
    let org = "11111111-1111-4111-8111-111111111111";
    sandbox.write_config(&format!(
        "[profiles.default]\ntoken_file = \"{}\"\norg_id = \"{org}\"\n",
        file.display()
    ));
    let status = sandbox.run(&["status"]);
    let shown = status
        .stdout
        .lines()
        .find(|l| l.starts_with("organization:"));
    assert_snapshot!(shown.unwrap(), @r#"organization:  11111111-1111-4111-8111-111111111111  (from org_id in profile "default" of ~/.config/snowplow/credentials.toml)"#);
    let url = sandbox.run(&["console-url", "/{org}"]);
    assert!(url.stdout.ends_with(&format!("/{org}\n")), "{url:?}");
}

#[test]
fn status_names_the_file_and_exits_0_while_its_token_is_served() {
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o600);
    let sandbox = reader(&file);
    let dir = root.path().to_str().unwrap();
    // The time left changes from day to day: `(in <LEFT>)`.
    let stable = |out: &Output| {
        let text = out.redacted(&console).replace(dir, "<DIR>");
        match (text.find("(in "), text.find(")\n--- stderr")) {
            (Some(from), Some(to)) => format!("{}(in <LEFT>{}", &text[..from], &text[to..]),
            _ => text,
        }
    };
    assert_snapshot!(stable(&sandbox.run(&["status"])), @"
    exit: 0
    --- stdout
    profile:       default (no config file)
    host:          https://console.snowplowanalytics.com  (from default)
    organization:  (none)
    auth:          a token minted elsewhere: no key, no exchange
    serves:        https://console.snowplowanalytics.com
    token file:    <DIR>/token
    token:         fresh, expires 2100-01-01T00:00:00Z (in <LEFT>)
    --- stderr
    ");
    let expired = make_jwt(&serde_json::json!({"iat": 1_699_913_600, "exp": 1_700_000_000}));
    put(&file, &expired, 0o600);
    assert_snapshot!(stable(&sandbox.run(&["status"])), @"
    exit: 1
    --- stdout
    profile:       default (no config file)
    host:          https://console.snowplowanalytics.com  (from default)
    organization:  (none)
    auth:          a token minted elsewhere: no key, no exchange
    serves:        https://console.snowplowanalytics.com
    token file:    <DIR>/token
    token:         expired at 2023-11-14T22:13:20Z
    --- stderr
    snowplow-credentials: <DIR>/token holds no token that can be served: check what writes it (ESO, Vault Agent, snowplow-credentials sink)
    ");
    put(&file, &jwt, 0o600);
    // Nothing to drop: the file is not ours.
    let out = sandbox.run(&["clear"]);
    out.success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), jwt);
}

/// The layout the kubelet gives a Secret volume: `token` links through
/// `..data` to a timestamped directory, and an update swaps `..data`.
fn kubelet_volume(dir: &Path, generation: u32, token: &str) {
    let target = dir.join(format!("..2026_{generation}"));
    put(&target.join("token"), token, 0o440);
    let staged = dir.join("..data_tmp");
    std::os::unix::fs::symlink(target.file_name().unwrap(), &staged).unwrap();
    std::fs::rename(&staged, dir.join("..data")).unwrap();
    let link = dir.join("token");
    if !link.exists() {
        std::os::unix::fs::symlink("..data/token", &link).unwrap();
    }
}

#[test]
fn the_file_is_read_again_on_every_call_as_the_kubelet_swaps_it() {
    let console = Console::start();
    let (first, second) = (mint(&console), {
        console.set_exp(console::FAR_FUTURE_EXP - 60);
        mint(&console)
    });
    let dir = tempfile::tempdir().unwrap();
    kubelet_volume(dir.path(), 1, &first);
    let sandbox = reader(&dir.path().join("token"));
    assert_eq!(sandbox.run(&["token"]).stdout, format!("{first}\n"));
    kubelet_volume(dir.path(), 2, &second);
    assert_eq!(sandbox.run(&["token"]).stdout, format!("{second}\n"));
}

#[test]
fn the_consoles_json_answer_is_read_too() {
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token.json");
    put(&file, &format!("{{\"accessToken\": \"{jwt}\"}}\n"), 0o600);
    let out = reader(&file).run(&["token"]);
    assert_eq!(out.stdout, format!("{jwt}\n"));
}

#[test]
fn near_expiry_it_is_served_with_a_note_and_after_expiry_it_is_an_error() {
    let console = Console::start();
    // Two minutes left of a day: inside the 15 minute threshold.
    console.set_exp(now() + 120);
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o600);
    let sandbox = reader(&file);
    let out = sandbox.run(&["token"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, &*format!("{jwt}\n"), "")
    );
    let verbose = sandbox.run(&["token", "-v"]);
    assert!(
        verbose
            .stderr
            .contains("within its 900 s threshold: served, since only what writes"),
        "{}",
        verbose.stderr
    );

    // A token like the Console's that expired in November 2023.
    let expired = make_jwt(&serde_json::json!({"iat": 1_699_913_600, "exp": 1_700_000_000}));
    put(&file, &expired, 0o600);
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(shown(&sandbox, &console, &out).replace(root.path().to_str().unwrap(), "<DIR>"), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: the token in <DIR>/token expired at 2023-11-14T22:13:20Z: whatever writes that file (ESO, Vault Agent, snowplow-credentials sink) has not replaced it; check it
    ");
}

#[test]
fn unusable_files_are_one_line_errors_that_name_the_file_and_never_its_contents() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    let sandbox = reader(&file);
    let canary = "canary-token-5ecret";
    let no_exp = make_jwt(&serde_json::json!({"sub": canary}));
    let mut seen = String::new();
    for (text, mode) in [
        (None, 0o600),
        (Some(""), 0o600),
        (Some(canary), 0o600),
        (Some(&*format!("{canary} {canary}")), 0o600),
        (Some(&*format!("{{\"token\": \"{canary}\"}}")), 0o600),
        (
            Some(&*format!(
                "{{\"accessToken\": \"{canary}\", \"access_token\": \"{canary}\"}}"
            )),
            0o600,
        ),
        (Some(&*format!("{{\"accessToken\": \"{canary}")), 0o600),
        (Some(&*no_exp), 0o600),
        (Some(&*no_exp), 0o664),
    ] {
        let _ = std::fs::remove_file(&file);
        if let Some(text) = text {
            put(&file, text, mode);
        }
        let out = sandbox.run(&["token"]);
        out.failure();
        assert!(!out.stderr.contains(canary), "{}", out.stderr);
        seen.push_str(&out.stderr);
    }
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    seen.push_str(&sandbox.run(&["token"]).stderr);
    assert_snapshot!(seen.replace(root.path().to_str().unwrap(), "<DIR>"), @"
    snowplow-credentials: cannot use the token file <DIR>/token: No such file or directory (os error 2); check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it holds no token; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it is not a JWT (three base64url parts separated by dots); check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it holds more than one word: it must hold the token alone; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it is JSON without a string accessToken; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: its JSON names accessToken more than once; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it starts with `{` but is not valid JSON; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: its token has no expiry (exp claim); check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: others may write it (mode 664): it must be writable by its owner only; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    snowplow-credentials: cannot use the token file <DIR>/token: it is not a regular file; check what writes it (ESO, Vault Agent, snowplow-credentials sink) or the profile's token_file
    ");
}

#[test]
fn a_file_others_can_read_is_served_with_a_warning() {
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o644);
    let out = reader(&file).run(&["token"]);
    out.success();
    assert_snapshot!(out.stderr.replace(root.path().to_str().unwrap(), "<DIR>"), @"snowplow-credentials: warning: other users can read the token file <DIR>/token: make it 0640 or 0600");
}

#[test]
fn a_file_in_a_directory_others_can_write_is_served_with_a_warning() {
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shared");
    let file = dir.join("token");
    put(&file, &jwt, 0o600);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = reader(&file).run(&["token"]);
    out.success();
    assert_snapshot!(out.stderr.replace(root.path().to_str().unwrap(), "<DIR>"), @"snowplow-credentials: warning: others may replace the token file <DIR>/shared/token: its directory <DIR>/shared is writable by others (mode 777) and not sticky");
    // Sticky, as /tmp: others cannot replace what is not theirs.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = reader(&file).run(&["token"]);
    out.success();
    assert_eq!(out.stderr, "");
}

#[test]
fn a_profile_names_the_file_and_a_key_source_beside_it_is_an_error() {
    let console = Console::start();
    let jwt = mint(&console);
    let mut sandbox = Sandbox::new();
    let file = sandbox.path("run/token");
    put(&file, &jwt, 0o600);
    // The ESO recipe's profile, verbatim but for the mount path.
    if let Some(recipe) = eso_profile() {
        let path = file.to_str().unwrap();
        sandbox.write_config(&recipe.replace("/var/run/secrets/snowplow/token", path));
        assert_eq!(sandbox.run(&["token"]).stdout, format!("{jwt}\n"));
        let out = sandbox.run(&["status", "-v"]);
        out.success();
        assert!(
            out.stderr
                .contains("profile \"console\" from default_profile"),
            "{}",
            out.stderr
        );
    }

    sandbox.write_config(&format!(
        "[profiles.default]\ntoken_file = {:?}\napi_key_env = \"KEY\"\n",
        file.to_str().unwrap()
    ));
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.stderr, @r#"snowplow-credentials: profile "default" of ~/.config/snowplow/credentials.toml sets both token_file and api_key_env: token_file replaces the key source, so keep one"#);
    // The environment's token file beats the profile's key source, as
    // SNOWPLOW_CONSOLE_API_KEY does.
    sandbox.write_config(&format!(
        "[profiles.default]\norg_id = {:?}\napi_key_env = \"KEY\"\n",
        console::ORG
    ));
    sandbox.set(ENV, file.to_str().unwrap());
    assert_eq!(sandbox.run(&["token"]).stdout, format!("{jwt}\n"));
    assert_eq!(console.token_requests(), 1);
}

/// `credentials.toml` of the ConfigMap in integrations/kubernetes/eso.yaml,
/// read with PyYAML as kubectl would read the manifest.
fn eso_profile() -> Option<String> {
    let python = harness::python_with(&["yaml"])?;
    let recipe = harness::integration("kubernetes/eso.yaml");
    let documents = harness::yaml_documents(&python, &recipe);
    let config = documents.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    Some(
        config["data"]["credentials.toml"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

// The real clients, reading a token-file profile.

#[test]
fn real_git_gets_the_file_s_token_through_the_helper_link() {
    let Some(git) = harness::require("/usr/local/bin/git") else {
        return;
    };
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o600);
    let mut sandbox = reader(&file);
    // The scoped gitconfig users copy, verbatim.
    let gitconfig = harness::integration("git/gitconfig");
    sandbox
        .install_on_path()
        .set("GIT_CONFIG_NOSYSTEM", "1")
        .set("GIT_CONFIG_GLOBAL", gitconfig.to_str().unwrap())
        .set("GIT_TERMINAL_PROMPT", "0");
    let input = format!("capability[]=authtype\nprotocol=https\nhost={HOST}\n\n");
    let out = harness::output_of(
        &mut sandbox.program(&git, &["credential", "fill"]),
        Some(input.as_bytes()),
    );
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    capability[]=authtype
    authtype=Bearer
    credential=<JWT 1>
    ephemeral=1
    protocol=https
    host=console.snowplowanalytics.com
    password_expiry_utc=4102443900
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1, "only the minting");
}

#[test]
fn real_botocore_reads_the_file_s_token_through_credential_process() {
    let Some(python) = harness::python_with(&["botocore"]) else {
        return;
    };
    let console = Console::start();
    let jwt = mint(&console);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("token");
    put(&file, &jwt, 0o600);
    let mut sandbox = reader(&file);
    let config = sandbox.path("aws-config");
    std::fs::write(
        &config,
        format!("[profile snowplow]\ncredential_process = {BIN} aws\n"),
    )
    .unwrap();
    sandbox
        .set("AWS_CONFIG_FILE", config.to_str().unwrap())
        .set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let script = "import botocore.session\nc = botocore.session.Session(profile='snowplow').get_credentials()\nf = c.get_frozen_credentials()\nprint(c.method, f.access_key, f.token == f.secret_key, f.token)";
    let out = harness::output_of(&mut sandbox.program(&python, &["-c", script]), None);
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    custom-process snowplow True <JWT 1>
    --- stderr
    ");
}

#[test]
fn real_kubectl_sends_the_file_s_token() {
    let Some(kubectl) = harness::require("kubectl") else {
        return;
    };
    let cluster = crate::kubernetes::Cluster::start();
    let jwt = mint(&cluster.console);
    let root = tempfile::tempdir().unwrap();
    let file: PathBuf = root.path().join("token");
    put(&file, &jwt, 0o600);
    let sandbox = reader(&file);
    let kubeconfig = sandbox.path("kubeconfig.yaml");
    let users = crate::kubernetes::exec_user(BIN);
    std::fs::write(&kubeconfig, cluster.kubeconfig("exec", &users)).unwrap();
    let out = crate::kubernetes::kubectl_get(&kubectl, &sandbox, Some(&kubeconfig));
    out.success();
    assert_eq!(out.stdout.trim(), crate::kubernetes::ORGANIZATIONS);
    assert_eq!(cluster.bearer_requests(&jwt), 1);
    assert_eq!(cluster.console.token_requests(), 1, "only the minting");
}

#[test]
fn the_sink_s_file_is_a_token_file() {
    let console = Console::start();
    let writer = Sandbox::for_console(&console);
    let file = writer.path("run/token");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let out = writer.run(&["sink", file.to_str().unwrap(), "--mode", "0640", "--once"]);
    out.success();
    let out = reader(&file).run(&["header"]);
    assert_eq!(
        out.stdout,
        format!("Authorization: Bearer {}\n", console.issued()[0])
    );
}
