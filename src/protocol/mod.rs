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

use std::io::Read;

use crate::error::{Error, Result};

/// More than any tool sends a credential helper.
const MAX_STDIN: u64 = 64 * 1024;

/// Reads all of stdin as UTF-8, refusing more than [`MAX_STDIN`] bytes or a
/// NUL byte. `tool` names the sender in messages.
pub fn read_stdin(tool: &str) -> Result<String> {
    read_input(std::io::stdin().lock(), tool)
}

/// [`read_stdin`] from any reader (the fuzzer feeds it bytes).
pub fn read_input(input: impl Read, tool: &str) -> Result<String> {
    let mut bytes = Vec::new();
    input
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read standard input", e))?;
    if bytes.len() as u64 > MAX_STDIN {
        return Err(Error::Input(format!(
            "{tool} sent more than {} KiB on standard input: that is not a credential request",
            MAX_STDIN / 1024
        )));
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
