//! URLs, reduced to what this program needs: a scheme, host and port to
//! connect to and compare, and a base path to append API paths to.
//!
//! Three rules live here, and only here:
//! - which transports may carry a secret ([`Url::check_transport`]);
//! - whether a host a tool asks about is one we serve ([`Origin::same_as`]),
//!   so that a global `credential.helper = snowplow` never hands a Console
//!   token to another site;
//! - what a host is: dot-separated labels of letters, digits, `-` and `_`
//!   (none empty, none starting or ending with `-`), an IPv4 literal or
//!   `[::1]`; never a wildcard, and never a user name or password, which no
//!   message repeats ([`without_userinfo`] is applied before any URL is
//!   quoted, and a configured URL holds no `@` anywhere).

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
        parse_parts(before_query, default_scheme).map(|(origin, _)| origin)
    }

    /// Reads a host as git and Terraform name it: `host[:port]` alone, with
    /// `scheme`. A path, query, fragment, user name or scheme makes it no
    /// host at all (rather than the host before the `/`), so a tool asking
    /// about `console.example.com/elsewhere` gets no Console token.
    pub fn parse_host(host: &str, scheme: &str) -> Result<Origin, String> {
        if host.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "`{}` is not a host: give `host` or `host:port` alone",
                without_userinfo(host)
            ));
        }
        let scheme = scheme.to_ascii_lowercase();
        if default_port(&scheme).is_none() {
            return Err(format!("`{scheme}` is not http or https"));
        }
        Url::parse(&format!("{scheme}://{host}"), &scheme).map(|u| u.origin)
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

/// `input` with whatever comes before an `@` (after the scheme) written
/// `***`, as every message that quotes a URL given to us must show it: that
/// may be a password. The last `@` counts, not the authority's, since a
/// password pasted unencoded may hold a `/` that would end the authority
/// early; in a URL with an `@` in its path that hides the host too, which
/// is the price of never repeating a password.
pub fn without_userinfo(input: &str) -> std::borrow::Cow<'_, str> {
    let start = input.find("://").map_or(0, |i| i + 3);
    match input[start..].rfind('@') {
        Some(at) => format!("{}***{}", &input[..start], &input[start + at..]).into(),
        None => input.into(),
    }
}

/// Whether `host` (without brackets) is a host name or IP literal:
/// dot-separated labels of letters, digits, `-` and `_`, none empty and none
/// starting or ending with `-` (so `reg..example.com` and `-reg.example.com`
/// are refused, as DNS would refuse them), or the IPv6 loopback `::1`. Other
/// IPv6 literals are refused: the HTTP client cannot connect to them. A `*`
/// is refused like any other character: nothing here matches by pattern, so
/// `*.example.com` would only ever match itself.
fn is_host(host: &str, bracketed: bool) -> bool {
    if bracketed {
        return host
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    host.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && (label.bytes()).all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    })
}

/// The message for a URL given with a user name or password, which it does
/// not repeat.
fn userinfo_refused(shown: &str) -> String {
    format!(
        "`{shown}` was given with a user name or password (not shown here): put none \
         in the URL, the key or token is the only credential sent"
    )
}

/// Whether `input`, which has no `://`, starts as a URL with a scheme but a
/// slash missing (`https:/host`, `http:host/x`): a word of letters (then
/// letters, digits, `+`, `-`, `.`) and a `:` not followed by a port number.
/// Read as a bare host it would name a machine called `https`.
fn is_scheme_without_slashes(input: &str) -> bool {
    let Some((word, after)) = input.split_once(':') else {
        return false;
    };
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && (word.bytes()).all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !after.starts_with(|c: char| c.is_ascii_digit())
}

/// Splits an authority (already known to carry no userinfo) into its host,
/// without brackets, and the text after its `:`, if any. On its own because an
/// IPv6 literal is full of colons: only the `:` after its closing `]` starts a
/// port, while for a name it is the last one. `shown` is the URL as errors may
/// print it.
fn split_authority<'a>(
    authority: &'a str,
    shown: &str,
) -> Result<(&'a str, Option<&'a str>), String> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("`{shown}` has an unclosed `[`"))?;
        Ok(match after {
            "" => (host, None),
            after => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| format!("`{shown}` has a bad port"))?,
                ),
            ),
        })
    } else {
        Ok(match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        })
    }
}

/// The port a URL names, or the scheme's `default` when it names none (or
/// ends in a bare `:`, as `http://host:/` means the default too). Port 0 is
/// refused: no server listens there. `shown` is the URL as errors may print
/// it.
fn port_or_default(port: Option<&str>, default: u16, shown: &str) -> Result<u16, String> {
    match port {
        None | Some("") => Ok(default),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("`{shown}` has a bad port")),
    }
}

/// Reads `[scheme://]host[:port][/path]` into its origin and the text after
/// the authority, for [`Url::parse`] and [`Origin::parse`] alike: the one
/// reading of a scheme, host and port.
fn parse_parts<'a>(input: &'a str, default_scheme: &str) -> Result<(Origin, &'a str), String> {
    let input = input.trim();
    let shown = without_userinfo(input);
    // A CR or LF here would end up in a request line or header.
    if input.contains(char::is_control) {
        return Err(format!("`{shown}` has a control character"));
    }
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None if is_scheme_without_slashes(input) => {
            return Err(format!(
                "`{shown}` starts with a scheme but not `://`: write it `https://host` \
                 (or give the host alone)"
            ));
        }
        None => (default_scheme.to_string(), input),
    };
    let Some(default) = default_port(&scheme) else {
        return Err(format!("`{shown}` is not an http or https URL"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(userinfo_refused(&shown));
    }
    let bracketed = authority.starts_with('[');
    let (host, port) = split_authority(authority, &shown)?;
    if host.is_empty() {
        return Err(format!("`{shown}` has no host"));
    }
    if !is_host(host, bracketed) {
        return Err(format!(
            "`{shown}` has a bad host: give a host name (labels of letters, digits, `-`, `_`, \
             joined by `.`, none starting or ending with `-`), an IPv4 address or [::1]; \
             a wildcard `*` is not supported, list each host"
        ));
    }
    let port = port_or_default(port, default, &shown)?;
    let origin = Origin {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    };
    Ok((origin, tail))
}

impl Url {
    /// Reads a configured URL: [`parse_parts`], and a path with neither a
    /// query or fragment nor an `@` anywhere (an `@` in the path may be a
    /// password pasted in the wrong place, and every message would quote it).
    pub fn parse(input: &str, default_scheme: &str) -> Result<Url, String> {
        let (origin, tail) = parse_parts(input, default_scheme)?;
        let shown = without_userinfo(input.trim());
        if tail.contains('@') {
            return Err(userinfo_refused(&shown));
        }
        // Dropping them silently would call another URL than the one given.
        if tail.contains(['?', '#']) {
            return Err(format!(
                "`{shown}` has a query or fragment (`?` or `#`): remove it, a URL given here \
                 carries none"
            ));
        }
        let path = tail.trim_end_matches('/').to_string();
        Ok(Url { origin, path })
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
            "https://*.example.com",
            "https://exa*mple.com",
            "https://[::1]x",
            "https://[nothost]",
            "https://host%2f",
        ] {
            assert!(Url::parse(bad, "https").is_err(), "{bad}");
        }
    }

    #[test]
    fn no_message_repeats_a_password() {
        assert_eq!(without_userinfo("https://u:pw@h:1/p"), "https://***@h:1/p");
        assert_eq!(without_userinfo("u:pw@h"), "***@h");
        assert_eq!(without_userinfo("https://h/p"), "https://h/p");
        for bad in [
            "https://user:s3cr3t@127.0.0.1:1/",
            "https://user:s3/cr3t@127.0.0.1:1/",
            "https://user:s3cr3t@127.0.0.1:1/p@x?q",
            "ftp://user:s3cr3t@h",
            "https://user:s3cr3t@h:99999",
            "https://user:s3cr3t@h/?q",
            "user:s3cr3t@h\r",
        ] {
            let e = Url::parse(bad, "https").unwrap_err();
            assert!(!e.contains("s3cr3t"), "{e}");
            let e = Origin::parse_host(bad, "https").unwrap_err();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }

    /// Red team round four: `https:/u:pw@h` read as a bare host named a
    /// machine `https`; a scheme missing a slash is refused, unquoted
    /// password and all, while a bare host and `host:port` still read.
    #[test]
    fn a_scheme_without_both_slashes_is_refused() {
        for bad in [
            "https:/u:SECRETPW@h.com",
            "http:/127.0.0.1:8080/x",
            "https:/h.com",
            "https:h.com",
            "HTTPS:/h.com",
            "ftp:/h.com",
            "https:",
        ] {
            let e = Url::parse(bad, "https").unwrap_err();
            assert!(!e.contains("SECRETPW"), "{e}");
            assert!(Origin::parse(bad, "https").is_err(), "{bad}");
        }
        let e = Url::parse("https:/h.com", "https").unwrap_err();
        assert!(e.contains("`://`"), "{e}");
        assert_eq!(
            origin("console.example.com").to_string(),
            "https://console.example.com"
        );
        assert_eq!(
            origin("localhost:8080").to_string(),
            "https://localhost:8080"
        );
        assert_eq!(
            origin("localhost:8080/x").to_string(),
            "https://localhost:8080"
        );
    }

    /// Red team round four: an `@` in a configured URL's path was quoted
    /// as is, `user:pw@` and all; it is refused, without repeating it. A
    /// tool may still ask about such a URL: only its origin is read.
    #[test]
    fn a_configured_url_has_no_at_sign_anywhere() {
        for bad in [
            "https://h.com/u:SECRETPW@x",
            "https://h.com/a/u:SECRETPW@x/",
        ] {
            let e = Url::parse(bad, "https").unwrap_err();
            assert!(!e.contains("SECRETPW"), "{e}");
            assert!(e.contains("user name or password"), "{e}");
        }
        assert_eq!(origin("https://h.com/u@x").to_string(), "https://h.com");
    }

    /// Red team round four: empty labels, labels at a `-`, and IPv6
    /// literals the client cannot reach were accepted as hosts.
    #[test]
    fn a_host_name_is_dns_labels_and_ipv6_is_loopback_only() {
        for bad in [
            "https://reg..example.com",
            "https://-reg.example.com",
            "https://reg-.example.com",
            "https://reg.-example.com",
            "https://.example.com",
            "https://example.com.",
            "https://[::2]",
            "https://[2001:db8::1]:8443",
        ] {
            assert!(Url::parse(bad, "https").is_err(), "{bad}");
        }
        for ok in [
            "https://re-g.ex_ample.com",
            "https://a.b-c.d",
            "http://[::1]:1",
            "http://[0:0:0:0:0:0:0:1]",
            "http://127.0.0.1",
        ] {
            assert!(Url::parse(ok, "https").is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_host_as_git_and_terraform_name_it_is_a_host_alone() {
        let host = |s| Origin::parse_host(s, "https");
        assert_eq!(
            host("Console.test:8443").unwrap(),
            origin("console.test:8443")
        );
        assert_eq!(host("[::1]:9000").unwrap(), origin("[::1]:9000"));
        for bad in [
            "console.test/x",
            "console.test/",
            "console.test?x",
            "u@console.test",
            "https://console.test",
            "*.test",
            "",
        ] {
            assert!(host(bad).is_err(), "{bad}");
        }
        assert!(Origin::parse_host("console.test", "https://console.test/x").is_err());
        assert!(Origin::parse_host("console.test", "ftp").is_err());
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
