//! `KUBERNETES_EXEC_INFO`, as client-go (or anything else) might set it.
//! Whatever version it accepts is one it can answer in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::kubernetes_api_version;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(version) = kubernetes_api_version(Some(info)) {
        assert!(
            version.starts_with("client.authentication.k8s.io/"),
            "{version}"
        );
    }
});
