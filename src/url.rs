//! URLs, reduced to what this program needs: a scheme, host and port to
//! connect to and compare, and a base path to append API paths to.
//!
//! Two rules live here, and only here:
//! - which transports may carry a secret ([`Url::check_transport`]);
//! - whether a host a tool asks about is one we serve ([`Origin::same_as`]),
//!   so that a global `credential.helper = snowplow` never hands a Console
//!   token to another site.

use std::fmt;
use std::net::IpAddr;

/// Scheme, host and effective port: what two URLs must share to be "the same
/// host" for credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    /// Lowercased; IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

/// A base URL: an origin plus a path prefix without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub origin: Origin,
    pub path: String,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

impl Origin {
    /// Reads `[scheme://]host[:port][/anything]`; without a scheme,
    /// `default_scheme` applies. The scheme's default port fills a missing
    /// port. Query, fragment and path are ignored: this reads the places
    /// tools ask about, where only the origin matters. Configured hosts go
    /// through [`Url::parse`], which refuses a query or fragment.
    pub fn parse(input: &str, default_scheme: &str) -> Result<Origin, String> {
        let before_query = input.split(['?', '#']).next().unwrap_or_default();
        Url::parse(before_query, default_scheme).map(|u| u.origin)
    }

    /// Whether `self` and `other` name the same place: same scheme, host
    /// (case-insensitively, already lowercased) and effective port.
    pub fn same_as(&self, other: &Origin) -> bool {
        self == other
    }

    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The one rule for where a secret (or a token) may travel: `https`
    /// anywhere, plain `http` only to this machine, so that it never
    /// crosses a network in clear.
    pub fn check_transport(&self) -> Result<(), String> {
        if self.scheme == "https" || self.is_loopback() {
            Ok(())
        } else {
            Err(format!(
                "{self} is plain http to another machine: use an https URL (plain http is \
                 allowed only to this machine: localhost, 127.0.0.0/8, ::1)"
            ))
        }
    }

    /// `host` or `host:port` when the port is not the scheme's default, as
    /// git and Terraform write hosts.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if default_port(&self.scheme) == Some(self.port) {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority())
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for form
/// fields and path segments alike: the exchange's URL and `console-url`'s
/// `{org}` are encoded by this one rule.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Url {
    pub fn parse(input: &str, default_scheme: &str) -> Result<Url, String> {
        let input = input.trim();
        // A CR or LF here would end up in a request line or header.
        if input.contains(char::is_control) {
            return Err(format!("`{input}` has a control character"));
        }
        let (scheme, rest) = match input.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => (default_scheme.to_string(), input),
        };
        let Some(default) = default_port(&scheme) else {
            return Err(format!("`{input}` is not an http or https URL"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(format!(
                "`{input}` carries a user name; put none in the URL"
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("`{input}` has an unclosed `[`"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("`{input}` has no host"));
        }
        let port = match port {
            None | Some("") => default,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{input}` has a bad port"))?,
        };
        // Dropping them silently would call another URL than the one given.
        if tail.contains(['?', '#']) {
            return Err(format!(
                "`{input}` has a query or fragment (`?` or `#`): give the scheme, host, port and path only"
            ));
        }
        let path = tail.trim_end_matches('/').to_string();
        Ok(Url {
            origin: Origin {
                scheme,
                host: host.to_ascii_lowercase(),
                port,
            },
            path,
        })
    }

    /// The one rule for where a secret may travel: `https` anywhere, plain
    /// `http` only to this machine, so that a key never crosses a network in
    /// clear.
    pub fn check_transport(&self) -> Result<(), String> {
        self.origin.check_transport().map_err(|_| {
            format!(
                "refusing to send credentials to {} over plain http: use an https URL \
                 (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)",
                self.origin
            )
        })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        Origin::parse(s, "https").unwrap()
    }

    #[test]
    fn parses_and_normalises() {
        let u = Url::parse("HTTPS://Console.SnowplowAnalytics.com:443/", "https").unwrap();
        assert_eq!(u.to_string(), "https://console.snowplowanalytics.com");
        let u = Url::parse("http://127.0.0.1:8080/base/", "https").unwrap();
        assert_eq!(u.to_string(), "http://127.0.0.1:8080/base");
        assert_eq!(origin("[::1]:9000").to_string(), "https://[::1]:9000");
        assert_eq!(origin("[::1]:9000").host, "::1");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(percent_encode("p@ss w&rd=/+"), "p%40ss%20w%26rd%3D%2F%2B");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@host",
            "https://host:99999",
            "https://host:0",
            "https://[::1",
            "https://a b",
            "https://host/path?x",
            "https://host#y",
            "http://127.0.0.1:80/a\r\nb",
            "https://host/\u{1b}",
        ] {
            assert!(Url::parse(bad, "https").is_err(), "{bad}");
        }
    }

    #[test]
    fn same_host_applies_default_ports_and_ignores_case() {
        let console = origin("https://console.snowplowanalytics.com");
        assert!(console.same_as(&origin("console.snowplowanalytics.com")));
        assert!(console.same_as(&origin("CONSOLE.snowplowanalytics.com:443")));
        assert!(console.same_as(&origin("https://console.snowplowanalytics.com/x?y")));
        assert!(!console.same_as(&origin("console.snowplowanalytics.com:8443")));
        assert!(!console.same_as(&origin("http://console.snowplowanalytics.com")));
        assert!(!console.same_as(&origin("console.snowplowanalytics.com.evil.test")));
        assert!(!console.same_as(&origin("github.com")));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://example.com",
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]:80",
            "http://localhost:3000",
        ] {
            assert!(
                Url::parse(ok, "https").unwrap().check_transport().is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.evil.test",
        ] {
            assert!(
                Url::parse(bad, "https").unwrap().check_transport().is_err(),
                "{bad}"
            );
        }
    }
}
