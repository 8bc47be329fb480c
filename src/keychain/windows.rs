//! Windows Credential Manager: one generic credential per entry, kept for
//! this user on this machine (not roamed), through advapi32's calls in
//! `sys/windows.rs`.

use std::io;

use super::{Entry, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::sys;

pub struct CredentialManager;

const NAME: &str = "Windows Credential Manager";

impl Store for CredentialManager {
    fn name(&self) -> &'static str {
        NAME
    }

    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()> {
        sys::credential_write(&entry.name(), &entry.key_id, key.expose().as_bytes())
            .map_err(|e| failed("store the key in", &e))
    }

    fn get(&self, entry: &Entry) -> Result<Option<Secret<Vec<u8>>>> {
        let bytes =
            sys::credential_read(&entry.name()).map_err(|e| failed("read the key from", &e))?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        Ok(Some(Secret::new(bytes)))
    }

    fn delete(&self, entry: &Entry) -> Result<bool> {
        sys::credential_delete(&entry.name()).map_err(|e| failed("delete the key from", &e))
    }
}

fn failed(what: &str, e: &io::Error) -> Error {
    Error::Store(format!(
        "cannot {what} {NAME}: {e}; check `cmdkey /list` works in this session (a service \
         account or a remote session may have no credential store)"
    ))
}
