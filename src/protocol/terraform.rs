//! Terraform / OpenTofu credentials helper: `terraform-credentials-snowplow
//! <get|store|forget> <host>`.
//!
//! Terraform asks per hostname (`host[:port]`, always https) and reads
//! `{"token": …}`, or `{}` for "no credentials here". It never gives us a
//! key to store.

use serde::Serialize;

use crate::config::Settings;
use crate::error::Result;
use crate::protocol::ToolEntry;
use crate::protocol::{End, Need, Protocol, json_line, read_stdin};
use crate::token::Served;
use crate::url::Origin;
use crate::usage::{Arg, Entry, Group, Kind, Shape};

/// What Terraform asks of a helper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Get,
    Store,
    Forget,
}

/// An action and the hostname (`host[:port]`) it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub action: Action,
    pub host: String,
}

#[derive(Serialize)]
struct Token<'a> {
    token: &'a str,
}

impl Protocol for Call {
    type Request = Call;

    /// Only `store` has input (the token Terraform would have us keep): it
    /// is read and discarded, so Terraform never writes into a closed pipe.
    fn read(self) -> Result<Call> {
        if self.action == Action::Store {
            read_stdin("terraform", End::Eof)?;
        }
        Ok(self)
    }

    fn need<'a>(call: &'a Call, settings: &Settings) -> Result<Need<'a>> {
        // A hostname alone: one with a `/` (or a scheme) names no host we
        // serve, rather than the host before the `/`.
        let ours = Origin::parse_host(&call.host, "https").is_ok_and(|o| settings.serves(&o));
        Ok(match call.action {
            Action::Get if ours => Need::Token,
            Action::Forget if ours => Need::Forget(None),
            _ => Need::Nothing,
        })
    }

    /// `get` answers `{}` for a host we do not serve; the others say nothing.
    fn render(call: &Call, served: Option<&Served>, _: &Settings) -> String {
        match (call.action, served) {
            (Action::Get, Some(served)) => json_line(&Token {
                token: served.token.expose(),
            }),
            (Action::Get, None) => "{}\n".into(),
            _ => String::new(),
        }
    }
}

/// `terraform ACTION HOST`, also run as `terraform-credentials-snowplow`.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["terraform"],
        link: Some("terraform-credentials-snowplow"),
        group: Group::Tool,
        args: &[
            Arg::OneOf(&["get", "store", "forget"]),
            Arg::Value {
                name: "host",
                kind: Kind::Text,
                shape: Shape::Required,
            },
        ],
        about: "Terraform credentials helper (also as terraform-credentials-snowplow)",
        details: "~/.terraformrc: credentials_helper \"snowplow\" { args = [] }, after\n\
                  snowplow-credentials install-links ~/.terraform.d/plugins --only terraform.\n\
                  Prints {} for hosts the profile does not serve.\n",
        wrong: Some("terraform needs an action (get, store or forget) and a host"),
    },
    parse: |args| {
        let [action, host] = args else { return None };
        let action = match *action {
            "get" => Action::Get,
            "store" => Action::Store,
            "forget" => Action::Forget,
            _ => return None,
        };
        let host = host.to_string();
        Some(Box::new(Call { action, host }))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served};

    fn call(action: Action, host: &str) -> Call {
        Call {
            action,
            host: host.into(),
        }
    }

    #[test]
    fn get_answers_the_token_or_an_empty_object() {
        let settings = fixture::v3();
        for host in ["console.test", "registry.test:5000", "CONSOLE.test:443"] {
            let get = call(Action::Get, host);
            assert_eq!(Call::need(&get, &settings).unwrap(), Need::Token, "{host}");
        }
        let get = call(Action::Get, "console.test");
        assert_eq!(
            Call::render(&get, Some(&served()), &settings),
            "{\"token\":\"e30.e30.c2ln\"}\n"
        );
        for host in [
            "elsewhere.test",
            "console.test:8443",
            "registry.test",
            "a b",
            "console.test/elsewhere",
            "https://console.test",
        ] {
            let get = call(Action::Get, host);
            assert_eq!(
                Call::need(&get, &settings).unwrap(),
                Need::Nothing,
                "{host}"
            );
            assert_eq!(Call::render(&get, None, &settings), "{}\n");
        }
    }

    #[test]
    fn forget_drops_the_token_only_for_a_served_host_and_store_keeps_nothing() {
        let settings = fixture::v3();
        let forget = call(Action::Forget, "console.test");
        assert_eq!(Call::need(&forget, &settings).unwrap(), Need::Forget(None));
        let elsewhere = call(Action::Forget, "elsewhere.test");
        assert_eq!(Call::need(&elsewhere, &settings).unwrap(), Need::Nothing);
        let store = call(Action::Store, "console.test");
        assert_eq!(Call::need(&store, &settings).unwrap(), Need::Nothing);
        for request in [forget, elsewhere, store] {
            assert_eq!(Call::render(&request, None, &settings), "");
        }
    }
}
