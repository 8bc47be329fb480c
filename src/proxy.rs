//! Choosing a proxy the way curl does.
//!
//! minreq reads only some proxy variables itself (lowercase `https_proxy`,
//! `http_proxy`, `all_proxy`) and never `NO_PROXY`, so we decide here and
//! hand minreq the result. Like curl: `https_proxy`/`HTTPS_PROXY` for https,
//! only lowercase `http_proxy` for http (the uppercase one can be set by a
//! CGI request header), then `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY`
//! lists hosts and domains that go direct, `*` meaning all. Unlike curl, a
//! loopback host always goes direct.

use crate::config::env;
use crate::debug;
use crate::url::Origin;

/// The proxy to use for `origin`, if any, and the variable it came from.
pub fn for_origin(origin: &Origin) -> Result<Option<(minreq::Proxy, &'static str)>, minreq::Error> {
    // A proxy would resolve `localhost` on its own machine (and see a
    // plain-http key in clear): this machine is always reached directly.
    if origin.is_loopback() {
        debug!("{} is this machine: connecting directly", origin.host);
        return Ok(None);
    }
    if let Some(list) = env("no_proxy").or_else(|| env("NO_PROXY"))
        && bypasses(&list, &origin.host)
    {
        debug!("{} is in NO_PROXY: connecting directly", origin.host);
        return Ok(None);
    }
    let names: &[&str] = if origin.scheme == "https" {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "all_proxy", "ALL_PROXY"]
    };
    for name in names {
        if let Some(value) = env(name) {
            // Only the variable's name is logged: the value may hold a password.
            debug!("using the proxy from {name}");
            return minreq::Proxy::new(value).map(|p| Some((p, *name)));
        }
    }
    Ok(None)
}

/// Makes minreq connect directly. Given no proxy, minreq looks for one in
/// `https_proxy`, `http_proxy` and `all_proxy` itself, which would undo a
/// `NO_PROXY` bypass; so once we have decided on none, those variables go.
pub fn go_direct() {
    for name in [
        "https_proxy",
        "HTTPS_PROXY",
        "http_proxy",
        "HTTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        if std::env::var_os(name).is_some() {
            // SAFETY: called on the main thread before the request, when no
            // other thread of ours reads the environment: the lock waiter
            // only blocks in flock, the key command was read to the end,
            // and minreq starts its thread only once the request is sent.
            unsafe { std::env::remove_var(name) };
        }
    }
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
