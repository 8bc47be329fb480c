//! Try snowplow-credentials without a Snowplow account: `cargo run --example demo`.
//!
//! Starts the stand-in Console the tests use on 127.0.0.1, then runs the real
//! `snowplow-credentials` binary against it in a throwaway HOME, so nothing
//! touches your own config or cache. Each step prints the command and what it
//! printed. `cargo run --example demo -- --shell` instead opens a shell with
//! the environment set, to try any command by hand; exit it to stop.

#[allow(dead_code)]
#[path = "../tests/support/console.rs"]
mod console;
#[allow(dead_code)]
#[path = "../tests/support/machine.rs"]
mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use machine::home_vars;

fn main() -> ExitCode {
    let binary = match binary() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let home = tempfile::tempdir().expect("a temporary directory");
    let stand_in = console::Console::start();
    println!("stand-in Console listening at {}", stand_in.url());
    println!("throwaway HOME: {}\n", home.path().display());
    let mut env = home_vars(home.path()).to_vec();
    env.extend([
        ("SNOWPLOW_CONSOLE_HOST", stand_in.url()),
        ("SNOWPLOW_CONSOLE_ORG_ID", console::ORG.to_string()),
        ("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID.to_string()),
        ("SNOWPLOW_CONSOLE_API_KEY", console::KEY.to_string()),
    ]);
    let dir = binary.parent().unwrap_or(Path::new("."));
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    if std::env::args().any(|a| a == "--shell") {
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
        println!("A shell with SNOWPLOW_CONSOLE_* pointing at the stand-in; try:");
        println!("  snowplow-credentials token -v\n  snowplow-credentials status\nexit to stop.\n");
        let status = Command::new(shell)
            .envs(env.clone())
            .env("PATH", &path)
            .status();
        return ExitCode::from(u8::from(!status.is_ok_and(|s| s.success())));
    }

    let steps: [(&[&str], Option<&str>); 8] = [
        (&["token", "-v"], None),
        (&["token"], None),
        (&["status"], None),
        (&["header"], None),
        (
            &[
                "console-url",
                "/api/msc/v1/organizations/{org}/data-structures/v1",
            ],
            None,
        ),
        (&["aws"], None),
        // git 2.46 and later say they take a Bearer token; older git does not.
        (
            &["git", "get"],
            Some("capability[]=authtype\nprotocol=http\nhost="),
        ),
        (&["git", "get"], Some("protocol=http\nhost=")),
    ];
    let host = stand_in.url().trim_start_matches("http://").to_string();
    for (args, stdin) in steps {
        match stdin {
            Some(input) => println!(
                "$ printf '{}{host}\\n\\n' | snowplow-credentials {}",
                input.replace('\n', "\\n"),
                args.join(" ")
            ),
            None => println!("$ snowplow-credentials {}", args.join(" ")),
        }
        let mut cmd = Command::new(&binary);
        cmd.args(args).envs(env.clone()).env("PATH", &path);
        let output = match stdin {
            Some(input) => run_with_input(&mut cmd, &format!("{input}{host}\n\n")),
            None => cmd.output(),
        };
        match output {
            Ok(out) => {
                print!("{}", String::from_utf8_lossy(&out.stdout));
                eprint!("{}", String::from_utf8_lossy(&out.stderr));
                println!("(exit {})\n", out.status.code().unwrap_or(-1));
            }
            Err(e) => {
                eprintln!("demo: cannot run {}: {e}", binary.display());
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "The stand-in Console was asked for a token {} time(s): every later call was a cache hit.",
        stand_in.token_requests()
    );
    ExitCode::SUCCESS
}

fn run_with_input(cmd: &mut Command, input: &str) -> std::io::Result<std::process::Output> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(input.as_bytes())?;
    child.wait_with_output()
}

/// The real binary, built beside this example (`cargo run` sets `CARGO`, so
/// the demo can build it when it is not there yet).
fn binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/demo -> target/<profile>/snowplow-credentials
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot find the target directory")?;
    let binary = profile_dir.join("snowplow-credentials");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let release = profile_dir.ends_with("release");
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--bin", "snowplow-credentials"]);
    if release {
        build.arg("--release");
    }
    // Always build: cargo makes it a no-op when the binary is up to date.
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() || !binary.exists() {
        return Err(format!("could not build {}", binary.display()));
    }
    Ok(binary)
}
