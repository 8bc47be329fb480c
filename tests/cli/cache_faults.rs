//! Cache faults: files cut short, replaced by symlinks or directories,
//! opened up to other users, and cache directories that cannot be used at
//! all. The rule under test: a token is still served, a bad cache file is
//! never read as a token, and whatever cannot be cached is said in a
//! warning.
//!
//! The tests run as root in CI, and root ignores permission bits, so an
//! "unwritable" directory is made in a way that binds root too (a path
//! under a regular file); the 0500-directory case runs only where
//! permissions are enforced.

#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
#[cfg(unix)]
use std::path::Path;

use insta::assert_snapshot;

use crate::console::Console;
use crate::harness::{Output, Sandbox};

#[cfg(unix)]
/// The uid of `nobody`, for directories and files owned by someone else.
const OTHER_UID: u32 = 65534;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// stderr with the sandbox's home written `<HOME>`, and (on Windows) the
/// path separators as the snapshots have them.
fn stderr_of(out: &Output, sandbox: &Sandbox, console: &Console) -> String {
    let stderr = crate::harness::redact(&out.home_redacted(sandbox).stderr, console);
    #[cfg(windows)]
    let stderr = stderr.replace('\\', "/");
    stderr
}

/// Runs `token` twice where nothing can be cached: each run is served a new
/// token. Their stderr, as [`stderr_of`] writes it.
#[track_caller]
fn two_uncached_runs(sandbox: &Sandbox, console: &Console) -> String {
    let mut seen = String::new();
    for n in 1..=2 {
        let out = sandbox.run(&["token"]);
        out.success();
        assert_eq!(out.stdout.trim(), console.issued()[n - 1]);
        seen.push_str(&stderr_of(&out, sandbox, console));
    }
    seen
}

#[cfg(unix)]
/// Whether this process is bound by permission bits (it is not as root):
/// tries to create a file in a directory it made read-only.
fn permissions_are_enforced(scratch: &Path) -> bool {
    let dir = scratch.join("probe");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o500);
    let created = std::fs::write(dir.join("file"), "x").is_ok();
    set_mode(&dir, 0o700);
    !created
}

#[test]
fn a_cache_file_cut_short_is_a_miss_and_is_replaced() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    let whole = std::fs::read(&file).unwrap();
    let mut seen = Vec::new();
    for broken in [
        whole[..whole.len() / 2].to_vec(),
        whole[..whole.len() - 1].to_vec(),
        // What a crash can leave on some file systems: the size, not the data.
        vec![0; whole.len()],
    ] {
        std::fs::write(&file, &broken).unwrap();
        let out = sandbox.run(&["token", "-v"]);
        out.success();
        let token = out.stdout.trim();
        assert_eq!(token, console.issued().last().unwrap());
        let entry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(entry["token"], token, "replaced by a whole entry");
        seen.push(miss_line(&out, &sandbox));
    }
    assert_eq!(console.token_requests(), 4);
    assert_snapshot!(seen.join("\n"), @"
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (it is not a valid cache file); it will be replaced
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (it is not a valid cache file); it will be replaced
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (it is not a valid cache file); it will be replaced
    ");
}

// Unix only: modes, owners, symlinks and Unix error texts, which Windows does not have or words differently.
#[cfg(unix)]
#[test]
fn a_cache_file_replaced_by_a_symlink_is_neither_read_nor_written_through() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let first = sandbox.run(&["token"]);
    first.success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    // The link points at a valid entry: following it would serve that token.
    let elsewhere = sandbox.path("elsewhere.json");
    std::fs::rename(&file, &elsewhere).unwrap();
    let planted = std::fs::read(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();

    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[1], "a new token");
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        planted,
        "target untouched"
    );
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(meta.is_file(), "the link was replaced by a regular file");
    assert_eq!(meta.mode() & 0o777, 0o600);
}

// Unix only: modes, owners, symlinks and Unix error texts, which Windows does not have or words differently.
#[cfg(unix)]
#[test]
fn a_directory_where_the_cache_file_goes_still_serves_the_token() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[1]);
    assert_snapshot!(stderr_of(&out, &sandbox, &console), @"snowplow-credentials: warning: cannot write the cache file <HOME>/.cache/snowplow/credentials/token-<HASH>.json (Is a directory (os error 21)); the token is served but not cached");
    assert!(file.is_dir(), "left alone");
}

// Unix only: modes, owners, symlinks and Unix error texts, which Windows does not have or words differently.
#[cfg(unix)]
#[test]
fn an_unwritable_cache_directory_still_serves_the_token() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // Below a regular file: ENOTDIR for every user, root included.
    let blocker = sandbox.path("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let dir = blocker.join("cache");
    sandbox.set("SNOWPLOW_CREDENTIALS_CACHE_DIR", dir.to_str().unwrap());
    let seen = two_uncached_runs(&sandbox, &console);
    assert_eq!(console.token_requests(), 2, "nothing could be cached");
    assert_snapshot!(seen, @"
    snowplow-credentials: warning: cannot use the cache directory <HOME>/a-file/cache (Not a directory (os error 20)); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    snowplow-credentials: warning: cannot use the cache directory <HOME>/a-file/cache (Not a directory (os error 20)); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    ");

    // A directory made read-only after a first run: only where permission
    // bits bind (root ignores them; the case above covers root).
    sandbox.unset("SNOWPLOW_CREDENTIALS_CACHE_DIR");
    if !permissions_are_enforced(sandbox.home.path()) {
        eprintln!("NOTE: running as root: the read-only directory case is skipped");
        return;
    }
    sandbox.run(&["token"]).success();
    set_mode(&sandbox.cache_dir(), 0o500);
    let out = sandbox.run(&["token", "--refresh"]);
    set_mode(&sandbox.cache_dir(), 0o700);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[3]);
    assert!(
        out.stderr.contains("the token is served but not cached"),
        "{}",
        out.stderr
    );
}

/// A cache directory opened up after we made it is left as it is and not
/// used: nothing tells our directory from a copy of it (red team 3, item 1).
/// Unix only: modes, which Windows does not have.
#[cfg(unix)]
#[test]
fn a_cache_directory_opened_up_is_left_alone_and_not_used() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let mut seen = String::new();
    for loose in [0o777, 0o755, 0o710] {
        set_mode(&sandbox.cache_dir(), loose);
        let out = sandbox.run(&["token", "-v"]);
        out.success();
        assert_eq!(out.stdout.trim(), console.issued().last().unwrap());
        seen.push_str(&miss_line(&out, &sandbox));
        seen.push('\n');
        let out = out.home_redacted(&sandbox);
        let warning = out.stderr.lines().find(|l| l.contains("warning"));
        seen.push_str(warning.expect("a warning"));
        seen.push('\n');
        assert_eq!(mode(&sandbox.cache_dir()), loose, "the mode was changed");
    }
    assert_eq!(
        console.token_requests(),
        4,
        "a token served uncached each time"
    );
    assert_snapshot!(seen, @"
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (its directory is open to others (mode 777, owner <ME>)); it will be replaced
    snowplow-credentials: warning: cannot use the cache directory <HOME>/.cache/snowplow/credentials (it is open to others (mode 777), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (its directory is open to others (mode 755, owner <ME>)); it will be replaced
    snowplow-credentials: warning: cannot use the cache directory <HOME>/.cache/snowplow/credentials (it is open to others (mode 755), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (its directory is open to others (mode 710, owner <ME>)); it will be replaced
    snowplow-credentials: warning: cannot use the cache directory <HOME>/.cache/snowplow/credentials (it is open to others (mode 710), and snowplow-credentials never changes a directory's mode); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    ");
}

// Unix only: modes, owners, symlinks and Unix error texts, which Windows does not have or words differently.
#[cfg(unix)]
#[test]
fn cache_files_others_could_touch_are_refused_and_replaced() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    let mut seen = String::new();
    for (loose, owner) in [(0o640, None), (0o602, None), (0o600, Some(OTHER_UID))] {
        set_mode(&file, loose);
        if let Some(uid) = owner {
            std::os::unix::fs::chown(&file, Some(uid), None).unwrap();
        }
        let out = sandbox.run(&["token", "-v"]);
        out.success();
        assert_eq!(out.stdout.trim(), console.issued().last().unwrap());
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.uid()), (0o600, files_owner()));
        seen.push_str(&miss_line(&out, &sandbox));
        seen.push('\n');
    }
    assert_eq!(console.token_requests(), 4, "each was a miss");
    assert_snapshot!(seen, @"
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (cannot use it: its permissions are too open (mode 640, owner <ME>)); it will be replaced
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (cannot use it: its permissions are too open (mode 602, owner <ME>)); it will be replaced
    snowplow-credentials: cache miss: <HOME>/.cache/snowplow/credentials/token-<HASH>.json (cannot use it: its permissions are too open (mode 600, owner 65534)); it will be replaced
    ");
}

/// Who this test process is, as the owner of the files it makes.
#[cfg(unix)]
fn files_owner() -> u32 {
    let probe = tempfile::tempfile().unwrap();
    probe.metadata().unwrap().uid()
}

// Unix only: modes, owners, symlinks and Unix error texts, which Windows does not have or words differently.
#[cfg(unix)]
#[test]
fn a_cache_directory_linked_to_another_users_directory_is_refused() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let theirs = sandbox.path("theirs");
    std::fs::create_dir(&theirs).unwrap();
    set_mode(&theirs, 0o700);
    std::os::unix::fs::chown(&theirs, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let cache_dir = sandbox.cache_dir();
    std::fs::create_dir_all(cache_dir.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&theirs, &cache_dir).unwrap();

    let seen = two_uncached_runs(&sandbox, &console);
    assert_eq!(console.token_requests(), 2, "served uncached");
    assert_snapshot!(seen, @"
    snowplow-credentials: warning: cannot use the cache directory <HOME>/.cache/snowplow/credentials (it belongs to another user (or a symlink leads there)); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    snowplow-credentials: warning: cannot use the cache directory <HOME>/.cache/snowplow/credentials (it belongs to another user (or a symlink leads there)); serving a token without caching it: fix the directory or set SNOWPLOW_CREDENTIALS_CACHE_DIR
    ");
    assert_eq!(
        std::fs::read_dir(&theirs).unwrap().count(),
        0,
        "nothing written into the other user's directory"
    );
}

/// The `-v` line that says why the cache missed, with paths and our uid
/// written so that snapshots are stable (on Windows, its separators too).
fn miss_line(out: &Output, sandbox: &Sandbox) -> String {
    let out = out.home_redacted(sandbox);
    let miss = out
        .stderr
        .lines()
        .find(|l| l.contains("cache miss"))
        .expect("a cache-miss line");
    #[cfg(unix)]
    let miss = miss.replace(&format!("owner {}", files_owner()), "owner <ME>");
    #[cfg(windows)]
    let miss = miss.replace('\\', "/");
    crate::harness::redact_cache_names(&miss)
}
