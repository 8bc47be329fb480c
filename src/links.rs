//! `install-links`: the names git, Docker and Terraform look their helpers
//! up by, as symbolic links to this binary, made and removed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::LINKS;
use crate::error::{Error, Result};

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
        let link = dir.join(name);
        let line = if remove {
            remove_link(&link, &exe)?
        } else {
            make_link(&link, &exe)?
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(out)
}

/// Whether `link` is a symbolic link to this binary.
fn links_to(link: &Path, exe: &Path) -> bool {
    std::fs::read_link(link).is_ok_and(|t| t == exe || t.canonicalize().is_ok_and(|t| t == exe))
}

fn make_link(link: &Path, exe: &Path) -> Result<String> {
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if links_to(link, exe) {
                return Ok(format!(
                    "{} already links to {}",
                    link.display(),
                    exe.display()
                ));
            }
            std::fs::remove_file(link)
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
    std::os::unix::fs::symlink(exe, link)
        .map_err(|e| Error::io(format!("cannot create {}", link.display()), e))?;
    Ok(format!("linked {} -> {}", link.display(), exe.display()))
}

fn remove_link(link: &Path, exe: &Path) -> Result<String> {
    let is_link = std::fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(format!("{}: no link to remove", link.display()));
    }
    if !links_to(link, exe) {
        return Ok(format!(
            "{}: left alone, it links elsewhere",
            link.display()
        ));
    }
    std::fs::remove_file(link)
        .map_err(|e| Error::io(format!("cannot remove {}", link.display()), e))?;
    Ok(format!("removed {}", link.display()))
}
