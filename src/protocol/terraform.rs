//! Terraform / OpenTofu credentials helper: `terraform-credentials-snowplow
//! <get|store|forget> <host>`.
//!
//! Terraform asks per hostname (`host[:port]`, always https) and reads
//! `{"token": …}`, or `{}` for "no credentials here". It never gives us a
//! key to store.

use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::protocol::json_line;
use crate::token::{self, Want};
use crate::url::Origin;

#[derive(Serialize)]
struct Token<'a> {
    token: &'a str,
}

pub fn run(settings: &Settings, want: Want, action: &str, host: &str) -> Result<String> {
    let ours = Origin::parse(host, "https").is_ok_and(|o| settings.serves(&o));
    match action {
        "get" if ours => {
            let served = token::get(settings, want)?;
            Ok(json_line(&Token {
                token: served.token.expose(),
            }))
        }
        "get" => Ok("{}\n".into()),
        "forget" => {
            if ours {
                token::forget(settings, None)?;
            }
            Ok(String::new())
        }
        "store" => Ok(String::new()),
        other => Err(Error::Usage(format!(
            "unknown terraform credentials helper action `{other}`: expected get, store or \
             forget"
        ))),
    }
}
