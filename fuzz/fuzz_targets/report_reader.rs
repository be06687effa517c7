//! `perfscope report` / `perfscope diff` on arbitrary bytes: a report (or bench file) is read
//! or refused with an error, and whatever is read renders, re-reads and diffs without a panic
//! (the oracle is the CLI's test module `tests/oracle`, shared with its property tests).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use perfscope::Report;

#[path = "../../crates/perfscope-cli/tests/oracle/mod.rs"]
mod oracle;

/// The second report of the diffs: the CLI's baseline fixture.
fn base() -> &'static Report {
    static BASE: OnceLock<Report> = OnceLock::new();
    BASE.get_or_init(|| {
        let json = include_str!("../../crates/perfscope-cli/tests/fixtures/base.json");
        Report::from_json(json).expect("the base fixture is a report")
    })
}

fuzz_target!(|data: &[u8]| {
    // The CLI reads files with `read_to_string`: bytes that are not UTF-8 are an error there.
    if let Ok(text) = std::str::from_utf8(data) {
        oracle::check_text(text, base());
    }
});
