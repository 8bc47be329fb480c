//! The command line: global options anywhere, then a command and its
//! arguments.
//!
//! Called through a link named `git-credential-snowplow`,
//! `docker-credential-snowplow` or `terraform-credentials-snowplow`, the
//! binary behaves as if that protocol's command had been given first, which
//! is how git, Docker and Terraform find and run their helpers.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use lexopt::prelude::*;

use crate::config::Flags;
use crate::error::{Error, Result};
use crate::protocol::{
    Tool, aws::Aws, bazel, docker, git, kubernetes::Kubernetes, plain::Plain, terraform,
};
use crate::sink;

/// The names tools look helpers up by, and the command each stands for.
pub const LINKS: [(&str, &str); 3] = [
    ("git-credential-snowplow", "git"),
    ("docker-credential-snowplow", "docker"),
    ("terraform-credentials-snowplow", "terraform"),
];

/// What `--version` and Docker's `version` print.
pub const VERSION_LINE: &str = concat!("snowplow-credentials ", env!("CARGO_PKG_VERSION"), "\n");

#[derive(Debug, PartialEq)]
pub enum Command {
    /// A tool's credential protocol, or a plain output.
    Serve(Tool),
    Status,
    Clear {
        all: bool,
    },
    InstallLinks(Option<PathBuf>),
    /// Keep a token file fresh.
    Sink(sink::Options),
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

/// One command: its words (the name, then aliases), how `--help` shows it,
/// and how its arguments (the words after its name) become a [`Command`].
struct Spec {
    words: &'static [&'static str],
    usage: &'static str,
    about: &'static str,
    parse: fn(&[&str], bool) -> Option<Command>,
    /// What to say when `parse` refuses the arguments, if more than "wrong
    /// arguments".
    wrong: Option<&'static str>,
}

/// Every command, in `--help` order: the one list of command words.
const COMMANDS: &[Spec] = &[
    Spec {
        words: &["token"],
        usage: "token",
        about: "print the token (a JWT) and a newline",
        parse: |args, _| {
            args.is_empty()
                .then_some(Command::Serve(Tool::Plain(Plain::Token)))
        },
        wrong: None,
    },
    Spec {
        words: &["header"],
        usage: "header",
        about: "print `Authorization: Bearer <token>`",
        parse: |args, _| {
            args.is_empty()
                .then_some(Command::Serve(Tool::Plain(Plain::Header)))
        },
        wrong: None,
    },
    Spec {
        words: &["status"],
        usage: "status",
        about: "show the profile, identity and cached token's expiry",
        parse: |args, _| args.is_empty().then_some(Command::Status),
        wrong: None,
    },
    Spec {
        words: &["clear"],
        usage: "clear [--all]",
        about: "drop this identity's cached token (--all: every one)",
        parse: |args, all| args.is_empty().then_some(Command::Clear { all }),
        wrong: None,
    },
    Spec {
        words: &["aws", "credential-process"],
        usage: "aws",
        about: "AWS credential_process (alias: credential-process)",
        parse: |args, _| args.is_empty().then_some(Command::Serve(Tool::Aws(Aws))),
        wrong: None,
    },
    Spec {
        words: &["git"],
        usage: "git <get|store|erase>",
        about: "git credential helper (also as git-credential-snowplow)",
        parse: |args, _| {
            Some(Command::Serve(Tool::Git(match args {
                ["get"] => git::Action::Get,
                ["store"] => git::Action::Store,
                ["erase"] => git::Action::Erase,
                _ => return None,
            })))
        },
        wrong: Some("git needs one action: get, store or erase"),
    },
    Spec {
        words: &["kubernetes", "exec-credential"],
        usage: "kubernetes",
        about: "Kubernetes exec credential plugin (alias: exec-credential)",
        parse: |args, _| {
            args.is_empty()
                .then_some(Command::Serve(Tool::Kubernetes(Kubernetes)))
        },
        wrong: None,
    },
    Spec {
        words: &["docker"],
        usage: "docker <get|store|erase|list|version>",
        about: "Docker credential helper (also as docker-credential-snowplow)",
        parse: |args, _| {
            Some(Command::Serve(Tool::Docker(match args {
                ["get"] => docker::Action::Get,
                ["store"] => docker::Action::Store,
                ["erase"] => docker::Action::Erase,
                ["list"] => docker::Action::List,
                ["version"] => docker::Action::Version,
                _ => return None,
            })))
        },
        wrong: Some("docker needs one action: get, store, erase, list or version"),
    },
    Spec {
        words: &["terraform"],
        usage: "terraform <get|store|forget> <host>",
        about: "Terraform credentials helper (also as terraform-credentials-snowplow)",
        parse: |args, _| {
            let [action, host] = args else { return None };
            let action = match *action {
                "get" => terraform::Action::Get,
                "store" => terraform::Action::Store,
                "forget" => terraform::Action::Forget,
                _ => return None,
            };
            let host = host.to_string();
            Some(Command::Serve(Tool::Terraform(terraform::Call {
                action,
                host,
            })))
        },
        wrong: Some("terraform needs an action (get, store or forget) and a host"),
    },
    Spec {
        words: &["bazel"],
        usage: "bazel get",
        about: "Bazel credential helper",
        parse: |args, _| (args == ["get"]).then_some(Command::Serve(Tool::Bazel(bazel::Get))),
        wrong: Some("bazel needs the action get"),
    },
    Spec {
        words: &["install-links"],
        usage: "install-links [DIR]",
        about: "link the git/docker/terraform helper names to this binary",
        parse: |args, _| match args {
            [] => Some(Command::InstallLinks(None)),
            [dir] => Some(Command::InstallLinks(Some(PathBuf::from(dir)))),
            _ => None,
        },
        wrong: None,
    },
    Spec {
        words: &["sink"],
        usage: "sink <PATH> [--once] [--header-file <PATH>] [--mode <0600|0640>] [--group <GROUP>]",
        about: "keep the token file PATH fresh until stopped (--once: write it and exit)",
        parse: |args, _| match args {
            [path] => Some(Command::Sink(sink::Options::at(path))),
            _ => None,
        },
        wrong: Some("sink needs one argument: the token file's path"),
    },
];

const HELP_HEAD: &str = "\
snowplow-credentials: short-lived Snowplow Console tokens for the tools you use

Usage: snowplow-credentials [OPTIONS] <COMMAND>

Commands:
";

const HELP_TAIL: &str = "
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
      --token-file <FILE>    serve the token in FILE, minted elsewhere: no key, no exchange
                             [env: SNOWPLOW_CREDENTIALS_TOKEN_FILE]
  -v, --verbose              explain what happens, on stderr (secrets redacted)
  -h, --help                 print this help
  -V, --version              print the version

The API key is read from SNOWPLOW_CONSOLE_API_KEY or the profile's api_key_command,
api_key_env or api_key (a token_file replaces it); there is no flag for it, since argv
is visible to all users.
Exit codes: 0 success, 1 failure, 2 usage error.
";

/// `--help`: the commands from [`COMMANDS`], between fixed text.
pub fn help() -> String {
    let mut out = HELP_HEAD.to_string();
    for spec in COMMANDS {
        let usage = spec.usage;
        if usage.len() < 27 {
            let _ = writeln!(out, "  {usage:<27}{}", spec.about);
        } else {
            let _ = writeln!(out, "  {usage}\n{:29}{}", "", spec.about);
        }
    }
    out + HELP_TAIL
}

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
    let mut sink = SinkFlags::default();
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
            Long("token-file") => flags.token_file = Some(parser.value()?.into()),
            Long("once") => sink.once = true,
            Long("header-file") => sink.header = Some(parser.value()?.into()),
            Long("mode") => sink.mode = Some(parser.value()?.string()?),
            Long("group") => sink.group = Some(parser.value()?.string()?),
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
        sink.apply(command(&positional, all)?)?
    };
    Ok(Cli {
        command,
        flags,
        refresh,
        verbose,
    })
}

/// The options only `sink` takes, as given anywhere on the line.
#[derive(Default)]
struct SinkFlags {
    once: bool,
    header: Option<PathBuf>,
    mode: Option<String>,
    group: Option<String>,
}

impl SinkFlags {
    /// `command` with these options, if it is `sink`; else an error if any
    /// was given.
    fn apply(self, command: Command) -> Result<Command> {
        let Command::Sink(options) = command else {
            let given = self.once || self.header.is_some() || self.mode.is_some();
            if given || self.group.is_some() {
                return Err(Error::Usage(
                    "--once, --header-file, --mode and --group go with `sink`".into(),
                ));
            }
            return Ok(command);
        };
        let mode = match self.mode.as_deref() {
            None | Some("600" | "0600") => 0o600,
            Some("640" | "0640") => 0o640,
            Some(other) => {
                return Err(Error::Usage(format!(
                    "--mode {other}: the token file is 0600 or 0640, never readable by all"
                )));
            }
        };
        Ok(Command::Sink(sink::Options {
            header: self.header,
            mode,
            group: self.group.as_deref().map(sink::group_id).transpose()?,
            once: self.once,
            ..options
        }))
    }
}

fn command(words: &[String], all: bool) -> Result<Command> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if all && words.first() != Some(&"clear") {
        return Err(Error::Usage("--all goes with `clear`".into()));
    }
    let usage = |msg: &str| Error::Usage(format!("{msg} (see snowplow-credentials --help)"));
    let Some((word, args)) = words.split_first() else {
        return Err(usage("no command given"));
    };
    let Some(spec) = COMMANDS.iter().find(|c| c.words.contains(word)) else {
        return Err(usage(&format!("unknown command `{word}`")));
    };
    (spec.parse)(args, all).ok_or_else(|| match spec.wrong {
        Some(wrong) => usage(wrong),
        None => usage(&format!("wrong arguments for `{word}`")),
    })
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
        assert_eq!(cli.command, Command::Serve(Tool::Plain(Plain::Token)));
        assert_eq!(cli.flags.profile.as_deref(), Some("p"));
        assert_eq!(cli.flags.min_ttl, Some(60));
        assert!(cli.verbose);
    }

    #[test]
    fn link_names_stand_for_their_protocol() {
        let cli = parse_words(&["/usr/bin/git-credential-snowplow", "get"]).unwrap();
        assert_eq!(cli.command, Command::Serve(Tool::Git(git::Action::Get)));
        let cli = parse_words(&["docker-credential-snowplow", "list"]).unwrap();
        assert_eq!(
            cli.command,
            Command::Serve(Tool::Docker(docker::Action::List))
        );
        let cli = parse_words(&["terraform-credentials-snowplow", "get", "x.test"]).unwrap();
        assert_eq!(
            cli.command,
            Command::Serve(Tool::Terraform(terraform::Call {
                action: terraform::Action::Get,
                host: "x.test".into()
            }))
        );
        let cli = parse_words(&["/bin/Git-Credential-Snowplow.EXE", "get"]).unwrap();
        assert_eq!(cli.command, Command::Serve(Tool::Git(git::Action::Get)));
        #[cfg(windows)]
        {
            let cli = parse_words(&[r"C:\bin\docker-credential-snowplow.exe", "list"]).unwrap();
            assert_eq!(
                cli.command,
                Command::Serve(Tool::Docker(docker::Action::List))
            );
        }
        assert!(parse_words(&["git-credential-snowplow.exe.old", "get"]).is_err());
    }

    #[test]
    fn help_shows_every_command_of_the_table() {
        let help = help();
        for spec in COMMANDS {
            let line = format!("\n  {}", spec.usage);
            assert_eq!(help.matches(&line).count(), 1, "{}", spec.usage);
        }
        assert!(help.contains(
            "  docker <get|store|erase|list|version>\n                             Docker \
             credential helper"
        ));
        assert!(help.contains("  bazel get                  Bazel credential helper\n"));
    }

    #[test]
    fn wrong_arguments_name_the_command_or_its_actions() {
        for (words, message) in [
            (
                &["sc", "credential-process", "x"][..],
                "wrong arguments for `credential-process`",
            ),
            (
                &["sc", "install-links", "a", "b"],
                "wrong arguments for `install-links`",
            ),
            (
                &["sc", "docker", "fill"],
                "docker needs one action: get, store, erase, list or version",
            ),
            (
                &["sc", "terraform", "get"],
                "terraform needs an action (get, store or forget) and a host",
            ),
            (&["sc", "bazel"], "bazel needs the action get"),
            (&["sc"], "no command given"),
            (&["sc", "frob"], "unknown command `frob`"),
        ] {
            let err = parse_words(words).unwrap_err().to_string();
            assert_eq!(err, format!("{message} (see snowplow-credentials --help)"));
        }
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
