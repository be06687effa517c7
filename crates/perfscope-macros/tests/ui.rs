//! UI tests of `#[measure]`:
//! - `pass/`: cases compile and their `main` checks, through `perfscope::report()`, that every
//!   measured function was measured;
//! - `fail/`: misuses of the attribute, rejected with the error (message and span) kept in the
//!   `.stderr` beside each;
//! - `spans/`: errors in the user's own code, reported by rustc at the user's span through the
//!   expansion.
//!
//! With the `off` feature (`cargo test -p perfscope-macros --features off`), `off/` cases check
//! that nothing is measured, and the `fail/` cases still fail the same way.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p perfscope-macros`,
//! then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    if cfg!(feature = "off") {
        t.pass("tests/ui/off/*.rs");
    } else {
        t.pass("tests/ui/pass/*.rs");
        t.compile_fail("tests/ui/spans/*.rs");
    }
    t.compile_fail("tests/ui/fail/*.rs");
}
