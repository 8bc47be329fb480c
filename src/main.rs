//! The binary: runs [`snowplow_credentials::run`] and exits with its code.
//!
//! It starts without std's wrapper around `main` (`#![no_main]`). On a cache
//! hit that wrapper's setup cost as much as the hit itself: a guard page and
//! signal stack for the main thread, found by parsing /proc/self/maps, which
//! only turns a stack overflow's crash into a message. Of the rest it does,
//! two parts matter and are done here: stdin, stdout and stderr are made
//! valid, so that no file we open can take their place and receive output;
//! and SIGPIPE is ignored, so a reader that hangs up is an error we report
//! rather than a silent death. Child processes still start with SIGPIPE at
//! its default, as std resets it for them. (Under `cargo test` the test
//! harness supplies `main` as usual.) All of this is Unix (Linux and
//! macOS alike); Windows starts through std's `main`, below.

#![cfg_attr(all(unix, not(test)), no_main)]

#[cfg(all(unix, not(test)))]
use std::ffi::{CStr, OsString, c_char, c_int};
#[cfg(all(unix, not(test)))]
use std::os::unix::ffi::OsStrExt;

#[cfg(all(unix, not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    standard_fds_valid();
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    quiet_panics();
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C runtime passes argc valid NUL-terminated strings.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsString::from(std::ffi::OsStr::from_bytes(arg.to_bytes()))
        })
        .collect();
    c_int::from(snowplow_credentials::run(args))
}

/// Elsewhere (Windows) std's own start-up is kept: it has none of the Unix
/// costs above, a missing standard handle there is a sink rather than a
/// number a file could take, and there is no SIGPIPE (a reader that hangs up
/// is already an error we report).
#[cfg(not(any(unix, test)))]
fn main() -> std::process::ExitCode {
    quiet_panics();
    std::process::ExitCode::from(snowplow_credentials::run(std::env::args_os().collect()))
}

/// A panic is a bug; say so in one line without the payload, which could in
/// principle hold a value we were handling.
#[cfg(not(test))]
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("snowplow-credentials: internal error{place}; please report it");
    }));
}

/// Opens /dev/null on any of fds 0, 1 and 2 that is closed, as std's
/// runtime does; aborts if that fails, since output could then go astray.
#[cfg(all(unix, not(test)))]
fn standard_fds_valid() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd; a zero timeout returns
    // at once.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    for pfd in fds {
        let closed = if polled < 0 {
            // poll itself failed: ask each descriptor directly.
            // SAFETY: F_GETFD on any integer is harmless.
            let failed = unsafe { libc::fcntl(pfd.fd, libc::F_GETFD) } == -1;
            failed && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        } else {
            pfd.revents & libc::POLLNVAL != 0
        };
        // SAFETY: opening /dev/null with a static NUL-terminated path.
        if closed && unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } == -1 {
            std::process::abort();
        }
    }
}
