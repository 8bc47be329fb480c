//! Unix (Linux and macOS): modes, owners and `O_NOFOLLOW` do the work.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::FILE_MODE;

pub const DIR_MODE: u32 = 0o700;

/// The effective user ID: files we trust must be owned by it.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `meta` is something others could read or swap ("mode 644, owner
/// 1000"), or `None` when it is ours alone.
pub fn too_open(meta: &fs::Metadata) -> Option<String> {
    if meta.uid() == euid() && meta.mode() & 0o077 == 0 {
        return None;
    }
    Some(format!(
        "mode {:o}, owner {}",
        meta.mode() & 0o7777,
        meta.uid()
    ))
}

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// An existing directory must be ours; group or other bits are removed.
pub fn tighten_dir(dir: &Path, meta: &fs::Metadata) -> io::Result<()> {
    if meta.uid() != euid() {
        return Err(io::Error::other(
            "it belongs to another user (or a symlink leads there)",
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE));
    }
    Ok(())
}

/// A symlink in the file's place makes the open fail (`ELOOP`).
pub fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NOFOLLOW)
}

pub fn private_mode(options: &mut OpenOptions) -> &mut OpenOptions {
    options.mode(FILE_MODE)
}

pub fn private_temp<'a, 'b>(
    builder: &'b mut tempfile::Builder<'a, 'a>,
) -> &'b mut tempfile::Builder<'a, 'a> {
    builder.permissions(fs::Permissions::from_mode(FILE_MODE))
}

/// Gives a shared file its group, then its mode: explicitly, since the
/// umask must not narrow 0640, and after the group, as a chown may clear
/// mode bits.
pub fn share(file: &fs::File, mode: u32, gid: Option<u32>) -> io::Result<()> {
    if let Some(gid) = gid {
        std::os::unix::fs::fchown(file, None, Some(gid))?;
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Non-blocking, so a FIFO planted at a token file's path cannot hang us.
pub fn no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NONBLOCK)
}

pub fn writable_by_others(meta: &fs::Metadata) -> Option<String> {
    (meta.mode() & 0o022 != 0)
        .then(|| format!("others may write it (mode {:o})", meta.mode() & 0o7777))
}

pub fn readable_by_others(meta: &fs::Metadata) -> bool {
    meta.mode() & 0o004 != 0
}

/// `rename(2)` replaces atomically, even over a file others have open.
pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

/// Makes a rename in `dir` survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// How messages write the home directory.
pub const HOME_SHORT: &str = "~";

/// The home directory: `$HOME`, else the password database's entry.
pub fn home() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// The OS cache directory: `$XDG_CACHE_HOME` or `~/.cache` on Linux,
/// `~/Library/Caches` on macOS.
pub fn cache_home() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|d| d.cache_dir().to_path_buf())
}

/// A started key command, to kill if it overruns its time. On Unix that is
/// the command alone: killing its children too would need it in a process
/// group of its own, which takes it out of the terminal's foreground, where a
/// password manager's prompt (pinentry, `op`) would be stopped on its first
/// read of the terminal.
pub struct CommandTree;

impl CommandTree {
    pub fn new(_child: &std::process::Child) -> CommandTree {
        CommandTree
    }

    pub fn kill(&self, child: &mut std::process::Child) {
        let _ = child.kill();
    }
}

/// Whether a file we are to trust is not ours, or others may write it.
pub fn others_may_write(meta: &fs::Metadata) -> bool {
    meta.uid() != euid() || meta.mode() & 0o022 != 0
}

/// Whether `link` is a symbolic link to this binary.
fn links_to(link: &Path, exe: &Path) -> bool {
    fs::read_link(link).is_ok_and(|t| t == exe || t.canonicalize().is_ok_and(|t| t == exe))
}

/// Removes `link` if it is a symlink to `exe`.
pub fn remove_link(exe: &Path, link: &Path, _ours: &[u8]) -> io::Result<super::Unlink> {
    if !fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(super::Unlink::Nothing);
    }
    if !links_to(link, exe) {
        return Ok(super::Unlink::Elsewhere);
    }
    fs::remove_file(link)?;
    Ok(super::Unlink::Removed)
}

/// Makes `link` a symlink to `exe`. An old link to elsewhere is replaced,
/// anything else left alone.
pub fn install_link(exe: &Path, link: &Path, _ours: &[u8]) -> io::Result<super::Link> {
    match fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if links_to(link, exe) {
                return Ok(super::Link::AlreadyThere);
            }
            fs::remove_file(link)?;
        }
        Ok(_) => return Ok(super::Link::Foreign),
        Err(_) => {}
    }
    std::os::unix::fs::symlink(exe, link)?;
    Ok(super::Link::Made("linked"))
}

#[cfg(test)]
mod tests {
    use super::super::*;
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
    fn atomic_writes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"first").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, FILE_MODE);
    }

    #[test]
    fn shared_writes_take_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_shared(&path, b"a", 0o640, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        write_shared(&path, b"b", 0o600, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
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
    }

    #[test]
    fn loose_files_and_symlinks_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(open_private(&path).is_err());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_private(&link).is_err());
    }
}
