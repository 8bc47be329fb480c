//! Kubernetes client-go exec credential plugin (`users[].user.exec`).
//!
//! client-go says which API version it wants in `KUBERNETES_EXEC_INFO` and
//! rejects an answer in any other. It keeps the token until
//! `expirationTimestamp`, so we report our own refresh time there. stdin is
//! never read: the plugin is not interactive.

use serde::Serialize;

use crate::config::{Settings, env};
use crate::error::{Error, Result};
use crate::protocol::json_line;
use crate::time;
use crate::token::{self, Want};

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

pub fn run(settings: &Settings, want: Want) -> Result<String> {
    let version = api_version(env("KUBERNETES_EXEC_INFO").as_deref())?;
    let served = token::get(settings, want)?;
    Ok(json_line(&ExecCredential {
        api_version: &version,
        kind: "ExecCredential",
        status: Status {
            token: served.token.expose(),
            expiration_timestamp: served.refresh_at.map(time::rfc3339),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::api_version;

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
