//! The bench's world: the release binary and the floor program as users get
//! them, the stand-in Console on loopback, a private HOME with a config
//! profile, and each reference program set up to answer from its own cache.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::console::{self, Console};
use crate::machine::{home_vars, which, write_private};
use crate::measure::Program;

/// Builds the release binary and the floor example with `cargo build
/// --release` (the profile users install with) and returns their paths.
pub fn build() -> (PathBuf, PathBuf) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--bin",
            "snowplow-credentials",
        ])
        .args([
            "--example",
            "floor",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--manifest-path", manifest])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build --release failed");
    let (mut binary, mut floor) = (None, None);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let name = message["target"]["name"].as_str();
        let exe = message["executable"].as_str().map(PathBuf::from);
        match name {
            Some("snowplow-credentials") => binary = exe,
            Some("floor") => floor = exe,
            _ => {}
        }
    }
    (
        binary.expect("cargo named the release binary"),
        floor.expect("cargo named the floor example"),
    )
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub console: Console,
    /// Copies of the built programs, so another build of the shared target
    /// directory cannot swap them mid-run.
    pub binary: PathBuf,
    pub floor: PathBuf,
    env: Vec<(String, String)>,
    cache_dir: PathBuf,
    /// The profile file the `token` hits read.
    config: PathBuf,
    /// What git sends a helper for the stand-in's origin.
    pub git_input: PathBuf,
}

/// The environment variable the bench profile names for the API key.
const KEY_VAR: &str = "BENCH_SNOWPLOW_API_KEY";

impl Lab {
    pub fn new(binary: &Path, floor: &Path) -> Lab {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().to_path_buf();
        let console = Console::start();
        let copy = |from: &Path, name: &str| {
            let to = root.join(name);
            fs::copy(from, &to).expect("copy a built program");
            to
        };
        let (binary, floor) = (copy(binary, "snowplow-credentials"), copy(floor, "floor"));
        let home = root.join("home");
        let env: Vec<(String, String)> = home_vars(&home)
            .into_iter()
            .chain([
                ("PATH", std::env::var("PATH").unwrap_or_default()),
                ("LANG", "C.UTF-8".into()),
                (KEY_VAR, console::KEY.into()),
            ])
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // A profile file like the README's: the key is only located here.
        let config = home.join(".config/snowplow/credentials.toml");
        write_private(
            &config,
            &format!(
                "default_profile = \"bench\"\n\n\
                 [profiles.bench]\n\
                 org_id = \"{org}\"\n\
                 api_key_id = \"{key_id}\"\n\
                 host = \"{host}\"\n\
                 api_key_env = \"{KEY_VAR}\"\n\n\
                 [profiles.staging]\n\
                 org_id = \"{org}\"\n\
                 api_key_id = \"22222222-2222-2222-2222-222222222222\"\n\
                 host = \"https://next.console.snowplowanalytics.com\"\n\
                 api_key_command = [\"pass\", \"show\", \"snowplow/staging\"]\n\
                 min_ttl = 1800\n\
                 hosts = [\"https://registry.example.com\"]\n",
                org = console::ORG,
                key_id = console::KEY_ID,
                host = console.url(),
            ),
        );
        let git_input = root.join("git-input");
        fs::write(
            &git_input,
            format!(
                "capability[]=authtype\ncapability[]=state\nprotocol=http\nhost={}\n\n",
                console.addr()
            ),
        )
        .expect("write git's input");
        Lab {
            cache_dir: home.join(".cache/snowplow/credentials"),
            config,
            dir,
            console,
            binary,
            floor,
            env,
            git_input,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// snowplow-credentials with `args`, in the lab's HOME.
    pub fn ours(&self, args: &[&str]) -> Program {
        Program::new(&self.binary, args, &self.env)
    }

    /// snowplow-credentials as a snowplow-cli user runs it: no file of ours,
    /// only `snowplow.yml` (written by `snowplow-cli setup`) in its own HOME,
    /// sharing the lab's cache, so its hits parse YAML.
    pub fn ours_snowplow_cli(&self, args: &[&str]) -> Program {
        let home = self.path("cli-home");
        if !home.exists() {
            write_private(
                &home.join(".config/snowplow/snowplow.yml"),
                &format!(
                    "console:\n    api-key: {}\n    api-key-id: {}\n    host: {}\n    org-id: {}\n",
                    console::KEY,
                    console::KEY_ID,
                    self.console.url(),
                    console::ORG
                ),
            );
        }
        self.ours_in(&home, args, &[])
    }

    /// snowplow-credentials set up by the environment alone, with no config
    /// file anywhere, sharing the lab's cache.
    pub fn ours_variables(&self, args: &[&str]) -> Program {
        let vars = [
            ("SNOWPLOW_CONSOLE_ORG_ID", console::ORG.to_string()),
            ("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID.to_string()),
            ("SNOWPLOW_CONSOLE_API_KEY", console::KEY.to_string()),
            ("SNOWPLOW_CONSOLE_HOST", self.console.url()),
        ];
        // An existing HOME with nothing in it: a HOME that does not exist
        // is refused where a cache would be written.
        let home = self.path("empty-home");
        std::fs::create_dir_all(&home).expect("cannot create the empty home");
        self.ours_in(&home, args, &vars)
    }

    fn ours_in(&self, home: &Path, args: &[&str], vars: &[(&str, String)]) -> Program {
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(k, _)| k != "HOME" && k != "XDG_CONFIG_HOME")
            .cloned()
            .collect();
        env.push(("HOME".into(), home.display().to_string()));
        env.push((
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ));
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Program::new(&self.binary, args, &env)
    }

    /// `examples/floor_hit.c` at `path`, given what the `token` hit reads:
    /// the config file, the cache directory and the one cached entry.
    pub fn hit_floor(&self, path: &Path) -> Program {
        let entry = self.cached_entries().next().expect("the cached entry");
        let args = [&self.config, &self.cache_dir, &entry].map(|p| p.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Program::new(path, &args, &self.env)
    }

    pub fn floor(&self) -> Program {
        self.program(&self.floor)
    }

    /// Any program, without arguments, in the lab's environment.
    pub fn program(&self, path: &Path) -> Program {
        Program::new(path, &[], &self.env)
    }

    /// The cached tokens' files (`*.json` in the cache directory).
    fn cached_entries(&self) -> impl Iterator<Item = PathBuf> {
        let entries = fs::read_dir(&self.cache_dir).into_iter().flatten();
        entries
            .map(|e| e.expect("a cache entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
    }

    /// Removes every cached token: the next call is a miss.
    pub fn clear_cache(&self) {
        for path in self.cached_entries() {
            fs::remove_file(&path).expect("remove a cached token");
        }
    }

    /// `git credential-store get` on a one-line store holding `token` for
    /// the stand-in's origin, fed what git feeds a helper.
    pub fn git_credential_store(&self, token: &str) -> Option<Program> {
        let git = which("git")?;
        let store = self.path("git-credentials");
        write_private(
            &store,
            &format!("http://bench:{token}@{}\n", self.console.addr()),
        );
        let store = store.display().to_string();
        Some(
            Program::new(
                &git,
                &["credential-store", "--file", &store, "get"],
                &self.env,
            )
            .stdin(&self.git_input),
        )
    }

    /// gke-gcloud-auth-plugin answering from its cache: with no
    /// `--use_application_default_credentials` it serves
    /// `~/.kube/gke_gcloud_auth_plugin_cache` while the token is valid and
    /// was cached for the kubeconfig's current context, without running
    /// gcloud or touching the network.
    pub fn gke(&self, token: &str) -> Option<Program> {
        let plugin = which("gke-gcloud-auth-plugin")?;
        let home = self.path("gke-home");
        write_private(
            &home.join(".kube/config"),
            "apiVersion: v1\nkind: Config\ncurrent-context: bench\n\
             contexts:\n- name: bench\n  context: {cluster: bench, user: bench}\n\
             clusters:\n- name: bench\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
             users:\n- name: bench\n  user: {}\n",
        );
        write_private(
            &home.join(".kube/gke_gcloud_auth_plugin_cache"),
            &format!(
                "{{\"current_context\": \"bench\", \"access_token\": \"{token}\", \
                 \"token_expiry\": \"2100-01-01T00:00:00Z\"}}"
            ),
        );
        let env: Vec<(String, String)> = [
            ("HOME", home.display().to_string()),
            ("PATH", "/usr/bin:/bin".to_string()),
            ("LANG", "C.UTF-8".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Some(Program::new(&plugin, &[], &env))
    }

    /// curl making the same GET as an exchange, with the key in a header
    /// file rather than on its command line.
    pub fn curl(&self) -> Option<Program> {
        let curl = which("curl")?;
        let headers = self.path("curl-headers");
        write_private(
            &headers,
            &format!(
                "X-API-Key-ID: {}\nX-API-Key: {}\n",
                console::KEY_ID,
                console::KEY
            ),
        );
        let url = format!(
            "{}/api/msc/v1/organizations/{}/credentials/v3/token",
            self.console.url(),
            console::ORG
        );
        let headers = format!("@{}", headers.display());
        Some(Program::new(
            &curl,
            &["-sSf", "-o", "/dev/null", "-H", &headers, &url],
            &self.env,
        ))
    }
}
