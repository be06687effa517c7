//! Hosts that lack figures, or whose `/proc` lies: the monitor runs in a process of this test
//! binary started by `unshare` in namespaces of its own, so nothing outside changes. In a new
//! network namespace the only interface is a loopback that is down; in a new mount namespace
//! `/proc/meminfo`, `/proc/loadavg` and `/proc/stat` are replaced (bind mounts) by empty or
//! garbage files. The monitor must start, keep sampling, report what it can read and leave
//! out what it cannot (absent, never zero or made up), and never panic. A network namespace
//! whose loopback is brought up is also a host whose only traffic is the test's own: there the
//! network figures are known to the byte, and a burst after a quiet spell is a known anomaly.
//! Linux only; as root,
//! or unprivileged where user namespaces are allowed (`unshare --user --map-root-user`).
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use perfscope_core::figures::Figure;
use perfscope_monitor::{Monitor, names::*};

/// Set in the child process: which case it runs.
const CASE: &str = "PERFSCOPE_FAULTS_HOST_CASE";

/// Runs this binary's test `test` again in new namespaces (`--net` and/or `--mount`), after
/// the shell commands `setup` (mounts, run inside the namespaces), and returns its output.
fn run_in_namespaces(test: &str, case: &str, namespaces: &[&str], setup: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    command.args(namespaces);
    if namespaces.contains(&"--mount") {
        command.arg("--propagation=private");
    }
    let script = format!("{setup}\nexec \"$0\" --exact {test} --nocapture --test-threads=1");
    let output = command
        .args(["sh", "-ec", &script])
        .arg(&exe)
        .env(CASE, case)
        .output()
        .expect("unshare (util-linux) runs");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the monitor in new namespaces ({namespaces:?}) failed ({}). If unshare itself failed, \
         run the tests as root or enable unprivileged user namespaces.\nstdout:\n{stdout}\n\
         stderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains(&format!("case {case} passed")), "{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Starts a monitor, lets it take `samples` samples, and returns its snapshot figures.
fn sample(samples: u64) -> (Monitor, Vec<Figure>) {
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .start()
        .expect("the monitor starts whatever the host lacks");
    assert!(monitor.wait_for_samples(samples, Duration::from_secs(30)), "it keeps sampling");
    let figures = perfscope_core::snapshot().figures;
    (monitor, figures)
}

fn named<'a>(figures: &'a [Figure], name: &str) -> Vec<&'a Figure> {
    figures.iter().filter(|f| f.name == name).collect()
}

fn devices(figures: &[Figure]) -> BTreeSet<String> {
    let network = figures.iter().filter(|f| f.name.contains("_network_"));
    network
        .flat_map(|f| f.labels.iter().filter(|(k, _)| k == "device").map(|(_, v)| v.clone()))
        .collect()
}

/// What every case still reads: this process's own figures (from `/proc/self`).
fn assert_process_figures(figures: &[Figure]) {
    let resident = named(figures, PROCESS_RESIDENT_MEMORY_BYTES);
    assert!(resident.len() == 1 && resident[0].value > 0.0, "{resident:?}");
    // CPU time counts whole clock ticks: a mostly idle child may not have used one yet.
    let cpu = named(figures, PROCESS_CPU_SECONDS_TOTAL);
    assert!(cpu.len() == 1 && cpu[0].value >= 0.0, "{cpu:?}");
}

#[test]
fn a_network_namespace_with_only_a_loopback_that_is_down() {
    if std::env::var(CASE).as_deref() == Ok("net") {
        let (monitor, figures) = sample(4);
        // Only `lo`, whose counters are zero: no traffic ever crossed it.
        assert_eq!(devices(&figures), BTreeSet::from(["lo".to_owned()]), "{figures:#?}");
        for name in [NODE_NETWORK_RECEIVE_BYTES_TOTAL, NODE_NETWORK_TRANSMIT_BYTES_TOTAL] {
            let found = named(&figures, name);
            assert!(found.len() == 1 && found[0].value == 0.0, "{name}: {found:?}");
        }
        for name in [NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND]
        {
            let found = named(&figures, name);
            assert!(found.len() == 1 && found[0].value == 0.0, "{name}: {found:?}");
        }
        // The rest of the host is there as usual.
        assert!(!named(&figures, NODE_CPU_USAGE_RATIO).is_empty());
        assert_eq!(named(&figures, NODE_MEMORY_MEMTOTAL_BYTES).len(), 1);
        assert_process_figures(&figures);
        assert!(monitor.wait_for_samples(monitor.samples() + 2, Duration::from_secs(30)));
        println!("case net passed: {} figures, devices {:?}", figures.len(), devices(&figures));
        return;
    }
    let out = run_in_namespaces(
        "a_network_namespace_with_only_a_loopback_that_is_down",
        "net",
        &["--net"],
        "",
    );
    print!("{out}");
}

/// Runs `test` in a new mount namespace where the files the host figures come from are
/// replaced by a file holding `content`; removes that file afterwards.
fn with_lying_proc(test: &str, case: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("perfscope-{case}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let fake = dir.join("proc-file");
    std::fs::write(&fake, content).expect("write the fake /proc file");
    let setup = ["/proc/meminfo", "/proc/loadavg", "/proc/stat"]
        .map(|file| format!("mount --bind '{}' {file}", fake.display()))
        .join("\n");
    let out = run_in_namespaces(test, case, &["--mount"], &setup);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Host figures read from a lying `/proc`: none of them, and no made-up value.
fn assert_no_host_figures_from_lying_proc(figures: &[Figure]) {
    for name in [
        NODE_MEMORY_MEMTOTAL_BYTES,
        NODE_MEMORY_MEMAVAILABLE_BYTES,
        NODE_MEMORY_MEMFREE_BYTES,
        NODE_MEMORY_CACHED_BYTES,
        NODE_MEMORY_SWAPTOTAL_BYTES,
        NODE_LOAD1,
        NODE_LOAD5,
        NODE_LOAD15,
        NODE_CPU_USAGE_RATIO,
    ] {
        assert!(named(figures, name).is_empty(), "{name} is absent: {:?}", named(figures, name));
    }
}

#[test]
fn empty_proc_files_leave_their_figures_out() {
    if std::env::var(CASE).as_deref() == Ok("empty") {
        let (_monitor, figures) = sample(4);
        assert_no_host_figures_from_lying_proc(&figures);
        assert_process_figures(&figures);
        println!("case empty passed: {} figures", figures.len());
        return;
    }
    print!("{}", with_lying_proc("empty_proc_files_leave_their_figures_out", "empty", ""));
}

#[test]
fn garbage_proc_files_leave_their_figures_out() {
    if std::env::var(CASE).as_deref() == Ok("garbage") {
        let (_monitor, figures) = sample(4);
        assert_no_host_figures_from_lying_proc(&figures);
        assert_process_figures(&figures);
        println!("case garbage passed: {} figures", figures.len());
        return;
    }
    let garbage = "MemTotal: lots kB\ncpu x y z\nnot a number\n\u{0}\u{1}\u{ff}\n-1 -2 -3 \
                   99999999999999999999999999 NaN inf\nMemAvailable: -5 kB\n";
    let test = "garbage_proc_files_leave_their_figures_out";
    print!("{}", with_lying_proc(test, "garbage", garbage));
}

/// In a network namespace whose loopback is the test's alone: starts a monitor, checks that
/// its first `quiet` samples read no traffic, sends `N` bytes over the loopback, and checks
/// the samples after: their rates times their intervals (the history's times) add up to the
/// bytes `received` says crossed the loopback, and the counter is that, to the byte. Returns
/// the monitor and those samples, `(seconds, bytes per second)`.
fn known_burst(quiet: u64, received: fn() -> f64) -> (Monitor, Vec<(f64, f64)>) {
    const N: usize = 8 << 20;
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(false)
        .start()
        .expect("the monitor starts");
    let lo = [("device", "lo")];
    assert!(monitor.wait_for_samples(quiet, Duration::from_secs(60)), "it keeps sampling");
    let before = monitor.history(NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, &lo);
    assert!(before.len() as u64 >= quiet && before.iter().all(|p| p.1 == 0.0), "{before:?}");
    let first = before.last().expect("a point").0;

    let took = support::loopback_traffic(N);
    // Every byte that ever crossed this loopback.
    let rx = received();
    assert!(rx >= N as f64, "{rx}");
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 2, Duration::from_secs(30)));

    let points = monitor.history(NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, &lo);
    let last = points.last().expect("a point").0;
    let samples = support::intervals(&points, first, last);
    let bytes: f64 = samples.iter().map(|(dt, rate)| dt * rate).sum();
    // The history's times are taken a little after each reading: 20% for their jitter.
    assert!((bytes - rx).abs() <= 0.2 * rx, "{bytes} vs {rx} in {took:?}: {samples:?}");
    let totals = monitor.history(NODE_NETWORK_RECEIVE_BYTES_TOTAL, &lo);
    assert_eq!(totals.last().map(|p| p.1), Some(rx), "the counter, to the byte");
    let sent = monitor.history(NODE_NETWORK_TRANSMIT_BYTES_TOTAL, &lo);
    assert_eq!(sent.last().map(|p| p.1), Some(rx), "what lo sends it receives");
    (monitor, samples)
}

#[test]
fn a_burst_on_a_private_loopback_is_an_anomaly_of_known_size() {
    if std::env::var(CASE).as_deref() == Ok("burst") {
        // Past the detector's warm-up (20 points) with nothing crossing the loopback.
        let (monitor, samples) = known_burst(24, || support::net_dev("lo").0);

        // The first sample with traffic is an anomaly, measured against a mean of zero.
        let burst = samples.iter().find(|s| s.1 > 0.0).expect("a sample with the burst").1;
        let anomalies: Vec<_> = monitor
            .anomalies()
            .into_iter()
            .filter(|a| a.figure == NODE_NETWORK_RECEIVE_BYTES_PER_SECOND)
            .collect();
        assert_eq!(anomalies.len(), 1, "{anomalies:#?}");
        let anomaly = &anomalies[0];
        assert_eq!(anomaly.labels, vec![("device".to_owned(), "lo".to_owned())]);
        assert_eq!((anomaly.value, anomaly.expected), (burst, 0.0), "{anomaly:?}");
        assert!(anomaly.z > 4.0, "{anomaly:?}");
        let events = perfscope_core::snapshot().events;
        assert!(
            events.iter().any(|e| e.kind == perfscope_core::figures::EventKind::Anomaly
                && e.subject == NODE_NETWORK_RECEIVE_BYTES_PER_SECOND
                && e.value == Some(burst)),
            "{events:#?}"
        );
        println!("case burst passed: {samples:?}, {anomaly:?}");
        return;
    }
    let test = "a_burst_on_a_private_loopback_is_an_anomaly_of_known_size";
    print!("{}", run_in_namespaces(test, "burst", &["--net"], "ip link set lo up"));
}

/// `/proc/stat` with every field of `cpu` lines at a fixed width, so that each rewrite has
/// the same length: `(user, idle)` ticks for the whole host, then for each core.
fn stat_text(host: (u64, u64), cores: &[(u64, u64)]) -> String {
    let line = |name: &str, (user, idle): (u64, u64)| {
        format!("{name:<5} {user:>10} 0 0 {idle:>10} 0 0 0 0 0 0\n")
    };
    let mut text = line("cpu", host);
    for (i, core) in cores.iter().enumerate() {
        text.push_str(&line(&format!("cpu{i}"), *core));
    }
    text.push_str("intr 0\nctxt 0\nbtime 1700000000\nprocesses 1\nprocs_running 1\n");
    text
}

/// CPU usage from counters the test writes itself: `/proc/stat` is a file of the test's (a
/// bind mount in a mount namespace of its own). Between two readings the host's busy ticks
/// grow by 250 of 1000, core 0's by 100 of 500 and core 1's by 150 of 500: the monitor must
/// read exactly 0.25, 0.2 and 0.3, on any host, however loaded.
#[test]
fn cpu_usage_is_the_busy_share_of_the_proc_stat_deltas() {
    if std::env::var(CASE).as_deref() == Ok("stat") {
        let write = |text: String| {
            // Same length every time, one write, no truncation: a reader sees one or the other.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open("/proc/stat")
                .expect("the fake /proc/stat");
            std::io::Write::write_all(&mut file, text.as_bytes()).expect("written");
        };
        // Step i: the host's busy ticks grow by 250 of 1000 a step, the cores' by 100 and 150
        // of 500.
        let stat_at = |i: u64| {
            let cores = [(500 + 100 * i, 500 + 400 * i), (500 + 150 * i, 500 + 350 * i)];
            stat_text((1000 + 250 * i, 1000 + 750 * i), &cores)
        };
        write(stat_at(0));
        let monitor = Monitor::builder()
            .with_interval(Duration::from_millis(200))
            .with_function_analysis(false)
            .start()
            .expect("the monitor starts");
        // Two samples began after the write: both read the same counters.
        assert!(monitor.wait_for_samples(3, Duration::from_secs(30)));
        let series: [&[(&str, &str)]; 3] = [&[], &[("cpu", "0")], &[("cpu", "1")]];
        for step in 1..=5 {
            // Written between two samples, unless the test was held up past the next one's
            // start: then sysinfo's process refresh reads the cores' new counters and the
            // next CPU refresh sees no tick pass on them (zero). A later step sets it right.
            write(stat_at(step));
            let n = monitor.samples();
            assert!(monitor.wait_for_samples(n + 3, Duration::from_secs(30)));
            let moved = |labels: &[(&str, &str)]| {
                monitor.history(NODE_CPU_USAGE_RATIO, labels).iter().any(|p| p.1 != 0.0)
            };
            if series.iter().all(|labels| moved(labels)) {
                break;
            }
        }
        for (labels, share) in series.into_iter().zip([0.25, 0.2, 0.3]) {
            let points = monitor.history(NODE_CPU_USAGE_RATIO, labels);
            // Zero until a sample reads the new counters; then the share (sysinfo keeps it
            // while no tick passes).
            let moved: Vec<f64> = points.iter().map(|p| p.1).filter(|v| *v != 0.0).collect();
            assert!(!moved.is_empty() && points[0].1 == 0.0, "{labels:?}: {points:?}");
            assert!(moved.iter().all(|v| (v - share).abs() < 1e-6), "{labels:?}: {points:?}");
        }
        println!("case stat passed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("perfscope-stat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let fake = dir.join("stat");
    std::fs::write(&fake, stat_text((0, 0), &[(0, 0), (0, 0)])).expect("the fake /proc/stat");
    let setup = format!("mount --bind '{}' /proc/stat", fake.display());
    let test = "cpu_usage_is_the_busy_share_of_the_proc_stat_deltas";
    let out = run_in_namespaces(test, "stat", &["--mount"], &setup);
    let _ = std::fs::remove_dir_all(&dir);
    print!("{out}");
}
