//! The monitor's cost.
//!
//! 1. Criterion, `sample` group: one sample (sysinfo refresh + `/proc` reads + figures +
//!    history + anomaly detectors + thresholds) beside the bare sysinfo refresh of the same
//!    things, the baseline, in the same run. `snapshot` group: what a monitor adds to each
//!    `perfscope_core::snapshot()` (the exporters' side), beside a snapshot without it.
//! 2. With `PERFSCOPE_MONITOR_CPU_SECS=60`: the sampler threads' CPU time over that long at
//!    1 Hz and 5 Hz (real monitors, host and process only; 5 Hz is the fastest the monitor
//!    allows), at 10 Hz (the same work on a bench thread), and at 1 Hz with everything on (a
//!    tokio runtime, traffic of one function, per-function analysis of a workload of measured
//!    functions running meanwhile, thresholds on its own figures and on another source's —
//!    40 pool, cache and query series whose history and anomaly detectors it keeps too), as a
//!    percentage of one core.
//!
//! `PERFSCOPE_MONITOR_CPU_SECS=60 cargo bench -p perfscope-monitor --bench sampling`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use perfscope_core::names as catalog;
use perfscope_monitor::{Above, BenchSampler, Monitor, names, threshold};

fn thresholds() -> Vec<perfscope_monitor::Threshold> {
    vec![
        threshold(names::PROCESS_RESIDENT_MEMORY_BYTES, Above(1e12)).hysteresis(1e9),
        threshold(names::NODE_CPU_USAGE_RATIO, Above(0.99)).for_duration(Duration::from_secs(60)),
    ]
}

fn sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("sample");
    group.sample_size(60).measurement_time(Duration::from_secs(8));
    let mut bare = BenchSampler::new(600, Vec::new()).expect("sysinfo works here");
    let mut full = BenchSampler::new(600, thresholds()).expect("sysinfo works here");
    // Interleaved: baseline, monitor, baseline, monitor.
    for round in 1..=2 {
        group.bench_function(format!("sysinfo refresh only (baseline) #{round}"), |b| {
            b.iter(|| bare.refresh_only())
        });
        group.bench_function(format!("monitor sample #{round}"), |b| b.iter(|| full.tick()));
    }
    group.finish();

    let mut group = c.benchmark_group("snapshot");
    group.bench_function("snapshot without monitor", |b| {
        b.iter(|| black_box(perfscope_core::snapshot()))
    });
    let monitor = Monitor::builder().start().expect("sysinfo works here");
    assert!(monitor.wait_for_samples(1, Duration::from_secs(30)));
    group.bench_function("snapshot with monitor", |b| {
        b.iter(|| black_box(perfscope_core::snapshot()))
    });
    group.finish();
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`, nanoseconds).
fn own_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn percent(cpu: Duration, wall: Duration) -> f64 {
    100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
}

fn thread_cpu(seconds: u64) {
    let wall = Duration::from_secs(seconds);
    let hz1 = Monitor::builder().with_function_analysis(false).start().expect("sysinfo works");
    let hz5 = Monitor::builder().with_interval(Duration::from_millis(200));
    let hz5 = hz5.with_function_analysis(false).start();
    let hz5 = hz5.expect("sysinfo works here");
    let hz10 = std::thread::spawn(move || {
        let mut sampler = BenchSampler::new(600, thresholds()).expect("sysinfo works here");
        let (start, cpu_start) = (Instant::now(), own_cpu_time());
        let mut next = start;
        while start.elapsed() < wall {
            next += Duration::from_millis(100);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            sampler.tick();
        }
        Some((own_cpu_time()? - cpu_start?, start.elapsed()))
    });
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let runtime = runtime.expect("a runtime");
    let database = std::sync::Arc::new(Database);
    let _registered = perfscope_core::figures::register(database);
    let traffic = concat!(module_path!(), "::handle");
    let full = Monitor::builder()
        .with_runtime(runtime.handle().clone())
        .with_traffic(traffic)
        .with_threshold(
            threshold(names::TRAFFIC_LATENCY_P99_SECONDS, Above(0.5)).label("function", traffic),
        )
        .with_threshold(threshold(catalog::POOL_STARVED.name, Above(0.0)).label("pool", "p3"))
        .with_threshold(threshold(catalog::CACHE_HIT_RATIO.name, perfscope_monitor::Below(0.01)));
    let full = thresholds()
        .into_iter()
        .fold(full, |full, t| full.with_threshold(t))
        .start()
        .expect("sysinfo works here");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workload = runtime.spawn(workload(stop.clone()));
    let start = Instant::now();
    let (cpu1, cpu5, cpu_full) = (hz1.cpu_time(), hz5.cpu_time(), full.cpu_time());
    std::thread::sleep(wall);
    let elapsed = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = runtime.block_on(workload);
    let functions = perfscope_core::snapshot().callsites.len();
    println!("(the full monitor followed {functions} measured functions)");
    for (label, monitor, before) in
        [("1 Hz", &hz1, cpu1), ("5 Hz", &hz5, cpu5), ("1 Hz, everything on", &full, cpu_full)]
    {
        if let (Some(after), Some(before)) = (monitor.cpu_time(), before) {
            let cpu = after - before;
            let per = cpu / u32::try_from(monitor.samples()).unwrap_or(u32::MAX).max(1);
            println!(
                "sampler thread at {label}: {:.4}% of one core ({cpu:?} CPU over {elapsed:?}, {} samples, {per:?} per sample)",
                percent(cpu, elapsed),
                monitor.samples()
            );
        }
    }
    if let Ok(Some((cpu, elapsed))) = hz10.join() {
        println!(
            "bench thread at 10 Hz: {:.4}% of one core ({cpu:?} CPU over {elapsed:?})",
            percent(cpu, elapsed)
        );
    }
}

#[perfscope::measure]
fn parse(n: u64) -> u64 {
    (0..n).fold(0, |a, b| a ^ b.wrapping_mul(0x9e37_79b9))
}

#[perfscope::measure]
fn encode(n: u64) -> Vec<u8> {
    (0..n).map(|b| b as u8).collect()
}

#[perfscope::measure]
async fn handle(n: u64) -> usize {
    tokio::task::yield_now().await;
    encode(n).len() + parse(n) as usize % 2
}

/// About a thousand requests a second on the runtime until `stop`.
async fn workload(stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for _ in 0..10 {
            black_box(handle(black_box(2_000)).await);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Another source's figures, as pools, caches and a query collector give them: 40 series.
#[derive(Debug)]
struct Database;

impl perfscope_core::figures::FigureSource for Database {
    fn read(&self, out: &mut Vec<perfscope_core::figures::Figure>) {
        use perfscope_core::figures::Figure;
        for i in 0..10 {
            let n = format!("p{i}");
            out.push(Figure::of(&catalog::POOL_STARVED, 0.0).with_label("pool", n.clone()));
            out.push(
                Figure::of(&catalog::POOL_PENDING_REQUESTS, 1.0).with_label("pool", n.clone()),
            );
            out.push(Figure::of(&catalog::CACHE_HIT_RATIO, 0.9).with_label("cache", n.clone()));
            let p99 = Figure::of(&catalog::QUERY_DURATION_P99_SECONDS, 0.002);
            out.push(p99.with_label("fingerprint", n));
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    sample(&mut c);
    c.final_summary();
    let seconds = std::env::var("PERFSCOPE_MONITOR_CPU_SECS").ok().and_then(|s| s.parse().ok());
    if let Some(seconds) = seconds.filter(|s| *s > 0) {
        thread_cpu(seconds);
    }
}
