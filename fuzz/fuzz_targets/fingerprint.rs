//! The SQL fingerprinter on arbitrary text (what sqlx logs as a statement): it never panics
//! (nor on its own output), gives the same fingerprint for the same text, and its label stays
//! within its bound. (Idempotence holds for SQL, not for every string of operators: the
//! property test `tests/query_fingerprints.rs` of perfscope-instrument checks it on statements
//! made of SQL's tokens.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfscope_instrument::queries::{Fingerprint, normalize};

/// Characters of a label: 8 hex digits, a space, 120 characters and an ellipsis.
const MAX_LABEL_CHARS: usize = 8 + 1 + 120 + 1;

fuzz_target!(|sql: &str| {
    let fingerprint = Fingerprint::of(sql);
    assert_eq!(fingerprint.normalized, normalize(sql));
    assert_eq!(Fingerprint::of(sql), fingerprint);
    let label = fingerprint.label(120);
    assert!(label.chars().count() <= MAX_LABEL_CHARS, "label too long: {label:?}");
    assert!(label.starts_with(&fingerprint.short_hash()));
    let again = Fingerprint::of(&fingerprint.normalized);
    assert!(again.label(120).chars().count() <= MAX_LABEL_CHARS);
});
