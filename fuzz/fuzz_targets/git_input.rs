//! git's credential input, from raw stdin bytes: the stdin checks, then the
//! `key=value` parser. Nothing it is fed may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{git_request, read_input};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = read_input(data, "git") {
        let _ = git_request(&text);
    }
});
