//! The config loader in-process: precedence, profile choice, and which
//! secret source and auth variant each profile gives. The environment is a
//! table here, never the process's own.

use std::path::{Path, PathBuf};

use super::resolve::{self, Definition, Value, pick};
use super::{
    Credentials, ENV_API_KEY, ENV_CACHE_DIR, ENV_HOST, ENV_ORG_ID, ENV_PROFILE, ENV_TIMEOUT,
    ENV_TOKEN_FILE, Flags, Settings, Source, file,
};
use crate::config::SecretSource;

const PATH: &str = "/etc/credentials.toml";

/// An environment holding only `vars` (and a cache directory); empty values
/// count as unset, as in [`super::env`].
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let mut vars: Vec<(String, String)> = (vars.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Absolute on this platform: `/cache` has no drive on Windows.
    let cache = if cfg!(windows) { r"C:\cache" } else { "/cache" };
    vars.push((ENV_CACHE_DIR.into(), cache.into()));
    move |name| {
        (vars.iter())
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    }
}

#[track_caller]
fn load(
    toml: &str,
    vars: &[(&str, &str)],
    flags: &Flags,
    shared: bool,
) -> Result<Settings, String> {
    let file = file::parse(Path::new(PATH), toml).expect("test TOML parses");
    let read = Some(file::Read { file, shared });
    resolve::settings(flags, &env_of(vars), PathBuf::from(PATH), read).map_err(|e| e.to_string())
}

#[track_caller]
fn loaded(toml: &str, vars: &[(&str, &str)]) -> Settings {
    load(toml, vars, &Flags::default(), false).unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
fn failure(toml: &str, vars: &[(&str, &str)]) -> String {
    match load(toml, vars, &Flags::default(), false) {
        Ok(s) => panic!("loaded {s:?}"),
        Err(e) => e,
    }
}

fn key() -> Definition {
    Definition::Key("org_id", "profile \"p\" of F".into())
}

/// A flag, a variable's value and a file's value, and the expected pick.
type Row = (
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<Value<String>>,
);

#[test]
fn precedence_is_flag_then_environment_then_file() {
    let v = |val: &str, definition| {
        Some(Value {
            val: val.to_string(),
            definition,
        })
    };
    let var = "SNOWPLOW_CONSOLE_ORG_ID";
    #[rustfmt::skip]
    let table: [Row; 8] = [
        // flag,     environment, file,      expected
        (Some("f"), Some("e"),   Some("k"),  v("f", Definition::Flag("--org-id"))),
        (Some("f"), None,        None,       v("f", Definition::Flag("--org-id"))),
        (None,      Some("e"),   Some("k"),  v("e", Definition::Env(var))),
        (None,      Some("e"),   None,       v("e", Definition::Env(var))),
        (None,      None,        Some("k"),  v("k", key())),
        // An empty variable counts as unset.
        (None,      Some(""),    Some("k"),  v("k", key())),
        // An empty flag is still given.
        (Some(""),  Some("e"),   None,       v("", Definition::Flag("--org-id"))),
        (None,      None,        None,       None),
    ];
    for (flag, var_value, in_file, expected) in table {
        let env = env_of(&var_value.map(|e| (var, e)).into_iter().collect::<Vec<_>>());
        let picked = pick(
            &env,
            ("--org-id", flag.map(String::from)),
            var,
            (key(), in_file.map(String::from)),
        );
        assert_eq!(
            picked.unwrap(),
            expected,
            "{flag:?} {var_value:?} {in_file:?}"
        );
    }
}

#[test]
fn a_bad_number_in_the_environment_is_an_error_unless_a_flag_overrides_it() {
    let env = env_of(&[(ENV_TIMEOUT, "soon")]);
    let picked = |flag| pick::<u64>(&env, ("--timeout", flag), ENV_TIMEOUT, (key(), Some(7)));
    assert_eq!(
        picked(None).unwrap_err().to_string(),
        "SNOWPLOW_CREDENTIALS_TIMEOUT must be a whole number of seconds, not `soon`"
    );
    assert_eq!(picked(Some(3)).unwrap().map(|v| v.val), Some(3));
    let env = env_of(&[(ENV_TIMEOUT, "12")]);
    let picked = pick::<u64>(&env, ("--timeout", None), ENV_TIMEOUT, (key(), Some(7)));
    assert_eq!(picked.unwrap().map(|v| v.val), Some(12));
}

#[test]
fn every_setting_says_where_it_came_from() {
    let toml = "[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\napi_key_id = \"\"\nmin_ttl = 60\n\
                api_key_command = [\"pass\", \"show\", \"k\"]\n";
    let flags = Flags {
        timeout: Some(5),
        ..Flags::default()
    };
    let settings = load(
        toml,
        &[(ENV_ORG_ID, "00000000-0000-4000-8000-00000000000e")],
        &flags,
        false,
    )
    .unwrap();
    assert_eq!(
        settings.describe_origins(),
        "profile \"default\" from default; org_id from SNOWPLOW_CONSOLE_ORG_ID; \
         host from default; min_ttl from min_ttl in profile \"default\" of /etc/credentials.toml; \
         timeout from --timeout; \
         api_key from api_key_command `pass` in profile \"default\" of /etc/credentials.toml"
    );
    assert_eq!((settings.min_ttl, settings.timeout), (60, 5));
    assert_eq!(
        settings.source.org(),
        Some("00000000-0000-4000-8000-00000000000e")
    );
    // A zero timeout would never connect: refused, naming where it was set.
    let zero = Flags {
        timeout: Some(0),
        ..Flags::default()
    };
    assert_eq!(
        load(toml, &[], &zero, false).unwrap_err(),
        "--timeout must be at least 1 second, not 0"
    );
    let zero =
        "[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\ntimeout = 0\n";
    assert_eq!(
        failure(zero, &[]),
        "timeout in profile \"default\" of /etc/credentials.toml must be at least 1 second, not 0"
    );
}

#[test]
fn the_profile_comes_from_the_flag_the_environment_or_default_profile() {
    let toml = "default_profile = \"b\"\n[profiles.a]\norg_id = \"00000000-0000-4000-8000-00000000000c\"\napi_key_env = \"K\"\n\
                [profiles.b]\norg_id = \"00000000-0000-4000-8000-00000000000b\"\napi_key_env = \"K\"\n";
    assert_eq!(
        loaded(toml, &[]).source.org(),
        Some("00000000-0000-4000-8000-00000000000b")
    );
    let profile = "SNOWPLOW_CREDENTIALS_PROFILE";
    assert_eq!(
        loaded(toml, &[(profile, "a")]).source.org(),
        Some("00000000-0000-4000-8000-00000000000c")
    );
    let e = failure(toml, &[(profile, "c")]);
    assert_eq!(
        e,
        "no profile \"c\" (from SNOWPLOW_CREDENTIALS_PROFILE) in /etc/credentials.toml; \
         its profiles: a, b"
    );
    // The implicit profile "default" may be absent: the environment alone will do.
    let settings = loaded(
        "",
        &[
            (ENV_ORG_ID, "00000000-0000-4000-8000-00000000000a"),
            (ENV_API_KEY, "k"),
        ],
    );
    assert_eq!(
        (settings.profile.as_str(), settings.file),
        ("default", None)
    );
}

#[test]
fn the_auth_variant_follows_the_key_id_and_the_auth_key() {
    let v3 = loaded(
        "[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\napi_key_id = \"i\"\napi_key_env = \"K\"\n",
        &[],
    );
    assert!(
        matches!(&v3.source, Source::Exchange(Credentials::V3 { org, key_id, .. }) if org == "00000000-0000-4000-8000-00000000000a" && key_id == "i")
    );
    assert_eq!(
        v3.identity(),
        "2:v3 37:https://console.snowplowanalytics.com 36:00000000-0000-4000-8000-00000000000a 1:i"
    );
    let v2 = loaded(
        "[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\napi_key_env = \"K\"\n",
        &[],
    );
    assert!(
        matches!(&v2.source, Source::Exchange(Credentials::V2 { org, .. }) if org == "00000000-0000-4000-8000-00000000000a")
    );
    assert_eq!(v2.username(), "snowplow");
    let password = "[profiles.default]\nauth = \"password\"\nclient_id = \"c\"\nusername = \"u\"\n\
                    client_secret_env = \"S\"\npassword_env = \"P\"\n";
    let settings = loaded(password, &[]);
    assert!(matches!(
        &settings.source,
        Source::Exchange(Credentials::Password { org: None, .. })
    ));
    assert_eq!(
        settings.identity(),
        "8:password 37:https://console.snowplowanalytics.com 0: \
         44:https://id.snowplowanalytics.com/oauth/token 34:https://snowplowanalytics.com/api/ \
         1:c 1:u"
    );
    assert_eq!(
        failure("[profiles.default]\napi_key_env = \"K\"\n", &[]),
        "no organization ID: set SNOWPLOW_CONSOLE_ORG_ID or org_id in profile \"default\" \
         of /etc/credentials.toml"
    );
}

#[test]
fn a_token_file_replaces_the_key_source_from_any_layer() {
    let file_of = |settings: &Settings| match &settings.source {
        Source::File { path, .. } => path.display().to_string(),
        other => panic!("not a token file: {other:?}"),
    };
    // No organization, key ID or key needed.
    let plain = loaded("[profiles.default]\ntoken_file = \"/t\"\n", &[]);
    assert_eq!(file_of(&plain), "/t");
    assert_eq!(plain.source.org(), None);
    // The environment beats the profile's key source, as SNOWPLOW_CONSOLE_API_KEY does.
    let keyed = "[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\napi_key_env = \"K\"\n";
    let from_env = loaded(keyed, &[(ENV_TOKEN_FILE, "/e")]);
    assert_eq!(file_of(&from_env), "/e");
    let origin = from_env.origins.iter().find(|(n, _)| *n == "token_file");
    assert_eq!(origin.unwrap().1, ENV_TOKEN_FILE);
    // The flag beats the environment; empty counts as unset.
    let flags = Flags {
        token_file: Some(PathBuf::from("/f")),
        ..Flags::default()
    };
    let from_flag = load(keyed, &[(ENV_TOKEN_FILE, "/e")], &flags, false).unwrap();
    assert_eq!(file_of(&from_flag), "/f");
    assert!(matches!(
        loaded(keyed, &[(ENV_TOKEN_FILE, "")]).source,
        Source::Exchange(Credentials::V2 { .. })
    ));
    // In the file, `~/` is home and a relative path is the file's
    // directory's; from the environment, a path is the shell's.
    let home = loaded(
        "[profiles.default]\ntoken_file = \"~/t\"\n",
        &[("HOME", "/h")],
    );
    // (Joined as the OS joins paths: `\` on Windows.)
    let joined = |dir: &str, rest: &str| Path::new(dir).join(rest).display().to_string();
    assert_eq!(file_of(&home), joined("/h", "t"));
    let relative = loaded("[profiles.default]\ntoken_file = \"run/t\"\n", &[]);
    assert_eq!(file_of(&relative), joined("/etc", "run/t"));
    assert_eq!(file_of(&loaded("", &[(ENV_TOKEN_FILE, "run/t")])), "run/t");
    // Beside a key source in the same profile, only one can be meant.
    assert_eq!(
        failure(
            "[profiles.default]\ntoken_file = \"/t\"\napi_key_command = [\"k\"]\n",
            &[]
        ),
        "profile \"default\" of /etc/credentials.toml sets both token_file and \
         api_key_command: token_file replaces the key source, so keep one"
    );
}

/// The API key's source and its recorded origin, or the error.
fn api_key(keys: &str, vars: &[(&str, &str)], shared: bool) -> Result<(String, String), String> {
    let toml =
        format!("[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000a\"\n{keys}");
    let settings = load(&toml, vars, &Flags::default(), shared)?;
    let Source::Exchange(Credentials::V2 { key, .. }) = &settings.source else {
        panic!("not v2: {:?}", settings.source)
    };
    let origin = settings.origins.iter().find(|(name, _)| *name == "api_key");
    Ok((format!("{key:?}"), origin.expect("an origin").1.clone()))
}

/// Profile keys, variables, whether others may read the file, and the
/// expected source and origin or error.
type SourceRow = (
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
    Result<(String, String), String>,
);

#[test]
fn exactly_one_secret_source_is_chosen() {
    let place = "in profile \"default\" of /etc/credentials.toml";
    let ok = |source: &str, origin: &str| Ok((source.to_string(), origin.replace("PLACE", place)));
    let err = |e: &str| Err(e.replace("PLACE", place));
    #[rustfmt::skip]
    let table: Vec<SourceRow> = vec![
        ("api_key_command = [\"pass\", \"k\"]\n", &[], false,
            ok("Command([\"pass\", \"k\"])", "api_key_command `pass` PLACE")),
        ("api_key_env = \"MY_KEY\"\n", &[], false, ok("Env(\"MY_KEY\")", "api_key_env $MY_KEY PLACE")),
        ("api_key = \"s3cret\"\n", &[], false, ok("Inline(Secret(REDACTED))", "api_key PLACE")),
        // The variable beats every profile key, even conflicting ones.
        ("api_key = \"a\"\napi_key_env = \"B\"\n", &[(ENV_API_KEY, "k")], true,
            ok("Env(\"SNOWPLOW_CONSOLE_API_KEY\")", "SNOWPLOW_CONSOLE_API_KEY")),
        ("api_key = \"s3cret\"\n", &[], true,
            err("refusing the inline api_key in /etc/credentials.toml: others can read the file; \
                 run `chmod 600 /etc/credentials.toml` or use api_key_command")),
        ("api_key = \"a\"\napi_key_env = \"B\"\n", &[], false,
            err("profile \"default\" of /etc/credentials.toml sets more than one of \
                 api_key_command, api_key_env, api_key: keep one")),
        ("api_key_command = []\n", &[], false,
            err("api_key_command PLACE is empty: give the program and its arguments, \
                 e.g. [\"pass\", \"show\", \"snowplow\"]")),
        ("api_key_command = [\"\"]\n", &[], false,
            err("api_key_command PLACE is empty: give the program and its arguments, \
                 e.g. [\"pass\", \"show\", \"snowplow\"]")),
        // None: only an exchange needs one, and then says where to set it.
        ("", &[], false,
            ok("Missing(\"no API key to exchange for a token: set SNOWPLOW_CONSOLE_API_KEY, or \
                set one of api_key_command, api_key_env, api_key in profile \\\"default\\\" of \
                /etc/credentials.toml\")", "nowhere (only an exchange needs it)")),
    ];
    for (keys, vars, shared, expected) in table {
        assert_eq!(
            api_key(keys, vars, shared),
            expected,
            "{keys:?} {vars:?} shared={shared}"
        );
    }
}

#[test]
fn the_password_grant_needs_each_of_its_secrets() {
    let base = "[profiles.default]\nauth = \"password\"\nclient_id = \"c\"\nusername = \"u\"\n";
    // A missing one is an error only when an exchange needs it.
    let missing = |toml: String| match loaded(&toml, &[]).source {
        Source::Exchange(
            Credentials::Password {
                client_secret: SecretSource::Missing(m),
                ..
            }
            | Credentials::Password {
                password: SecretSource::Missing(m),
                ..
            },
        ) => m,
        auth => panic!("nothing missing: {auth:?}"),
    };
    assert_eq!(
        missing(format!("{base}password_env = \"P\"\n")),
        "no client secret to exchange for a token: set one of client_secret_command, \
         client_secret_env, client_secret in profile \"default\" of /etc/credentials.toml"
    );
    assert_eq!(
        missing(format!("{base}client_secret_env = \"S\"\n")),
        "no password to exchange for a token: set one of password_command, password_env, \
         password in profile \"default\" of /etc/credentials.toml"
    );
    let settings = loaded(
        &format!("{base}client_secret = \"s\"\npassword_command = [\"pw\"]\n"),
        &[],
    );
    let Source::Exchange(Credentials::Password {
        client_secret,
        password,
        ..
    }) = &settings.source
    else {
        panic!("not the password grant")
    };
    assert!(matches!(client_secret, SecretSource::Inline(_)));
    assert!(matches!(password, SecretSource::Command(argv) if argv == &["pw"]));
}

#[test]
fn a_profile_chosen_by_name_ignores_the_console_variables_but_not_flags() {
    let toml = "[profiles.a]\norg_id = \"00000000-0000-4000-8000-00000000000c\"\nhost = \"https://a.test\"\n\
                api_key_env = \"K\"\n[profiles.default]\norg_id = \"00000000-0000-4000-8000-00000000000d\"\n";
    let vars = [
        (ENV_ORG_ID, "00000000-0000-4000-8000-00000000000e"),
        (ENV_HOST, "https://env.test"),
        (ENV_API_KEY, "env-key"),
    ];
    let named = Flags {
        profile: Some("a".into()),
        ..Flags::default()
    };
    let settings = load(toml, &vars, &named, false).unwrap();
    assert_eq!(settings.host.to_string(), "https://a.test");
    assert_eq!(
        settings.source.org(),
        Some("00000000-0000-4000-8000-00000000000c")
    );
    assert_eq!(
        settings.origin("api_key"),
        "api_key_env $K in profile \"a\" of /etc/credentials.toml"
    );
    // The same through the variable that names a profile.
    let mut by_var = vars.to_vec();
    by_var.push((ENV_PROFILE, "a"));
    let settings = load(toml, &by_var, &Flags::default(), false).unwrap();
    assert_eq!(settings.host.to_string(), "https://a.test");
    // A flag still wins.
    let flagged = Flags {
        profile: Some("a".into()),
        host: Some("https://flag.test".into()),
        ..Flags::default()
    };
    let settings = load(toml, &vars, &flagged, false).unwrap();
    assert_eq!(settings.origin("host"), "--host");
    // Chosen implicitly, the profile yields to the variables.
    let settings = load(toml, &vars, &Flags::default(), false).unwrap();
    assert_eq!(
        (settings.source.org(), settings.origin("org_id")),
        (Some("00000000-0000-4000-8000-00000000000e"), ENV_ORG_ID)
    );
    // A named profile that does not exist is an error, never a fallback.
    let missing = Flags {
        profile: Some("nope".into()),
        ..Flags::default()
    };
    assert!(
        load(toml, &vars, &missing, false)
            .unwrap_err()
            .starts_with("no profile \"nope\"")
    );
}
