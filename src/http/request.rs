//! What a caller hands [`super::send`] and gets back, in types of our own:
//! no HTTP client's type appears in them, so the client can be replaced
//! without touching any caller.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::ids;
use crate::secret::Secret;
use crate::url::Url;

/// The methods this program sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request, fully described, so that retries resend the same thing.
pub struct Request {
    pub url: Url,
    pub method: Method,
    pub headers: Vec<(&'static str, Secret<String>)>,
    pub body: Option<Secret<String>>,
    /// Where the URL's host was set (`--host`, a variable, a profile key),
    /// for messages that say what to check.
    pub check: String,
}

/// The server's answer, with what it took to get it.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub attempts: u32,
    pub elapsed: Duration,
    /// `Retry-After` in seconds, when the server said.
    pub retry_after: Option<u64>,
}

impl Request {
    /// The one rule for the headers on the wire: none may carry a control
    /// character (a CR/LF would add a header or split the request; IDs are
    /// refused where they are read, this also covers the secrets). Only a
    /// header's name is ever said.
    pub fn check_headers(&self) -> Result<()> {
        match self
            .headers
            .iter()
            .find(|(_, value)| ids::has_control(value.expose()))
        {
            Some((name, _)) => Err(Error::Config(format!(
                "the {name} header would carry a control character: check where its value is set"
            ))),
            None => Ok(()),
        }
    }
}
