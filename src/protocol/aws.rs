//! AWS `credential_process`: botocore runs the command (split like a shell
//! line, but without a shell) and reads one JSON object.
//!
//! `Version` must be the integer 1 and `Expiration` must carry a zone, or
//! botocore fails. It gets the token's real `exp`; the cache threshold here
//! is at least [`MIN_THRESHOLD`] because botocore refreshes on its
//! own within 15 minutes of `Expiration`.

use serde::Serialize;

use crate::config::Settings;
use crate::error::Result;
use crate::protocol::json_line;
use crate::time;
use crate::token::{self, Want};

/// botocore refreshes on its own within 15 minutes of `Expiration` and would
/// run us on every access if we kept handing it a token closer than that.
pub const MIN_THRESHOLD: u64 = 15 * 60;
/// `AccessKeyId` when there is no key ID to report (v2, password grant).
const NO_KEY_ID: &str = "snowplow-console";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

pub fn run(settings: &Settings, want: Want) -> Result<String> {
    let want = Want {
        floor: want.floor.max(MIN_THRESHOLD),
        ..want
    };
    let served = token::get(settings, want)?;
    Ok(json_line(&ProcessCredentials {
        version: 1,
        access_key_id: settings.auth.username_or(NO_KEY_ID),
        secret_access_key: served.token.expose(),
        session_token: served.token.expose(),
        expiration: served.exp.map(time::rfc3339),
    }))
}
