//! `key migrate`'s edits: a plain-text API key taken out of the file that
//! holds it (our profile's inline `api_key`, snowplow-cli's `snowplow.yml`
//! or `.env`), by removing its one line and checking, by parsing the result
//! with the same parser that reads it, that the key is gone and nothing
//! else changed. Anything else (a key over several lines, two candidates)
//! is refused with a word to edit the file by hand.

use std::path::{Path, PathBuf};

use super::file;
use super::snowplow_cli::{self, FIELDS, SECRET};
use crate::error::{Error, Result};

/// A file rewritten without its key: where, and its new text.
pub struct Edit {
    pub path: PathBuf,
    pub text: String,
    /// What changed, for the message.
    pub what: String,
}

fn refuse(path: &Path, why: &str) -> Error {
    Error::Config(format!(
        "cannot take the key out of {} ({why}): the key is in the keychain now; remove it \
         from the file by hand",
        super::display_path(path)
    ))
}

fn read(path: &Path) -> Result<String> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse(
            path,
            "it is a symbolic link, which a rewrite would replace",
        ));
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
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
    let candidates = text.lines().enumerate().filter(|(_, line)| {
        let line = line.trim_start();
        line.strip_prefix("api_key")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    for (n, _) in candidates {
        let edited: Vec<&str> = (text.lines().enumerate())
            .map(|(i, line)| {
                if i == n {
                    "api_key_source = \"keychain\""
                } else {
                    line
                }
            })
            .collect();
        let edited = edited.join("\n") + "\n";
        let Ok(after) = file::parse(path, &edited) else {
            continue;
        };
        let switched = after.profiles.get(profile).is_some_and(|p| {
            p.api_key.is_none() && p.api_key_source == Some(file::KeySource::Keychain)
        });
        if switched && keys(&after) == expected {
            return Ok(Edit {
                path: path.to_path_buf(),
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
        let line = line.trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let name = if yml { SECRET } else { var };
        line.strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with(if yml { ":" } else { "=" }))
    };
    let lines: Vec<&str> = text.lines().collect();
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| is_key_line(lines[i]))
        .collect();
    let [n] = found[..] else {
        return Err(refuse(path, "not exactly one line holds the key"));
    };
    let kept: Vec<&str> = (lines.iter().enumerate())
        .filter(|(i, _)| *i != n)
        .map(|(_, l)| *l)
        .collect();
    let edited = kept.join("\n") + "\n";
    let mut expected = before;
    expected.remove(SECRET);
    match parse(&edited) {
        Ok(after) if after == expected => Ok(Edit {
            path: path.to_path_buf(),
            what: format!("removed the key's line from {}", super::display_path(path)),
            text: edited,
        }),
        _ => Err(refuse(
            path,
            "removing its line would change more than the key",
        )),
    }
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
            assert!(e.contains("remove it from the file by hand"), "{e}");
        }
    }
}
