//! The credential-helper protocol of Bazel's `--credential_helper` (the
//! EngFlow spec, also used by other build tools): `helper get`, with
//! `{"uri": …}` on stdin, answered with headers to add and when they expire.
//! `{}` means "nothing to add" for hosts we do not serve.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::protocol::ToolEntry;
use crate::protocol::{End, Need, Protocol, json_line, read_stdin};
use crate::time;
use crate::token::Served;
use crate::usage::{Arg, Entry, Group};

/// `helper get`, the protocol's only action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Get;

#[derive(Deserialize)]
struct Request {
    uri: String,
}

#[derive(Serialize)]
struct Response {
    headers: BTreeMap<&'static str, [String; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

pub fn parse(input: &str) -> Result<String> {
    serde_json::from_str::<Request>(input)
        .map(|r| r.uri)
        .map_err(|e| {
            Error::Input(format!(
                "expected {{\"uri\": \"https://…\"}} on standard input from the build tool ({e})"
            ))
        })
}

impl Protocol for Get {
    /// The URI the tool is about to fetch.
    type Request = String;

    fn read(self) -> Result<String> {
        parse(&read_stdin("the build tool", End::JsonObject)?)
    }

    fn need<'a>(uri: &'a String, settings: &Settings) -> Result<Need<'a>> {
        Ok(if settings.serves_url(uri) {
            Need::Token
        } else {
            Need::Nothing
        })
    }

    /// The Authorization header, or `{}` (nothing to add) for a URI we do not
    /// serve.
    fn render(_: &String, served: Option<&Served>, _: &Settings) -> String {
        let Some(served) = served else {
            return "{}\n".into();
        };
        let bearer = format!("Bearer {}", served.token.expose());
        json_line(&Response {
            headers: BTreeMap::from([("Authorization", [bearer])]),
            expires: served.refresh_at.map(time::rfc3339),
        })
    }
}

/// `bazel get`.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["bazel"],
        link: None,
        group: Group::Tool,
        args: &[Arg::OneOf(&["get"])],
        about: "Bazel credential helper",
        details: "Reads {\"uri\": …} on stdin; prints the Authorization header for served hosts,\n\
                  {} for others.\n",
        wrong: Some("bazel needs the action get"),
    },
    parse: |args| (args == ["get"]).then(|| Box::new(Get) as _),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served, served_without_expiry};

    #[test]
    fn parses_the_uri_and_says_what_it_expected_otherwise() {
        assert_eq!(
            parse(r#"{"uri": "https://console.test/x"}"#).unwrap(),
            "https://console.test/x"
        );
        assert_eq!(
            parse("{}").unwrap_err().to_string(),
            "expected {\"uri\": \"https://…\"} on standard input from the build tool (missing \
             field `uri` at line 1 column 2)"
        );
    }

    #[test]
    fn a_served_uri_gets_the_header_and_its_expiry() {
        let settings = fixture::v3();
        let uri = "https://registry.test:5000/v2/x".to_string();
        assert_eq!(Get::need(&uri, &settings).unwrap(), Need::Token);
        assert_eq!(
            Get::render(&uri, Some(&served()), &settings),
            "{\"headers\":{\"Authorization\":[\"Bearer e30.e30.c2ln\"]},\
             \"expires\":\"2099-12-31T23:45:00Z\"}\n"
        );
        assert_eq!(
            Get::render(&uri, Some(&served_without_expiry()), &settings),
            "{\"headers\":{\"Authorization\":[\"Bearer e30.e30.c2ln\"]}}\n"
        );
    }

    #[test]
    fn other_uris_get_nothing_to_add() {
        let settings = fixture::v3();
        for uri in [
            "https://elsewhere.test/x",
            "http://console.test/x",
            "not a uri",
        ] {
            let uri = uri.to_string();
            assert_eq!(Get::need(&uri, &settings).unwrap(), Need::Nothing, "{uri}");
            assert_eq!(Get::render(&uri, None, &settings), "{}\n");
        }
    }
}
