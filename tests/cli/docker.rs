//! Docker credential helper: each action's exact answer, and the Python
//! `docker` SDK (docker-py) running `docker-credential-snowplow` the way the
//! Docker CLI does, through `credHelpers` in the shipped `config.json`.

use std::path::{Path, PathBuf};

use insta::assert_snapshot;
use serde_json::{Value, json};

use crate::console::{self, Console};
use crate::harness::{self, Sandbox, output_of};

const PUBLIC_CONSOLE: &str = "https://console.snowplowanalytics.com";

fn shipped_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/docker/config.json")
}

#[test]
fn docker_get_answers_for_the_console_host() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // docker-py writes the server URL without a newline.
    let out = sandbox.run_with_stdin(&["docker", "get"], &console.url());
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"ServerURL":"<CONSOLE>","Username":"11111111-2222-4333-8444-555555555555","Secret":"<JWT 1>"}
    --- stderr
    "#);
    let again = sandbox.run_with_stdin(&["docker", "get"], &format!("{}\n", console.url()));
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn docker_get_for_another_host_is_not_found() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let out = sandbox.run_with_stdin(&["docker", "get"], "registry.example.com");
    assert_snapshot!(out.redacted(&console), @"
    exit: 1
    --- stdout
    credentials not found in native keychain
    --- stderr
    ");
    // Docker Hub, as the Docker CLI names it.
    let hub = sandbox.run_with_stdin(&["docker", "get"], "https://index.docker.io/v1/");
    assert_eq!(hub.redacted(&console), out.redacted(&console));
    assert_eq!(console.token_requests(), 0, "nothing was exchanged");
}

#[test]
fn docker_store_accepts_and_discards() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let stored = json!({"ServerURL": console.url(), "Username": "me", "Secret": "not-a-token"});
    let out = sandbox.run_with_stdin(&["docker", "store"], &stored.to_string());
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    --- stderr
    ");
    assert_eq!(console.token_requests(), 0);
    let get = sandbox.run_with_stdin(&["docker", "get"], &console.url());
    let answer: Value = serde_json::from_str(&get.stdout).unwrap();
    assert_eq!(answer["Secret"], console.issued()[0].as_str());
}

#[test]
fn docker_erase_drops_the_cached_token_for_the_console_host_only() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox
        .run_with_stdin(&["docker", "get"], &console.url())
        .success();
    let other = sandbox.run_with_stdin(&["docker", "erase"], "registry.example.com");
    assert_eq!((other.code, other.stdout.as_str()), (0, ""));
    assert_eq!(
        sandbox.cache_files().len(),
        1,
        "another host's erase keeps it"
    );

    let out = sandbox.run_with_stdin(&["docker", "erase"], &console.url());
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    --- stderr
    ");
    assert!(sandbox.cache_files().is_empty());
    let get = sandbox.run_with_stdin(&["docker", "get"], &console.url());
    get.success();
    assert_eq!(console.token_requests(), 2, "the next get exchanges again");
    assert!(get.stdout.contains(&console.issued()[1]));
}

#[test]
fn docker_list_maps_each_served_host_to_the_username() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.serve_also(&[PUBLIC_CONSOLE]);
    let out = sandbox.run(&["docker", "list"]);
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"<CONSOLE>":"11111111-2222-4333-8444-555555555555","https://console.snowplowanalytics.com":"11111111-2222-4333-8444-555555555555"}
    --- stderr
    "#);
    assert_eq!(console.token_requests(), 0, "listing exchanges nothing");
}

#[test]
fn docker_version_needs_no_configuration() {
    let out = Sandbox::new().run(&["docker", "version"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The host build (cargo's default) loads libc at run time; the static
    // build's line is checked in static_build.rs.
    assert_eq!(
        out.stdout,
        format!(
            "snowplow-credentials {} ({}, dynamically linked)\n",
            env!("CARGO_PKG_VERSION"),
            env!("BUILD_TARGET")
        )
    );
}

#[test]
fn docker_errors_go_to_stdout_with_exit_1() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let empty = sandbox.run_with_stdin(&["docker", "get"], "");
    assert_snapshot!(empty.redacted(&console), @"
    exit: 1
    --- stdout
    docker sent no server URL on standard input: expected e.g. https://console.snowplowanalytics.com
    --- stderr
    ");
    let blank = sandbox.run_with_stdin(&["docker", "erase"], "\n");
    assert_eq!(
        (blank.code, blank.stdout.as_str()),
        (1, empty.stdout.as_str())
    );
    // A configuration error too: Docker shows stdout to the user.
    let mut unconfigured = Sandbox::new();
    unconfigured.set("SNOWPLOW_CONSOLE_HOST", &console.url());
    let out = unconfigured.run_with_stdin(&["docker", "get"], &console.url());
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 1
    --- stdout
    no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml
    --- stderr
    "#);
}

/// Moves the SNOWPLOW_* variables out of the environment into the
/// `environment` docker-py gives the helper, then runs its credential store
/// for each server in argv and prints one JSON line per answer; then stores,
/// erases and gets the first again, and lists.
const DOCKER_PY_STORE: &str = r#"
import json, os, sys
from docker import credentials

env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SNOWPLOW_")}
store = credentials.Store("snowplow", environment=env)
for server in sys.argv[1:]:
    try:
        print(json.dumps(store.get(server)))
    except credentials.errors.CredentialsNotFound as e:
        print(json.dumps({"not_found": str(e)}))
# What the Docker CLI does on login and logout: store is ignored, erase
# drops the cached token, so the next get brings a new one.
store.store(sys.argv[1], "me", "not-a-token")
store.erase(sys.argv[1])
print(json.dumps(store.get(sys.argv[1])))
print(json.dumps({"list": store.list()}))
"#;

/// The sandbox with `docker-credential-snowplow` on PATH, made by
/// `install-links`.
fn with_links(console: &Console) -> Sandbox {
    let mut sandbox = Sandbox::for_console(console);
    let links = sandbox.path("links");
    std::fs::create_dir(&links).unwrap();
    sandbox
        .run(&["install-links", links.to_str().unwrap()])
        .success();
    sandbox.prepend_path(&links);
    sandbox
}

#[test]
fn docker_py_store_gets_our_token_and_not_found_elsewhere() {
    let Some(python) = harness::python_with(&["docker"]) else {
        return;
    };
    let console = Console::start();
    let sandbox = with_links(&console);
    let url = console.url();
    let mut cmd = sandbox.program(
        &python,
        &["-c", DOCKER_PY_STORE, &url, "registry.example.com"],
    );
    let out = output_of(&mut cmd, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let answers: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let issued = console.issued();
    assert_eq!(
        answers,
        [
            json!({"ServerURL": url, "Username": console::KEY_ID, "Secret": issued[0]}),
            // docker-py's own message: it recognised our not-found answer.
            json!({"not_found": "No matching credentials in docker-credential-snowplow"}),
            json!({"ServerURL": url, "Username": console::KEY_ID, "Secret": issued[1]}),
            json!({"list": {url.clone(): console::KEY_ID}}),
        ]
    );
}

/// Loads a Docker config.json with docker-py's loader and resolves the auth
/// config for each registry in argv, as `docker.APIClient` does before a pull.
const DOCKER_PY_RESOLVE: &str = r#"
import json, os, sys
from docker import auth

env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SNOWPLOW_")}
config = auth.load_config(config_path=sys.argv[1], credstore_env=env)
for registry in sys.argv[2:]:
    print(json.dumps(auth.resolve_authconfig(config, registry, credstore_env=env)))
"#;

#[test]
fn docker_py_resolves_the_shipped_config_json() {
    let Some(python) = harness::python_with(&["docker"]) else {
        return;
    };
    let console = Console::start();
    let sandbox = with_links(&console);
    // Docker asks by registry host, console.snowplowanalytics.com in the
    // shipped file; the profile's `hosts` lets the stand-in's token go there.
    sandbox.serve_also(&[PUBLIC_CONSOLE]);
    let config = shipped_config();
    let mut cmd = sandbox.program(
        &python,
        &[
            "-c",
            DOCKER_PY_RESOLVE,
            config.to_str().unwrap(),
            "console.snowplowanalytics.com",
            "registry.example.com",
        ],
    );
    let out = output_of(&mut cmd, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let answers: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        answers,
        [
            json!({
                "ServerAddress": "console.snowplowanalytics.com",
                "Username": console::KEY_ID,
                "Password": console.issued()[0],
            }),
            Value::Null,
        ]
    );
    assert_eq!(console.token_requests(), 1);
}
