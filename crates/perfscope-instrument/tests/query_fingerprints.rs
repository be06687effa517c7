//! Properties of statement fingerprints over any text sqlx may log (the bounded counterpart
//! of the `fingerprint` and `labels` fuzz targets in `fuzz/`):
//!
//! - the fingerprint of any text never panics and its label is bounded; on statements made
//!   of SQL's tokens it is idempotent: a normalized statement is its own normal form;
//! - statements that differ only in their literals, parameters and IN-list lengths share one
//!   fingerprint;
//! - the labels a collector gives them are bounded and reach the Prometheus exposition
//!   unchanged and valid (perfscope-export's test oracles `text_format` and
//!   `hostile_labels`, included by path).
//!
//! The seed is fixed so CI runs the same cases every time; `PROPTEST_RNG_SEED=<n>` (and
//! `PROPTEST_CASES`) explores others.

#[path = "../../perfscope-export/tests/text_format/mod.rs"]
mod text_format;

#[path = "../../perfscope-export/tests/hostile_labels/mod.rs"]
mod hostile_labels;

use std::sync::{Mutex, MutexGuard, PoisonError};

use perfscope_instrument::queries::{
    CALLS_TOTAL, Fingerprint, QueryCollector, QueryRecord, normalize,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// Characters of a fingerprint label: 8 hex digits, a space, 120 characters and an ellipsis.
const MAX_LABEL_CHARS: usize = 8 + 1 + 120 + 1;

fn config(cases: u32) -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED; without them, CI's figures.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(17);
    }
    config
}

/// Collectors register figure sources and the exposition check resets perfscope: one at a
/// time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Text that looks like SQL often enough to reach the tokenizer's corners.
fn sql_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 '\"`$?:@#(),.;*/\\-+=<>\\[\\]{}\n\t\\\\eEnNxXbB]{0,64}",
        "\\PC{0,48}",
        any::<String>(),
    ]
}

/// A statement made of SQL's tokens in any order, with any whitespace and comments between
/// them: SQL a program could send, or close to it.
fn sql_tokens() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "SELECT",
        "select",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "TRUE",
        "LIKE",
        "BETWEEN",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "LIMIT",
        "OFFSET",
        "INSERT",
        "INTO",
        "VALUES",
        "UPDATE",
        "SET",
        "DELETE",
        "JOIN",
        "ON",
        "GROUP",
        "BY",
        "ORDER",
        "AS",
        "ARRAY",
        "count",
        "lower",
        "users",
        "t.id",
        "name",
        "\"Quoted\"",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        ";",
        "*",
        "=",
        "<>",
        "<",
        ">=",
        "+",
        "-",
        "/",
        "%",
        "||",
        "::",
        "text",
        "0",
        "1",
        "42",
        "3.5",
        "1e3",
        "'x'",
        "'it''s'",
        "E'\\n'",
        "$1",
        "$2",
        "?",
        ":name",
        "@p",
        "$$body$$",
    ]);
    let gap = prop::sample::select(vec![" ", "  ", "\n", "\t", " /* c */ ", " -- c\n"]);
    prop::collection::vec((token, gap), 0..24)
        .prop_map(|parts| parts.into_iter().map(|(t, g)| format!("{t}{g}")).collect())
}

/// One literal, written in any of the ways a statement may carry it.
fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| format!("{v:?}")),
        "[a-zA-Z0-9 ;()-]{0,8}".prop_map(|s| format!("'{s}'")),
        "[a-z]{0,4}".prop_map(|s| format!("'it''s {s}'")),
        (1u32..20).prop_map(|n| format!("${n}")),
        Just("?".to_string()),
        Just("NULL".to_string()),
        Just("TRUE".to_string()),
        Just("false".to_string()),
    ]
}

fn literals() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(literal(), 1..6)
}

/// A statement shape with holes for literals: (table, column, operator, extra column).
fn shape() -> impl Strategy<Value = (String, String, &'static str, String)> {
    let op = prop::sample::select(vec!["=", "<>", "<", ">=", "LIKE"]);
    ("[a-z][a-z0-9_]{0,8}", "[a-z][a-z0-9_]{0,8}", op, "[a-z][a-z0-9_]{0,8}")
}

/// The statement of `shape` with `a` as its scalar literal and `list` as its IN-list.
fn statement(
    (table, column, op, other): &(String, String, &'static str, String),
    a: &str,
    list: &[String],
    limit: &str,
) -> String {
    format!(
        "SELECT {other}, count(*) FROM {table} WHERE {column} {op} {a} AND {other} IN ({}) \
         GROUP BY {other} LIMIT {limit}",
        list.join(", ")
    )
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn fingerprints_of_any_text_never_panic_and_are_bounded(sql in sql_like()) {
        let fingerprint = Fingerprint::of(&sql);
        prop_assert_eq!(&fingerprint.normalized, &normalize(&sql));
        let label = fingerprint.label(120);
        prop_assert!(label.chars().count() <= MAX_LABEL_CHARS, "{}", label);
        prop_assert!(label.starts_with(&fingerprint.short_hash()));
        let _ = Fingerprint::of(&fingerprint.normalized);
    }

    #[test]
    fn the_normal_form_of_sql_is_its_own(sql in sql_tokens()) {
        let fingerprint = Fingerprint::of(&sql);
        let again = Fingerprint::of(&fingerprint.normalized);
        prop_assert_eq!(&again, &fingerprint, "{:?}", sql);
    }

    #[test]
    fn literals_parameters_and_list_lengths_do_not_change_the_fingerprint(
        shape in shape(),
        (a, b) in (literal(), literal()),
        (list_a, list_b) in (literals(), literals()),
        (limit_a, limit_b) in (literal(), literal()),
    ) {
        let one = statement(&shape, &a, &list_a, &limit_a);
        let two = statement(&shape, &b, &list_b, &limit_b);
        prop_assert_eq!(Fingerprint::of(&one), Fingerprint::of(&two), "{} vs {}", one, two);
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn collector_labels_reach_the_exposition_unchanged(
        statements in prop::collection::vec(sql_like(), 1..6),
    ) {
        let _serial = serial();
        let queries = QueryCollector::new();
        for statement in &statements {
            queries.record(&QueryRecord { statement, ..Default::default() });
        }
        let (text, samples) = hostile_labels::check(&[], &[]);
        for stats in queries.fingerprints() {
            prop_assert!(stats.label.chars().count() <= MAX_LABEL_CHARS, "{}", stats.label);
            let served = samples
                .iter()
                .any(|s| s.name == CALLS_TOTAL && s.label("fingerprint") == Some(stats.label.as_str()));
            prop_assert!(served, "{:?} not served as it is:\n{}", stats.label, text);
        }
    }
}

/// 64-bit FNV-1a as its authors define it (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3: each byte XORed in, then a multiplication), written here apart from the
/// crate's own.
fn fnv1a_reference(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash: u64, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn the_hash_is_fnv1a_of_the_normalized_text_and_the_label_starts_with_its_top_half() {
    // The reference gives the published FNV-1a test vectors.
    assert_eq!(fnv1a_reference(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_reference(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_reference(b"foobar"), 0x8594_4171_f739_67e8);

    let fingerprint = Fingerprint::of("select *  from users where id = 42;");
    assert_eq!(fingerprint.normalized, "SELECT * FROM users WHERE id = ?");
    // `python3` computed the same value from the normalized text.
    assert_eq!(fingerprint.hash, 0x8aec_d125_cab1_8145);
    assert_eq!(fingerprint.hash, fnv1a_reference(fingerprint.normalized.as_bytes()));
    assert_eq!(fingerprint.short_hash(), "8aecd125");
    assert_eq!(fingerprint.label(120), "8aecd125 SELECT * FROM users WHERE id = ?");
    assert_eq!(fingerprint.label(6), "8aecd125 SELECT…");

    // A hash whose top half has a leading zero keeps all 8 digits.
    let fingerprint = Fingerprint::of("SELECT id FROM t200");
    assert_eq!(fingerprint.hash, 0x0340_e241_b6cf_e524);
    assert_eq!(fingerprint.short_hash(), "0340e241");

    // The collector labels its figures with the same text.
    let queries = QueryCollector::new();
    queries.record(&QueryRecord { statement: "SELECT id FROM t200", ..Default::default() });
    assert_eq!(queries.fingerprints()[0].label, "0340e241 SELECT id FROM t200");
}
