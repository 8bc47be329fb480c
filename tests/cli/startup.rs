//! How the process starts. These pin the two things std's wrapper around
//! `main` does for us that matter (src/main.rs), so that a change of entry
//! point (it was once `#![no_main]`) cannot lose them: a closed standard
//! stream is reopened on /dev/null, so no file we open can take its
//! descriptor and receive the token; and a reader that hangs up is an error
//! we report, not a silent death by SIGPIPE.

use std::process::Stdio;

use crate::console::Console;
use crate::harness::{Sandbox, output_of};

#[test]
fn a_closed_stream_lends_its_descriptor_to_no_file() {
    let console = Console::start();
    let mut sandbox = Sandbox::for_console(&console);
    // Without a key ID, each exchange warns on stderr, and it does so while
    // holding the refresh lock, whose file would get descriptor 2 if that
    // were left closed: the warning would go into it.
    sandbox.unset("SNOWPLOW_CONSOLE_API_KEY_ID");
    for (closed, script) in [
        ("stderr", r#"exec "$0" token 2>&-"#),
        ("stdout", r#"exec "$0" token >&-"#),
    ] {
        sandbox.run(&["clear"]).success();
        for call in ["miss", "hit"] {
            let out = output_of(&mut sandbox.shell(script), None);
            assert_eq!(out.code, 0, "{closed} closed, {call}: {out:?}");
        }
        for entry in std::fs::read_dir(sandbox.cache_dir()).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if path.extension().is_some_and(|e| e == "lock") {
                assert_eq!(text, "", "{closed} closed: output went into the lock file");
            } else if path.extension().is_some_and(|e| e == "json") {
                let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert!(entry["token"].is_string(), "{closed} closed: {text}");
            } else {
                // The directory's CACHEDIR.TAG, written as it was created.
                assert!(text.starts_with("Signature: "), "{closed} closed: {text}");
            }
        }
    }
    assert_eq!(console.token_requests(), 2);
}

#[test]
fn a_reader_that_hangs_up_is_an_error_not_a_signal() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    for args in [&["token"][..], &["aws"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = sandbox
            .command(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {:?}", out.status);
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "snowplow-credentials: cannot write to standard output: Broken pipe (os error 32)\n",
            "{args:?}"
        );
    }
}
