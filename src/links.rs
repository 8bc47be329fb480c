//! `install-links`: the names git, Docker and Terraform look their helpers
//! up by, made and removed: symbolic links to this binary on Unix, `.exe`
//! hard links or copies on Windows (see files.rs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::LINKS;
use crate::error::{Error, Result};
use crate::files::{self, Link, Unlink};

/// Links each helper name of `only` (every one when empty) to this binary
/// in `dir` (default: beside it), creating `dir` if needed; with `remove`,
/// removes those links instead. Running it again changes nothing; a file
/// that is not our link is left alone.
pub fn install_links(dir: Option<PathBuf>, only: &[String], remove: bool) -> Result<String> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::io("cannot find this program's own path", e))?;
    let dir = match dir {
        Some(dir) => dir,
        None => exe.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    if !remove {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let mut out = String::new();
    let chosen = LINKS.iter().filter(|(name, command)| {
        only.is_empty() || only.iter().any(|o| o == command || o == name)
    });
    for (name, _) in chosen {
        let link = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let line = if remove {
            remove_link(&link, &exe)?
        } else {
            make_link(&link, &exe)?
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(out)
}

/// Text every build of this program holds (it is this very string): how
/// install-links on Windows tells an old copy of itself, which it replaces
/// or removes, from someone else's file, which it leaves alone.
const OURS: &str = "snowplow-credentials install-links: a helper name of this program";

fn make_link(link: &Path, exe: &Path) -> Result<String> {
    let cannot = |e| Error::io(format!("cannot create {}", link.display()), e);
    Ok(
        match files::install_link(exe, link, OURS.as_bytes()).map_err(cannot)? {
            Link::AlreadyThere => format!("{} already links to {}", link.display(), exe.display()),
            Link::Made(how) => format!("{how} {} -> {}", link.display(), exe.display()),
            Link::Foreign => {
                return Err(Error::Config(format!(
                    "{} exists and is not a link to this program; move it away and run \
                     install-links again",
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
