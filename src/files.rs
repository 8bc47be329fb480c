//! Private files: the one place that decides file and directory permissions
//! and how a file is replaced.
//!
//! Cache and config files hold tokens and keys, so they are 0600 inside 0700
//! directories owned by the user, and a file is only ever replaced whole
//! (write a temporary file beside it, fsync, rename), so a crash at any
//! moment leaves either the old file or the new one, never half of either.

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
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a file path without a directory"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
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
