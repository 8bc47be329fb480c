//! Linux's kernel keyring (keyutils), through its two system calls (in
//! `sys/unix.rs`): no library, no daemon, so it works in the static build,
//! over SSH and on headless machines where no Secret Service runs.
//!
//! Entries are `user` keys in the user keyring (`@u`), readable by this
//! user's processes alone. The kernel keeps them until the machine restarts
//! (or they are deleted): they do not survive a reboot.

use std::ffi::CString;
use std::io;

use super::{Entry, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::sys::{self, KeyringRefusal};

/// All rights for a process that possesses the key, and for this user's
/// other processes (a new session keyring does not link the user keyring,
/// so they do not possess it); none for the group or others.
const PERM: u32 = 0x3f3f_0000;

pub struct Keyutils;

const NAME: &str = "the kernel keyring (keyutils)";

impl Store for Keyutils {
    fn name(&self) -> &'static str {
        NAME
    }

    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()> {
        let desc = description(entry)?;
        sys::user_key_add(&desc, key.expose().as_bytes(), PERM)
            .map_err(|e| failed("store the key in", &e))?;
        Ok(())
    }

    fn get(&self, entry: &Entry) -> Result<Option<Secret<Vec<u8>>>> {
        let desc = description(entry)?;
        let serial = sys::user_key_search(&desc).map_err(|e| failed("look the key up in", &e))?;
        let Some(serial) = serial else {
            return Ok(None);
        };
        let bytes = sys::key_read(serial).map_err(|e| failed("read the key from", &e))?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        Ok(Some(Secret::new(bytes)))
    }

    fn delete(&self, entry: &Entry) -> Result<bool> {
        let desc = description(entry)?;
        let serial = sys::user_key_search(&desc).map_err(|e| failed("look the key up in", &e))?;
        let Some(serial) = serial else {
            return Ok(false);
        };
        sys::user_key_delete(serial).map_err(|e| failed("delete the key from", &e))
    }
}

fn description(entry: &Entry) -> Result<CString> {
    CString::new(entry.name())
        .map_err(|_| Error::Config("the host, organization or key ID holds a NUL character".into()))
}

/// One line naming the store, the error and what to do.
fn failed(what: &str, e: &io::Error) -> Error {
    let advice = match sys::keyring_refusal(e) {
        KeyringRefusal::Denied => {
            // The entry is there, and not ours to use from here: an error of
            // the entry, not of the store (no other key is used instead).
            return Error::Config(format!(
                "cannot {what} {NAME}: an entry of that name is there but this session may not \
                 use it (an older build may have made it from another login session); run \
                 `snowplow-credentials key set` here to replace it"
            ));
        }
        KeyringRefusal::Refused => {
            "the system refuses keyctl (containers often block it with seccomp): run where \
             keyctl is allowed (`keyctl show @u` tells), or keep the key in api_key_command"
        }
        KeyringRefusal::Quota => {
            "this user's key quota is full: remove keys (`keyctl show @u`) or raise \
             /proc/sys/kernel/keys/maxbytes"
        }
        KeyringRefusal::Other => "check `keyctl show @u` works",
    };
    Error::Store(format!("cannot {what} {NAME}: {e}; {advice}"))
}
