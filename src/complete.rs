//! Shell completion. Each shell's script (`completions SHELL`) is a few lines
//! of glue that hands the words typed so far to `snowplow-credentials
//! __complete` and offers what it prints. So there is one completer, here:
//! commands, options and protocol actions come from cli.rs's tables (the
//! same ones the parser and `--help` use), and profile names from the config
//! file at the moment TAB is pressed.
//!
//! `__complete N WORD...`: the first N words (after the program's name) are
//! complete, the next one (or "", if there is none) is being typed. The
//! answer is one candidate a line, `word<TAB>description`; or just `:files`
//! or `:dirs` when a path is wanted, which the shell completes itself. The
//! count makes an empty current word unambiguous in every shell.

use std::path::PathBuf;

use crate::cli::{COMMANDS, OPTIONS, Opt, Shell, Spec};
use crate::config::{self, Flags};

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
/// given, the option still waiting for its value, and `--config`.
#[derive(Default)]
struct Line {
    command: Option<&'static Spec>,
    arguments: usize,
    wants_value: Option<&'static Opt>,
    config: Option<PathBuf>,
}

impl Line {
    fn read(words: &[String]) -> Line {
        let mut line = Line::default();
        for word in words {
            if let Some(opt) = line.wants_value.take() {
                line.value(opt, word);
            } else if let Some(long) = word.strip_prefix("--") {
                let (name, value) = long.split_once('=').unwrap_or((long, ""));
                match OPTIONS.iter().find(|o| o.long == name && o.value.is_some()) {
                    Some(opt) if long.contains('=') => line.value(opt, value),
                    Some(opt) => line.wants_value = Some(opt),
                    None => {}
                }
            } else if word.starts_with('-') {
            } else if line.command.is_none() {
                line.command = COMMANDS.iter().find(|c| c.words.contains(&word.as_str()));
            } else {
                line.arguments += 1;
            }
        }
        line
    }

    fn value(&mut self, opt: &Opt, value: &str) {
        if opt.long == "config" {
            self.config = Some(PathBuf::from(value));
        }
    }

    /// Every candidate here (the caller keeps those that fit what is typed).
    fn offer(&self, current: &str) -> Vec<(String, String)> {
        if let Some(opt) = self.wants_value {
            return self.values(opt, "");
        }
        if let Some((name, _)) = current.strip_prefix("--").and_then(|l| l.split_once('='))
            && let Some(opt) = OPTIONS.iter().find(|o| o.long == name)
        {
            let prefix = format!("--{name}=");
            let values = self.values(opt, &prefix);
            return values;
        }
        if current.starts_with('-') {
            return self.options();
        }
        match self.command {
            None => COMMANDS
                .iter()
                .flat_map(|c| c.words.iter().map(|w| (w.to_string(), c.about.to_string())))
                .collect(),
            Some(spec) => argument(spec, self.arguments),
        }
    }

    fn options(&self) -> Vec<(String, String)> {
        let about = |opt: &Opt| opt.about.lines().next().unwrap_or("").to_string();
        let mut all: Vec<_> = OPTIONS
            .iter()
            .map(|o| (format!("--{}", o.long), about(o)))
            .collect();
        // Flags a command's usage names, such as `clear [--all]`.
        if let Some(spec) = self.command {
            for flag in spec.usage.split(' ').filter_map(|w| w.strip_prefix("[--")) {
                all.push((format!("--{}", flag.trim_end_matches(']')), String::new()));
            }
        }
        all
    }

    /// The values `opt` can take: profile names, a file, or nothing known.
    fn values(&self, opt: &Opt, prefix: &str) -> Vec<(String, String)> {
        match opt.long {
            "profile" => profiles(self.config.clone())
                .into_iter()
                .map(|p| (format!("{prefix}{p}"), "profile".to_string()))
                .collect(),
            "config" if prefix.is_empty() => vec![(":files".into(), String::new())],
            _ => Vec::new(),
        }
    }
}

/// The candidates for a command's argument number `n`, from its usage.
fn argument(spec: &Spec, n: usize) -> Vec<(String, String)> {
    let slots: Vec<&str> = spec
        .usage
        .split(' ')
        .skip(1)
        .filter(|w| !w.starts_with("[--"))
        .collect();
    let Some(slot) = slots.get(n) else {
        return Vec::new();
    };
    if slot.starts_with('[') && slot.to_ascii_uppercase().contains("DIR") {
        return vec![(":dirs".into(), String::new())];
    }
    if slot.starts_with('<') && !slot.contains('|') {
        return Vec::new();
    }
    slot.trim_matches(['<', '>'])
        .split('|')
        .map(|w| (w.to_string(), String::new()))
        .collect()
}

/// The profile names of the config file that `--config`, else the
/// environment, else the default names; none if it cannot be read.
fn profiles(config: Option<PathBuf>) -> Vec<String> {
    let flags = Flags {
        config,
        ..Flags::default()
    };
    config::profile_names(&flags)
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
        let all = offered("");
        for spec in COMMANDS {
            for word in spec.words {
                assert!(all.contains(&word.to_string()), "{word}");
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
    }

    #[test]
    fn options_anywhere_and_their_values() {
        let all = offered("--");
        assert_eq!(all.len(), OPTIONS.len());
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
