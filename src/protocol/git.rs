//! git credential helper: `git credential-snowplow <get|store|erase>`.
//!
//! git writes `key=value` lines and a blank line. A git that advertises
//! `capability[]=authtype` (2.46+) gets a Bearer credential, which it sends
//! as `Authorization: Bearer`; an older one gets the token as a Basic-auth
//! password. Either way `password_expiry_utc` is our refresh time, after
//! which git asks again. Hosts the profile does not serve get no output, so
//! git moves on to its next helper. After a 401, git calls `erase` with the
//! credential it used; if that is our cached token we drop it, so the next
//! `get` exchanges afresh.

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::token::{self, Want};
use crate::url::Origin;

/// What git told us. Unknown keys are kept out of the way, not refused.
#[derive(Debug, Default, PartialEq)]
pub struct Request {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub capabilities: Vec<String>,
    /// The credential git used, on `erase` (Bearer `credential` or Basic
    /// `password`). Never printed.
    pub credential: Option<crate::secret::Secret<String>>,
}

/// Parses git's input, up to a blank line or the end.
pub fn parse(input: &str) -> Result<Request> {
    let mut request = Request::default();
    for line in input.lines() {
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::Input(
                "git sent a line without `=`: expected git's credential format \
                 (key=value lines, see `git help credential`)"
                    .into(),
            ));
        };
        match key {
            "protocol" => request.protocol = Some(value.to_string()),
            "host" => request.host = Some(value.to_string()),
            "capability[]" => request.capabilities.push(value.to_string()),
            "credential" | "password" => {
                request.credential = Some(crate::secret::Secret::new(value.to_string()))
            }
            _ => {}
        }
    }
    Ok(request)
}

impl Request {
    /// The origin git asks about, if it said enough to name one.
    fn origin(&self) -> Option<Origin> {
        let host = self.host.as_deref()?;
        let protocol = self.protocol.as_deref().unwrap_or("https");
        Origin::parse(&format!("{protocol}://{host}"), "https").ok()
    }
}

pub fn run(settings: &Settings, want: Want, action: &str, input: &str) -> Result<String> {
    let request = parse(input)?;
    let ours = request.origin().is_some_and(|o| settings.serves(&o));
    match action {
        "get" if ours => get(settings, want, &request),
        "erase" if ours => {
            if let Some(credential) = &request.credential {
                token::forget(settings, Some(credential.expose()))?;
            }
            Ok(String::new())
        }
        _ => Ok(String::new()),
    }
}

fn get(settings: &Settings, want: Want, request: &Request) -> Result<String> {
    let served = token::get(settings, want)?;
    let jwt = served.token.expose();
    let mut out = if request.capabilities.iter().any(|c| c == "authtype") {
        format!("capability[]=authtype\nauthtype=Bearer\ncredential={jwt}\nephemeral=1\n")
    } else {
        format!("username={}\npassword={jwt}\n", settings.username())
    };
    if let Some(at) = served.refresh_at {
        out.push_str(&format!("password_expiry_utc={at}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_input_tolerating_unknown_and_repeated_keys() {
        let input = "capability[]=authtype\ncapability[]=state\nprotocol=https\n\
                     host=example.com:8443\nwwwauth[]=Bearer realm=\"x\"\n\
                     wwwauth[]=Basic\nunknown=1\npath=a=b\n\nhost=ignored\n";
        let r = parse(input).unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("example.com:8443"));
        assert_eq!(r.capabilities, ["authtype", "state"]);
        assert_eq!(r.origin().unwrap().to_string(), "https://example.com:8443");
    }

    #[test]
    fn refuses_lines_without_equals() {
        assert!(parse("protocol=https\nnonsense\n").is_err());
        assert_eq!(parse("").unwrap(), Request::default());
    }
}
