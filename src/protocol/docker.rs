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
use crate::protocol::json_line;
use crate::token::{self, Want};
use crate::url::Origin;

pub const NOT_FOUND: &str = "credentials not found in native keychain";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    username: &'a str,
    secret: &'a str,
}

/// The server URL on stdin (docker-py sends no newline), if we serve it.
fn served_url(settings: &Settings, input: &str) -> Result<Option<String>> {
    let url = input.trim();
    if url.is_empty() {
        return Err(Error::Input(
            "docker sent no server URL on standard input: expected e.g. \
             https://console.snowplowanalytics.com"
                .into(),
        ));
    }
    let ours = Origin::parse(url, "https").is_ok_and(|o| settings.serves(&o));
    Ok(ours.then(|| url.to_string()))
}

pub fn run(settings: &Settings, want: Want, action: &str, input: &str) -> Result<String> {
    match action {
        "get" => {
            let Some(url) = served_url(settings, input)? else {
                return Err(Error::Input(NOT_FOUND.into()));
            };
            let served = token::get(settings, want)?;
            Ok(json_line(&Credentials {
                server_url: &url,
                username: settings.username(),
                secret: served.token.expose(),
            }))
        }
        "erase" => {
            if served_url(settings, input)?.is_some() {
                token::forget(settings, None)?;
            }
            Ok(String::new())
        }
        // The key never comes from Docker: accept and discard.
        "store" => Ok(String::new()),
        "list" => {
            let hosts: BTreeMap<String, &str> = settings
                .served_hosts()
                .map(|o| (o.to_string(), settings.username()))
                .collect();
            Ok(json_line(&hosts))
        }
        other => run_unconfigured(other),
    }
}

/// The actions that need no configuration.
pub fn run_unconfigured(action: &str) -> Result<String> {
    match action {
        "version" => Ok(format!(
            "snowplow-credentials {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        other => Err(Error::Usage(format!(
            "unknown docker credential helper action `{other}`: expected get, store, erase, \
             list or version"
        ))),
    }
}
