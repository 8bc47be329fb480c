//! The one error type, grouped by what the person or tool calling us should
//! do next.
//!
//! Every message is one line that says what went wrong and what to do about
//! it, and none carries a secret or a server's response body: messages end up
//! in git's terminal output, kubectl's logs and botocore's exceptions.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The command line was wrong: exit 2, as every Unix tool does.
    Usage(String),
    /// Configuration is missing, malformed or unsafe: the user must edit it.
    Config(String),
    /// The Console (or identity server) rejected the credentials: fix the key
    /// or its permissions; retrying will not help.
    Rejected(String),
    /// The Console could not be reached or answered nonsense: try again later,
    /// or fix the network (proxy, TLS trust).
    Unavailable(String),
    /// The calling tool sent input we cannot read.
    Input(String),
    /// The OS keychain cannot be used here (none runs, it is locked, the
    /// system refuses it): start or unlock it, name another store, or keep
    /// the key elsewhere. Where the keychain is only a first place to look
    /// (snowplow-cli's identity), the key is then looked for elsewhere.
    Store(String),
    /// A local file operation failed.
    Io {
        context: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for usage, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// One line by construction: a message quotes values from outside (a
/// profile name, a path, a URL), and their control characters are written
/// as escapes.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::Usage(m)
            | Error::Config(m)
            | Error::Rejected(m)
            | Error::Unavailable(m)
            | Error::Input(m)
            | Error::Store(m) => m.clone(),
            Error::Io { context, source } => format!("{context}: {source}"),
        };
        f.write_str(&crate::log::escape_controls(&text))
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<crate::log::BadVerbose> for Error {
    fn from(e: crate::log::BadVerbose) -> Error {
        Error::Usage(e.0)
    }
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Error {
        Error::Usage(format!("{e} (see snowplow-credentials --help)"))
    }
}
