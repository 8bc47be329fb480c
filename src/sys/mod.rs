//! The platform layer: every call into libc, Win32 or a macOS framework the
//! program makes, and every other way Unix and Windows differ (where the
//! home directory is, how a helper name is installed), behind one set of
//! signatures that `unix.rs` and `windows.rs` each provide in full. Each
//! OS's keychain calls are its own (`macos.rs` holds the Keychain's).
//!
//! It decides nothing: the rules (which modes are private, which owners are
//! trusted, when a key command is killed) are the callers', chiefly
//! `files.rs`. What a platform lacks, its half says plainly: Windows reports
//! no owners or modes ([`perms`] is `None`), installs no signal handler and
//! has no Unix groups. Every `unsafe` block of the crate is in this folder
//! (but one in `main.rs`, which hands the C runtime's argv to [`start`]),
//! each with a `// SAFETY:` comment (`clippy::undocumented_unsafe_blocks` is
//! denied in Cargo.toml).

mod arena;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

pub use os::{
    HOME_SHORT, Signals, Tree, become_or_run, cache_home, create_dir_all, create_mode,
    file_not_found, home, install_link, is_busy, is_refused_link, no_core_dumps, no_follow_no_wait,
    no_wait, open_read, permissions, perms, remove_link, set_group, spawn_apart, special_kind,
    sync_dir,
};
// Windows has it too, but `sink` refuses `--group` there before asking.
pub use os::without_echo;
#[cfg_attr(windows, allow(unused_imports))]
pub use os::{group_id, may_use_group};
#[cfg(all(test, unix))]
pub use unix::raise_sigterm;
#[cfg(target_os = "linux")]
pub use unix::{finish, start};

/// argv[0] as the binary's `main` received it (std's `args_os` is empty on
/// musl when the binary has its own C `main`).
static ARGV0: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();

/// Keeps argv[0] for [`argv0`].
pub fn keep_argv0(args: &[std::ffi::OsString]) {
    if let Some(first) = args.first() {
        let _ = ARGV0.set(first.clone());
    }
}

/// The path this program was invoked by, as its `main` received it.
pub fn argv0() -> Option<std::ffi::OsString> {
    ARGV0.get().cloned().or_else(|| std::env::args_os().next())
}
#[cfg(target_os = "macos")]
pub use macos::{generic_password_delete, generic_password_get, generic_password_set};
#[cfg(target_os = "linux")]
pub use unix::{
    KeyringRefusal, euid, key_read, keyring_refusal, user_key_add, user_key_delete, user_key_search,
};
#[cfg(windows)]
pub use windows::{credential_delete, credential_read, credential_write};

/// The owner and mode bits of a file, where the platform has them (Unix).
#[derive(Clone, Copy, Debug)]
pub struct Perms {
    /// The owner's user ID.
    pub uid: u32,
    /// The permission bits, `0o7777` at most.
    pub mode: u32,
    /// Whether the owner is this process's effective user.
    pub mine: bool,
    /// How many names (hard links) the file has.
    pub links: u64,
}

/// What [`remove_link`] found at a helper name, and what it did.
pub enum Unlink {
    /// Nothing of ours was there.
    Nothing,
    /// A link (Windows: a file) that is not this program: left alone.
    Elsewhere,
    Removed,
}

/// What [`install_link`] found at a helper name, and what it did.
pub enum Link {
    /// The name already runs this program.
    AlreadyThere,
    /// Made now; the word says how ("linked", "copied").
    Made(&'static str),
    /// Something else is there; it is left alone.
    Foreign,
}

// Unix only: a rule about the source text, checked once; under Wine the
// source's Unix path is not a Windows one.
#[cfg(all(test, unix))]
mod tests {
    use std::path::Path;

    /// Every file of `dir`'s tree that names libc or declares Win32 calls.
    fn platform_callers(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                platform_callers(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("libc::") || text.contains("extern \"system\"") {
                    found.push(path.display().to_string());
                }
            }
        }
    }

    #[test]
    fn only_the_platform_layer_calls_the_platform() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        platform_callers(&src, &mut found);
        let sys = src.join("sys");
        found.retain(|f| !Path::new(f).starts_with(&sys));
        assert_eq!(
            found,
            Vec::<String>::new(),
            "move these calls into src/sys/"
        );
    }
}
