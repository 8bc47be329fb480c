//! The plain outputs: the bare token for `$(snowplow-credentials token)`, and
//! an HTTP header line for `curl -H @file` and friends.

use crate::config::Settings;
use crate::error::Result;
use crate::token::{self, Want};

pub fn token(settings: &Settings, want: Want) -> Result<String> {
    let served = token::get(settings, want)?;
    Ok(format!("{}\n", served.token.expose()))
}

pub fn header(settings: &Settings, want: Want) -> Result<String> {
    let served = token::get(settings, want)?;
    Ok(format!("Authorization: Bearer {}\n", served.token.expose()))
}
