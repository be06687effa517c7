//! `promtool`, Prometheus's own checker: `check metrics` for the tests that check what
//! /metrics serves, `check rules` and `test rules` for the generated rules file.
#![allow(dead_code)] // each test binary uses part of it

use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};

/// Runs `promtool check metrics` on `exposition`: its exit status (0 clean, 3 lint findings
/// only) and what it said.
pub fn check_metrics(exposition: &str) -> (ExitStatus, String) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!(
            "promtool is not on PATH ({e}): install Prometheus (Debian/Ubuntu: apt-get install \
             -y prometheus; scripts/test does it)"
        )
    });
    let mut stdin = child.stdin.take().expect("promtool's stdin");
    stdin.write_all(exposition.as_bytes()).expect("promtool reads the exposition");
    drop(stdin);
    let out = child.wait_with_output().expect("promtool finishes");
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status, said)
}

/// Runs `promtool <args>` (e.g. `check rules FILE`, `test rules FILE`): its exit status and
/// what it said.
pub fn run(args: &[&std::ffi::OsStr]) -> (ExitStatus, String) {
    let out = Command::new("promtool").args(args).output().unwrap_or_else(|e| {
        panic!(
            "promtool is not on PATH ({e}): install Prometheus (Debian/Ubuntu: apt-get install \
             -y prometheus; scripts/test does it)"
        )
    });
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status, said)
}
