//! Windows: no modes or owners to set or check, links refused, and a rename
//! retried while another program briefly holds the file.
//!
//! Privacy comes from where the files live: under the user's profile
//! (`%USERPROFILE%`, `%APPDATA%`, `%LOCALAPPDATA%`), whose ACL new files
//! inherit and which by default admits only the user, SYSTEM and
//! Administrators. Checking a file's owner or ACL needs the Win32 security
//! API (GetSecurityInfo and friends), which std does not wrap and the
//! allowed crates do not offer; so it is not checked, and the README says
//! so.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use directories::BaseDirs;

/// Opens a link itself rather than what it points to, so that a link in a
/// private file's place is seen (and refused as "not a regular file")
/// instead of followed.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// Another handle without sharing holds the file (antivirus, indexers).
const ERROR_SHARING_VIOLATION: i32 = 32;
/// What a rename over a file being scanned or deleted often gives instead.
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_LOCK_VIOLATION: i32 = 33;

/// Nothing to say without reading the ACL: see the module comment.
pub fn too_open(_meta: &fs::Metadata) -> Option<String> {
    None
}

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Nothing to check without the ACL (see the module comment), and nothing
/// changed either: no directory's mode or ACL is ever touched.
pub fn check_private_dir(_meta: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

/// Owners are not checked: see the module comment.
pub fn owned_by_us(_meta: &fs::Metadata) -> bool {
    true
}

/// Not known without the ACL: see the module comment.
pub fn not_owner_only(_meta: &fs::Metadata) -> bool {
    false
}

/// A link opened as itself does not fail: it is refused by its type.
pub fn is_refused_link(_e: &io::Error) -> bool {
    false
}

/// Windows has no FIFOs or devices at file paths.
pub fn special_kind(_kind: &fs::FileType) -> &'static str {
    "not a regular file"
}

/// Neither owners nor modes to check: see the module comment.
pub fn changeable_by_others(
    _path: &Path,
    _meta: &fs::Metadata,
) -> Result<(), super::ConfigFileError> {
    Ok(())
}

/// Not known without the ACL: see the module comment.
pub fn dir_open_to_others(_path: &Path) -> Option<String> {
    None
}

/// Not known without the ACL: see the module comment.
pub fn planted(_path: &Path, _meta: &fs::Metadata) -> Option<String> {
    None
}

/// (Opening never waits on Windows: no FIFOs at file paths.)
pub fn no_follow_no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

pub fn private_mode(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

pub fn private_temp<'a, 'b>(
    builder: &'b mut tempfile::Builder<'a, 'a>,
) -> &'b mut tempfile::Builder<'a, 'a> {
    builder
}

/// No modes or groups to give: a group (`sink --group`) is refused, since
/// nothing would be done with it.
pub fn share(_file: &fs::File, _mode: u32, gid: Option<u32>) -> io::Result<()> {
    match gid {
        Some(_) => Err(io::Error::other("a group cannot be set on Windows")),
        None => Ok(()),
    }
}

/// Opening never waits on Windows (no FIFOs at file paths).
pub fn no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

/// Not known without the ACL: see the module comment.
pub fn writable_by_others(_meta: &fs::Metadata) -> Option<String> {
    None
}

pub fn readable_by_others(_meta: &fs::Metadata) -> bool {
    false
}

/// Renames `from` over `to`, retrying for about a second and a
/// quarter while another
/// program holds `to` (antivirus and search indexers open new files
/// briefly; Azure kubelogin #71 is this failure).
pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    super::retry_busy(|| fs::rename(from, to), is_busy, std::thread::sleep)
}

fn is_busy(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(ERROR_SHARING_VIOLATION | ERROR_ACCESS_DENIED | ERROR_LOCK_VIOLATION)
    )
}

/// How messages write the profile directory.
pub const HOME_SHORT: &str = "%USERPROFILE%";

/// The profile directory: `%USERPROFILE%`, else the Known Folder. The
/// variables come first as in Go's os.UserHomeDir, os.UserConfigDir and
/// os.UserCacheDir, and so in snowplow-cli: the same paths as it, and
/// settable for tests.
pub fn home() -> Option<PathBuf> {
    from_env("USERPROFILE").or_else(|| Some(BaseDirs::new()?.home_dir().to_path_buf()))
}

/// `%LOCALAPPDATA%` (this machine only, as a cache should be), else the
/// Known Folder.
pub fn cache_home() -> Option<PathBuf> {
    from_env("LOCALAPPDATA").or_else(|| Some(BaseDirs::new()?.cache_dir().to_path_buf()))
}

/// An absolute path from `var`; anything else is ignored, as a relative
/// one would move with the working directory.
fn from_env(var: &str) -> Option<PathBuf> {
    Some(PathBuf::from(std::env::var_os(var)?)).filter(|p| p.is_absolute())
}

/// A started key command and every process it starts, gathered in a job
/// object, so that one that overruns its time is killed with its children
/// (`cmd /c` wrappers, shells). A process the command starts in the moment
/// before it joins the job could escape it: std cannot start it suspended.
/// Without a job (creating one failed), the command alone is killed.
pub struct CommandTree {
    job: Handle,
    pid: u32,
}

type Handle = *mut std::ffi::c_void;

/// The right to end a process, for [`OpenProcess`].
const PROCESS_TERMINATE: u32 = 0x0001;

#[link(name = "kernel32")]
unsafe extern "system" {
    fn CreateJobObjectW(attributes: *const std::ffi::c_void, name: *const u16) -> Handle;
    fn AssignProcessToJobObject(job: Handle, process: Handle) -> i32;
    fn TerminateJobObject(job: Handle, exit_code: u32) -> i32;
    fn OpenProcess(access: u32, inherit: i32, pid: u32) -> Handle;
    fn TerminateProcess(process: Handle, exit_code: u32) -> i32;
    fn CloseHandle(handle: Handle) -> i32;
}

impl CommandTree {
    pub fn new(child: &std::process::Child) -> CommandTree {
        use std::os::windows::io::AsRawHandle;
        let pid = child.id();
        // SAFETY: null attributes and name ask for a default, unnamed job;
        // the child's handle is valid while `child` lives; a job handle we
        // cannot use is closed here and never used again.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if !job.is_null() && AssignProcessToJobObject(job, child.as_raw_handle()) == 0 {
                CloseHandle(job);
                return CommandTree {
                    job: std::ptr::null_mut(),
                    pid,
                };
            }
            CommandTree { job, pid }
        }
    }

    /// Kills the job, and the command itself by its ID in case it could not
    /// join one (the thread that waits for it owns its `Child`).
    pub fn kill(&self) {
        // SAFETY: a job handle this value owns, not yet closed; a process
        // handle opened here and closed once.
        unsafe {
            if !self.job.is_null() {
                TerminateJobObject(self.job, 1);
            }
            let process = OpenProcess(PROCESS_TERMINATE, 0, self.pid);
            if !process.is_null() {
                TerminateProcess(process, 1);
                CloseHandle(process);
            }
        }
    }
}

impl Drop for CommandTree {
    fn drop(&mut self) {
        if !self.job.is_null() {
            // SAFETY: closed once, here; the processes go on (no
            // kill-on-close limit), as a command that finished in time has.
            unsafe { CloseHandle(self.job) };
        }
    }
}

/// Removes `link` if it is a build of this program (it holds `ours`).
pub fn remove_link(_exe: &Path, link: &Path, ours: &[u8]) -> io::Result<super::Unlink> {
    let Ok(existing) = fs::read(link) else {
        return Ok(super::Unlink::Nothing);
    };
    if !existing.windows(ours.len()).any(|w| w == ours) {
        return Ok(super::Unlink::Elsewhere);
    }
    fs::remove_file(link)?;
    Ok(super::Unlink::Removed)
}

/// Puts `exe` at `link` (a name ending `.exe`): a hard link, or a copy where
/// that fails (another volume; symlinks would need Developer Mode). A file
/// already there is replaced only if it is some version of this program,
/// told by containing `ours`, so that an upgrade refreshes old copies.
pub fn install_link(
    exe: &Path,
    _target: &Path,
    link: &Path,
    ours: &[u8],
) -> io::Result<super::Link> {
    if let Ok(existing) = fs::read(link) {
        if existing == fs::read(exe)? {
            return Ok(super::Link::AlreadyThere);
        }
        if !existing.windows(ours.len()).any(|w| w == ours) {
            return Ok(super::Link::Foreign);
        }
        fs::remove_file(link)?;
    }
    if fs::hard_link(exe, link).is_ok() {
        return Ok(super::Link::Made("linked"));
    }
    fs::copy(exe, link)?;
    Ok(super::Link::Made("copied"))
}

/// NTFS journals its metadata, and a directory cannot be flushed through
/// std on Windows: the file's own flush is what there is.
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
