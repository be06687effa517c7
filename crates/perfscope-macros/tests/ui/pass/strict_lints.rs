//! The expansion does not trip strict lints in the user's crate.
#![deny(
    warnings,
    missing_docs,
    rust_2018_idioms,
    unreachable_pub,
    unused,
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    non_ascii_idents,
    let_underscore_drop,
    unsafe_code,
    missing_debug_implementations,
    elided_lifetimes_in_paths,
    variant_size_differences
)]
//! Crate docs.

use perfscope::measure;

/// A public function.
#[measure]
pub fn public(x: u32) -> u32 {
    x
}

/// A public async function.
#[measure]
pub async fn public_async(x: u32) -> u32 {
    x
}

/// A public function returning a future.
#[measure]
pub fn public_future(x: u32) -> impl Future<Output = u32> {
    async move { x }
}

/// A public async function returning `()`.
#[measure]
pub async fn unit_async() {}

fn main() {
    assert_eq!(public(1), 1);
    assert_eq!(futures::executor::block_on(public_async(2)), 2);
    assert_eq!(futures::executor::block_on(public_future(3)), 3);
    futures::executor::block_on(unit_async());
    let report = perfscope::report();
    assert_eq!(report.functions.len(), 4);
}
