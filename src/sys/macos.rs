//! macOS's Keychain: one generic password per entry in the default
//! keychain (the login keychain), through the Security framework's
//! `SecKeychain…GenericPassword` calls, declared here by hand.
//!
//! These calls take plain C strings and lengths, so no CoreFoundation
//! dictionary has to be built (only `CFRelease` is needed, for an item);
//! they are what `security add-generic-password` and
//! `find-generic-password` use. Apple marks them deprecated in favour of
//! `SecItemAdd`/`SecItemCopyMatching` (which take CFDictionaries), but
//! they are still supported and work on every macOS this program runs on.
//! Why no bindings crate: docs/design.md.
//!
//! The failures come back as the call's `OSStatus`; what each means for
//! the user is the caller's (`keychain/macos.rs`).

use std::ffi::c_void;
use std::ptr;

/// What every Security call returns: 0 for success, else an error code
/// (`SecBase.h`).
pub type OsStatus = i32;

const ERR_SEC_SUCCESS: OsStatus = 0;
/// errSecItemNotFound: no item with this service and account.
const ERR_SEC_ITEM_NOT_FOUND: OsStatus = -25300;
/// errSecDuplicateItem: adding an item that already exists.
const ERR_SEC_DUPLICATE_ITEM: OsStatus = -25299;
/// errSecParam: what a name or key too long for a `UInt32` length would be.
const ERR_SEC_PARAM: OsStatus = -50;

/// `SecKeychainItemRef`, a CoreFoundation object released with `CFRelease`.
type ItemRef = *mut c_void;

#[link(name = "Security", kind = "framework")]
unsafe extern "C" {
    fn SecKeychainAddGenericPassword(
        keychain: *mut c_void,
        service_length: u32,
        service: *const u8,
        account_length: u32,
        account: *const u8,
        password_length: u32,
        password: *const c_void,
        item: *mut ItemRef,
    ) -> OsStatus;
    fn SecKeychainFindGenericPassword(
        keychain_or_array: *const c_void,
        service_length: u32,
        service: *const u8,
        account_length: u32,
        account: *const u8,
        password_length: *mut u32,
        password: *mut *mut c_void,
        item: *mut ItemRef,
    ) -> OsStatus;
    fn SecKeychainItemFreeContent(attributes: *mut c_void, data: *mut c_void) -> OsStatus;
    fn SecKeychainItemModifyAttributesAndData(
        item: ItemRef,
        attributes: *const c_void,
        length: u32,
        data: *const c_void,
    ) -> OsStatus;
    fn SecKeychainItemDelete(item: ItemRef) -> OsStatus;
}

#[link(name = "CoreFoundation", kind = "framework")]
unsafe extern "C" {
    fn CFRelease(object: *const c_void);
}

/// A length as the calls take it; a longer one is a bad parameter.
fn length(bytes: &[u8]) -> Result<u32, OsStatus> {
    u32::try_from(bytes.len()).map_err(|_| ERR_SEC_PARAM)
}

fn check(status: OsStatus) -> Result<(), OsStatus> {
    match status {
        ERR_SEC_SUCCESS => Ok(()),
        e => Err(e),
    }
}

/// An item found by service and account, released when dropped.
struct Item(ItemRef);

impl Drop for Item {
    fn drop(&mut self) {
        // SAFETY: a non-null item the find call returned with a reference
        // we own, released once, here.
        unsafe { CFRelease(self.0) };
    }
}

/// The item for `service` and `account` in the default keychain search
/// list, without reading its data (which could make macOS ask for access).
fn find_item(service: &str, account: &str) -> Result<Option<Item>, OsStatus> {
    let (service_length, account_length) =
        (length(service.as_bytes())?, length(account.as_bytes())?);
    let mut item: ItemRef = ptr::null_mut();
    // SAFETY: the names are valid for their lengths during the call; the
    // null length and data pointers ask for no data; `item` is written
    // only on success.
    let status = unsafe {
        SecKeychainFindGenericPassword(
            ptr::null(),
            service_length,
            service.as_ptr(),
            account_length,
            account.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut item,
        )
    };
    match status {
        ERR_SEC_ITEM_NOT_FOUND => Ok(None),
        status => check(status).map(|()| (!item.is_null()).then(|| Item(item))),
    }
}

/// Stores `password` as the generic password of `service` and `account` in
/// the default keychain, replacing the data of one that is already there.
pub fn generic_password_set(service: &str, account: &str, password: &[u8]) -> Result<(), OsStatus> {
    let (service_length, account_length) =
        (length(service.as_bytes())?, length(account.as_bytes())?);
    let password_length = length(password)?;
    // SAFETY: the names and the password are valid for their lengths
    // during the call, which copies them; a null keychain is the default
    // one, and a null item pointer asks for no reference back.
    let added = unsafe {
        SecKeychainAddGenericPassword(
            ptr::null_mut(),
            service_length,
            service.as_ptr(),
            account_length,
            account.as_ptr(),
            password_length,
            password.as_ptr().cast(),
            ptr::null_mut(),
        )
    };
    if added != ERR_SEC_DUPLICATE_ITEM {
        return check(added);
    }
    // Not found where it was said to be (deleted in between, or in a
    // default keychain outside the search list): the duplicate stands.
    let Some(item) = find_item(service, account)? else {
        return Err(ERR_SEC_DUPLICATE_ITEM);
    };
    // SAFETY: a live item; null attributes leave them as they are; the
    // data is valid for its length during the call, which copies it.
    check(unsafe {
        SecKeychainItemModifyAttributesAndData(
            item.0,
            ptr::null(),
            password_length,
            password.as_ptr().cast(),
        )
    })
}

/// The data of the generic password of `service` and `account`, if there
/// is one. The framework's copy is zeroed and freed once copied.
pub fn generic_password_get(service: &str, account: &str) -> Result<Option<Vec<u8>>, OsStatus> {
    let (service_length, account_length) =
        (length(service.as_bytes())?, length(account.as_bytes())?);
    let mut data_length: u32 = 0;
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: the names are valid for their lengths during the call; the
    // length and data are written on success (the data is then ours to
    // free with SecKeychainItemFreeContent); a null item pointer asks for
    // no reference.
    let status = unsafe {
        SecKeychainFindGenericPassword(
            ptr::null(),
            service_length,
            service.as_ptr(),
            account_length,
            account.as_ptr(),
            &mut data_length,
            &mut data,
            ptr::null_mut(),
        )
    };
    if status == ERR_SEC_ITEM_NOT_FOUND {
        return Ok(None);
    }
    check(status)?;
    if data.is_null() {
        return Ok(Some(Vec::new()));
    }
    // SAFETY: on success `data` points at `data_length` bytes that are ours
    // until freed: they are copied, overwritten with zeros (so the key does
    // not linger in freed memory) and freed once, here.
    let bytes = unsafe {
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), data_length as usize).to_vec();
        ptr::write_bytes(data.cast::<u8>(), 0, data_length as usize);
        SecKeychainItemFreeContent(ptr::null_mut(), data);
        bytes
    };
    Ok(Some(bytes))
}

/// Deletes the generic password of `service` and `account`: false if there
/// was none.
pub fn generic_password_delete(service: &str, account: &str) -> Result<bool, OsStatus> {
    let Some(item) = find_item(service, account)? else {
        return Ok(false);
    };
    // SAFETY: a live item, released (not used) after the call by its Drop.
    check(unsafe { SecKeychainItemDelete(item.0) })?;
    Ok(true)
}
