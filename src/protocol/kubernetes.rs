//! Kubernetes client-go exec credential plugin (`users[].user.exec`).
//!
//! client-go says which API version it wants in `KUBERNETES_EXEC_INFO` and
//! rejects an answer in any other. It keeps the token until
//! `expirationTimestamp`, so we report our own refresh time there. stdin is
//! never read: the plugin is not interactive.

use serde::Serialize;

use crate::config::{Settings, env};
use crate::error::{Error, Result};
use crate::protocol::ToolEntry;
use crate::protocol::{Need, Protocol, json_line};
use crate::time;
use crate::token::Served;
use crate::usage::{Entry, Group};

/// The exec plugin: no action; the request is in `KUBERNETES_EXEC_INFO`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kubernetes;

const VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential<'a> {
    api_version: &'a str,
    kind: &'static str,
    status: Status<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_timestamp: Option<String>,
}

/// The API version client-go asked for (v1 when it said nothing).
pub fn api_version(exec_info: Option<&str>) -> Result<String> {
    let Some(text) = exec_info else {
        return Ok(VERSIONS[0].to_string());
    };
    // A plain map, so that the messages name JSON types, not our own.
    let info: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| {
            Error::Input(format!(
                "KUBERNETES_EXEC_INFO is not an ExecCredential JSON object ({e}): \
                 run this from a kubeconfig exec entry, or unset it"
            ))
        })?;
    let version = match info.get("apiVersion") {
        None => VERSIONS[0].to_string(),
        Some(serde_json::Value::String(v)) => v.clone(),
        Some(other) => other.to_string(),
    };
    if !VERSIONS.contains(&version.as_str()) {
        return Err(Error::Input(format!(
            "KUBERNETES_EXEC_INFO asks for apiVersion {version}; set apiVersion to {} in \
             the kubeconfig exec entry",
            VERSIONS[0]
        )));
    }
    Ok(version)
}

impl Protocol for Kubernetes {
    /// The API version to answer in.
    type Request = String;

    fn read(self) -> Result<String> {
        api_version(env("KUBERNETES_EXEC_INFO").as_deref())
    }

    fn need<'a>(_: &'a String, _: &Settings) -> Result<Need<'a>> {
        Ok(Need::Token)
    }

    /// Without a token (never asked for one), nothing.
    fn render(version: &String, served: Option<&Served>, _: &Settings) -> String {
        let Some(served) = served else {
            return String::new();
        };
        json_line(&ExecCredential {
            api_version: version,
            kind: "ExecCredential",
            status: Status {
                token: served.token.expose(),
                expiration_timestamp: served.refresh_at.map(time::rfc3339),
            },
        })
    }
}

/// `kubernetes`: the exec credential plugin.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["kubernetes", "exec-credential"],
        link: None,
        group: Group::Tool,
        args: &[],
        about: "Kubernetes exec credential plugin (alias: exec-credential)",
        details: "kubeconfig: exec with command snowplow-credentials, args [kubernetes],\n\
                  interactiveMode Never. SNOWPLOW_CREDENTIALS_VERBOSE=1 turns on -v.\n",
        wrong: None,
    },
    parse: |args| args.is_empty().then(|| Box::new(Kubernetes) as _),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served, served_without_expiry};

    #[test]
    fn answers_in_the_version_asked_with_our_refresh_time() {
        let settings = fixture::v3();
        let v1beta1 = "client.authentication.k8s.io/v1beta1".to_string();
        assert_eq!(Kubernetes::need(&v1beta1, &settings).unwrap(), Need::Token);
        assert_eq!(
            Kubernetes::render(&v1beta1, Some(&served()), &settings),
            "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
             \"status\":{\"token\":\"e30.e30.c2ln\",\"expirationTimestamp\":\"2099-12-31T23:45:00Z\"}}\n"
        );
        let v1 = "client.authentication.k8s.io/v1".to_string();
        assert_eq!(
            Kubernetes::render(&v1, Some(&served_without_expiry()), &settings),
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
             \"status\":{\"token\":\"e30.e30.c2ln\"}}\n"
        );
    }

    #[test]
    fn says_how_to_fix_exec_info_it_cannot_answer() {
        assert_eq!(
            api_version(Some("[]")).unwrap_err().to_string(),
            "KUBERNETES_EXEC_INFO is not an ExecCredential JSON object (invalid type: sequence, \
             expected a map at line 1 column 0): run this from a kubeconfig exec entry, or unset it"
        );
        assert_eq!(
            api_version(Some(r#"{"apiVersion":2}"#))
                .unwrap_err()
                .to_string(),
            "KUBERNETES_EXEC_INFO asks for apiVersion 2; set apiVersion to \
             client.authentication.k8s.io/v1 in the kubeconfig exec entry"
        );
    }

    #[test]
    fn picks_the_version_client_go_asked_for() {
        let v1beta1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        assert_eq!(
            api_version(Some(v1beta1)).unwrap(),
            "client.authentication.k8s.io/v1beta1"
        );
        assert_eq!(
            api_version(None).unwrap(),
            "client.authentication.k8s.io/v1"
        );
        assert!(api_version(Some("{")).is_err());
        assert!(api_version(Some("[]")).is_err());
        assert!(api_version(Some(r#"{"apiVersion":"client.authentication.k8s.io/v2"}"#)).is_err());
    }
}
