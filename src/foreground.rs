//! Lending the terminal to a key command.
//!
//! A key command runs in a process group of its own, so that a timeout can
//! kill everything it started. But a process in a group that is not the
//! terminal's foreground is stopped (SIGTTIN) the moment it reads the
//! terminal, and some commands prompt there (`op` without biometrics, a
//! script that reads `/dev/tty`). So when this program runs in the
//! terminal's foreground, the command's group is made the foreground while
//! it runs, as a shell does for a job, and ours again afterwards.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The controlling terminal, while it is lent out; dropping it takes the
/// foreground back.
pub struct Foreground {
    tty: OwnedFd,
    ours: libc::pid_t,
}

impl Foreground {
    /// The controlling terminal, if this process's group is its foreground
    /// (an interactive run); `None` otherwise, and then nothing is lent.
    pub fn ours() -> Option<Foreground> {
        let flags = libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOCTTY;
        // SAFETY: opening a static NUL-terminated path.
        let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), flags) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let tty = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: getpgrp and tcgetpgrp take no pointers.
        let ours = unsafe { libc::getpgrp() };
        (unsafe { libc::tcgetpgrp(fd) } == ours).then_some(Foreground { tty, ours })
    }

    /// The terminal, for [`take_in_child`] between fork and exec.
    pub fn fd(&self) -> RawFd {
        self.tty.as_raw_fd()
    }

    /// Makes `group` (the command's) the foreground, from the parent. The
    /// child does the same before it runs, so whichever comes first, the
    /// command never reads the terminal from the background.
    pub fn lend_to(&self, group: u32) {
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
pub fn take_in_child(tty: RawFd) {
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
