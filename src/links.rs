//! `install-links`: the names git, Docker and Terraform look their helpers
//! up by, made and removed: symbolic links to this binary on Unix, `.exe`
//! hard links or copies on Windows (see files.rs).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::{self, Link, Unlink};
use crate::protocol;

/// Links each helper name of `only` (every one when empty) to this binary
/// in `dir` (default: the directory of the path it was invoked by),
/// creating `dir` if needed; with `remove`, removes those links instead.
/// Running it again changes nothing; a file or link that is not our link is
/// left alone and reported, and the other names are still done. Each name's
/// line is said on its own (never joined into one text and split again, so a
/// newline in a path stays one escaped line).
pub fn install_links(dir: Option<PathBuf>, only: &[String], remove: bool) -> Result<()> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::io("cannot find this program's own path", e))?;
    // Links name the path we were invoked by (Homebrew's bin/ symlink, not
    // the versioned file behind it), so they outlive an upgrade.
    let target = invoked_as(&exe).unwrap_or_else(|| exe.clone());
    let dir = match dir {
        Some(dir) => dir,
        None => target.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    if std::fs::metadata(&dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Usage(format!(
            "install-links: {} is not a directory; give the directory to put the links in",
            dir.display()
        )));
    }
    if !remove {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let chosen = protocol::links().filter(|(name, command)| {
        only.is_empty() || only.iter().any(|o| o == command || o == name)
    });
    let done: Vec<Result<String>> = chosen
        .map(|(name, _)| {
            let link = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
            if remove {
                remove_link(&link, &exe)
            } else {
                make_link(&link, &target, &exe)
            }
        })
        .collect();
    // Each name is reported in order; the exit status says whether all went.
    let failed = done.iter().filter(|d| d.is_err()).count();
    for line in &done {
        match line {
            Ok(line) => crate::info!("{line}"),
            Err(e) if failed > 0 => crate::warn!("{e}"),
            Err(_) => {}
        }
    }
    if failed > 0 {
        return Err(Error::Config(format!(
            "install-links: {failed} of {} name(s) not done, as said above",
            done.len()
        )));
    }
    Ok(())
}

/// The path this program was invoked by, as the shell found it: argv[0]
/// made absolute, or looked up in PATH when it has no `/`; only if it is
/// this very binary.
fn invoked_as(exe: &Path) -> Option<PathBuf> {
    let argv0 = PathBuf::from(crate::sys::argv0()?);
    let found = if argv0.components().count() > 1 {
        std::path::absolute(&argv0).ok()
    } else {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(&argv0))
            .find(|candidate| candidate.is_file())
    }?;
    (found.canonicalize().ok()? == exe).then_some(found)
}

/// Text every build of this program holds (it is this very string): how
/// install-links on Windows tells an old copy of itself, which it replaces
/// or removes, from someone else's file, which it leaves alone.
const OURS: &str = "snowplow-credentials install-links: a helper name of this program";

fn make_link(link: &Path, target: &Path, exe: &Path) -> Result<String> {
    let cannot = |e| Error::io(format!("cannot create {}", link.display()), e);
    Ok(
        match files::install_link(exe, target, link, OURS.as_bytes()).map_err(cannot)? {
            Link::AlreadyThere => format!("{} already links to {}", link.display(), exe.display()),
            Link::Made(how) => format!("{how} {} -> {}", link.display(), target.display()),
            // A link to another program is kept, as a file is: replacing
            // it would silently take that name from whatever it ran.
            Link::Foreign => {
                let what = match std::fs::read_link(link) {
                    Ok(old) => format!("links to {}, not this program", old.display()),
                    Err(_) => "exists and is not a link".to_string(),
                };
                return Err(Error::Config(format!(
                    "{} {what}; move it away and run install-links again",
                    link.display()
                )));
            }
        },
    )
}

fn remove_link(link: &Path, exe: &Path) -> Result<String> {
    let cannot = |e| Error::io(format!("cannot remove {}", link.display()), e);
    Ok(
        match files::remove_link(exe, link, OURS.as_bytes()).map_err(cannot)? {
            Unlink::Nothing => format!("{}: no link to remove", link.display()),
            Unlink::Elsewhere => format!("{}: left alone, it links elsewhere", link.display()),
            Unlink::Removed => format!("removed {}", link.display()),
        },
    )
}
