//! Span names, modules and figure label values (pool, cache and query names) are program data:
//! whatever they hold, the Prometheus exposition stays valid and serves them unchanged. The
//! bounded counterpart of the `labels` fuzz target in `fuzz/`; the checks are
//! `tests/hostile_labels`' and the strict reader `tests/text_format`, and a batch of the worst
//! strings also goes through `promtool check metrics`.
//!
//! The seed is fixed so CI runs the same cases every time; `PROPTEST_RNG_SEED=<n>` (and
//! `PROPTEST_CASES`) explores others.

mod common;
mod hostile_labels;
mod text_format;

use std::sync::{Mutex, MutexGuard, PoisonError};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The checks reset perfscope's figures: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The strings that break a careless exposition.
fn worst() -> Vec<String> {
    [
        "",
        " ",
        "\"",
        "\\",
        "\\\"",
        "\\n",
        "\n",
        "\r\n",
        "a\"} 1\nfake_metric{x=\"",
        "# TYPE fake counter",
        "tab\tand\0nul",
        "}{=,\"",
        "\u{202e}rtl \u{feff}bom \u{1F600} \u{0301}",
        "<other>",
        "perfscope::<overflow>",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("long {}", "x\\\"\n".repeat(2_000))])
    .collect()
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(worst()),
        "[a-z:\"\\\\\n\r\t{}=, #]{0,16}",
        "\\PC{0,24}",
        any::<String>(),
    ]
}

#[test]
fn the_worst_names_pass_promtool_unchanged() {
    let _serial = serial();
    let worst = worst();
    let mut functions: Vec<(String, String)> =
        worst.iter().zip(worst.iter().rev()).map(|(a, b)| (a.clone(), b.clone())).collect();
    // Two functions whose module and name, joined by a NUL, read the same.
    functions.push(("b\0c".into(), "a".into()));
    functions.push(("c".into(), "a\0b".into()));
    let (text, samples) = hostile_labels::check(&functions, &worst);
    assert!(samples.len() > worst.len(), "{text}");
    common::promtool_check(&text);
}

/// The oracle itself: it reads a good exposition back and refuses what Prometheus refuses.
#[test]
fn the_strict_reader_refuses_broken_expositions() {
    let head = "# HELP m Help.\n# TYPE m gauge\n";
    let good = format!("{head}m{{a=\"x\\\"y\\\\z\\n\",b=\"\"}} 1.5\nm 2\n");
    let samples = text_format::parse(&good).expect("a valid exposition");
    assert_eq!(samples[0].label("a"), Some("x\"y\\z\n"));
    assert_eq!((samples[0].label("b"), samples[1].value), (Some(""), 2.0));
    for bad in [
        format!("{head}m{{a=\"x\"y\"}} 1\n"),
        format!("{head}m{{a=\"x\ny\"}} 1\n"),
        format!("{head}m{{a=\"x\\ty\"}} 1\n"),
        format!("{head}m{{a=\"x\"}} 1\nm{{a=\"x\"}} 2\n"),
        format!("{head}m{{a=\"x\",a=\"y\"}} 1\n"),
        format!("{head}m{{1a=\"x\"}} 1\n"),
        format!("{head}m{{a=x}} 1\n"),
        format!("{head}m{{a=\"x\"}} one\n"),
        format!("{head}m-x 1\n"),
        format!("{head}other 1\n"),
        format!("{head}m 1"),
    ] {
        assert!(text_format::parse(&bad).is_err(), "accepted: {bad:?}");
    }
}

fn config() -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED; without them, CI's figures.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(17);
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hostile_names_and_values_are_served_unchanged(
        functions in prop::collection::vec((name(), name()), 0..6),
        values in prop::collection::vec(name(), 0..6),
    ) {
        let _serial = serial();
        hostile_labels::check(&functions, &values);
    }
}
