//! `#[measure_all]` goes on an `impl` block or an inline module, nothing else.

#[perfscope::measure_all]
fn alone() {}

#[perfscope::measure_all]
struct Config {
    verbose: bool,
}

fn main() {}
