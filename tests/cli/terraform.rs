//! The Terraform credentials helper, alone and under the real terraform.
//!
//! Terraform asks a credentials helper for a token per service host (a
//! private registry), and only over HTTPS for hosts with a dot or an IP. So
//! the terraform test serves a module registry on `127.0.0.1:PORT` through
//! the HTTPS front (`tls::TlsProxy`) before the stand-in Console, whose
//! registry files are behind Bearer auth: terraform getting past them proves
//! it sent the token we issued.

use std::path::Path;

use insta::assert_snapshot;

use crate::console::Console;
use crate::harness::{self, Output, Sandbox};
use crate::tls::{TlsCerts, TlsProxy};

const TERRAFORMRC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/integrations/terraform/terraformrc"
);
const CONSOLE_API_TF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/integrations/terraform/console-api.tf"
);

/// Where the registry's module API lives on the stand-in, behind Bearer auth.
const MODULES_PREFIX: &str = "/registry/modules";

/// The stand-in Console behind HTTPS on 127.0.0.1, which also serves
/// Terraform's service discovery for a module registry on the same host.
struct Registry {
    console: Console,
    certs: TlsCerts,
    proxy: TlsProxy,
    /// The module registry's files (served by the stand-in).
    files: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let console = Console::start();
        let certs = TlsCerts::generate();
        let discovery = certs.dir.path().join("terraform.json");
        std::fs::write(
            &discovery,
            format!(r#"{{"modules.v1":"{MODULES_PREFIX}/"}}"#),
        )
        .unwrap();
        let proxy = TlsProxy::start(
            &certs,
            console.addr(),
            &[("/.well-known/terraform.json", &discovery)],
        );
        let files = tempfile::tempdir().unwrap();
        console.serve_dir(MODULES_PREFIX, files.path());
        Registry {
            console,
            certs,
            proxy,
            files,
        }
    }

    /// `127.0.0.1:PORT`: the host as Terraform names it.
    fn host(&self) -> String {
        self.proxy
            .ip_url()
            .trim_start_matches("https://")
            .to_string()
    }

    /// Publishes module `ns/NAME/provider` 1.0.0. Terraform 1.11 wants its
    /// download URL from a 204 answer's `X-Terraform-Get` header, which the
    /// stand-in cannot send: the 200 it gets instead ends `terraform init`,
    /// after both registry requests went out.
    fn publish(&self, name: &str) {
        let dir = self.files.path().join("ns").join(name).join("provider");
        std::fs::create_dir_all(dir.join("1.0.0")).unwrap();
        std::fs::write(
            dir.join("versions"),
            r#"{"modules":[{"versions":[{"version":"1.0.0"}]}]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("1.0.0/download"), "{}").unwrap();
    }

    /// The registry requests that carried exactly this Bearer token.
    fn bearer_requests(&self, token: &str) -> Vec<String> {
        let expected = format!("Bearer {token}");
        self.console
            .requests()
            .iter()
            .filter(|r| r.path.starts_with(MODULES_PREFIX))
            .filter(|r| r.header("authorization") == Some(expected.as_str()))
            .map(|r| r.path.clone())
            .collect()
    }
}

/// A sandbox where terraform finds our helper (linked into
/// `~/.terraform.d/plugins` by `install-links`), trusts the test CA, and
/// runs `init` in `work/` on a module from `registry`.
fn terraform_sandbox(registry: &Registry) -> Sandbox {
    let mut sandbox = Sandbox::for_console(&registry.console);
    let plugins = sandbox.path(".terraform.d/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    sandbox
        .run(&["install-links", plugins.to_str().unwrap()])
        .success();
    registry.publish("greeting");
    let work = sandbox.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("main.tf"),
        format!(
            "module \"x\" {{\n  source  = \"{}/ns/greeting/provider\"\n  version = \"1.0.0\"\n}}\n",
            registry.host()
        ),
    )
    .unwrap();
    sandbox
        .set("TF_CLI_CONFIG_FILE", TERRAFORMRC)
        .set("SSL_CERT_FILE", registry.certs.ca_pem.to_str().unwrap())
        .set("TF_IN_AUTOMATION", "1")
        .set("CHECKPOINT_DISABLE", "1");
    sandbox
}

fn terraform_init(terraform: &Path, sandbox: &Sandbox) -> Output {
    let mut init = sandbox.program(terraform, &["init", "-input=false", "-no-color"]);
    init.current_dir(sandbox.path("work"));
    harness::output_of(&mut init, None)
}

#[test]
fn terraform_init_sends_our_token_to_a_registry_the_profile_lists() {
    let Some(terraform) = harness::require("terraform") else {
        return;
    };
    let registry = Registry::start();
    let sandbox = terraform_sandbox(&registry);

    // The profile's Console host is the plain-http stand-in, so on its own
    // it does not serve https://127.0.0.1:PORT: terraform gets `{}` and asks
    // the registry without a token, which refuses it.
    let refused = terraform_init(&terraform, &sandbox);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("error looking up module versions: 401 Unauthorized"),
        "{}",
        refused.stderr
    );
    assert_eq!(registry.console.token_requests(), 0);
    assert!(
        registry
            .console
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );

    // A user with a private registry lists it in the profile: terraform
    // asks for `127.0.0.1:PORT`, which matches https://127.0.0.1:PORT.
    sandbox.write_config(&format!(
        "[profiles.default]\nhosts = [\"{}\"]\n",
        registry.proxy.ip_url()
    ));
    let out = terraform_init(&terraform, &sandbox);
    // The versions list is behind Bearer auth: terraform went on to download
    // 1.0.0, and the download answer (200 instead of 204, see `publish`)
    // was authorized too.
    assert!(
        out.stdout.contains(&format!(
            "Downloading {}/ns/greeting/provider 1.0.0",
            registry.host()
        )),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("failed to get download URL") && out.stderr.contains("200 OK"),
        "{}",
        out.stderr
    );
    let [token] = registry.console.issued().try_into().unwrap();
    let expected = vec![
        format!("{MODULES_PREFIX}/ns/greeting/provider/versions"),
        format!("{MODULES_PREFIX}/ns/greeting/provider/1.0.0/download"),
    ];
    assert_eq!(registry.bearer_requests(&token), expected);

    // Another terraform run gets the same token from our cache.
    terraform_init(&terraform, &sandbox);
    assert_eq!(registry.console.token_requests(), 1);
    assert_eq!(
        registry.bearer_requests(&token),
        [&expected[..], &expected[..]].concat()
    );
}

#[test]
fn a_failing_helper_is_only_in_terraforms_warn_log_and_without_the_key() {
    let Some(terraform) = harness::require("terraform") else {
        return;
    };
    let registry = Registry::start();
    let mut sandbox = terraform_sandbox(&registry);
    let wrong_key = "wrong-api-key-5ecret";
    sandbox
        .set("SNOWPLOW_CONSOLE_API_KEY", wrong_key)
        .write_config(&format!(
            "[profiles.default]\nhosts = [\"{}\"]\n",
            registry.proxy.ip_url()
        ));
    // Terraform ignores a helper's failure and goes on without a token, so
    // the user sees the registry's 401; our reason is in its log.
    let quiet = terraform_init(&terraform, &sandbox);
    assert_eq!(quiet.code, 1, "{quiet:?}");
    assert!(
        quiet.stderr.contains("401 Unauthorized"),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("snowplow-credentials:"));

    sandbox.set("TF_LOG", "warn");
    let logged = terraform_init(&terraform, &sandbox);
    assert_eq!(logged.code, 1, "{logged:?}");
    let ours: Vec<_> = logged
        .stderr
        .lines()
        .filter(|l| l.contains("Failed to get credentials"))
        .collect();
    assert!(
        !ours.is_empty()
            && ours
                .iter()
                .all(|l| l.contains("snowplow-credentials: the Console rejected API key ID")),
        "{}",
        logged.stderr
    );
    assert!(!logged.stderr.contains(wrong_key) && !quiet.stderr.contains(wrong_key));
    assert!(
        registry
            .console
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

/// A sandbox whose Console host is the HTTPS front, `https://127.0.0.1:PORT`
/// (trusted through SSL_CERT_FILE), the host terraform names `127.0.0.1:PORT`.
fn https_console(registry: &Registry) -> Sandbox {
    let mut sandbox = Sandbox::for_console(&registry.console);
    sandbox
        .set("SNOWPLOW_CONSOLE_HOST", &registry.proxy.ip_url())
        .set("SSL_CERT_FILE", registry.certs.ca_pem.to_str().unwrap());
    sandbox
}

/// `label: exit, stdout, stderr` lines for a snapshot, tokens redacted.
fn transcript(registry: &Registry, runs: &[(String, Output)]) -> String {
    let mut text = String::new();
    for (label, out) in runs {
        let one = format!(
            "{label}: exit {} {:?} {:?}\n",
            out.code, out.stdout, out.stderr
        );
        text.push_str(&harness::redact(&one, &registry.console));
    }
    text
}

#[test]
fn get_answers_the_console_host_and_nothing_for_other_hosts() {
    let registry = Registry::start();
    let sandbox = https_console(&registry);
    let port = registry.proxy.port;
    let others = [
        "registry.terraform.io".to_string(),
        "app.terraform.io".to_string(),
        "127.0.0.1".to_string(),
        format!("localhost:{port}"),
        registry.console.addr().to_string(),
    ];
    let mut runs = Vec::new();
    for host in &others {
        let out = sandbox.run(&["terraform", "get", host]);
        assert_eq!((out.code, out.stdout.as_str()), (0, "{}\n"), "{host}");
        runs.push((host.replace(&port.to_string(), "PORT"), out));
    }
    assert_eq!(
        registry.console.token_requests(),
        0,
        "no exchange for others"
    );
    runs.push((
        "127.0.0.1:PORT".to_string(),
        sandbox.run(&["terraform", "get", &registry.host()]),
    ));
    assert_snapshot!(transcript(&registry, &runs), @r#"
    registry.terraform.io: exit 0 "{}\n" ""
    app.terraform.io: exit 0 "{}\n" ""
    127.0.0.1: exit 0 "{}\n" ""
    localhost:PORT: exit 0 "{}\n" ""
    <CONSOLE-ADDR>: exit 0 "{}\n" ""
    127.0.0.1:PORT: exit 0 "{\"token\":\"<JWT 1>\"}\n" ""
    "#);
}

#[test]
fn store_discards_its_input_and_forget_drops_the_cache() {
    let registry = Registry::start();
    let sandbox = https_console(&registry);
    let host = registry.host();
    let got = sandbox.run(&["terraform", "get", &host]);
    got.success();
    assert_eq!(sandbox.cache_files().len(), 1);

    // `terraform login` would hand us a token to keep: we keep nothing.
    let offered = r#"{"token":"a-token-from-terraform-login"}"#;
    let store = sandbox.run_with_stdin(&["terraform", "store", &host], offered);
    let forget_other = sandbox.run(&["terraform", "forget", "registry.terraform.io"]);
    assert_eq!(sandbox.cache_files().len(), 1, "another host's forget");
    let again = sandbox.run(&["terraform", "get", &host]);
    assert_eq!(again.stdout, got.stdout, "still the cached token");
    for file in sandbox.cache_files() {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains("a-token-from-terraform-login"));
    }
    let forget = sandbox.run(&["terraform", "forget", &host]);
    assert_eq!(sandbox.cache_files().len(), 0, "our host's forget");
    assert_eq!(registry.console.token_requests(), 1);
    let fresh = sandbox.run(&["terraform", "get", &host]);
    assert_eq!(registry.console.token_requests(), 2);

    let runs = [
        ("get".to_string(), got),
        ("store".to_string(), store),
        ("forget registry.terraform.io".to_string(), forget_other),
        ("get".to_string(), again),
        ("forget".to_string(), forget),
        ("get".to_string(), fresh),
    ];
    assert_snapshot!(transcript(&registry, &runs), @r#"
    get: exit 0 "{\"token\":\"<JWT 1>\"}\n" ""
    store: exit 0 "" ""
    forget registry.terraform.io: exit 0 "" ""
    get: exit 0 "{\"token\":\"<JWT 1>\"}\n" ""
    forget: exit 0 "" ""
    get: exit 0 "{\"token\":\"<JWT 2>\"}\n" ""
    "#);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let sandbox = Sandbox::new();
    let mut text = String::new();
    for args in [
        &["terraform"][..],
        &["terraform", "get"],
        &["terraform", "list", "example.com"],
        &["terraform", "get", "a.example", "b.example"],
    ] {
        let out = sandbox.run(args);
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{args:?}");
        harness::assert_one_clear_line(&out.stderr);
        text.push_str(&format!("{}: {}", args.join(" "), out.stderr));
    }
    assert_snapshot!(text, @"
    terraform: snowplow-credentials: terraform needs an action (get, store or forget) and a host (see snowplow-credentials --help)
    terraform get: snowplow-credentials: terraform needs an action (get, store or forget) and a host (see snowplow-credentials --help)
    terraform list example.com: snowplow-credentials: terraform needs an action (get, store or forget) and a host (see snowplow-credentials --help)
    terraform get a.example b.example: snowplow-credentials: terraform needs an action (get, store or forget) and a host (see snowplow-credentials --help)
    ");
}

#[test]
fn the_multi_call_name_is_the_terraform_helper() {
    let registry = Registry::start();
    let sandbox = https_console(&registry);
    let dir = sandbox.path("plugins");
    std::fs::create_dir_all(&dir).unwrap();
    sandbox
        .run(&["install-links", dir.to_str().unwrap()])
        .success();
    let helper = dir.join("terraform-credentials-snowplow");
    let run = |args: &[&str]| harness::output_of(&mut sandbox.program(&helper, args), None);
    let runs = [
        (
            "get 127.0.0.1:PORT".to_string(),
            run(&["get", &registry.host()]),
        ),
        ("get example.com".to_string(), run(&["get", "example.com"])),
        (
            "forget example.com".to_string(),
            run(&["forget", "example.com"]),
        ),
        ("(no arguments)".to_string(), run(&[])),
    ];
    assert_snapshot!(transcript(&registry, &runs), @r#"
    get 127.0.0.1:PORT: exit 0 "{\"token\":\"<JWT 1>\"}\n" ""
    get example.com: exit 0 "{}\n" ""
    forget example.com: exit 0 "" ""
    (no arguments): exit 2 "" "snowplow-credentials: terraform needs an action (get, store or forget) and a host (see snowplow-credentials --help)\n"
    "#);
}

#[test]
fn the_console_api_example_parses_and_its_program_speaks_the_external_protocol() {
    let text = std::fs::read_to_string(CONSOLE_API_TF).unwrap();
    if let Some(terraform) = harness::require("terraform") {
        // Without its providers (no registry access here) terraform can
        // still check the format and load the configuration.
        let sandbox = Sandbox::new();
        let mut fmt = sandbox.program(
            &terraform,
            &["fmt", "-check", "-diff", "-no-color", CONSOLE_API_TF],
        );
        harness::output_of(&mut fmt, None).success();
        let work = sandbox.path("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::copy(CONSOLE_API_TF, work.join("console-api.tf")).unwrap();
        let mut providers = sandbox.program(&terraform, &["providers", "-no-color"]);
        providers.current_dir(&work).env("CHECKPOINT_DISABLE", "1");
        let out = harness::output_of(&mut providers, None);
        out.success();
        assert!(out.stdout.contains("hashicorp/external") && out.stdout.contains("hashicorp/http"));
    }

    // The external data source runs `program` with the query as JSON on
    // stdin, and wants a JSON object of strings on stdout. The programs as
    // written, against the stand-in's HTTPS front:
    let registry = Registry::start();
    let mut sandbox = https_console(&registry);
    let path = format!(
        "{}:{}",
        sandbox.bin_dir().display(),
        sandbox.var("PATH").unwrap()
    );
    sandbox.set("PATH", &path);
    // Each `program = concat([...], var.snowplow_args)` in order, with
    // var.snowplow_args at its default ([]) and the first result's host
    // where the second names it, as Terraform evaluates them.
    let programs: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            l.strip_prefix("program = concat([")?
                .strip_suffix("], var.snowplow_args)")
        })
        .collect();
    assert_eq!(programs.len(), 2, "{text}");
    let mut results: Vec<std::collections::BTreeMap<String, String>> = Vec::new();
    for line in programs {
        let program: Vec<String> = line
            .split(", ")
            .map(|word| match word.strip_prefix('"') {
                Some(literal) => literal.trim_end_matches('"').to_string(),
                None => {
                    assert_eq!(word, "data.external.console.result.host");
                    results[0]["host"].clone()
                }
            })
            .collect();
        assert_eq!(program[0], "snowplow-credentials");
        let args: Vec<&str> = program[1..].iter().map(String::as_str).collect();
        let mut external = sandbox.program(&program[0], &args);
        let out = harness::output_of(&mut external, Some(br#"{"any":"query"}"#));
        out.success();
        results.push(serde_json::from_str(&out.stdout).expect("a JSON object of strings"));
    }
    // The first names the profile's Console; the http data source calls it.
    assert_eq!(results[0].keys().collect::<Vec<_>>(), ["host", "url"]);
    assert_eq!(results[0]["host"], registry.host());
    assert_eq!(results[0]["url"], registry.proxy.ip_url());
    assert!(
        text.contains("url = \"${data.external.console.result.url}/api/msc/v1/organizations\"")
    );
    // The second gets the token for that host.
    assert_eq!(results[1].keys().collect::<Vec<_>>(), ["token"]);
    assert_eq!(registry.console.issued(), [results[1]["token"].clone()]);
}
