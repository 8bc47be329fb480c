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

/// The names tools look helpers up by, and the command each stands for.
pub const LINKS: [(&str, &str); 3] = [
    ("git-credential-snowplow", "git"),
    ("docker-credential-snowplow", "docker"),
    ("terraform-credentials-snowplow", "terraform"),
];

/// What `--version` and Docker's `version` print: the version, then which
/// build this is (the target triple, and whether it is static: build.rs).
pub const VERSION_LINE: &str = concat!(
    "snowplow-credentials ",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("BUILD_TARGET"),
    ", ",
    env!("BUILD_LINKING"),
    ")\n"
);

#[derive(Debug, PartialEq)]
pub enum Command {
    /// A tool's credential protocol, or a plain output.
    Serve(Tool),
    Status,
    Clear {
        all: bool,
    },
    InstallLinks(Option<PathBuf>),
    /// `completions SHELL`: the script to install.
    Completions(Shell),
    /// `__complete N WORD...`, what the scripts call on TAB: see complete.rs.
    Complete(Vec<String>),
    Help,
    Version,
}

/// The shells `completions` writes a script for.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
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
pub struct Spec {
    pub words: &'static [&'static str],
    /// The name, then each argument: `<a|b>` one of these words, `<name>`
    /// any value, `[DIR]` an optional directory, `[--flag]` an optional
    /// flag. Shell completion reads it too (complete.rs).
    pub usage: &'static str,
    pub about: &'static str,
    parse: fn(&[&str], bool) -> Option<Command>,
    /// What to say when `parse` refuses the arguments, if more than "wrong
    /// arguments".
    wrong: Option<&'static str>,
}

/// Every command, in `--help` order: the one list of command words.
pub const COMMANDS: &[Spec] = &[
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
        words: &["completions"],
        usage: "completions <bash|zsh|fish|powershell>",
        about: "print the shell's completion script",
        parse: |args, _| {
            Some(Command::Completions(match args {
                ["bash"] => Shell::Bash,
                ["zsh"] => Shell::Zsh,
                ["fish"] => Shell::Fish,
                ["powershell"] => Shell::Powershell,
                _ => return None,
            }))
        },
        wrong: Some("completions needs a shell: bash, zsh, fish or powershell"),
    },
];

/// A global option: `--long`, its short form, the placeholder of its value
/// (none: a switch), and its `--help` text (later lines indented).
pub struct Opt {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Option<&'static str>,
    pub about: &'static str,
}

/// Every global option, in `--help` order. The parser matches the same
/// names (a unit test checks it accepts each); completion offers them.
pub const OPTIONS: &[Opt] = &[
    Opt {
        long: "profile",
        short: None,
        value: Some("NAME"),
        about: "profile in the config file  [env: SNOWPLOW_CREDENTIALS_PROFILE]",
    },
    Opt {
        long: "config",
        short: None,
        value: Some("FILE"),
        about: "config file  [env: SNOWPLOW_CREDENTIALS_CONFIG]\n\
                [default: ~/.config/snowplow/credentials.toml]",
    },
    Opt {
        long: "org-id",
        short: None,
        value: Some("ID"),
        about: "organization ID  [env: SNOWPLOW_CONSOLE_ORG_ID]",
    },
    Opt {
        long: "api-key-id",
        short: None,
        value: Some("ID"),
        about: "API key ID  [env: SNOWPLOW_CONSOLE_API_KEY_ID]",
    },
    Opt {
        long: "host",
        short: None,
        value: Some("URL"),
        about: "Console URL  [env: SNOWPLOW_CONSOLE_HOST]\n\
                [default: https://console.snowplowanalytics.com]",
    },
    Opt {
        long: "min-ttl",
        short: None,
        value: Some("SECONDS"),
        about: "refresh when less than this is left  [default: 900]\n\
                [env: SNOWPLOW_CREDENTIALS_MIN_TTL]",
    },
    Opt {
        long: "timeout",
        short: None,
        value: Some("SECONDS"),
        about: "HTTP connect and read timeout  [default: 10]\n\
                [env: SNOWPLOW_CREDENTIALS_TIMEOUT]",
    },
    Opt {
        long: "refresh",
        short: None,
        value: None,
        about: "exchange a new token even if the cached one is fresh",
    },
    Opt {
        long: "verbose",
        short: Some('v'),
        value: None,
        about: "explain what happens, on stderr (secrets redacted)",
    },
    Opt {
        long: "help",
        short: Some('h'),
        value: None,
        about: "print this help",
    },
    Opt {
        long: "version",
        short: Some('V'),
        value: None,
        about: "print the version, target and whether the build is static",
    },
];

const HELP_HEAD: &str = "\
snowplow-credentials: short-lived Snowplow Console tokens for the tools you use

Usage: snowplow-credentials [OPTIONS] <COMMAND>

Commands:
";

const HELP_TAIL: &str = "
Environment:
  SNOWPLOW_CREDENTIALS_CACHE_DIR   the token cache  [default: ~/.cache/snowplow/credentials]
  SNOWPLOW_CREDENTIALS_LOCK_WAIT   seconds to wait for another process's exchange
  SSL_CERT_FILE                    PEM bundle of the CAs to trust instead of the system's
  HTTPS_PROXY, NO_PROXY            the proxy, read as curl reads them

The API key is read from SNOWPLOW_CONSOLE_API_KEY or the profile's api_key_command,
api_key_env or api_key; there is no flag for it, since argv is visible to all users.
Exit codes: 0 success, 1 failure, 2 usage error.
";

/// `--help`: the commands from [`COMMANDS`] and the options from
/// [`OPTIONS`], between fixed text.
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
    out.push_str("\nOptions:\n");
    for opt in OPTIONS {
        let short = opt.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = opt.value.map(|v| format!(" <{v}>")).unwrap_or_default();
        let left = format!("--{}{value}", opt.long);
        let about = opt.about.replace('\n', &format!("\n{:29}", ""));
        let _ = writeln!(out, "  {short:4}{left:<23}{about}");
    }
    out + HELP_TAIL
}

/// The command a link name stands for, if `argv0` is one.
fn link_command(argv0: &OsString) -> Option<&'static str> {
    let name = std::path::Path::new(argv0).file_name()?.to_str()?;
    LINKS
        .iter()
        .find(|(link, _)| *link == name)
        .map(|(_, cmd)| *cmd)
}

pub fn parse(args: Vec<OsString>) -> Result<Cli> {
    let mut args = args.into_iter();
    let argv0 = args.next().unwrap_or_default();
    // What the completion scripts send is a half-typed line, not options to
    // check: it goes to complete.rs as it is.
    let mut args = args.peekable();
    if args.next_if(|a| a == "__complete").is_some() {
        return Ok(Cli {
            command: Command::Complete(args.map(|a| a.to_string_lossy().into_owned()).collect()),
            flags: Flags::default(),
            refresh: false,
            verbose: false,
        });
    }
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
    fn the_parser_takes_every_option_of_the_table() {
        for opt in OPTIONS {
            let long = format!("--{}", opt.long);
            let mut words = vec!["sc", "token", long.as_str()];
            words.extend(opt.value.map(|_| "5"));
            assert!(parse_words(&words).is_ok(), "{long}");
            if let Some(c) = opt.short {
                let short = format!("-{c}");
                assert!(parse_words(&["sc", "token", &short]).is_ok(), "{short}");
            }
        }
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
