//! Unix (Linux and macOS): std's Unix extensions where they suffice, libc
//! for the rest (the effective user, groups, process groups and the
//! terminal's foreground, signal handlers, core dumps).

use std::ffi::CStr;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use super::{Link, Perms, Unlink};

// Files.

/// The effective user ID: files we trust must be owned by it. Asked once;
/// on Linux from the auxiliary vector the kernel gave the program (no
/// system call: the program never changes its user). D-Bus authenticates
/// us as it too.
pub fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    #[cfg(target_os = "linux")]
    // SAFETY: getauxval has no preconditions; AT_EUID is always present.
    let ask = || unsafe { libc::getauxval(libc::AT_EUID) as u32 };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ask = || unsafe { libc::geteuid() };
    *EUID.get_or_init(ask)
}

/// The owner and mode bits of `meta`.
pub fn perms(meta: &fs::Metadata) -> Option<Perms> {
    Some(Perms {
        uid: meta.uid(),
        mode: meta.mode() & 0o7777,
        mine: meta.uid() == euid(),
        links: meta.nlink(),
    })
}

/// A symlink in the file's place makes the open fail (`ELOOP`), and a
/// FIFO planted there cannot hang us. One call, as `custom_flags` replaces
/// the flags rather than adding to them.
pub fn no_follow_no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
}

/// Opens `path` to read, without blocking on a FIFO and, unless `follow`,
/// refusing a symlink (`ELOOP`): what [`no_follow_no_wait`] and [`no_wait`]
/// ask of std's `open`, in one system call. musl's `open` adds an `fcntl`
/// to set close-on-exec again for old kernels; `openat` does not, and every
/// kernel this runs on honours `O_CLOEXEC`.
pub fn open_read(path: &Path, follow: bool) -> io::Result<fs::File> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut flags = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    loop {
        // SAFETY: a valid NUL-terminated path; no mode is read without O_CREAT.
        let fd = unsafe { libc::openat(libc::AT_FDCWD, path.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: a new descriptor that nothing else owns.
            return Ok(unsafe { fs::File::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Non-blocking, so a FIFO planted at a file's path cannot hang us.
pub fn no_wait(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NONBLOCK)
}

/// A file this open creates gets `mode` (less the umask).
pub fn create_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    options.mode(mode)
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

/// Creates `dir` and its missing parents with `mode`.
pub fn create_dir_all(dir: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(dir)
}

/// Permissions of exactly `mode`, which `set_permissions` applies without
/// the umask.
pub fn permissions(mode: u32) -> Option<fs::Permissions> {
    Some(fs::Permissions::from_mode(mode))
}

/// Gives `file` the group `gid` (which may clear mode bits: set them after).
pub fn set_group(file: &fs::File, gid: u32) -> io::Result<()> {
    std::os::unix::fs::fchown(file, None, Some(gid))
}

/// Never: `rename(2)` replaces atomically, even over a file others have open.
pub fn is_busy(_e: &io::Error) -> bool {
    false
}

/// Makes a rename in `dir` survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The error an open of a missing file gives, for a message about a file
/// that was looked for and not found.
pub fn file_not_found() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOENT)
}

/// How messages write the home directory.
pub const HOME_SHORT: &str = "~";

/// The home directory: `$HOME`, else the password database's entry.
///
/// On Linux `$HOME` is read here, as `directories` reads it (set and not
/// empty), and only without it is `directories` asked (for the password
/// database): `BaseDirs::new` works out a dozen directories from as many
/// variables, 6,000 instructions per call on a cache hit (issue 20).
pub fn home() -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// The OS cache directory: `$XDG_CACHE_HOME` or `~/.cache` on Linux,
/// `~/Library/Caches` on macOS.
pub fn cache_home() -> Option<PathBuf> {
    // `directories`' rule on Linux: an absolute `$XDG_CACHE_HOME`, else
    // `.cache` in the home (see `home` for why it is not asked).
    #[cfg(target_os = "linux")]
    return home().map(|home| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| home.join(".cache"))
    });
    #[cfg(not(target_os = "linux"))]
    directories::BaseDirs::new().map(|d| d.cache_dir().to_path_buf())
}

/// Whether `link` is a symbolic link to this binary.
fn links_to(link: &Path, exe: &Path) -> bool {
    fs::read_link(link).is_ok_and(|t| t == exe || t.canonicalize().is_ok_and(|t| t == exe))
}

/// Removes `link` if it is a symlink to `exe`.
pub fn remove_link(exe: &Path, link: &Path, _ours: &[u8]) -> io::Result<Unlink> {
    if !fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(Unlink::Nothing);
    }
    if !links_to(link, exe) {
        return Ok(Unlink::Elsewhere);
    }
    fs::remove_file(link)?;
    Ok(Unlink::Removed)
}

/// Makes `link` a symlink to `target` (the path `exe` was invoked by). A
/// link that already leads to `exe` is kept; anything else there (a file,
/// a link to another program) is left alone, as `remove_link` leaves it.
pub fn install_link(exe: &Path, target: &Path, link: &Path, _ours: &[u8]) -> io::Result<Link> {
    match fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() && links_to(link, exe) => {
            return Ok(Link::AlreadyThere);
        }
        Ok(_) => return Ok(Link::Foreign),
        Err(_) => {}
    }
    std::os::unix::fs::symlink(target, link)?;
    Ok(Link::Made("linked"))
}

/// The ID of the group `name` in the group database, if it has one.
pub fn group_id(name: &CStr) -> Option<u32> {
    // SAFETY: getgrnam takes a NUL-terminated name; the gid is copied out
    // before any other call could reuse its static buffer.
    unsafe {
        let entry = libc::getgrnam(name.as_ptr());
        (!entry.is_null()).then(|| (*entry).gr_gid)
    }
}

/// Whether files may be given group `gid`: root may give any group, a user
/// only one of its own (the effective group or a supplementary one).
pub fn may_use_group(gid: u32) -> bool {
    // SAFETY: getegid has no preconditions and cannot fail.
    if euid() == 0 || unsafe { libc::getegid() } == gid {
        return true;
    }
    // SAFETY: with a size of 0, getgroups(2) only counts the groups.
    let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    let mut groups = vec![0 as libc::gid_t; count.max(0) as usize];
    // SAFETY: `groups` has room for `count` entries, the size passed.
    let got = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
    groups.truncate(got.max(0) as usize);
    groups.contains(&gid)
}

// The process.

/// The API key and tokens live in this process's memory: no core file may
/// hold them (a crash in a git repository would leave one there), and no
/// other process of the same user may read them through ptrace or
/// /proc/PID/mem. A zero core limit covers every Unix; on Linux the process
/// is also made non-dumpable, which also stops core files piped to a
/// handler. macOS has no per-process equivalent short of
/// `PT_DENY_ATTACH`, which would also break debuggers: the limit is all.
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads a valid rlimit; lowering a limit cannot fail
    // for lack of privilege, and if it fails anyway we go on.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    // SAFETY: PR_SET_DUMPABLE with 0 takes no pointers.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
    };
}

// Start-up (the binary's own C `main`, Linux).

/// What std's `main` wrapper does that this program relies on, done by the
/// binary's own `main` instead (the wrapper's other step, a signal stack
/// for reporting stack overflows, costs a hit 11 system calls): fds 0-2
/// are made valid, a closed one reopened on /dev/null, so that no file we
/// open takes a standard stream's place and receives output; and SIGPIPE
/// is ignored, so a reader that hangs up is a write error we report rather
/// than a silent death. Returns the arguments.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings, as the C
/// runtime passes them to `main`.
#[cfg(target_os = "linux")]
pub unsafe fn start(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: poll reads and writes three valid pollfd entries.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    for pollfd in fds {
        let closed = if polled >= 0 {
            pollfd.revents & libc::POLLNVAL != 0
        } else {
            // SAFETY: F_GETFD takes no pointer; it fails with EBADF on a closed fd.
            unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) == -1 }
        };
        // SAFETY: opening a static NUL-terminated path; the lowest free
        // fd, the closed standard one, is the one it takes.
        if closed && unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } == -1 {
            std::process::abort();
        }
    }
    // SAFETY: SIG_IGN is a valid disposition for SIGPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        .map(|i| {
            // SAFETY: the caller promises `argc` valid C strings in `argv`.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect()
}

/// Ends the process with `code` at once (`_exit`), for `main.rs`'s C
/// `main` after [`start`] and the run: nothing is left for the C runtime's
/// `exit` to do (the run flushed its output; std registers no `atexit`
/// handlers and C stdio is unused), and its extra steps (a stdio flush, the
/// `.fini` functions) touch code pages a hit otherwise never does: about
/// 2 % of a static hit (docs/speed.md).
#[cfg(target_os = "linux")]
pub fn finish(code: libc::c_int) -> ! {
    // SAFETY: _exit takes no pointer and does not return.
    unsafe { libc::_exit(code) }
}

// Becoming another program (`exec`).

/// Replaces this process with `command` (execve): its exit status, signals
/// and terminal are then its own. Returns only if it could not start.
pub fn become_or_run(command: &mut Command) -> io::Result<u32> {
    Err(command.exec())
}

// Child processes (key commands).

/// A started command and whatever it started, to kill if it overruns its
/// time: the process group it leads. While it lives, the command's group
/// holds the terminal's foreground (when we held it), so that a password
/// manager's prompt still works; dropping it takes the foreground back.
pub struct Tree {
    group: u32,
    _foreground: Option<Foreground>,
}

impl Tree {
    /// Kills the command and everything in its process group.
    pub fn kill(&self) {
        if let Ok(pgid) = libc::pid_t::try_from(self.group) {
            // SAFETY: kill has no memory-safety preconditions; a negative
            // pid names the process group the command leads.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

/// Starts `command` in a process group of its own, so that [`Tree::kill`]
/// reaches whatever it starts. A process in a group that is not the
/// terminal's foreground is stopped (SIGTTIN) the moment it reads the
/// terminal, and some commands prompt there (`op` without biometrics, a
/// script that reads `/dev/tty`); so when we run in the terminal's
/// foreground, the command's group is made the foreground while it runs, as
/// a shell does for a job, and ours again when the [`Tree`] is dropped.
pub fn spawn_apart(command: &mut Command) -> io::Result<(Child, Tree)> {
    let foreground = Foreground::ours();
    if let Some(tty) = foreground.as_ref().map(Foreground::fd) {
        // SAFETY: the hook runs between fork and exec and makes only
        // async-signal-safe calls (getpgrp, signal, tcsetpgrp).
        unsafe {
            command.pre_exec(move || {
                take_in_child(tty);
                Ok(())
            })
        };
    }
    command.process_group(0);
    let child = command.spawn()?;
    // The child takes the foreground too before it runs its program, so
    // whichever comes first, it never reads the terminal from the
    // background.
    if let Some(foreground) = &foreground {
        foreground.lend_to(child.id());
    }
    let tree = Tree {
        group: child.id(),
        _foreground: foreground,
    };
    Ok((child, tree))
}

/// The controlling terminal, while it is lent out; dropping it takes the
/// foreground back.
struct Foreground {
    tty: OwnedFd,
    ours: libc::pid_t,
}

impl Foreground {
    /// The controlling terminal, if this process's group is its foreground
    /// (an interactive run); `None` otherwise, and then nothing is lent.
    fn ours() -> Option<Foreground> {
        let flags = libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOCTTY;
        // SAFETY: opening a static NUL-terminated path.
        let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), flags) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let tty = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: getpgrp and tcgetpgrp take no pointers.
        let (ours, foreground) = unsafe { (libc::getpgrp(), libc::tcgetpgrp(fd)) };
        (foreground == ours).then_some(Foreground { tty, ours })
    }

    /// The terminal, for [`take_in_child`] between fork and exec.
    fn fd(&self) -> RawFd {
        self.tty.as_raw_fd()
    }

    /// Makes `group` (the command's) the foreground, from the parent.
    fn lend_to(&self, group: u32) {
        if let Ok(group) = libc::pid_t::try_from(group) {
            set_foreground(self.fd(), group);
        }
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        set_foreground(self.tty.as_raw_fd(), self.ours);
    }
}

/// In the child, between fork and exec (only async-signal-safe calls):
/// makes its own, new process group the terminal's foreground.
fn take_in_child(tty: RawFd) {
    // SAFETY: getpgrp takes no pointers and is async-signal-safe.
    set_foreground(tty, unsafe { libc::getpgrp() });
}

/// `tcsetpgrp`, with SIGTTOU ignored for the call: a process outside the
/// foreground may otherwise not change it (it would be stopped).
fn set_foreground(tty: RawFd, group: libc::pid_t) {
    // SAFETY: signal and tcsetpgrp take no pointers we own and are
    // async-signal-safe; the old disposition is put back at once.
    unsafe {
        let old = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        libc::tcsetpgrp(tty, group);
        libc::signal(libc::SIGTTOU, old);
    }
}

// Signals.

/// The SIGTERM and SIGINT handlers, by the self-pipe trick: a handler may
/// do almost nothing safely, so it only notes the signal and writes a byte
/// to a pipe, and [`Signals::wait`] polls that pipe.
pub struct Signals {
    read: OwnedFd,
}

mod handler {
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The pipe's write end, for the handler; -1 until installed.
    pub static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
    /// The last signal received, 0 for none.
    pub static RECEIVED: AtomicI32 = AtomicI32::new(0);

    pub extern "C" fn on_signal(signal: libc::c_int) {
        RECEIVED.store(signal, Ordering::SeqCst);
        let fd = WRITE_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; the byte outlives the
            // call. A full pipe already holds a wake-up, so failure is fine.
            unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
        }
    }
}

/// Marks `fd` close-on-exec and non-blocking (pipe2 is not on macOS).
fn configure(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with valid commands.
    let ok = unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) != -1
            && libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) != -1
    };
    if ok {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Signals {
    /// Installs the SIGTERM and SIGINT handlers. Once only per process.
    pub fn install() -> io::Result<Signals> {
        use std::sync::atomic::Ordering;
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe(2) just returned these two descriptors to us alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), fds[1]) };
        configure(fds[0])?;
        configure(write)?;
        // The write end lives as long as the process: the handler may run
        // at any moment.
        handler::WRITE_FD.store(write, Ordering::SeqCst);
        for signal in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: a zeroed sigaction with a valid handler address and
            // an empty mask is a valid argument to sigaction(2).
            let failed = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler::on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut()) == -1
            };
            if failed {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Signals { read })
    }

    /// Returns after `timeout` (rounded up to a millisecond), or sooner once
    /// a signal has come, or for no reason (EINTR): callers loop.
    pub fn wait(&self, timeout: Duration) {
        let mut pfd = libc::pollfd {
            fd: self.read.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd; poll(2) returns at the timeout, on the
        // handler's byte, or with EINTR.
        unsafe { libc::poll(&mut pfd, 1, ms) };
    }

    /// The name of the last signal received, if one has been.
    pub fn received(&self) -> Option<&'static str> {
        use std::sync::atomic::Ordering;
        match handler::RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            libc::SIGTERM => Some("SIGTERM"),
            libc::SIGINT => Some("SIGINT"),
            _ => Some("a signal"),
        }
    }
}

/// Sends this process SIGTERM, as Kubernetes would.
#[cfg(test)]
pub fn raise_sigterm() {
    // SAFETY: raise has no memory-safety preconditions; the handler
    // installed by `Signals::install` only records the signal.
    unsafe { libc::raise(libc::SIGTERM) };
}

// The kernel keyring (keyutils): two system calls, no library, so the
// static build has it too. The keychain decides what to store and where.

/// The user keyring, `@u`.
#[cfg(target_os = "linux")]
const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
/// This process's own keyring (made on first use, gone at exit).
#[cfg(target_os = "linux")]
const KEY_SPEC_PROCESS_KEYRING: libc::c_long = -2;
#[cfg(target_os = "linux")]
const KEYCTL_LINK: libc::c_long = 8;
#[cfg(target_os = "linux")]
const KEYCTL_SETPERM: libc::c_long = 5;
#[cfg(target_os = "linux")]
const KEYCTL_UNLINK: libc::c_long = 9;
#[cfg(target_os = "linux")]
const KEYCTL_SEARCH: libc::c_long = 10;
#[cfg(target_os = "linux")]
const KEYCTL_READ: libc::c_long = 11;
/// Linux 3.5 and later.
#[cfg(target_os = "linux")]
const KEYCTL_INVALIDATE: libc::c_long = 21;

/// A key's serial number in the kernel keyring.
#[cfg(target_os = "linux")]
pub type KeySerial = libc::c_long;

/// Why the kernel refused a keyring call, as far as a caller's advice goes.
#[cfg(target_os = "linux")]
pub enum KeyringRefusal {
    /// keyctl is not allowed here (seccomp in containers, no keyrings).
    Refused,
    /// The key is there, but its permissions deny this process (EACCES).
    Denied,
    /// This user's key quota is full.
    Quota,
    Other,
}

/// Sorts a keyring error for the caller's advice.
#[cfg(target_os = "linux")]
pub fn keyring_refusal(e: &io::Error) -> KeyringRefusal {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::ENOSYS) => KeyringRefusal::Refused,
        Some(libc::EACCES) => KeyringRefusal::Denied,
        Some(libc::EDQUOT) => KeyringRefusal::Quota,
        _ => KeyringRefusal::Other,
    }
}

/// No such key, or one that has expired or been revoked: none to use.
#[cfg(target_os = "linux")]
fn key_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED)
    )
}

/// Adds the `user` key `desc` with `payload` to the user keyring, with the
/// permissions `perm`, in place of any key of that name there.
///
/// The key is made in this process's own keyring, which the process
/// possesses, so that setting its permissions is allowed; then it is linked
/// into `@u`. Made in `@u` directly, a session that does not link `@u`
/// (`keyctl session -`, systemd services, some container runtimes) could
/// not set the permissions of the new key, and would leave it in `@u`
/// with the kernel's defaults, unreadable and undeletable to itself. Should
/// the link fail, the key goes with the process keyring when we exit.
#[cfg(target_os = "linux")]
pub fn user_key_add(desc: &CStr, payload: &[u8], perm: u32) -> io::Result<KeySerial> {
    // SAFETY: NUL-terminated strings and a buffer with its length, all
    // valid for the call; the kernel copies them.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            desc.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            KEY_SPEC_PROCESS_KEYRING,
        )
    };
    if serial < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain integer arguments.
    if unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_SETPERM, serial, perm) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain integer arguments. Linking displaces a key of the same
    // type and description already in `@u`.
    let linked =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_LINK, serial, KEY_SPEC_USER_KEYRING) };
    if linked < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(serial)
}

/// The `user` key `desc` in the user keyring, if there is one.
#[cfg(target_os = "linux")]
pub fn user_key_search(desc: &CStr) -> io::Result<Option<KeySerial>> {
    // SAFETY: NUL-terminated strings; 0 links the result to no keyring.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_USER_KEYRING,
            c"user".as_ptr(),
            desc.as_ptr(),
            0 as libc::c_long,
        )
    };
    if serial < 0 {
        let e = io::Error::last_os_error();
        return if key_gone(&e) { Ok(None) } else { Err(e) };
    }
    Ok(Some(serial))
}

/// The payload of key `serial`, or `None` if it went away meanwhile.
#[cfg(target_os = "linux")]
pub fn key_read(serial: KeySerial) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: the buffer and its length; the kernel writes at most
        // that many bytes and returns the payload's full length.
        let n = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_READ,
                serial,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if key_gone(&e) { Ok(None) } else { Err(e) };
        }
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n <= buf.len() {
            buf.truncate(n);
            return Ok(Some(buf));
        }
        buf.resize(n, 0);
    }
}

/// Destroys key `serial` (invalidates it: gone from every keyring that
/// links it, not only `@u`, where another process may have linked it);
/// false if it was gone. Kernels before 3.5 lack invalidation: there it is
/// unlinked from the user keyring.
#[cfg(target_os = "linux")]
pub fn user_key_delete(serial: KeySerial) -> io::Result<bool> {
    // SAFETY: plain integer arguments.
    let done = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, serial) };
    if done == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // An old kernel that has no such operation.
        Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => {}
        _ if key_gone(&e) => return Ok(false),
        _ => return Err(e),
    }
    // SAFETY: plain integer arguments.
    let done = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_UNLINK,
            serial,
            KEY_SPEC_USER_KEYRING,
        )
    };
    if done < 0 {
        let e = io::Error::last_os_error();
        return if key_gone(&e) { Ok(false) } else { Err(e) };
    }
    Ok(true)
}

// Reading a secret from the terminal.

/// Runs `read` with the terminal on stdin not echoing what is typed (the
/// newline still shows), and restores its settings whatever `read` does,
/// and also when Ctrl-C, a hang-up or SIGTERM ends us at the prompt: a
/// terminal left without echo would hide what its user types next.
pub fn without_echo<T>(read: impl FnOnce() -> T) -> io::Result<T> {
    use std::sync::atomic::Ordering;
    let fd = io::stdin().as_raw_fd();
    // SAFETY: termios is plain data, zero is a valid value, and tcgetattr
    // fills it.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a termios to fill.
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Leaked on purpose: a handler may read it at any moment until the
    // process ends, and it is asked for once per process.
    echo::SAVED.store(Box::into_raw(Box::new(saved)), Ordering::SeqCst);
    let previous = echo::restore_on_signals()?;
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: a valid descriptor and termios.
    let value = if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(read())
    };
    // SAFETY: as above; the settings read before are put back.
    unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
    echo::put_back(previous);
    value
}

/// What puts the terminal's echo back if a signal ends us while it is off.
mod echo {
    use std::io;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// The terminal's settings before echo was turned off.
    pub static SAVED: AtomicPtr<libc::termios> = AtomicPtr::new(std::ptr::null_mut());

    /// The signals that end a process at a prompt.
    const ENDING: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// Restores the settings, then ends the process by the same signal, as
    /// it would have ended without us (its exit status says so).
    extern "C" fn restore_and_end(signal: libc::c_int) {
        let saved = SAVED.load(Ordering::SeqCst);
        if !saved.is_null() {
            // SAFETY: tcsetattr(3) is async-signal-safe; `saved` points to
            // a leaked, never-freed termios.
            unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved) };
        }
        // SAFETY: signal(2) and raise(3) are async-signal-safe; with the
        // default action back, the raised signal ends the process.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    /// Installs the handler for [`ENDING`] (one ignored stays ignored),
    /// returning the actions it replaced.
    pub fn restore_on_signals() -> io::Result<Vec<(libc::c_int, libc::sigaction)>> {
        let mut previous = Vec::new();
        for signal in ENDING {
            // SAFETY: a zeroed sigaction with a valid handler address and
            // an empty mask is a valid argument to sigaction(2), which
            // fills `old` with the action it replaces.
            let (failed, old) = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = restore_and_end as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(signal, &action, &mut old) == -1, old)
            };
            if failed {
                let e = io::Error::last_os_error();
                put_back(previous);
                return Err(e);
            }
            if old.sa_sigaction == libc::SIG_IGN {
                // SAFETY: `old` is the action sigaction(2) just gave us.
                unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            }
            previous.push((signal, old));
        }
        Ok(previous)
    }

    /// Puts back the actions [`restore_on_signals`] replaced.
    pub fn put_back(previous: Vec<(libc::c_int, libc::sigaction)>) {
        for (signal, old) in previous {
            // SAFETY: `old` is an action sigaction(2) gave us for `signal`.
            unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
        }
    }
}
