//! Unix (Linux and macOS): modes, owners and `O_NOFOLLOW` do the work.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{ConfigFileError, FILE_MODE};

pub const DIR_MODE: u32 = 0o700;

/// The effective user ID: files we trust must be owned by it. Asked once.
fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    *EUID.get_or_init(|| unsafe { libc::geteuid() })
}

pub fn owned_by_us(meta: &fs::Metadata) -> bool {
    meta.uid() == euid()
}

/// Whether group or others have any bits on it.
pub fn not_owner_only(meta: &fs::Metadata) -> bool {
    meta.mode() & 0o077 != 0
}

/// Whether an open failed because `O_NOFOLLOW` met a symlink.
pub fn is_refused_link(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// What a file that is neither regular, a directory nor a symlink is.
pub fn special_kind(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    match () {
        _ if kind.is_fifo() => "a FIFO",
        _ if kind.is_block_device() || kind.is_char_device() => "a device",
        _ => "a socket",
    }
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

/// An existing directory must be ours and open to no one else. Its mode
/// is never changed, whoever made it: see `ensure_private_dir`.
pub fn check_private_dir(meta: &fs::Metadata) -> io::Result<()> {
    if meta.uid() != euid() {
        return Err(io::Error::other(
            "it belongs to another user (or a symlink leads there)",
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(io::Error::other(format!(
            "it is open to others (mode {:o}), and snowplow-credentials never changes \
             a directory's mode",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// A symlink in the file's place makes the open fail (`ELOOP`), and a
/// FIFO planted there cannot hang us. One call, as `custom_flags` replaces
/// the flags rather than adding to them.
pub fn no_follow_no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
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

/// A started key command and whatever it started, to kill if it overruns
/// its time: the process group it leads (it is started in one of its own,
/// see secret_source.rs, with the terminal handed over by foreground.rs so
/// that a password manager's prompt still works).
pub struct CommandTree {
    group: u32,
}

impl CommandTree {
    pub fn new(child: &std::process::Child) -> CommandTree {
        CommandTree { group: child.id() }
    }

    pub fn kill(&self) {
        if let Ok(pgid) = libc::pid_t::try_from(self.group) {
            // SAFETY: kill has no memory-safety preconditions; a negative
            // pid names the process group the command leads.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
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

/// Makes `link` a symlink to `target` (the path `exe` was invoked by). An
/// old link to elsewhere is replaced, anything else left alone.
pub fn install_link(
    exe: &Path,
    target: &Path,
    link: &Path,
    _ours: &[u8],
) -> io::Result<super::Link> {
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
    std::os::unix::fs::symlink(target, link)?;
    Ok(super::Link::Made("linked"))
}

/// Checks the file, then every directory on the way to it, for owners
/// other than us and root and for write bits of group or others (a sticky
/// directory, as /tmp, keeps others from replacing what is ours).
pub fn changeable_by_others(path: &Path, meta: &fs::Metadata) -> Result<(), ConfigFileError> {
    check_owner_and_mode(path, meta, false)?;
    walk_checked(path).map(|_| ())
}

/// The most symlinks followed on one path, as Linux's own limit.
const MAX_HOPS: u32 = 40;

/// What [`walk`] shows its visitor.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// A directory still to go through (the root first).
    Dir,
    /// A symlink, about to be followed.
    Link,
    /// The last component, when it exists and is not a symlink.
    Last,
}

/// Resolves `path` one component and one symlink at a time, showing
/// `visit` each step with its `lstat` and that of the directory holding it
/// (the root is its own). One `lstat` per component; a missing last
/// component is fine (a file about to be written).
fn walk(
    path: &Path,
    mut visit: impl FnMut(&Path, &fs::Metadata, Step, &fs::Metadata) -> Result<(), ConfigFileError>,
) -> Result<PathBuf, ConfigFileError> {
    use std::path::Component;
    let io_err = ConfigFileError::Io;
    let absolute = std::path::absolute(path).map_err(io_err)?;
    // Names still to walk, last first; `done` never holds a symlink.
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    let push = |todo: &mut Vec<std::ffi::OsString>, p: &Path| {
        for part in p.components().rev() {
            match part {
                Component::Normal(name) => todo.push(name.to_os_string()),
                Component::ParentDir => todo.push("..".into()),
                _ => {}
            }
        }
    };
    push(&mut todo, &absolute);
    let mut done = PathBuf::from("/");
    let mut done_meta = fs::metadata(&done).map_err(io_err)?;
    visit(&done, &done_meta, Step::Dir, &done_meta.clone())?;
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            done.pop();
            done_meta = fs::metadata(&done).map_err(io_err)?;
            continue;
        }
        let next = done.join(&name);
        let meta = match fs::symlink_metadata(&next) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && todo.is_empty() => return Ok(next),
            other => other.map_err(io_err)?,
        };
        if meta.is_symlink() {
            visit(&next, &meta, Step::Link, &done_meta)?;
            hops += 1;
            if hops > MAX_HOPS {
                return Err(io_err(io::Error::other(
                    "it goes through too many symlinks",
                )));
            }
            let target = fs::read_link(&next).map_err(io_err)?;
            if target.is_absolute() {
                done = PathBuf::from("/");
                done_meta = fs::metadata(&done).map_err(io_err)?;
            }
            push(&mut todo, &target);
            continue;
        }
        let step = if todo.is_empty() {
            Step::Last
        } else {
            Step::Dir
        };
        visit(&next, &meta, step, &done_meta)?;
        done = next;
        done_meta = meta;
    }
    Ok(done)
}

/// [`walk`] with the config file's rule: every directory on the way passes
/// [`check_owner_and_mode`], as the final file's do, and each symlink is
/// ours or root's: whoever can replace a symlink can point it anywhere.
fn walk_checked(path: &Path) -> Result<PathBuf, ConfigFileError> {
    walk(path, |at, meta, step, _| match step {
        Step::Dir => check_owner_and_mode(at, meta, true),
        // In a sticky directory (as /tmp) its owner can still swap it.
        Step::Link if !ours_or_root(meta) => Err(ConfigFileError::Owner {
            path: at.to_path_buf(),
            uid: meta.uid(),
        }),
        Step::Link | Step::Last => Ok(()),
    })
}

fn ours_or_root(meta: &fs::Metadata) -> bool {
    meta.uid() == euid() || meta.uid() == 0
}

/// Whether others may add entries to a directory: group or other write
/// bits, sticky or not (a sticky bit only keeps them from removing ours).
fn open_to_others(dir: &fs::Metadata) -> bool {
    dir.mode() & 0o022 != 0
}

/// Why the token file at `path` (opened: `meta`) may have been put there by
/// another user: it, or a directory or symlink on the way to it, belongs to
/// someone other than us and root and sits in a directory that others may
/// write (sticky or not, as /tmp). Anyone could have created such an entry,
/// and a token they planted would make our tools act in their
/// organization. An entry in a directory only its owner can write is
/// trusted whoever owns it (Vault Agent writes as its own user), and a file
/// of ours or root's holds nothing another user wrote, so its path is not
/// walked at all.
pub fn planted(path: &Path, meta: &fs::Metadata) -> Option<String> {
    if ours_or_root(meta) {
        return None;
    }
    let mut found = None;
    let walked = walk(path, |at, entry, step, dir| {
        // The file read is the one opened, whatever the path holds now.
        let uid = if step == Step::Last {
            meta.uid()
        } else {
            entry.uid()
        };
        if open_to_others(dir) && uid != euid() && uid != 0 {
            found = Some((at.to_path_buf(), uid, dir.mode() & 0o7777, step));
            // Stops the walk.
            return Err(ConfigFileError::Owner {
                path: at.to_path_buf(),
                uid,
            });
        }
        Ok(())
    });
    if let (Err(ConfigFileError::Io(e)), None) = (&walked, &found) {
        // Not known to be safe: as if it were not.
        return Some(format!(
            "it belongs to user {} and the directories on its path cannot be checked ({e})",
            meta.uid()
        ));
    }
    let (at, uid, mode, step) = found?;
    let what = match step {
        Step::Last => "it".to_string(),
        _ => at.display().to_string(),
    };
    let dir = at.parent().unwrap_or(&at).display().to_string();
    Some(format!(
        "{what} belongs to user {uid} and sits in {dir}, which others may write (mode \
         {mode:o}), so anyone could have put it there: it must be yours or root's, or sit in a \
         directory only its owner can write"
    ))
}

fn check_owner_and_mode(
    path: &Path,
    meta: &fs::Metadata,
    dir: bool,
) -> Result<(), ConfigFileError> {
    if !ours_or_root(meta) {
        return Err(ConfigFileError::Owner {
            path: path.to_path_buf(),
            uid: meta.uid(),
        });
    }
    let sticky = dir && meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !sticky {
        return Err(ConfigFileError::Writable {
            path: path.to_path_buf(),
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(())
}

/// Why others than us and root could replace the file at `path`: a
/// directory on its path (or holding a symlink on the way) that another
/// user owns, or that group or others may write and that is not sticky (as
/// /tmp is). The config file's rule, which OpenSSH applies to its own:
/// here it gives a warning, since a Kubernetes `emptyDir` shared by a
/// pod's containers is 0777.
pub fn dir_open_to_others(path: &Path) -> Option<String> {
    match walk_checked(path) {
        Err(ConfigFileError::Owner { path, uid }) => Some(format!(
            "its directory {} belongs to user {uid}",
            path.display()
        )),
        Err(ConfigFileError::Writable { path, mode }) => Some(format!(
            "its directory {} is writable by others (mode {mode:o}) and not sticky",
            path.display()
        )),
        Ok(_) | Err(ConfigFileError::Io(_)) => None,
    }
}
