//! Windows: no modes or owners to set or check, links refused, and a rename
//! retried while another program briefly holds the file.
//!
//! Privacy comes from where the files live: under the user's profile
//! (`%USERPROFILE%`, `%APPDATA%`, `%LOCALAPPDATA%`), whose ACL new files
//! inherit and which by default admits only the user, SYSTEM and
//! Administrators. Checking a file's owner or ACL needs the Win32 security
//! API (GetSecurityInfo and friends), which std does not wrap and the
//! allowed crates do not offer; so it is not checked, and the README says
//! so.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;

/// Opens a link itself rather than what it points to, so that a link in a
/// private file's place is seen (and refused as "not a regular file")
/// instead of followed.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// Another handle without sharing holds the file (antivirus, indexers).
const ERROR_SHARING_VIOLATION: i32 = 32;
/// What a rename over a file being scanned or deleted often gives instead.
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_LOCK_VIOLATION: i32 = 33;

/// Nothing to say without reading the ACL: see the module comment.
pub fn too_open(_meta: &fs::Metadata) -> Option<String> {
    None
}

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

pub fn tighten_dir(_dir: &Path, _meta: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

pub fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

pub fn private_mode(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

pub fn private_temp<'a, 'b>(
    builder: &'b mut tempfile::Builder<'a, 'a>,
) -> &'b mut tempfile::Builder<'a, 'a> {
    builder
}

/// Renames `from` over `to`, retrying for about a second and a
/// quarter while another
/// program holds `to` (antivirus and search indexers open new files
/// briefly; Azure kubelogin #71 is this failure).
pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    super::retry_busy(|| fs::rename(from, to), is_busy, std::thread::sleep)
}

fn is_busy(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(ERROR_SHARING_VIOLATION | ERROR_ACCESS_DENIED | ERROR_LOCK_VIOLATION)
    )
}

/// NTFS journals its metadata, and a directory cannot be flushed through
/// std on Windows: the file's own flush is what there is.
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
