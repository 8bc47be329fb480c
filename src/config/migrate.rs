//! `key migrate`'s edits: a plain-text API key taken out of the file that
//! holds it (our profile's inline `api_key`, snowplow-cli's `snowplow.yml`
//! or `.env`), by removing its one line and checking, by parsing the result
//! with the same parser that reads it, that the key is gone and nothing
//! else changed. Every other byte is kept as it was (CRLF line ends, a
//! missing final newline). Anything else (a key over several lines, two
//! candidates) is refused, before anything is stored, with a word to edit
//! the file by hand. An edit is written only if the file still holds what
//! it was made from: a concurrent edit is never overwritten.

use std::path::{Path, PathBuf};

use super::file;
use super::snowplow_cli::{self, FIELDS, SECRET};
use crate::error::{Error, Result};

/// A file rewritten without its key: where, its text before and after.
pub struct Edit {
    pub path: PathBuf,
    /// The text the edit was made from: [`Edit::apply`] writes only over it.
    before: String,
    pub text: String,
    /// What changed, for the message.
    pub what: String,
}

impl Edit {
    /// Writes the new text, atomically, if the file still holds the text
    /// the edit was made from (and is still no symlink); else leaves it.
    /// (The window between that check and the rename is a few system
    /// calls: an editor saving within it is not seen.)
    pub fn apply(&self) -> Result<()> {
        let shown = super::display_path(&self.path);
        let Ok((now, meta)) = read_with_meta(&self.path) else {
            return Err(self.not_written("it can no longer be read"));
        };
        if now != self.before {
            return Err(Error::Config(format!(
                "{shown} changed while its key was being moved, so it was left as it is: run \
                 `snowplow-credentials key migrate` again"
            )));
        }
        crate::files::rewrite_private(&self.path, self.text.as_bytes(), &meta)
            .map_err(|e| self.not_written(&e.to_string()))
    }

    /// The file could not be rewritten: it keeps the key, now in the store
    /// too.
    fn not_written(&self, why: &str) -> Error {
        let shown = super::display_path(&self.path);
        Error::Config(format!(
            "cannot rewrite {shown} ({why}): the key is stored; remove its line from {shown} by \
             hand"
        ))
    }
}

/// Migrate refused to edit `path`, and (it edits before storing) nothing
/// was stored.
fn refuse(path: &Path, why: &str) -> Error {
    Error::Config(format!(
        "cannot take the key out of {} ({why}): nothing was stored and no file changed; \
         store the key with `snowplow-credentials key set`, then remove it from the file by \
         hand",
        super::display_path(path)
    ))
}

/// `text`'s lines, each with its own line end (`\n`, `\r\n` or none).
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// A line without its line end.
fn bare(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

fn read(path: &Path) -> Result<String> {
    read_with_meta(path).map(|(text, _)| text)
}

/// The file's text and its metadata (its own: a symbolic link is refused),
/// if migrate may rewrite it.
fn read_with_meta(path: &Path) -> Result<(String, std::fs::Metadata)> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    let meta = std::fs::symlink_metadata(path).map_err(cannot)?;
    if meta.file_type().is_symlink() {
        return Err(refuse(
            path,
            "it is a symbolic link, which a rewrite would replace",
        ));
    }
    if crate::files::links(&meta) > 1 {
        return Err(refuse(
            path,
            "it has other names (hard links), which a rewrite would leave holding the key",
        ));
    }
    Ok((std::fs::read_to_string(path).map_err(cannot)?, meta))
}

/// `profile`'s inline `api_key` in our config file `path`, replaced by
/// `api_key_source = "keychain"`.
pub fn profile_key(path: &Path, profile: &str) -> Result<Edit> {
    let text = read(path)?;
    let before = file::parse(path, &text)?;
    let keys = |f: &file::File| -> Vec<(String, bool)> {
        (f.profiles.iter())
            .map(|(name, p)| (name.clone(), p.api_key.is_some()))
            .collect()
    };
    let expected: Vec<(String, bool)> = (keys(&before).into_iter())
        .map(|(name, has)| (name.clone(), has && name != profile))
        .collect();
    let lines = lines(&text);
    let candidates = lines.iter().enumerate().filter(|(_, line)| {
        let line = line.trim_start();
        line.strip_prefix("api_key")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    for (n, line) in candidates {
        // The line's indent and line end stay; only its words change.
        let indent = &line[..line.len() - line.trim_start().len()];
        let end = &line[bare(line).len()..];
        let mut edited = String::with_capacity(text.len());
        for (i, l) in lines.iter().enumerate() {
            match i == n {
                true => edited.extend([indent, "api_key_source = \"keychain\"", end]),
                false => edited.push_str(l),
            }
        }
        let Ok(after) = file::parse(path, &edited) else {
            continue;
        };
        let switched = after.profiles.get(profile).is_some_and(|p| {
            p.api_key.is_none() && p.api_key_source == Some(file::KeySource::Keychain)
        });
        if switched && keys(&after) == expected {
            return Ok(Edit {
                path: path.to_path_buf(),
                before: text.clone(),
                text: edited,
                what: format!(
                    "replaced api_key with api_key_source = \"keychain\" in profile \"{profile}\" \
                     of {}",
                    super::display_path(path)
                ),
            });
        }
    }
    Err(refuse(path, "no one-line api_key of this profile found"))
}

/// snowplow-cli's file `path` (`snowplow.yml` if `yml`, else `.env`)
/// without its `api-key` line.
pub fn cli_key(path: &Path, yml: bool) -> Result<Edit> {
    let text = read(path)?;
    let parse = |t: &str| {
        if yml {
            snowplow_cli::parse_yml(t)
        } else {
            snowplow_cli::parse_dotenv(t)
        }
    };
    let before = parse(&text).map_err(|e| refuse(path, &e))?;
    let var = FIELDS
        .iter()
        .find(|(k, _)| *k == SECRET)
        .map_or("", |f| f.1);
    let is_key_line = |line: &str| {
        let line = bare(line).trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let name = if yml { SECRET } else { var };
        line.strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with(if yml { ":" } else { "=" }))
    };
    let lines = lines(&text);
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| is_key_line(lines[i]))
        .collect();
    let [n] = found[..] else {
        return Err(refuse(path, "not exactly one line holds the key"));
    };
    let edited: String = (lines.iter().enumerate())
        .filter(|(i, _)| *i != n)
        .map(|(_, l)| *l)
        .collect();
    let mut expected = before;
    expected.remove(SECRET);
    match parse(&edited) {
        Ok(after) if after == expected => Ok(Edit {
            path: path.to_path_buf(),
            before: text,
            what: format!("removed the key's line from {}", super::display_path(path)),
            text: edited,
        }),
        _ => Err(refuse(
            path,
            "removing its line would change more than the key",
        )),
    }
}

/// A note for each line of `files` (those that exist) still holding
/// `key` after migrate: a comment, another setting or profile, the other
/// tool's file. Each file is read once; one that cannot be is skipped.
pub fn copies_left(files: &[PathBuf], key: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut notes = Vec::new();
    for path in files {
        if key.is_empty() || seen.contains(path) {
            continue;
        }
        seen.push(path.clone());
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let shown = super::display_path(path);
        for (n, _) in text.lines().enumerate().filter(|(_, l)| l.contains(key)) {
            notes.push(format!(
                "line {} of {shown} still holds the key (a comment, or another setting or \
                 profile): remove it by hand",
                n + 1
            ));
        }
    }
    notes
}

/// snowplow-cli's files that hold an API key, with whether each is a
/// `snowplow.yml` (else a `.env`) and its key.
pub fn cli_keys() -> Result<Vec<(PathBuf, bool, String)>> {
    let files = snowplow_cli::load(&file::dirs(&super::env))?;
    Ok((files.into_iter())
        .filter_map(|f| {
            let key = f.get(SECRET)?.trim().to_string();
            let yml = f.path.file_name().is_some_and(|n| n == "snowplow.yml");
            Some((f.path, yml, key))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit_of(name: &str, text: &str) -> Result<Edit> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        cli_key(&path, name == "snowplow.yml")
    }

    #[test]
    fn only_the_keys_one_line_goes() {
        let env = "# mine\nexport SNOWPLOW_CONSOLE_API_KEY = 'k'\nSNOWPLOW_CONSOLE_ORG_ID=o\n";
        assert_eq!(
            edit_of(".env", env).unwrap().text,
            "# mine\nSNOWPLOW_CONSOLE_ORG_ID=o\n"
        );
        let yml = "console:\n  api-key: k\n  org-id: o\n";
        assert_eq!(
            edit_of("snowplow.yml", yml).unwrap().text,
            "console:\n  org-id: o\n"
        );
        // A key over two lines, or none: refused, nothing guessed.
        for (name, text) in [
            (".env", "SNOWPLOW_CONSOLE_API_KEY=\"a\nb\"\n"),
            ("snowplow.yml", "console:\n  org-id: o\n"),
        ] {
            let e = edit_of(name, text).err().unwrap().to_string();
            assert!(e.contains("nothing was stored and no file changed"), "{e}");
        }
    }

    #[test]
    fn every_other_byte_is_kept() {
        // CRLF line ends, no final newline, a file left empty.
        let crlf = "# mine\r\nSNOWPLOW_CONSOLE_API_KEY=k\r\nSNOWPLOW_CONSOLE_ORG_ID=o";
        let edit = edit_of(".env", crlf).unwrap();
        assert_eq!(edit.text, "# mine\r\nSNOWPLOW_CONSOLE_ORG_ID=o");
        let last = "console:\r\n  org-id: o\r\n  api-key: k";
        assert_eq!(
            edit_of("snowplow.yml", last).unwrap().text,
            "console:\r\n  org-id: o\r\n"
        );
        assert_eq!(
            edit_of(".env", "SNOWPLOW_CONSOLE_API_KEY=k\n")
                .unwrap()
                .text,
            ""
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let toml = "[profiles.a]\r\n  org_id = \"o\"\r\n  api_key = \"k\"  # old\r\n";
        std::fs::write(&path, toml).unwrap();
        assert_eq!(
            profile_key(&path, "a").unwrap().text,
            "[profiles.a]\r\n  org_id = \"o\"\r\n  api_key_source = \"keychain\"\r\n"
        );
    }

    #[test]
    fn other_copies_of_the_key_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (env, yml) = (dir.path().join(".env"), dir.path().join("snowplow.yml"));
        std::fs::write(&env, "# was SNOWPLOW_CONSOLE_API_KEY=sk-1\nB=sk-1\n").unwrap();
        std::fs::write(&yml, "console:\n  org-id: o\n").unwrap();
        let files = [env.clone(), yml, env.clone(), dir.path().join("none")];
        let notes = copies_left(&files, "sk-1");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[1].starts_with("line 2 of "), "{notes:?}");
        assert!(copies_left(&files, "sk-2").is_empty());
    }

    /// A hard link would keep the key under its other name. (Windows: the
    /// count of names is not read, see `files::links`.)
    #[cfg(unix)]
    #[test]
    fn a_file_with_other_names_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "SNOWPLOW_CONSOLE_API_KEY=k\n").unwrap();
        std::fs::hard_link(&path, dir.path().join("copy")).unwrap();
        let e = cli_key(&path, false).err().unwrap().to_string();
        assert!(e.contains("hard links"), "{e}");
        assert!(e.contains("nothing was stored"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_stays_read_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "SNOWPLOW_CONSOLE_API_KEY=k\nA=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        cli_key(&path, false).unwrap().apply().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o400);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left: {names:?}");
    }

    #[test]
    fn a_file_changed_since_the_edit_was_made_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "SNOWPLOW_CONSOLE_API_KEY=k\nA=1\n").unwrap();
        let edit = cli_key(&path, false).unwrap();
        std::fs::write(&path, "SNOWPLOW_CONSOLE_API_KEY=k\nA=2\n").unwrap();
        let e = edit.apply().unwrap_err().to_string();
        assert!(e.contains("changed while its key was being moved"), "{e}");
        let left = std::fs::read_to_string(&path).unwrap();
        assert_eq!(left, "SNOWPLOW_CONSOLE_API_KEY=k\nA=2\n");
        // Unchanged, it is written.
        let edit = cli_key(&path, false).unwrap();
        edit.apply().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=2\n");
    }
}
