//! The command line: global options anywhere, then a command and its
//! arguments.
//!
//! Called through a link named `git-credential-snowplow`,
//! `docker-credential-snowplow` or `terraform-credentials-snowplow`, the
//! binary behaves as if that protocol's command had been given first, which
//! is how git, Docker and Terraform find and run their helpers.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    Status {
        json: bool,
    },
    /// The Console's URL, with a path appended (`{org}` filled in).
    ConsoleUrl {
        path: Option<String>,
        json: bool,
    },
    Clear {
        all: bool,
    },
    InstallLinks {
        dir: Option<PathBuf>,
        /// The commands (`git`, `docker`, `terraform`) whose links to make;
        /// all when empty.
        only: Vec<String>,
        remove: bool,
    },
    /// Keep a token file fresh.
    Sink(sink::Options),
    /// `completions SHELL`: the script to install.
    Completions(Shell),
    /// `__complete N WORD...`, what the scripts call on TAB: see complete.rs.
    Complete(Vec<String>),
    /// The help, or one command's (by its first word).
    Help(Option<&'static str>),
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

/// Options that belong to one command rather than to every one.
#[derive(Debug, Default)]
struct Own {
    all: bool,
    json: bool,
    only: Vec<String>,
    remove: bool,
}

impl Own {
    /// The options given, by name.
    fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--all", self.all),
            ("--json", self.json),
            ("--only", !self.only.is_empty()),
            ("--remove", self.remove),
        ];
        flags.into_iter().filter(|f| f.1).map(|f| f.0).collect()
    }
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
    /// The name, then each argument: `<a|b>` one of these words, `<NAME>`
    /// a value (`PATH`, `FILE`, `DIR` are paths), `[...]` optional,
    /// `[--flag <VALUE>]` an option of its own. Completion reads it too.
    pub usage: &'static str,
    pub about: &'static str,
    /// More about it, for `help COMMAND`.
    details: &'static str,
    /// The options of its own it takes ([`Own`]).
    takes: &'static [&'static str],
    parse: fn(&[&str], &Own) -> Option<Command>,
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
        details: "A cached token while more than --min-ttl is left, else a new one.\n\
                  In scripts: TOKEN=$(snowplow-credentials token).\n",
        takes: &[],
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
        details: "For curl, through a pipe, never an argument:\n\
                  snowplow-credentials header | curl -H @- \"$(snowplow-credentials console-url /api/msc/v1/organizations)\"\n",
        takes: &[],
        parse: |args, _| {
            args.is_empty()
                .then_some(Command::Serve(Tool::Plain(Plain::Header)))
        },
        wrong: None,
    },
    Spec {
        words: &["status"],
        usage: "status [--json]",
        about: "show the profile, identity, served hosts and cached token's expiry",
        details: "Each setting with where it came from, the hosts that get the token, the cache\n\
                  file, the token's expiry and when it will be refreshed; never the token.\n\
                  --json prints one JSON object (profile, host, organization, auth, key_id,\n\
                  served_hosts, cache_file, expires, refresh_at, fresh, sources).\n\
                  Exits 0 only when a fresh token is cached.\n",
        takes: &["--json"],
        parse: |args, own| {
            args.is_empty()
                .then_some(Command::Status { json: own.json })
        },
        wrong: None,
    },
    Spec {
        words: &["clear"],
        usage: "clear [--all]",
        about: "drop this identity's cached token (--all: every one)",
        details: "The next call exchanges the key again: do this when a tool gets 401 with a\n\
                  token we gave it. --all removes every cached token and lock file.\n",
        takes: &["--all"],
        parse: |args, own| args.is_empty().then_some(Command::Clear { all: own.all }),
        wrong: None,
    },
    Spec {
        words: &["aws", "credential-process"],
        usage: "aws",
        about: "AWS credential_process (alias: credential-process)",
        details: "In ~/.aws/config: credential_process = snowplow-credentials aws\n\
                  The token is the session token; Expiration is its real expiry.\n",
        takes: &[],
        parse: |args, _| args.is_empty().then_some(Command::Serve(Tool::Aws(Aws))),
        wrong: None,
    },
    Spec {
        words: &["git"],
        usage: "git <get|store|erase>",
        about: "git credential helper (also as git-credential-snowplow)",
        details: "Answers only for the profile's Console host and `hosts`; -v (or\n\
                  SNOWPLOW_CREDENTIALS_VERBOSE=1) says which host was asked when it stays silent.\n",
        takes: &[],
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
        details: "kubeconfig: exec with command snowplow-credentials, args [kubernetes],\n\
                  interactiveMode Never. SNOWPLOW_CREDENTIALS_VERBOSE=1 turns on -v.\n",
        takes: &[],
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
        details: "~/.docker/config.json: {\"credHelpers\": {\"HOST\": \"snowplow\"}}. Errors go to\n\
                  stdout, as Docker wants. SNOWPLOW_CREDENTIALS_VERBOSE=1 turns on -v.\n",
        takes: &[],
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
        details: "~/.terraformrc: credentials_helper \"snowplow\" { args = [] }, after\n\
                  snowplow-credentials install-links ~/.terraform.d/plugins --only terraform.\n\
                  Prints {} for hosts the profile does not serve.\n",
        takes: &[],
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
        details: "Reads {\"uri\": …} on stdin; prints the Authorization header for served hosts,\n\
                  {} for others.\n",
        takes: &[],
        parse: |args, _| (args == ["get"]).then_some(Command::Serve(Tool::Bazel(bazel::Get))),
        wrong: Some("bazel needs the action get"),
    },
    Spec {
        words: &["console-url"],
        usage: "console-url [PATH] [--json]",
        about: "print the Console's URL (with PATH; {org} is the organization ID)",
        details: "The selected profile's Console, as SNOWPLOW_CONSOLE_HOST would give it, so a\n\
                  script calls the Console its token is for. Needs no key and no token.\n\
                  snowplow-credentials console-url '/api/msc/v1/organizations/{org}/data-structures/v1'\n\
                  --json prints {\"url\": …, \"host\": …} (host[:port]), for Terraform's external.\n",
        takes: &["--json"],
        parse: |args, own| {
            let path = match args {
                [] => None,
                [path] => Some(path.to_string()),
                _ => return None,
            };
            Some(Command::ConsoleUrl {
                path,
                json: own.json,
            })
        },
        wrong: None,
    },
    Spec {
        words: &["install-links"],
        usage: "install-links [DIR] [--only NAMES] [--remove]",
        about: "link the git/docker/terraform helper names to this binary",
        details: "Creates git-credential-snowplow, docker-credential-snowplow and\n\
                  terraform-credentials-snowplow in DIR (default: the directory of the path\n\
                  this program was invoked by, as found on PATH), creating\n\
                  DIR if needed. --only git,docker,terraform links just those (Terraform's\n\
                  plugin directory wants only its own). --remove removes our links instead,\n\
                  never a file that is not a link to this binary.\n",
        takes: &["--only", "--remove"],
        parse: |args, own| {
            let dir = match args {
                [] => None,
                [dir] => Some(PathBuf::from(dir)),
                _ => return None,
            };
            let (only, remove) = (own.only.clone(), own.remove);
            Some(Command::InstallLinks { dir, only, remove })
        },
        wrong: None,
    },
    Spec {
        words: &["help"],
        usage: "help [COMMAND]",
        about: "print this help, or one command's (also: COMMAND --help)",
        details: "",
        takes: &[],
        parse: |args, _| match args {
            [] => Some(Command::Help(None)),
            [word] => Some(Command::Help(Some(spec_of(word)?.words[0]))),
            _ => None,
        },
        wrong: Some("help takes one command name"),
    },
    Spec {
        words: &["sink"],
        usage: "sink <PATH> [--once] [--header-file <PATH>] [--mode <0600|0640>] [--group <GROUP>]",
        about: "keep the token file PATH fresh until stopped (--once: write it and exit)",
        details: "Writes the token to PATH (0600, or 0640 with --group) and rewrites it before\n\
                  it goes stale, for tools that read a token from a file. --once writes it and\n\
                  exits; --header-file also writes `Authorization: Bearer <token>`.\n",
        takes: &[],
        parse: |args, _| match args {
            [path] if !path.is_empty() => Some(Command::Sink(sink::Options::at(path))),
            _ => None,
        },
        wrong: Some("sink needs one argument: the token file's path"),
    },
    Spec {
        words: &["completions"],
        usage: "completions <bash|zsh|fish|powershell>",
        about: "print the shell's completion script",
        details: "Prints a script that completes commands, options, protocol actions and the\n\
                  profile names of the config file (read at TAB time, by asking this binary).\n",
        takes: &[],
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
        about: "HTTP connect and read timeout, at least 1  [default: 10]\n\
                [env: SNOWPLOW_CREDENTIALS_TIMEOUT]",
    },
    Opt {
        long: "refresh",
        short: None,
        value: None,
        about: "exchange a new token even if the cached one is fresh",
    },
    Opt {
        long: "token-file",
        short: None,
        value: Some("FILE"),
        about: "serve the token in FILE, minted elsewhere: no key, no exchange\n\
                [env: SNOWPLOW_CREDENTIALS_TOKEN_FILE]",
    },
    Opt {
        long: "verbose",
        short: Some('v'),
        value: None,
        about: "explain what happens, on stderr (secrets redacted)\n\
                [env: SNOWPLOW_CREDENTIALS_VERBOSE=1]",
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
The API key is read from SNOWPLOW_CONSOLE_API_KEY, the profile's api_key_command,
api_key_env or api_key, or snowplow-cli's snowplow.yml or .env (~/.config/snowplow/);
there is no flag for it, since argv is visible to all users (a token_file replaces it). A profile chosen with
--profile or SNOWPLOW_CREDENTIALS_PROFILE ignores the SNOWPLOW_CONSOLE_* variables.

Environment: SNOWPLOW_CREDENTIALS_CACHE_DIR (cache directory), SNOWPLOW_CREDENTIALS_LOCK_WAIT
(seconds to wait for another refresh, default 30), SSL_CERT_FILE (a PEM bundle of the CAs to
trust instead of the system's), HTTPS_PROXY and NO_PROXY (read as curl reads them), and the
variables above.
Exit codes: 0 success, 1 failure, 2 usage error.
";

/// `help COMMAND`: one command's usage, summary and details.
fn command_help(word: &str) -> String {
    let Some(spec) = spec_of(word) else {
        return help();
    };
    let aliases = match spec.words {
        [_, rest @ ..] if !rest.is_empty() => format!(" (alias: {})", rest.join(", ")),
        _ => String::new(),
    };
    format!(
        "Usage: snowplow-credentials [OPTIONS] {}{aliases}\n\n{}\n\n{}\n\
         Options: see snowplow-credentials --help\n",
        spec.usage, spec.about, spec.details
    )
}

/// The help text for `command`.
pub fn help_text(command: Option<&str>) -> String {
    command.map_or_else(help, command_help)
}

/// The command table's entry for a command word or alias.
fn spec_of(word: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|c| c.words.contains(&word))
}

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
    let mut own = Own::default();
    let (mut refresh, mut verbose, mut help, mut version) = (false, false, false, false);
    let mut sink = SinkFlags::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("profile") => flags.profile = Some(given(&mut parser, "--profile")?),
            Long("config") => flags.config = Some(given_os(&mut parser, "--config")?.into()),
            Long("org-id") => flags.org_id = Some(given(&mut parser, "--org-id")?),
            Long("api-key-id") => flags.api_key_id = Some(given(&mut parser, "--api-key-id")?),
            Long("host") => flags.host = Some(given(&mut parser, "--host")?),
            Long("min-ttl") => flags.min_ttl = Some(seconds(&mut parser, "--min-ttl", 0)?),
            Long("timeout") => flags.timeout = Some(seconds(&mut parser, "--timeout", 1)?),
            Long("token-file") => {
                flags.token_file = Some(given_os(&mut parser, "--token-file")?.into())
            }
            Long("once") => sink.once = true,
            Long("header-file") => sink.header = Some(parser.value()?.into()),
            Long("mode") => sink.mode = Some(parser.value()?.string()?),
            Long("group") => sink.group = Some(parser.value()?.string()?),
            Long("refresh") => refresh = true,
            Long("all") => own.all = true,
            Long("json") => own.json = true,
            Long("remove") => own.remove = true,
            Long("only") => own.only.extend(link_names(&parser.value()?.string()?)?),
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
        let word = positional.first().and_then(|w| spec_of(w));
        Command::Help(word.map(|spec| spec.words[0]))
    } else if version {
        Command::Version
    } else {
        sink.apply(command(&positional, &own)?)?
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
        // --group is there so the group can read: it means 0640.
        let mode = match (self.mode.as_deref(), &self.group) {
            (None, None) | (Some("600" | "0600"), None) => 0o600,
            (None, Some(_)) | (Some("640" | "0640"), _) => 0o640,
            (Some("600" | "0600"), Some(_)) => {
                return Err(Error::Usage(
                    "--group gives its group read access, which 0600 denies: drop --mode \
                     (--group means 0640)"
                        .into(),
                ));
            }
            (Some(other), _) => {
                return Err(Error::Usage(format!(
                    "--mode `{other}`: give 0600 (the default) or 0640 (read by the file's group)"
                )));
            }
        };
        if self.header.as_deref() == Some(Path::new("")) {
            return Err(Error::Usage("--header-file needs a path".into()));
        }
        Ok(Command::Sink(sink::Options {
            header: self.header,
            mode,
            group: self.group.as_deref().map(sink::group_id).transpose()?,
            once: self.once,
            ..options
        }))
    }
}

/// The value of the option `name`, which must not be empty: `--org-id ''`
/// (an unset shell variable) would otherwise fall back to the environment
/// or the profile without a word.
fn given(parser: &mut lexopt::Parser, name: &str) -> Result<String> {
    given_os(parser, name)?
        .into_string()
        .map_err(|v| lexopt::Error::NonUnicodeValue(v).into())
}

/// [`given`] for paths, which need not be UTF-8.
fn given_os(parser: &mut lexopt::Parser, name: &str) -> Result<OsString> {
    let value = parser.value()?;
    if value.is_empty() {
        return Err(Error::Usage(format!(
            "{name} needs a value, and was given an empty one (an unset variable?)"
        )));
    }
    Ok(value)
}

/// A whole number of seconds for the option `name`.
/// A flag's whole seconds, at least `least`: out of range is a usage error
/// like a value that is not a number, by the rule every setting follows.
fn seconds(parser: &mut lexopt::Parser, name: &str, least: u64) -> Result<u64> {
    let value = parser.value()?;
    let text = value.to_string_lossy();
    let secs = text.parse().map_err(|_| {
        Error::Usage(format!(
            "{name}: `{text}` is not a whole number of seconds (see snowplow-credentials --help)"
        ))
    })?;
    crate::time::seconds_rule(secs, least)
        .map_err(|why| Error::Usage(format!("{name} {why} (see snowplow-credentials --help)")))
}

/// `--only`'s comma-separated commands, each one with a link.
fn link_names(list: &str) -> Result<Vec<String>> {
    list.split(',')
        .map(|name| {
            let known = LINKS.iter().any(|(_, command)| *command == name);
            known.then(|| name.to_string()).ok_or_else(|| {
                Error::Usage(format!(
                    "--only takes git, docker or terraform (comma-separated), not `{name}`"
                ))
            })
        })
        .collect()
}

fn command(words: &[String], own: &Own) -> Result<Command> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let usage = |msg: &str| Error::Usage(format!("{msg} (see snowplow-credentials --help)"));
    let Some((word, args)) = words.split_first() else {
        return Err(usage("no command given"));
    };
    let Some(spec) = spec_of(word) else {
        return Err(usage(&format!("unknown command `{word}`")));
    };
    if let Some(option) = own.given().into_iter().find(|o| !spec.takes.contains(o)) {
        let with = COMMANDS.iter().filter(|c| c.takes.contains(&option));
        let with: Vec<String> = with.map(|c| format!("`{}`", c.words[0])).collect();
        return Err(usage(&format!("{option} goes with {}", with.join(" or "))));
    }
    (spec.parse)(args, own).ok_or_else(|| match spec.wrong {
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
