//! The monitor's figures, as snapshots carry them, agree with `/proc` read in the same test;
//! dropping the monitor stops its thread. Linux only.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use perfscope_core::figures::{Figure, FigureKind};
use perfscope_monitor::{Monitor, names::*};

/// One monitor at a time in this binary: the drop test counts sampler threads.
static SERIAL: Mutex<()> = Mutex::new(());

fn start(interval_ms: u64) -> Monitor {
    let builder = Monitor::builder().with_interval(Duration::from_millis(interval_ms));
    builder.start().expect("the monitor starts on Linux")
}

fn proc_kb(file: &str, field: &str) -> f64 {
    let text = std::fs::read_to_string(file).expect("a /proc file");
    let line = text.lines().find(|l| l.starts_with(field)).expect("the field");
    let kb = line[field.len()..].split_whitespace().next().and_then(|w| w.parse::<f64>().ok());
    kb.expect("a number of kB") * 1024.0
}

fn load1() -> f64 {
    let text = std::fs::read_to_string("/proc/loadavg").expect("/proc/loadavg");
    text.split_whitespace().next().and_then(|w| w.parse().ok()).expect("a load average")
}

fn lo_rx() -> f64 {
    let text = std::fs::read_to_string("/proc/net/dev").expect("/proc/net/dev");
    let line = text.lines().find(|l| l.trim_start().starts_with("lo:")).expect("lo");
    let rx = line.split_once(':').and_then(|(_, counters)| counters.split_whitespace().next());
    rx.and_then(|w| w.parse().ok()).expect("lo's receive bytes")
}

/// Sends `bytes` through the loopback interface.
fn loopback_traffic(bytes: usize) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the connection");
        std::io::copy(&mut stream, &mut std::io::sink()).expect("the bytes");
    });
    let mut stream = std::net::TcpStream::connect(addr).expect("a connection");
    stream.write_all(&vec![7u8; bytes]).expect("sent");
    drop(stream);
    reader.join().expect("the reader ends");
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

#[test]
fn snapshot_figures_agree_with_proc() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = start(200);
    assert!(monitor.wait_for_samples(2, Duration::from_secs(30)));

    let (load_before, avail_before, rx_before) =
        (load1(), proc_kb("/proc/meminfo", "MemAvailable:"), lo_rx());
    loopback_traffic(256 * 1024);
    // Sample n+1 may have begun before the readings above; sample n+2 began after them.
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 2, Duration::from_secs(30)));
    let snapshot = perfscope_core::snapshot();
    let (load_after, avail_after, rx_after) =
        (load1(), proc_kb("/proc/meminfo", "MemAvailable:"), lo_rx());
    let rss = proc_kb("/proc/self/status", "VmRSS:");
    let f = &snapshot.figures;

    let total = find(f, NODE_MEMORY_MEMTOTAL_BYTES, &[]);
    assert_eq!(total.value, proc_kb("/proc/meminfo", "MemTotal:"));
    assert_eq!((total.section, total.kind), ("host", FigureKind::Gauge));
    let avail = find(f, NODE_MEMORY_MEMAVAILABLE_BYTES, &[]).value;
    assert!(between(avail, avail_before, avail_after, 0.05 * avail_after), "{avail}");
    for name in [NODE_MEMORY_MEMFREE_BYTES, NODE_MEMORY_CACHED_BYTES, NODE_MEMORY_SWAPTOTAL_BYTES] {
        assert!(find(f, name, &[]).value <= total.value, "{name}");
    }
    let load = find(f, NODE_LOAD1, &[]).value;
    assert!(between(load, load_before, load_after, 0.01), "{load} vs {load_before}..{load_after}");
    find(f, NODE_LOAD5, &[]);
    find(f, NODE_LOAD15, &[]);

    let resident = find(f, PROCESS_RESIDENT_MEMORY_BYTES, &[]);
    assert_eq!(resident.section, "process");
    assert!((resident.value - rss).abs() <= 0.1 * rss, "{} vs VmRSS {rss}", resident.value);
    assert!(find(f, PROCESS_VIRTUAL_MEMORY_BYTES, &[]).value >= resident.value);
    assert_eq!(find(f, PROCESS_CPU_SECONDS_TOTAL, &[]).kind, FigureKind::Counter);
    assert!(find(f, PROCESS_OPEN_FDS, &[]).value >= 3.0);
    let threads = f.iter().filter(|f| f.name == "process_threads").count();
    assert_eq!(threads, 1, "process_threads comes from core only");

    let rx = find(f, NODE_NETWORK_RECEIVE_BYTES_TOTAL, &[("device", "lo")]);
    assert_eq!(rx.kind, FigureKind::Counter);
    assert!(rx_before <= rx.value && rx.value <= rx_after, "{rx_before} {} {rx_after}", rx.value);
    assert!(rx_after - rx_before >= 256.0 * 1024.0);
    let history = monitor.history(NODE_NETWORK_RECEIVE_BYTES_TOTAL, &[("device", "lo")]);
    assert!(history.len() >= 4 && history.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
    find(f, NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, &[("device", "lo")]);

    let cpus = std::fs::read_to_string("/proc/stat").unwrap();
    let cores = cpus.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count();
    let usage: Vec<&Figure> = f.iter().filter(|f| f.name == NODE_CPU_USAGE_RATIO).collect();
    assert_eq!(usage.len(), cores + 1, "the total and one per core");
    assert!(usage.iter().all(|u| (0.0..=1.0).contains(&u.value) && u.section == "host"));
    if !host_has_temperatures() {
        assert!(f.iter().all(|f| f.name != NODE_HWMON_TEMP_CELSIUS), "absent, not zero");
    }
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
