//! `#[perfscope::skip]` means something only inside `#[measure_all]`.

#[perfscope::skip]
fn not_in_a_measure_all() {}

fn main() {}
