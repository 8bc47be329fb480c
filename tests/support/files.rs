//! Writing a file the way the binary demands its config and cache files:
//! 0600 in a 0700 directory. Shared by the integration tests and the bench
//! (`benches/hit`), which include this file with `#[path]`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `text` as a private file (0600, parents 0700).
pub fn write_private(path: &Path, text: &str) {
    let dir = path.parent().expect("a parent directory");
    fs::create_dir_all(dir).expect("create a directory");
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("chmod a directory");
    fs::write(path, text).expect("write a file");
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod a file");
}
