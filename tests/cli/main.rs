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

mod aws;
mod bad_input;
mod bazel;
mod cache_faults;
mod ci;
mod core;
mod crashes;
mod curl_make;
mod docker;
mod faults;
mod git;
mod kubernetes;
mod load;
mod parsers;
mod secrets;
mod startup;
mod static_build;
mod terraform;
mod transport;
