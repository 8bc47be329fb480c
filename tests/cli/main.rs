//! The one integration-test binary. Each module drives the built
//! `snowplow-credentials` as a separate process, the way tools run it,
//! against the stand-in Console in `tests/support`.

#[allow(dead_code)]
#[path = "../support/connect_proxy.rs"]
mod connect_proxy;
#[allow(dead_code)]
#[path = "../support/console.rs"]
mod console;
#[allow(dead_code)]
mod harness;
#[allow(dead_code)]
#[path = "../support/tls.rs"]
mod tls;

mod bad_input;
mod cache_faults;
mod core;
mod crashes;
mod faults;
mod load;
mod parsers;
mod secrets;
mod transport;
