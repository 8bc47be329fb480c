//! git's credential-helper protocol: the exact answers of
//! `snowplow-credentials git get|store|erase`, then the real git 2.47 running
//! the helper by its link name, fetching over HTTP from the stand-in Console,
//! recovering from a revoked token, and reading the gitconfig files in
//! `integrations/git` verbatim.

use std::path::{Path, PathBuf};

use insta::assert_snapshot;

use crate::console::{self, Console};
use crate::harness::{self, Output, Sandbox, integration, output_of};

const GIT: &str = "/usr/local/bin/git";

/// What git sends a helper for the stand-in Console, with or without the
/// authtype capability.
fn git_input(console: &Console, authtype: bool) -> String {
    let capability = if authtype {
        "capability[]=authtype\n"
    } else {
        ""
    };
    format!("{capability}protocol=http\nhost={}\n\n", console.addr())
}

#[test]
fn get_answers_bearer_when_git_can_use_it_and_basic_otherwise() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let bearer = sandbox.run_with_stdin(&["git", "get"], &git_input(&console, true));
    assert_snapshot!(bearer.redacted(&console), @"
    exit: 0
    --- stdout
    capability[]=authtype
    authtype=Bearer
    credential=<JWT 1>
    ephemeral=1
    password_expiry_utc=4102443900
    --- stderr
    ");
    let basic = sandbox.run_with_stdin(&["git", "get"], &git_input(&console, false));
    assert_snapshot!(basic.redacted(&console), @"
    exit: 0
    --- stdout
    username=11111111-2222-4333-8444-555555555555
    password=<JWT 1>
    password_expiry_utc=4102443900
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1, "the second get is a cache hit");
}

#[test]
fn get_answers_nothing_for_hosts_the_profile_does_not_serve() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let port = console.addr().port();
    let other_port = if port == u16::MAX { port - 1 } else { port + 1 };
    for input in [
        "capability[]=authtype\nprotocol=https\nhost=github.com\n\n".to_string(),
        format!("capability[]=authtype\nprotocol=http\nhost=127.0.0.1:{other_port}\n\n"),
        format!("capability[]=authtype\nprotocol=https\nhost=127.0.0.1:{port}\n\n"),
        // Without a port, http means port 80.
        "capability[]=authtype\nprotocol=http\nhost=127.0.0.1\n\n".to_string(),
    ] {
        let out = sandbox.run_with_stdin(&["git", "get"], &input);
        insta::allow_duplicates! {
            assert_snapshot!(out.redacted(&console), @"
            exit: 0
            --- stdout
            --- stderr
            ");
        }
    }
    assert_eq!(console.token_requests(), 0, "no exchange for another host");
}

#[test]
fn store_prints_nothing() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let input = format!(
        "capability[]=authtype\nprotocol=http\nhost={}\nauthtype=Bearer\ncredential=abc\n\n",
        console.addr()
    );
    let out = sandbox.run_with_stdin(&["git", "store"], &input);
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    --- stderr
    ");
    assert_eq!(console.token_requests(), 0);
    assert_eq!(sandbox.cache_files().len(), 0, "store keeps nothing");
}

#[test]
fn erase_drops_the_cached_token_only_when_it_is_the_one_git_names() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let get = || {
        let out = sandbox.run_with_stdin(&["git", "get"], &git_input(&console, true));
        out.success();
        out.stdout
    };
    let erase = |fields: &str| {
        let input = format!(
            "protocol=http\nhost={}\n{fields}wwwauth[]=Bearer realm=\"stand-in\"\n\n",
            console.addr()
        );
        let out = sandbox.run_with_stdin(&["git", "erase"], &input);
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    };
    get();
    assert_eq!(console.token_requests(), 1);

    // Another token (a credential from another helper): ours stays.
    erase("capability[]=authtype\nauthtype=Bearer\ncredential=another-token\n");
    erase("username=x\npassword=another-token\n");
    get();
    assert_eq!(console.token_requests(), 1, "still a cache hit");

    // Our token for another host is not ours to erase.
    let jwt = &console.issued()[0];
    let input = format!("protocol=https\nhost=github.com\npassword={jwt}\n\n");
    sandbox.run_with_stdin(&["git", "erase"], &input).success();
    get();
    assert_eq!(console.token_requests(), 1);

    // As git 2.46+ names it (Bearer `credential`): dropped, so get exchanges.
    erase(&format!(
        "capability[]=authtype\nauthtype=Bearer\ncredential={jwt}\n"
    ));
    assert_eq!(sandbox.cache_files().len(), 0);
    let second = get();
    assert_eq!(console.token_requests(), 2);
    assert!(second.contains(&console.issued()[1]));

    // As older git names it (Basic `password`): dropped too.
    erase(&format!(
        "username={}\npassword={}\n",
        console::KEY_ID,
        console.issued()[1]
    ));
    get();
    assert_eq!(console.token_requests(), 3);
}

#[test]
fn install_links_creates_the_helper_names_and_is_idempotent() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap();
    let exe = std::fs::canonicalize(harness::BIN).unwrap();
    let redact = |out: Output| {
        out.redacted(&console)
            .replace(dir_str, "<DIR>")
            .replace(exe.to_str().unwrap(), "<BIN>")
    };
    let first = sandbox.run(&["install-links", dir_str]);
    assert_snapshot!(redact(first), @"
    exit: 0
    --- stdout
    --- stderr
    snowplow-credentials: linked <DIR>/git-credential-snowplow -> <BIN>
    snowplow-credentials: linked <DIR>/docker-credential-snowplow -> <BIN>
    snowplow-credentials: linked <DIR>/terraform-credentials-snowplow -> <BIN>
    ");
    let again = sandbox.run(&["install-links", dir_str]);
    assert_snapshot!(redact(again), @"
    exit: 0
    --- stdout
    --- stderr
    snowplow-credentials: <DIR>/git-credential-snowplow already links to <BIN>
    snowplow-credentials: <DIR>/docker-credential-snowplow already links to <BIN>
    snowplow-credentials: <DIR>/terraform-credentials-snowplow already links to <BIN>
    ");
    for name in [
        "git-credential-snowplow",
        "docker-credential-snowplow",
        "terraform-credentials-snowplow",
    ] {
        assert_eq!(std::fs::read_link(dir.path().join(name)).unwrap(), exe);
    }
    // A file that is not a link is left alone, with a warning that says
    // why; the other names are still linked, and the exit status is 1.
    let blocked = tempfile::tempdir().unwrap();
    std::fs::write(blocked.path().join("git-credential-snowplow"), "mine").unwrap();
    let out = sandbox.run(&["install-links", blocked.path().to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("exists and is not a link"), "{out:?}");
    assert!(
        blocked
            .path()
            .join("docker-credential-snowplow")
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(blocked.path().join("git-credential-snowplow")).unwrap(),
        "mine"
    );
}

/// The real git 2.47 and a sandbox for it: our links first on PATH, no
/// system or global git config, no prompts.
fn git_sandbox(console: &Console) -> Option<(PathBuf, Sandbox)> {
    let git = harness::require(GIT)?;
    let mut sandbox = Sandbox::for_console(console);
    sandbox.install_on_path();
    sandbox
        .set("GIT_CONFIG_NOSYSTEM", "1")
        .set("GIT_CONFIG_GLOBAL", "/dev/null")
        .set("GIT_TERMINAL_PROMPT", "0");
    Some((git, sandbox))
}

fn run_git(git: &Path, sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> Output {
    output_of(&mut sandbox.program(git, args), stdin.map(str::as_bytes))
}

/// Config options that make `snowplow` the only helper for the stand-in,
/// scoped to its URL as a user scopes it to the Console's.
fn helper_for(console: &Console) -> [String; 4] {
    [
        "-c".into(),
        "credential.helper=".into(),
        "-c".into(),
        format!("credential.{}.helper=snowplow", console.url()),
    ]
}

#[test]
fn real_git_runs_the_helper_by_its_link_name() {
    let console = Console::start();
    let Some((git, sandbox)) = git_sandbox(&console) else {
        return;
    };
    let helper = helper_for(&console);
    let mut args: Vec<&str> = helper.iter().map(String::as_str).collect();
    args.extend(["credential", "fill"]);
    // git 2.47 passes the authtype capability on only when its caller has it.
    let bearer = run_git(&git, &sandbox, &args, Some(&git_input(&console, true)));
    assert_snapshot!(bearer.redacted(&console), @"
    exit: 0
    --- stdout
    capability[]=authtype
    authtype=Bearer
    credential=<JWT 1>
    ephemeral=1
    protocol=http
    host=<CONSOLE-ADDR>
    password_expiry_utc=4102443900
    --- stderr
    ");
    let basic = run_git(&git, &sandbox, &args, Some(&git_input(&console, false)));
    assert_snapshot!(basic.redacted(&console), @"
    exit: 0
    --- stdout
    protocol=http
    host=<CONSOLE-ADDR>
    username=11111111-2222-4333-8444-555555555555
    password=<JWT 1>
    password_expiry_utc=4102443900
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1);
}

/// A bare repository with one commit under `dir`, ready for git's dumb HTTP
/// protocol. Returns it and its commit.
fn bare_repo(git: &Path, sandbox: &Sandbox, dir: &Path) -> (PathBuf, String) {
    let work = dir.join("work");
    let bare = dir.join("repo.git");
    let (work_s, bare_s) = (work.to_str().unwrap(), bare.to_str().unwrap());
    let ok = |args: &[&str]| {
        let out = run_git(git, sandbox, args, None);
        assert_eq!(out.code, 0, "git {args:?}: {}", out.stderr);
        out.stdout
    };
    ok(&["init", "--quiet", "-b", "main", work_s]);
    std::fs::write(work.join("README"), "served behind a Bearer token\n").unwrap();
    ok(&["-C", work_s, "add", "README"]);
    ok(&[
        "-C",
        work_s,
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "commit",
        "--quiet",
        "-m",
        "first",
    ]);
    ok(&["clone", "--quiet", "--bare", work_s, bare_s]);
    ok(&["-C", bare_s, "update-server-info"]);
    let head = ok(&["-C", work_s, "rev-parse", "HEAD"]);
    (bare, head.trim().to_string())
}

/// The Authorization headers git sent to the repository, in order.
fn repo_authorizations(console: &Console) -> Vec<Option<String>> {
    console
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/git/"))
        .map(|r| r.header("authorization").map(String::from))
        .collect()
}

#[test]
fn real_git_fetches_with_the_bearer_token() {
    let console = Console::start();
    let Some((git, sandbox)) = git_sandbox(&console) else {
        return;
    };
    let (bare, head) = bare_repo(&git, &sandbox, &sandbox.path("srv"));
    console.serve_dir("/git/repo.git", &bare);
    let url = format!("{}/git/repo.git", console.url());
    let helper = helper_for(&console);
    let mut args: Vec<&str> = helper.iter().map(String::as_str).collect();
    args.extend(["ls-remote", &url]);

    let listed = run_git(&git, &sandbox, &args, None);
    assert_snapshot!(listed.redacted(&console).replace(&head, "<HEAD>"), @"
    exit: 0
    --- stdout
    <HEAD>	HEAD
    <HEAD>	refs/heads/main
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1);
    // git asks without credentials first; after the 401 it runs the helper
    // and, having told it `capability[]=authtype` by itself, sends Bearer.
    let jwt = &console.issued()[0];
    let sent = repo_authorizations(&console);
    assert_eq!(sent[0], None);
    assert!(sent.len() >= 2);
    for auth in &sent[1..] {
        assert_eq!(auth.as_deref(), Some(format!("Bearer {jwt}").as_str()));
    }

    // Another git process: the cached token, no new exchange.
    let again = run_git(&git, &sandbox, &args, None);
    assert_eq!(again.stdout, listed.stdout);
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn real_git_erases_a_rejected_token_and_the_next_run_exchanges() {
    let console = Console::start();
    let Some((git, sandbox)) = git_sandbox(&console) else {
        return;
    };
    let (bare, _) = bare_repo(&git, &sandbox, &sandbox.path("srv"));
    console.serve_dir("/git/repo.git", &bare);
    let url = format!("{}/git/repo.git", console.url());
    let helper = helper_for(&console);
    let mut args: Vec<&str> = helper.iter().map(String::as_str).collect();
    args.extend(["ls-remote", &url]);

    run_git(&git, &sandbox, &args, None).success();
    assert_eq!(console.token_requests(), 1);
    assert_eq!(sandbox.cache_files().len(), 1);

    // The Console stops accepting the cached token: git gets a 401 with it,
    // tells the helper to erase it, and fails.
    console.revoke_all();
    let rejected = run_git(&git, &sandbox, &args, None);
    assert_snapshot!(rejected.redacted(&console), @"
    exit: 128
    --- stdout
    --- stderr
    fatal: Authentication failed for '<CONSOLE>/git/repo.git/'
    ");
    assert_eq!(console.token_requests(), 1, "the cached token was served");
    assert_eq!(sandbox.cache_files().len(), 0, "git's erase dropped it");

    // The next run exchanges a new token, which works.
    let again = run_git(&git, &sandbox, &args, None);
    again.success();
    assert_eq!(console.token_requests(), 2);
    let jwt2 = &console.issued()[1];
    let last = repo_authorizations(&console).pop().unwrap();
    assert_eq!(last.as_deref(), Some(format!("Bearer {jwt2}").as_str()));
}

/// `major.minor` of a git binary.
fn git_version(git: &Path) -> (u32, u32) {
    let out = std::process::Command::new(git)
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().trim_start_matches("git version ");
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn git_before_2_46_sends_the_token_as_a_basic_password() {
    // Debian's own git (2.39 here) has no authtype capability.
    let console = Console::start();
    let Some(old_git) = harness::require("/usr/bin/git") else {
        return;
    };
    let Some((git, sandbox)) = git_sandbox(&console) else {
        return;
    };
    let (bare, _) = bare_repo(&git, &sandbox, &sandbox.path("srv"));
    console.serve_dir("/git/repo.git", &bare);
    console.accept_basic(true);
    let url = format!("{}/git/repo.git", console.url());
    let clone = sandbox.path("clone");
    let helper = helper_for(&console);
    let mut args: Vec<&str> = helper.iter().map(String::as_str).collect();
    args.extend(["clone", "--quiet", &url, clone.to_str().unwrap()]);
    // A whole clone: with Basic, git's dumb-HTTP object downloads carry the
    // credential too (git 2.47 sends Bearer only on some of them).
    run_git(&old_git, &sandbox, &args, None).success();
    assert_eq!(
        std::fs::read_to_string(clone.join("README")).unwrap(),
        "served behind a Bearer token\n"
    );

    let expected = if git_version(&old_git) < (2, 46) {
        "Basic "
    } else {
        "Bearer "
    };
    // curl probes without credentials, then sends them on every request.
    let sent: Vec<String> = repo_authorizations(&console)
        .into_iter()
        .flatten()
        .collect();
    assert!(!sent.is_empty());
    for auth in &sent {
        assert!(auth.starts_with(expected), "{auth}");
    }
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn the_gitconfig_files_parse_and_scope_as_documented() {
    let Some(git) = harness::require(GIT) else {
        return;
    };
    let sandbox = Sandbox::new();
    let scoped = integration("git/gitconfig");
    let global = integration("git/gitconfig-global");
    let list = |file: &Path| {
        let out = run_git(
            &git,
            &sandbox,
            &["config", "--file", file.to_str().unwrap(), "--list"],
            None,
        );
        out.success();
        out.stdout
    };
    assert_snapshot!(list(&scoped), @"
    credential.https://console.snowplowanalytics.com.helper=
    credential.https://console.snowplowanalytics.com.helper=snowplow
    ");
    assert_snapshot!(list(&global), @"credential.helper=snowplow");

    // Which URLs each one gives the helper to, as git itself decides.
    let helpers = |file: &Path, url: &str| {
        let out = run_git(
            &git,
            &sandbox,
            &[
                "config",
                "--file",
                file.to_str().unwrap(),
                "--get-urlmatch",
                "credential.helper",
                url,
            ],
            None,
        );
        out.stdout
    };
    let console = "https://console.snowplowanalytics.com/some/repo.git";
    assert_eq!(helpers(&scoped, console), "snowplow\n");
    assert_eq!(helpers(&scoped, "https://github.com/x/y.git"), "");
    assert_eq!(
        helpers(&scoped, "http://console.snowplowanalytics.com/"),
        ""
    );
    assert_eq!(helpers(&global, console), "snowplow\n");
    assert_eq!(helpers(&global, "https://github.com/x/y.git"), "snowplow\n");
}

/// What `git credential fill` gets for `protocol`/`host`, and whether git
/// ran our helper for it (from GIT_TRACE).
fn fill(git: &Path, sandbox: &Sandbox, protocol: &str, host: &str) -> (Output, bool) {
    let input = format!("capability[]=authtype\nprotocol={protocol}\nhost={host}\n\n");
    let mut cmd = sandbox.program(git, &["credential", "fill"]);
    cmd.env("GIT_TRACE", "1");
    let mut out = output_of(&mut cmd, Some(input.as_bytes()));
    let ran = out.stderr.contains("credential-snowplow");
    out.stderr = out
        .stderr
        .lines()
        .filter(|l| !l.contains("trace: "))
        .map(|l| format!("{l}\n"))
        .collect();
    (out, ran)
}

#[test]
fn the_scoped_gitconfig_runs_the_helper_for_its_host_only() {
    let console = Console::start();
    let Some((git, mut sandbox)) = git_sandbox(&console) else {
        return;
    };
    let scoped = integration("git/gitconfig");
    // The file's own helper values, verbatim, copied to a section for the
    // stand-in: git has no other way to point the file's URL at it.
    let values = run_git(
        &git,
        &sandbox,
        &[
            "config",
            "--file",
            scoped.to_str().unwrap(),
            "--get-all",
            "credential.https://console.snowplowanalytics.com.helper",
        ],
        None,
    );
    values.success();
    // A `store` helper above it, holding a stale password for the stand-in:
    // the file's reset keeps it from answering for the Console host.
    let stored = sandbox.path("git-credentials");
    std::fs::write(
        &stored,
        format!(
            "http://someone:stale@{}\nhttps://someone:other@github.com\n",
            console.addr()
        ),
    )
    .unwrap();
    let gitconfig = sandbox.path(".gitconfig");
    sandbox.set("GIT_CONFIG_GLOBAL", gitconfig.to_str().unwrap());
    let config = |helpers: &[&str]| {
        let mut config = format!(
            "[credential]\n\thelper = store --file={}\n[include]\n\tpath = {}\n\
             [credential \"{}\"]\n",
            stored.display(),
            scoped.display(),
            console.url()
        );
        for value in helpers {
            config.push_str(&format!("\thelper = {value}\n"));
        }
        std::fs::write(&gitconfig, config).unwrap();
    };
    // Without the file's reset line, `store` would answer first.
    config(&["snowplow"]);
    let (stale, _) = fill(&git, &sandbox, "http", &console.addr().to_string());
    assert!(stale.stdout.contains("password=stale\n"), "{stale:?}");
    assert_eq!(console.token_requests(), 0);

    config(&values.stdout.lines().collect::<Vec<_>>());

    let (ours, ran) = fill(&git, &sandbox, "http", &console.addr().to_string());
    assert!(ran);
    assert_snapshot!(ours.redacted(&console), @"
    exit: 0
    --- stdout
    capability[]=authtype
    authtype=Bearer
    credential=<JWT 1>
    ephemeral=1
    protocol=http
    host=<CONSOLE-ADDR>
    password_expiry_utc=4102443900
    --- stderr
    ");
    // Another host: our helper never runs; the other helper still answers.
    let (other, ran) = fill(&git, &sandbox, "https", "github.com");
    assert!(!ran);
    assert_snapshot!(other.redacted(&console), @"
    exit: 0
    --- stdout
    protocol=https
    host=github.com
    username=someone
    password=other
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn the_global_gitconfig_gives_other_hosts_nothing() {
    let console = Console::start();
    let Some((git, mut sandbox)) = git_sandbox(&console) else {
        return;
    };
    let global = integration("git/gitconfig-global");
    sandbox.set("GIT_CONFIG_GLOBAL", global.to_str().unwrap());

    let (ours, ran) = fill(&git, &sandbox, "http", &console.addr().to_string());
    assert!(ran);
    ours.success();
    assert!(
        ours.stdout
            .contains(&format!("credential={}\n", console.issued()[0]))
    );

    // The helper runs for github.com too, but answers nothing: git then
    // wants to prompt, which GIT_TERMINAL_PROMPT=0 forbids.
    let (other, ran) = fill(&git, &sandbox, "https", "github.com");
    assert!(ran);
    assert_snapshot!(other.redacted(&console), @"
    exit: 128
    --- stdout
    --- stderr
    fatal: could not read Username for 'https://github.com': terminal prompts disabled
    ");
    assert_eq!(console.token_requests(), 1);
}
