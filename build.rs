//! Tells the binary which build it is, for `--version`: the target triple
//! (only build scripts are given it) and whether the C runtime is linked in
//! statically, as in the release's Linux builds, which need no dynamic loader
//! or libc on the machine.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let linking = match features.split(',').any(|f| f == "crt-static") {
        true => "statically linked",
        false => "dynamically linked",
    };
    println!("cargo:rustc-env=BUILD_TARGET={target}");
    println!("cargo:rustc-env=BUILD_LINKING={linking}");
    println!("cargo:rerun-if-changed=build.rs");
}
