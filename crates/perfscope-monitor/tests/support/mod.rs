//! What the monitor's tests read and do themselves, to know the figures' values independently
//! of the monitor: `/proc` files, a thread pinned to one core, CPU time, loopback traffic.
//! Linux only. Each test binary uses part of it.
#![allow(dead_code)]

use std::io::Write;
use std::time::{Duration, Instant};

/// One line of `/proc/stat`: `cpu` (the whole host) or `cpuN`, in clock ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuTimes {
    /// `cpu` or `cpuN`.
    pub name: String,
    /// Every field but idle and iowait.
    pub busy: u64,
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest is in user).
    pub total: u64,
}

/// `/proc/stat`'s `cpu` lines, the whole host first, then each core in file order.
pub fn proc_stat() -> Vec<CpuTimes> {
    let text = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    text.lines()
        .filter(|l| l.starts_with("cpu"))
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().expect("a cpu name").to_owned();
            let ticks: Vec<u64> =
                words.take(8).map(|w| w.parse().expect("a number of ticks")).collect();
            let total: u64 = ticks.iter().sum();
            CpuTimes { name, busy: total - ticks[3] - ticks[4], total }
        })
        .collect()
}

/// The busy share of each `/proc/stat` line between two readings (whole host first).
pub fn busy_shares(before: &[CpuTimes], after: &[CpuTimes]) -> Vec<f64> {
    assert_eq!(before.len(), after.len(), "the same CPUs");
    before
        .iter()
        .zip(after)
        .map(|(a, b)| (b.busy - a.busy) as f64 / (b.total - a.total).max(1) as f64)
        .collect()
}

/// Pins the calling thread to CPU `cpu`; `false` where it may not run there.
pub fn pin_to(cpu: usize) -> bool {
    // SAFETY: `set` is a valid cpu_set_t for the calls' lifetime; pid 0 is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a valid cpu_set_t for the calls' lifetime; pid 0 is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set), 0);
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
    }
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec.
    assert_eq!(unsafe { libc::clock_gettime(id, &mut ts) }, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Spins the calling thread until it has used `cpu` more CPU time.
pub fn burn(cpu: Duration) {
    let start = thread_cpu_time();
    while thread_cpu_time() - start < cpu {
        for _ in 0..1000 {
            std::hint::spin_loop();
        }
    }
}

/// This process's CPU time, user + system, from `/proc/self/stat` (seconds; whole clock ticks).
pub fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after_name = &stat[stat.rfind(')').expect("the command's end") + 1..];
    // Fields 14 and 15 (utime, stime); the state is field 3, the first after the name.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next().and_then(|w| w.parse().ok()).expect("utime");
    let stime: u64 = fields.next().and_then(|w| w.parse().ok()).expect("stime");
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (utime + stime) as f64 / ticks as f64
}

/// A `kB` field of a `/proc` file, in bytes.
pub fn proc_kb(file: &str, field: &str) -> f64 {
    let text = std::fs::read_to_string(file).expect("a /proc file");
    let line = text.lines().find(|l| l.starts_with(field)).expect("the field");
    let kb = line[field.len()..].split_whitespace().next().and_then(|w| w.parse::<f64>().ok());
    kb.expect("a number of kB") * 1024.0
}

/// This process's resident memory (`VmRSS`), bytes.
pub fn rss() -> f64 {
    proc_kb("/proc/self/status", "VmRSS:")
}

/// Bytes received and sent by `device` so far, from `/proc/net/dev`.
pub fn net_dev(device: &str) -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/net/dev").expect("/proc/net/dev");
    let line = text
        .lines()
        .find(|l| l.split_once(':').is_some_and(|(name, _)| name.trim() == device))
        .expect("the device");
    let counters: Vec<f64> = line
        .split_once(':')
        .map(|(_, c)| c.split_whitespace().map(|w| w.parse().expect("a counter")).collect())
        .expect("counters");
    (counters[0], counters[8])
}

/// Sends `bytes` over a TCP connection on 127.0.0.1 and waits until they are all read;
/// returns how long that took.
pub fn loopback_traffic(bytes: usize) -> Duration {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let start = Instant::now();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the connection");
        std::io::copy(&mut stream, &mut std::io::sink()).expect("the bytes")
    });
    let mut stream = std::net::TcpStream::connect(addr).expect("a connection");
    stream.write_all(&vec![7u8; bytes]).expect("sent");
    drop(stream);
    let read = reader.join().expect("the reader ends");
    assert_eq!(read, bytes as u64);
    start.elapsed()
}

/// The samples of a series taken after the point at `after` (seconds since the epoch) up to
/// and including the one at `until`: `(seconds since the previous point, value)`.
pub fn intervals(points: &[(f64, f64)], after: f64, until: f64) -> Vec<(f64, f64)> {
    let start = points.iter().position(|p| p.0 == after).expect("the first point is kept");
    let end = points.iter().position(|p| p.0 == until).expect("the last point is kept");
    points[start..=end].windows(2).map(|w| (w[1].0 - w[0].0, w[1].1)).collect()
}
