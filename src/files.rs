//! Private files: the one place that decides file and directory permissions
//! and how a file is replaced.
//!
//! Cache and config files hold tokens and keys, so they are 0600 inside 0700
//! directories owned by the user, and a file is only ever replaced whole
//! (write a temporary file beside it, fsync, rename), so a crash at any
//! moment leaves either the old file or the new one, never half of either.
//!
//! Token files shared with other programs follow the same rules where they
//! can: `sink` writes them whole, 0600 or 0640 with a chosen group; a
//! `token_file` written by someone else (the kubelet, Vault Agent, a sink in
//! another container) is read through symlinks (Kubernetes swaps Secret files
//! that way) but only from a regular file that no one but its owner can
//! write, and of bounded size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// The effective user ID: files we trust must be owned by it.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether `meta` is something only we can read: ours, no group or other
/// bits.
pub fn is_private(meta: &fs::Metadata) -> bool {
    meta.uid() == euid() && meta.mode() & 0o077 == 0
}

/// Creates `dir` (and its parents) as 0700, or checks an existing one: it
/// must be owned by us, even when reached through a symlink, and loose
/// permissions are tightened.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir),
        Err(e) => Err(e),
        Ok(meta) if !meta.is_dir() => Err(io::Error::other("it is not a directory")),
        Ok(meta) if meta.uid() != euid() => Err(io::Error::other(
            "it belongs to another user (or a symlink leads there)",
        )),
        Ok(meta) if meta.mode() & 0o077 != 0 => {
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
        }
        Ok(_) => Ok(()),
    }
}

/// Opens `path` for reading if it is a regular file (not a symlink) that only
/// we can read. `Ok(None)` when it does not exist.
pub fn open_private(path: &Path) -> io::Result<Option<File>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if !is_private(&meta) {
        return Err(io::Error::other(format!(
            "its permissions are too open (mode {:o}, owner {})",
            meta.mode() & 0o7777,
            meta.uid()
        )));
    }
    Ok(Some(file))
}

/// Opens (creating as 0600) a file we only lock, never read.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Replaces `path` with `contents` atomically: a 0600 temporary file in the
/// same directory, written, fsynced, renamed over `path`, and the directory
/// fsynced so the rename itself survives a crash.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, ".tmp-", FILE_MODE, None)
}

/// The largest token file read: a JWT is about 1 KiB.
pub const MAX_TOKEN_FILE: u64 = 64 * 1024;
/// The modes a shared token file may be written with: never world-readable.
pub const SHARED_MODES: [u32; 2] = [0o600, 0o640];

/// Replaces a token file that other programs read, as [`write_atomic`] does,
/// with `mode` (one of [`SHARED_MODES`]) and, if given, group `gid`, both set
/// on the temporary file before the rename, so the file never exists with
/// other permissions. Temporary files are named `.<name>.tmp-*`, so
/// [`remove_leftovers`] can find ours after a crash.
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
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)
        .map_err(without_temporary_name)?;
    share(tmp.as_file(), mode, gid)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

/// Opens a token file someone else writes: symlinks are followed (the kubelet
/// swaps Secret files by symlink), and what they lead to must be a regular
/// file that only its owner may write, at most [`MAX_TOKEN_FILE`] bytes. Its
/// owner may be anyone: the kubelet writes as root, Vault Agent and sidecars
/// as their own users. Returns the file and whether others may read it.
pub fn open_token_file(path: &Path) -> io::Result<(File, bool)> {
    // Non-blocking, so a FIFO planted at the path cannot hang us.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if let Some(why) = writable_by_others(&meta) {
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
    Ok((file, readable_by_others(&meta)))
}

// The Unix-only parts of shared token files, kept together for the Windows
// port (issue 12), which has no modes or groups to set or check.

/// Gives a shared file its group, then its mode: explicitly, since the
/// umask must not narrow 0640, and after the group, as a chown may clear
/// mode bits.
fn share(file: &File, mode: u32, gid: Option<u32>) -> io::Result<()> {
    if let Some(gid) = gid {
        std::os::unix::fs::fchown(file, None, Some(gid))?;
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
}

fn writable_by_others(meta: &fs::Metadata) -> Option<String> {
    (meta.mode() & 0o022 != 0)
        .then(|| format!("others may write it (mode {:o})", meta.mode() & 0o7777))
}

fn readable_by_others(meta: &fs::Metadata) -> bool {
    meta.mode() & 0o004 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_created_private_and_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, DIR_MODE);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, DIR_MODE);
    }

    #[test]
    fn atomic_writes_are_private_and_replace_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, FILE_MODE);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(open_private(&path).unwrap().is_some());
    }

    #[test]
    fn shared_writes_take_the_mode_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_shared(&path, b"a", 0o640, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        write_shared(&path, b"b", 0o600, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
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
    }

    #[test]
    fn token_files_are_read_through_symlinks_unless_others_may_write_them() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("..data");
        write_shared(&target, b"t", 0o640, None).unwrap();
        let link = dir.path().join("token");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(!open_token_file(&link).unwrap().1, "not readable by others");
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(open_token_file(&link).unwrap().1, "readable by others");
        fs::set_permissions(&target, fs::Permissions::from_mode(0o664)).unwrap();
        assert!(open_token_file(&link).is_err());
        assert!(open_token_file(dir.path()).is_err(), "a directory");
    }

    #[test]
    fn loose_files_and_symlinks_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        assert!(open_private(&path).unwrap().is_none());
        write_atomic(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(open_private(&path).is_err());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_private(&link).is_err());
    }
}
