//! The Docker credential helper's stdin through the real protocol code:
//! the stdin checks, then `get`, `store`, `erase`-free actions with a
//! fresh token already cached, so no input can reach the network. Beyond
//! not panicking: every answer is one line of JSON, or nothing.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::{
    DockerAction, Flags, Secret, Settings, answer, cache_for, read_input,
};

/// Settings for a Console at https://console.test that also serves
/// registry.test:5000, with a token cached until 2100.
fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<(tempfile::TempDir, Settings)> = OnceLock::new();
    let (_, settings) = SETTINGS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let profile = "[profiles.default]\n\
                       org_id = \"00000000-0000-4000-8000-0000000000aa\"\n\
                       api_key_id = \"key-id\"\n\
                       api_key = \"key\"\nhost = \"https://console.test\"\n\
                       hosts = [\"registry.test:5000\"]\n";
        let path = Path::new("/fuzz/credentials.toml");
        let mut settings = Settings::from_toml(&Flags::default(), path, profile).unwrap();
        settings.cache_dir = dir.path().join("cache");
        let cache = cache_for(&settings);
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
    let actions = [DockerAction::Get, DockerAction::Store, DockerAction::List];
    let action = actions[usize::from(which) % actions.len()];
    let Ok(request) = action.request(|| read_input(input, "docker")) else {
        return;
    };
    if let Ok(out) = answer::<DockerAction>(&request, settings(), false)
        && !out.is_empty()
    {
        assert!(
            out.ends_with('\n') && out.matches('\n').count() == 1,
            "{out:?}"
        );
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
    }
});
