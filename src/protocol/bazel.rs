//! The credential-helper protocol of Bazel's `--credential_helper` (the
//! EngFlow spec, also used by other build tools): `helper get`, with
//! `{"uri": …}` on stdin, answered with headers to add and when they expire.
//! `{}` means "nothing to add" for hosts we do not serve.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::protocol::json_line;
use crate::time;
use crate::token::{self, Want};
use crate::url::Origin;

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

pub fn run(settings: &Settings, want: Want, action: &str, input: &str) -> Result<String> {
    if action != "get" {
        return Err(Error::Usage(format!(
            "unknown credential helper action `{action}`: expected get"
        )));
    }
    let uri = parse(input)?;
    if !Origin::parse(&uri, "https").is_ok_and(|o| settings.serves(&o)) {
        return Ok("{}\n".into());
    }
    let served = token::get(settings, want)?;
    let bearer = format!("Bearer {}", served.token.expose());
    Ok(json_line(&Response {
        headers: BTreeMap::from([("Authorization", [bearer])]),
        expires: served.refresh_at.map(time::rfc3339),
    }))
}
