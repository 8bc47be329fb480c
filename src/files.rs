//! Private files: the one place that decides file and directory permissions,
//! how a file is replaced, and every way Unix and Windows differ in these,
//! and so also where the user's directories are, how helper names are
//! installed, and how an overrunning key command is killed.
//!
//! Cache and config files hold tokens and keys. On Unix they are 0600 inside
//! 0700 directories owned by the user, opened without following symlinks.
//! Windows has no modes: there the files live under the user's profile,
//! whose inherited ACL admits only the user, SYSTEM and Administrators, and
//! nothing here reads or changes ACLs (that takes the Win32 security API,
//! which std does not wrap); links (reparse points) are still refused.
//!
//! A file is only ever replaced whole (write a temporary file beside it,
//! flush it to disk, rename it over the old one), so a crash at any moment
//! leaves either the old file or the new one, never half of either.
//!
//! Token files shared with other programs follow the same rules where they
//! can: `sink` writes them whole, 0600 or 0640 with a chosen group (on Unix);
//! a `token_file` written by someone else (the kubelet, Vault Agent, a sink
//! in another container) is read through symlinks (Kubernetes swaps Secret
//! files that way) but only from a regular file that no one but its owner
//! can write (on Unix), and of bounded size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

pub use os::{
    CommandTree, HOME_SHORT, cache_home, home, install_link, others_may_write, remove_link,
    too_open,
};

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

/// Creates `dir` (and its parents) private to us, or checks an existing one:
/// on Unix it must be ours, even when reached through a symlink, and loose
/// permissions are tightened.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => os::create_private_dir(dir),
        Err(e) => Err(e),
        Ok(meta) if !meta.is_dir() => Err(io::Error::other("it is not a directory")),
        Ok(meta) => os::tighten_dir(dir, &meta),
    }
}

/// Opens `path` for reading if it is a regular file (not a link) that only
/// we can read. `Ok(None)` when it does not exist.
pub fn open_private(path: &Path) -> io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true);
    let file = match os::no_follow(&mut options).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if let Some(why) = too_open(&meta) {
        return Err(io::Error::other(format!(
            "its permissions are too open ({why})"
        )));
    }
    Ok(Some(file))
}

/// Opens (creating private) a file we only lock, never read.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    os::private_mode(&mut options);
    os::no_follow(&mut options).open(path)
}

/// Replaces `path` with `contents` atomically: a private temporary file in
/// the same directory, written, flushed to disk, renamed over `path`, and
/// (on Unix) the directory flushed so the rename itself survives a crash.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, ".tmp-", FILE_MODE, None)
}

/// The mode of a private file (Unix).
pub const FILE_MODE: u32 = 0o600;
/// The largest token file read: a JWT is about 1 KiB.
pub const MAX_TOKEN_FILE: u64 = 64 * 1024;
/// The modes a shared token file may be written with: never world-readable.
pub const SHARED_MODES: [u32; 2] = [0o600, 0o640];

/// Replaces a token file that other programs read, as [`write_atomic`] does,
/// with `mode` (one of [`SHARED_MODES`]) and, if given, group `gid`, both set
/// on the temporary file before the rename, so the file never exists with
/// other permissions (Unix; Windows has neither). Temporary files are named
/// `.<name>.tmp-*`, so [`remove_leftovers`] can find ours after a crash.
pub fn write_shared(path: &Path, contents: &[u8], mode: u32, gid: Option<u32>) -> io::Result<()> {
    if !SHARED_MODES.contains(&mode) {
        return Err(io::Error::other(format!("mode {mode:o} is not allowed")));
    }
    replace(path, contents, &leftover_prefix(path), mode, gid)
}

/// Removes the temporary files a killed [`write_shared`] left beside `path`.
pub fn remove_leftovers(path: &Path) -> io::Result<usize> {
    let prefix = leftover_prefix(path);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// tempfile names its random temporary path in errors: keep the cause only,
/// so messages are about the file the caller named.
fn without_temporary_name(e: io::Error) -> io::Error {
    let text = e.to_string();
    let cause = text.split(" at path ").next().unwrap_or(&text).to_string();
    io::Error::new(e.kind(), cause)
}

fn leftover_prefix(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.tmp-")
}

fn replace(
    path: &Path,
    contents: &[u8],
    prefix: &str,
    mode: u32,
    gid: Option<u32>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new("."),
        Some(dir) => dir,
        None => return Err(io::Error::other("a file path without a directory")),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    let mut tmp = os::private_temp(&mut builder)
        .tempfile_in(dir)
        .map_err(without_temporary_name)?;
    os::share(tmp.as_file(), mode, gid)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    // Closed before the rename, which Windows does more readily; kept first,
    // as on Windows keeping also clears the "temporary" attribute that
    // tempfile gives it, and that needs the file still at its temporary path.
    let tmp = tmp.into_temp_path().keep().map_err(|e| e.error)?;
    if let Err(e) = os::replace(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    os::sync_dir(dir)
}

/// Opens a token file someone else writes: symlinks are followed (the kubelet
/// swaps Secret files by symlink), and what they lead to must be a regular
/// file that only its owner may write (Unix), at most [`MAX_TOKEN_FILE`]
/// bytes. Its owner may be anyone: the kubelet writes as root, Vault Agent
/// and sidecars as their own users. Returns the file and whether others may
/// read it.
pub fn open_token_file(path: &Path) -> io::Result<(File, bool)> {
    let mut options = OpenOptions::new();
    options.read(true);
    let file = os::no_wait(&mut options).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if let Some(why) = os::writable_by_others(&meta) {
        return Err(io::Error::other(format!(
            "{why}: it must be writable by its owner only"
        )));
    }
    if meta.len() > MAX_TOKEN_FILE {
        return Err(io::Error::other(format!(
            "it is {} bytes, more than a token's {MAX_TOKEN_FILE}",
            meta.len()
        )));
    }
    Ok((file, os::readable_by_others(&meta)))
}

/// How many times a rename over a busy file is tried (Windows).
#[cfg(any(windows, test))]
const TRIES: u32 = 8;

/// Runs `attempt` until it succeeds, fails other than `busy`, or has been
/// tried [`TRIES`] times, pausing 10, 20, 40, ... ms in between (1.27 s in
/// all). Separate from the rename so that the schedule can be tested
/// anywhere.
#[cfg(any(windows, test))]
fn retry_busy(
    mut attempt: impl FnMut() -> io::Result<()>,
    busy: impl Fn(&io::Error) -> bool,
    mut pause: impl FnMut(std::time::Duration),
) -> io::Result<()> {
    let mut tried = 1;
    loop {
        match attempt() {
            Err(e) if busy(&e) && tried < TRIES => {
                pause(std::time::Duration::from_millis(10 << (tried - 1)));
                tried += 1;
            }
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs [`retry_busy`] over `results` (true: busy), returning the
    /// outcome, the tries made and the pauses taken, in ms.
    fn retried(results: &[bool]) -> (bool, usize, Vec<u128>) {
        let mut tries = 0;
        let mut pauses = Vec::new();
        let outcome = retry_busy(
            || {
                tries += 1;
                match results.get(tries - 1) {
                    Some(true) => Err(io::Error::other("busy")),
                    Some(false) => Err(io::Error::other("broken")),
                    None => Ok(()),
                }
            },
            |e| e.to_string() == "busy",
            |d| pauses.push(d.as_millis()),
        );
        (outcome.is_ok(), tries, pauses)
    }

    #[test]
    fn a_busy_rename_is_retried_with_growing_pauses_then_given_up() {
        assert_eq!(retried(&[true, true]), (true, 3, vec![10, 20]));
        let (ok, tries, pauses) = retried(&[true; 20]);
        assert_eq!((ok, tries), (false, 8));
        assert_eq!(pauses.iter().sum::<u128>(), 1270);
        assert_eq!(retried(&[false]), (false, 1, vec![]), "not busy: no retry");
    }

    #[test]
    fn atomic_writes_replace_whole_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        assert!(open_private(&path).unwrap().is_none());
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(open_private(&path).unwrap().is_some());
    }

    // Unix only: on Windows, renaming over a file another handle keeps open
    // needs POSIX rename semantics (Windows 10 1607 and later, on NTFS),
    // which Wine lacks, so .ci/cross could not run it. Readers there hold the
    // file only while reading it; the retry covers that, and the integration
    // test platform::a_refresh_replaces_the_cache_while_other_processes_read_it
    // shows it under Wine.
    #[cfg(unix)]
    #[test]
    fn a_reader_holding_the_file_open_does_not_stop_a_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"old").unwrap();
        let mut reader = open_private(&path).unwrap().unwrap();
        write_atomic(&path, b"new").unwrap();
        let mut held = String::new();
        io::Read::read_to_string(&mut reader, &mut held).unwrap();
        assert_eq!(held, "old", "the open file keeps its old contents");
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn shared_writes_refuse_loose_modes_and_their_leftovers_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_shared(&path, b"b", 0o600, None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"b");
        assert!(write_shared(&path, b"c", 0o644, None).is_err());
        fs::write(dir.path().join(".token.tmp-x"), b"half").unwrap();
        fs::write(dir.path().join(".other.tmp-x"), b"theirs").unwrap();
        assert_eq!(remove_leftovers(&path).unwrap(), 1);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "token and theirs"
        );
        assert_eq!(
            open_token_file(&path).unwrap().0.metadata().unwrap().len(),
            1
        );
        assert!(open_token_file(dir.path()).is_err(), "a directory");
    }

    #[test]
    fn a_directory_in_the_way_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ensure_private_dir(&dir.path().join("a/b")).is_ok());
        fs::write(dir.path().join("f"), b"").unwrap();
        assert!(ensure_private_dir(&dir.path().join("f")).is_err());
    }
}
