//! snowplow-cli's `snowplow.yml` and `.env` readers on arbitrary text: the
//! YAML event walk and the godotenv quoting rules. Errors are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{dotenv, snowplow_yml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [snowplow_yml(text), dotenv(text)] {
        if let Err(e) = parsed {
            assert!(!e.contains('\n'), "{e}");
        }
    }
});
