//! The main job's alerts: sensible thresholds on what a user of the scanner watches, and
//! `--inject FAULT:DURATION[@START]`, a fault injected for a while so an alert fires and
//! resolves where users look (the terminal, `/metrics`, Prometheus with the generated rules,
//! the dashboard, the report).

use std::time::{Duration, Instant};

use perfscope::monitor::{Above, Below, Severity, Threshold, threshold};
use perfscope_core::names;

/// The traffic figures and the p99 alert follow this function.
pub const PROCESS_SYMBOL: &str = "market_scanner::process_symbol";

/// The thresholds the scanner arms: host CPU, resident memory, `process_symbol`'s p99, the
/// store's pool starving, the indicator cache's hit ratio. `dashboards/perfscope-rules.yml`
/// is generated from the same list (`--prometheus-rules`).
pub fn thresholds() -> Vec<Threshold> {
    vec![
        threshold(names::NODE_CPU_USAGE_RATIO.name, Above(0.95))
            .label("cpu", "")
            .named("host_cpu_saturated")
            .for_duration(Duration::from_secs(60))
            .hysteresis(0.05),
        threshold(names::PROCESS_RESIDENT_MEMORY_BYTES.name, Above(2.0 * 1024.0 * 1024.0 * 1024.0))
            .named("process_memory_high")
            .for_duration(Duration::from_secs(30))
            .hysteresis(128.0 * 1024.0 * 1024.0),
        // A round's symbol tasks run together, so a call lasts about a round: tens of
        // milliseconds in a debug build on a busy host, half a second or more while the
        // store is slow.
        threshold(names::TRAFFIC_LATENCY_P99_SECONDS.name, Above(0.25))
            .label("function", PROCESS_SYMBOL)
            .named("process_symbol_slow")
            .severity(Severity::Critical)
            .for_duration(Duration::from_secs(3))
            .hysteresis(0.05),
        threshold(names::POOL_STARVED.name, Above(0.0))
            .label("pool", "store")
            .named("store_pool_starved")
            .for_duration(Duration::from_secs(2)),
        threshold(names::CACHE_HIT_RATIO.name, Below(0.2))
            .label("cache", "indicators")
            .named("indicator_cache_cold")
            .severity(Severity::Info)
            .for_duration(Duration::from_secs(120))
            .hysteresis(0.05),
    ]
}

/// The faults `--inject` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Every symbol task reads its last quote from the store, and the store's statements are
    /// slow: its one connection is held, the pool starves, `process_symbol`'s p99 climbs.
    SlowStore,
}

/// A fault and when it is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// Which fault.
    pub kind: FaultKind,
    /// How long it lasts.
    pub duration: Duration,
    /// How long after the start of the scan it begins.
    pub start: Duration,
}

impl std::str::FromStr for Fault {
    type Err = String;

    /// `slow-store:20s` or `slow-store:20s@5s`.
    fn from_str(text: &str) -> Result<Fault, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!("{text:?}: expected FAULT:DURATION[@START], e.g. slow-store:20s")
        })?;
        let kind = match kind {
            "slow-store" => FaultKind::SlowStore,
            other => return Err(format!("unknown fault {other:?} (known: slow-store)")),
        };
        let (duration, start) = match rest.split_once('@') {
            Some((duration, start)) => (duration, super::parse_duration(start)?),
            None => (rest, Duration::ZERO),
        };
        let duration = super::parse_duration(duration)?;
        if duration.is_zero() {
            return Err("a fault's duration must be more than 0".into());
        }
        Ok(Fault { kind, duration, start })
    }
}

/// The injected faults of a run, timed from its start.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    faults: Vec<Fault>,
    started: Option<Instant>,
}

impl Faults {
    /// `faults`, timed from now.
    pub fn new(faults: Vec<Fault>) -> Faults {
        Faults { faults, started: Some(Instant::now()) }
    }

    /// Whether `kind` is on now.
    pub fn on(&self, kind: FaultKind) -> bool {
        let Some(started) = self.started else { return false };
        let elapsed = started.elapsed();
        self.faults
            .iter()
            .any(|f| f.kind == kind && elapsed >= f.start && elapsed < f.start + f.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_refuse_nonsense() {
        let fault: Fault = "slow-store:20s@5s".parse().unwrap();
        assert_eq!(fault.kind, FaultKind::SlowStore);
        assert_eq!(
            (fault.duration, fault.start),
            (Duration::from_secs(20), Duration::from_secs(5))
        );
        assert!("slow-store".parse::<Fault>().is_err());
        assert!("fast-store:1s".parse::<Fault>().is_err());
        assert!("slow-store:0s".parse::<Fault>().is_err());
        assert!("slow-store:xs".parse::<Fault>().is_err());
    }
}
