//! The floor for `cargo bench --bench hit`: the least any Rust program costs
//! to start, print one line and exit, built with this package's release
//! profile. A cache hit is judged against it; it has no other use.

fn main() {
    println!("one line");
}
