//! Shell completion. Each shell's script (`completions SHELL`) is a few lines
//! of glue that hands the words typed so far to `snowplow-credentials
//! __complete` and offers what it prints. So there is one completer, here:
//! commands, their arguments and options come from the commands' structured
//! entries (the same ones the parser and `--help` read: [`crate::usage`]), and profile names from the config
//! file at the moment TAB is pressed.
//!
//! `__complete N WORD...`: the first N words (after the program's name) are
//! complete, the next one (or "", if there is none) is being typed. The
//! answer is one candidate a line, `word<TAB>description`; or just `:files`
//! or `:dirs` when a path is wanted, which the shell completes itself. The
//! count makes an empty current word unambiguous in every shell.

use std::path::PathBuf;

use crate::cli::{self, Shell};
use crate::config::fields::{self, FIELDS, Field};
use crate::config::{self, Flags};
use crate::usage::{Arg, Entry, Kind};

const BASH: &str = include_str!("complete/snowplow-credentials.bash");
const ZSH: &str = include_str!("complete/_snowplow-credentials");
const FISH: &str = include_str!("complete/snowplow-credentials.fish");
const POWERSHELL: &str = include_str!("complete/snowplow-credentials.ps1");

/// The script for `shell`.
pub fn script(shell: Shell) -> String {
    match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
        Shell::Powershell => POWERSHELL,
    }
    .to_string()
}

/// What the words typed so far (`N WORD...`) can go on with.
pub fn candidates(args: &[String]) -> String {
    let Some((count, words)) = args.split_first() else {
        return String::new();
    };
    let done = count.parse::<usize>().unwrap_or(0).min(words.len());
    let current = words.get(done).map_or("", String::as_str);
    let line = Line::read(&words[..done]);
    let mut out = String::new();
    for (word, about) in line.offer(current) {
        if word.starts_with(':') {
            return word + "\n";
        }
        if word.starts_with(current) {
            out.push_str(&format!("{word}\t{about}\n"));
        }
    }
    out
}

/// What the complete words say: the command, how many of its arguments are
/// given, the option still waiting for its value (its placeholder, or the
/// global option), and `--config`.
#[derive(Default)]
struct Line {
    command: Option<&'static Entry>,
    arguments: usize,
    wants_value: Option<Wanted>,
    config: Option<PathBuf>,
}

#[derive(Clone, Copy)]
enum Wanted {
    Global(&'static Field),
    /// A command's own option, by the value it takes.
    Own(&'static Arg),
}

impl Line {
    fn read(words: &[String]) -> Line {
        let mut line = Line::default();
        for word in words {
            if let Some(wanted) = line.wants_value.take() {
                line.value(wanted, word);
            } else if let Some(long) = word.strip_prefix("--") {
                let (name, value) = long.split_once('=').unwrap_or((long, ""));
                match line.option(name) {
                    Some(wanted) if long.contains('=') => line.value(wanted, value),
                    wanted => line.wants_value = wanted,
                }
            } else if word.starts_with('-') {
                // A short switch (-v, -h, -V): nothing to remember.
            } else if line.command.is_none() {
                line.command = cli::entry_of(word);
            } else {
                line.arguments += 1;
            }
        }
        line
    }

    /// `--name`'s value, if it takes one: a global option or the command's.
    fn option(&self, name: &str) -> Option<Wanted> {
        if let Some(field) = fields::by_flag(name) {
            return field.placeholder.map(|_| Wanted::Global(field));
        }
        self.command?.flag(name)?.map(Wanted::Own)
    }

    fn value(&mut self, wanted: Wanted, value: &str) {
        if let Wanted::Global(field) = wanted
            && field.flag == fields::CONFIG.flag
        {
            self.config = Some(PathBuf::from(value));
        }
    }

    /// Every candidate here (the caller keeps those that fit what is typed).
    fn offer(&self, current: &str) -> Vec<(String, String)> {
        if let Some(wanted) = self.wants_value {
            return self.values(wanted, "");
        }
        if let Some((name, _)) = current.strip_prefix("--").and_then(|l| l.split_once('='))
            && let Some(wanted) = self.option(name)
        {
            return self.values(wanted, &format!("--{name}="));
        }
        if current.starts_with('-') {
            return self.options();
        }
        match self.command {
            None => command_words(),
            Some(entry) => entry
                .positionals()
                .nth(self.arguments)
                .map_or_else(Vec::new, arg_values),
        }
    }

    fn options(&self) -> Vec<(String, String)> {
        let about = |field: &Field| field.about().lines().next().unwrap_or("").to_string();
        let flags = FIELDS.iter().filter_map(|f| Some((f.flag?, f)));
        let mut all: Vec<_> = flags
            .map(|(flag, f)| (flag.to_string(), about(f)))
            .collect();
        // The command's own options, such as `clear [--all]`.
        if let Some(entry) = self.command {
            for (name, _) in entry.flags() {
                all.push((format!("--{name}"), String::new()));
            }
        }
        all
    }

    /// The values wanted: profile names, a path, or the placeholder's.
    fn values(&self, wanted: Wanted, prefix: &str) -> Vec<(String, String)> {
        let values = match wanted {
            Wanted::Global(field) if field.flag == fields::PROFILE.flag => {
                return profiles(self.config.clone())
                    .into_iter()
                    .map(|p| (format!("{prefix}{p}"), "profile".to_string()))
                    .collect();
            }
            Wanted::Global(field) if field.takes_path() => files(":files"),
            Wanted::Global(_) => Vec::new(),
            Wanted::Own(arg) => arg_values(arg),
        };
        if !prefix.is_empty() && values.iter().any(|(w, _)| w.starts_with(':')) {
            return Vec::new();
        }
        values
            .into_iter()
            .map(|(w, about)| (format!("{prefix}{w}"), about))
            .collect()
    }
}

fn command_words() -> Vec<(String, String)> {
    let entries = cli::entries().into_iter();
    entries
        .flat_map(|e| e.words.iter().map(|w| (w.to_string(), e.about.to_string())))
        .collect()
}

/// What the shell completes itself: `:files` or `:dirs`.
fn files(which: &str) -> Vec<(String, String)> {
    vec![(which.to_string(), String::new())]
}

/// The values of one argument: each of its words, a path for the shell to
/// complete, the command words; for free text, nothing.
fn arg_values(arg: &Arg) -> Vec<(String, String)> {
    match arg {
        Arg::OneOf(words) => words
            .iter()
            .map(|w| (w.to_string(), String::new()))
            .collect(),
        Arg::Value { kind, .. } => match kind {
            Kind::File => files(":files"),
            Kind::Dir => files(":dirs"),
            Kind::Command => command_words(),
            Kind::Text | Kind::Links => Vec::new(),
        },
        Arg::Flag { .. } => Vec::new(),
    }
}

/// The profile names of the config file that `--config`, else the
/// environment, else the default names; none if it cannot be read. The file
/// is read by the loader's own rules (so one the commands refuse offers
/// nothing), and a name with a control or bidirectional formatting
/// character is dropped, not escaped:
/// the shells print candidates raw (an escape sequence would reach the
/// terminal) and read one a line (a newline or tab would split it).
fn profiles(config: Option<PathBuf>) -> Vec<String> {
    let flags = Flags {
        config,
        ..Flags::default()
    };
    let mut names = config::profile_names(&flags);
    names.retain(|name| !name.contains(crate::log::hides_or_moves_text));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut words: Vec<String> = line.split(' ').map(String::from).collect();
        let done = words.len() - 1;
        words.insert(0, done.to_string());
        words
    }

    fn offered(line: &str) -> Vec<String> {
        candidates(&words(line))
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn commands_then_each_commands_arguments() {
        // Every command, protocols included, with its summary.
        let all = candidates(&words(""));
        for entry in cli::entries() {
            for word in entry.words {
                let line = format!("{word}\t{}\n", entry.about);
                assert!(all.contains(&line), "{word}");
            }
        }
        assert_eq!(offered("te"), ["terraform"]);
        assert_eq!(offered("git "), ["get", "store", "erase"]);
        assert_eq!(offered("docker l"), ["list"]);
        assert_eq!(offered("terraform get "), Vec::<String>::new());
        assert_eq!(offered("terraform "), ["get", "store", "forget"]);
        assert_eq!(offered("bazel "), ["get"]);
        assert_eq!(
            offered("completions "),
            ["bash", "zsh", "fish", "powershell"]
        );
        assert_eq!(offered("install-links "), [":dirs"]);
        assert_eq!(offered("token "), Vec::<String>::new());
        assert_eq!(offered("help to"), ["token"]);
        assert_eq!(offered("sink "), [":files"]);
        assert_eq!(offered("console-url "), Vec::<String>::new());
    }

    #[test]
    fn a_commands_own_options_and_their_values() {
        assert_eq!(offered("status --j"), ["--json"]);
        assert_eq!(offered("install-links --r"), ["--refresh", "--remove"]);
        assert_eq!(offered("sink f --mode "), ["0600", "0640"]);
        assert_eq!(offered("sink f --header-file "), [":files"]);
        assert_eq!(offered("sink f --group "), Vec::<String>::new());
        // An own option's value is not taken for an argument.
        assert_eq!(offered("sink --mode 0600 "), [":files"]);
    }

    #[test]
    fn options_anywhere_and_their_values() {
        let all = offered("--");
        assert_eq!(
            all.len(),
            FIELDS.iter().filter(|f| f.flag.is_some()).count()
        );
        assert_eq!(offered("token --ref"), ["--refresh"]);
        assert_eq!(offered("clear --a"), ["--api-key-id", "--all"]);
        assert_eq!(offered("token --a"), ["--api-key-id"]);
        assert_eq!(offered("--config "), [":files"]);
        assert_eq!(offered("--timeout "), Vec::<String>::new());
        // An option's value is not taken for the command.
        assert_eq!(offered("--host x gi"), ["git"]);
        assert_eq!(offered("--host=x git e"), ["erase"]);
    }

    #[test]
    fn profile_names_come_from_the_config_file_named_on_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[profiles.prod]\n[profiles.staging]\n[profiles.dev]\n",
        )
        .unwrap();
        let at = file.display();
        assert_eq!(
            offered(&format!("--config {at} --profile ")),
            ["dev", "prod", "staging"]
        );
        assert_eq!(
            offered(&format!("--config={at} token --profile s")),
            ["staging"]
        );
        assert_eq!(
            offered(&format!("--config {at} --profile=p")),
            ["--profile=prod"]
        );
        // A file that cannot be read offers nothing, and says nothing.
        let missing = dir.path().join("none.toml");
        assert_eq!(
            offered(&format!("--config {} --profile ", missing.display())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_shells_script_calls_back_with_the_word_count() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            let script = script(shell);
            assert!(script.contains("__complete"), "{shell:?}");
            assert!(
                script.contains(":files") && script.contains(":dirs"),
                "{shell:?}"
            );
        }
    }
}
