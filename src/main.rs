//! The binary: runs [`snowplow_credentials::run`] and exits with its code.
//!
//! It uses std's own `main`. That wrapper makes fds 0-2 valid (so no file we
//! open can take a standard stream's place and receive output) and ignores
//! SIGPIPE (so a reader that hangs up is an error we report, not a silent
//! death); tests/cli/startup.rs checks both. It was once replaced by a C
//! `main` (`#![no_main]`) to save the wrapper's cost on a cache hit; on the
//! static release build that saving is 5-9 %, too little for six unsafe
//! blocks (README, "Speed").

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    no_core_dumps();
    // A panic is a bug; say so in one line without the payload, which could
    // in principle hold a value we were handling. A stderr that cannot be
    // written is ignored: a panic inside the panic hook would abort.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "snowplow-credentials: internal error{place}; please report it"
        );
    }));
    ExitCode::from(snowplow_credentials::run(std::env::args_os().collect()))
}

/// The API key and tokens live in this process's memory: no core file may
/// hold them (a crash in a git repository would leave one there), and no
/// other process of the same user may read them through ptrace or
/// /proc/PID/mem. A zero core limit covers every Unix; on Linux the process
/// is also made non-dumpable, which also stops core files piped to a
/// handler. macOS has no per-process equivalent short of
/// `PT_DENY_ATTACH`, which would also break debuggers: the limit is all.
/// (Windows writes no core files; nothing to do there.)
fn no_core_dumps() {
    #[cfg(unix)]
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads a valid rlimit; lowering a limit cannot fail
    // for lack of privilege, and if it fails anyway we go on.
    #[cfg(unix)]
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &zero)
    };
    // SAFETY: PR_SET_DUMPABLE with 0 takes no pointers.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
    };
}
