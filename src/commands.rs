//! The commands that are not a tool's protocol: `status`, `clear` and
//! `install-links`. Their output is for people.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cache::{self, Lookup};
use crate::cli::LINKS;
use crate::config::{Auth, Settings, display_path};
use crate::error::{Error, Result};
use crate::files::{self, Link};
use crate::{time, token, token_file};

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
    if let Auth::TokenFile { path } = &settings.auth {
        let served = token_file_status(&mut out, path, settings.min_ttl);
        return (out, served);
    }
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

/// What to do when `status` finds no token to serve.
pub fn unfresh_advice(settings: &Settings) -> String {
    match &settings.auth {
        Auth::TokenFile { path } => format!(
            "{} holds no token that can be served: check what writes it (ESO, Vault Agent, \
             snowplow-credentials sink)",
            display_path(path)
        ),
        _ => "no fresh token is cached: run `snowplow-credentials token` to get one".into(),
    }
}

/// The token file's lines of `status`; whether its token is served.
fn token_file_status(out: &mut String, path: &Path, min_ttl: u64) -> bool {
    let _ = writeln!(out, "token file:    {}", display_path(path));
    let read = match token_file::read(path) {
        Ok(read) => read,
        Err(e) => {
            let _ = writeln!(out, "token:         none usable ({e})");
            return false;
        }
    };
    let threshold = token::threshold(min_ttl, read.iat.unwrap_or(0), read.exp, 0);
    let now = time::now();
    let left = read.exp.saturating_sub(now);
    let expires = time::rfc3339(read.exp);
    let state = if token::is_fresh(now, read.exp, threshold) {
        "fresh"
    } else {
        "inside its refresh threshold (only its writer can replace it)"
    };
    let _ = match left {
        0 => writeln!(out, "token:         expired at {expires}"),
        _ => writeln!(
            out,
            "token:         {state}, expires {expires} (in {})",
            time::human_duration(left)
        ),
    };
    left > 0
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

/// Text every build of this program holds (it is this very string): how
/// install-links on Windows tells an old copy of itself, which it replaces,
/// from someone else's file, which it leaves alone.
const OURS: &str = "snowplow-credentials install-links: a helper name of this program";

/// Links each helper name to this binary in `dir` (default: beside it):
/// symlinks on Unix; on Windows `NAME.exe` hard links, or copies. Running it
/// again changes nothing; a file of another kind is left alone.
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
        let link = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let cannot = |e| Error::io(format!("cannot create {}", link.display()), e);
        match files::install_link(&exe, &link, OURS.as_bytes()).map_err(cannot)? {
            Link::AlreadyThere => {
                let _ = writeln!(out, "{} already links to {}", link.display(), exe.display());
            }
            Link::Made(how) => {
                let _ = writeln!(out, "{how} {} -> {}", link.display(), exe.display());
            }
            Link::Foreign => {
                return Err(Error::Config(format!(
                    "{} exists and is not a link to this program; move it away and run \
                     install-links again",
                    link.display()
                )));
            }
        }
    }
    Ok(out)
}
