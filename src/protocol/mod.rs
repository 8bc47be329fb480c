//! Each tool's own credential protocol, one file per tool, all on top of
//! [`crate::token::get`].
//!
//! A protocol module owns its tool's whole contract and nothing else: how
//! the request arrives (arguments, stdin, an environment variable), what
//! answering it needs (a token, dropping the cached one, or nothing), and
//! the exact answer, rendered without I/O. The cache, the expiry rules and
//! host matching are shared. Protocols that carry a host answer "no
//! credentials" in their own way for any host the profile does not serve
//! ([`crate::config::Settings::serves`]).

pub mod aws;
pub mod bazel;
pub mod docker;
pub mod git;
pub mod kubernetes;
pub mod plain;
pub mod terraform;

use std::fmt;
use std::io::{BufRead, Read};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token::{self, Served, Want};
use crate::usage::Entry;

/// A protocol's command-line entry: how it is described (words, link,
/// arguments, help), and how its arguments become a call to serve.
pub struct ToolEntry {
    pub entry: Entry,
    /// The call its arguments (after its word) make; `None` if wrong.
    pub parse: fn(&[&str]) -> Option<Call>,
}

/// Every protocol, in `--help` order (within its [`crate::usage::Group`]):
/// the one list a new protocol joins.
pub const TOOLS: &[&ToolEntry] = &[
    &plain::TOKEN,
    &plain::HEADER,
    &aws::ENTRY,
    &git::ENTRY,
    &kubernetes::ENTRY,
    &docker::ENTRY,
    &terraform::ENTRY,
    &bazel::ENTRY,
];

/// Each helper link name, and the command word it stands for.
pub fn links() -> impl Iterator<Item = (&'static str, &'static str)> {
    let entries = TOOLS.iter().map(|t| &t.entry);
    entries.filter_map(|e| Some((e.link?, e.words[0])))
}

/// A protocol and its action, as the command line named them.
pub type Call = Box<dyn Serve>;

/// Serving any protocol's call, the same way (see [`serve`]).
pub trait Serve: fmt::Debug {
    /// `load` gives the settings, `refresh` is `--refresh`: what to print
    /// and the exit code.
    fn serve(&self, load: &dyn Fn() -> Result<Settings>, refresh: bool) -> Output;
}

/// What serving gives: the output and the exit code.
pub type Output = Result<(String, u8)>;

impl<P: Protocol + Clone + fmt::Debug> Serve for P {
    fn serve(&self, load: &dyn Fn() -> Result<Settings>, refresh: bool) -> Output {
        serve(self.clone(), load, refresh)
    }
}

/// Any protocol, the same way: read the request, load the settings, get a
/// token only when one is wanted, render. A protocol that answers errors
/// on stdout gets them there, with exit code 1.
fn serve<P: Protocol>(call: P, load: &dyn Fn() -> Result<Settings>, refresh: bool) -> Output {
    let answer = || {
        let request = call.read()?;
        if let Some(out) = P::unconfigured(&request) {
            return Ok(out);
        }
        self::answer::<P>(&request, &load()?, refresh)
    };
    match answer() {
        Ok(out) => Ok((out, 0)),
        Err(e) if P::ERRORS_TO_STDOUT => Ok((format!("{e}\n"), 1)),
        Err(e) => Err(e),
    }
}

/// What answering a request needs from the cache.
#[derive(Debug, PartialEq)]
pub enum Need<'a> {
    /// A token, to render.
    Token,
    /// Dropping the cached token: any (`None`), or only if it is this one.
    Forget(Option<&'a Secret<String>>),
    /// Nothing: the answer is rendered from the request and settings alone.
    Nothing,
}

/// One tool's protocol. `Self` is what the command line said (the action);
/// the caller reads the request, loads the settings only when
/// [`Protocol::unconfigured`] has no answer, meets the [`Protocol::need`],
/// then prints [`Protocol::render`]'s answer.
pub trait Protocol: Sized {
    /// Everything the tool asked, read and checked.
    type Request;
    /// Docker reads a helper's errors from stdout, not stderr.
    const ERRORS_TO_STDOUT: bool = false;
    /// The least cache threshold the tool tolerates (see [`crate::token::Want`]).
    const FLOOR: u64 = 0;

    /// Reads the request the way this tool sends it: stdin, the environment,
    /// or nothing beyond the command line.
    fn read(self) -> Result<Self::Request>;

    /// An answer that must not depend on any configuration (Docker's
    /// `version`), given before the settings are loaded.
    fn unconfigured(_request: &Self::Request) -> Option<String> {
        None
    }

    /// What answering needs; an error is the tool's own "no credentials".
    fn need<'a>(request: &'a Self::Request, settings: &Settings) -> Result<Need<'a>>;

    /// The exact answer for stdout. `served` is the token when
    /// [`Protocol::need`] asked for one, else `None`.
    fn render(request: &Self::Request, served: Option<&Served>, settings: &Settings) -> String;
}

/// The answer to a request that has been read: meets its [`Protocol::need`]
/// (`refresh` is `--refresh`), then renders.
pub fn answer<P: Protocol>(
    request: &P::Request,
    settings: &Settings,
    refresh: bool,
) -> Result<String> {
    let served = match P::need(request, settings)? {
        Need::Token => {
            let floor = P::FLOOR;
            Some(token::get(settings, Want { refresh, floor })?)
        }
        Need::Forget(only) => {
            if token::forget(settings, only.map(|t| t.expose().as_str()))? {
                crate::debug!("dropped the cached token of profile {}", settings.profile);
            }
            None
        }
        Need::Nothing => None,
    };
    Ok(P::render(request, served.as_ref(), settings))
}

/// More than any tool sends a credential helper.
const MAX_STDIN: u64 = 64 * 1024;

/// Where a tool's request on stdin ends. A client may keep stdin open after
/// its request (nothing in the protocols says it must close it), so reading
/// to end-of-file could wait forever.
#[derive(Clone, Copy, Debug)]
pub enum End {
    /// git: the first blank line.
    BlankLine,
    /// Docker `get`/`erase`: the first line (docker-py sends none and closes).
    Line,
    /// Bazel: one complete JSON object.
    JsonObject,
    /// The whole of stdin (input that is only discarded).
    Eof,
}

impl End {
    fn reached(self, bytes: &[u8]) -> bool {
        match self {
            End::BlankLine => bytes.starts_with(b"\n") || bytes.windows(2).any(|w| w == b"\n\n"),
            End::Line => bytes.contains(&b'\n'),
            End::JsonObject => {
                bytes.trim_ascii_start().starts_with(b"{")
                    && serde_json::Deserializer::from_slice(bytes)
                        .into_iter::<serde::de::IgnoredAny>()
                        .next()
                        .is_some_and(|value| value.is_ok())
            }
            End::Eof => false,
        }
    }
}

/// Reads stdin as UTF-8 up to the end of the request, refusing more than
/// [`MAX_STDIN`] bytes or a NUL byte. `tool` names the sender in messages.
pub fn read_stdin(tool: &str, end: End) -> Result<String> {
    read_request(std::io::stdin().lock(), tool, end)
}

/// All of `input`, as [`read_stdin`] checks it (the fuzzer feeds it bytes).
pub fn read_input(input: impl Read, tool: &str) -> Result<String> {
    read_request(std::io::BufReader::new(input), tool, End::Eof)
}

/// [`read_stdin`] from any buffered reader.
pub fn read_request(mut input: impl BufRead, tool: &str, end: End) -> Result<String> {
    let mut bytes = Vec::new();
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("cannot read standard input", e)),
        };
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        bytes.extend_from_slice(chunk);
        input.consume(n);
        if bytes.len() as u64 > MAX_STDIN {
            return Err(Error::Input(format!(
                "{tool} sent more than {} KiB on standard input: that is not a credential request",
                MAX_STDIN / 1024
            )));
        }
        if end.reached(&bytes) {
            break;
        }
    }
    if bytes.contains(&0) {
        return Err(Error::Input(format!(
            "{tool} sent a NUL byte on standard input: that is not a credential request"
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::Input(format!(
            "{tool} sent standard input that is not UTF-8: that is not a credential request"
        ))
    })
}

/// A JSON document as one line, with a trailing newline.
pub fn json_line<T: serde::Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

/// What the protocols' unit tests share: a profile, and a token served for it.
#[cfg(test)]
pub mod fixture {
    use std::path::Path;

    use crate::config::{Flags, Settings};
    use crate::secret::Secret;
    use crate::token::Served;

    /// A profile whose Console is https://console.test, that also serves
    /// registry.test:5000; v3 (key ID `key-id`), or v2 without `key_id`.
    pub fn settings(key_id: Option<&str>) -> Settings {
        let key_id = key_id
            .map(|id| format!("api_key_id = \"{id}\"\n"))
            .unwrap_or_default();
        let text = format!(
            "[profiles.default]\norg_id = \"00000000-0000-4000-8000-0000000000aa\"\n{key_id}api_key = \"key\"\n\
             host = \"https://console.test\"\nhosts = [\"registry.test:5000\"]\n"
        );
        Settings::from_toml(&Flags::default(), Path::new("/x/credentials.toml"), &text).unwrap()
    }

    /// The v3 profile.
    pub fn v3() -> Settings {
        settings(Some("key-id"))
    }

    /// A token that expires at 2100-01-01T00:00:00Z and is refreshed 15
    /// minutes before.
    pub fn served() -> Served {
        Served {
            token: Secret::new("e30.e30.c2ln".into()),
            exp: Some(4_102_444_800),
            refresh_at: Some(4_102_443_900),
        }
    }

    /// [`served`] for a token without a readable expiry.
    pub fn served_without_expiry() -> Served {
        Served {
            exp: None,
            refresh_at: None,
            ..served()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The v3 profile with a token for it cached in a fresh directory.
    fn cached() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = fixture::v3();
        settings.cache_dir = dir.path().join("cache");
        let cache = token::cache_for(&settings);
        cache.prepare().unwrap();
        let token = fixture::served().token;
        cache.write(&token, 4_102_444_800, 4_102_358_400).unwrap();
        (dir, settings)
    }

    #[test]
    fn answer_gets_the_cached_token_only_when_the_protocol_needs_one() {
        let (_dir, settings) = cached();
        let token = plain::Plain::Token;
        assert_eq!(
            answer::<plain::Plain>(&token, &settings, false).unwrap(),
            "e30.e30.c2ln\n"
        );
        let elsewhere = terraform::Call {
            action: terraform::Action::Get,
            host: "elsewhere.test".into(),
        };
        assert_eq!(
            answer::<terraform::Call>(&elsewhere, &settings, false).unwrap(),
            "{}\n"
        );
        assert!(token::cache_for(&settings).path.exists());
    }

    #[test]
    fn answer_forgets_the_cached_token_when_asked() {
        let (_dir, settings) = cached();
        let forget = terraform::Call {
            action: terraform::Action::Forget,
            host: "console.test".into(),
        };
        assert_eq!(
            answer::<terraform::Call>(&forget, &settings, false).unwrap(),
            ""
        );
        assert!(!token::cache_for(&settings).path.exists());
    }

    #[test]
    fn stdin_is_refused_when_too_long_binary_or_not_utf8() {
        assert_eq!(read_input(&b"host=x\n"[..], "git").unwrap(), "host=x\n");
        let long = vec![b'a'; 64 * 1024 + 1];
        assert_eq!(
            read_input(&long[..], "git").unwrap_err().to_string(),
            "git sent more than 64 KiB on standard input: that is not a credential request"
        );
        assert_eq!(
            read_input(&b"a\0b"[..], "docker").unwrap_err().to_string(),
            "docker sent a NUL byte on standard input: that is not a credential request"
        );
        assert_eq!(
            read_input(&b"\xff"[..], "the build tool")
                .unwrap_err()
                .to_string(),
            "the build tool sent standard input that is not UTF-8: that is not a credential \
             request"
        );
    }

    #[test]
    fn requests_end_where_each_protocol_says() {
        assert!(End::BlankLine.reached(b"protocol=https\nhost=x\n\n"));
        assert!(End::BlankLine.reached(b"\n"));
        assert!(!End::BlankLine.reached(b"protocol=https\nhost=x\n"));
        assert!(End::Line.reached(b"https://x\n"));
        assert!(!End::Line.reached(b"https://x"));
        assert!(End::JsonObject.reached(br#" {"uri": "https://x/{}"} "#));
        assert!(!End::JsonObject.reached(br#"{"uri": "https://x/"#));
        assert!(!End::JsonObject.reached(b"12"));
        assert!(!End::Eof.reached(b"anything\n\n"));
    }
}
