//! Stopping the long-running `sink` at once and cleanly on SIGTERM (what
//! Kubernetes and Docker send) or SIGINT (Ctrl-C).
//!
//! The sink spends its life waiting for the next refresh. A signal handler
//! may do almost nothing safely, so it only notes the signal and writes a
//! byte to a pipe (the self-pipe trick); every wait is a `poll` on that pipe
//! with the wait's length as its timeout, so a stop request ends the wait at
//! once, and the sink exits 0 between two steps, never in the middle of
//! writing a file.
//!
//! On other platforms there is no such handler: a stop ends the process
//! where it is, which leaves the token file whole anyway (it is only ever
//! replaced by rename).

use std::io;
use std::time::Duration;

/// Ends waits when the process is asked to stop.
pub struct Stop {
    #[cfg(unix)]
    read: std::os::fd::OwnedFd,
}

#[cfg(unix)]
mod unix {
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

    /// Marks `fd` close-on-exec and non-blocking (pipe2 is not on macOS).
    pub fn configure(fd: libc::c_int) -> std::io::Result<()> {
        // SAFETY: fcntl on a descriptor we own, with valid commands.
        let ok = unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) != -1
                && libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) != -1
        };
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    pub fn name(signal: libc::c_int) -> &'static str {
        match signal {
            libc::SIGTERM => "SIGTERM",
            libc::SIGINT => "SIGINT",
            _ => "a signal",
        }
    }
}

#[cfg(unix)]
impl Stop {
    /// Installs the SIGTERM and SIGINT handlers. Once only per process.
    pub fn install() -> io::Result<Stop> {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::sync::atomic::Ordering;
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe(2) just returned these two descriptors to us alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), fds[1]) };
        unix::configure(fds[0])?;
        unix::configure(write)?;
        // The write end lives as long as the process: the handler may run
        // at any moment.
        unix::WRITE_FD.store(write, Ordering::SeqCst);
        for signal in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: a zeroed sigaction with a valid handler address and
            // an empty mask is a valid argument to sigaction(2).
            let failed = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = unix::on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut()) == -1
            };
            if failed {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Stop { read })
    }

    /// Waits `timeout`, or less if a stop is requested; returns the signal's
    /// name if one was.
    pub fn wait(&self, timeout: Duration) -> Option<&'static str> {
        use std::os::fd::AsRawFd;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(name) = self.requested() {
                return Some(name);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut pfd = libc::pollfd {
                fd: self.read.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // Round up, so a wait never ends just before its deadline.
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
            // SAFETY: one valid pollfd; poll(2) returns at the timeout, on
            // the handler's byte, or with EINTR, all handled by looping.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        }
    }

    /// The signal that asked us to stop, if one has.
    pub fn requested(&self) -> Option<&'static str> {
        use std::sync::atomic::Ordering;
        match unix::RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(unix::name(signal)),
        }
    }
}

#[cfg(not(unix))]
impl Stop {
    /// No handler: see the module's documentation.
    pub fn install() -> io::Result<Stop> {
        Ok(Stop {})
    }

    pub fn wait(&self, timeout: Duration) -> Option<&'static str> {
        std::thread::sleep(timeout);
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_signal_ends_a_long_wait_at_once_and_is_remembered() {
        let stop = Stop::install().unwrap();
        assert_eq!(stop.requested(), None);
        assert_eq!(stop.wait(Duration::from_millis(1)), None, "a plain timeout");
        // SAFETY: raising SIGTERM in this process runs our handler, which
        // was installed above and only records it.
        unsafe { libc::raise(libc::SIGTERM) };
        // An hour's wait returns at once: the test would hang otherwise.
        assert_eq!(stop.wait(Duration::from_secs(3600)), Some("SIGTERM"));
        assert_eq!(stop.requested(), Some("SIGTERM"));
    }
}
