//! The command line: global options anywhere, then a command and its
//! arguments.
//!
//! Called through a link named `git-credential-snowplow`,
//! `docker-credential-snowplow` or `terraform-credentials-snowplow`, the
//! binary behaves as if that protocol's command had been given first, which
//! is how git, Docker and Terraform find and run their helpers.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

use crate::config::Flags;
use crate::error::{Error, Result};

/// The names tools look helpers up by, and the command each stands for.
pub const LINKS: [(&str, &str); 3] = [
    ("git-credential-snowplow", "git"),
    ("docker-credential-snowplow", "docker"),
    ("terraform-credentials-snowplow", "terraform"),
];

#[derive(Debug, PartialEq)]
pub enum Command {
    Token,
    Header,
    Status,
    Clear { all: bool },
    Aws,
    Git(String),
    Kubernetes,
    Docker(String),
    Terraform(String, String),
    Bazel(String),
    InstallLinks(Option<PathBuf>),
    Help,
    Version,
}

#[derive(Debug)]
pub struct Cli {
    pub command: Command,
    pub flags: Flags,
    pub refresh: bool,
    pub verbose: bool,
}

pub const HELP: &str = "\
snowplow-credentials: short-lived Snowplow Console tokens for the tools you use

Usage: snowplow-credentials [OPTIONS] <COMMAND>

Commands:
  token                      print the token (a JWT) and a newline
  header                     print `Authorization: Bearer <token>`
  status                     show the profile, identity and cached token's expiry
  clear [--all]              drop this identity's cached token (--all: every one)
  aws                        AWS credential_process (alias: credential-process)
  git <get|store|erase>      git credential helper (also as git-credential-snowplow)
  kubernetes                 Kubernetes exec credential plugin (alias: exec-credential)
  docker <get|store|erase|list|version>
                             Docker credential helper (also as docker-credential-snowplow)
  terraform <get|store|forget> <host>
                             Terraform credentials helper (also as terraform-credentials-snowplow)
  bazel get                  Bazel credential helper
  install-links [DIR]        link the git/docker/terraform helper names to this binary

Options:
      --profile <NAME>       profile in the config file  [env: SNOWPLOW_CREDENTIALS_PROFILE]
      --config <FILE>        config file  [env: SNOWPLOW_CREDENTIALS_CONFIG]
                             [default: ~/.config/snowplow/credentials.toml]
      --org-id <ID>          organization ID  [env: SNOWPLOW_CONSOLE_ORG_ID]
      --api-key-id <ID>      API key ID  [env: SNOWPLOW_CONSOLE_API_KEY_ID]
      --host <URL>           Console URL  [env: SNOWPLOW_CONSOLE_HOST]
                             [default: https://console.snowplowanalytics.com]
      --min-ttl <SECONDS>    refresh when less than this is left  [default: 900]
      --timeout <SECONDS>    HTTP connect and read timeout  [default: 10]
      --refresh              exchange a new token even if the cached one is fresh
  -v, --verbose              explain what happens, on stderr (secrets redacted)
  -h, --help                 print this help
  -V, --version              print the version

The API key is read from SNOWPLOW_CONSOLE_API_KEY or the profile's api_key_command,
api_key_env or api_key; there is no flag for it, since argv is visible to all users.
Exit codes: 0 success, 1 failure, 2 usage error.
";

/// The command a link name stands for, if `argv0` is one. Windows runs it
/// as `NAME.exe`, spelt in whatever case the caller chose, so the suffix and
/// the case are ignored (on every OS: one rule, and harmless on Unix).
fn link_command(argv0: &OsString) -> Option<&'static str> {
    let name = std::path::Path::new(argv0)
        .file_name()?
        .to_str()?
        .to_ascii_lowercase();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    LINKS
        .iter()
        .find(|(link, _)| *link == name)
        .map(|(_, cmd)| *cmd)
}

pub fn parse(args: Vec<OsString>) -> Result<Cli> {
    let mut args = args.into_iter();
    let argv0 = args.next().unwrap_or_default();
    let mut positional: Vec<String> = link_command(&argv0).map(String::from).into_iter().collect();
    let mut parser = lexopt::Parser::from_args(args);
    let mut flags = Flags::default();
    let (mut refresh, mut verbose, mut all) = (false, false, false);
    let mut help = false;
    let mut version = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("profile") => flags.profile = Some(parser.value()?.string()?),
            Long("config") => flags.config = Some(parser.value()?.into()),
            Long("org-id") => flags.org_id = Some(parser.value()?.string()?),
            Long("api-key-id") => flags.api_key_id = Some(parser.value()?.string()?),
            Long("host") => flags.host = Some(parser.value()?.string()?),
            Long("min-ttl") => flags.min_ttl = Some(parser.value()?.parse()?),
            Long("timeout") => flags.timeout = Some(parser.value()?.parse()?),
            Long("refresh") => refresh = true,
            Long("all") => all = true,
            Short('v') | Long("verbose") => verbose = true,
            Short('h') | Long("help") => help = true,
            Short('V') | Long("version") => version = true,
            Long("api-key") | Long("client-secret") | Long("password") => {
                return Err(Error::Usage(
                    "secrets are never taken as flags (argv is visible to every user): set \
                     SNOWPLOW_CONSOLE_API_KEY or api_key_command in the profile"
                        .into(),
                ));
            }
            Value(v) => positional.push(v.string()?),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let command = if help {
        Command::Help
    } else if version {
        Command::Version
    } else {
        command(&positional, all)?
    };
    Ok(Cli {
        command,
        flags,
        refresh,
        verbose,
    })
}

fn command(words: &[String], all: bool) -> Result<Command> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if all && words.first() != Some(&"clear") {
        return Err(Error::Usage("--all goes with `clear`".into()));
    }
    let usage = |msg: &str| {
        Err(Error::Usage(format!(
            "{msg} (see snowplow-credentials --help)"
        )))
    };
    Ok(match words.as_slice() {
        [] => return usage("no command given"),
        ["token"] => Command::Token,
        ["header"] => Command::Header,
        ["status"] => Command::Status,
        ["clear"] => Command::Clear { all },
        ["aws" | "credential-process"] => Command::Aws,
        ["kubernetes" | "exec-credential"] => Command::Kubernetes,
        ["git", action @ ("get" | "store" | "erase")] => Command::Git(action.to_string()),
        ["git", ..] => return usage("git needs one action: get, store or erase"),
        [
            "docker",
            action @ ("get" | "store" | "erase" | "list" | "version"),
        ] => Command::Docker(action.to_string()),
        ["docker", ..] => {
            return usage("docker needs one action: get, store, erase, list or version");
        }
        ["terraform", action @ ("get" | "store" | "forget"), host] => {
            Command::Terraform(action.to_string(), host.to_string())
        }
        ["terraform", ..] => {
            return usage("terraform needs an action (get, store or forget) and a host");
        }
        ["bazel", "get"] => Command::Bazel("get".into()),
        ["bazel", ..] => return usage("bazel needs the action get"),
        ["install-links"] => Command::InstallLinks(None),
        ["install-links", dir] => Command::InstallLinks(Some(PathBuf::from(dir))),
        [word, ..] if is_command(word) => return usage(&format!("wrong arguments for `{word}`")),
        [word, ..] => return usage(&format!("unknown command `{word}`")),
    })
}

fn is_command(word: &str) -> bool {
    [
        "token",
        "header",
        "status",
        "clear",
        "aws",
        "credential-process",
        "kubernetes",
        "exec-credential",
        "install-links",
    ]
    .contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Cli> {
        parse(words.iter().map(OsString::from).collect())
    }

    #[test]
    fn options_go_anywhere() {
        let cli = parse_words(&["sc", "token", "--profile", "p", "-v", "--min-ttl=60"]).unwrap();
        assert_eq!(cli.command, Command::Token);
        assert_eq!(cli.flags.profile.as_deref(), Some("p"));
        assert_eq!(cli.flags.min_ttl, Some(60));
        assert!(cli.verbose);
    }

    #[test]
    fn link_names_stand_for_their_protocol() {
        let cli = parse_words(&["/usr/bin/git-credential-snowplow", "get"]).unwrap();
        assert_eq!(cli.command, Command::Git("get".into()));
        let cli = parse_words(&["docker-credential-snowplow", "list"]).unwrap();
        assert_eq!(cli.command, Command::Docker("list".into()));
        let cli = parse_words(&["terraform-credentials-snowplow", "get", "x.test"]).unwrap();
        assert_eq!(
            cli.command,
            Command::Terraform("get".into(), "x.test".into())
        );
        let cli = parse_words(&["/bin/Git-Credential-Snowplow.EXE", "get"]).unwrap();
        assert_eq!(cli.command, Command::Git("get".into()));
        #[cfg(windows)]
        {
            let cli = parse_words(&[r"C:\bin\docker-credential-snowplow.exe", "list"]).unwrap();
            assert_eq!(cli.command, Command::Docker("list".into()));
        }
        assert!(parse_words(&["git-credential-snowplow.exe.old", "get"]).is_err());
    }

    #[test]
    fn usage_errors() {
        for words in [
            &["sc"][..],
            &["sc", "nope"],
            &["sc", "git"],
            &["sc", "git", "fill"],
            &["sc", "token", "--all"],
            &["sc", "token", "--api-key", "x"],
            &["sc", "token", "--min-ttl", "soon"],
            &["sc", "terraform", "get"],
            &["sc", "token", "extra"],
        ] {
            let err = parse_words(words).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{words:?}: {err}");
        }
    }
}
