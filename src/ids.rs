//! The one check on every non-secret ID and name we read (organization IDs,
//! key IDs, client IDs, user names), and the one rule for text that reaches
//! a header or a protocol line.
//!
//! These values go into HTTP headers, URL paths and the lines of git's and
//! `status`'s answers. A CR or LF in one would add a header or a line of the
//! sender's choosing (`password=attacker`), so they are checked where they
//! are read, with a one-line error naming where they came from.

use std::fmt::Display;

use crate::error::{Error, Result};

/// Whether `text` holds a control character (CR, LF, NUL, ESC, …): such text
/// must never reach a header or a protocol line.
pub fn has_control(text: &str) -> bool {
    text.contains(char::is_control)
}

/// `value` trimmed, if it is a usable ID or name: not empty, no control
/// characters. `what` names it ("API key ID"), `source` says where it was set.
pub fn name(what: &str, value: &str, source: &dyn Display) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Config(format!("the {what} from {source} is empty")));
    }
    if has_control(value) {
        return Err(Error::Config(format!(
            "the {what} from {source} has a control character (such as a line break): it must \
             be the bare value"
        )));
    }
    Ok(value.to_string())
}

/// `value` trimmed, if it is an organization ID as the Console writes them:
/// a UUID (`8-4-4-4-12` hex digits). It is sent as a URL path segment, so
/// anything else (`..`, a slash) must not get through.
pub fn org_id(value: &str, source: &dyn Display) -> Result<String> {
    let value = name("organization ID", value, source)?;
    if !is_uuid(&value) {
        return Err(Error::Config(format!(
            "the organization ID from {source} is not a Console organization ID (a UUID such \
             as 5a0e7f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b)"
        )));
    }
    Ok(value)
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_refused_with_control_characters() {
        assert_eq!(name("key ID", " kid \n", &"X").unwrap(), "kid");
        assert!(name("key ID", "kid\r\nX-Injected: yes", &"X").is_err());
        assert!(name("key ID", "a\u{1b}b", &"X").is_err());
        assert!(name("key ID", "  ", &"X").is_err());
        assert_eq!(name("user", "bot user", &"X").unwrap(), "bot user");
    }

    #[test]
    fn org_ids_are_uuids() {
        let org = "00000000-0000-4000-8000-000000000001";
        assert_eq!(org_id(&format!(" {org} "), &"X").unwrap(), org);
        assert!(org_id(&org.to_uppercase(), &"X").is_ok());
        for bad in [
            "..",
            "not-an-org",
            "00000000-0000-4000-8000-00000000000g",
            "a/b",
        ] {
            assert!(org_id(bad, &"X").is_err(), "{bad}");
        }
    }
}
