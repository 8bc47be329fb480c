//! The API key in Windows Credential Manager, for real (under Wine in
//! `.ci/cross`, whose advapi32 implements CredWriteW/CredReadW): `key set`
//! from stdin, a miss exchanges with it, a hit does not read it, `key get`
//! gives it back to a pipe, `key delete` removes it.

use crate::console::{self, Console};
use crate::harness::{self, Sandbox};

#[test]
fn credential_manager_round_trip() {
    let console = Console::start();
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!(
        "[profiles.kc]\norg_id = \"{}\"\napi_key_id = \"{}\"\nhost = \"{}\"\n\
         api_key_source = \"keychain\"\n",
        console::ORG,
        console::KEY_ID,
        console.url()
    ));
    let p = ["--profile", "kc"];
    let set = sandbox.run_with_stdin(
        &[&p[..], &["key", "set"]].concat(),
        &format!("{}\n", console::KEY),
    );
    assert!(
        set.success()
            .stderr
            .contains("in Windows Credential Manager"),
        "{}",
        set.stderr
    );
    let got = sandbox.run(&[&p[..], &["key", "get"]].concat());
    assert_eq!(got.success().stdout, format!("{}\n", console::KEY));
    let first = sandbox.run(&[&p[..], &["token"]].concat());
    first.success();
    assert_eq!(console.token_requests(), 1);
    // A hit does not touch the key: with the entry gone, it is still served.
    sandbox
        .run(&[&p[..], &["key", "delete"]].concat())
        .success();
    let hit = sandbox.run(&[&p[..], &["token"]].concat());
    assert_eq!(hit.success().stdout, first.stdout);
    assert_eq!(console.token_requests(), 1);
    let miss = sandbox.run(&[&p[..], &["--refresh", "token"]].concat());
    assert_eq!(miss.code, 1);
    harness::assert_one_clear_line(&miss.stderr);
    assert!(
        miss.stderr
            .contains("in Windows Credential Manager: store it with"),
        "{}",
        miss.stderr
    );
    let again = sandbox.run(&[&p[..], &["key", "delete"]].concat());
    assert!(again.success().stderr.contains("nothing to delete"));
}
