//! The command line: global options anywhere, then a command and its
//! arguments.
//!
//! The commands are the protocols' entries ([`crate::protocol::TOOLS`])
//! and this module's own ([`COMMANDS`]); the global options are the
//! settings table ([`crate::config::fields::FIELDS`]). Parsing, `--help`
//! and `help COMMAND` read those tables and nothing else.
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
use crate::config::fields::{self, FIELDS};
use crate::error::{Error, Result};
use crate::exec;
use crate::key_commands;
use crate::protocol::{self, Call, TOOLS, ToolEntry};
use crate::sink;
use crate::usage::{Arg, Entry, Group, Kind, Shape};

#[derive(Debug)]
pub enum Command {
    /// A tool's credential protocol, or a plain output.
    Serve(Call),
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
    /// Run a command with the key (or a token) in its environment.
    Exec(exec::Options),
    /// The profile's key in the OS keychain.
    Key(key_commands::Action),
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

#[derive(Debug)]
pub struct Cli {
    pub command: Command,
    pub flags: Flags,
    pub refresh: bool,
    pub verbose: bool,
}

/// The commands' own options as given anywhere on the line, by name, in
/// the order given (each with its value, if it takes one).
#[derive(Debug, Default)]
struct Given(Vec<(&'static str, Option<OsString>)>);

impl Given {
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| *n == name)
    }

    /// The last value of `--name`, as given.
    fn os(&self, name: &str) -> Option<&OsString> {
        let given = self.0.iter().rev().find(|(n, _)| *n == name);
        given.and_then(|(_, v)| v.as_ref())
    }

    /// The last value of `--name` (a text value: UTF-8, checked when read).
    fn text(&self, name: &str) -> Option<&str> {
        self.os(name).and_then(|v| v.to_str())
    }

    /// Every value of `--name`, comma-separated lists split.
    fn list(&self, name: &str) -> Vec<String> {
        let values = self.0.iter().filter(|(n, _)| *n == name);
        let values = values.filter_map(|(_, v)| v.as_ref()?.to_str());
        values
            .flat_map(|v| v.split(','))
            .map(String::from)
            .collect()
    }

    /// Reads `--name`'s value, if it takes one, checking what its
    /// [`Kind`] asks: text is UTF-8, link names are known.
    fn take(
        &mut self,
        parser: &mut lexopt::Parser,
        name: &'static str,
        value: Option<&Arg>,
    ) -> Result<()> {
        let Some(arg) = value else {
            self.0.push((name, None));
            return Ok(());
        };
        let value = parser.value()?;
        match arg {
            Arg::Value {
                kind: Kind::File | Kind::Dir,
                ..
            } => {}
            Arg::Value {
                kind: Kind::Links, ..
            } => link_names(&value.clone().string()?)?,
            _ => drop(value.clone().string()?),
        }
        self.0.push((name, Some(value)));
        Ok(())
    }
}

/// One command of the command line's own (the protocols' are
/// [`ToolEntry`]s): its entry, and how its arguments and own options
/// become a [`Command`].
struct Spec {
    entry: Entry,
    /// `None` when the arguments are wrong; an error when an option's
    /// value is.
    parse: fn(&[&str], &Given) -> Option<Result<Command>>,
    /// What to say when its own options come with another command, if
    /// not "--name goes with `this`" (checked once that command's
    /// arguments are right).
    strays: Option<&'static str>,
}

/// A value shown as `<NAME>`, `[NAME]` or `NAME`.
const fn value(name: &'static str, kind: Kind, shape: Shape) -> Arg {
    Arg::Value { name, kind, shape }
}

/// A switch of a command's own.
const fn switch(name: &'static str) -> Arg {
    Arg::Flag { name, value: None }
}

/// The command line's own commands; with [`TOOLS`] in [`entries`] order.
const COMMANDS: &[Spec] = &[
    Spec {
        entry: Entry {
            words: &["status"],
            link: None,
            group: Group::Cache,
            args: &[switch("json")],
            about: "show the profile, identity, served hosts and cached token's expiry",
            details: "Each setting with where it came from, the hosts that get the token, the cache\n\
                      file, the token's expiry and when it will be refreshed; never the token.\n\
                      --json prints one JSON object (profile, host, organization, auth, key_id,\n\
                      served_hosts, cache_file, expires, refresh_at, fresh, sources).\n\
                      Exits 0 only when a fresh token is cached.\n",
            wrong: None,
        },
        parse: |args, own| {
            let json = own.has("json");
            args.is_empty().then_some(Ok(Command::Status { json }))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["clear"],
            link: None,
            group: Group::Cache,
            args: &[switch("all")],
            about: "drop this identity's cached token (--all: every one)",
            details: "The next call exchanges the key again: do this when a tool gets 401 with a\n\
                      token we gave it. --all removes every cached token and lock file.\n",
            wrong: None,
        },
        parse: |args, own| {
            let all = own.has("all");
            args.is_empty().then_some(Ok(Command::Clear { all }))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["console-url"],
            link: None,
            group: Group::Setup,
            args: &[value("PATH", Kind::Text, Shape::Optional), switch("json")],
            about: "print the Console's URL (with PATH; {org} is the organization ID)",
            details: "The selected profile's Console, as SNOWPLOW_CONSOLE_HOST would give it, so a\n\
                      script calls the Console its token is for. Needs no key and no token.\n\
                      snowplow-credentials console-url '/api/msc/v1/organizations/{org}/data-structures/v1'\n\
                      --json prints {\"url\": …, \"host\": …} (host[:port]), for Terraform's external.\n",
            wrong: None,
        },
        parse: |args, own| {
            let path = match args {
                [] => None,
                [path] => Some(path.to_string()),
                _ => return None,
            };
            let json = own.has("json");
            Some(Ok(Command::ConsoleUrl { path, json }))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["install-links"],
            link: None,
            group: Group::Setup,
            args: &[
                value("DIR", Kind::Dir, Shape::Optional),
                Arg::Flag {
                    name: "only",
                    value: Some(&value("NAMES", Kind::Links, Shape::Bare)),
                },
                switch("remove"),
            ],
            about: "link the git/docker/terraform helper names to this binary",
            details: "Creates git-credential-snowplow, docker-credential-snowplow and\n\
                      terraform-credentials-snowplow in DIR (default: the directory of the path\n\
                      this program was invoked by, as found on PATH), creating\n\
                      DIR if needed. --only git,docker,terraform links just those (Terraform's\n\
                      plugin directory wants only its own). --remove removes our links instead,\n\
                      never a file that is not a link to this binary.\n",
            wrong: None,
        },
        parse: |args, own| {
            let dir = match args {
                [] => None,
                [dir] => Some(PathBuf::from(dir)),
                _ => return None,
            };
            let (only, remove) = (own.list("only"), own.has("remove"));
            Some(Ok(Command::InstallLinks { dir, only, remove }))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["help"],
            link: None,
            group: Group::Setup,
            args: &[value("COMMAND", Kind::Command, Shape::Optional)],
            about: "print this help, or one command's (also: COMMAND --help)",
            details: "",
            wrong: Some("help takes one command name"),
        },
        parse: |args, _| match args {
            [] => Some(Ok(Command::Help(None))),
            [word] => Some(match entry_of(word) {
                Some(entry) => Ok(Command::Help(Some(entry.words[0]))),
                None => Err(usage(&format!("help: unknown command `{word}`"))),
            }),
            _ => None,
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["sink"],
            link: None,
            group: Group::Setup,
            args: &[
                value("PATH", Kind::File, Shape::Required),
                switch("once"),
                switch("force"),
                Arg::Flag {
                    name: "header-file",
                    value: Some(&value("PATH", Kind::File, Shape::Required)),
                },
                Arg::Flag {
                    name: "mode",
                    value: Some(&Arg::OneOf(&["0600", "0640"])),
                },
                Arg::Flag {
                    name: "group",
                    value: Some(&value("GROUP", Kind::Text, Shape::Required)),
                },
            ],
            about: "keep the token file PATH fresh until stopped (--once: write it and exit)",
            details: "Writes the token to PATH (0600, or 0640 with --group) and rewrites it before\n\
                      it goes stale, for tools that read a token from a file. --once writes it and\n\
                      exits; --header-file also writes `Authorization: Bearer <token>`. An existing\n\
                      file is replaced only if it holds what the sink writes, or with --force.\n",
            wrong: Some("sink needs one argument: the token file's path"),
        },
        parse: |args, own| match args {
            [path] if !path.is_empty() => Some(
                sink::Options::at(path)
                    .with(sink::Given {
                        header: own.os("header-file").map(PathBuf::from),
                        mode: own.text("mode"),
                        group: own.text("group"),
                        once: own.has("once"),
                        force: own.has("force"),
                    })
                    .map(Command::Sink),
            ),
            _ => None,
        },
        strays: Some("--once, --header-file, --mode and --group go with `sink`"),
    },
    Spec {
        entry: Entry {
            words: &["exec"],
            link: None,
            group: Group::Setup,
            args: &[
                switch("token"),
                Arg::OneOf(&["--"]),
                value("CMD", Kind::Command, Shape::Required),
                value("ARGS...", Kind::File, Shape::Optional),
            ],
            about: "run CMD with the key (--token: only a token) in its environment",
            details: "Sets SNOWPLOW_CONSOLE_HOST, SNOWPLOW_CONSOLE_ORG_ID,\n\
                      SNOWPLOW_CONSOLE_ORGANIZATION_ID, SNOWPLOW_CONSOLE_API_KEY_ID and\n\
                      SNOWPLOW_CONSOLE_API_KEY for CMD alone (snowplow-cli, the Terraform provider),\n\
                      the key read from where the profile keeps it. --token sets\n\
                      SNOWPLOW_CONSOLE_TOKEN (a JWT) instead, and no key. On Unix the program\n\
                      becomes CMD: its exit status and signals are CMD's own.\n\
                      snowplow-credentials exec --profile prod -- snowplow-cli ds list\n",
            wrong: Some(exec::USAGE),
        },
        // The command after `--` is taken apart from the other words
        // (see `parse`): nothing else may follow `exec`.
        parse: |args, own| {
            let token = own.has("token");
            let options = exec::Options {
                token,
                argv: Vec::new(),
            };
            args.is_empty().then_some(Ok(Command::Exec(options)))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["key"],
            link: None,
            group: Group::Setup,
            args: &[
                Arg::OneOf(&["set", "get", "delete", "migrate"]),
                switch("force"),
            ],
            about: "keep the profile's API key in the OS keychain",
            details: "The entry is named by the Console host, organization and key ID. set reads\n\
                      the key from the terminal (no echo) or from stdin, never from an argument.\n\
                      get prints it to a pipe or file (--force: to the terminal too). Then set\n\
                      api_key_source = \"keychain\" in the profile (see docs/keychain.md).\n\
                      migrate moves an inline api_key, or snowplow-cli's key (snowplow.yml, .env),\n\
                      into the keychain, and takes it out of the file once it reads back.\n\
                      On Linux SNOWPLOW_CREDENTIALS_KEYCHAIN=keyutils or secret-service chooses\n\
                      the store (unset: the Secret Service if the D-Bus session has one).\n",
            wrong: Some(
                "key needs one action: set, get, delete or migrate (--force goes with get)",
            ),
        },
        parse: |args, own| {
            use key_commands::Action;
            let force = own.has("force");
            let action = match args {
                ["set"] => Action::Set,
                ["get"] => Action::Get { force },
                ["delete"] => Action::Delete,
                ["migrate"] => Action::Migrate,
                _ => return None,
            };
            let force_fits = matches!(action, Action::Get { .. }) || !force;
            force_fits.then_some(Ok(Command::Key(action)))
        },
        strays: None,
    },
    Spec {
        entry: Entry {
            words: &["completions"],
            link: None,
            group: Group::Setup,
            args: &[Arg::OneOf(&["bash", "zsh", "fish", "powershell"])],
            about: "print the shell's completion script",
            details: "Prints a script that completes commands, options, protocol actions and the\n\
                      profile names of the config file (read at TAB time, by asking this binary).\n",
            wrong: Some("completions needs a shell: bash, zsh, fish or powershell"),
        },
        parse: |args, _| {
            Some(Ok(Command::Completions(match args {
                ["bash"] => Shell::Bash,
                ["zsh"] => Shell::Zsh,
                ["fish"] => Shell::Fish,
                ["powershell"] => Shell::Powershell,
                _ => return None,
            })))
        },
        strays: None,
    },
];

/// A command word's command: a protocol's, or one of the line's own.
#[derive(Clone, Copy)]
enum Found {
    Tool(&'static ToolEntry),
    Own(&'static Spec),
}

impl Found {
    fn entry(self) -> &'static Entry {
        match self {
            Found::Tool(tool) => &tool.entry,
            Found::Own(spec) => &spec.entry,
        }
    }

    fn strays(self) -> Option<&'static str> {
        match self {
            Found::Tool(_) => None,
            Found::Own(spec) => spec.strays,
        }
    }
}

/// Every command, in `--help` order: by [`Group`], then protocols before
/// the line's own, each list in its order.
fn found() -> Vec<Found> {
    let tools = TOOLS.iter().map(|t| Found::Tool(t));
    let mut all: Vec<Found> = tools.chain(COMMANDS.iter().map(Found::Own)).collect();
    all.sort_by_key(|f| f.entry().group);
    all
}

/// Every command's entry, in `--help` order: what help, completion and
/// the man-page check read.
pub fn entries() -> Vec<&'static Entry> {
    found().into_iter().map(Found::entry).collect()
}

/// The command for a command word or alias.
fn find(word: &str) -> Option<Found> {
    found()
        .into_iter()
        .find(|f| f.entry().words.contains(&word))
}

/// The entry of a command word or alias.
pub fn entry_of(word: &str) -> Option<&'static Entry> {
    find(word).map(Found::entry)
}

const HELP_HEAD: &str = "\
snowplow-credentials: short-lived Snowplow Console tokens for the tools you use

Usage: snowplow-credentials [OPTIONS] <COMMAND>

Commands:
";

const HELP_TAIL: &str = "
The API key is read from SNOWPLOW_CONSOLE_API_KEY, the profile's api_key_command,
api_key_env, api_key or api_key_source = \"keychain\" (the OS keychain: see `key`), or
snowplow-cli's snowplow.yml or .env (~/.config/snowplow/; a keychain entry first);
there is no flag for it, since argv is visible to all users (a token_file replaces it). A profile chosen with
--profile or SNOWPLOW_CREDENTIALS_PROFILE ignores the SNOWPLOW_CONSOLE_* variables.

Environment: SNOWPLOW_CREDENTIALS_CACHE_DIR (cache directory, an absolute path),
SNOWPLOW_CREDENTIALS_LOCK_WAIT (seconds to wait for another process's refresh, default 30, but
never less than that refresh may take: its key commands and about 3 x --timeout), SSL_CERT_FILE (a PEM bundle of the CAs to
trust instead of the system's), HTTPS_PROXY and NO_PROXY (read as curl reads them), and the
variables above.
`exec` also sets SNOWPLOW_CONSOLE_ORGANIZATION_ID (the Terraform provider's name for the
organization) and, with --token, SNOWPLOW_CONSOLE_TOKEN. On Linux SNOWPLOW_CREDENTIALS_KEYCHAIN
chooses the keychain: secret-service or keyutils (unset: the Secret Service if the D-Bus session
has one, else keyutils).
Exit codes: 0 success, 1 failure, 2 usage error.
";

/// `help COMMAND`: one command's usage, summary and details.
fn command_help(word: &str) -> String {
    let Some(entry) = entry_of(word) else {
        return help();
    };
    let aliases = match entry.words {
        [_, rest @ ..] if !rest.is_empty() => format!(" (alias: {})", rest.join(", ")),
        _ => String::new(),
    };
    format!(
        "Usage: snowplow-credentials [OPTIONS] {}{aliases}\n\n{}\n\n{}\n\
         Options: see snowplow-credentials --help\n",
        entry.usage(),
        entry.about,
        entry.details
    )
}

/// The help text for `command`.
pub fn help_text(command: Option<&str>) -> String {
    command.map_or_else(help, command_help)
}

/// `--help`: the commands from [`entries`] and the options from
/// [`FIELDS`], between fixed text.
pub fn help() -> String {
    let mut out = HELP_HEAD.to_string();
    for entry in entries() {
        let usage = entry.usage();
        if usage.len() < 27 {
            let _ = writeln!(out, "  {usage:<27}{}", entry.about);
        } else {
            let _ = writeln!(out, "  {usage}\n{:29}{}", "", entry.about);
        }
    }
    out.push_str("\nOptions:\n");
    for field in FIELDS {
        let Some(flag) = field.flag else { continue };
        let short = field.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = field
            .placeholder
            .map(|v| format!(" <{v}>"))
            .unwrap_or_default();
        let left = format!("{flag}{value}");
        let about = field.about().replace('\n', &format!("\n{:29}", ""));
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
    protocol::links()
        .find(|(link, _)| *link == name)
        .map(|(_, cmd)| cmd)
}

/// The command a fully read line asks for. `--help` and `--version` win over
/// the words around them, which is why they are decided here, after every
/// word was read, and not as the parser meets them. `linked` says the first
/// word came from a link name; `after` is what followed `--`, the only place
/// `exec` takes its command from.
fn line_command(line: &Line, linked: bool, after: Option<Vec<OsString>>) -> Result<Command> {
    Ok(if line.help {
        let word = line.positional.first().and_then(|w| entry_of(w));
        Command::Help(word.map(|entry| entry.words[0]))
    } else if line.version {
        // Words beside it must still make a command line (`token
        // --version`), or be a helper name's own command: `--version extra`
        // is the usage error `extra` is, not a version.
        if line.positional.len() > usize::from(linked) {
            command(&line.positional, &line.own)?;
        }
        Command::Version
    } else {
        match command(&line.positional, &line.own)? {
            Command::Exec(options) => match after {
                Some(argv) if !argv.is_empty() => Command::Exec(exec::Options { argv, ..options }),
                _ => return Err(usage(exec::USAGE)),
            },
            command => command,
        }
    })
}

pub fn parse(args: Vec<OsString>) -> Result<Cli> {
    let mut args = args.into_iter();
    let argv0 = args.next().unwrap_or_default();
    // What the completion scripts send is a half-typed line, not options to
    // check: it goes to complete.rs as it is.
    let mut args = args.peekable();
    if args.next_if(|a| a == "__complete").is_some() {
        let words = args.map(|a| a.to_string_lossy().into_owned()).collect();
        return Ok(Cli {
            command: Command::Complete(words),
            flags: Flags::default(),
            refresh: false,
            verbose: false,
        });
    }
    let mut line = Line::default();
    let linked = link_command(&argv0);
    line.positional.extend(linked.map(String::from));
    // What follows `--` is `exec`'s command, kept as given (not UTF-8 is
    // fine, and its options are its own); for any other command, words as
    // lexopt would give them.
    let mut args: Vec<OsString> = args.collect();
    let after = match args.iter().position(|a| a == "--") {
        Some(at) => {
            let after = args.split_off(at + 1);
            args.pop();
            Some(after)
        }
        None => None,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while line.read(&mut parser)? {}
    let exec = line.positional.first().is_some_and(|w| w == "exec");
    if !exec {
        for word in after.iter().flatten() {
            let word = word.clone().into_string();
            let word = word.map_err(lexopt::Error::NonUnicodeValue)?;
            line.positional.push(word);
        }
    }
    let command = line_command(&line, linked.is_some(), after)?;
    let Line {
        flags,
        refresh,
        verbose,
        ..
    } = line;
    Ok(Cli {
        command,
        flags,
        refresh,
        verbose,
    })
}

/// What the words of the line said so far.
#[derive(Default)]
struct Line {
    positional: Vec<String>,
    flags: Flags,
    own: Given,
    refresh: bool,
    verbose: bool,
    help: bool,
    version: bool,
}

impl Line {
    /// Reads the next word (with its value, if any): false at the end.
    fn read(&mut self, parser: &mut lexopt::Parser) -> Result<bool> {
        let Some(arg) = parser.next()? else {
            return Ok(false);
        };
        match arg {
            Long(name) if let Some(field) = fields::by_flag(name).filter(|f| f.slot.is_some()) => {
                field.set(&mut self.flags, parser.value()?)?
            }
            Long("refresh") => self.refresh = true,
            Short('v') | Long("verbose") => self.verbose = true,
            Short('h') | Long("help") => self.help = true,
            Short('V') | Long("version") => self.version = true,
            Long("api-key") | Long("client-secret") | Long("password") => {
                return Err(Error::Usage(
                    "secrets are never taken as flags (argv is visible to every user): set \
                     SNOWPLOW_CONSOLE_API_KEY or api_key_command in the profile"
                        .into(),
                ));
            }
            Long(name) => match own_flag(name) {
                Some((name, value)) => self.own.take(parser, name, value)?,
                None => return Err(arg.unexpected().into()),
            },
            Value(v) => self.positional.push(v.string()?),
            _ => return Err(arg.unexpected().into()),
        }
        Ok(true)
    }
}

/// A command's own option `--name`: its name and the value it takes.
fn own_flag(name: &str) -> Option<(&'static str, Option<&'static Arg>)> {
    let mut flags = entries().into_iter().flat_map(Entry::flags);
    flags.find(|f| f.0 == name)
}

/// `--only`'s comma-separated commands: each must have a link.
fn link_names(list: &str) -> Result<()> {
    for name in list.split(',') {
        if !protocol::links().any(|(_, command)| command == name) {
            let known: Vec<&str> = protocol::links().map(|(_, command)| command).collect();
            let (last, rest) = known.split_last().expect("a protocol with a link");
            return Err(Error::Usage(format!(
                "--only takes {} or {last} (comma-separated), not `{name}`",
                rest.join(", ")
            )));
        }
    }
    Ok(())
}

fn command(words: &[String], own: &Given) -> Result<Command> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let Some((word, args)) = words.split_first() else {
        return Err(usage("no command given"));
    };
    let Some(found) = find(word) else {
        return Err(usage(&format!("unknown command `{word}`")));
    };
    stray_options(found.entry(), own, false)?;
    let command = match found {
        Found::Tool(tool) => (tool.parse)(args).map(|call| Ok(Command::Serve(call))),
        Found::Own(spec) => (spec.parse)(args, own),
    };
    let wrong = found.entry().wrong;
    let command = command.ok_or_else(|| match wrong {
        Some(wrong) => usage(wrong),
        None => usage(&format!("wrong arguments for `{word}`")),
    })?;
    stray_options(found.entry(), own, true)?;
    command
}

/// A usage error that points to `--help`.
fn usage(msg: &str) -> Error {
    Error::Usage(format!("{msg} (see snowplow-credentials --help)"))
}

/// An error if an option given belongs to other commands than `entry`:
/// those with a message of their own ([`Spec::strays`]) when `late`, once
/// the arguments are known to be right; the others (by name) before.
fn stray_options(entry: &Entry, own: &Given, late: bool) -> Result<()> {
    let mut names: Vec<&str> = own.0.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    for name in names.into_iter().filter(|n| entry.flag(n).is_none()) {
        let owners = found()
            .into_iter()
            .filter(|c| c.entry().flag(name).is_some());
        let owners: Vec<Found> = owners.collect();
        // An option two commands share (--force) is named with both: a
        // command's own message speaks only for options it alone has.
        let own_message = match owners.as_slice() {
            [only] => only.strays(),
            _ => None,
        };
        match own_message {
            Some(message) if late => return Err(Error::Usage(message.into())),
            None if !late => {
                let with = owners.iter().map(|c| format!("`{}`", c.entry().words[0]));
                let with: Vec<String> = with.collect();
                return Err(usage(&format!("--{name} goes with {}", with.join(" or "))));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Cli> {
        parse(words.iter().map(OsString::from).collect())
    }

    /// The command a line makes, as Debug shows it.
    fn command_of(words: &[&str]) -> String {
        format!("{:?}", parse_words(words).unwrap().command)
    }

    /// An option of one command has that command's message; one that two
    /// commands share names both, whichever the user meant.
    #[test]
    fn a_stray_option_names_every_command_it_goes_with() {
        let message = |words: &[&str]| parse_words(words).unwrap_err().to_string();
        assert_eq!(
            message(&["sc", "token", "--once"]),
            "--once, --header-file, --mode and --group go with `sink`"
        );
        assert_eq!(
            message(&["sc", "token", "--force"]),
            "--force goes with `sink` or `key` (see snowplow-credentials --help)"
        );
        assert_eq!(
            message(&["sc", "git", "get", "--force"]),
            "--force goes with `sink` or `key` (see snowplow-credentials --help)"
        );
    }

    #[test]
    fn options_go_anywhere() {
        let cli = parse_words(&["sc", "token", "--profile", "p", "-v", "--min-ttl=60"]).unwrap();
        assert_eq!(format!("{:?}", cli.command), "Serve(Token)");
        assert_eq!(cli.flags.profile.as_deref(), Some("p"));
        assert_eq!(cli.flags.min_ttl, Some(60));
        assert!(cli.verbose);
    }

    #[test]
    fn link_names_stand_for_their_protocol() {
        assert_eq!(
            command_of(&["/usr/bin/git-credential-snowplow", "get"]),
            "Serve(Get)"
        );
        assert_eq!(
            command_of(&["docker-credential-snowplow", "list"]),
            "Serve(List)"
        );
        assert_eq!(
            command_of(&["terraform-credentials-snowplow", "get", "x.test"]),
            "Serve(Call { action: Get, host: \"x.test\" })"
        );
        assert_eq!(
            command_of(&["/bin/Git-Credential-Snowplow.EXE", "get"]),
            "Serve(Get)"
        );
        #[cfg(windows)]
        assert_eq!(
            command_of(&[r"C:\bin\docker-credential-snowplow.exe", "list"]),
            "Serve(List)"
        );
        assert!(parse_words(&["git-credential-snowplow.exe.old", "get"]).is_err());
        // The link names are the protocols' own.
        let links: Vec<_> = protocol::links().collect();
        assert_eq!(
            links,
            [
                ("git-credential-snowplow", "git"),
                ("docker-credential-snowplow", "docker"),
                ("terraform-credentials-snowplow", "terraform"),
            ]
        );
    }

    #[test]
    fn help_shows_every_command_of_the_table() {
        let help = help();
        for entry in entries() {
            let line = format!("\n  {}", entry.usage());
            assert_eq!(help.matches(&line).count(), 1, "{line}");
        }
        assert!(help.contains(
            "  docker <get|store|erase|list|version>\n                             Docker \
             credential helper"
        ));
        assert!(help.contains("  bazel get                  Bazel credential helper\n"));
    }

    /// Every protocol (and every other command) is in `--help`, has a
    /// `help COMMAND` page and has its line in the man page: a new protocol
    /// that lacks one fails here (complete.rs checks it is offered).
    #[test]
    fn every_command_has_help_completion_and_a_man_page_entry() {
        let man = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/snowplow-credentials.1"
        ))
        .unwrap();
        let all = entries();
        for tool in TOOLS {
            assert!(all.iter().any(|e| e.words == tool.entry.words));
        }
        for entry in all {
            let word = entry.words[0];
            assert!(!entry.about.is_empty(), "{word}: about");
            let page = help_text(Some(word));
            assert!(page.starts_with("Usage: "), "{word}: help {word}");
            if word != "help" {
                assert!(entry.details.ends_with('\n'), "{word}: details");
            }
            let line = entry.man_line();
            assert!(man.lines().any(|l| l == line), "man page lacks `{line}`");
        }
        // And every option, from the settings table.
        for field in FIELDS {
            let flag = field.flag.unwrap();
            let short = field
                .short
                .map(|c| format!("Fl {c} , "))
                .unwrap_or_default();
            let value = field
                .placeholder
                .map(|p| format!(" Ar {}", p.to_lowercase()));
            let line = format!(".It {short}Fl {}{}", &flag[1..], value.unwrap_or_default());
            assert!(man.lines().any(|l| l == line), "man page lacks `{line}`");
        }
    }

    #[test]
    fn the_parser_takes_every_option_of_the_table() {
        for field in FIELDS {
            let long = field.flag.unwrap().to_string();
            let mut words = vec!["sc", "token", long.as_str()];
            words.extend(field.placeholder.map(|_| "5"));
            assert!(parse_words(&words).is_ok(), "{long}");
            if let Some(c) = field.short {
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
