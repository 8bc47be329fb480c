//! AWS `credential_process`: the exact JSON, the 15-minute floor that keeps
//! botocore from re-running us on every access, and botocore itself (the
//! library under boto3 and the AWS CLI) reading a profile that runs us.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use insta::assert_snapshot;
use serde_json::Value;

use crate::console::{self, Console, FAR_FUTURE_EXP, now};
use crate::harness::{self, Sandbox, counting_wrapper, integration, line_count, output_of};

#[test]
fn aws_prints_process_credentials_version_1_with_a_zoned_expiration() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let out = sandbox.run(&["aws"]);
    assert_snapshot!(out.redacted(&console), @r#"
    exit: 0
    --- stdout
    {"Version":1,"AccessKeyId":"11111111-2222-4333-8444-555555555555","SecretAccessKey":"<JWT 1>","SessionToken":"<JWT 1>","Expiration":"2100-01-01T00:00:00Z"}
    --- stderr
    "#);
    // The alias answers the same, from the cache.
    assert_eq!(sandbox.run(&["credential-process"]).stdout, out.stdout);
    assert_eq!(console.token_requests(), 1);
}

#[test]
fn aws_refreshes_inside_15_minutes_whatever_min_ttl_says() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // A day-long token with 10 minutes left.
    console.set_exp(now() + 600);
    let first = sandbox.run(&["token", "--min-ttl", "60"]);
    first.success();
    let cached = sandbox.run(&["token", "--min-ttl", "60"]);
    assert_eq!(cached.stdout, first.stdout);
    assert_eq!(
        console.token_requests(),
        1,
        "10 minutes left is fresh for `token --min-ttl 60`"
    );

    let aws = sandbox.run(&["aws", "--min-ttl", "60"]);
    aws.success();
    assert_eq!(
        console.token_requests(),
        2,
        "botocore would re-run a helper whose token expires within 15 minutes"
    );
    let issued = console.issued();
    let answer: Value = serde_json::from_str(&aws.stdout).unwrap();
    assert_eq!(answer["SessionToken"], issued[1].as_str());

    // A day's token is then served to both from the cache.
    console.set_exp(FAR_FUTURE_EXP);
    sandbox.run(&["aws", "--min-ttl", "60"]).success();
    assert_eq!(console.token_requests(), 3);
    sandbox.run(&["aws", "--min-ttl", "60"]).success();
    let token = sandbox.run(&["token", "--min-ttl", "60"]);
    assert_eq!(token.stdout, format!("{}\n", console.issued()[2]));
    assert_eq!(console.token_requests(), 3);
}

/// Reads the credentials of profile argv[1] with botocore and prints one
/// JSON line per access; waits for a line on stdin before the second.
const BOTOCORE_READER: &str = r#"
import json, sys
import botocore.session

def access(creds):
    frozen = creds.get_frozen_credentials()
    # botocore's parse of our Expiration: comparing it with its own aware
    # "now" fails if it carries no zone.
    expiry = creds._expiry_time
    return {"method": creds.method, "access_key": frozen.access_key,
            "secret_key": frozen.secret_key, "token": frozen.token,
            "expiry": expiry.isoformat(), "aware": expiry.utcoffset() is not None}

profile = sys.argv[1]
creds = botocore.session.Session(profile=profile).get_credentials()
print(json.dumps(access(creds)), flush=True)
sys.stdin.readline()
print(json.dumps(access(creds)), flush=True)
print(json.dumps(access(creds)), flush=True)
other_session = botocore.session.Session(profile=profile).get_credentials()
print(json.dumps(access(other_session)), flush=True)
"#;

/// A sandbox whose AWS config has profile `snowplow` running the binary
/// through a wrapper that logs each run to `runs.log`, with `extra` args.
fn aws_sandbox(console: &Console, extra: &str) -> (Sandbox, PathBuf) {
    let mut sandbox = Sandbox::for_console(console);
    let wrapper = sandbox.path("snowplow-credentials-counted");
    let log = sandbox.path("runs.log");
    counting_wrapper(&wrapper, &log);
    let config = sandbox.path("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile snowplow]\ncredential_process = {} aws{extra}\n",
            wrapper.display()
        ),
    )
    .unwrap();
    sandbox
        .set("AWS_CONFIG_FILE", config.to_str().unwrap())
        .set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    (sandbox, log)
}

/// Runs [`BOTOCORE_READER`]; `between` runs after the first access.
fn read_with_botocore(
    python: &Path,
    sandbox: &Sandbox,
    between: impl FnOnce(),
) -> Vec<serde_json::Map<String, Value>> {
    let mut child = sandbox
        .program(python, &["-c", BOTOCORE_READER, "snowplow"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut accesses = Vec::new();
    if let Some(Ok(line)) = lines.next() {
        accesses.push(line);
        between();
        stdin.write_all(b"go\n").unwrap();
    }
    drop(stdin);
    accesses.extend(lines.map(Result::unwrap));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "botocore failed:\n{stderr}");
    assert_eq!(accesses.len(), 4, "{accesses:?}\n{stderr}");
    accesses
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn botocore_runs_the_process_once_per_session_and_keeps_the_token() {
    let Some(python) = harness::python_with(&["botocore"]) else {
        return;
    };
    let console = Console::start();
    let (sandbox, runs) = aws_sandbox(&console, "");
    let accesses = read_with_botocore(&python, &sandbox, || {});
    let jwt = console.issued()[0].clone();
    for access in &accesses {
        assert_eq!(access["method"], "custom-process");
        assert_eq!(access["token"], jwt.as_str());
        assert_eq!(access["secret_key"], jwt.as_str());
        assert_eq!(access["access_key"], console::KEY_ID);
        assert_eq!(access["expiry"], "2100-01-01T00:00:00+00:00");
        assert_eq!(access["aware"], true);
    }
    assert_eq!(
        line_count(&runs),
        2,
        "one run per botocore session: the second session runs it again"
    );
    assert_eq!(
        console.token_requests(),
        1,
        "and the second run is a cache hit"
    );
}

#[test]
fn botocore_near_expiry_gets_a_new_token_despite_a_low_min_ttl() {
    let Some(python) = harness::python_with(&["botocore"]) else {
        return;
    };
    let console = Console::start();
    // With --min-ttl 60, only the AWS floor makes us exchange again when
    // botocore re-runs us for a token it wants replaced (12 minutes left).
    let (sandbox, runs) = aws_sandbox(&console, " --min-ttl 60");
    console.set_exp(now() + 720);
    let mut runs_at_first_access = 0;
    let accesses = read_with_botocore(&python, &sandbox, || {
        runs_at_first_access = line_count(&runs);
        console.set_exp(FAR_FUTURE_EXP);
    });
    assert_eq!(
        runs_at_first_access, 2,
        "botocore loads, then refreshes a token inside its 15-minute window at once"
    );
    let issued = console.issued();
    assert_eq!(
        issued.len(),
        3,
        "each of those runs, and the next, exchanged"
    );
    let tokens: Vec<_> = accesses.iter().map(|a| a["token"].clone()).collect();
    assert_eq!(
        tokens,
        [&issued[1], &issued[2], &issued[2], &issued[2]].map(|t| Value::from(t.as_str()))
    );
    assert_ne!(accesses[0]["expiry"], "2100-01-01T00:00:00+00:00");
    assert_eq!(accesses[1]["expiry"], "2100-01-01T00:00:00+00:00");
    assert_eq!(
        line_count(&runs),
        4,
        "a day's token stops the re-runs; the new session runs us once (a cache hit)"
    );
}

#[test]
fn the_aws_cli_lists_the_process_as_the_credential_source() {
    let Some(python) = harness::python_with(&["awscli"]) else {
        return;
    };
    let console = Console::start();
    let (sandbox, runs) = aws_sandbox(&console, "");
    let mut cmd = sandbox.program(
        &python,
        &["-m", "awscli", "configure", "list", "--profile", "snowplow"],
    );
    let out = output_of(&mut cmd, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let key_id_tail = &console::KEY_ID[console::KEY_ID.len() - 4..];
    let rows: Vec<_> = out
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("access_key") || l.contains("secret_key"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .collect();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    assert!(rows[0][1].ends_with(key_id_tail), "{}", out.stdout);
    assert_eq!(rows[0][2], "custom-process", "{}", out.stdout);
    assert_eq!(rows[1][2], "custom-process", "{}", out.stdout);
    assert!(
        !out.stdout.contains(&console.issued()[0]),
        "the CLI masks the token"
    );
    assert_eq!(line_count(&runs), 1);
}

#[test]
fn the_console_api_example_lists_organizations_through_the_aws_profile() {
    let Some(python) = harness::python_with(&["botocore"]) else {
        return;
    };
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // The files exactly as shipped; only the environment points at the
    // stand-in, through SNOWPLOW_CONSOLE_HOST as for the helper itself.
    sandbox
        .install_on_path()
        .set(
            "AWS_CONFIG_FILE",
            integration("aws/config").to_str().unwrap(),
        )
        .set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let script = integration("aws/console_api.py");
    let mut cmd = sandbox.program(&python, &[script.to_str().unwrap()]);
    let out = output_of(&mut cmd, None);
    assert_snapshot!(out.redacted(&console), @"
    exit: 0
    --- stdout
    00000000-0000-4000-8000-000000000001 Stand-in Org
    --- stderr
    ");
    let request = console.requests().pop().unwrap();
    assert_eq!(request.path, "/api/msc/v1/organizations");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {}", console.issued()[0]).as_str())
    );
}
