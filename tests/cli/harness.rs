//! Running the real binary the way tools do: a private HOME and XDG
//! directories per test, a clean environment, and helpers that make exit
//! code, stdout and stderr easy to assert and to snapshot.

use std::collections::BTreeMap;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::console::{self, Console};
use crate::machine::{home_vars, which, write_private};

pub const BIN: &str = env!("CARGO_BIN_EXE_snowplow-credentials");
/// What a program's file name ends with: `.exe` on Windows.
pub const EXE: &str = std::env::consts::EXE_SUFFIX;

/// A temporary home for one test, and the environment the binary runs with.
pub struct Sandbox {
    pub home: tempfile::TempDir,
    vars: BTreeMap<String, String>,
}

impl Sandbox {
    /// A clean environment: only PATH, LANG and the temporary HOME/XDG dirs.
    pub fn new() -> Sandbox {
        let home = tempfile::tempdir().expect("a temporary home");
        let mut sandbox = Sandbox {
            home,
            vars: BTreeMap::new(),
        };
        let home_vars = home_vars(sandbox.home.path());
        for (name, value) in home_vars {
            sandbox.set(name, &value);
        }
        sandbox
            .set("PATH", &std::env::var("PATH").unwrap_or_default())
            .set("LANG", "C.UTF-8");
        sandbox
    }

    /// A sandbox set up, through snowplow-cli's variables, for `console`.
    pub fn for_console(console: &Console) -> Sandbox {
        Sandbox::for_host(&console.url())
    }

    /// A sandbox set up, through snowplow-cli's variables, with the
    /// stand-in's organization and key for the Console at `url` (a front
    /// before the stand-in, or nothing at all).
    pub fn for_host(url: &str) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox
            .set("SNOWPLOW_CONSOLE_ORG_ID", console::ORG)
            .set("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID)
            .set("SNOWPLOW_CONSOLE_API_KEY", console::KEY)
            .set("SNOWPLOW_CONSOLE_HOST", url);
        sandbox
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Sandbox {
        self.vars.insert(name.into(), value.into());
        self
    }

    pub fn unset(&mut self, name: &str) -> &mut Sandbox {
        self.vars.remove(name);
        self
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.home.path().join(relative)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path(".cache/snowplow/credentials")
    }

    pub fn config_file(&self) -> PathBuf {
        self.path(".config/snowplow/credentials.toml")
    }

    /// Writes the default config file, 0600 in a 0700 directory.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.config_file();
        write_private(&path, text);
        path
    }

    /// A config file whose default profile also hands the token to `hosts`
    /// (the profile's `hosts` setting): how a test sends a client that asks
    /// for `console.snowplowanalytics.com` to the stand-in's token.
    pub fn serve_also(&self, hosts: &[&str]) -> PathBuf {
        let list: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
        self.write_config(&format!(
            "[profiles.default]\nhosts = [{}]\n",
            list.join(", ")
        ))
    }

    /// Writes a default profile that uses the password grant against
    /// `console`, with `lines` (the password's source, at least) added; its
    /// client secret comes from `MY_CLIENT_SECRET`, which this sets.
    pub fn write_password_profile(&mut self, console: &Console, lines: &str) -> PathBuf {
        self.set("MY_CLIENT_SECRET", console::CLIENT_SECRET);
        self.write_config(&format!(
            "[profiles.default]\nauth = \"password\"\nhost = \"{url}\"\n\
             auth_url = \"{url}/oauth/token\"\nclient_id = \"{}\"\nusername = \"{}\"\n\
             client_secret_env = \"MY_CLIENT_SECRET\"\n{lines}\n",
            console::CLIENT_ID,
            console::USERNAME,
            url = console.url(),
        ))
    }

    /// Writes profile `name`: the v3 API key of `console` (the stand-in's
    /// organization and key ID), its key read from the variable `var`, which
    /// this sets. Only Unix-only modules use it so far.
    #[cfg(unix)]
    pub fn write_key_env_profile(&mut self, name: &str, console: &Console, var: &str) -> PathBuf {
        self.set(var, console::KEY);
        self.write_config(&format!(
            "[profiles.{name}]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\napi_key_env = \"{var}\"\n",
            console::ORG,
            console::KEY_ID,
            console.url()
        ))
    }

    /// `~/bin` with `snowplow-credentials` (a link to the binary under test;
    /// a copy on Windows, where links need privileges) in it, to put on PATH
    /// as an installed copy would be.
    pub fn bin_dir(&self) -> PathBuf {
        let dir = self.path("bin");
        if !dir.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let installed = dir.join(format!("snowplow-credentials{EXE}"));
            #[cfg(unix)]
            std::os::unix::fs::symlink(BIN, installed).unwrap();
            #[cfg(windows)]
            std::fs::copy(BIN, installed).unwrap();
        }
        dir
    }

    /// The token files in the cache directory.
    pub fn cache_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(self.cache_dir())
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
    }

    /// The binary with these arguments and exactly this environment.
    pub fn command(&self, args: &[&str]) -> Command {
        self.program(Path::new(BIN), args)
    }

    /// Another program (a client) with these arguments and exactly this
    /// environment.
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear().envs(&self.vars);
        cmd
    }

    /// PATH with `dir` first, so clients find links and wrappers there.
    pub fn prepend_path(&mut self, dir: &Path) -> &mut Sandbox {
        let rest = self.var("PATH").unwrap_or_default().to_string();
        let dirs = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest));
        let path = std::env::join_paths(dirs).expect("PATH entries without separators");
        self.set("PATH", path.to_str().unwrap())
    }

    /// Makes `snowplow-credentials` and its helper names (via
    /// `install-links`) runnable by name, as an installed binary is: links in
    /// [`Self::bin_dir`], put first on PATH.
    pub fn install_on_path(&mut self) -> &mut Sandbox {
        let bin = self.bin_dir();
        self.run(&["install-links", bin.to_str().unwrap()])
            .success();
        self.prepend_path(&bin)
    }

    #[cfg(unix)]
    /// `sh -c script` with exactly this environment; the script names the
    /// binary as `$0`. For starting it as no `Command` can, e.g. with a
    /// standard stream closed.
    pub fn shell(&self, script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script, BIN]).env_clear().envs(&self.vars);
        cmd
    }

    /// `bash` with `args`, in the sandbox's home, reading no startup
    /// files: how the shipped shell and CI scripts are run.
    pub fn bash(&self, args: &[&str]) -> Output {
        let mut cmd = self.program("bash", &["--noprofile", "--norc"]);
        cmd.args(args).current_dir(self.home.path());
        output_of(&mut cmd, None)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.run_stdin(args, Some(stdin.as_bytes()))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = self.command(args);
        output_of(&mut cmd, stdin)
    }
}

/// Runs `cmd` to the end, feeding it `stdin` (or none at all).
pub fn output_of(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("the command starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The child may exit without reading it all: that is its business.
        let _ = pipe.write_all(input);
    }
    finish(child)
}

/// The output as snapshots have it. Windows writes a path in the profile
/// `%USERPROFILE%\a\b`; snapshots keep one form, the Unix `~/a/b`, so
/// such paths (and only those) are rewritten there.
fn unix_form(text: String) -> String {
    #[cfg(windows)]
    let text = {
        let mut out = String::new();
        let mut parts = text.split("%USERPROFILE%");
        out.push_str(parts.next().unwrap_or_default());
        for part in parts {
            let end = part
                .find(|c: char| c.is_whitespace() || "\"'`()".contains(c))
                .unwrap_or(part.len());
            out.push('~');
            out.push_str(&part[..end].replace('\\', "/"));
            out.push_str(&part[end..]);
        }
        out
    };
    text
}

#[cfg(unix)]
/// Writes a script at `path` that appends a line to `log` each time it runs,
/// then runs the binary with its arguments: how a test counts how often a
/// client ran the helper.
pub fn counting_wrapper(path: &Path, log: &Path) {
    let script = format!(
        "#!/bin/sh\necho run >> '{}'\nexec '{BIN}' \"$@\"\n",
        log.display()
    );
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// How many lines `path` has (0 if it does not exist).
pub fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn success(&self) -> &Output {
        assert_eq!(self.code, 0, "expected success; stderr:\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(&self) -> &Output {
        assert_eq!(
            self.code, 1,
            "expected exit 1; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_one_clear_line(&self.stderr);
        self
    }

    /// This output with `sandbox`'s home directory written `<HOME>` in
    /// stdout and stderr, for snapshots of messages that name a path in it.
    pub fn home_redacted(&self, sandbox: &Sandbox) -> Output {
        let home = sandbox.home.path().to_str().unwrap();
        Output {
            code: self.code,
            stdout: self.stdout.replace(home, "<HOME>"),
            stderr: self.stderr.replace(home, "<HOME>"),
        }
    }

    /// Exit code, stdout and stderr, with each token `console` issued
    /// written `<JWT n>` and its URL `<CONSOLE>`, for snapshots.
    pub fn redacted(&self, console: &Console) -> String {
        redact(
            &format!(
                "exit: {}\n--- stdout\n{}--- stderr\n{}",
                self.code, self.stdout, self.stderr
            ),
            console,
        )
    }
}

pub fn redact(text: &str, console: &Console) -> String {
    let mut text = text.to_string();
    for (i, token) in console.issued().iter().enumerate() {
        text = text.replace(token.as_str(), &format!("<JWT {}>", i + 1));
    }
    let text = text
        .replace(&console.url(), "<CONSOLE>")
        .replace(&console.addr().to_string(), "<CONSOLE-ADDR>");
    redact_cache_names(&text)
}

/// Cache file names hash the identity, which includes the Console's port:
/// `token-<HASH>.json` (and `.lock`) keeps snapshots stable.
pub fn redact_cache_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("token-") {
        let (before, after) = rest.split_at(at + "token-".len());
        out.push_str(before);
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 16 && (after[16..].starts_with(".json") || after[16..].starts_with(".lock")) {
            out.push_str("<HASH>");
            rest = &after[16..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// An error is one line, prefixed with the program's name, and never a
/// panic or a backtrace.
#[track_caller]
pub fn assert_one_clear_line(stderr: &str) {
    let lines: Vec<_> = stderr.lines().filter(|l| !l.contains("warning:")).collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("snowplow-credentials: "),
        "expected one error line, got:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
}

/// The path of a client program, or `None` (after saying so) when it is
/// missing on a developer's machine. Missing in CI (`CI=true`) is a failure.
#[track_caller]
pub fn require(program: &str) -> Option<PathBuf> {
    let found = which(program);
    if found.is_none() {
        missing(&format!("`{program}` is not installed"));
    }
    found
}

/// The real Python interpreter (not a pyenv shim, which needs the real
/// HOME), if it can import every module in `modules`.
#[track_caller]
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let imports = modules.join(", ");
    let out = Command::new("python3")
        .args([
            "-c",
            &format!("import sys, {imports}; print(sys.executable)"),
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => Some(PathBuf::from(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )),
        _ => {
            missing(&format!("python3 with {imports} is not installed"));
            None
        }
    }
}

#[track_caller]
pub fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what}, and CI=true: CI must install every client the tests drive");
    }
    eprintln!("SKIPPED: {what}; this test runs in CI");
}

/// Every document of the YAML file at `path` as PyYAML reads it (merge keys
/// applied), as JSON values.
#[track_caller]
pub fn yaml_documents(python: &Path, path: &Path) -> Vec<serde_json::Value> {
    let script = "import json, sys, yaml\nfor d in yaml.safe_load_all(open(sys.argv[1])):\n    print(json.dumps(d))";
    let out = output_of(
        &mut Sandbox::new().program(python, &["-c", script, path.to_str().unwrap()]),
        None,
    );
    assert_eq!(
        out.code,
        0,
        "{} is not YAML: {}",
        path.display(),
        out.stderr
    );
    out.stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A file of `integrations/`, which tests use verbatim, as users copy it.
pub fn integration(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("integrations")
        .join(relative)
}

impl Sandbox {
    /// Starts the binary without waiting: stdin closed, stdout and stderr
    /// piped, for tests that run many at once or stop one midway.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts")
    }
}

/// Waits for a child started by [`Sandbox::spawn`] (or [`output_of`]) and
/// collects its output.
pub fn finish(child: std::process::Child) -> Output {
    let out = child.wait_with_output().expect("the command runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: unix_form(String::from_utf8_lossy(&out.stdout).into_owned()),
        stderr: unix_form(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

impl Sandbox {
    /// Starts the binary with `stdin` written to a pipe that stays open
    /// (returned beside the child), as a client that keeps it open does.
    pub fn spawn_with_open_stdin(
        &self,
        args: &[&str],
        stdin: &str,
    ) -> (std::process::Child, std::process::ChildStdin) {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts");
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(stdin.as_bytes()).unwrap();
        (child, pipe)
    }
}

/// A watchdog for tests of hangs: waits for `child` and its output (the
/// output ends when every process holding its pipes has gone) for at most
/// `limit`. Past that it kills the child and fails the test, so a hang
/// never stalls CI. Unix only: its one user, attacks.rs, is, and it kills
/// with a signal.
#[cfg(unix)]
#[track_caller]
pub fn finish_within(child: std::process::Child, limit: std::time::Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(finish(child));
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out,
        Err(_) => {
            // SAFETY: sending SIGKILL to a pid we started; at worst it has gone.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("still running (or its output still open) after {limit:?}: killed it");
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago: nothing listens on it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}
