//! Windows: no owners or modes reported, links opened as themselves, a
//! rename retried while another program briefly holds the file, helper
//! names installed as hard links or copies, and key commands gathered in a
//! job object (kernel32, declared here: the calls are few).
//!
//! Privacy comes from where the files live: under the user's profile
//! (`%USERPROFILE%`, `%APPDATA%`, `%LOCALAPPDATA%`), whose ACL new files
//! inherit and which by default admits only the user, SYSTEM and
//! Administrators. Checking a file's owner or ACL needs the Win32 security
//! API (GetSecurityInfo and friends), which std does not wrap; so it is not
//! checked ([`perms`] is `None`), and the README says so.

use std::ffi::CStr;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::time::Duration;

use directories::BaseDirs;

use super::{Link, Perms, Unlink};

// Files.

/// Opens a link itself rather than what it points to, so that a link in a
/// private file's place is seen (and refused as "not a regular file")
/// instead of followed.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// Another handle without sharing holds the file (antivirus, indexers).
const ERROR_SHARING_VIOLATION: i32 = 32;
/// What a rename over a file being scanned or deleted often gives instead.
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_LOCK_VIOLATION: i32 = 33;
/// What opening a missing file gives.
const ERROR_FILE_NOT_FOUND: i32 = 2;

/// Not known without the ACL: see the module comment.
pub fn perms(_meta: &fs::Metadata) -> Option<Perms> {
    None
}

/// (Opening never waits on Windows: no FIFOs at file paths.)
pub fn no_follow_no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

/// Opens `path` to read (Windows has no FIFOs to wait on, and std's open
/// already does what `follow` asks of Unix as far as it can).
pub fn open_read(path: &Path, follow: bool) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.read(true);
    if follow {
        no_wait(&mut options).open(path)
    } else {
        no_follow_no_wait(&mut options).open(path)
    }
}

/// Opening never waits on Windows (no FIFOs at file paths).
pub fn no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

/// No modes: the file inherits its directory's ACL.
pub fn create_mode(options: &mut OpenOptions, _mode: u32) -> &mut OpenOptions {
    options
}

/// A link opened as itself does not fail: it is refused by its type.
pub fn is_refused_link(_e: &io::Error) -> bool {
    false
}

/// Windows has no FIFOs or devices at file paths.
pub fn special_kind(_kind: &fs::FileType) -> &'static str {
    "not a regular file"
}

/// Creates `dir` and its missing parents (no modes: see the module comment).
pub fn create_dir_all(dir: &Path, _mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// No modes to set.
pub fn permissions(_mode: u32) -> Option<fs::Permissions> {
    None
}

/// No Unix groups: a group (`sink --group`) is refused, since nothing
/// would be done with it.
pub fn set_group(_file: &fs::File, _gid: u32) -> io::Result<()> {
    Err(io::Error::other("a group cannot be set on Windows"))
}

/// Whether a rename failed because another program holds the file for a
/// moment (antivirus and search indexers open new files briefly; Azure
/// kubelogin #71 is this failure): worth retrying.
pub fn is_busy(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(ERROR_SHARING_VIOLATION | ERROR_ACCESS_DENIED | ERROR_LOCK_VIOLATION)
    )
}

/// NTFS journals its metadata, and a directory cannot be flushed through
/// std on Windows: the file's own flush is what there is.
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// The error an open of a missing file gives, for a message about a file
/// that was looked for and not found.
pub fn file_not_found() -> io::Error {
    io::Error::from_raw_os_error(ERROR_FILE_NOT_FOUND)
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

/// Removes `link` if it is a build of this program (it holds `ours`).
pub fn remove_link(_exe: &Path, link: &Path, ours: &[u8]) -> io::Result<Unlink> {
    let Ok(existing) = fs::read(link) else {
        return Ok(Unlink::Nothing);
    };
    if !existing.windows(ours.len()).any(|w| w == ours) {
        return Ok(Unlink::Elsewhere);
    }
    fs::remove_file(link)?;
    Ok(Unlink::Removed)
}

/// Puts `exe` at `link` (a name ending `.exe`): a hard link, or a copy where
/// that fails (another volume; symlinks would need Developer Mode). A file
/// already there is replaced only if it is some version of this program,
/// told by containing `ours`, so that an upgrade refreshes old copies.
pub fn install_link(exe: &Path, _target: &Path, link: &Path, ours: &[u8]) -> io::Result<Link> {
    if let Ok(existing) = fs::read(link) {
        if existing == fs::read(exe)? {
            return Ok(Link::AlreadyThere);
        }
        if !existing.windows(ours.len()).any(|w| w == ours) {
            return Ok(Link::Foreign);
        }
        fs::remove_file(link)?;
    }
    if fs::hard_link(exe, link).is_ok() {
        return Ok(Link::Made("linked"));
    }
    fs::copy(exe, link)?;
    Ok(Link::Made("copied"))
}

/// Never asked: `sink` refuses `--group` here first.
#[allow(dead_code)]
pub fn may_use_group(_gid: u32) -> bool {
    false
}

/// No Unix groups on Windows (`sink --group` is refused before asking, so
/// nothing calls this: it keeps the two halves' signatures the same).
#[allow(dead_code)]
pub fn group_id(_name: &CStr) -> Option<u32> {
    None
}

// The process.

/// Windows writes no core files: nothing to do.
pub fn no_core_dumps() {}

// Running another program (`exec`).

/// Windows has no exec: runs `command` as a child, waits, and gives its
/// exit code whole (32 bits: 0xC000013A after Ctrl-C, 0xC0000005 for an
/// access violation), as `cargo run` does.
///
/// A Ctrl-C or Ctrl-Break at the console reaches every process attached to
/// it, the child and this one. While the child runs, this process ignores
/// them (a handler that says "handled"; not `SetConsoleCtrlHandler(NULL)`,
/// whose ignoring the child would inherit), so that the child decides what
/// they do and its exit code is the one returned, rather than this process
/// dying first and leaving it behind. Closing the console still ends both.
pub fn become_or_run(command: &mut Command) -> io::Result<u32> {
    // Without the handler (it could not be added) a Ctrl-C ends this
    // process as before: still better than not running the command.
    let _handled = CtrlHandler::add(leave_to_the_child);
    let status = command.status()?;
    Ok(status.code().map_or(1, i32::cast_unsigned))
}

/// The console control handler while `exec`'s child runs: every event is
/// the child's to act on.
extern "system" fn leave_to_the_child(_event: u32) -> i32 {
    TRUE
}

const TRUE: i32 = 1;
const FALSE: i32 = 0;

/// A console control handler (`SetConsoleCtrlHandler`), called on a thread
/// of its own for Ctrl-C, Ctrl-Break and the console's closing, most
/// recently added first; one that returns FALSE passes the event on, in the
/// end to the default handler, which ends the process.
type CtrlFn = unsafe extern "system" fn(event: u32) -> i32;

/// A control handler, in the process's list while this lives.
struct CtrlHandler(CtrlFn);

impl CtrlHandler {
    fn add(handler: CtrlFn) -> Option<CtrlHandler> {
        // SAFETY: a function that lives as long as the program and may be
        // called on any thread (it only reads atomics or returns).
        let added = unsafe { SetConsoleCtrlHandler(Some(handler), TRUE) } != 0;
        added.then_some(CtrlHandler(handler))
    }
}

impl Drop for CtrlHandler {
    fn drop(&mut self) {
        // SAFETY: removes the handler this value added, once.
        unsafe { SetConsoleCtrlHandler(Some(self.0), FALSE) };
    }
}

// Child processes (key commands).

/// A started command and every process it starts, gathered in a job
/// object, so that one that overruns its time is killed with its children
/// (`cmd /c` wrappers, shells). A process the command starts in the moment
/// before it joins the job could escape it: std cannot start it suspended.
/// Without a job (creating one failed), the command alone is killed.
pub struct Tree {
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
    fn SetConsoleCtrlHandler(handler: Option<CtrlFn>, add: i32) -> i32;
    fn GetStdHandle(which: u32) -> Handle;
    fn GetConsoleMode(console: Handle, mode: *mut u32) -> i32;
    fn SetConsoleMode(console: Handle, mode: u32) -> i32;
}

/// Starts `command` and puts it in a job of its own. (No terminal to hand
/// over: a console is shared by every process attached to it.)
pub fn spawn_apart(command: &mut Command) -> io::Result<(Child, Tree)> {
    use std::os::windows::io::AsRawHandle;
    let child = command.spawn()?;
    let pid = child.id();
    // SAFETY: null attributes and name ask for a default, unnamed job;
    // the child's handle is valid while `child` lives; a job handle we
    // cannot use is closed here and never used again.
    let job = unsafe {
        let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        if !job.is_null() && AssignProcessToJobObject(job, child.as_raw_handle()) == 0 {
            CloseHandle(job);
            std::ptr::null_mut()
        } else {
            job
        }
    };
    Ok((child, Tree { job, pid }))
}

impl Tree {
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

impl Drop for Tree {
    fn drop(&mut self) {
        if !self.job.is_null() {
            // SAFETY: closed once, here; the processes go on (no
            // kill-on-close limit), as a command that finished in time has.
            unsafe { CloseHandle(self.job) };
        }
    }
}

// Signals.

/// No handler: a stop (Ctrl-C, Ctrl-Break, a service stop) ends the
/// process where it is, which leaves a token file whole anyway (it is only
/// ever replaced by rename).
pub struct Signals {}

impl Signals {
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {})
    }

    /// Nothing can end the wait early.
    pub fn wait(&self, timeout: Duration) {
        std::thread::sleep(timeout);
    }

    pub fn received(&self) -> Option<&'static str> {
        None
    }
}

// Windows Credential Manager: generic credentials through advapi32's
// CredWriteW, CredReadW and CredDeleteW (no bindings crate).

#[repr(C)]
struct Credential {
    flags: u32,
    kind: u32,
    target_name: *mut u16,
    comment: *mut u16,
    last_written: [u32; 2],
    blob_size: u32,
    blob: *mut u8,
    persist: u32,
    attribute_count: u32,
    attributes: *mut std::ffi::c_void,
    target_alias: *mut u16,
    user_name: *mut u16,
}

const CRED_TYPE_GENERIC: u32 = 1;
/// Kept for this user on this machine: not roamed.
const CRED_PERSIST_LOCAL_MACHINE: u32 = 2;
const ERROR_NOT_FOUND: i32 = 1168;

#[link(name = "advapi32")]
unsafe extern "system" {
    fn CredWriteW(credential: *const Credential, flags: u32) -> i32;
    fn CredReadW(target: *const u16, kind: u32, flags: u32, out: *mut *mut Credential) -> i32;
    fn CredDeleteW(target: *const u16, kind: u32, flags: u32) -> i32;
    fn CredFree(buffer: *mut std::ffi::c_void);
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Stores `blob` as the generic credential `target` (user name `user`),
/// replacing one of that name.
pub fn credential_write(target: &str, user: &str, blob: &[u8]) -> io::Result<()> {
    let mut target = wide(target);
    let mut user = wide(user);
    let mut blob = blob.to_vec();
    let blob_size = u32::try_from(blob.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too large"))?;
    let credential = Credential {
        flags: 0,
        kind: CRED_TYPE_GENERIC,
        target_name: target.as_mut_ptr(),
        comment: std::ptr::null_mut(),
        last_written: [0, 0],
        blob_size,
        blob: blob.as_mut_ptr(),
        persist: CRED_PERSIST_LOCAL_MACHINE,
        attribute_count: 0,
        attributes: std::ptr::null_mut(),
        target_alias: std::ptr::null_mut(),
        user_name: user.as_mut_ptr(),
    };
    // SAFETY: every pointer in `credential` points into a buffer that
    // lives until the call returns; CredWriteW copies what it keeps.
    if unsafe { CredWriteW(&credential, 0) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The blob of the generic credential `target`, if there is one.
pub fn credential_read(target: &str) -> io::Result<Option<Vec<u8>>> {
    let target = wide(target);
    let mut found: *mut Credential = std::ptr::null_mut();
    // SAFETY: a NUL-terminated name and an out pointer, freed below.
    if unsafe { CredReadW(target.as_ptr(), CRED_TYPE_GENERIC, 0, &mut found) } == 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(ERROR_NOT_FOUND) => Ok(None),
            _ => Err(e),
        };
    }
    // SAFETY: CredReadW succeeded, so `found` points at a credential whose
    // blob (when not null) holds blob_size bytes; it is freed once copied
    // and not used after.
    let bytes = unsafe {
        let credential = &*found;
        let bytes = match credential.blob.is_null() {
            true => Vec::new(),
            false => {
                std::slice::from_raw_parts(credential.blob, credential.blob_size as usize).to_vec()
            }
        };
        CredFree(found.cast());
        bytes
    };
    Ok(Some(bytes))
}

/// Deletes the generic credential `target`: false if there was none.
pub fn credential_delete(target: &str) -> io::Result<bool> {
    let target = wide(target);
    // SAFETY: a NUL-terminated name, valid for the call.
    if unsafe { CredDeleteW(target.as_ptr(), CRED_TYPE_GENERIC, 0) } == 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(ERROR_NOT_FOUND) => Ok(false),
            _ => Err(e),
        };
    }
    Ok(true)
}

// Reading a secret from the console.

/// `STD_INPUT_HANDLE`, (DWORD)-10.
const STD_INPUT_HANDLE: u32 = (-10_i32).cast_unsigned();
/// The console echoes what is typed (only with line input, which stays on).
const ENABLE_ECHO_INPUT: u32 = 0x0004;

/// The console input and the mode to put back if the process is stopped
/// (Ctrl-C, Ctrl-Break) while echo is off; null when it is on.
static ECHO_OFF_ON: AtomicPtr<std::ffi::c_void> = AtomicPtr::new(std::ptr::null_mut());
static ECHO_SAVED_MODE: AtomicU32 = AtomicU32::new(0);

/// Calls `read` with the console's echo off, and puts the console's mode
/// back afterwards whatever happens: when `read` returns (or unwinds), and
/// when a Ctrl-C ends the process meanwhile (a control handler restores it,
/// then lets the default handler end the process). Echo is off for the
/// Enter key too, so a line break is written to stderr after `read`. Where
/// standard input is not a console (a pipe, a file, or mintty's pipes in
/// Git Bash), it is an `Unsupported` error and `read` is not called.
pub fn without_echo<T>(read: impl FnOnce() -> T) -> io::Result<T> {
    use std::io::Write;
    // SAFETY: GetStdHandle has no preconditions.
    let console = unsafe { GetStdHandle(STD_INPUT_HANDLE) };
    let mut saved = 0;
    // SAFETY: GetConsoleMode takes any handle (null or invalid ones fail)
    // and fills a u32.
    if unsafe { GetConsoleMode(console, &mut saved) } == 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "standard input is not a Windows console",
        ));
    }
    ECHO_SAVED_MODE.store(saved, Ordering::SeqCst);
    ECHO_OFF_ON.store(console, Ordering::SeqCst);
    let restore = EchoOff {
        console,
        saved,
        _handler: CtrlHandler::add(restore_echo),
    };
    // SAFETY: a console input handle, and the mode it gave less echo.
    if unsafe { SetConsoleMode(console, saved & !ENABLE_ECHO_INPUT) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let value = read();
    drop(restore);
    let _ = writeln!(io::stderr());
    Ok(value)
}

/// Puts the console's mode back when dropped.
struct EchoOff {
    console: Handle,
    saved: u32,
    _handler: Option<CtrlHandler>,
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        ECHO_OFF_ON.store(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: the console input handle, and the mode it had before.
        unsafe { SetConsoleMode(self.console, self.saved) };
    }
}

/// The control handler while echo is off: turns it back on, and passes the
/// event on (FALSE) so that it ends the process as it would have.
extern "system" fn restore_echo(_event: u32) -> i32 {
    let console = ECHO_OFF_ON.load(Ordering::SeqCst);
    if !console.is_null() {
        // SAFETY: the console input handle `without_echo` set echo off on,
        // and the mode it had before.
        unsafe { SetConsoleMode(console, ECHO_SAVED_MODE.load(Ordering::SeqCst)) };
    }
    FALSE
}
