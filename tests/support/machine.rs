//! What the integration tests and the bench (`benches/hit`, which includes
//! this file with `#[path]`) both need from this machine: files written the
//! way the binary demands its config and cache files, and the clients they
//! drive, found on PATH.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes `text` as a private file (0600, parents 0700).
pub fn write_private(path: &Path, text: &str) {
    let dir = path.parent().expect("a parent directory");
    fs::create_dir_all(dir).expect("create a directory");
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("chmod a directory");
    fs::write(path, text).expect("write a file");
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod a file");
}

/// `program` found on PATH, or at this path if it names one, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.is_file());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
