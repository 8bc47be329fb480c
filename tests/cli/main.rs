//! The one integration-test binary. Each module drives the built
//! `snowplow-credentials` as a separate process, the way tools run it,
//! against the stand-in Console in `tests/support`.

#[path = "../support/connect_proxy.rs"]
mod connect_proxy;
#[path = "../support/console.rs"]
mod console;
mod harness;
#[path = "../support/machine.rs"]
mod machine;
#[path = "../support/tls.rs"]
mod tls;

mod attacks;
mod aws;
mod bad_input;
mod bazel;
mod cache_faults;
mod ci;
mod completions;
mod core;
mod crashes;
mod curl_make;
mod docker;
mod docs;
mod faults;
mod git;
mod kubernetes;
mod load;
mod newcomer;
mod parsers;
mod secrets;
mod sink;
mod startup;
mod static_build;
mod terraform;
mod token_file;
mod transport;
