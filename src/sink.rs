//! `sink PATH`: keeps a token file fresh, for programs that read a bearer
//! token from a file and for sidecars that share one with an app.
//!
//! It gets tokens the way every other command does (the cache, the lock, the
//! exchange), writes the file whole (never half of it, whatever kills us),
//! and wakes again when the token reaches its refresh threshold, plus a
//! random part of a quarter of it, so a fleet started together does not
//! refresh together. A failed refresh is retried with backoff while the last
//! good token stays in place; once that token expires the file is removed,
//! so no reader is handed a dead token. One line per refresh, failure or
//! stop goes to stderr, never the token. SIGTERM and SIGINT end it at once
//! with exit 0 (see [`crate::signals`]).
//!
//! Waits are cut in slices of at most [`SLICE`], each ending with a look
//! at the wall clock: the monotonic clock stops while the machine is
//! suspended or the VM paused, and a single day-long wait would sleep
//! through the token's expiry.
//!
//! It replaces only files it wrote itself (see [`looks_written_by_us`]),
//! never a config file in use, unless `--force` says the file may go.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{Settings, snowplow_cli};
use crate::error::{Error, Result};
use crate::signals::Stop;
use crate::token::{self, Served, Want};
use crate::{debug, files, info, jwt, time};

/// The first retry's delay after a failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: u64 = 1;
const MAX_BACKOFF: u64 = 300;
/// The longest wait without looking at the wall clock.
const SLICE: Duration = Duration::from_secs(60);

/// What `sink` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub path: PathBuf,
    /// Also write `Authorization: Bearer <token>` here.
    pub header: Option<PathBuf>,
    /// 0600, or 0640 for a reader in the file's group.
    pub mode: u32,
    /// The files' group; we must be in it (or root).
    pub group: Option<u32>,
    /// Write once and exit (init containers, CI steps).
    pub once: bool,
    /// Replace existing files that do not look like the sink's own.
    pub force: bool,
}

/// `sink`'s own options as the command line gave them, unchecked.
pub struct Given<'a> {
    pub header: Option<PathBuf>,
    pub mode: Option<&'a str>,
    pub group: Option<&'a str>,
    pub once: bool,
    pub force: bool,
}

impl Options {
    /// Writing `path` with the defaults: 0600, no header file, until stopped.
    pub fn at(path: &str) -> Options {
        Options {
            path: PathBuf::from(path),
            header: None,
            mode: 0o600,
            group: None,
            once: false,
            force: false,
        }
    }

    /// These options with the command line's own ones, checked: `--group`
    /// is there so the group can read, so it means 0640.
    pub fn with(self, given: Given) -> Result<Options> {
        let Given {
            header,
            mode,
            group,
            once,
            force,
        } = given;
        let given_group = group;
        let mode = match (mode, group) {
            (None, None) | (Some("600" | "0600"), None) => 0o600,
            (None, Some(_)) | (Some("640" | "0640"), _) => 0o640,
            (Some("600" | "0600"), Some(_)) => {
                return Err(Error::Usage(
                    "--group gives its group read access, which 0600 denies: drop --mode \
                     (--group means 0640)"
                        .into(),
                ));
            }
            (Some(other), _) => {
                return Err(Error::Usage(format!(
                    "--mode `{other}`: give 0600 (the default) or 0640 (read by the file's group)"
                )));
            }
        };
        if header.as_deref() == Some(Path::new("")) {
            return Err(Error::Usage("--header-file needs a path".into()));
        }
        let group = group.map(group_id).transpose()?;
        if let (Some(name), Some(gid)) = (given_group, group)
            && !crate::sys::may_use_group(gid)
        {
            return Err(Error::Usage(format!(
                "--group {name}: this user is not in that group, so cannot give it the files: \
                 give one of the groups `id -G` lists, or run as root"
            )));
        }
        Ok(Options {
            header,
            mode,
            group,
            once,
            force,
            ..self
        })
    }
}

/// Runs the sink until stopped (or once). Prints nothing on stdout.
pub fn run(settings: &Settings, opts: &Options) -> Result<String> {
    check_paths(settings, opts)?;
    for path in std::iter::once(&opts.path).chain(&opts.header) {
        match files::remove_leftovers(path) {
            Ok(0) => {}
            Ok(n) => debug!("removed {n} temporary file(s) a killed sink left"),
            Err(e) => debug!("cannot look for leftover temporary files: {e}"),
        }
    }
    if opts.once {
        let served = token::get(settings, Want::default())?;
        write(opts, &served)?;
        info!("sink: wrote {}{}", names(opts), expiry(&served));
        return Ok(String::new());
    }
    let stop = Stop::install().map_err(|e| Error::io("cannot handle SIGTERM", e))?;
    // The expiry of the token in the file, while it is there.
    let mut held: Option<u64> = None;
    let mut backoff = FIRST_BACKOFF;
    // The first token may come from the cache; later ones are new.
    let mut refresh = false;
    loop {
        let next = match step(settings, opts, refresh) {
            Ok((exp, next)) => {
                (held, backoff, refresh) = (Some(exp), FIRST_BACKOFF, true);
                next
            }
            Err(e) if is_fatal(&e, held.is_some()) => return Err(e),
            Err(e) => {
                let next = time::now() + backoff;
                info!(
                    "sink: {e}; {}; next try at {}",
                    kept(opts, held),
                    time::rfc3339(next)
                );
                backoff = (backoff * 2).min(MAX_BACKOFF);
                next
            }
        };
        if let Some(signal) = wait_until(&stop, opts, next, &mut held) {
            info!("sink: stopped by {signal}");
            return Ok(String::new());
        }
    }
}

/// Refuses paths the sink must never replace: anything but a regular file
/// (a device, FIFO, symlink or directory: as root, `/dev/null` would become
/// the token), the header file at the token's own path, the token file this
/// profile serves (it would read its own output), and anything in the
/// cache directory. Warns when others may swap the files, as
/// [`files::dir_open_to_others`] says.
fn check_paths(settings: &Settings, opts: &Options) -> Result<()> {
    for path in std::iter::once(&opts.path).chain(&opts.header) {
        if let Some(kind) = files::not_regular(path) {
            return Err(Error::Usage(format!(
                "sink: {} is {kind}, not a regular file: give the path of a regular file or a new one",
                path.display()
            )));
        }
        if let Some(why) = files::dir_open_to_others(path) {
            crate::warn!("sink: others may replace {}: {why}", path.display());
        }
    }
    refuse_foreign(settings, opts)?;
    let at = files::resolved(&opts.path);
    if opts.header.as_deref().map(files::resolved).as_ref() == Some(&at) {
        return Err(Error::Usage(
            "sink: --header-file must differ from the token file's path".into(),
        ));
    }
    for path in std::iter::once(&opts.path).chain(&opts.header) {
        let at = files::resolved(path);
        let served = token::kept(settings);
        if !served.ours && files::resolved(&served.path) == at {
            return Err(Error::Usage(format!(
                "sink: {} is the token file this profile serves: the sink would read its own output",
                path.display()
            )));
        }
        if at.starts_with(files::resolved(&settings.cache_dir)) {
            return Err(Error::Usage(format!(
                "sink: {} is in the cache directory, which only snowplow-credentials writes",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Refuses to replace a config file (even with `--force`: the sink would
/// destroy what it runs on, or the only copy of a key) and, without
/// `--force`, any existing file that does not look like one the sink wrote.
fn refuse_foreign(settings: &Settings, opts: &Options) -> Result<()> {
    let ours = settings.file.iter().chain(&settings.file_without_profile);
    let in_use: Vec<PathBuf> = ours.map(|f| files::resolved(f)).collect();
    let theirs: Vec<PathBuf> = snowplow_cli::paths()
        .iter()
        .map(|f| files::resolved(f))
        .collect();
    for (path, header) in
        std::iter::once((&opts.path, false)).chain(opts.header.iter().map(|h| (h, true)))
    {
        let at = files::resolved(path);
        if in_use.contains(&at) {
            return Err(Error::Usage(format!(
                "sink: {} is the config file in use: give the token file another path",
                path.display()
            )));
        }
        if theirs.contains(&at) {
            return Err(Error::Usage(format!(
                "sink: {} is snowplow-cli's settings file: give the token file another path",
                path.display()
            )));
        }
        if opts.force {
            continue;
        }
        let contents = match read_existing(path) {
            Ok(None) => continue,
            Ok(Some(contents)) => contents,
            Err(e) => {
                return Err(Error::io(
                    format!("sink: cannot read {}", path.display()),
                    e,
                ));
            }
        };
        if !looks_written_by_us(&contents, header) {
            return Err(Error::Usage(format!(
                "sink: {} exists and was not written by the sink (it holds something other \
                 than a token): give another path, or add --force to replace it",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The first bytes of `path` (enough to tell a token file), or `None` if
/// there is no such file.
fn read_existing(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    // Without blocking: a FIFO swapped in since the check must not hang us.
    let file = match crate::sys::no_wait(std::fs::OpenOptions::new().read(true)).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut contents = Vec::new();
    file.take(files::MAX_TOKEN_FILE + 1)
        .read_to_end(&mut contents)?;
    Ok(Some(contents))
}

/// Whether `contents` is exactly what the sink writes: a token (a JWT
/// with an `exp`, as [`jwt::claims`] reads it, nothing else), or for the
/// header file the line `Authorization: Bearer <token>`. An empty file
/// holds nothing to lose, so it counts too. Anything else (a config file,
/// snowplow-cli's snowplow.yml, a key, a host name) is someone else's.
fn looks_written_by_us(contents: &[u8], header: bool) -> bool {
    if contents.is_empty() {
        return true;
    }
    let token = if header {
        match contents
            .strip_prefix(b"Authorization: Bearer ")
            .and_then(|rest| rest.strip_suffix(b"\n"))
        {
            Some(token) => token,
            None => return false,
        }
    } else {
        contents
    };
    token.len() as u64 <= files::MAX_TOKEN_FILE
        && std::str::from_utf8(token)
            .is_ok_and(|token| jwt::claims(token).is_ok_and(|c| c.exp.is_some()))
}

fn step(settings: &Settings, opts: &Options, refresh: bool) -> Result<(u64, u64)> {
    let want = Want {
        refresh,
        ..Want::default()
    };
    let served = token::get(settings, want)?;
    write(opts, &served)?;
    let now = time::now();
    let (exp, next) = match (served.exp, served.refresh_at) {
        (Some(exp), Some(at)) => (exp, at + jitter((exp - at) / 4)),
        // No expiry to go by: check back after the threshold's length.
        _ => (u64::MAX, now + settings.min_ttl.max(60)),
    };
    let next = next.max(now + 1);
    info!(
        "sink: wrote {}{}; next refresh at {}",
        names(opts),
        expiry(&served),
        time::rfc3339(next)
    );
    Ok((exp, next))
}

/// Errors that retrying cannot fix end the sink: bad configuration always;
/// a rejected key or an unwritable file while there is no token to keep
/// serving (a restarted container then picks up the fix).
fn is_fatal(e: &Error, holding: bool) -> bool {
    match e {
        Error::Usage(_) | Error::Config(_) => true,
        Error::Rejected(_) | Error::Io { .. } => !holding,
        // A keychain locked now may be unlocked before the next try.
        Error::Unavailable(_) | Error::Input(_) | Error::Store(_) => false,
    }
}

/// Waits until `next`, removing the files if the token in them expires
/// first. Returns the signal that stopped the wait, if one did.
fn wait_until(
    stop: &Stop,
    opts: &Options,
    next: u64,
    held: &mut Option<u64>,
) -> Option<&'static str> {
    loop {
        let wake = held.filter(|exp| *exp < next).unwrap_or(next);
        // In slices, each followed by a look at the wall clock (see the
        // module's documentation).
        if let Some(signal) = stop.wait(until(wake).min(SLICE)) {
            return Some(signal);
        }
        let now = time::now();
        if let Some(exp) = *held
            && now >= exp
        {
            remove(opts);
            info!(
                "sink: the token in {} expired at {} and could not be replaced: removed it",
                opts.path.display(),
                time::rfc3339(exp)
            );
            *held = None;
        }
        if now >= next {
            return None;
        }
    }
}

/// How long until `unix`, saturating: a token file's `exp` comes from
/// outside, and past 9999 it would overflow the clock.
fn until(unix: u64) -> Duration {
    (UNIX_EPOCH + Duration::from_secs(unix.min(time::LATEST)))
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}

/// A random number of seconds in `0..=span`: std's hasher keys come from
/// the operating system's random source, so no dependency is needed.
fn jitter(span: u64) -> u64 {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    random % (span + 1)
}

fn write(opts: &Options, served: &Served) -> Result<()> {
    let token = served.token.expose();
    let put = |path: &Path, contents: String| {
        files::write_shared(path, contents.as_bytes(), opts.mode, opts.group)
            .map_err(|e| Error::io(format!("cannot write {}{}", path.display(), hint(&e)), e))
    };
    put(&opts.path, token.clone())?;
    if let Some(header) = &opts.header {
        put(header, format!("Authorization: Bearer {token}\n"))?;
    }
    Ok(())
}

/// What to do about a failed write, where the error alone does not say.
fn hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => " (its directory must exist)",
        std::io::ErrorKind::PermissionDenied => " (its directory must be writable by this user)",
        _ => "",
    }
}

fn remove(opts: &Options) {
    for path in std::iter::once(&opts.path).chain(&opts.header) {
        if let Err(e) = std::fs::remove_file(path) {
            debug!("cannot remove {}: {e}", path.display());
        }
    }
}

fn names(opts: &Options) -> String {
    match &opts.header {
        Some(header) => format!("{} and {}", opts.path.display(), header.display()),
        None => opts.path.display().to_string(),
    }
}

fn expiry(served: &Served) -> String {
    served
        .exp
        .map(|exp| format!(" (token expires at {})", time::rfc3339(exp)))
        .unwrap_or_else(|| " (token without expiry)".into())
}

fn kept(opts: &Options, held: Option<u64>) -> String {
    match held {
        Some(exp) if exp != u64::MAX => format!(
            "{} keeps the token that expires at {}",
            opts.path.display(),
            time::rfc3339(exp)
        ),
        Some(_) => format!("{} keeps its token", opts.path.display()),
        None => format!("{} holds no token", opts.path.display()),
    }
}

/// A group for `--group`: a number, or a name looked up in the group
/// database (a scratch container has none: give the number there).
#[cfg(not(unix))]
pub fn group_id(_group: &str) -> Result<u32> {
    Err(Error::Usage(
        "--group has no meaning here: files have no Unix group on this system".into(),
    ))
}

/// A group for `--group`: a number, or a name looked up in the group
/// database (a scratch container has none: give the number there).
#[cfg(unix)]
pub fn group_id(group: &str) -> Result<u32> {
    if let Ok(gid) = group.parse::<u32>() {
        // chown(2) reads this one as "leave the group as it is".
        if gid == u32::MAX {
            return Err(Error::Usage(format!(
                "--group {gid} is not a group: chown takes it to mean no change; give a real group"
            )));
        }
        return Ok(gid);
    }
    let name = std::ffi::CString::new(group)
        .map_err(|_| Error::Usage(format!("--group: `{group}` is not a group name")))?;
    crate::sys::group_id(&name).ok_or_else(|| {
        Error::Usage(format!(
            "--group: no group `{group}` on this system; give its number instead"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_span() {
        assert_eq!(jitter(0), 0);
        let draws: Vec<u64> = (0..200).map(|_| jitter(10)).collect();
        assert!(draws.iter().all(|d| *d <= 10));
        assert!(draws.iter().any(|d| *d != draws[0]), "it varies");
    }

    #[cfg(unix)]
    #[test]
    fn groups_are_numbers_or_names() {
        assert_eq!(group_id("10001").unwrap(), 10001);
        assert_eq!(group_id("root").unwrap(), 0);
        assert!(group_id("no-such-group-here").is_err());
        assert!(group_id("4294967295").is_err(), "chown's \"no change\"");
    }

    #[test]
    fn only_files_shaped_like_its_own_output_are_its_own() {
        let jwt = b"eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2ln";
        assert!(looks_written_by_us(jwt, false));
        assert!(looks_written_by_us(b"", false));
        assert!(looks_written_by_us(b"", true));
        let header = [&b"Authorization: Bearer "[..], jwt, b"\n"].concat();
        assert!(looks_written_by_us(&header, true));
        assert!(!looks_written_by_us(&header, false));
        assert!(!looks_written_by_us(jwt, true));
        for other in [
            &b"[default]\norg_id = \"x\"\n"[..],
            b"console:\n  api-key: secret\n",
            b"a.b.c\n",
            b"a..c",
            b"key",
            b"www.example.com",
            b"1.2.3",
            b"x.y.z",
            b"eyJhbGciOiJub25lIn0.e30.c2ln",
        ] {
            assert!(!looks_written_by_us(other, false), "{other:?}");
        }
        let dotted = b"Authorization: Bearer www.example.com\n";
        assert!(!looks_written_by_us(dotted, true));
    }

    #[test]
    fn only_unfixable_errors_end_the_sink() {
        let rejected = Error::Rejected("401".into());
        assert!(is_fatal(&Error::Config("x".into()), true));
        assert!(is_fatal(&rejected, false));
        assert!(!is_fatal(&rejected, true), "keep serving what we have");
        assert!(!is_fatal(&Error::Unavailable("down".into()), false));
    }
}
