//! The places a user reads about the program must not drift apart from it
//! or from each other: every command (and alias) `--help` lists, every
//! environment variable the program reads and every key its config file
//! accepts must be documented, in `--help` and the man page where they
//! belong there, and in the written documentation (README.md, docs/ and
//! CONTRIBUTING.md); every option `--help` lists must be in the man page.
//! The commands come from the binary's own `--help`, the variables from the
//! `SNOWPLOW_*` names in src/ and the standard ones it honours, the settings
//! from the binary's own "unknown field" error. And since the README is a
//! front door that points into docs/, every relative link and `#anchor` in
//! those files must lead somewhere that exists.

use std::path::{Component, Path, PathBuf};

use crate::harness::Sandbox;

/// Read by the TLS and proxy code under names of their own standards.
const STANDARD_VARS: [&str; 3] = ["SSL_CERT_FILE", "HTTPS_PROXY", "NO_PROXY"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// The written documentation: README.md, CONTRIBUTING.md and every
/// Markdown file under docs/, as paths relative to the repository.
fn documentation() -> Vec<PathBuf> {
    fn markdown_under(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                markdown_under(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    let mut files = vec![PathBuf::from("README.md"), PathBuf::from("CONTRIBUTING.md")];
    markdown_under(&root().join("docs"), &mut files);
    files.sort();
    files
}

/// All of the written documentation as one text.
fn all_documentation() -> String {
    let files = documentation();
    assert!(
        files.len() >= 10,
        "README, CONTRIBUTING and docs/: {files:?}"
    );
    files
        .iter()
        .map(|f| read(f.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join("\n")
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
fn help_the_man_page_and_the_docs_name_every_command_and_variable() {
    let help = Sandbox::new().run(&["--help"]).stdout;
    let man = read("snowplow-credentials.1");
    let docs = all_documentation();
    let mut missing = Vec::new();
    let commands = commands(&help);
    assert!(commands.len() >= 14, "{commands:?}");
    for word in &commands {
        if !man.contains(&format!("Cm {word}")) {
            missing.push(format!("man page: command {word}"));
        }
        if !docs.contains(&format!("`{word}`")) && !docs.contains(&format!("`{word} ")) {
            missing.push(format!(
                "README, docs/ or CONTRIBUTING.md: command `{word}`"
            ));
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
    snowplow_vars(&root().join("src"), &mut vars);
    assert!(vars.len() >= 10, "{vars:?}");
    vars.extend(STANDARD_VARS.map(String::from));
    for var in &vars {
        for (doc, text) in [
            ("--help", &help),
            ("man page", &man),
            ("README, docs/ or CONTRIBUTING.md", &docs),
        ] {
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

/// The keys the binary accepts at one level of the config file, from its
/// error for a key it does not know ("expected one of `a`, `b`" or
/// "expected `a` or `b`").
fn accepted_keys(sandbox: &Sandbox, config: &str) -> Vec<String> {
    sandbox.write_config(config);
    let out = sandbox.run(&["status"]);
    out.failure();
    let listed = out
        .stderr
        .split("expected")
        .nth(1)
        .unwrap_or_else(|| panic!("the error lists the accepted keys: {}", out.stderr));
    listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn the_docs_describe_every_config_setting() {
    let sandbox = Sandbox::new();
    let mut keys = accepted_keys(&sandbox, "not_a_setting = 1\n");
    assert!(keys.contains(&"profiles".to_string()), "{keys:?}");
    let profile = accepted_keys(&sandbox, "[profiles.default]\nnot_a_setting = 1\n");
    assert!(profile.len() >= 20, "{profile:?}");
    keys.extend(profile);
    let docs = all_documentation();
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| !docs.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "config settings that README.md, docs/ and CONTRIBUTING.md never name as `key`: {missing:?}"
    );
}

/// Issue 17: the README is a front door (what it is, install, a quick
/// start, one block per tool, links); long material belongs in docs/.
#[test]
fn the_readme_stays_a_front_door() {
    let size = read("README.md").len();
    assert!(
        size <= 25_000,
        "README.md is {size} bytes, over 25 KB: move the long part to a page in docs/ and link it"
    );
}

/// The text with fenced code blocks blanked out (line breaks kept), so that
/// no heading is found in a shell comment.
fn without_fences(text: &str) -> String {
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
        }
        prose.push('\n');
    }
    prose
}

/// The text without fenced code blocks, and with inline code spans
/// replaced by `code`, so that no link is found in code. Line breaks are
/// kept, so a link can span lines as in Markdown.
fn without_code(text: &str) -> String {
    let prose = without_fences(text);
    let mut out = String::new();
    let mut rest = prose.as_str();
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let after = &rest[start + ticks..];
        let fence = "`".repeat(ticks);
        // A closing run of exactly as many backticks ends the span.
        let close = after.match_indices(&fence).find(|(i, _)| {
            !after[i + ticks..].starts_with('`') && (*i == 0 || !after[..*i].ends_with('`'))
        });
        match close {
            Some((i, _)) => {
                out.push_str("code");
                rest = &after[i + ticks..];
            }
            None => {
                out.push_str(&fence);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The anchors GitHub gives a Markdown file's headings: the heading's text
/// lowercased, everything but letters, digits, `-`, `_` and spaces dropped,
/// spaces made `-`, and `-1`, `-2` … added to repeats.
fn anchors(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in without_fences(text).lines() {
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let mut heading = line[hashes..]
            .trim()
            .trim_end_matches('#')
            .trim()
            .to_string();
        // A link in a heading contributes its text only.
        while let Some(open) = heading.find("](") {
            let close = heading[open..]
                .find(')')
                .map_or(heading.len(), |c| open + c + 1);
            heading.replace_range(open + 1..close, "");
        }
        let base: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut slug = base.clone();
        let mut n = 0;
        while found.contains(&slug) {
            n += 1;
            slug = format!("{base}-{n}");
        }
        found.push(slug);
    }
    found
}

/// Every link destination in a Markdown text: inline links and images
/// `[text](dest "title")` and reference definitions `[label]: dest`.
fn link_destinations(text: &str) -> Vec<String> {
    let prose = without_code(text);
    let mut found = Vec::new();
    for (at, _) in prose.match_indices("](") {
        let rest = &prose[at + 2..];
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => return true,
                    ')' => depth -= 1,
                    _ => {}
                }
                false
            })
            .map_or(rest.len(), |(i, _)| i);
        let dest = rest[..end].split_whitespace().next().unwrap_or("");
        found.push(
            dest.trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        );
    }
    for line in prose.lines() {
        let line = line.trim_start();
        if let Some(label_end) = line.strip_prefix('[').and_then(|l| l.find("]: ")) {
            let dest = line[label_end + 4..].split_whitespace().next();
            found.extend(dest.map(String::from));
        }
    }
    found
}

/// What is wrong with one relative link of `file` (relative to the
/// repository), if anything.
fn broken(file: &Path, dest: &str) -> Option<String> {
    let (path, anchor) = dest.split_once('#').unwrap_or((dest, ""));
    let target = if path.is_empty() {
        file.to_path_buf()
    } else {
        // Lexically, so a link cannot leave the repository through `..`.
        let mut target = PathBuf::new();
        for part in file.parent().unwrap().join(path).components() {
            match part {
                Component::ParentDir if !target.pop() => {
                    return Some("leads out of the repository".into());
                }
                Component::ParentDir | Component::CurDir => {}
                other => target.push(other),
            }
        }
        target
    };
    let full = root().join(&target);
    if !full.exists() {
        return Some(format!("{} does not exist", target.display()));
    }
    if anchor.is_empty() {
        return None;
    }
    if full.extension().is_none_or(|e| e != "md") {
        return Some(format!(
            "#{anchor} in {}, which is not Markdown",
            target.display()
        ));
    }
    let known = anchors(&std::fs::read_to_string(&full).unwrap());
    if known.iter().any(|a| a == anchor) {
        return None;
    }
    Some(format!(
        "{} has no heading #{anchor} (it has: {})",
        target.display(),
        known.join(", ")
    ))
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut files = documentation();
    files.push(PathBuf::from("integrations/README.md"));
    let (mut checked, mut external, mut problems) = (0, 0, Vec::new());
    for file in &files {
        let text = read(file.to_str().unwrap());
        for dest in link_destinations(&text) {
            if dest.contains("://") || dest.starts_with("mailto:") {
                external += 1;
                continue;
            }
            checked += 1;
            if let Some(problem) = broken(file, &dest) {
                problems.push(format!("{}: ({dest}): {problem}", file.display()));
            }
        }
    }
    eprintln!("{checked} relative links checked, {external} external ones left alone");
    // The README alone links to every page of docs/.
    assert!(checked >= 100, "only {checked} relative links found");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_link_checker_finds_links_and_anchors_as_github_does() {
    let text = "# Keep a token file fresh: `sink`\n## How it works — the cache\n## Twice\n\
                ## Twice\n```sh\n# not a heading [no](link)\n```\n\
                See [a `code` span](other.md#x), ![img](pic.png 'title'),\n[split\nlink](#twice-1) \
                and `[not](a-link)`.\n[ref]: ../up.md\n";
    assert_eq!(
        anchors(text),
        [
            "keep-a-token-file-fresh-sink",
            "how-it-works--the-cache",
            "twice",
            "twice-1"
        ]
    );
    assert_eq!(
        link_destinations(text),
        ["other.md#x", "pic.png", "#twice-1", "../up.md"]
    );
    let readme = Path::new("README.md");
    assert_eq!(broken(readme, "docs/speed.md"), None);
    assert_eq!(broken(readme, "#install"), None);
    assert!(broken(readme, "#no-such-heading").is_some());
    assert!(broken(readme, "docs/no-such-page.md").is_some());
    assert!(broken(readme, "../outside.md").is_some());
    assert!(broken(readme, "Cargo.toml#deps").is_some());
}
