//! The monitor's figures, as snapshots carry them, agree with `/proc` read in the same test;
//! dropping the monitor stops its thread. Linux only.
#![cfg(target_os = "linux")]

mod support;

use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use perfscope_core::figures::{Figure, FigureKind};
use perfscope_monitor::{Monitor, names::*};
use support::{burn, intervals, loopback_traffic, net_dev, proc_kb, process_cpu_seconds, rss};

/// One monitor at a time in this binary: the drop test counts sampler threads.
static SERIAL: Mutex<()> = Mutex::new(());

fn start(interval_ms: u64) -> Monitor {
    let builder = Monitor::builder().with_interval(Duration::from_millis(interval_ms));
    builder.start().expect("the monitor starts on Linux")
}

fn load_averages() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").expect("/proc/loadavg");
    let mut loads = text.split_whitespace().map(|w| w.parse().expect("a load average"));
    [(); 3].map(|()| loads.next().expect("three load averages"))
}

/// Waits for a sample that began after this call; returns its time in the history.
fn next_sample(monitor: &Monitor) -> f64 {
    // Sample n + 2 began after sample n + 1 ended, so after `samples()` read n.
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 2, Duration::from_secs(60)), "the monitor samples");
    let points = monitor.history(PROCESS_RESIDENT_MEMORY_BYTES, &[]);
    points.last().expect("a point").0
}

fn open_fds() -> f64 {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count() as f64
}

fn find<'a>(figures: &'a [Figure], name: &str, labels: &[(&str, &str)]) -> &'a Figure {
    let found = figures.iter().find(|f| {
        f.name == name
            && f.labels.len() == labels.len()
            && labels.iter().all(|(k, v)| f.labels.iter().any(|(fk, fv)| fk == k && fv == v))
    });
    found.unwrap_or_else(|| panic!("{name} {labels:?} is in the snapshot"))
}

fn between(value: f64, a: f64, b: f64, slack: f64) -> bool {
    value >= a.min(b) - slack && value <= a.max(b) + slack
}

/// The `/proc/meminfo` fields the monitor reports, bytes.
const MEMINFO: [(&str, &str); 5] = [
    (NODE_MEMORY_MEMAVAILABLE_BYTES, "MemAvailable:"),
    (NODE_MEMORY_MEMFREE_BYTES, "MemFree:"),
    (NODE_MEMORY_CACHED_BYTES, "Cached:"),
    (NODE_MEMORY_SWAPTOTAL_BYTES, "SwapTotal:"),
    (NODE_MEMORY_SWAPFREE_BYTES, "SwapFree:"),
];

/// What the test reads itself, before and after the monitor's sample.
#[derive(Debug)]
struct Readings {
    meminfo: Vec<f64>,
    loads: [f64; 3],
    lo: (f64, f64),
    rss: f64,
    vm_size: f64,
    fds: f64,
}

fn readings() -> Readings {
    Readings {
        meminfo: MEMINFO.iter().map(|(_, field)| proc_kb("/proc/meminfo", field)).collect(),
        loads: load_averages(),
        lo: net_dev("lo"),
        rss: rss(),
        vm_size: proc_kb("/proc/self/status", "VmSize:"),
        fds: open_fds(),
    }
}

#[test]
fn snapshot_figures_agree_with_proc() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = start(200);
    assert!(monitor.wait_for_samples(2, Duration::from_secs(30)));

    let before = readings();
    loopback_traffic(256 * 1024);
    next_sample(&monitor);
    let snapshot = perfscope_core::snapshot();
    let after = readings();
    let f = &snapshot.figures;

    let total = find(f, NODE_MEMORY_MEMTOTAL_BYTES, &[]);
    assert_eq!(total.value, proc_kb("/proc/meminfo", "MemTotal:"));
    assert_eq!((total.section, total.kind), ("host", FigureKind::Gauge));
    // Other programs move these between the readings: 2% of the memory is a lot of slack,
    // far less than the difference between any two of them on a working host.
    for (i, (name, field)) in MEMINFO.iter().enumerate() {
        let value = find(f, name, &[]).value;
        let (a, b) = (before.meminfo[i], after.meminfo[i]);
        assert!(between(value, a, b, 0.02 * total.value), "{name} {value} vs {field} {a}..{b}");
    }
    for (i, name) in [NODE_LOAD1, NODE_LOAD5, NODE_LOAD15].into_iter().enumerate() {
        let load = find(f, name, &[]).value;
        let (a, b) = (before.loads[i], after.loads[i]);
        assert!(between(load, a, b, 0.01), "{name} {load} vs {a}..{b}");
    }

    let resident = find(f, PROCESS_RESIDENT_MEMORY_BYTES, &[]);
    assert_eq!(resident.section, "process");
    let (a, b) = (before.rss, after.rss);
    assert!(between(resident.value, a, b, 0.1 * b), "{} vs VmRSS {a}..{b}", resident.value);
    let virtual_memory = find(f, PROCESS_VIRTUAL_MEMORY_BYTES, &[]).value;
    let (a, b) = (before.vm_size, after.vm_size);
    assert!(between(virtual_memory, a, b, 0.05 * b), "{virtual_memory} vs VmSize {a}..{b}");
    // The listing of /proc/self/fd counts its own descriptor; test threads open a few more.
    let fds = find(f, PROCESS_OPEN_FDS, &[]).value;
    assert!(between(fds, before.fds, after.fds, 3.0), "{fds} vs {before:?} {after:?}");
    let threads = f.iter().filter(|f| f.name == "process_threads").count();
    assert_eq!(threads, 1, "process_threads comes from core only");

    for (name, before, after) in [
        (NODE_NETWORK_RECEIVE_BYTES_TOTAL, before.lo.0, after.lo.0),
        (NODE_NETWORK_TRANSMIT_BYTES_TOTAL, before.lo.1, after.lo.1),
    ] {
        let bytes = find(f, name, &[("device", "lo")]);
        assert_eq!(bytes.kind, FigureKind::Counter);
        assert!(before <= bytes.value && bytes.value <= after, "{name} {before} {bytes:?} {after}");
        assert!(after - before >= 256.0 * 1024.0);
        let history = monitor.history(name, &[("device", "lo")]);
        assert!(history.len() >= 4);
        assert!(history.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0), "{history:?}");
    }

    let cores = support::proc_stat().len() - 1;
    let usage: Vec<&Figure> = f.iter().filter(|f| f.name == NODE_CPU_USAGE_RATIO).collect();
    assert_eq!(usage.len(), cores + 1, "the total and one per core");
    assert!(usage.iter().all(|u| (0.0..=1.0).contains(&u.value) && u.section == "host"));
    if !host_has_temperatures() {
        assert!(f.iter().all(|f| f.name != NODE_HWMON_TEMP_CELSIUS), "absent, not zero");
    }
}

/// Loopback rates against a known transfer, inside/around: the test sends `N` bytes between
/// two samples it knows began before and after the transfer, and reads `/proc/net/dev` itself
/// before the first and after the last. Each sample's rate times its interval (the history's
/// times) is the bytes of that interval, so their sum over the samples between is at least
/// the bytes sent and at most what the test saw cross `lo` (other programs' traffic too).
#[test]
fn loopback_rates_times_intervals_add_up_to_a_known_transfer() {
    const N: usize = 4 << 20;
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = start(250);
    assert!(monitor.wait_for_samples(2, Duration::from_secs(30)));
    let outer = net_dev("lo");
    let first = next_sample(&monitor);
    let took = loopback_traffic(N);
    let last = next_sample(&monitor);
    let outer_after = net_dev("lo");
    for (name, i) in
        [(NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, 0), (NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND, 1)]
    {
        let (seen, sent) =
            if i == 0 { (outer_after.0 - outer.0, N) } else { (outer_after.1 - outer.1, N) };
        let points = monitor.history(name, &[("device", "lo")]);
        let samples = intervals(&points, first, last);
        let bytes: f64 = samples.iter().map(|(dt, rate)| dt * rate).sum();
        let context = format!("{name}: {samples:?} in {took:?}; test saw {seen} bytes");
        // The history's times are taken a little after each reading: 20% for their jitter.
        assert!(bytes >= 0.8 * sent as f64, "{bytes} < {sent}; {context}");
        assert!(bytes <= 1.2 * seen, "{bytes} > {seen}; {context}");
        // The counters agree to the byte with the test's own readings.
        let counter = if i == 0 {
            NODE_NETWORK_RECEIVE_BYTES_TOTAL
        } else {
            NODE_NETWORK_TRANSMIT_BYTES_TOTAL
        };
        let totals = monitor.history(counter, &[("device", "lo")]);
        let at = |t: f64| totals.iter().find(|p| p.0 == t).expect("the same samples").1;
        let grown = at(last) - at(first);
        assert!(grown >= sent as f64 && grown <= seen, "{counter} grew {grown}; {context}");
        let mean_rate = bytes / samples.iter().map(|s| s.0).sum::<f64>();
        eprintln!(
            "{name}: {bytes} bytes, {mean_rate:.0} B/s over {} samples, test saw {seen}",
            samples.len()
        );
    }
}

/// The process's CPU time against `/proc/self/stat` read by the test around two samples, and
/// against a known burn between them (CPU time of the burning thread, `clock_gettime`).
#[test]
fn process_cpu_seconds_follow_proc_self_stat_and_a_known_burn() {
    const BURN: Duration = Duration::from_millis(400);
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = start(200);
    assert!(monitor.wait_for_samples(1, Duration::from_secs(30)));
    let cpu_at = |t: f64| {
        let points = monitor.history(PROCESS_CPU_SECONDS_TOTAL, &[]);
        points.iter().find(|p| p.0 == t).expect("the sample's point").1
    };
    let before = process_cpu_seconds();
    let first = next_sample(&monitor);
    let between_samples = process_cpu_seconds();
    burn(BURN);
    let burnt = process_cpu_seconds();
    let last = next_sample(&monitor);
    let after = process_cpu_seconds();
    let (a, b) = (cpu_at(first), cpu_at(last));
    let context = format!(
        "samples {a} then {b}; /proc/self/stat {before}, {between_samples}, {burnt}, {after}"
    );
    assert!(before <= a && a <= between_samples, "{context}");
    assert!(burnt <= b && b <= after, "{context}");
    // The burn is in the difference: one clock tick of slack each side.
    assert!(b - a >= BURN.as_secs_f64() - 0.02, "{context}");
    assert!(b - a <= after - before, "{context}");
}

fn host_has_temperatures() -> bool {
    let Ok(chips) = std::fs::read_dir("/sys/class/hwmon") else { return false };
    chips.flatten().any(|chip| {
        std::fs::read_dir(chip.path()).is_ok_and(|files| {
            files.flatten().any(|f| f.file_name().to_string_lossy().starts_with("temp"))
        })
    })
}

fn sampler_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    let mut count = 0;
    for task in tasks.flatten() {
        let mut comm = String::new();
        if let Ok(mut file) = std::fs::File::open(task.path().join("comm")) {
            let _ = file.read_to_string(&mut comm);
        }
        count += usize::from(comm.trim() == "perfscope-monit"); // comm keeps 15 bytes
    }
    count
}

#[test]
fn dropping_the_monitor_stops_its_thread_and_its_figures() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = sampler_threads();
    // A long interval: the drop must not wait for the next sample.
    let monitor = Monitor::builder().with_interval(Duration::from_secs(30)).start().unwrap();
    assert_eq!(sampler_threads(), before + 1);
    assert!(monitor.cpu_time().is_some());
    let started = Instant::now();
    drop(monitor);
    assert!(started.elapsed() < Duration::from_secs(5), "drop joined at once");
    assert_eq!(sampler_threads(), before);
    let snapshot = perfscope_core::snapshot();
    assert!(snapshot.figures.iter().all(|f| f.name != PROCESS_RESIDENT_MEMORY_BYTES));
}

#[test]
fn bad_settings_are_refused() {
    let short = Monitor::builder().with_interval(Duration::from_millis(100)).start();
    assert!(matches!(short, Err(perfscope_monitor::MonitorError::IntervalTooShort(_))));
    let empty = Monitor::builder().with_ring(0).start();
    assert!(matches!(empty, Err(perfscope_monitor::MonitorError::EmptyRing)));
}
