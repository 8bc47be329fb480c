//! The commands that are not a tool's protocol: `status`, `clear` and
//! `install-links`. Their output is for people.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cache::{self, Lookup};
use crate::cli::LINKS;
use crate::config::{Settings, display_path};
use crate::error::{Error, Result};
use crate::{time, token};

/// Everything about the current identity but the token and secrets, and
/// whether a fresh token is cached (the exit code says so, for scripts).
pub fn status(settings: &Settings) -> (String, bool) {
    let mut out = String::new();
    let file = match &settings.file {
        Some(path) => display_path(path),
        None => "no config file".into(),
    };
    let org = settings.auth.org().unwrap_or("(none)");
    let cache = token::cache_for(settings);
    let _ = writeln!(out, "profile:       {} ({file})", settings.profile);
    let _ = writeln!(out, "host:          {}", settings.host);
    let _ = writeln!(out, "organization:  {org}");
    let _ = writeln!(out, "auth:          {}", settings.auth.describe());
    let _ = writeln!(out, "cache file:    {}", display_path(&cache.path));
    let now = time::now();
    let fresh = match cache.read() {
        Lookup::Missing => {
            let _ = writeln!(out, "token:         none cached");
            false
        }
        Lookup::Unusable(why) => {
            let _ = writeln!(out, "token:         none usable ({why})");
            false
        }
        Lookup::Found(entry) => {
            let threshold = token::threshold(settings.min_ttl, entry.iat, entry.exp, 0);
            let left = entry.exp.saturating_sub(now);
            let fresh = token::is_fresh(now, entry.exp, threshold);
            let _ = writeln!(
                out,
                "token:         {}, expires {} ({}), refreshed from {}",
                if fresh { "fresh" } else { "stale" },
                time::rfc3339(entry.exp),
                if left == 0 {
                    "expired".to_string()
                } else {
                    format!("in {}", time::human_duration(left))
                },
                time::rfc3339(entry.exp - threshold)
            );
            fresh
        }
    };
    (out, fresh)
}

pub fn clear(settings: &Settings) -> Result<String> {
    let path = token::cache_for(settings).path;
    Ok(if token::forget(settings, None)? {
        format!("removed {}\n", display_path(&path))
    } else {
        "no cached token to remove\n".into()
    })
}

pub fn clear_all(dir: &Path) -> Result<String> {
    let files = cache::all_files(dir)
        .map_err(|e| Error::io(format!("cannot list {}", display_path(dir)), e))?;
    for file in &files {
        std::fs::remove_file(file)
            .map_err(|e| Error::io(format!("cannot remove {}", display_path(file)), e))?;
    }
    Ok(format!(
        "removed {} cached file{} from {}\n",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        display_path(dir)
    ))
}

/// Links each helper name to this binary in `dir` (default: beside it).
/// Running it again changes nothing; a file of another kind is left alone.
pub fn install_links(dir: Option<PathBuf>) -> Result<String> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::io("cannot find this program's own path", e))?;
    let dir = match dir {
        Some(dir) => dir,
        None => exe.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut out = String::new();
    for (name, _) in LINKS {
        let link = dir.join(name);
        match std::fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if std::fs::read_link(&link).is_ok_and(|t| t == exe) {
                    let _ = writeln!(out, "{} already links to {}", link.display(), exe.display());
                    continue;
                }
                std::fs::remove_file(&link)
                    .map_err(|e| Error::io(format!("cannot replace {}", link.display()), e))?;
            }
            Ok(_) => {
                return Err(Error::Config(format!(
                    "{} exists and is not a link; move it away and run install-links again",
                    link.display()
                )));
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&exe, &link)
            .map_err(|e| Error::io(format!("cannot create {}", link.display()), e))?;
        let _ = writeln!(out, "linked {} -> {}", link.display(), exe.display());
    }
    Ok(out)
}
