//! Serving a token minted elsewhere: a profile with `token_file` reads the
//! JWT that External Secrets Operator, Vault Agent or a `sink` keeps fresh in
//! a file, and holds no key at all.
//!
//! Nothing here can refresh that token, so there is no exchange, no lock and
//! no cache: the file is read again on every call (Kubernetes swaps Secret
//! files by symlink under running pods), and its `exp` decides. A token
//! inside its refresh threshold is still served, with a `-v` note, since
//! refusing it would only fail sooner; an expired one is an error that names
//! the file and its expiry.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::{BadExpiry, Peek, Served, is_fresh, threshold, usable_exp};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::{debug, files, jwt, time, warn};

/// What the file holds once read: the token and its claims.
struct FileToken {
    token: Secret<String>,
    exp: u64,
    iat: Option<u64>,
}

/// The Console's own answer, as ESO's or a script's copy of it may hold.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "accessToken", alias = "access_token")]
    access_token: Secret<String>,
}

/// Reads and checks the token in `path`. Errors name the file and say what
/// to do; none carries the file's contents.
fn read(path: &Path) -> Result<FileToken> {
    let shown = path.display();
    let unreadable = |why: String| {
        Error::Unavailable(format!(
            "cannot use the token file {shown}: {why}; check what writes it (ESO, Vault \
             Agent, snowplow-credentials sink) or the profile's token_file"
        ))
    };
    let (file, others_read) =
        files::open_token_file(path).map_err(|e| unreadable(e.to_string()))?;
    if others_read {
        warn!("other users can read the token file {shown}: make it 0640 or 0600");
    }
    if let Some(why) = files::dir_open_to_others(path) {
        warn!("others may replace the token file {shown}: {why}");
    }
    let mut text = String::new();
    file.take(files::MAX_TOKEN_FILE)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    let token = parse(&text).map_err(|why| unreadable(why.into()))?;
    let claims = jwt::claims(token.expose()).map_err(|e| unreadable(e.to_string()))?;
    // Its expiry by the one rule; whether it is past is `serve`'s call.
    let exp = match usable_exp(claims.exp, 0) {
        Ok(exp) => exp,
        Err(BadExpiry::Past(exp)) => exp,
        Err(why) => return Err(unreadable(format!("its token {why}"))),
    };
    Ok(FileToken {
        token,
        exp,
        iat: claims.iat.filter(|iat| *iat < exp),
    })
}

/// The token itself: the whole trimmed text, or the `accessToken` of a JSON
/// object. Whatever is accepted is one word without whitespace.
pub fn parse(text: &str) -> Result<Secret<String>, &'static str> {
    let text = text.trim();
    let token = if text.starts_with('{') {
        let answer: Answer = serde_json::from_str(text).map_err(|e| match e {
            // Which of two tokens was meant cannot be known.
            e if e.to_string().starts_with("duplicate field") => {
                "its JSON names accessToken more than once"
            }
            e if e.is_syntax() || e.is_eof() => "it starts with `{` but is not valid JSON",
            _ => "it is JSON without a string accessToken",
        })?;
        answer.access_token
    } else {
        Secret::new(text.to_string())
    };
    match token.expose() {
        t if t.is_empty() => Err("it holds no token"),
        t if t.contains(char::is_whitespace) => {
            Err("it holds more than one word: it must hold the token alone")
        }
        _ => Ok(token),
    }
}

/// The token in `path` to hand out, while it has not expired.
pub fn serve(path: &Path, min_ttl: u64, floor: u64) -> Result<Served> {
    let read = read(path)?;
    let now = time::now();
    if let Err(BadExpiry::Past(exp)) = usable_exp(Some(read.exp), now) {
        return Err(Error::Unavailable(format!(
            "the token in {} expired at {}: whatever writes that file (ESO, Vault Agent, \
             snowplow-credentials sink) has not replaced it; check it",
            path.display(),
            time::rfc3339(exp)
        )));
    }
    // Without `iat` the lifetime is unknown: `min_ttl` alone.
    let iat = read.iat.unwrap_or(0);
    let threshold = threshold(min_ttl, iat, read.exp, floor);
    if !is_fresh(now, read.exp, threshold) {
        debug!(
            "the token in {} expires at {}, within its {threshold} s threshold: served, since \
             only what writes that file can replace it",
            path.display(),
            time::rfc3339(read.exp)
        );
    } else {
        debug!("serving the token in {}", path.display());
    }
    Ok(Served {
        token: read.token,
        exp: Some(read.exp),
        refresh_at: Some(read.exp.saturating_sub(threshold).max(now)),
    })
}

/// The token in `path`, judged by the same freshness rule, for `status`.
/// Only its writer can replace it, so one inside its threshold but
/// unexpired is still served.
pub fn peek(path: &Path, min_ttl: u64) -> Peek {
    match read(path) {
        Err(e) => Peek::Unusable(e.to_string()),
        Ok(read) => {
            let threshold = threshold(min_ttl, read.iat.unwrap_or(0), read.exp, 0);
            Peek::Elsewhere {
                exp: read.exp,
                late: !is_fresh(time::now(), read.exp, threshold),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_file_holds_the_token_or_the_consoles_answer() {
        assert_eq!(parse("a.b.c\n").unwrap().expose(), "a.b.c");
        assert_eq!(
            parse(r#"{"accessToken":"a.b.c"}"#).unwrap().expose(),
            "a.b.c"
        );
        assert_eq!(
            parse(r#" {"access_token":"a.b.c"} "#).unwrap().expose(),
            "a.b.c"
        );
        assert!(parse("").is_err());
        assert!(parse(" \n").is_err());
        assert!(parse(r#"{"token":"a.b.c"}"#).is_err());
        assert!(parse(r#"{"accessToken":1}"#).is_err());
        assert!(parse("a.b.c d.e.f").is_err());
        // Found by the parser test's mutations: the JSON form is one word too.
        assert!(parse(r#"{"accessToken":"a.b c"}"#).is_err());
        assert!(parse(r#"{"accessToken":""}"#).is_err());
    }
}
