//! The one integration-test binary. Each module drives the built
//! `snowplow-credentials` as a separate process, the way tools run it,
//! against the stand-in Console in `tests/support`.

// On Windows the Unix-only modules below are compiled out, and with them the
// only users of some shared helpers.
#![cfg_attr(windows, allow(dead_code))]

#[path = "../support/connect_proxy.rs"]
mod connect_proxy;
#[path = "../support/console.rs"]
mod console;
mod harness;
#[path = "../support/machine.rs"]
mod machine;
// The HTTPS stand-in runs Linux's openssl and python3.
#[cfg(unix)]
#[path = "../support/tls.rs"]
mod tls;

// Unix only: issue 10's attacks are other local users, modes, owners,
// FIFOs, process groups and core limits, none of which Windows has (see
// docs/platforms.md for what is not enforced there).
#[cfg(unix)]
mod attacks;
// The modules marked cfg(unix) drive Linux/macOS clients through shell
// wrappers and symlinks (aws, curl and make, docker's Python SDK, git,
// kubectl, terraform; the CI files are read with Linux's python3), or Unix
// process control (signals, FIFOs, closed standard descriptors): none of that
// exists under Wine, and on Windows the clients are reached through the
// Windows forms in docs/protocols/ instead. Every other module runs on Windows too
// (see .ci/cross), with its Unix-only tests marked one by one.
#[cfg(unix)]
mod aws;
mod bad_input;
mod bazel;
mod cache_faults;
#[cfg(unix)]
mod ci;
// completions: drives bash, fish and zsh.
#[cfg(unix)]
mod completions;
mod core;
#[cfg(unix)]
mod crashes;
#[cfg(unix)]
mod curl_make;
#[cfg(unix)]
mod docker;
mod docs;
// exec: Unix children that report signals and become the process.
#[cfg(unix)]
mod exec;
// exec_windows: the child's whole 32-bit exit code (under Wine in .ci/cross).
#[cfg(windows)]
mod exec_windows;
mod faults;
#[cfg(unix)]
mod git;
// keychain: Linux's kernel keyring, driven with keyctl.
#[cfg(target_os = "linux")]
mod key_terminal;
#[cfg(target_os = "linux")]
mod keychain;
// keychain_windows: Windows Credential Manager (under Wine in .ci/cross).
#[cfg(windows)]
mod keychain_windows;
#[cfg(unix)]
mod kubernetes;
mod load;
// newcomer: writes snowplow-cli's files with Unix modes, to test the privacy
// rules for them.
#[cfg(unix)]
mod newcomer;
mod parsers;
mod platform;
mod secrets;
// sink and token_file: signals sent with `kill`, and token files' modes.
#[cfg(unix)]
mod sink;
#[cfg(unix)]
mod startup;
// static_build: a static Linux (musl) build run in an empty root.
#[cfg(unix)]
mod static_build;
#[cfg(unix)]
mod terraform;
#[cfg(unix)]
mod token_file;
mod transport;
