//! The JWT decoder, on whatever a server might answer as a token. Beyond
//! not panicking: anything it accepts has the three-part shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::jwt_claims;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if jwt_claims(token).is_ok() {
        assert_eq!(
            token.split('.').count(),
            3,
            "accepted a token without three parts"
        );
    }
});
