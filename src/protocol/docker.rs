//! Docker credential helper: `docker-credential-snowplow <action>`, the
//! protocol of docker/docker-credential-helpers.
//!
//! Errors go to stdout, with exit 1, because that is where Docker reads
//! them; "not found" must be exactly [`NOT_FOUND`], which clients recognise.
//! The username is never `<token>`: Docker would read the secret as an OAuth
//! refresh token.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::protocol::ToolEntry;
use crate::protocol::{End, Need, Protocol, json_line, read_stdin};
use crate::token::Served;
use crate::usage::{Arg, Entry, Group};

pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// What Docker asks of a helper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Get,
    Store,
    Erase,
    List,
    Version,
}

/// An action with what Docker sent for it.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// The server URL, trimmed.
    Get(String),
    /// Docker's credentials, which we never keep: not even read.
    Store,
    /// The server URL, trimmed.
    Erase(String),
    List,
    Version,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    username: &'a str,
    secret: &'a str,
}

/// The server URL Docker sends on stdin (docker-py sends no newline).
fn server_url(input: &str) -> Result<String> {
    let url = input.trim();
    if url.is_empty() {
        return Err(Error::Input(
            "docker sent no server URL on standard input: expected e.g. \
             https://console.snowplowanalytics.com"
                .into(),
        ));
    }
    Ok(url.to_string())
}

impl Action {
    /// The request, with stdin read by `input` where this action has any:
    /// `list` and `version` read nothing; `store`'s input is read and
    /// discarded, so Docker never writes into a closed pipe.
    pub fn request(self, input: impl FnOnce() -> Result<String>) -> Result<Request> {
        Ok(match self {
            Action::Get => Request::Get(server_url(&input()?)?),
            Action::Erase => Request::Erase(server_url(&input()?)?),
            Action::Store => {
                input()?;
                Request::Store
            }
            Action::List => Request::List,
            Action::Version => Request::Version,
        })
    }
}

impl Protocol for Action {
    type Request = Request;
    const ERRORS_TO_STDOUT: bool = true;

    fn read(self) -> Result<Request> {
        // `store` sends a JSON object; `get` and `erase` a line, or no
        // newline at all and then end-of-file.
        let end = match self {
            Action::Store => End::JsonObject,
            _ => End::Line,
        };
        self.request(|| read_stdin("docker", end))
    }

    fn unconfigured(request: &Request) -> Option<String> {
        (*request == Request::Version).then(version)
    }

    fn need<'a>(request: &'a Request, settings: &Settings) -> Result<Need<'a>> {
        Ok(match request {
            Request::Get(url) if settings.serves_url(url) => Need::Token,
            Request::Get(_) => return Err(Error::Input(NOT_FOUND.into())),
            Request::Erase(url) if settings.serves_url(url) => Need::Forget(None),
            _ => Need::Nothing,
        })
    }

    fn render(request: &Request, served: Option<&Served>, settings: &Settings) -> String {
        match (request, served) {
            (Request::Get(url), Some(served)) => json_line(&Credentials {
                server_url: url,
                username: settings.username(),
                secret: served.token.expose(),
            }),
            (Request::List, _) => {
                let hosts: BTreeMap<String, &str> = settings
                    .served_hosts()
                    .map(|o| (o.to_string(), settings.username()))
                    .collect();
                json_line(&hosts)
            }
            (Request::Version, _) => version(),
            _ => String::new(),
        }
    }
}

/// `version`'s answer: ours.
fn version() -> String {
    crate::usage::VERSION_LINE.to_string()
}

/// `docker ACTION`, also run as `docker-credential-snowplow`.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["docker"],
        link: Some("docker-credential-snowplow"),
        group: Group::Tool,
        args: &[Arg::OneOf(&["get", "store", "erase", "list", "version"])],
        about: "Docker credential helper (also as docker-credential-snowplow)",
        details: "~/.docker/config.json: {\"credHelpers\": {\"HOST\": \"snowplow\"}}. Errors go to\n\
                  stdout, as Docker wants. SNOWPLOW_CREDENTIALS_VERBOSE=1 turns on -v.\n",
        wrong: Some("docker needs one action: get, store, erase, list or version"),
    },
    parse: |args| {
        let action = match args {
            ["get"] => Action::Get,
            ["store"] => Action::Store,
            ["erase"] => Action::Erase,
            ["list"] => Action::List,
            ["version"] => Action::Version,
            _ => return None,
        };
        Some(Box::new(action))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served};

    fn request(action: Action, input: &str) -> Request {
        action.request(|| Ok(input.to_string())).unwrap()
    }

    #[test]
    fn reads_the_server_url_only_for_get_and_erase() {
        assert_eq!(
            request(Action::Get, " https://console.test\n"),
            Request::Get("https://console.test".into())
        );
        assert_eq!(
            request(Action::Erase, "console.test"),
            Request::Erase("console.test".into())
        );
        assert_eq!(request(Action::Store, "{\"Secret\":\"x\"}"), Request::Store);
        let unread = || -> Result<String> { panic!("list and version read no input") };
        assert_eq!(Action::List.request(unread).unwrap(), Request::List);
        assert_eq!(Action::Version.request(unread).unwrap(), Request::Version);
        for action in [Action::Get, Action::Erase] {
            let err = action.request(|| Ok(" \n".into())).unwrap_err();
            assert_eq!(
                err.to_string(),
                "docker sent no server URL on standard input: expected e.g. \
                 https://console.snowplowanalytics.com"
            );
        }
    }

    #[test]
    fn get_answers_the_token_for_a_served_host_and_not_found_otherwise() {
        let settings = fixture::v3();
        let get = Request::Get("https://registry.test:5000".into());
        assert_eq!(Action::need(&get, &settings).unwrap(), Need::Token);
        assert_eq!(
            Action::render(&get, Some(&served()), &settings),
            "{\"ServerURL\":\"https://registry.test:5000\",\"Username\":\"key-id\",\
             \"Secret\":\"e30.e30.c2ln\"}\n"
        );
        let v2 = fixture::settings(None);
        assert!(
            Action::render(&get, Some(&served()), &v2).contains("\"Username\":\"snowplow\""),
            "Docker must never be given the username <token>"
        );
        let elsewhere = Request::Get("https://elsewhere.test".into());
        let err = Action::need(&elsewhere, &settings).unwrap_err();
        assert_eq!(err.to_string(), NOT_FOUND);
        assert_eq!(NOT_FOUND, "credentials not found in native keychain");
    }

    #[test]
    fn list_names_every_served_host() {
        let settings = fixture::v3();
        assert_eq!(
            Action::need(&Request::List, &settings).unwrap(),
            Need::Nothing
        );
        assert_eq!(
            Action::render(&Request::List, None, &settings),
            "{\"https://console.test\":\"key-id\",\"https://registry.test:5000\":\"key-id\"}\n"
        );
    }

    #[test]
    fn erase_forgets_only_for_a_served_host_and_store_keeps_nothing() {
        let settings = fixture::v3();
        let erase = Request::Erase("console.test".into());
        assert_eq!(Action::need(&erase, &settings).unwrap(), Need::Forget(None));
        let elsewhere = Request::Erase("elsewhere.test".into());
        assert_eq!(Action::need(&elsewhere, &settings).unwrap(), Need::Nothing);
        assert_eq!(
            Action::need(&Request::Store, &settings).unwrap(),
            Need::Nothing
        );
        for request in [erase, elsewhere, Request::Store] {
            assert_eq!(Action::render(&request, None, &settings), "");
        }
    }

    #[test]
    fn version_needs_no_configuration() {
        let line = Action::unconfigured(&Request::Version).unwrap();
        let version = concat!("snowplow-credentials ", env!("CARGO_PKG_VERSION"), " (");
        assert!(
            line.starts_with(version) && line.ends_with("linked)\n"),
            "{line}"
        );
        for request in [Request::List, Request::Store, Request::Get("x".into())] {
            assert_eq!(Action::unconfigured(&request), None);
        }
    }
}
