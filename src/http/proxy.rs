//! Choosing a proxy the way curl does, for [`super::send`].
//!
//! minreq reads only some proxy variables itself (lowercase `https_proxy`,
//! `http_proxy`, `all_proxy`) and never `NO_PROXY`, so we decide here and
//! hand minreq the result. Like curl: `https_proxy`/`HTTPS_PROXY` for https,
//! only lowercase `http_proxy` for http (the uppercase one can be set by a
//! CGI request header), then `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY`
//! lists hosts and domains that go direct, `*` meaning all. Unlike curl, a
//! loopback host always goes direct.
//!
//! So that minreq never second-guesses that choice (given no proxy, it
//! would look for one itself), the proxy variables are taken out of our
//! environment when the program starts, and handed back to the commands we
//! run.

use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;

use crate::url::Origin;
use crate::{debug, warn};

/// The variables minreq would read (and `HTTP_PROXY`, for good measure).
const VARIABLES: [&str; 6] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// The proxy variables as the program found them, once taken.
static TAKEN: OnceLock<Vec<(&'static str, OsString)>> = OnceLock::new();

/// Moves the proxy variables out of the process environment, to be read
/// from here instead. Call it first thing, before any other thread exists.
pub fn take_from_environment() {
    TAKEN.get_or_init(|| {
        let mut taken = Vec::new();
        for name in VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                // SAFETY: called at the start of the program, before any
                // other thread exists, so no one else reads the environment.
                unsafe { std::env::remove_var(name) };
                taken.push((name, value));
            }
        }
        taken
    });
}

/// The proxy variables taken at the start, to set for a child process.
pub fn taken() -> impl Iterator<Item = (&'static str, &'static OsStr)> {
    TAKEN
        .get()
        .into_iter()
        .flatten()
        .map(|(name, value)| (*name, value.as_os_str()))
}

/// A proxy variable: from those taken at the start, or from the
/// environment if they never were (the library in tests).
fn var(name: &'static str) -> Option<String> {
    match TAKEN.get() {
        Some(taken) => text(
            name,
            taken
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone()),
        ),
        None => text(name, std::env::var_os(name)),
    }
}

/// A variable's value as text, by the rule every variable of this program
/// is read with (config's `env`): empty is unset, and a value that is not
/// UTF-8 is ignored with a warning. Its own copy, as http/ reads nothing of
/// config/.
fn text(name: &str, value: Option<OsString>) -> Option<String> {
    let value = value?.into_string();
    if value.is_err() {
        warn!("{name} is not UTF-8 text, so it is ignored");
    }
    value.ok().filter(|v| !v.is_empty())
}

/// The proxy to use for `origin`, if any, and the variable it came from.
pub fn for_origin(origin: &Origin) -> Result<Option<(minreq::Proxy, &'static str)>, minreq::Error> {
    // A proxy would resolve `localhost` on its own machine (and see a
    // plain-http key in clear): this machine is always reached directly.
    if origin.is_loopback() {
        debug!("{} is this machine: connecting directly", origin.host);
        return Ok(None);
    }
    let no_proxy = |name| text(name, std::env::var_os(name));
    if let Some(list) = no_proxy("no_proxy").or_else(|| no_proxy("NO_PROXY"))
        && bypasses(&list, &origin.host)
    {
        debug!("{} is in NO_PROXY: connecting directly", origin.host);
        return Ok(None);
    }
    let names: &[&'static str] = if origin.scheme == "https" {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "all_proxy", "ALL_PROXY"]
    };
    for name in names {
        if let Some(value) = var(name) {
            // Only the variable's name is logged: the value may hold a password.
            debug!("using the proxy from {name}");
            return minreq::Proxy::new(value).map(|p| Some((p, *name)));
        }
    }
    Ok(None)
}

/// Whether `host` matches an entry of a NO_PROXY list: `*`, the host itself,
/// or a domain it is under (with or without a leading dot).
fn bypasses(list: &str, host: &str) -> bool {
    list.split(',')
        .map(|entry| entry.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::bypasses;

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        let list = " .internal.test, console.example.com,127.0.0.1 ";
        assert!(bypasses(list, "console.example.com"));
        assert!(bypasses(list, "a.internal.test"));
        assert!(bypasses(list, "internal.test"));
        assert!(bypasses(list, "127.0.0.1"));
        assert!(!bypasses(list, "example.com"));
        assert!(!bypasses(list, "notinternal.test"));
        assert!(bypasses("*", "anything"));
        assert!(!bypasses("", "anything"));
    }
}
