//! A tokio runtime's figures, from `Handle::metrics()` on stable tokio (1.45 and later):
//! workers, alive tasks, global queue depth, and per worker the busy ratio (the growth of
//! `worker_total_busy_duration` over the interval) and the park count.

use std::time::{Duration, Instant};

use perfscope_core::figures::Figure;
use perfscope_core::names::*;
use tokio::runtime::Handle;

/// The runtime watched and its workers' busy time at the previous sample.
pub(crate) struct Runtime {
    handle: Handle,
    busy: Vec<Duration>,
    at: Instant,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("workers", &self.busy.len()).finish_non_exhaustive()
    }
}

fn gauge(name: &Name, value: f64) -> Figure {
    Figure::of(name, value)
}

impl Runtime {
    pub(crate) fn new(handle: Handle) -> Runtime {
        let busy = busy_durations(&handle);
        Runtime { handle, busy, at: Instant::now() }
    }

    /// Appends the runtime's figures; returns the mean busy ratio of its workers over the
    /// interval (`None` on the first sample or where tokio cannot measure it).
    pub(crate) fn sample(&mut self, out: &mut Vec<Figure>) -> Option<f64> {
        let metrics = self.handle.metrics();
        let workers = metrics.num_workers();
        out.push(gauge(&TOKIO_WORKERS, workers as f64));
        out.push(gauge(&TOKIO_ALIVE_TASKS, metrics.num_alive_tasks() as f64));
        let depth = metrics.global_queue_depth() as f64;
        out.push(gauge(&TOKIO_GLOBAL_QUEUE_DEPTH, depth));
        let now = Instant::now();
        let seconds = now.duration_since(self.at).as_secs_f64();
        let busy = busy_durations(&self.handle);
        let mut ratios = Vec::with_capacity(workers);
        if seconds > 0.0 && busy.len() == self.busy.len() {
            for (worker, (now_busy, before)) in busy.iter().zip(&self.busy).enumerate() {
                let grown = now_busy.saturating_sub(*before).as_secs_f64();
                let ratio = (grown / seconds).clamp(0.0, 1.0);
                ratios.push(ratio);
                let figure = gauge(&TOKIO_WORKER_BUSY_RATIO, ratio);
                out.push(figure.with_label("worker", worker.to_string()));
            }
        }
        (self.busy, self.at) = (busy, now);
        parks(&self.handle, out);
        let mean = (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
        if let Some(mean) = mean {
            out.push(gauge(&TOKIO_WORKER_BUSY_RATIO, mean));
        }
        mean
    }
}

#[cfg(target_has_atomic = "64")]
fn busy_durations(handle: &Handle) -> Vec<Duration> {
    let metrics = handle.metrics();
    (0..metrics.num_workers()).map(|w| metrics.worker_total_busy_duration(w)).collect()
}

#[cfg(not(target_has_atomic = "64"))]
fn busy_durations(_handle: &Handle) -> Vec<Duration> {
    Vec::new()
}

#[cfg(target_has_atomic = "64")]
fn parks(handle: &Handle, out: &mut Vec<Figure>) {
    let metrics = handle.metrics();
    for worker in 0..metrics.num_workers() {
        let parks = metrics.worker_park_count(worker) as f64;
        let figure = Figure::of(&TOKIO_WORKER_PARK_TOTAL, parks);
        out.push(figure.with_label("worker", worker.to_string()));
    }
}

#[cfg(not(target_has_atomic = "64"))]
fn parks(_handle: &Handle, _out: &mut Vec<Figure>) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(figures: &[Figure], name: Name, worker: Option<&str>) -> Option<f64> {
        let labelled = |f: &Figure| f.labels.first().map(|(_, v)| v.as_str()) == worker;
        figures.iter().find(|f| f.name == name.name && labelled(f)).map(|f| f.value)
    }

    #[test]
    fn a_spinning_task_makes_its_worker_busy_and_tasks_are_counted() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime");
        let mut watched = Runtime::new(runtime.handle().clone());
        let since = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let spinner = runtime.spawn(async move {
            // Busy on a worker for 300 ms without yielding.
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(300) {
                std::hint::spin_loop();
            }
            let _ = tx.send(());
        });
        let idle = runtime.spawn(std::future::pending::<()>());
        rx.recv_timeout(Duration::from_secs(30)).expect("the spinner ends");
        // Workers hand in their busy time when they park: wait for it.
        let handle = runtime.handle().clone();
        let total = || busy_durations(&handle).iter().sum::<Duration>();
        let deadline = Instant::now() + Duration::from_secs(10);
        while total() < Duration::from_millis(290) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut out = Vec::new();
        let mean = watched.sample(&mut out).expect("two readings");
        let seconds = since.elapsed().as_secs_f64();
        assert_eq!(value(&out, TOKIO_WORKERS, None), Some(2.0));
        assert!(value(&out, TOKIO_ALIVE_TASKS, None).is_some_and(|n| n >= 1.0), "{out:?}");
        assert!(value(&out, TOKIO_GLOBAL_QUEUE_DEPTH, None).is_some());
        let busy: f64 =
            ["0", "1"].iter().filter_map(|w| value(&out, TOKIO_WORKER_BUSY_RATIO, Some(w))).sum();
        // 300 ms of spinning (a bit more, with the runtime's own work) over the interval.
        assert!(
            busy * seconds > 0.28 && busy * seconds < 0.5 + seconds * 0.1,
            "{seconds} s: {out:?}"
        );
        assert!((mean - busy / 2.0).abs() < 1e-9, "mean {mean}");
        assert!(value(&out, TOKIO_WORKER_PARK_TOTAL, Some("0")).is_some());
        idle.abort();
        drop(spinner);
    }
}
