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
use crate::protocol::ToolEntry;
use crate::protocol::{Need, Protocol, json_line};
use crate::time;
use crate::token::Served;
use crate::usage::{Entry, Group};

/// `credential_process`: no action, no input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aws;

/// botocore refreshes on its own within 15 minutes of `Expiration` and would
/// run us on every access if we kept handing it a token closer than that.
pub const MIN_THRESHOLD: u64 = 15 * 60;

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

impl Protocol for Aws {
    type Request = ();
    const FLOOR: u64 = MIN_THRESHOLD;

    fn read(self) -> Result<()> {
        Ok(())
    }

    fn need<'a>((): &'a (), _: &Settings) -> Result<Need<'a>> {
        Ok(Need::Token)
    }

    /// Without a token (never asked for one), nothing.
    fn render((): &(), served: Option<&Served>, settings: &Settings) -> String {
        let Some(served) = served else {
            return String::new();
        };
        json_line(&ProcessCredentials {
            version: 1,
            // The key ID, or the same placeholder git and Docker report.
            access_key_id: settings.username(),
            secret_access_key: served.token.expose(),
            session_token: served.token.expose(),
            expiration: served.exp.map(time::rfc3339),
        })
    }
}

/// `aws`: AWS's `credential_process`.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["aws", "credential-process"],
        link: None,
        group: Group::Tool,
        args: &[],
        about: "AWS credential_process (alias: credential-process)",
        details: "In ~/.aws/config: credential_process = snowplow-credentials aws\n\
                  The token is the session token; Expiration is its real expiry.\n",
        wrong: None,
    },
    parse: |args| args.is_empty().then(|| Box::new(Aws) as _),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served, served_without_expiry};

    #[test]
    fn answers_version_1_with_the_key_id_and_the_real_expiry() {
        let settings = fixture::v3();
        assert_eq!(Aws::need(&(), &settings).unwrap(), Need::Token);
        assert_eq!(
            Aws::render(&(), Some(&served()), &settings),
            "{\"Version\":1,\"AccessKeyId\":\"key-id\",\"SecretAccessKey\":\"e30.e30.c2ln\",\
             \"SessionToken\":\"e30.e30.c2ln\",\"Expiration\":\"2100-01-01T00:00:00Z\"}\n"
        );
    }

    #[test]
    fn without_a_key_id_or_expiry_the_fields_fall_back() {
        let settings = fixture::settings(None);
        assert_eq!(
            Aws::render(&(), Some(&served_without_expiry()), &settings),
            "{\"Version\":1,\"AccessKeyId\":\"snowplow\",\
             \"SecretAccessKey\":\"e30.e30.c2ln\",\"SessionToken\":\"e30.e30.c2ln\"}\n"
        );
    }

    #[test]
    fn keeps_tokens_botocore_would_not_refresh_itself() {
        assert_eq!(Aws::FLOOR, 15 * 60);
    }
}
