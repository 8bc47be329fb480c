//! The macOS Keychain: one generic password per entry in the default
//! (login) keychain, service `snowplow-credentials` and account the entry's
//! name, through the Security framework's calls in `sys/macos.rs`. The same
//! item is what `security find-generic-password -s snowplow-credentials -a
//! NAME -w` prints.
//!
//! Nothing here has run on a Mac: `.ci/cross` type-checks it for
//! aarch64-apple-darwin. The mapping of the framework's error codes to
//! messages is plain code, so it is compiled and tested on every system.

// The store itself is macOS's alone; `failed` is everyone's.
#[cfg(target_os = "macos")]
use super::{Entry, Store};
use crate::error::Error;
#[cfg(target_os = "macos")]
use crate::{error::Result, secret::Secret, sys};

/// The items' service: their account tells the entries apart.
#[cfg(target_os = "macos")]
const SERVICE: &str = "snowplow-credentials";

const NAME: &str = "the macOS Keychain";

#[cfg(target_os = "macos")]
pub struct Keychain;

#[cfg(target_os = "macos")]
impl Store for Keychain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()> {
        sys::generic_password_set(SERVICE, &entry.name(), key.expose().as_bytes())
            .map_err(|status| failed("store the key in", status))
    }

    fn get(&self, entry: &Entry) -> Result<Option<Secret<Vec<u8>>>> {
        let bytes = sys::generic_password_get(SERVICE, &entry.name())
            .map_err(|status| failed("read the key from", status))?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        Ok(Some(Secret::new(bytes)))
    }

    fn delete(&self, entry: &Entry) -> Result<bool> {
        sys::generic_password_delete(SERVICE, &entry.name())
            .map_err(|status| failed("delete the key from", status))
    }
}

/// One line naming the store, what the code means and what to do. (Not
/// found is no error: the calls answer `None` or `false` for it.)
fn failed(what: &str, status: i32) -> Error {
    let (why, advice) = match status {
        // errSecInteractionNotAllowed
        -25308 => (
            "it is locked and may not ask for the password here",
            "unlock it with `security unlock-keychain` (an SSH session or a background job \
             cannot answer the Keychain's prompt), or run this in the desktop session",
        ),
        // errSecAuthFailed
        -25293 => (
            "access was refused (a wrong password or a changed login password)",
            "unlock it with `security unlock-keychain`, or allow snowplow-credentials on the \
             item in Keychain Access",
        ),
        // errSecUserCanceled
        -128 => (
            "access was declined in its prompt",
            "run the command again and choose Allow (Always Allow keeps it from asking again)",
        ),
        // errSecNoSuchKeychain
        -25294 => (
            "there is no default keychain",
            "choose one with `security default-keychain -s login.keychain-db`, or create one \
             in Keychain Access",
        ),
        // errSecNotAvailable
        -25291 => (
            "no keychain is available in this session",
            "run it in your login session (a daemon or `sudo` has no access to your login \
             keychain), or keep the key in api_key_command",
        ),
        // errSecDuplicateItem: an item that could not be replaced.
        -25299 => (
            "an item of that name is there but could not be replaced",
            "delete it in Keychain Access (service snowplow-credentials) and store the key \
             again",
        ),
        _ => (
            "it failed",
            "check `security find-generic-password -s snowplow-credentials` works in this \
             session",
        ),
    };
    Error::Store(format!(
        "cannot {what} {NAME}: {why} (OSStatus {status}); {advice}"
    ))
}

#[cfg(test)]
mod tests {
    use super::failed;

    #[test]
    fn each_keychain_failure_says_what_to_do_in_one_line() {
        let said = |status| failed("read the key from", status).to_string();
        for (status, advice) in [
            (-25308, "security unlock-keychain"),
            (-25293, "security unlock-keychain"),
            (-128, "choose Allow"),
            (-25294, "security default-keychain"),
            (-25291, "login session"),
            (-25299, "delete it in Keychain Access"),
            (-61, "security find-generic-password"),
        ] {
            let line = said(status);
            assert!(
                line.starts_with("cannot read the key from the macOS Keychain: "),
                "{line}"
            );
            assert!(line.contains(advice), "{status}: {line}");
            assert!(line.contains(&format!("(OSStatus {status})")), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
        assert!(said(-25308).contains("SSH session"));
    }
}
