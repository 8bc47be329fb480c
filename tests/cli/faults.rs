//! Server faults: what the binary does when the Console (or identity
//! server) errs, throttles, hangs, hangs up or is not there, beyond the
//! basic retry cases in `core.rs`. Each case checks the outcome, the number
//! of requests made and the one-line message, never how long it took.

use insta::assert_snapshot;

use crate::console::{self, Console, FAR_FUTURE_EXP, Fault, now};
use crate::harness::{Sandbox, free_port};

/// A sandbox whose profile uses the password grant against `console`.
fn password_sandbox(console: &Console) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.set("MY_PASSWORD", console::PASSWORD);
    sandbox.write_password_profile(console, r#"password_env = "MY_PASSWORD""#);
    sandbox
}

/// The message with its elapsed time (` in 1.5 s)`) written ` in <T> s)`.
fn without_elapsed(message: &str) -> String {
    let Some((head, rest)) = message.split_once(" s)") else {
        return message.to_string();
    };
    match head.rsplit_once(" in ") {
        Some((before, _)) => format!("{before} in <T> s){rest}"),
        None => message.to_string(),
    }
}

#[test]
fn two_500s_then_a_token_takes_three_requests_on_the_password_grant() {
    let console = Console::start();
    let sandbox = password_sandbox(&console);
    console.push_fault(Fault::Status(500));
    console.push_fault(Fault::Status(500));
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[0]);
    assert_eq!(out.stderr, "", "a recovered fault is not worth a warning");
    assert_eq!(console.token_requests(), 3);
    assert_eq!(sandbox.cache_files().len(), 1, "the token is cached");
}

#[test]
fn a_non_token_from_the_identity_server_names_auth_url() {
    let console = Console::start();
    let sandbox = password_sandbox(&console);
    console.push_fault(Fault::Html);
    let out = sandbox.run(&["token"]);
    out.failure();
    let home = sandbox.home.path().to_str().unwrap();
    assert_snapshot!(out.redacted(&console).replace(home, "~"), @r#"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: the identity server answered with an HTML page instead of a token: check auth_url in profile "default" of ~/.config/snowplow/credentials.toml points at Snowplow's identity server (<CONSOLE>)
    "#);
}

#[test]
fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    console.push_fault(Fault::StatusRetryAfter(429, 1));
    let out = sandbox.run(&["token", "-v"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[0]);
    assert!(out.stderr.contains("attempt 1: HTTP 429"), "{}", out.stderr);
    assert_eq!(console.token_requests(), 2);
}

#[test]
fn a_retry_after_beyond_the_time_budget_is_not_waited_for() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    console.push_fault(Fault::StatusRetryAfter(503, 3600));
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(without_elapsed(&out.stderr), @"snowplow-credentials: the Console is unavailable (HTTP 503, trace ID t-fault; 1 attempt in <T> s): try again later");
    assert_eq!(console.token_requests(), 1, "given up at once");
    // The queue is drained: the next call gets a token.
    sandbox.run(&["token"]).success();
}

#[test]
fn a_retry_after_too_large_to_parse_or_dated_far_ahead_is_not_waited_for_either() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    let mut seen = String::new();
    for value in ["99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let asked = console.token_requests();
        console.push_fault(Fault::StatusRetryAfterText(503, value));
        let out = sandbox.run(&["token"]);
        out.failure();
        seen.push_str(&format!("{value}: {}", without_elapsed(&out.stderr)));
        assert_eq!(console.token_requests(), asked + 1, "given up at once");
    }
    assert_snapshot!(seen, @"
    99999999999999999999: snowplow-credentials: the Console is unavailable (HTTP 503, trace ID t-fault; 1 attempt in <T> s): try again later
    Fri, 31 Dec 9999 23:59:59 GMT: snowplow-credentials: the Console is unavailable (HTTP 503, trace ID t-fault; 1 attempt in <T> s): try again later
    ");
}

#[test]
fn a_console_down_for_good_loses_no_cached_token() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    // A cached token inside its refresh threshold: the next call refreshes.
    console.set_exp(now() + 600);
    sandbox.run(&["token"]).success();
    let [file] = sandbox.cache_files().try_into().unwrap();
    let cached = std::fs::read(&file).unwrap();

    console.fail_always(Some(Fault::Status(503)));
    let out = sandbox.run(&["token"]);
    out.failure();
    assert!(
        out.stderr.contains("the Console is unavailable (HTTP 503"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        cached,
        "a failed refresh leaves the cache as it was"
    );

    console.fail_always(None);
    console.set_exp(FAR_FUTURE_EXP);
    let recovered = sandbox.run(&["token"]);
    recovered.success();
    assert_eq!(recovered.stdout.trim(), console.issued()[1]);
}

#[test]
fn a_console_that_never_answers_fails_at_the_timeout() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    console.push_fault(Fault::Hang);
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: <CONSOLE> did not answer within 1 s: check your network, or raise --timeout
    ");
    assert_eq!(console.token_requests(), 1, "a timeout is not retried");
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn a_connection_closed_without_an_answer_is_retried() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    console.push_fault(Fault::Close);
    let out = sandbox.run(&["token"]);
    out.success();
    assert_eq!(out.stdout.trim(), console.issued()[0]);
    assert_eq!(console.token_requests(), 2);
}

#[test]
fn a_console_that_always_hangs_up_is_reported() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // A budget (3 × 5 s) far past the four attempts' backoff (3.5 s): the
    // count is the most there may be, not what fits in a budget a loaded
    // machine can overrun (under Wine, one attempt of 1 s was seen to).
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "5");
    console.fail_always(Some(Fault::Close));
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.redacted(&console), @"
    exit: 1
    --- stdout
    --- stderr
    snowplow-credentials: <CONSOLE> closed the connection without an HTTP answer: try again later, or check SNOWPLOW_CONSOLE_HOST (after 4 attempts)
    ");
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn a_refused_connection_to_ipv6_loopback_says_so_and_names_no_proxy() {
    let port = {
        let listener = std::net::TcpListener::bind("[::1]:0").expect("a free port on ::1");
        listener.local_addr().expect("its address").port()
    };
    let mut sandbox = Sandbox::for_host(&format!("http://[::1]:{port}"));
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.stderr.replace(&port.to_string(), "<PORT>"), @"snowplow-credentials: cannot connect to http://[::1]:<PORT>: connection refused; check SNOWPLOW_CONSOLE_HOST (after 3 attempts)");
    assert!(sandbox.cache_files().is_empty());
}

#[test]
fn a_refused_connection_says_so() {
    let port = free_port();
    let mut sandbox = Sandbox::for_host(&format!("http://127.0.0.1:{port}"));
    sandbox.set("SNOWPLOW_CREDENTIALS_TIMEOUT", "1");
    let out = sandbox.run(&["token"]);
    out.failure();
    assert_snapshot!(out.stderr.replace(&port.to_string(), "<PORT>"), @"snowplow-credentials: cannot connect to http://127.0.0.1:<PORT>: connection refused; check SNOWPLOW_CONSOLE_HOST (after 3 attempts)");
    assert!(sandbox.cache_files().is_empty());
}
