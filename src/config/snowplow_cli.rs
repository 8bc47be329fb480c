//! snowplow-cli's own settings files, read so that a machine set up for the
//! vendor's CLI (`snowplow-cli setup`) needs no setup of ours.
//!
//! snowplow-cli keeps `snowplow.yml` (a `console:` mapping with `org-id`,
//! `api-key-id`, `api-key`, `host`) and a `.env` of `SNOWPLOW_CONSOLE_*`
//! lines in the first of the config directories that has one (see
//! [`crate::config::dirs`]). It loads the `.env` into its environment, so a
//! `.env` value beats `snowplow.yml`, and the real environment beats both:
//! the same order is kept here, so both tools agree on the identity.
//!
//! The working directory's `./.env`, which snowplow-cli also reads, is never
//! read: git, kubectl and make run us inside repositories, and a
//! repository's `.env` could send the key to another host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::fields::display_path;
use crate::error::{Error, Result};

/// The settings both files can hold: the `snowplow.yml` key and the
/// environment variable (and `.env`) name.
pub const FIELDS: [(&str, &str); 4] = [
    ("org-id", "SNOWPLOW_CONSOLE_ORG_ID"),
    ("api-key-id", "SNOWPLOW_CONSOLE_API_KEY_ID"),
    ("api-key", "SNOWPLOW_CONSOLE_API_KEY"),
    ("host", "SNOWPLOW_CONSOLE_HOST"),
];

/// The secret among [`FIELDS`].
pub const SECRET: &str = "api-key";

/// One of snowplow-cli's files, read: its values by `snowplow.yml` key.
#[derive(Debug)]
pub struct CliFile {
    pub path: PathBuf,
    yml: bool,
    values: BTreeMap<&'static str, String>,
}

impl CliFile {
    /// The value of `key` (a `snowplow.yml` key of [`FIELDS`]).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Where `key` is set, for messages: `org-id in ~/.config/snowplow/snowplow.yml`.
    pub fn place(&self, key: &str) -> String {
        let name = if self.yml { key } else { env_name(key) };
        format!("{name} in {}", display_path(&self.path))
    }
}

fn env_name(key: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, env)| env)
}

/// snowplow-cli's file names, in precedence order: `.env`, `snowplow.yml`.
const NAMES: [&str; 2] = [".env", "snowplow.yml"];

/// Every place snowplow-cli's files may be, whether they exist or not:
/// the sink never replaces one (it may hold the only copy of the key).
pub fn paths() -> Vec<PathBuf> {
    let dirs = super::file::dirs(&super::env);
    let each = |name: &'static str| dirs.iter().map(move |d| d.join(name));
    NAMES.into_iter().flat_map(each).collect()
}

/// snowplow-cli's files in precedence order (`.env` first, then
/// `snowplow.yml`), each the first found in `dirs`.
pub fn load(dirs: &[PathBuf]) -> Result<Vec<CliFile>> {
    let mut found = Vec::new();
    for (name, yml) in NAMES.into_iter().zip([false, true]) {
        for dir in dirs {
            let path = dir.join(name);
            if let Some(text) = read_checked(&path)? {
                let values = if yml {
                    parse_yml(&text)
                } else {
                    parse_dotenv(&text)
                };
                let values =
                    values.map_err(|e| Error::Config(format!("{}, {e}", display_path(&path))))?;
                let file = CliFile { path, yml, values };
                check_secret_private(&file)?;
                found.push(file);
                break;
            }
        }
    }
    Ok(found)
}

/// The file's text, or `None` if it does not exist. A file others can
/// change (or one in a directory they can write) is refused whole: whoever
/// can edit it could send our key to their own host. The rules are those
/// of our own config file.
fn read_checked(path: &Path) -> Result<Option<String>> {
    let Some((text, _)) = super::file::read_checked(path, &|| display_path(path))? else {
        return Ok(None);
    };
    // A settings file is a few lines; a huge one is not snowplow-cli's.
    if text.len() as u64 > MAX_SIZE {
        return Err(Error::Config(format!(
            "{} is larger than {} KiB: it is not snowplow-cli's settings file",
            display_path(path),
            MAX_SIZE / 1024
        )));
    }
    Ok(Some(text))
}

/// The most of a snowplow-cli file we read.
const MAX_SIZE: u64 = 64 * 1024;

/// The API key is a secret in a file: as for our own inline key, the file
/// must be private.
fn check_secret_private(file: &CliFile) -> Result<()> {
    if file.get(SECRET).is_none() {
        return Ok(());
    }
    let private = std::fs::metadata(&file.path).is_ok_and(|m| crate::files::too_open(&m).is_none());
    if private {
        return Ok(());
    }
    let shown = display_path(&file.path);
    Err(Error::Config(format!(
        "refusing the API key in {shown}: others can read the file; run `chmod 600 {shown}`"
    )))
}

/// An open mapping or sequence while walking a `snowplow.yml`.
struct Frame {
    mapping: bool,
    /// The mapping's current key.
    key: Option<String>,
    /// Whether the mapping's next scalar is a key.
    expect_key: bool,
    /// The mapping's keys so far, for duplicates.
    keys: Vec<String>,
}

/// The `console:` mapping of a `snowplow.yml`; other top-level keys, and
/// keys of `console:` we do not use, are skipped. Errors say where.
pub fn parse_yml(text: &str) -> Result<BTreeMap<&'static str, String>, String> {
    use saphyr_parser::Parser;
    let mut values = BTreeMap::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            format!("line {}, column {}: {}", m.line(), m.col() + 1, e.info())
        })?;
        let at = format!(
            "line {}, column {}",
            span.start.line(),
            span.start.col() + 1
        );
        if let Some(why) = unlike_snowplow_cli(&event, &frames, &mut documents) {
            return Err(format!("{at}: {why}"));
        }
        yml_event(event, &mut frames, &mut values).map_err(|why| format!("{at}: {why}"))?;
    }
    Ok(values)
}

/// The `console:` key being given a value, if we use that key.
fn wanted_key(frames: &[Frame]) -> Option<&'static str> {
    match frames {
        [top, console] if top.key.as_deref() == Some("console") && console.mapping => console
            .key
            .as_deref()
            .and_then(field_key)
            .filter(|_| !console.expect_key),
        _ => None,
    }
}

/// One parser event of [`parse_yml`]: the frames it opens or closes, the
/// value it gives; an error says why snowplow-cli's values are not plain.
fn yml_event(
    event: saphyr_parser::Event,
    frames: &mut Vec<Frame>,
    values: &mut BTreeMap<&'static str, String>,
) -> Result<(), String> {
    use saphyr_parser::Event;
    let wanted = wanted_key(frames);
    match event {
        Event::MappingStart(..) | Event::SequenceStart(..) => {
            if let Some(key) = wanted {
                return Err(format!("console.{key} must be text"));
            }
            let mapping = matches!(event, Event::MappingStart(..));
            frames.push(Frame {
                mapping,
                key: None,
                expect_key: mapping,
                keys: Vec::new(),
            });
        }
        Event::MappingEnd | Event::SequenceEnd => {
            frames.pop();
            value_done(frames);
        }
        Event::Scalar(value, ..) => match frames.last_mut() {
            Some(frame) if frame.mapping && frame.expect_key => {
                frame.keys.push(value.to_string());
                frame.key = Some(value.into_owned());
                frame.expect_key = false;
            }
            _ => {
                if let Some(key) = wanted
                    && !matches!(&*value, "" | "~" | "null")
                {
                    if value.contains(['\n', '\r']) {
                        return Err(format!("console.{key} must be one line"));
                    }
                    values.insert(key, value.into_owned());
                }
                value_done(frames);
            }
        },
        Event::Alias(_) => {
            if wanted.is_some() {
                return Err("write console values out, without aliases".into());
            }
            value_done(frames);
        }
        _ => {}
    }
    Ok(())
}

/// What snowplow-cli's YAML library (yaml.v3, through viper) refuses or
/// reads otherwise than we would, so we refuse it rather than read other
/// values than snowplow-cli: a duplicate key (yaml.v3 refuses it), a merge
/// key, a tag (`!!binary` decodes), a second document.
fn unlike_snowplow_cli(
    event: &saphyr_parser::Event,
    frames: &[Frame],
    documents: &mut u32,
) -> Option<String> {
    use saphyr_parser::Event;
    match event {
        Event::DocumentStart(_) => {
            *documents += 1;
            (*documents > 1).then(|| "a second YAML document (`---`): keep one".into())
        }
        Event::Scalar(_, _, _, Some(_))
        | Event::MappingStart(_, Some(_))
        | Event::SequenceStart(_, Some(_)) => {
            Some("a YAML tag (`!…`): write plain values, as snowplow-cli setup does".into())
        }
        Event::Scalar(key, ..) => match frames.last() {
            Some(frame) if frame.mapping && frame.expect_key => {
                if key == "<<" {
                    Some("a merge key (`<<`): write the values out".into())
                } else if frame.keys.iter().any(|k| k == key) {
                    Some(format!(
                        "`{key}` appears twice in one mapping (snowplow-cli refuses that too)"
                    ))
                } else {
                    None
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// After a value, the enclosing mapping expects a key again.
fn value_done(frames: &mut [Frame]) {
    if let Some(frame) = frames.last_mut()
        && frame.mapping
    {
        frame.expect_key = true;
    }
}

/// The `'static` name of a `snowplow.yml` key we use.
fn field_key(key: &str) -> Option<&'static str> {
    FIELDS.iter().map(|(k, _)| *k).find(|k| *k == key)
}

/// The `SNOWPLOW_CONSOLE_*` lines of a `.env` as godotenv reads them:
/// `KEY=value` with optional `export `, `'…'` literal, `"…"` with escapes,
/// unquoted values ending at ` #`. Other variables are skipped.
pub fn parse_dotenv(text: &str) -> Result<BTreeMap<&'static str, String>, String> {
    let mut values = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once(['=', ':']) else {
            return Err(format!("line {}: expected NAME=value", n + 1));
        };
        let value = quoted_over_lines(value.trim(), &mut lines)
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        let key = FIELDS
            .iter()
            .find(|(_, env)| *env == name.trim())
            .map(|(k, _)| *k);
        if let Some(key) = key
            && !value.is_empty()
        {
            if value.contains(['\n', '\r']) {
                return Err(format!("line {}: {} must be one line", n + 1, name.trim()));
            }
            values.insert(key, value);
        }
    }
    Ok(values)
}

/// A value as godotenv reads it, where a quoted one may run over the
/// following lines (a multi-line value of another variable is no error).
fn quoted_over_lines<'a>(
    first: &str,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<String, String> {
    let mut raw = first.to_string();
    loop {
        match dotenv_value(&raw) {
            Err(e) if raw.starts_with(['"', '\'']) => match lines.next() {
                Some((_, more)) => {
                    raw.push('\n');
                    raw.push_str(more);
                }
                None => return Err(format!("{e} before the end of the file")),
            },
            done => return done,
        }
    }
}

fn dotenv_value(raw: &str) -> Result<String, String> {
    if let Some(rest) = raw.strip_prefix('\'') {
        let (inner, _) = rest.split_once('\'').ok_or("no closing '")?;
        return Ok(inner.to_string());
    }
    let Some(rest) = raw.strip_prefix('"') else {
        let value = raw.split_once(" #").map_or(raw, |(v, _)| v);
        return Ok(value.trim_end().to_string());
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("no closing \"".into())
}

#[cfg(test)]
mod tests {
    use crate::config::snowplow_cli::*;

    #[test]
    fn yml_as_snowplow_cli_writes_it() {
        let v = parse_yml(
            "console:\n    api-key: k\n    api-key-id: \"id\"\n    org-id: 'o'\n    host: https://h\n",
        )
        .unwrap();
        assert_eq!(v["api-key"], "k");
        assert_eq!(v["api-key-id"], "id");
        assert_eq!(v["org-id"], "o");
        assert_eq!(v["host"], "https://h");
    }

    #[test]
    fn yml_skips_what_it_does_not_use() {
        let v = parse_yml(
            "# comment\nother:\n  org-id: no\n  list: [1, {org-id: no}]\nconsole:\n  managed-from: x\n  nested: {org-id: no}\n  org-id: yes\n  api-key-id: ~\n",
        )
        .unwrap();
        assert_eq!(
            v.into_iter().collect::<Vec<_>>(),
            [("org-id", "yes".to_string())]
        );
        assert!(parse_yml("").unwrap().is_empty());
        assert!(parse_yml("- a\n- b\n").unwrap().is_empty());
        assert!(parse_yml("console: {org-id: flow}\n").unwrap()["org-id"] == "flow");
    }

    #[test]
    fn yml_errors_say_where() {
        let e = parse_yml("console:\n  org-id: [x\n").unwrap_err();
        assert!(e.starts_with("line "), "{e}");
        let e = parse_yml("console:\n  org-id:\n    a: b\n").unwrap_err();
        assert!(e.contains("console.org-id must be text"), "{e}");
        let e = parse_yml("x: &a k\nconsole:\n  api-key: *a\n").unwrap_err();
        assert!(e.contains("aliases"), "{e}");
        let e = parse_yml("console:\n  host: |\n    https://a\n    https://b\n").unwrap_err();
        assert_eq!(e, "line 3, column 5: console.host must be one line");
    }

    #[test]
    fn yml_that_snowplow_cli_reads_otherwise_is_refused() {
        for (yml, why) in [
            (
                "console:\n  org-id: a\n  org-id: b\n",
                "`org-id` appears twice",
            ),
            (
                "console:\n  org-id: a\nconsole:\n  org-id: b\n",
                "`console` appears twice",
            ),
            ("base: &b {org-id: a}\nconsole:\n  <<: *b\n", "merge key"),
            ("console:\n  api-key: !!binary aGk=\n", "YAML tag"),
            (
                "console:\n  org-id: a\n---\nconsole:\n  org-id: b\n",
                "second YAML document",
            ),
        ] {
            let e = parse_yml(yml).unwrap_err();
            assert!(e.starts_with("line ") && e.contains(why), "{yml:?}: {e}");
        }
        // The same key in two mappings is fine.
        assert!(parse_yml("a:\n  org-id: x\nconsole:\n  org-id: y\n").is_ok());
    }

    #[test]
    fn dotenv_as_godotenv_reads_it() {
        let v = parse_dotenv(
            "# c\nexport SNOWPLOW_CONSOLE_ORG_ID='o#1'\nSNOWPLOW_CONSOLE_API_KEY=\"k\\\"q\" # c\nSNOWPLOW_CONSOLE_HOST=https://h # c\nOTHER=x\nSNOWPLOW_CONSOLE_API_KEY_ID=\n",
        )
        .unwrap();
        assert_eq!(v["org-id"], "o#1");
        assert_eq!(v["api-key"], "k\"q");
        assert_eq!(v["host"], "https://h");
        assert!(!v.contains_key("api-key-id"));
        assert!(
            parse_dotenv("SNOWPLOW_CONSOLE_HOST=\"x\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(parse_dotenv("garbage\n").is_err());
        let e = parse_dotenv("SNOWPLOW_CONSOLE_HOST=\"a\\nb\"\n").unwrap_err();
        assert_eq!(e, "line 1: SNOWPLOW_CONSOLE_HOST must be one line");
    }

    #[test]
    fn dotenv_quoted_values_may_run_over_lines_as_in_godotenv() {
        let v = parse_dotenv("PEM=\"a\nb\"\nSNOWPLOW_CONSOLE_ORG_ID=o\nX='c\nd'\n").unwrap();
        assert_eq!(v.into_iter().collect::<Vec<_>>(), [("org-id", "o".into())]);
        let e = parse_dotenv("SNOWPLOW_CONSOLE_HOST=\"https://a\nb\"\n").unwrap_err();
        assert_eq!(e, "line 1: SNOWPLOW_CONSOLE_HOST must be one line");
        let e = parse_dotenv("X=\"a\nb\n").unwrap_err();
        assert_eq!(e, "line 1: no closing \" before the end of the file");
    }
}
