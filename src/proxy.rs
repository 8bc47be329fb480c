//! Choosing a proxy the way curl does.
//!
//! minreq reads only some proxy variables itself (lowercase `https_proxy`,
//! `http_proxy`, `all_proxy`) and never `NO_PROXY`, so we decide here and
//! hand minreq the result. Like curl: `https_proxy`/`HTTPS_PROXY` for https,
//! only lowercase `http_proxy` for http (the uppercase one can be set by a
//! CGI request header), then `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY`
//! lists hosts and domains that go direct, `*` meaning all.

use crate::config::env;
use crate::debug;
use crate::url::Origin;

/// The proxy to use for `origin`, if any.
pub fn for_origin(origin: &Origin) -> Result<Option<minreq::Proxy>, minreq::Error> {
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
            return minreq::Proxy::new(value).map(Some);
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
