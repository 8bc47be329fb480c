//! The Bazel credential helper's stdin: the stdin checks, then the JSON
//! request parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{bazel_request, read_input};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = read_input(data, "the build tool") {
        let _ = bazel_request(&text);
    }
});
