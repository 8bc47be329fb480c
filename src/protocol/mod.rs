//! Each tool's own credential protocol, one file per tool, all on top of
//! [`crate::token::get`].
//!
//! A protocol module turns the tool's request (arguments, stdin, an
//! environment variable) into an answer on stdout, and nothing else: the
//! cache, the expiry rules and host matching are shared. Protocols that
//! carry a host answer "no credentials" in their own way for any host the
//! profile does not serve ([`crate::config::Settings::serves`]).

pub mod aws;
pub mod bazel;
pub mod docker;
pub mod git;
pub mod kubernetes;
pub mod plain;
pub mod terraform;

use std::io::{BufRead, Read};

use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::End;

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
