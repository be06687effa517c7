//! The real `perfscope` binary on files that are not reports: garbage, nothing, a cut-off
//! report, wrong types, 50 MB of `[`, bytes that are not UTF-8. Every command that reads them
//! exits with status 2 and one line on standard error naming the file, never a panic; inputs
//! the fuzzer (`fuzz/`, target `report_reader`) found are kept in `tests/regressions/` and read
//! here too.

mod oracle;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perfscope_report::Report;

const BASE: &str = include_str!("fixtures/base.json");

fn perfscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfscope"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The hostile inputs, by name.
fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut garbage = Vec::with_capacity(4096);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        garbage.push(x as u8);
    }
    vec![
        ("garbage", garbage),
        ("empty", Vec::new()),
        ("truncated", BASE.as_bytes()[..BASE.len() / 2].to_vec()),
        ("wrong_types", BASE.replacen("\"calls\": 400", "\"calls\": \"many\"", 1).into_bytes()),
        ("negative_count", BASE.replacen("\"calls\": 400", "\"calls\": -1", 1).into_bytes()),
        ("schema_too_large", BASE.replacen("\"schema\": 1", "\"schema\": 1e99", 1).into_bytes()),
        ("not_an_object", b"[1, 2, 3]".to_vec()),
        ("null", b"null".to_vec()),
        ("nested_brackets_50mb", vec![b'['; 50 << 20]),
        (
            "nested_in_a_field",
            BASE.replacen("\"clock\": \"tsc\"", &format!("\"clock\": {}", "[".repeat(100_000)), 1)
                .into_bytes(),
        ),
        ("huge_string", format!("{{\"schema\": \"{}\"}}", "x\\n".repeat(1 << 20)).into_bytes()),
        (
            "huge_string_in_a_field",
            BASE.replacen(
                "\"kind\": \"sync\"",
                &format!("\"kind\": \"{}\"", "z".repeat(1 << 20)),
                1,
            )
            .into_bytes(),
        ),
        (
            "not_utf8",
            [b"{\"schema\": 2, \"clock\": \"".as_slice(), &[0xff, 0xfe, 0xc0], b"\"}"].concat(),
        ),
        ("utf16_bom", [0xff, 0xfe, b'{', 0, b'}', 0].to_vec()),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("a temp file");
    path
}

/// Status 2, nothing on standard output, one line on standard error naming the file.
fn assert_refused(out: &Output, what: &str, path: &Path) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: not one line: {stderr}");
    assert!(stderr.starts_with("perfscope: error: "), "{what}: {stderr}");
    let name = path.file_name().and_then(|n| n.to_str()).expect("a file name");
    assert!(stderr.contains(name), "{what}: the error does not name the file: {stderr}");
    let limit = perfscope_cli::error::MAX_ERROR_CHARS * 4 + 100;
    assert!(stderr.len() < limit, "{what}: an error line of {} bytes", stderr.len());
    assert!(stdout.is_empty(), "{what}: wrote to standard output: {stdout}");
}

#[test]
fn every_reading_command_refuses_hostile_files_with_status_2_and_one_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let base = write(dir.path(), "base.json", BASE.as_bytes());
    let svg = dir.path().join("out.svg");
    for (name, bytes) in hostile_inputs() {
        let bad = write(dir.path(), &format!("{name}.json"), &bytes);
        let bad = bad.to_str().expect("a UTF-8 temp path");
        let base = base.to_str().expect("a UTF-8 temp path");
        for args in [
            vec!["report", bad],
            vec!["report", bad, "--format", "html"],
            vec!["flame", bad, "-o", svg.to_str().expect("a UTF-8 temp path")],
            vec!["diff", base, bad],
            vec!["diff", bad, base],
            vec!["diff", bad, bad, "--format", "json"],
        ] {
            assert_refused(&perfscope(&args), &format!("{name}: {args:?}"), Path::new(bad));
        }
        assert!(!svg.exists(), "{name}: flame wrote an SVG of a file it refused");
    }
}

#[test]
fn hostile_input_on_standard_input_is_refused_too() {
    use std::io::Write;
    use std::process::Stdio;
    for (name, bytes) in hostile_inputs() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perfscope"))
            .args(["report", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut stdin = child.stdin.take().expect("its standard input");
        // It may stop reading early (and refuse what it read): a broken pipe is fine here.
        let _ = stdin.write_all(&bytes);
        drop(stdin);
        let out = child.wait_with_output().expect("it finishes");
        assert_refused(&out, &format!("{name} on standard input"), Path::new("-"));
    }
}

/// A report that parses but whose every figure is at the edge: each format renders (status
/// 0), or the one that cannot (a flame graph of sums past 2^62) says so in one line.
#[test]
fn a_report_of_extreme_figures_and_names_renders_or_is_refused_in_one_line() {
    let mut report = Report::from_json(BASE).expect("the base fixture");
    for (i, f) in report.functions.iter_mut().enumerate() {
        f.name = format!("{}>\"'&</script>;step {i}\n\r\t\0", oracle::INJECTED_TAG);
        (f.calls, f.self_ns, f.total_ns, f.busy_ns, f.max_ns) = (0, u64::MAX, 1, u64::MAX, 0);
        (f.alloc_bytes, f.total_alloc_bytes, f.p99_ns) = (u64::MAX, 0, u64::MAX);
        for child in &mut f.children {
            child.name = format!("{}>\"'&</script>;step 0\n\r\t\0", oracle::INJECTED_TAG);
            (child.calls, child.busy_ns, child.alloc_bytes) = (u64::MAX, u64::MAX, u64::MAX);
        }
    }
    report.elapsed_ns = u64::MAX;
    oracle::check_report(&report, &Report::from_json(BASE).expect("the base fixture"));

    let dir = tempfile::tempdir().expect("a temp dir");
    let path = write(dir.path(), "extreme.json", report.to_json().as_bytes());
    let path = path.to_str().expect("a UTF-8 temp path");
    for format in ["table", "html", "json", "folded", "folded-bytes"] {
        let out = perfscope(&["report", path, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out.stderr));
        let unescaped = text(&out.stdout).contains(oracle::INJECTED_TAG);
        assert!(!(format == "html" && unescaped), "a name reached the HTML unescaped");
    }
    let svg = dir.path().join("extreme.svg");
    let out = perfscope(&["flame", path, "-o", svg.to_str().expect("a UTF-8 temp path")]);
    let stderr = text(&out.stderr);
    match out.status.code() {
        Some(0) => assert!(svg.exists()),
        Some(2) => assert_eq!(stderr.lines().count(), 1, "{stderr}"),
        other => panic!("flame exited with {other:?}: {stderr}"),
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    let base = write(dir.path(), "base.json", BASE.as_bytes());
    let out = perfscope(&["diff", base.to_str().expect("a UTF-8 temp path"), path]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));
}

/// Every input kept in `tests/regressions/` (crashes and hangs the fuzzer found, once fixed)
/// goes through every reader again.
#[test]
fn inputs_the_fuzzer_found_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let base = Report::from_json(BASE).expect("the base fixture");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/regressions") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("a regression input");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracle::check_text(text, &base);
        }
        read += 1;
    }
    assert!(read > 0, "no regression input in {}", dir.display());
}
