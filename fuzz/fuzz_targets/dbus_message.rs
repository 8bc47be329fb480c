//! A message from the D-Bus session bus, which the Secret Service store
//! reads (any process of the user's can stand in for the bus). Beyond not
//! panicking: nothing over the 1 MiB cap is accepted, and a message that
//! is accepted reads the same again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowplow_credentials::fuzzing::parse_dbus_message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = parse_dbus_message(data) {
        assert!(data.len() <= 1 << 20, "accepted a message over 1 MiB");
        assert_eq!(parse_dbus_message(data).ok(), Some(message));
    }
});
