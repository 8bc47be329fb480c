//! The config loader on arbitrary file contents: TOML parsing, the error
//! position arithmetic, profile selection and every URL in the profile.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{Flags, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/credentials.toml");
    if let Err(e) = Settings::from_toml(&Flags::default(), path, text) {
        // Errors are one line: they end up in tools' terminal output.
        assert!(!e.to_string().contains('\n'), "{e}");
    }
});
