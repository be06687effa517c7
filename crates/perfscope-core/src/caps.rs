//! Warnings that a cardinality cap was reached. Wherever a user string becomes a name or a
//! label (function and span names, query fingerprints, cache and pool names, an exporter's
//! function series), perfscope keeps at most a fixed number and counts the rest under one
//! overflow name. The first time a cap is reached, its [`CapWarning`] publishes one
//! [`Event`] (kind [`EventKind::AlertFired`], subject the cap's name, value the cap) that every
//! snapshot carries from then on (`Snapshot.events`): what was capped, at how many, where the
//! rest goes and how to raise the cap. Once per cap per process: the names a cap counted are
//! not forgotten by [`reset`](crate::reset), so neither is the warning.
//!
//! ```
//! use perfscope_core::caps::CapWarning;
//!
//! static WIDGETS: CapWarning = CapWarning::new("widget", "my_crate::MAX_WIDGETS");
//! // Where the 101st widget name would be registered:
//! WIDGETS.reached(100, || "widget names past 100 count under `<other>`".into());
//! WIDGETS.reached(100, || unreachable!("once per process"));
//! let snap = perfscope_core::snapshot();
//! let warning = snap.events.iter().find(|e| e.subject == "my_crate::MAX_WIDGETS").unwrap();
//! assert_eq!(warning.value, Some(100.0));
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::history::{Event, EventKind};

/// One cap's warning, published at most once; keep it in a `static` beside the cap.
#[derive(Debug)]
pub struct CapWarning {
    section: &'static str,
    cap: &'static str,
    published: AtomicBool,
}

/// Published warnings: at most one per `CapWarning` static, so bounded by the program's code.
static WARNINGS: Mutex<Vec<Event>> = Mutex::new(Vec::new());

impl CapWarning {
    /// The warning of the cap named `cap` (e.g. `perfscope_instrument::MAX_NAMES`), about
    /// `section` (`function`, `span`, `query`, `cache`, `pool`, `export`).
    pub const fn new(section: &'static str, cap: &'static str) -> CapWarning {
        CapWarning { section, cap, published: AtomicBool::new(false) }
    }

    /// The cap (`limit`) was reached: the first call publishes the event with `message` (what
    /// was capped, where the rest goes, how to raise the cap); later calls cost one relaxed
    /// load and publish nothing.
    pub fn reached(&self, limit: usize, message: impl FnOnce() -> String) {
        if self.published.load(Ordering::Relaxed) || self.published.swap(true, Ordering::Relaxed) {
            return;
        }
        let _own = crate::alloc::suspend();
        let event = Event {
            section: self.section,
            kind: EventKind::AlertFired,
            at_unix_ms: crate::time::unix_ms_now(),
            subject: self.cap.to_string(),
            labels: Vec::new(),
            message: message(),
            value: Some(limit as f64),
        };
        crate::sync::lock(&WARNINGS).push(event);
    }

    /// Whether the warning was published.
    pub fn is_published(&self) -> bool {
        self.published.load(Ordering::Relaxed)
    }
}

/// Appends every published warning (read by every snapshot).
pub(crate) fn events(out: &mut Vec<Event>) {
    out.extend(crate::sync::lock(&WARNINGS).iter().cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_warns_once_and_every_snapshot_carries_it() {
        static CAP: CapWarning = CapWarning::new("test", "caps::tests::CAP");
        let mut messages = 0;
        for _ in 0..3 {
            CAP.reached(7, || {
                messages += 1;
                "seven at most".into()
            });
        }
        assert_eq!(messages, 1);
        for _ in 0..2 {
            let mut out = Vec::new();
            events(&mut out);
            let ours: Vec<_> = out.iter().filter(|e| e.subject == "caps::tests::CAP").collect();
            assert_eq!(ours.len(), 1);
            assert_eq!((ours[0].section, ours[0].value), ("test", Some(7.0)));
            assert_eq!(ours[0].message, "seven at most");
        }
    }
}
