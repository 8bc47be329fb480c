//! The Docker credential helper's stdin through the real protocol code:
//! the stdin checks, then `get`, `store`, `erase`-free actions with a
//! fresh token already cached, so no input can reach the network. Beyond
//! not panicking: every answer is one line of JSON, or nothing.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::config::{Auth, SecretSource, Settings};
use snowplow_credentials::protocol::{answer, docker, read_input};
use snowplow_credentials::secret::Secret;
use snowplow_credentials::token;
use snowplow_credentials::url::{Origin, Url};

/// Settings for a Console at https://console.test that also serves
/// registry.test:5000, with a token cached until 2100.
fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<(tempfile::TempDir, Settings)> = OnceLock::new();
    let (_, settings) = SETTINGS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            profile: "default".into(),
            file: None,
            host: Url::parse("https://console.test", "https").unwrap(),
            org_id: Some("org".into()),
            auth: Auth::ApiKey {
                key_id: Some("key-id".into()),
                key: SecretSource::Inline(Secret::new("key".into())),
            },
            min_ttl: 900,
            timeout: 1,
            command_timeout: 1,
            hosts: vec![Origin::parse("registry.test:5000", "https").unwrap()],
            cache_dir: PathBuf::from(dir.path()),
            origins: Vec::new(),
        };
        let cache = token::cache_for(&settings);
        cache.prepare().unwrap();
        cache
            .write(
                &Secret::new("e30.e30.c2ln".into()),
                4_102_444_800,
                4_102_358_400,
            )
            .unwrap();
        (dir, settings)
    });
    settings
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    let action = [docker::Action::Get, docker::Action::Store, docker::Action::List];
    let Ok(request) = action[usize::from(which) % 3].request(|| read_input(input, "docker")) else {
        return;
    };
    if let Ok(out) = answer::<docker::Action>(&request, settings(), false)
        && !out.is_empty()
    {
        assert!(
            out.ends_with('\n') && out.matches('\n').count() == 1,
            "{out:?}"
        );
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
    }
});
