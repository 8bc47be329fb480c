//! Secrets stay where they belong. Every command runs with `-v`, on
//! success and on failure paths (a wrong key, an unavailable Console,
//! answers that are not tokens, bad input), with API keys and with the
//! password grant, each secret a recognisable canary. Then:
//!
//! - no key, client secret or password appears in any stdout or stderr, in
//!   any file name under the sandbox's home, or in any file under its cache
//!   and config directories (except a config file given an inline key on
//!   purpose);
//! - a JWT appears only on the stdout of commands whose job is to print it,
//!   never on stderr, and in no file name.

use std::path::{Path, PathBuf};

use crate::console::{self, Console, Fault};
use crate::harness::{Output, Sandbox};

const WRONG_KEY: &str = "canary-wrong-api-key-5ecret";
const WRONG_PASSWORD: &str = "canary-wrong-pa55word";

fn canaries() -> [&'static str; 5] {
    [
        console::KEY,
        console::CLIENT_SECRET,
        console::PASSWORD,
        WRONG_KEY,
        WRONG_PASSWORD,
    ]
}

/// The commands whose output is the token, in some protocol.
fn prints_jwt(args: &[&str]) -> bool {
    let words: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    matches!(
        words.as_slice(),
        ["token"]
            | ["header"]
            | ["aws"]
            | ["kubernetes"]
            | ["git", "get"]
            | ["docker", "get"]
            | ["terraform", "get", _]
            | ["bazel", "get"]
    )
}

struct Run {
    what: String,
    prints_jwt: bool,
    out: Output,
}

/// Every run, kept for the checks at the end.
#[derive(Default)]
struct Audit {
    runs: Vec<Run>,
}

impl Audit {
    fn run(&mut self, sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) {
        let mut args = args.to_vec();
        args.push("-v");
        let out = sandbox.run_stdin(&args, stdin.map(str::as_bytes));
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        self.runs.push(Run {
            what: args.join(" "),
            prints_jwt: prints_jwt(&args),
            out,
        });
    }

    /// Every command, in an order that has each find the cache both full
    /// and empty.
    fn every_command(&mut self, sandbox: &Sandbox, console: &Console) {
        let addr = console.addr();
        let url = console.url();
        let jwt = console.issued().last().cloned().unwrap_or_default();
        let git_get = format!("capability[]=authtype\nprotocol=http\nhost={addr}\n\n");
        let git_used = format!(
            "protocol=http\nhost={addr}\nauthtype=Bearer\ncredential={jwt}\n\
             username=u\npassword={jwt}\n\n"
        );
        let docker_store = format!(r#"{{"ServerURL":"{url}","Username":"u","Secret":"{jwt}"}}"#);
        let bazel = format!(r#"{{"uri":"{url}/x"}}"#);
        let links = sandbox.path("bin");
        std::fs::create_dir_all(&links).unwrap();
        // The sink's files hold the token on purpose: outside the cache and
        // config directories the file checks cover, but its log is checked.
        let volume = sandbox.path("run");
        std::fs::create_dir_all(&volume).unwrap();
        let (sink_token, sink_header) = (volume.join("token"), volume.join("header"));
        self.run(sandbox, &["token"], None);
        self.run(sandbox, &["header"], None);
        self.run(sandbox, &["status"], None);
        self.run(sandbox, &["aws"], None);
        self.run(sandbox, &["kubernetes"], None);
        self.run(sandbox, &["git", "get"], Some(&git_get));
        self.run(sandbox, &["git", "store"], Some(&git_used));
        self.run(sandbox, &["git", "erase"], Some(&git_used));
        self.run(sandbox, &["docker", "get"], Some(&url));
        self.run(sandbox, &["docker", "store"], Some(&docker_store));
        self.run(sandbox, &["docker", "list"], None);
        self.run(sandbox, &["docker", "version"], None);
        self.run(sandbox, &["docker", "erase"], Some(&url));
        self.run(sandbox, &["terraform", "get", "terraform.test"], None);
        self.run(
            sandbox,
            &["terraform", "store", "terraform.test"],
            Some(&format!(r#"{{"token":"{jwt}"}}"#)),
        );
        self.run(sandbox, &["terraform", "forget", "terraform.test"], None);
        self.run(sandbox, &["bazel", "get"], Some(&bazel));
        self.run(sandbox, &["clear"], None);
        self.run(sandbox, &["token", "--refresh"], None);
        let sink = [
            "sink",
            sink_token.to_str().unwrap(),
            "--header-file",
            sink_header.to_str().unwrap(),
            "--once",
        ];
        self.run(sandbox, &sink, None);
        self.run(sandbox, &["clear", "--all"], None);
        self.run(sandbox, &["install-links", links.to_str().unwrap()], None);
    }

    /// The commands that need a token, given input that is wrong.
    fn bad_input(&mut self, sandbox: &Sandbox) {
        self.run(
            sandbox,
            &["git", "get"],
            Some("protocol=https\nno equals\n"),
        );
        self.run(sandbox, &["docker", "get"], Some(""));
        self.run(sandbox, &["bazel", "get"], Some("{\"url\": 1}"));
        self.run(sandbox, &["terraform", "get", ""], None);
        self.run(sandbox, &["frobnicate", "--api-key", WRONG_KEY], None);
    }
}

/// Every file and link under `dir` (links not followed).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

/// The checks of the module doc, over every run and every sandbox.
/// `inline_key_config` is a config file that holds a key on purpose.
fn assert_nothing_leaked(
    audit: &Audit,
    console: &Console,
    sandboxes: &[&Sandbox],
    inline_key_config: Option<&Path>,
) {
    let jwts = console.issued();
    let (mut printed, mut failed) = (0, 0);
    for run in &audit.runs {
        let Run { what, out, .. } = run;
        for canary in canaries() {
            assert!(
                !out.stdout.contains(canary),
                "{what}: stdout: {}",
                out.stdout
            );
            assert!(
                !out.stderr.contains(canary),
                "{what}: stderr: {}",
                out.stderr
            );
        }
        for jwt in &jwts {
            assert!(!out.stderr.contains(jwt.as_str()), "{what}: JWT on stderr");
            if !(run.prints_jwt && out.code == 0) {
                assert!(!out.stdout.contains(jwt.as_str()), "{what}: JWT on stdout");
            }
        }
        printed += usize::from(jwts.iter().any(|j| out.stdout.contains(j.as_str())));
        failed += usize::from(out.code != 0);
    }
    eprintln!(
        "{} runs: {printed} printed a token, {failed} failed",
        audit.runs.len()
    );
    assert!(
        printed > 0 && failed > 0,
        "{printed} printed, {failed} failed"
    );

    for sandbox in sandboxes {
        for path in walk(sandbox.home.path()) {
            let name = path.file_name().unwrap().to_string_lossy();
            for secret in canaries()
                .iter()
                .copied()
                .chain(jwts.iter().map(String::as_str))
            {
                assert!(
                    !name.contains(secret),
                    "a secret in the name {}",
                    path.display()
                );
            }
        }
        for dir in [sandbox.path(".cache"), sandbox.path(".config")] {
            for path in walk(&dir) {
                if !path.is_file() || Some(path.as_path()) == inline_key_config {
                    continue;
                }
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                for canary in canaries() {
                    assert!(!text.contains(canary), "{canary} in {}", path.display());
                }
            }
        }
    }
}

/// A profile for `console` that also serves `terraform.test`; `extra` adds
/// the key source.
fn api_key_profile(console: &Console, extra: &str) -> String {
    format!(
        "[profiles.default]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\n\
         hosts = [\"terraform.test\"]\n{extra}\n",
        console::ORG,
        console::KEY_ID,
        console.url()
    )
}

/// Failure paths that need a token: an unavailable Console, then each
/// answer that is not a token.
fn failing_console(audit: &mut Audit, sandbox: &Sandbox, console: &Console) {
    console.fail_always(Some(Fault::StatusRetryAfter(503, 3600)));
    for args in [&["token"][..], &["aws"], &["kubernetes"]] {
        audit.run(sandbox, args, None);
    }
    console.fail_always(None);
    for fault in [
        Fault::Html,
        Fault::NotAJwt,
        Fault::Expired,
        Fault::NoAccessToken,
        Fault::Huge,
    ] {
        console.push_fault(fault);
        audit.run(sandbox, &["docker", "get"], Some(&console.url()));
    }
}

#[test]
fn api_keys_and_tokens_never_leak() {
    let console = Console::start();
    let mut audit = Audit::default();

    // The key from the environment: success, then failures.
    let mut from_env = Sandbox::for_console(&console);
    from_env.write_config(&api_key_profile(&console, ""));
    audit.every_command(&from_env, &console);
    failing_console(&mut audit, &from_env, &console);
    audit.bad_input(&from_env);
    from_env.set("KUBERNETES_EXEC_INFO", "{\"apiVersion\": 1}");
    audit.run(&from_env, &["kubernetes"], None);
    from_env.unset("KUBERNETES_EXEC_INFO");
    // A rejected key, on every command.
    from_env.set("SNOWPLOW_CONSOLE_API_KEY", WRONG_KEY);
    audit.every_command(&from_env, &console);

    // The key from a command that reads a file outside the checked
    // directories (so the key is in no argv), and from a named variable.
    let mut from_command = Sandbox::for_console(&console);
    from_command.unset("SNOWPLOW_CONSOLE_API_KEY");
    let key_file = from_command.path("key");
    std::fs::write(&key_file, console::KEY).unwrap();
    from_command.write_config(&api_key_profile(
        &console,
        &format!("api_key_command = [\"cat\", \"{}\"]", key_file.display()),
    ));
    audit.every_command(&from_command, &console);
    from_command.write_config(&api_key_profile(&console, "api_key_env = \"MY_KEY\""));
    from_command.set("MY_KEY", WRONG_KEY);
    audit.every_command(&from_command, &console);

    // The key inline in the (private) config file, the one place it may be.
    let mut inline = Sandbox::for_console(&console);
    inline.unset("SNOWPLOW_CONSOLE_API_KEY");
    let config = inline.write_config(&api_key_profile(
        &console,
        &format!("api_key = \"{}\"", console::KEY),
    ));
    audit.every_command(&inline, &console);
    failing_console(&mut audit, &inline, &console);

    assert_nothing_leaked(
        &audit,
        &console,
        &[&from_env, &from_command, &inline],
        Some(&config),
    );
}

// Unix only: its secret commands are `printf`.
#[cfg(unix)]
#[test]
fn password_grant_secrets_and_tokens_never_leak() {
    let console = Console::start();
    let mut audit = Audit::default();
    let mut sandbox = Sandbox::new();
    let password_file = sandbox.path("password");
    std::fs::write(&password_file, console::PASSWORD).unwrap();
    let hosts = "hosts = [\"terraform.test\"]";
    sandbox.write_password_profile(
        &console,
        &format!(
            "{hosts}\npassword_command = [\"cat\", \"{}\"]",
            password_file.display()
        ),
    );
    audit.every_command(&sandbox, &console);
    failing_console(&mut audit, &sandbox, &console);
    audit.bad_input(&sandbox);

    // A wrong password: the identity server says 401.
    sandbox.write_password_profile(
        &console,
        &format!("{hosts}\npassword_env = \"MY_PASSWORD\""),
    );
    sandbox.set("MY_PASSWORD", WRONG_PASSWORD);
    audit.every_command(&sandbox, &console);

    assert_nothing_leaked(&audit, &console, &[&sandbox], None);
    assert!(
        console
            .requests()
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains("canary-wrong-pa55word")),
        "the wrong password was sent, so its failure path ran"
    );
}
