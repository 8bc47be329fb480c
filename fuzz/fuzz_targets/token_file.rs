//! A token file's contents, as ESO, Vault Agent or a script may write them:
//! the bare JWT or the Console's JSON answer. Beyond not panicking: what it
//! accepts is one word, and a JWT in it is read as a JWT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{jwt_claims, token_file_contents};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = token_file_contents(text) {
        let token = token.expose();
        assert!(!token.is_empty() && !token.contains(char::is_whitespace));
        let _ = jwt_claims(token);
    }
});
