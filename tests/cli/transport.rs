//! Transport security: where the key may travel and how. Plain http to
//! another machine is refused before anything is sent (or any secret is
//! even read); a redirect never carries the key elsewhere; TLS trusts only
//! what the system (or `SSL_CERT_FILE`) trusts; the proxy from the
//! environment is used, `NO_PROXY` bypasses it, and a loopback host never
//! goes through one.

use std::io::Write;
use std::net::TcpListener;

use insta::assert_snapshot;

// Unix only: every test with a proxy reaches the HTTPS stand-in.
#[cfg(unix)]
use crate::connect_proxy::{ConnectProxy, PROXY_ONLY_NAME};
use crate::console::{self, Console};
use crate::harness::Sandbox;
#[cfg(unix)]
use crate::harness::{self, free_port};
#[cfg(unix)]
use crate::tls::{TlsCerts, TlsProxy};

/// A host no resolver knows (RFC 2606), so that even a bug would send
/// nothing off this machine.
#[cfg(unix)]
const REMOTE: &str = "console.invalid";

// Unix only: its key command is an `sh -c` script.
#[cfg(unix)]
#[test]
fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let proxy = ConnectProxy::start();
    let mut sandbox = Sandbox::new();
    let marker = sandbox.path("key-command-ran");
    // Every proxy variable points at the stand-in proxy: a connection
    // attempt of any kind would show there.
    for name in ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy"] {
        sandbox.set(name, &proxy.url());
    }
    let reads_key = format!(
        "[\"sh\", \"-c\", \"touch {}; echo {}\"]",
        marker.display(),
        console::KEY
    );
    sandbox.write_config(&format!(
        "[profiles.default]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"http://{REMOTE}\"\n\
         api_key_command = {reads_key}\n\n\
         [profiles.bot]\nauth = \"password\"\norg_id = \"{}\"\nauth_url = \"http://{REMOTE}/oauth/token\"\n\
         client_id = \"id\"\nusername = \"bot\"\nclient_secret_command = {reads_key}\n\
         password_command = {reads_key}\n",
        console::ORG,
        console::KEY_ID,
        console::ORG,
    ));
    let mut seen = String::new();
    for profile in ["default", "bot"] {
        let out = sandbox.run(&["token", "--profile", profile]);
        out.failure();
        seen.push_str(&out.stderr);
    }
    assert_snapshot!(seen, @"
    snowplow-credentials: refusing to send credentials to http://console.invalid over plain http: use an https URL (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)
    snowplow-credentials: refusing to send credentials to http://console.invalid over plain http: use an https URL (plain http is allowed only to this machine: localhost, 127.0.0.0/8, ::1)
    ");
    assert_eq!(proxy.tunnels(), Vec::<String>::new(), "nothing was sent");
    assert!(!marker.exists(), "no secret was read");
}

#[test]
fn a_redirect_is_not_followed() {
    // Where the redirect points: it must never hear the key.
    let elsewhere = Console::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let location = format!("{}/steal", elsewhere.url());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        console::read_head(&mut stream).expect("the token request");
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(answer.as_bytes()).unwrap();
    });
    let sandbox = Sandbox::for_host(&format!("http://{addr}"));
    let out = sandbox.run(&["token"]);
    server.join().unwrap();
    out.failure();
    assert_snapshot!(out.stderr.replace(&addr.to_string(), "<ADDR>"), @"snowplow-credentials: http://<ADDR> answered HTTP 307 to the token request: check SNOWPLOW_CONSOLE_HOST");
    assert!(
        elsewhere.requests().is_empty(),
        "the key went to the Location"
    );
}

#[cfg(unix)]
/// The stand-in Console behind HTTPS, with certificates from a test CA.
struct Https {
    console: Console,
    certs: TlsCerts,
    front: TlsProxy,
}

#[cfg(unix)]
fn https() -> Option<Https> {
    harness::require("openssl")?;
    harness::require("python3")?;
    let console = Console::start();
    let certs = TlsCerts::generate();
    let front = TlsProxy::start(&certs, console.addr(), &[]);
    Some(Https {
        console,
        certs,
        front,
    })
}

#[cfg(unix)]
fn sandbox_for(https: &Https) -> Sandbox {
    Sandbox::for_host(&https.front.url())
}

// Unix only: the HTTPS stand-in is Linux's openssl and python3.
#[cfg(unix)]
#[test]
fn an_untrusted_certificate_points_at_ssl_cert_file() {
    let Some(https) = https() else { return };
    let mut sandbox = sandbox_for(&https);
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.stderr.replace(&https.front.port.to_string(), "<PORT>"), @"snowplow-credentials: TLS with https://localhost:<PORT> failed (invalid peer certificate: UnknownIssuer): if your network uses its own certificate authority, point SSL_CERT_FILE at its PEM bundle");
    assert_eq!(https.console.token_requests(), 0, "nothing got through");

    sandbox.set("SSL_CERT_FILE", https.certs.ca_pem.to_str().unwrap());
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), https.console.issued()[0]);
}

// Unix only: the HTTPS stand-in is Linux's openssl and python3.
#[cfg(unix)]
#[test]
fn the_proxy_from_the_environment_is_used_and_no_proxy_bypasses_it() {
    let Some(https) = https() else { return };
    let proxy = ConnectProxy::start();
    // A name only the proxy resolves: loopback hosts never go through one.
    let target = format!("{PROXY_ONLY_NAME}:{}", https.front.port);
    let mut sandbox = sandbox_for(&https);
    sandbox
        .set("SSL_CERT_FILE", https.certs.ca_pem.to_str().unwrap())
        .set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1")
        .set("SNOWPLOW_CONSOLE_HOST", &format!("https://{target}"));

    let mut tunnels = 0;
    for (proxy_var, no_proxy_var) in [("HTTPS_PROXY", "NO_PROXY"), ("https_proxy", "no_proxy")] {
        sandbox.set(proxy_var, &proxy.url());
        sandbox.run(&["token", "--refresh"]).success();
        tunnels += 1;
        assert_eq!(proxy.tunnels().len(), tunnels, "{proxy_var} was used");
        assert_eq!(proxy.tunnels().last(), Some(&target));

        for list in [PROXY_ONLY_NAME, ".example.com, console.test", "*", ".test"] {
            sandbox.set(no_proxy_var, list);
            // Direct, the name resolves nowhere: the attempt fails, and
            // the proxy saw nothing.
            let out = sandbox.run(&["token", "--refresh"]);
            assert_eq!(out.code, 1, "{}", out.stderr);
            assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);
            assert_eq!(
                proxy.tunnels().len(),
                tunnels,
                "{no_proxy_var}={list} did not bypass {proxy_var}"
            );
        }
        sandbox.unset(proxy_var).unset(no_proxy_var);
    }
}

// Unix only: the HTTPS stand-in is Linux's openssl and python3.
#[cfg(unix)]
#[test]
fn a_loopback_host_goes_direct_whatever_the_proxy_variables_say() {
    let Some(https) = https() else { return };
    let console = Console::start();
    let proxy = ConnectProxy::start();
    let mut sandbox = Sandbox::for_console(&console);
    for var in [
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "all_proxy",
        "ALL_PROXY",
    ] {
        sandbox.set(var, &proxy.url());
    }
    sandbox.run(&["token", "--refresh"]).success();
    sandbox
        .set("SNOWPLOW_CONSOLE_HOST", &https.front.url())
        .set("SSL_CERT_FILE", https.certs.ca_pem.to_str().unwrap());
    sandbox.run(&["token", "--refresh"]).success();
    assert_eq!(proxy.tunnels(), Vec::<String>::new());
}

// Unix only: the HTTPS stand-in is Linux's openssl and python3.
#[cfg(unix)]
#[test]
fn a_proxy_that_cannot_be_reached_is_named_and_its_password_is_not() {
    let Some(https) = https() else { return };
    let port = free_port();
    let mut sandbox = sandbox_for(&https);
    sandbox
        .set("SSL_CERT_FILE", https.certs.ca_pem.to_str().unwrap())
        .set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1")
        .set(
            "SNOWPLOW_CONSOLE_HOST",
            &format!("https://{PROXY_ONLY_NAME}:{}", https.front.port),
        )
        .set(
            "HTTPS_PROXY",
            &format!("http://me:canary-proxy-pa55@127.0.0.1:{port}"),
        );
    let out = sandbox.run(&["token", "-v"]);
    assert_eq!(out.code, 1);
    assert!(!out.stderr.contains("canary-proxy-pa55"), "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap();
    assert_snapshot!(last.replace(&https.front.port.to_string(), "<PORT>").replace(&port.to_string(), "<PROXY-PORT>"), @"snowplow-credentials: cannot connect to the proxy from HTTPS_PROXY for https://console.test:<PORT>: connection refused; check HTTPS_PROXY, or add console.test to NO_PROXY (after 3 attempts)");
}

// Unix only: its key command is an `sh -c` script.
#[cfg(unix)]
#[test]
fn the_key_command_still_sees_the_proxy_variables() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY");
    let key_file = sandbox.path("key");
    std::fs::write(&key_file, console::KEY).unwrap();
    let seen = sandbox.path("seen");
    let script = format!(
        "env | grep -i _proxy= | sort > '{}'; cat '{}'",
        seen.display(),
        key_file.display()
    );
    sandbox.write_config(&format!(
        "[profiles.default]\napi_key_command = [\"sh\", \"-c\", {script:?}]\n"
    ));
    // Direct to the stand-in (no_proxy), so the proxies need not exist.
    sandbox
        .set("http_proxy", "http://127.0.0.1:9/")
        .set("HTTPS_PROXY", "http://127.0.0.1:9/")
        .set("no_proxy", "127.0.0.1");
    sandbox.run(&["token"]).success();
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "HTTPS_PROXY=http://127.0.0.1:9/\nhttp_proxy=http://127.0.0.1:9/\nno_proxy=127.0.0.1\n"
    );
}
