//! `clear` and `console-url`: the commands that are neither a tool's
//! protocol nor `status` or `install-links`.

use std::path::Path;

use crate::cache;
use crate::config::{Flags, Settings, display_path};
use crate::error::{Error, Result};
use crate::token;

/// What `clear` did, as one message: the caller says it through
/// [`crate::log::say`], so a path with a line break stays on one line.
pub fn clear(settings: &Settings) -> Result<String> {
    let path = token::cache_for(settings).path;
    Ok(if token::forget(settings, None)? {
        format!("removed {}", display_path(&path))
    } else {
        "no cached token to remove".into()
    })
}

/// What `clear --all` did, as one message (see [`clear`]).
pub fn clear_all(dir: &Path) -> Result<String> {
    let files = cache::all_files(dir)
        .map_err(|e| Error::io(format!("cannot list {}", display_path(dir)), e))?;
    let mut removed = 0;
    for file in &files {
        // Gone already (a refresh renamed its temporary file, another clear
        // ran) is fine: the point is that it is gone.
        removed += usize::from(
            crate::files::remove_own(file)
                .map_err(|e| Error::io(format!("cannot remove {}", display_path(file)), e))?,
        );
    }
    // What is still there with our names is not a file of ours (a
    // directory, a symlink, another user's file): left, and said.
    let left = files
        .iter()
        .filter(|f| f.symlink_metadata().is_ok())
        .count();
    let kept = match left {
        0 => String::new(),
        n => format!(
            "; left {n} entr{} named like ours that are not files of yours",
            if n == 1 { "y" } else { "ies" }
        ),
    };
    Ok(format!(
        "removed {removed} cached file{} from {}{kept}",
        if removed == 1 { "" } else { "s" },
        display_path(dir)
    ))
}

/// The selected Console's URL with `path` appended, `{org}` in it replaced by
/// the organization ID; with `json`, `{"url", "host"}` (the host as
/// Terraform's helper protocol names it).
pub fn console_url(flags: &Flags, path: Option<&str>, json: bool) -> Result<String> {
    // A line break or an escape would reach a terminal or a request line raw.
    if let Some(c) = path.and_then(|p| p.chars().find(|c| c.is_control())) {
        return Err(Error::Usage(format!(
            "the PATH of console-url has the control character {c:?}: give the path as it \
             appears in a URL (see snowplow-credentials console-url --help)"
        )));
    }
    let (host, org) = Settings::console(flags)?;
    let mut path = path.unwrap_or_default().to_string();
    if path.contains("{org}") {
        let org = org.ok_or_else(|| {
            Error::Config(format!(
                "no organization ID for {{org}} in `{path}`: set SNOWPLOW_CONSOLE_ORG_ID, \
                 --org-id, or org_id in the profile"
            ))
        })?;
        // Encoded as the exchange encodes it, so both name the same path.
        path = path.replace("{org}", &crate::url::percent_encode(&org));
    }
    if !path.is_empty() && !path.starts_with('/') {
        path.insert(0, '/');
    }
    let url = format!("{}{path}", host.to_string().trim_end_matches('/'));
    if !json {
        return Ok(format!("{url}\n"));
    }
    let host = host.origin.authority();
    Ok(format!(
        "{}\n",
        serde_json::json!({ "url": url, "host": host })
    ))
}
