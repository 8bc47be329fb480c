//! Private files: the one place that decides file and directory permissions,
//! how a file we read is opened, how a file is replaced, which owners and
//! modes are trusted, and so also where the user's directories are and how
//! helper names are installed. The calls that carry these rules out, and
//! every way Unix and Windows differ in them, are the platform layer's
//! (`sys/`); this file is the policy, the same on both.
//!
//! Windows has no modes: there the files live under the user's profile,
//! whose inherited ACL admits only the user, SYSTEM and Administrators, and
//! nothing here reads or changes ACLs (that takes the Win32 security API,
//! which std does not wrap), so the platform reports no owner or mode
//! ([`sys::perms`] is `None`) and the owner and mode checks below pass
//! there; links (reparse points) are still refused.
//!
//! Cache and config files hold tokens and keys, so they are 0600 inside 0700
//! directories owned by the user, and a file is only ever replaced whole
//! (write a temporary file beside it, fsync, rename), so a crash at any
//! moment leaves either the old file or the new one, never half of either.
//!
//! Nothing here trusts a path: another local user may have planted a FIFO
//! (which blocks an open), a device (which never ends), a symlink, or a file
//! of their own. So every open is non-blocking, checks the type, owner and
//! mode of what it opened, and reads a bounded amount. No directory's mode
//! is ever changed: one we did not just create is used only if it is
//! already private.
//!
//! Token files shared with other programs follow the same rules where they
//! can: `sink` writes them whole, 0600 or 0640 with a chosen group; a
//! `token_file` written by someone else (the kubelet, Vault Agent, a sink in
//! another container) is read through symlinks (Kubernetes swaps Secret files
//! that way) but only from a regular file that no one but its owner can
//! write (on Unix), and of bounded size; one of another user than us and
//! root only if nothing on its path sits in a directory others may write
//! (there anyone could have planted it).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::sys::{self, Perms};

pub use crate::sys::{HOME_SHORT, Link, Unlink, cache_home, home, install_link, remove_link};

/// The mode of a private file (Unix).
pub const FILE_MODE: u32 = 0o600;
/// The mode of a private directory (Unix).
const DIR_MODE: u32 = 0o700;
/// The prefix of this program's temporary files, so that `clear --all`
/// removes its own leftovers and nothing else.
pub const TEMP_PREFIX: &str = ".tmp-token-";
/// The file that marks a directory as created by this program (the
/// Cache Directory Tagging Specification's name, so backups skip it).
const TAG_NAME: &str = "CACHEDIR.TAG";
const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
    # A cache directory created by snowplow-credentials: it holds tokens.\n";

/// Why `meta` is not a private regular file of ours, if it is not.
fn not_ours(meta: &fs::Metadata) -> Option<String> {
    if !meta.is_file() {
        return Some("it is not a regular file".into());
    }
    too_open(meta).map(|why| format!("its permissions are too open ({why})"))
}

/// Why `meta` is something others could read or swap ("mode 644, owner
/// 1000"), or `None` when it is ours alone (or the platform cannot tell).
pub fn too_open(meta: &fs::Metadata) -> Option<String> {
    let p = sys::perms(meta)?;
    (!p.mine || p.mode & 0o077 != 0).then(|| format!("mode {:o}, owner {}", p.mode, p.uid))
}

/// Whether `meta` belongs to us (always, where the platform has no owners).
fn owned_by_us(meta: &fs::Metadata) -> bool {
    sys::perms(meta).is_none_or(|p| p.mine)
}

/// Whether group or others have any bits on it.
fn not_owner_only(meta: &fs::Metadata) -> bool {
    sys::perms(meta).is_some_and(|p| p.mode & 0o077 != 0)
}

/// Why others may write `meta`, if they may.
fn writable_by_others(meta: &fs::Metadata) -> Option<String> {
    let p = sys::perms(meta)?;
    (p.mode & 0o022 != 0).then(|| format!("others may write it (mode {:o})", p.mode))
}

fn readable_by_others(meta: &fs::Metadata) -> bool {
    sys::perms(meta).is_some_and(|p| p.mode & 0o004 != 0)
}

/// An existing directory must be ours and open to no one else. Its mode
/// is never changed, whoever made it: see [`ensure_private_dir`].
fn check_private_dir(meta: &fs::Metadata) -> io::Result<()> {
    let Some(p) = sys::perms(meta) else {
        return Ok(());
    };
    if !p.mine {
        return Err(io::Error::other(
            "it belongs to another user (or a symlink leads there)",
        ));
    }
    if p.mode & 0o077 != 0 {
        return Err(io::Error::other(format!(
            "it is open to others (mode {:o}), and snowplow-credentials never changes \
             a directory's mode",
            p.mode
        )));
    }
    Ok(())
}

/// Creates `dir` (and its parents) private and tags it for backup tools,
/// or checks an existing one: it must be a directory and, on Unix, owned by
/// us and open to no one else, even when reached through a symlink. The
/// mode of a directory is never changed: a tag file proves nothing (anyone
/// can copy one into their own shared directory), and the only directory
/// we know to be ours is one we just created, which is private already.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            sys::create_dir_all(dir, DIR_MODE)?;
            // Best effort: the tag only keeps backups out.
            let _ = write_atomic(&dir.join(TAG_NAME), TAG.as_bytes());
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // Checked after creating too: another process may have made it first.
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("it is not a directory"));
    }
    check_private_dir(&meta)
}

/// Opens `path` for reading without following a symlink or blocking on a
/// FIFO, if it is a regular file that only we can read and no larger than
/// `max` bytes. `Ok(None)` when it does not exist.
#[cfg(test)]
pub fn open_private(path: &Path, max: u64) -> io::Result<Option<File>> {
    Ok(open_private_sized(path, max)?.map(|(file, _)| file))
}

/// [`open_private`], and the file's size when it was checked.
fn open_private_sized(path: &Path, max: u64) -> io::Result<Option<(File, u64)>> {
    let file = match sys::open_read(path, false) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if let Some(why) = not_ours(&meta) {
        return Err(io::Error::other(why));
    }
    if meta.len() > max {
        return Err(io::Error::other(format!(
            "it is larger than {max} bytes, far more than this program writes"
        )));
    }
    Ok(Some((file, meta.len())))
}

/// The whole of a private file (see [`open_private`]), at most `max` bytes.
pub fn read_private(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let Some((file, size)) = open_private_sized(path, max)? else {
        return Ok(None);
    };
    read_bounded(file, size, max).map(Some)
}

/// Reads at most `max` bytes; more is an error (a file can grow after its
/// size was checked). `size` is what fstat said: a file that still has that
/// size is read by one `read` into one buffer (a regular file's read is
/// only short at its end), one that changed is read to its end.
fn read_bounded(mut file: File, size: u64, max: u64) -> io::Result<Vec<u8>> {
    let size = size.min(max);
    let mut bytes = vec![0; size as usize + 1];
    let n = loop {
        match file.read(&mut bytes) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other?,
        }
    };
    bytes.truncate(n);
    if n as u64 != size {
        file.take(max + 1 - n as u64).read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > max {
        return Err(io::Error::other(format!("it is larger than {max} bytes")));
    }
    Ok(bytes)
}

/// Opens (creating private) a file we only lock, never read. One that is
/// not a private regular file of ours (a FIFO, a symlink, a file another
/// user planted) is replaced, as a cache file would be, before it is used.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let open = || {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        sys::create_mode(&mut options, FILE_MODE);
        sys::no_follow_no_wait(&mut options).open(path)
    };
    for _ in 0..2 {
        match open() {
            Ok(file) if not_ours(&file.metadata()?).is_none() => return Ok(file),
            Ok(_) => {}
            Err(e) if !sys::is_refused_link(&e) => return Err(e),
            Err(_) => {}
        }
        write_atomic(path, b"")?;
    }
    Err(io::Error::other(
        "it keeps being replaced by something not ours",
    ))
}

/// Replaces `path` with `contents` atomically: a 0600 temporary file in the
/// same directory, written, fsynced, renamed over `path`, and the directory
/// fsynced so the rename itself survives a crash.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, TEMP_PREFIX, FILE_MODE, None)
}

/// Removes `path` if it is a regular file of ours; anything else there (a
/// directory, a symlink, another user's file) is left alone, and one
/// already gone is not an error (another process may have removed or
/// replaced it meanwhile). Returns whether it removed something.
pub fn remove_own(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() || !owned_by_us(&meta) => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The largest config file read: a real one is a few KiB.
pub const MAX_CONFIG: u64 = 1024 * 1024;

/// A config file's text and whether others may read it (then it must not
/// hold a secret). It is opened without blocking and must be a regular
/// file of at most [`MAX_CONFIG`] bytes that only its owner (us or root)
/// can write, in directories that only their owners can write, as OpenSSH
/// requires of its own config: whoever can change it can make us run their
/// commands. A symlink is followed, and both its own directories and its
/// target's are checked. `Ok(None)` when it does not exist.
pub fn read_config(path: &Path) -> Result<Option<(String, bool)>, ConfigFileError> {
    // Not through a symlink first: then the walk below need not look at
    // the file's own name again (one `lstat` less on every run).
    let (opened, direct) = match sys::open_read(path, false) {
        Err(e) if sys::is_refused_link(&e) => (sys::open_read(path, true), false),
        other => (other, true),
    };
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigFileError::Io(e)),
    };
    let meta = file.metadata().map_err(ConfigFileError::Io)?;
    if !meta.is_file() {
        return Err(ConfigFileError::Io(io::Error::other(
            "it is not a regular file",
        )));
    }
    if meta.len() > MAX_CONFIG {
        return Err(ConfigFileError::Io(io::Error::other(format!(
            "it is larger than {} KiB, far more than any config",
            MAX_CONFIG / 1024
        ))));
    }
    changeable_by_others(path, &meta, direct)?;
    let bytes = read_bounded(file, meta.len(), MAX_CONFIG).map_err(ConfigFileError::Io)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigFileError::Io(io::Error::other("it is not UTF-8 text")))?;
    Ok(Some((text, not_owner_only(&meta))))
}

/// Why a config file is not read.
#[derive(Debug)]
pub enum ConfigFileError {
    Io(io::Error),
    /// The file or one of its directories (the path) can be changed by
    /// others than its owner and root: `chmod go-w <path>` fixes the mode.
    Writable {
        path: PathBuf,
        mode: u32,
    },
    /// The file or one of its directories belongs to another user.
    Owner {
        path: PathBuf,
        uid: u32,
    },
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

/// Replaces a settings file of the user's (`key migrate`'s edits), as
/// [`write_atomic`] does, keeping only its owner's read and write bits of
/// its mode (a 0400 file stays 0400, a 0644 one becomes 0600). The
/// temporary file is
/// `.<name>.tmp-*`, as [`write_shared`]'s are.
pub fn rewrite_private(path: &Path, contents: &[u8], meta: &fs::Metadata) -> io::Result<()> {
    let mode = sys::perms(meta).map_or(FILE_MODE, |p| p.mode & FILE_MODE);
    replace(path, contents, &leftover_prefix(path), mode, None)
}

/// How many names `meta`'s file has (1 where the platform cannot tell).
pub fn links(meta: &fs::Metadata) -> u64 {
    sys::perms(meta).map_or(1, |p| p.links)
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
    if let Some(private) = sys::permissions(FILE_MODE) {
        builder.permissions(private);
    }
    let mut tmp = builder.tempfile_in(dir).map_err(without_temporary_name)?;
    share(tmp.as_file(), mode, gid)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    // Closed before the rename, which Windows does more readily; kept first,
    // as on Windows keeping also clears the "temporary" attribute that
    // tempfile gives it, and that needs the file still at its temporary path.
    let tmp = tmp.into_temp_path().keep().map_err(|e| e.error)?;
    if let Err(e) = retry_busy(|| fs::rename(&tmp, path), sys::is_busy, std::thread::sleep) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sys::sync_dir(dir)
}

/// Gives a shared file its group, then its mode: explicitly, since the
/// umask must not narrow 0640, and after the group, as a chown may clear
/// mode bits. Where files have no group (Windows), asking for one fails.
fn share(file: &File, mode: u32, gid: Option<u32>) -> io::Result<()> {
    if let Some(gid) = gid {
        sys::set_group(file, gid)?;
    }
    match sys::permissions(mode) {
        Some(permissions) => file.set_permissions(permissions),
        None => Ok(()),
    }
}

/// Opens a token file someone else writes: symlinks are followed (the kubelet
/// swaps Secret files by symlink), and what they lead to must be a regular
/// file that only its owner may write, at most [`MAX_TOKEN_FILE`] bytes. Its
/// owner may be anyone (the kubelet writes as root, Vault Agent and sidecars
/// as their own users) unless it, or a directory or symlink on the way,
/// sits in a directory others may write, sticky or not: there anyone could
/// have planted it, so it must be ours or root's ([`planted`]). Returns the
/// file and whether others may read it.
pub fn open_token_file(path: &Path) -> io::Result<(File, bool)> {
    let mut options = OpenOptions::new();
    options.read(true);
    let file = sys::no_wait(&mut options).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    if let Some(why) = planted(path, &meta) {
        return Err(io::Error::other(why));
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

/// What `path` is when it exists and is not a regular file ("a symlink",
/// "a directory", "a FIFO", "a device"), without following a symlink.
pub fn not_regular(path: &Path) -> Option<&'static str> {
    let kind = fs::symlink_metadata(path).ok()?.file_type();
    Some(match () {
        _ if kind.is_file() => return None,
        _ if kind.is_symlink() => "a symlink",
        _ if kind.is_dir() => "a directory",
        _ => sys::special_kind(&kind),
    })
}

/// `path` as the same place is named however it was written: its
/// directory with symlinks resolved, then its file name.
pub fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(real) = fs::canonicalize(&absolute) {
        return real;
    }
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => fs::canonicalize(dir)
            .map(|dir| dir.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    }
}

/// Checks the file, then every directory on the way to it, for owners
/// other than us and root and for write bits of group or others (a sticky
/// directory, as /tmp, keeps others from replacing what is ours). Nothing
/// to check where the platform has no owners or modes.
/// `direct`: the file was opened at `path` without following a symlink, so
/// its name needs no `lstat` (what it is, the open file's `meta` says).
fn changeable_by_others(
    path: &Path,
    meta: &fs::Metadata,
    direct: bool,
) -> Result<(), ConfigFileError> {
    let Some(perms) = sys::perms(meta) else {
        return Ok(());
    };
    check_owner_and_mode(path, perms, false)?;
    walk_checked(path, direct).map(|_| ())
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
/// `visit` each step with its owner and mode and those of the directory
/// holding it (the root is its own). One `lstat` per component; a missing
/// last component is fine (a file about to be written). Nothing is walked
/// where the platform has no owners or modes. `last_known`: the last
/// component is a file already checked, not a symlink; it is not looked at
/// (or shown) again.
fn walk(
    path: &Path,
    last_known: bool,
    mut visit: impl FnMut(&Path, Perms, Step, Perms) -> Result<(), ConfigFileError>,
) -> Result<PathBuf, ConfigFileError> {
    let io_err = ConfigFileError::Io;
    let absolute = std::path::absolute(path).map_err(io_err)?;
    let perms_of = |p: &Path| fs::metadata(p).map(|m| sys::perms(&m)).map_err(io_err);
    let mut done = PathBuf::from("/");
    let Some(root) = perms_of(&done)? else {
        return Ok(absolute);
    };
    visit(&done, root, Step::Dir, root)?;
    let mut done_perms = root;
    // Names still to walk, last first; `done` never holds a symlink.
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    push_names(&mut todo, &absolute);
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            done.pop();
            done_perms = perms_of(&done)?.unwrap_or(done_perms);
            continue;
        }
        let next = done.join(&name);
        if last_known && todo.is_empty() && hops == 0 {
            return Ok(next);
        }
        let meta = match fs::symlink_metadata(&next) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && todo.is_empty() => return Ok(next),
            other => other.map_err(io_err)?,
        };
        let Some(perms) = sys::perms(&meta) else {
            return Ok(absolute);
        };
        if meta.is_symlink() {
            visit(&next, perms, Step::Link, done_perms)?;
            let target = follow(&next, &mut hops)?;
            if target.is_absolute() {
                done = PathBuf::from("/");
                done_perms = root;
            }
            push_names(&mut todo, &target);
            continue;
        }
        let step = if todo.is_empty() {
            Step::Last
        } else {
            Step::Dir
        };
        visit(&next, perms, step, done_perms)?;
        done = next;
        done_perms = perms;
    }
    Ok(done)
}

/// Adds the names of `path` to [`walk`]'s `todo`, last first so that `pop`
/// gives them in order. Only names and `..` count: the root and `.` add no
/// step, and `..` stays a name because it is resolved against what was
/// walked (symlinks already followed), not against the text.
fn push_names(todo: &mut Vec<std::ffi::OsString>, path: &Path) {
    use std::path::Component;
    for part in path.components().rev() {
        match part {
            Component::Normal(name) => todo.push(name.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            _ => {}
        }
    }
}

/// Where the symlink `link` points, counted as one more of [`walk`]'s `hops`:
/// a loop of symlinks would otherwise be walked forever, so past
/// [`MAX_HOPS`] the path is refused before reading the link.
fn follow(link: &Path, hops: &mut u32) -> Result<PathBuf, ConfigFileError> {
    *hops += 1;
    if *hops > MAX_HOPS {
        return Err(ConfigFileError::Io(io::Error::other(
            "it goes through too many symlinks",
        )));
    }
    fs::read_link(link).map_err(ConfigFileError::Io)
}

/// [`walk`] with the config file's rule: every directory on the way passes
/// [`check_owner_and_mode`], as the final file's do, and each symlink is
/// ours or root's: whoever can replace a symlink can point it anywhere.
/// `last_known` as for [`walk`].
fn walk_checked(path: &Path, last_known: bool) -> Result<PathBuf, ConfigFileError> {
    walk(path, last_known, |at, perms, step, _| match step {
        Step::Dir => check_owner_and_mode(at, perms, true),
        // In a sticky directory (as /tmp) its owner can still swap it.
        Step::Link if !ours_or_root(perms) => Err(ConfigFileError::Owner {
            path: at.to_path_buf(),
            uid: perms.uid,
        }),
        Step::Link | Step::Last => Ok(()),
    })
}

fn ours_or_root(perms: Perms) -> bool {
    perms.mine || perms.uid == 0
}

/// Why the token file at `path` (opened: `meta`) may have been put there by
/// another user: it, or a directory or symlink on the way to it, belongs to
/// someone other than us and root and sits in a directory that others may
/// write (group or other write bits, sticky or not, as /tmp: a sticky bit
/// only keeps them from removing ours). Anyone could have created such an
/// entry, and a token they planted would make our tools act in their
/// organization. An entry in a directory only its owner can write is
/// trusted whoever owns it (Vault Agent writes as its own user). The path
/// is walked even to a file of ours or root's: another user's symlink in a
/// shared directory would otherwise choose which of root's files we serve.
fn planted(path: &Path, meta: &fs::Metadata) -> Option<String> {
    let file = sys::perms(meta)?;
    let mut found = None;
    let walked = walk(path, false, |at, entry, step, dir| {
        // The file read is the one opened, whatever the path holds now.
        let entry = if step == Step::Last { file } else { entry };
        if dir.mode & 0o022 != 0 && !ours_or_root(entry) {
            found = Some((at.to_path_buf(), entry.uid, dir.mode, step));
            // Stops the walk.
            return Err(ConfigFileError::Owner {
                path: at.to_path_buf(),
                uid: entry.uid,
            });
        }
        Ok(())
    });
    if let (Err(ConfigFileError::Io(e)), None) = (&walked, &found) {
        // Not known to be safe: as if it were not.
        return Some(format!(
            "it belongs to user {} and the directories on its path cannot be checked ({e})",
            file.uid
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

/// The owner must be us or root, and no one else may write it, unless it
/// is a sticky directory (`dir`).
fn check_owner_and_mode(path: &Path, perms: Perms, dir: bool) -> Result<(), ConfigFileError> {
    if !ours_or_root(perms) {
        return Err(ConfigFileError::Owner {
            path: path.to_path_buf(),
            uid: perms.uid,
        });
    }
    let sticky = dir && perms.mode & 0o1000 != 0;
    if perms.mode & 0o022 != 0 && !sticky {
        return Err(ConfigFileError::Writable {
            path: path.to_path_buf(),
            mode: perms.mode,
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
    match walk_checked(path, false) {
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

/// How many times a rename over a busy file is tried (Windows: on Unix no
/// rename is ever busy).
const TRIES: u32 = 8;

/// Runs `attempt` until it succeeds, fails other than `busy`, or has been
/// tried [`TRIES`] times, pausing 10, 20, 40, ... ms in between (1.27 s in
/// all). Separate from the rename so that the schedule can be tested
/// anywhere.
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
        assert!(open_private(&path, 100).unwrap().is_none());
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(open_private(&path, 100).unwrap().is_some());
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
        let mut reader = open_private(&path, 100).unwrap().unwrap();
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

// Unix only: these set and check modes, owners and symlinks, which Windows
// does not have (or, for symlinks, needs Developer Mode to make).
#[cfg(all(test, unix))]
mod unix_tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn directories_are_created_private_and_never_changed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, DIR_MODE);
        ensure_private_dir(&dir).unwrap();
        // Opened up later, even with our own tag in it, it is refused as
        // it is: the tag can be copied anywhere.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ensure_private_dir(&dir).is_err());
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o755);
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
        assert!(open_private(&path, 100).unwrap().is_some());
        assert!(open_private(&path, 3).is_err(), "larger than the bound");
    }

    #[test]
    fn loose_files_and_symlinks_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        assert!(open_private(&path, 100).unwrap().is_none());
        write_atomic(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(open_private(&path, 100).is_err());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_private(&link, 100).is_err());
    }

    #[test]
    fn config_files_others_can_change_or_that_never_end_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("c.toml");
        fs::write(&path, "x = 1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let (text, shared) = read_config(&path).unwrap().unwrap();
        assert_eq!((text.as_str(), shared), ("x = 1\n", true));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).unwrap();
        assert!(matches!(
            read_config(&path),
            Err(ConfigFileError::Writable { .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(read_config(&path).is_ok(), "a sticky directory is fine");
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            matches!(read_config(&path), Err(ConfigFileError::Writable { path: p, .. }) if p == root.path())
        );
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o700)).unwrap();
        // Through a symlink, the target's directories count too.
        let open = root.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::rename(&path, open.join("c.toml")).unwrap();
        std::os::unix::fs::symlink(open.join("c.toml"), &path).unwrap();
        assert!(read_config(&path).is_ok());
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let refused = read_config(&path);
        assert!(matches!(refused, Err(ConfigFileError::Writable { path: p, .. }) if p == open));
        assert!(matches!(
            read_config(Path::new("/dev/zero")),
            Err(ConfigFileError::Io(_))
        ));
        assert!(read_config(&root.path().join("none")).unwrap().is_none());
    }

    #[test]
    /// The modes themselves; refusing loose modes and finding leftovers is
    /// the portable test's.
    fn shared_writes_take_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_shared(&path, b"a", 0o640, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        write_shared(&path, b"b", 0o600, None).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read(&path).unwrap(), b"b");
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
}
