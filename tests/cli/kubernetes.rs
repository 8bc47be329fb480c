//! The Kubernetes exec credential plugin, alone and under the real kubectl.
//!
//! kubectl only runs a user's exec plugin for a TLS server, so the kubectl
//! tests put the HTTPS front (`tls::TlsProxy`) before the stand-in Console
//! and ask it for a Bearer-protected resource: kubectl printing the answer
//! proves it sent the token we issued.

use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use insta::assert_snapshot;

use crate::console::{self, Console};
use crate::harness::{self, BIN, Output, Sandbox};
use crate::tls::{TlsCerts, TlsProxy};

const V1BETA1_INFO: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;

/// The integration file users copy, used verbatim.
const USER_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/integrations/kubernetes/kubeconfig-user.yaml"
);

#[test]
fn without_exec_info_it_answers_v1_with_our_refresh_time() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // The default token expires 2100-01-01T00:00:00Z: kubectl should run us
    // again 900 s before, when we would refresh it.
    assert_snapshot!(sandbox.run(&["kubernetes"]).redacted(&console), @r#"
    exit: 0
    --- stdout
    {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"<JWT 1>","expirationTimestamp":"2099-12-31T23:45:00Z"}}
    --- stderr
    "#);
    let alias = sandbox.run(&["exec-credential"]);
    assert_snapshot!(alias.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"<JWT 1>","expirationTimestamp":"2099-12-31T23:45:00Z"}}
    --- stderr
    "#);
    assert_eq!(console.token_requests(), 1, "the alias shares the cache");
}

#[test]
fn it_answers_in_the_version_client_go_asks_for() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("KUBERNETES_EXEC_INFO", V1BETA1_INFO);
    assert_snapshot!(sandbox.run(&["kubernetes"]).redacted(&console), @r#"
    exit: 0
    --- stdout
    {"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"<JWT 1>","expirationTimestamp":"2099-12-31T23:45:00Z"}}
    --- stderr
    "#);
}

#[test]
fn malformed_or_unknown_exec_info_is_a_clear_error() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    let mut seen = String::new();
    for info in [
        "{not json",
        "[]",
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v2","spec":{}}"#,
    ] {
        sandbox.set("KUBERNETES_EXEC_INFO", info);
        let out = sandbox.run(&["kubernetes"]);
        out.failure();
        assert_eq!(out.stdout, "", "{info}");
        seen.push_str(&out.stderr);
    }
    assert_snapshot!(seen, @"
    snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (key must be a string at line 1 column 2): run this from a kubeconfig exec entry, or unset it
    snowplow-credentials: KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (invalid type: sequence, expected a map at line 1 column 0): run this from a kubeconfig exec entry, or unset it
    snowplow-credentials: KUBERNETES_EXEC_INFO asks for apiVersion client.authentication.k8s.io/v2; set apiVersion to client.authentication.k8s.io/v1 in the kubeconfig exec entry
    ");
    assert_eq!(console.token_requests(), 0, "bad input costs no exchange");
}

#[test]
fn it_never_reads_stdin() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let garbage = sandbox.run_stdin(&["kubernetes"], Some(b"\0\xff not a request\n"));
    garbage.success();

    // stdin open and never written nor closed: reading it would block for
    // ever, so the answer arriving at all is the proof.
    let mut child = sandbox
        .command(&["kubernetes"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held_open = child.stdin.take().unwrap();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let out = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the plugin answered without waiting for stdin")
        .unwrap();
    drop(held_open);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), garbage.stdout);
}

/// The stand-in Console behind HTTPS, and a kubeconfig cluster for it.
pub struct Cluster {
    pub console: Console,
    certs: TlsCerts,
    proxy: TlsProxy,
}

impl Cluster {
    pub fn start() -> Cluster {
        let console = Console::start();
        let certs = TlsCerts::generate();
        let proxy = TlsProxy::start(&certs, console.addr(), &[]);
        Cluster {
            console,
            certs,
            proxy,
        }
    }

    /// A kubeconfig with this cluster, and a current context that uses
    /// `user` (defined in this file or another one merged with it).
    pub fn kubeconfig(&self, user: &str, users_yaml: &str) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
  - name: stand-in
    cluster:
      server: {server}
      certificate-authority-data: {ca}
contexts:
  - name: stand-in
    context:
      cluster: stand-in
      user: {user}
current-context: stand-in
{users_yaml}",
            server = self.proxy.url(),
            ca = self.certs.ca_data_base64(),
        )
    }

    /// How many resource requests carried exactly this Bearer token.
    pub fn bearer_requests(&self, token: &str) -> usize {
        let expected = format!("Bearer {token}");
        self.console
            .requests()
            .iter()
            .filter(|r| r.path == "/api/msc/v1/organizations")
            .filter(|r| r.header("authorization") == Some(expected.as_str()))
            .count()
    }
}

/// `kubectl get --raw /api/msc/v1/organizations` in the sandbox.
pub fn kubectl_get(kubectl: &Path, sandbox: &Sandbox, kubeconfig: Option<&Path>) -> Output {
    let mut args = vec!["get", "--raw", "/api/msc/v1/organizations"];
    let file;
    if let Some(path) = kubeconfig {
        file = path.to_str().unwrap().to_string();
        args.extend(["--kubeconfig", &file]);
    }
    harness::output_of(&mut sandbox.program(kubectl, &args), None)
}

pub const ORGANIZATIONS: &str =
    r#"[{"id":"00000000-0000-4000-8000-000000000001","name":"Stand-in Org"}]"#;

pub fn exec_user(command: &str) -> String {
    let command = serde_json::to_string(command).unwrap();
    format!(
        "users:
  - name: exec
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: {command}
        args: [kubernetes]
        interactiveMode: Never
"
    )
}

#[test]
fn kubectl_sends_our_token_and_a_second_run_uses_the_cache() {
    let Some(kubectl) = harness::require("kubectl") else {
        return;
    };
    let cluster = Cluster::start();
    let sandbox = Sandbox::for_console(&cluster.console);
    let kubeconfig = sandbox.path("kubeconfig.yaml");
    std::fs::write(&kubeconfig, cluster.kubeconfig("exec", &exec_user(BIN))).unwrap();

    let first = kubectl_get(&kubectl, &sandbox, Some(&kubeconfig));
    first.success();
    assert_eq!(first.stdout.trim(), ORGANIZATIONS);
    let [token] = cluster.console.issued().try_into().unwrap();
    assert_eq!(cluster.bearer_requests(&token), 1);

    // A new kubectl process runs the plugin again; the token comes from our
    // file cache.
    let second = kubectl_get(&kubectl, &sandbox, Some(&kubeconfig));
    second.success();
    assert_eq!(second.stdout.trim(), ORGANIZATIONS);
    assert_eq!(cluster.console.token_requests(), 1);
    assert_eq!(cluster.bearer_requests(&token), 2);
}

#[test]
fn kubectl_shows_our_one_line_error_without_the_key() {
    let Some(kubectl) = harness::require("kubectl") else {
        return;
    };
    let cluster = Cluster::start();
    let mut sandbox = Sandbox::for_console(&cluster.console);
    let wrong_key = "wrong-api-key-5ecret";
    sandbox.set("SNOWPLOW_CONSOLE_API_KEY", wrong_key);
    let kubeconfig = sandbox.path("kubeconfig.yaml");
    std::fs::write(&kubeconfig, cluster.kubeconfig("exec", &exec_user(BIN))).unwrap();

    let out = kubectl_get(&kubectl, &sandbox, Some(&kubeconfig));
    assert_ne!(out.code, 0, "kubectl went on without a token:\n{out:?}");
    assert_eq!(out.stdout, "");
    let ours: Vec<_> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("snowplow-credentials: "))
        .collect();
    assert!(
        !ours.is_empty() && ours.iter().all(|l| l.contains("rejected API key ID")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("getting credentials"), "{}", out.stderr);
    assert!(!out.stderr.contains(wrong_key) && !out.stderr.contains(console::KEY));
    assert!(
        cluster
            .console
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "no resource request went out with a credential"
    );
}

/// PATH without any directory that holds a `snowplow-credentials`.
fn path_without_us() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).filter(|d| !d.join("snowplow-credentials").exists());
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

#[test]
fn the_integration_user_file_works_verbatim_beside_a_cluster_file() {
    let Some(kubectl) = harness::require("kubectl") else {
        return;
    };
    let cluster = Cluster::start();
    let mut sandbox = Sandbox::for_console(&cluster.console);
    let cluster_file = sandbox.path("cluster.yaml");
    std::fs::write(&cluster_file, cluster.kubeconfig("snowplow", "")).unwrap();
    let path = format!("{}:{}", sandbox.bin_dir().display(), path_without_us());
    sandbox
        .set(
            "KUBECONFIG",
            &format!("{}:{USER_FILE}", cluster_file.display()),
        )
        .set("PATH", &path);

    let out = kubectl_get(&kubectl, &sandbox, None);
    out.success();
    assert_eq!(out.stdout.trim(), ORGANIZATIONS);
    let [token] = cluster.console.issued().try_into().unwrap();
    assert_eq!(cluster.bearer_requests(&token), 1);

    // Without the binary on PATH, kubectl shows the file's install hint.
    sandbox.set("PATH", &path_without_us());
    let missing = kubectl_get(&kubectl, &sandbox, None);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("cargo install --locked --path ."),
        "{}",
        missing.stderr
    );
    assert_eq!(cluster.console.token_requests(), 1);
}
