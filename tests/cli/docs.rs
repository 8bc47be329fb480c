//! The three places a user reads about the command line must not drift
//! apart: every command (and alias) `--help` lists, and every environment
//! variable the program reads, must be in `--help`, the man page and the
//! README; every option `--help` lists must be in the man page. The commands come from the binary's own `--help`; the variables
//! from the `SNOWPLOW_*` names in src/ and the standard ones it honours.

use std::path::Path;

use crate::harness::Sandbox;

/// Read by the TLS and proxy code under names of their own standards.
const STANDARD_VARS: [&str; 3] = ["SSL_CERT_FILE", "HTTPS_PROXY", "NO_PROXY"];

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

/// Command words from `--help`: the first word of each line of its
/// Commands section, and each `alias: WORD`.
fn commands(help: &str) -> Vec<String> {
    let section = help
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands section");
    let mut words: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    for part in section.split("alias: ").skip(1) {
        words.push(part.split(')').next().unwrap().to_string());
    }
    words
}

/// Option names from `--help`'s Options section (which the binary prints
/// from its settings table): each line's `--name`.
fn options(help: &str) -> Vec<String> {
    let section = help
        .split("\nOptions:\n")
        .nth(1)
        .expect("an Options section");
    let section = section.split("\n\n").next().unwrap_or_default();
    section
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--"))
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(String::from)
        .collect()
}

/// Every `"SNOWPLOW_…"` string literal in src/.
fn snowplow_vars(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            snowplow_vars(&path, found);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for part in text.split("\"SNOWPLOW_").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if part[name.len()..].starts_with('"') && !found.contains(&format!("SNOWPLOW_{name}")) {
                found.push(format!("SNOWPLOW_{name}"));
            }
        }
    }
}

#[test]
fn help_the_man_page_and_the_readme_name_every_command_and_variable() {
    let help = Sandbox::new().run(&["--help"]).stdout;
    let man = read("snowplow-credentials.1");
    let readme = read("README.md");
    let mut missing = Vec::new();
    let commands = commands(&help);
    assert!(commands.len() >= 14, "{commands:?}");
    for word in &commands {
        if !man.contains(&format!("Cm {word}")) {
            missing.push(format!("man page: command {word}"));
        }
        if !readme.contains(&format!("`{word}`")) && !readme.contains(&format!("`{word} ")) {
            missing.push(format!("README: command `{word}`"));
        }
    }
    let options = options(&help);
    assert!(options.len() >= 12, "{options:?}");
    for option in &options {
        if !man.contains(&format!("Fl -{option}")) {
            missing.push(format!("man page: option --{option}"));
        }
    }
    let mut vars = Vec::new();
    snowplow_vars(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut vars,
    );
    assert!(vars.len() >= 10, "{vars:?}");
    vars.extend(STANDARD_VARS.map(String::from));
    for var in &vars {
        for (doc, text) in [("--help", &help), ("man page", &man), ("README", &readme)] {
            if !text.contains(var.as_str()) {
                missing.push(format!("{doc}: {var}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not documented:\n{}",
        missing.join("\n")
    );
}
