//! `dashboards/perfscope-rules.yml` is what `market_scanner --prometheus-rules` prints (the
//! rules of the scanner's own thresholds), Prometheus accepts it (`promtool check rules`),
//! and its unit tests pass (`promtool test rules dashboards/perfscope-rules.test.yml`: each
//! alert fires on series that breach it and not on series that do not).

mod promtool;
mod scanner;

use std::ffi::OsStr;
use std::process::Command;

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/perfscope-rules.yml");
const UNIT_TESTS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/perfscope-rules.test.yml");

#[test]
fn the_committed_rules_are_up_to_date() {
    let out = Command::new(scanner::binary())
        .arg("--prometheus-rules")
        .output()
        .expect("the scanner runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).expect("UTF-8 rules");
    let committed = std::fs::read_to_string(RULES).unwrap_or_default();
    assert!(
        committed == printed,
        "dashboards/perfscope-rules.yml is stale: regenerate it with\n  \
         cargo run --example market_scanner -- --prometheus-rules > dashboards/perfscope-rules.yml"
    );
    for alert in ["store_pool_starved", "process_symbol_slow", "perfscope_in_process_alert"] {
        assert!(printed.contains(&format!("- alert: {alert}\n")), "{printed}");
    }
}

#[test]
fn promtool_accepts_the_rules() {
    let (status, said) =
        promtool::run(&[OsStr::new("check"), OsStr::new("rules"), OsStr::new(RULES)]);
    assert!(status.success(), "promtool check rules ({status}):\n{said}");
    assert!(said.contains("SUCCESS"), "{said}");
}

#[test]
fn the_rules_unit_tests_pass() {
    let (status, said) =
        promtool::run(&[OsStr::new("test"), OsStr::new("rules"), OsStr::new(UNIT_TESTS)]);
    assert!(status.success(), "promtool test rules ({status}):\n{said}");
    // Every alerting rule of the file is tested.
    let rules = std::fs::read_to_string(RULES).expect("the rules file");
    let tests = std::fs::read_to_string(UNIT_TESTS).expect("the unit tests");
    for line in rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")) {
        assert!(tests.contains(&format!("alertname: {line}\n")), "no unit test of {line}");
    }
    for line in rules.lines().filter_map(|l| l.trim().strip_prefix("- record: ")) {
        assert!(tests.contains(&format!("expr: {line}")), "no unit test of {line}");
    }
}
