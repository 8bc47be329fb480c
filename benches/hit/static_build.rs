//! The fully static Linux build beside the dynamic one: `bash .ci/static
//! build` makes it (std from source with Debian's Rust, linked by musl-gcc,
//! no program interpreter), and its hits are timed in the same rounds as the
//! floor, a dynamically linked Rust hello-world. Issue 13's target: a static
//! hit at most 0.75× that floor. Issue 20 adds the static floor: a C
//! program that writes one line (`examples/floor.c`), linked static with
//! musl-gcc; a static hit at most [`HIT_VS_C_FLOOR`] times it. Where
//! .ci/static's toolchain is not installed, the report says so instead of
//! these rows.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::measure::Program;

/// A static hit at most this many times the (dynamic) floor.
pub const HIT_VS_FLOOR: f64 = 0.75;

/// A static hit at most this many times the static C floor (issue 20).
pub const HIT_VS_C_FLOOR: f64 = 1.5;

/// `examples/floor.c` compiled static with musl-gcc into `dir`, or why not.
pub fn c_floor(dir: &Path) -> Result<PathBuf, String> {
    c_static(dir, "floor")
}

/// `examples/floor_hit.c` (a static hit's system calls and nothing else)
/// compiled the same way: the least a static hit could cost.
pub fn c_hit_floor(dir: &Path) -> Result<PathBuf, String> {
    c_static(dir, "floor_hit")
}

fn c_static(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let source = format!("{}/examples/{name}.c", env!("CARGO_MANIFEST_DIR"));
    let out = dir.join(format!("{name}-c-static"));
    let status = Command::new("musl-gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .map_err(|e| format!("musl-gcc: {e}"))?;
    if !status.success() {
        return Err(format!("musl-gcc failed: {status}"));
    }
    Ok(out)
}

/// The static binary, copied to `dir` so a later build cannot swap it
/// mid-run; or why there is none.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/static");
    let out = Command::new("bash")
        .args([script, "build"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("bash .ci/static: {e}"))?;
    if !out.status.success() {
        return Err("`bash .ci/static` failed (run it once to install its toolchain)".into());
    }
    let built = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let copy = dir.join("snowplow-credentials-static");
    std::fs::copy(&built, &copy).map_err(|e| format!("copy {}: {e}", built.display()))?;
    Ok(copy)
}

/// The same command line, run by the static binary.
pub fn same_call(program: &Program, binary: &Path) -> Program {
    let mut program = program.clone();
    program.path = binary.to_path_buf();
    program
}
