//! What the integration tests, the bench (`benches/hit`) and the demo all
//! need from this machine: a throwaway home for the binary, files written the
//! way it demands its config and cache files, and the clients they drive,
//! found on PATH. The bench and the demo include this file with `#[path]`.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The variables that give the binary `home` as a fresh account's home:
/// HOME, and the XDG config and cache directories below it. On Windows also
/// the profile's (USERPROFILE, APPDATA, LOCALAPPDATA: what the binary reads
/// there, as Go's runtime and so snowplow-cli do; the cache again in
/// `.cache`), and SystemRoot passed through, without which a process cannot
/// start Winsock.
pub fn home_vars(home: &Path) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("HOME", home.display().to_string()),
        (
            "XDG_CONFIG_HOME",
            home.join(".config").display().to_string(),
        ),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
    ];
    if cfg!(windows) {
        let system_root = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\windows".into());
        vars.extend([
            ("USERPROFILE", home.display().to_string()),
            (
                "APPDATA",
                home.join("AppData").join("Roaming").display().to_string(),
            ),
            ("LOCALAPPDATA", home.join(".cache").display().to_string()),
            ("SystemRoot", system_root),
        ]);
    }
    vars
}

/// Writes `text` as a private file (0600, parents 0700).
pub fn write_private(path: &Path, text: &str) {
    let dir = path.parent().expect("a parent directory");
    fs::create_dir_all(dir).expect("create a directory");
    fs::write(path, text).expect("write a file");
    // Windows has no modes: its profile's ACL is what keeps these private.
    #[cfg(unix)]
    {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("chmod a directory");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod a file");
    }
}

/// `program` found on PATH, or at this path if it names one, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.is_file());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(format!("{program}{}", std::env::consts::EXE_SUFFIX)))
        .find(|p| p.is_file())
}
