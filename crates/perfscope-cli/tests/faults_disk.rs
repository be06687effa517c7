//! Writing outputs onto a full disk: `/dev/full` (every write fails with ENOSPC) and a real
//! full filesystem (a 16 KiB tmpfs, mounted in a mount namespace of its own by `unshare`, so
//! nothing outside sees it). Each command fails with exit status 2 and an error naming the
//! output and the cause; no partial file is left, and a file that was already there (an
//! earlier report) is kept as it was. Linux; the tmpfs needs root, or unprivileged user
//! namespaces (`unshare --user --map-root-user`).
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}

fn perfscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfscope")).args(args).output().expect("the binary runs")
}

#[test]
fn every_command_onto_a_full_device_is_a_clear_error() {
    let base = fixture("base.json");
    let runs: [&[&str]; 5] = [
        &["report", &base, "-o", "/dev/full"],
        &["report", &base, "--format", "html", "-o", "/dev/full"],
        &["report", &base, "--format", "json", "-o", "/dev/full"],
        &["flame", &base, "-o", "/dev/full"],
        &["diff", &base, &base, "-o", "/dev/full"],
    ];
    for args in runs {
        let out = perfscope(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("perfscope: error: cannot write /dev/full: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

/// Runs `script` (sh) in a new mount namespace with a 16 KiB tmpfs mounted on `dir`; returns
/// what it printed.
fn on_a_small_tmpfs(dir: &Path, script: &str) -> String {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    let script = format!("mount -t tmpfs -o size=16k perfscope-full \"$1\"\n{script}");
    let out = command
        .args(["--mount", "--propagation=private", "sh", "-ec", &script, "sh"])
        .arg(dir)
        .env("PERFSCOPE", env!("CARGO_BIN_EXE_perfscope"))
        .output()
        .expect("unshare (util-linux) runs");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the script in a mount namespace failed ({}). If unshare or mount failed, run the \
         tests as root or enable unprivileged user namespaces.\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    stdout.into_owned()
}

/// The value of the script's `key=value` line.
fn value<'a>(out: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    let line = out.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
    line.unwrap_or_else(|| panic!("no {key}= in\n{out}"))
}

#[test]
fn a_full_filesystem_keeps_the_earlier_file_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let base = fixture("base.json");
    // The HTML page (about 34 KB) cannot fit in 16 KiB; the JSON report (about 6 KB) can.
    let html = perfscope(&["report", &base, "--format", "html"]);
    assert!(html.stdout.len() > 20 * 1024, "{}", html.stdout.len());
    let json = perfscope(&["report", &base, "--format", "json"]).stdout;
    assert!(json.len() < 8 * 1024, "{}", json.len());
    let script = format!(
        r#"d="$1"
echo "an earlier report" > "$d/kept.html"
chmod 640 "$d/kept.html"
set +e
err=$("$PERFSCOPE" report '{base}' --format html -o "$d/kept.html" 2>&1)
echo "exit_kept=$?"
echo "stderr_kept=$err"
err=$("$PERFSCOPE" report '{base}' --format html -o "$d/new.html" 2>&1)
echo "exit_new=$?"
echo "stderr_new=$err"
"$PERFSCOPE" report '{base}' --format json -o "$d/fits.json"
echo "exit_fits=$?"
set -e
echo "kept=$(cat "$d/kept.html")"
echo "mode=$(stat -c %a "$d/kept.html")"
echo "files=$(ls -A "$d" | tr '\n' ' ')"
echo "fits:"
cat "$d/fits.json"
"#
    );
    let mount_point = dir.path().join("full");
    std::fs::create_dir(&mount_point).expect("the mount point");
    let out = on_a_small_tmpfs(&mount_point, &script);

    // The page that does not fit: exit 2, the cause named, the earlier file intact (content
    // and permissions), no new file, no temporary file left.
    assert_eq!(value(&out, "exit_kept"), "2", "{out}");
    assert_eq!(value(&out, "exit_new"), "2", "{out}");
    for (key, file) in [("stderr_kept", "kept.html"), ("stderr_new", "new.html")] {
        let message = value(&out, key);
        assert!(message.starts_with("perfscope: error: cannot write "), "{message}");
        assert!(message.contains(file) && message.contains("No space left on device"), "{message}");
    }
    assert_eq!(value(&out, "kept"), "an earlier report", "{out}");
    assert_eq!(value(&out, "mode"), "640", "{out}");
    assert_eq!(value(&out, "files").trim(), "fits.json kept.html", "{out}");
    // What fits is written whole, on the same filesystem.
    assert_eq!(value(&out, "exit_fits"), "0", "{out}");
    let fits = out.split_once("fits:\n").map(|(_, written)| written);
    assert_eq!(fits, Some(String::from_utf8_lossy(&json).as_ref()));
}
