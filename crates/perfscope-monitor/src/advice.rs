//! Recommendations joining the monitor's figures and the functions' hotspots. Each rule is a
//! small pure function of its evidence and names it in its message; [`RateLimit`] lets one
//! recommendation per kind per subject through per minute.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The heap (or RSS) must grow faster than this, in bytes per second, for the recommendation to reuse buffers.
pub const HEAP_SLOPE: f64 = 64.0 * 1024.0;
/// Tokio workers busier than this are saturated (the `spawn_blocking` recommendation).
pub const SATURATED: f64 = 0.9;
/// A poll longer than this on average blocks its worker (the `spawn_blocking` recommendation), in
/// seconds.
pub const LONG_POLL: f64 = 0.001;
/// Host CPU usage under this is mostly idle (the I/O-bound recommendation).
pub const IDLE_CPU: f64 = 0.2;
/// An async function idle (awaiting) for more than this fraction of its calls' wall time is
/// waiting on I/O (the I/O-bound recommendation).
pub const IDLE_SHARE: f64 = 0.9;
/// One recommendation per kind per subject per this long.
pub const EVERY: Duration = Duration::from_secs(60);

/// A recommendation: its kind (the rate limit's key with the subject), the function it is
/// about, a message naming its evidence, and the main figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Advice {
    pub(crate) kind: &'static str,
    pub(crate) subject: String,
    pub(crate) message: String,
    pub(crate) value: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

/// The heap grows (`slope`, bytes per second, of a rising trend) and `top` allocates the most
/// bytes per second: reuse its buffers.
pub(crate) fn reuse_buffers(slope: Option<f64>, top: Option<(&str, f64)>) -> Option<Advice> {
    let slope = slope.filter(|s| *s > HEAP_SLOPE)?;
    let (function, rate) = top.filter(|(_, rate)| *rate > 0.0)?;
    Some(Advice {
        kind: "reuse_buffers",
        subject: function.to_string(),
        message: format!(
            "reuse buffers in {function} ({:.1} MiB/s allocated, the most of any function): \
             the heap grows by {:.1} MiB/s",
            rate / MIB,
            slope / MIB
        ),
        value: rate,
    })
}

/// Tokio's workers are saturated (`busy`, mean ratio) and `longest` (an async function and its
/// busy time per poll, seconds) holds a worker long at each poll: move it off the runtime.
pub(crate) fn spawn_blocking(busy: Option<f64>, longest: Option<(&str, f64)>) -> Option<Advice> {
    let busy = busy.filter(|b| *b > SATURATED)?;
    let (function, per_poll) = longest.filter(|(_, p)| *p >= LONG_POLL)?;
    Some(Advice {
        kind: "spawn_blocking",
        subject: function.to_string(),
        message: format!(
            "move {function} to spawn_blocking: its polls take {:.1} ms on average while the \
             tokio workers are {:.0}% busy",
            per_poll * 1e3,
            busy * 100.0
        ),
        value: per_poll,
    })
}

/// The host's CPUs are mostly idle (`cpu`, usage ratio) while `idlest` (an async function and
/// the share of its calls' wall time spent awaiting) mostly waits: the time is in its awaits.
pub(crate) fn io_bound(cpu: Option<f64>, idlest: Option<(&str, f64)>) -> Option<Advice> {
    let cpu = cpu.filter(|c| *c < IDLE_CPU)?;
    let (function, idle) = idlest.filter(|(_, idle)| *idle > IDLE_SHARE)?;
    Some(Advice {
        kind: "io_bound",
        subject: function.to_string(),
        message: format!(
            "I/O-bound: look at {function}'s awaits ({:.0}% of its wall time awaiting, CPU {:.0}% busy)",
            idle * 100.0,
            cpu * 100.0
        ),
        value: idle,
    })
}

/// When each (kind, subject) was last let through.
#[derive(Debug, Default)]
pub(crate) struct RateLimit {
    last: HashMap<(&'static str, String), Instant>,
}

impl RateLimit {
    /// Whether `advice` may be given at `now` (and, if so, records it).
    pub(crate) fn allow(&mut self, advice: &Advice, now: Instant) -> bool {
        let key = (advice.kind, advice.subject.clone());
        if self.last.get(&key).is_some_and(|t| now.saturating_duration_since(*t) < EVERY) {
            return false;
        }
        if self.last.len() >= 1024 {
            self.forget_expired(now);
        }
        self.last.insert(key, now);
        true
    }

    /// Forgets the subjects whose last recommendation is [`EVERY`] old: `allow` lets them
    /// through anyway.
    fn forget_expired(&mut self, now: Instant) {
        self.last.retain(|_, t| now.saturating_duration_since(*t) < EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_heap_names_the_top_allocator() {
        let advice = reuse_buffers(Some(2.0 * MIB), Some(("app::parse", 48.0 * MIB))).unwrap();
        assert_eq!(advice.subject, "app::parse");
        assert!(advice.message.contains("reuse buffers in app::parse (48.0 MiB/s"), "{advice:?}");
        assert!(advice.message.contains("grows by 2.0 MiB/s"), "{advice:?}");
        assert_eq!(reuse_buffers(Some(1.0), Some(("app::parse", 48.0 * MIB))), None);
        assert_eq!(reuse_buffers(None, Some(("app::parse", 48.0 * MIB))), None);
        assert_eq!(reuse_buffers(Some(2.0 * MIB), None), None);
    }

    #[test]
    fn saturated_workers_and_long_polls_say_spawn_blocking() {
        let advice = spawn_blocking(Some(0.97), Some(("app::hash", 0.012))).unwrap();
        assert!(advice.message.contains("move app::hash to spawn_blocking"), "{advice:?}");
        assert!(advice.message.contains("12.0 ms") && advice.message.contains("97%"));
        assert_eq!(spawn_blocking(Some(0.5), Some(("app::hash", 0.012))), None);
        assert_eq!(spawn_blocking(Some(0.97), Some(("app::hash", 0.0001))), None);
        assert_eq!(spawn_blocking(None, Some(("app::hash", 0.012))), None);
    }

    #[test]
    fn idle_cpu_and_awaiting_functions_say_io_bound() {
        let advice = io_bound(Some(0.05), Some(("app::fetch", 0.98))).unwrap();
        assert!(advice.message.contains("look at app::fetch's awaits (98%"), "{advice:?}");
        assert_eq!(io_bound(Some(0.6), Some(("app::fetch", 0.98))), None);
        assert_eq!(io_bound(Some(0.05), Some(("app::fetch", 0.5))), None);
    }

    #[test]
    fn each_rule_starts_strictly_past_its_documented_limit() {
        assert_eq!(
            (HEAP_SLOPE, SATURATED, LONG_POLL, IDLE_CPU, IDLE_SHARE),
            (65536.0, 0.9, 0.001, 0.2, 0.9)
        );
        let top = Some(("app::parse", 1.0));
        assert_eq!(reuse_buffers(Some(65536.0), top), None);
        assert!(reuse_buffers(Some(65537.0), top).is_some());
        assert_eq!(reuse_buffers(Some(65537.0), Some(("app::parse", 0.0))), None);
        let hash = Some(("app::hash", 0.001));
        assert_eq!(spawn_blocking(Some(0.9), hash), None);
        assert!(spawn_blocking(Some(0.91), hash).is_some(), "a poll of exactly LONG_POLL counts");
        let fetch = Some(("app::fetch", 0.95));
        assert_eq!(io_bound(Some(0.2), fetch), None);
        assert!(io_bound(Some(0.19), fetch).is_some());
        assert_eq!(io_bound(Some(0.1), Some(("app::fetch", 0.9))), None);
    }

    #[test]
    fn messages_give_mebibytes_per_second() {
        // 48 MiB/s allocated, 2 MiB/s of heap growth, in bytes.
        let advice = reuse_buffers(Some(2_097_152.0), Some(("app::parse", 50_331_648.0))).unwrap();
        assert_eq!(
            advice.message,
            "reuse buffers in app::parse (48.0 MiB/s allocated, the most of any function): \
             the heap grows by 2.0 MiB/s"
        );
        assert_eq!((advice.kind, advice.value), ("reuse_buffers", 50_331_648.0));
    }

    #[test]
    fn the_minute_is_up_at_exactly_sixty_seconds_and_the_memory_is_pruned_safely() {
        assert_eq!(EVERY, Duration::from_secs(60));
        let mut limit = RateLimit::default();
        let a = io_bound(Some(0.05), Some(("app::fetch", 0.98))).unwrap();
        let t0 = Instant::now();
        assert!(limit.allow(&a, t0));
        assert!(!limit.allow(&a, t0 + Duration::from_millis(59_999)));
        assert!(limit.allow(&a, t0 + EVERY));
        // Past 1024 remembered subjects, the recent ones are still remembered.
        let mut limit = RateLimit::default();
        for i in 0..1024 {
            let other = io_bound(Some(0.05), Some((&format!("app::f{i}"), 0.98))).unwrap();
            assert!(limit.allow(&other, t0));
        }
        assert!(limit.allow(&a, t0 + Duration::from_secs(1)));
        let first = io_bound(Some(0.05), Some(("app::f0", 0.98))).unwrap();
        assert!(!limit.allow(&first, t0 + Duration::from_secs(2)));
        assert!(limit.allow(&first, t0 + Duration::from_secs(61)));
    }

    #[test]
    fn one_per_kind_and_subject_per_minute() {
        let mut limit = RateLimit::default();
        let a = io_bound(Some(0.05), Some(("app::fetch", 0.98))).unwrap();
        let b = io_bound(Some(0.05), Some(("app::other", 0.98))).unwrap();
        let t0 = Instant::now();
        assert!(limit.allow(&a, t0));
        assert!(!limit.allow(&a, t0 + Duration::from_secs(59)));
        assert!(limit.allow(&b, t0 + Duration::from_secs(1)));
        assert!(limit.allow(&a, t0 + Duration::from_secs(61)));
    }
}
