//! `report_on_exit().json(path)` onto a full disk: `/dev/full` (every write fails with
//! ENOSPC), and a full filesystem (a 4 KiB tmpfs mounted in a mount namespace of its own, in a
//! child process of this test binary started by `unshare`). The program is not crashed (the
//! guard prints an error naming the file and the cause, and `main` returns normally), and a
//! report written there earlier is not replaced by a truncated one. Linux; the tmpfs needs
//! root, or unprivileged user namespaces (`unshare --user --map-root-user`).
#![cfg(target_os = "linux")]

use std::process::Command;

use perfscope::measure;

/// Set in the child process: the directory its guard writes into.
const CHILD_DIR: &str = "PERFSCOPE_FAULTS_DISK_DIR";

macro_rules! functions {
    ($($name:ident)*) => {
        $(
            #[measure]
            fn $name() {
                std::hint::black_box(());
            }
        )*
        fn call_them_all() {
            $($name();)*
        }
    };
}

// Twenty functions: a report whose JSON is well over 4 KiB.
functions!(
    disk_00 disk_01 disk_02 disk_03 disk_04 disk_05 disk_06 disk_07 disk_08 disk_09
    disk_10 disk_11 disk_12 disk_13 disk_14 disk_15 disk_16 disk_17 disk_18 disk_19
);

#[test]
fn a_report_on_exit_onto_a_full_device_does_not_crash_the_program() {
    {
        let _report = perfscope::report_on_exit().quiet().json("/dev/full");
        call_them_all();
    } // the guard writes here, fails, and says so on stderr
    assert!(perfscope::report().to_json().len() > 4096);
}

#[test]
fn a_report_on_exit_onto_a_full_filesystem_keeps_the_earlier_report() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        // The child, in its namespace: the guard's write fails; nothing panics.
        {
            let _report = perfscope::report_on_exit().quiet().json(format!("{dir}/perf.json"));
            call_them_all();
        }
        println!("child returned normally");
        return;
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    let test = "a_report_on_exit_onto_a_full_filesystem_keeps_the_earlier_report";
    let script = format!(
        r#"mount -t tmpfs -o size=4k perfscope-full "${CHILD_DIR}"
echo '{{"an": "earlier report"}}' > "${CHILD_DIR}/perf.json"
set +e
"$0" --exact {test} --nocapture --test-threads=1
echo "child_exit=$?"
set -e
echo "files=$(ls -A "${CHILD_DIR}" | tr '\n' ' ')"
echo "kept=$(cat "${CHILD_DIR}/perf.json")"
"#
    );
    let dir = std::env::temp_dir().join(format!("perfscope-faults-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the mount point");
    let out = command
        .args(["--mount", "--propagation=private", "sh", "-ec", &script])
        .arg(std::env::current_exe().expect("the test binary"))
        .env(CHILD_DIR, &dir)
        .output()
        .expect("unshare (util-linux) runs");
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unshare or mount failed ({}): {stderr}", out.status);
    let value = |key: &str| {
        let prefix = format!("{key}=");
        let line = stdout.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
        line.unwrap_or_else(|| panic!("no {key}= in\n{stdout}\n{stderr}")).to_owned()
    };
    assert_eq!(value("child_exit"), "0", "{stdout}\n{stderr}");
    assert!(stdout.contains("child returned normally"), "{stdout}");
    assert!(
        stderr.contains("perfscope: could not write the report to")
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert_eq!(value("files").trim(), "perf.json", "no partial or temporary file: {stdout}");
    assert_eq!(value("kept"), r#"{"an": "earlier report"}"#, "the earlier report is kept");
}
