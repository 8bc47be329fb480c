//! What differs between Unix and Windows, tested the same way on both
//! (.ci/cross runs these under Wine): replacing the cache while other
//! processes read it, and the helper names `install-links` makes, run by
//! those names (`.exe`, in any case, on Windows).

use crate::console::Console;
use crate::harness::{EXE, Sandbox, finish, output_of};

#[test]
fn a_refresh_replaces_the_cache_while_other_processes_read_it() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    // Readers and refreshers interleaved: every refresh renames a new file
    // over the one the readers open (on Windows, while they hold it).
    let children: Vec<_> = (0..32)
        .map(|i| {
            let args: &[&str] = if i % 4 == 0 {
                &["token", "--refresh"]
            } else {
                &["token"]
            };
            sandbox.spawn(args)
        })
        .collect();
    let outputs: Vec<_> = children.into_iter().map(finish).collect();
    // One warm-up, then 8 refreshes: concurrent ones share an exchange
    // (a refresh that waited serves a token written after it started).
    let requests = console.token_requests();
    assert!((2..=9).contains(&requests), "{requests} token requests");
    let issued = console.issued();
    for out in &outputs {
        out.success();
        assert_eq!(out.stderr, "", "no warning: every replace succeeded");
        assert!(
            issued.contains(&out.stdout.trim().to_string()),
            "a whole token: {}",
            out.stdout
        );
    }
    let files: Vec<_> = std::fs::read_dir(sandbox.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.ends_with(".lock") && name != "CACHEDIR.TAG")
        .collect();
    assert_eq!(files.len(), 1, "no temporary file left: {files:?}");
    let last = sandbox.run(&["token"]);
    assert!(issued.contains(&last.success().stdout.trim().to_string()));
    assert_eq!(console.token_requests(), requests, "the last one was a hit");
}

/// Runs `program` as git runs a credential helper: `get`, the request on
/// stdin.
fn git_get(sandbox: &Sandbox, program: &std::path::Path, console: &Console) -> String {
    let request = format!("protocol=http\nhost={}\n\n", console.addr());
    let out = output_of(
        &mut sandbox.program(program, &["get"]),
        Some(request.as_bytes()),
    );
    out.success();
    out.stdout
}

#[test]
fn install_links_makes_helper_names_that_run_the_helper() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let dir = sandbox.path("helpers");
    std::fs::create_dir_all(&dir).unwrap();
    sandbox
        .run(&["install-links", dir.to_str().unwrap()])
        .success();
    for name in [
        "git-credential-snowplow",
        "docker-credential-snowplow",
        "terraform-credentials-snowplow",
    ] {
        assert!(dir.join(format!("{name}{EXE}")).is_file(), "{name}{EXE}");
    }
    let helper = dir.join(format!("git-credential-snowplow{EXE}"));
    let answer = git_get(&sandbox, &helper, &console);
    assert!(
        answer.contains(&format!("password={}\n", console.issued()[0])),
        "{answer}"
    );
    // Windows matches names in any case, and so does the multi-call check.
    #[cfg(windows)]
    {
        let shouted = dir.join("GIT-CREDENTIAL-SNOWPLOW.EXE");
        assert_eq!(git_get(&sandbox, &shouted, &console), answer);
    }
    assert_eq!(console.token_requests(), 1);
}

// Windows only: the Unix key-command tests (bad_input) run Unix tools, so
// this is the Windows run's test of the timeout. That the command's own
// children die with it (the job object) it does not show: under Wine a
// nested `cmd` was seen to end with its parent even without the job.
#[cfg(windows)]
#[test]
fn a_key_command_that_overruns_is_stopped_with_a_clear_error() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    sandbox.write_config(
        "[profiles.default]\ncommand_timeout = 2\n\
         api_key_command = [\"ping\", \"-n\", \"60\", \"127.0.0.1\"]\n",
    );
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_eq!(
        out.stderr,
        "snowplow-credentials: the command `ping` that gives the API key (profile \"default\" \
         of ~/.config/snowplow/credentials.toml) did not finish within 2 s: check it runs on \
         its own, or raise command_timeout\n"
    );
    assert_eq!(console.token_requests(), 0);
}

/// The kubeconfig user's lines, without comments.
fn yaml_body(relative: &str) -> String {
    let text = std::fs::read_to_string(crate::harness::integration(relative)).unwrap();
    let lines: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
    lines.join("\n")
}

#[test]
fn the_windows_kubeconfig_differs_only_in_the_program_and_paths() {
    let unix = yaml_body("kubernetes/kubeconfig-user.yaml");
    let windows = yaml_body("kubernetes/kubeconfig-user-windows.yaml");
    let expected = unix
        .replace(
            "command: snowplow-credentials\n",
            "command: snowplow-credentials.exe\n",
        )
        .replace(
            "~/.config/snowplow/credentials.toml",
            r"%USERPROFILE%\.config\snowplow\credentials.toml",
        );
    assert!(
        expected.contains("snowplow-credentials.exe\n") && expected.contains("%USERPROFILE%"),
        "both replacements apply"
    );
    assert_eq!(windows, expected);
}
