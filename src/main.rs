//! The binary: runs [`snowplow_credentials::run`] and exits with its code.
//!
//! On Linux it is its own C `main` (`#![no_main]`), without std's wrapper:
//! the wrapper's signal stack (for reporting a stack overflow) costs a
//! static cache hit 11 system calls (of 62 before issue 20; see
//! docs/speed.md). The two steps of the wrapper this program relies on are
//! done by [`snowplow_credentials::start`] instead: fds 0-2 made valid (so
//! no file we open can take a standard stream's place and receive output)
//! and SIGPIPE ignored (so a reader that hangs up is an error we report,
//! not a silent death); tests/cli/startup.rs checks both. A stack overflow
//! still stops the program (SIGSEGV on the guard page), just without std's
//! message. Elsewhere, and in `cargo test`, std's `main` is used.
#![cfg_attr(all(target_os = "linux", not(test)), no_main)]

use std::ffi::OsString;
use std::io::Write;

/// The C runtime's entry point.
#[cfg(all(target_os = "linux", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: the C runtime passes `main` argc valid C strings in argv.
    let args = unsafe { snowplow_credentials::start(argc, argv) };
    // Every code here fits a byte: a command `exec` runs replaces us.
    snowplow_credentials::finish(hit_or_miss(args).cast_signed())
}

/// Exits with `process::exit`, not by returning an `ExitCode`, which holds
/// a byte: a Windows exit code is 32 bits, and `exec` passes a command's on
/// whole (ExitProcess receives the i32's bits unchanged).
#[cfg(any(not(target_os = "linux"), test))]
fn main() {
    std::process::exit(hit_or_miss(std::env::args_os().collect()).cast_signed())
}

fn hit_or_miss(args: Vec<OsString>) -> u32 {
    // No core file may hold the key or a token (the platform layer says how).
    snowplow_credentials::no_core_dumps();
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
    snowplow_credentials::run(args)
}
