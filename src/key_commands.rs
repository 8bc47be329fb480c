//! `key set | get | delete | migrate`: the selected profile's API key in
//! the OS keychain (see keychain/), under its identity: Console host,
//! organization and key ID.
//!
//! The key never comes from argv: `set` reads it from the terminal without
//! echo, or from stdin when that is not a terminal. `get` prints it only to
//! a pipe or file unless `--force`. `migrate` removes a plain-text key only
//! after reading it back from the store.

use std::io::{IsTerminal, Read};

use std::path::{Path, PathBuf};

use crate::config::fields::keychain_choice;
use crate::config::{Credentials, SecretSource, Settings, migrate};
use crate::error::{Error, Result};
use crate::keychain::{self, Entry, Store};
use crate::secret::Secret;

/// What `key` was asked to do.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Action {
    Set,
    Get { force: bool },
    Delete,
    Migrate,
}

/// Runs the action; returns what to print on stdout and the lines to say.
pub fn run(settings: &Settings, action: Action) -> Result<(String, String)> {
    let entry = entry(settings)?;
    let store = keychain::store(entry.store)?;
    match action {
        Action::Set => {
            let key = read_key(&entry)?;
            keychain::check(key.expose())?;
            store.set(&entry, &key)?;
            let said = format!("stored {} in {}", entry.describe(), store.name());
            Ok((String::new(), said))
        }
        Action::Get { force } => {
            if !force && std::io::stdout().is_terminal() {
                return Err(Error::Usage(
                    "key get prints the key itself: pipe it to the program that needs it, or \
                     add --force to show it on this terminal"
                        .into(),
                ));
            }
            let key = keychain::read_from(&*store, &entry)?;
            Ok((format!("{}\n", key.expose()), String::new()))
        }
        Action::Delete => {
            let said = match store.delete(&entry)? {
                true => format!("deleted {} from {}", entry.describe(), store.name()),
                false => format!(
                    "no {} in {}: nothing to delete",
                    entry.describe(),
                    store.name()
                ),
            };
            Ok((String::new(), said))
        }
        Action::Migrate => Ok((String::new(), migrate(settings, &entry, &*store)?)),
    }
}

/// Moves the plain-text key into the store, and only once it reads back
/// the same, out of its file(s); returns what it did, line by line. Every
/// edit is made (or refused) before anything is stored, so a refusal
/// leaves the store and the files as they were.
fn migrate(settings: &Settings, entry: &Entry, store: &dyn Store) -> Result<String> {
    let credentials = settings.source.credentials();
    let Some(Credentials::V3 { key, .. } | Credentials::V2 { key, .. }) = credentials else {
        unreachable!("entry() accepted only API keys");
    };
    let place = settings.profile_place();
    let hidden = credentials
        .map(Credentials::secret_vars)
        .unwrap_or_default();
    let nothing_to_do =
        |who: &str| format!("{who} is in {} already: nothing to migrate", store.name());
    let read =
        |source: &SecretSource| source.read("API key", &place, settings.command_timeout, &hidden);
    let (key, edits, mut notes) = match key {
        SecretSource::Inline(_) if settings.file.is_some() => {
            let path = settings.file.as_deref().unwrap_or(Path::new(""));
            let edit = migrate::profile_key(path, &settings.profile)?;
            (read(key)?, vec![edit], Vec::new())
        }
        SecretSource::KeychainFirst(_, inner)
            if matches!(
                **inner,
                SecretSource::Inline(_)
                    | SecretSource::SnowplowCli { .. }
                    | SecretSource::Missing(_)
            ) =>
        {
            // Moved already: no file of snowplow-cli's holds a key.
            let cli_keys = migrate::cli_keys()?;
            if !matches!(**inner, SecretSource::Inline(_)) && cli_keys.is_empty() {
                return match store.get(entry)? {
                    Some(_) => Ok(nothing_to_do("snowplow-cli's key")),
                    None => Err(Error::Config(format!(
                        "no API key to migrate: snowplow-cli's files hold none, and {} has \
                         none for {}; store it with `snowplow-credentials key set`",
                        store.name(),
                        entry.describe()
                    ))),
                };
            }
            let value = read(inner)?;
            let (edits, notes) = cli_key_edits(cli_keys, &value)?;
            (value, edits, notes)
        }
        SecretSource::Keychain(_) => return Ok(nothing_to_do(&format!("the key of {place}"))),
        _ => {
            return Err(Error::Config(format!(
                "the API key comes from {}, not from a plain-text file: to keep it in the \
                 keychain instead, pipe it to `snowplow-credentials key set` and set \
                 api_key_source = \"keychain\" in {place}",
                settings.origin("api_key")
            )));
        }
    };
    // A different key already stored may be the one in use (snowplow-cli's
    // identity reads the keychain first): never replaced by a file's.
    let held = store.get(entry)?;
    let held = held.map(|bytes| keychain::usable(entry, store.name(), bytes));
    if held
        .transpose()?
        .is_some_and(|held| held.expose() != key.expose())
    {
        return Err(Error::Config(format!(
            "{} already holds a different key for {}: nothing was stored and no file changed; \
             if the file's key is the one to keep, run `snowplow-credentials key delete` first, \
             else remove the key from the file by hand",
            store.name(),
            entry.describe()
        )));
    }
    // A key that cannot be stored is the file's to fix: say which.
    keychain::check(key.expose()).map_err(|e| {
        Error::Config(format!(
            "{e} (the key read from {})",
            settings.origin("api_key")
        ))
    })?;
    store_checked(store, entry, &key)?;
    let mut said = vec![format!("stored {} in {}", entry.describe(), store.name())];
    apply(edits, &mut said)?;
    // Copies migrate does not read (a comment, another setting or profile,
    // the other tool's file) are named, for removal by hand.
    let mut files = crate::config::snowplow_cli::paths();
    files.extend(settings.file.clone());
    said.extend(migrate::copies_left(&files, key.expose()));
    said.append(&mut notes);
    Ok(said.join("\n"))
}

/// Writes the edits in turn, adding what each did to `said`. The key is
/// stored by then: a file that cannot be edited keeps its copy too, and
/// the one-line error says what was done before it.
fn apply(edits: Vec<migrate::Edit>, said: &mut Vec<String>) -> Result<()> {
    for edit in edits {
        if let Err(e) = edit.apply() {
            return Err(Error::Config(format!(
                "{e}; done before that: {}",
                said.join("; ")
            )));
        }
        said.push(edit.what);
    }
    Ok(())
}

/// The edits that take `value` out of snowplow-cli's files (`cli_keys`,
/// those holding a key), and a note
/// for each file that holds another key: only a file holding this very key
/// may lose it, as the store will keep this one alone. Ends with a note on
/// how to run snowplow-cli from now on.
fn cli_key_edits(
    cli_keys: Vec<(PathBuf, bool, String)>,
    value: &Secret<String>,
) -> Result<(Vec<migrate::Edit>, Vec<String>)> {
    let mut edits = Vec::new();
    let mut others = Vec::new();
    for (path, yml, key) in cli_keys {
        if &key == value.expose() {
            edits.push(migrate::cli_key(&path, yml)?);
        } else {
            others.push(crate::config::display_path(&path));
        }
    }
    let mut notes: Vec<String> = (others.iter())
        .map(|path| format!("{path} holds a different API key, left as it is"))
        .collect();
    let run = "`snowplow-credentials exec -- snowplow-cli …`";
    notes.push(match others.first() {
        None => format!("snowplow-cli now finds no key in its files: run it as {run}"),
        Some(path) => format!(
            "snowplow-cli now uses the different key in {path}: to run it with this one, use \
             {run}"
        ),
    });
    Ok((edits, notes))
}

/// Stores `key` under `entry` and reads it back: a store that accepts a key
/// but returns another (or none) must stop `migrate` before any file loses
/// its only copy, and its entry is deleted (it would shadow the file's
/// key, which snowplow-cli's identity reads after the keychain's). The
/// caller has checked the key ([`keychain::check`]).
fn store_checked(store: &dyn Store, entry: &Entry, key: &Secret<String>) -> Result<()> {
    store.set(entry, key)?;
    let back = store.get(entry);
    let same = |bytes: &Secret<Vec<u8>>| bytes.expose() == key.expose().as_bytes();
    if back
        .as_ref()
        .is_ok_and(|back| back.as_ref().is_some_and(same))
    {
        return Ok(());
    }
    let removed = match store.delete(entry) {
        Ok(_) => "its entry was deleted".to_string(),
        Err(e) => {
            format!("deleting its entry failed too ({e}): run `snowplow-credentials key delete`")
        }
    };
    let why = match back {
        Err(e) => format!("reading it back failed ({e})"),
        Ok(_) => "it did not give back the key just stored".into(),
    };
    Err(Error::Config(format!(
        "{} kept the key wrongly: {why}; {removed}, and no file was changed",
        store.name()
    )))
}

/// The keychain entry of the selected profile's key.
pub fn entry(settings: &Settings) -> Result<Entry> {
    let (org, key_id) = match settings.source.credentials() {
        Some(Credentials::V3 { org, key_id, .. }) => (org, key_id.as_str()),
        Some(Credentials::V2 { org, .. }) => (org, ""),
        _ => {
            return Err(Error::Config(format!(
                "the keychain holds API keys, and {} uses {}",
                settings.profile_place(),
                settings.source.describe()
            )));
        }
    };
    Ok(Entry {
        host: settings.host.to_string(),
        org: org.clone(),
        key_id: key_id.to_string(),
        store: keychain_choice(&crate::config::env)?,
    })
}

/// The most `set` reads from stdin.
const MAX_INPUT: u64 = 64 * 1024;

/// The key, from the terminal without echo, else all of stdin, trimmed.
fn read_key(entry: &Entry) -> Result<Secret<String>> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        prompt(&format!("API key for {}: ", entry.describe()))?
    } else {
        let mut text = String::new();
        // One byte past the limit tells "too much" from "exactly the limit".
        (stdin.lock().take(MAX_INPUT + 1))
            .read_to_string(&mut text)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => {
                    Error::Input("standard input is not UTF-8 text: give the bare API key".into())
                }
                _ => Error::io("cannot read the API key from standard input", e),
            })?;
        if text.len() as u64 > MAX_INPUT {
            return Err(Error::Input(format!(
                "standard input holds more than {MAX_INPUT} bytes: give the bare API key"
            )));
        }
        text
    };
    Ok(Secret::new(text.trim().to_string()))
}

/// Asks on stderr and reads one line from the terminal with echo off
/// (`sys::without_echo` restores it whatever happens). Where that cannot
/// be done (on Windows, a terminal that is not a console, such as Git
/// Bash's mintty), nothing is asked: the key is to be piped in.
fn prompt(question: &str) -> Result<String> {
    use std::io::{BufRead, Write};
    let mut line = String::new();
    let read = crate::sys::without_echo(|| {
        let _ = write!(std::io::stderr(), "{question}");
        std::io::stdin().lock().take(MAX_INPUT).read_line(&mut line)
    });
    match read {
        Ok(read) => read.map_err(|e| Error::io("cannot read the API key from the terminal", e))?,
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            return Err(Error::Usage(
                "key set cannot turn off this terminal's echo (it is not a Windows console): \
                 pipe the key in (Get-Clipboard | snowplow-credentials key set), or run it in \
                 Windows Terminal, PowerShell or cmd"
                    .into(),
            ));
        }
        Err(e) => return Err(Error::io("cannot turn off the terminal's echo", e)),
    };
    // Ctrl-D (or a read error) left the cursor on the prompt's line, where
    // the message that follows would be glued.
    if !line.ends_with('\n') {
        let _ = writeln!(std::io::stderr());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A store that gives back `back` whatever it was given.
    struct Forgetful {
        back: Option<&'static str>,
        held: RefCell<Option<String>>,
    }

    impl Store for Forgetful {
        fn name(&self) -> &'static str {
            "the forgetful store"
        }
        fn set(&self, _: &Entry, key: &Secret<String>) -> Result<()> {
            *self.held.borrow_mut() = Some(key.expose().clone());
            Ok(())
        }
        fn get(&self, _: &Entry) -> Result<Option<Secret<Vec<u8>>>> {
            let back = self.held.borrow().as_ref().and(self.back);
            Ok(back.map(|k| Secret::new(k.as_bytes().to_vec())))
        }
        fn delete(&self, _: &Entry) -> Result<bool> {
            Ok(self.held.borrow_mut().take().is_some())
        }
    }

    #[test]
    fn a_key_that_does_not_read_back_is_not_left_in_the_store() {
        let entry = Entry {
            host: "https://h".into(),
            org: "o".into(),
            key_id: "i".into(),
            store: crate::keychain::Choice::Keyutils,
        };
        let key = Secret::new("the-key".to_string());
        for back in [Some("another"), None] {
            let store = Forgetful {
                back,
                held: RefCell::new(None),
            };
            let e = store_checked(&store, &entry, &key).unwrap_err().to_string();
            assert_eq!(
                e,
                "the forgetful store kept the key wrongly: it did not give back the key just \
                 stored; its entry was deleted, and no file was changed"
            );
            assert!(store.held.borrow().is_none(), "{back:?}");
        }
        let store = Forgetful {
            back: Some("the-key"),
            held: RefCell::new(None),
        };
        store_checked(&store, &entry, &key).unwrap();
        assert_eq!(store.held.borrow().as_deref(), Some("the-key"));
    }

    #[test]
    fn a_file_changed_meanwhile_is_one_line_saying_what_was_done() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a/.env"), dir.path().join("b/.env"));
        for path in [&a, &b] {
            std::fs::create_dir(path.parent().unwrap()).unwrap();
            std::fs::write(path, "SNOWPLOW_CONSOLE_API_KEY=k\nX=1\n").unwrap();
        }
        let edits = vec![
            migrate::cli_key(&a, false).unwrap(),
            migrate::cli_key(&b, false).unwrap(),
        ];
        std::fs::write(&b, "SNOWPLOW_CONSOLE_API_KEY=k\nX=2\n").unwrap();
        let mut said = vec!["stored it".to_string()];
        let e = apply(edits, &mut said).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("changed while its key was being moved"), "{e}");
        assert!(
            e.ends_with(&format!(
                "done before that: stored it; removed the key's line from {}",
                crate::config::display_path(&a)
            )),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "X=1\n");
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            "SNOWPLOW_CONSOLE_API_KEY=k\nX=2\n"
        );
    }
}
