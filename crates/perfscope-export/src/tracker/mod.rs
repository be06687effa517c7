//! Turns successive readings of perfscope's cumulative figures into increments that only go
//! up, one series per function (at most `max_series`; the rest share the `<other>` series).
//!
//! perfscope keeps its own store and `perfscope::reset()` zeroes it, while an exported counter
//! must never decrease. The tracker remembers the last reading of every series and hands each
//! sink what is new since then. When the snapshot's reset count moved (or a latency bucket
//! shrank, which only a reset does), everything read now is new.

use std::collections::HashMap;
use std::fmt::Write as _;

use perfscope_core::caps::CapWarning;
use perfscope_core::histogram::Histogram;

use crate::families::OTHER;

mod buckets;

#[cfg(test)]
use buckets::merge;
use buckets::{Bucket, buckets_of, latency_diff};

/// Cumulative counters of one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub calls: u64,
    pub panics: u64,
    pub self_ns: u64,
    pub busy_ns: u64,
    pub alloc_bytes: u64,
    pub allocations: u64,
    /// Sum of call latencies (the latency histogram's sum).
    pub total_ns: u64,
}

impl Counters {
    fn fields(&self) -> [u64; 7] {
        [
            self.calls,
            self.panics,
            self.self_ns,
            self.busy_ns,
            self.alloc_bytes,
            self.allocations,
            self.total_ns,
        ]
    }

    fn from_fields(f: [u64; 7]) -> Self {
        Counters {
            calls: f[0],
            panics: f[1],
            self_ns: f[2],
            busy_ns: f[3],
            alloc_bytes: f[4],
            allocations: f[5],
            total_ns: f[6],
        }
    }

    fn zip(&self, other: &Counters, op: impl Fn(u64, u64) -> u64) -> Counters {
        let (a, b) = (self.fields(), other.fields());
        Counters::from_fields(std::array::from_fn(|i| op(a[i], b[i])))
    }

    /// Whether any field is below `earlier`'s (exported totals never are).
    #[cfg(test)]
    fn went_down_from(&self, earlier: &Counters) -> bool {
        self.fields().iter().zip(earlier.fields()).any(|(now, then)| *now < then)
    }
}

/// One function's figures in a reading: cumulative since start or the last reset.
#[derive(Debug, Clone)]
pub(crate) struct Reading<'a> {
    /// The callsite's id, when the reading is one callsite's: its series is then found by id
    /// after the first time (no key built, no hashing).
    pub id: Option<u32>,
    pub function: &'a str,
    pub module: &'a str,
    pub counters: Counters,
    /// Latency in clock ticks; only read when the counters changed.
    pub latency: &'a Histogram,
}

/// Label values of one exported series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Labels {
    pub function: String,
    pub module: String,
}

/// What a sink receives for one series in one update.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    /// Dense series index, stable for the tracker's lifetime.
    pub index: usize,
    pub labels: &'a Labels,
    /// Exported totals before and after this update (`after - before` is the increment).
    pub before: Counters,
    pub after: Counters,
    /// New latency samples as `(value in ticks, count)`.
    pub latency: &'a [(u64, u64)],
    /// Converts the latency values to seconds.
    pub seconds_per_tick: f64,
}

/// Where increments go: a `metrics` recorder, or OpenTelemetry instruments.
pub(crate) trait Sink {
    /// Called once per series per update that changed it, and once when a series first
    /// appears (possibly with nothing new, so that every family shows it).
    fn apply(&mut self, change: &Change<'_>);
}

#[derive(Debug)]
struct Series {
    labels: Labels,
    /// The last reading (summed over the functions mapped here).
    last: Counters,
    last_latency: Vec<Bucket>,
    /// What was handed to sinks so far: only ever grows.
    exported: Counters,
    announced: bool,
}

/// Series bookkeeping; see the module documentation.
#[derive(Debug)]
pub(crate) struct Tracker {
    max_series: usize,
    /// `<module length>:<module><function>` → series index (functions past the cap map to the
    /// `<other>` one).
    index: HashMap<String, usize>,
    series: Vec<Series>,
    other: Option<usize>,
    own_series: usize,
    /// `perfscope::reset()` calls seen in the previous reading.
    last_resets: u64,
    key: String,
    /// Series index by callsite id ([`NO_SERIES`]: not seen yet).
    by_id: Vec<usize>,
}

/// [`Tracker::by_id`]'s "not seen yet".
const NO_SERIES: usize = usize::MAX;

impl Tracker {
    pub fn new(max_series: usize) -> Self {
        Tracker {
            max_series,
            index: HashMap::new(),
            series: Vec::new(),
            other: None,
            own_series: 0,
            last_resets: 0,
            key: String::new(),
            by_id: Vec::new(),
        }
    }

    /// Number of series so far, `<other>` included.
    #[cfg(test)]
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// The series of a reading: by callsite id once known (a callsite's name and module never
    /// change), else by name.
    fn series_of_reading(&mut self, reading: &Reading<'_>) -> usize {
        let Some(id) = reading.id.map(|id| id as usize) else {
            return self.series_of(reading.function, reading.module);
        };
        if let Some(&i) = self.by_id.get(id).filter(|i| **i != NO_SERIES) {
            return i;
        }
        let i = self.series_of(reading.function, reading.module);
        if id >= self.by_id.len() {
            self.by_id.resize(id + 1, NO_SERIES);
        }
        self.by_id[id] = i;
        i
    }

    fn series_of(&mut self, function: &str, module: &str) -> usize {
        // The module's length first, so that no separator inside a name (a NUL, say) can make
        // two functions one key.
        self.key.clear();
        let _ = write!(self.key, "{}:", module.len());
        self.key.push_str(module);
        self.key.push_str(function);
        if let Some(&i) = self.index.get(self.key.as_str()) {
            return i;
        }
        let i = if self.own_series < self.max_series {
            self.own_series += 1;
            self.push(function, module)
        } else if let Some(other) = self.other {
            other
        } else {
            static CAP: CapWarning = CapWarning::new("export", "perfscope_export::max_functions");
            let max = self.max_series;
            CAP.reached(max, || {
                format!(
                    "More than {max} functions to export: later ones are summed under \
                     function=\"{OTHER}\", module=\"{OTHER}\". Raise the cap with the \
                     exporter builder's `with_max_functions(n)`."
                )
            });
            let other = self.push(OTHER, OTHER);
            self.other = Some(other);
            other
        };
        self.index.insert(self.key.clone(), i);
        i
    }

    fn push(&mut self, function: &str, module: &str) -> usize {
        self.series.push(Series {
            labels: Labels { function: function.into(), module: module.into() },
            last: Counters::default(),
            last_latency: Vec::new(),
            exported: Counters::default(),
            announced: false,
        });
        self.series.len() - 1
    }

    /// Feeds one reading of every function (those absent count as zero) and hands the
    /// increments to `sink`. `resets` is the reading's count of `perfscope::reset()` calls: if
    /// it changed, a reset happened, even where no figure went down.
    pub fn update<'a>(
        &mut self,
        readings: impl IntoIterator<Item = Reading<'a>>,
        resets: u64,
        seconds_per_tick: f64,
        sink: &mut dyn Sink,
    ) {
        // Per series: the summed counters and the histograms (most series have one callsite,
        // kept inline; the others' go to `shared`).
        let mut now: Vec<(Counters, Option<&Histogram>)> =
            vec![Default::default(); self.series.len()];
        let mut shared: Vec<(usize, &Histogram)> = Vec::new();
        for reading in readings {
            let i = self.series_of_reading(&reading);
            if i >= now.len() {
                now.resize(i + 1, Default::default());
            }
            let (counters, histogram) = &mut now[i];
            *counters = counters.zip(&reading.counters, u64::saturating_add);
            match histogram {
                None => *histogram = Some(reading.latency),
                Some(_) => shared.push((i, reading.latency)),
            }
        }
        shared.sort_by_key(|(i, _)| *i);
        let mut histograms: Vec<&Histogram> = Vec::new();
        let reset_all = resets != self.last_resets;
        self.last_resets = resets;

        let mut new_samples = Vec::new();
        for (index, (series, reading)) in self.series.iter_mut().zip(now).enumerate() {
            let (counters, first) = reading;
            // A latency sample comes with every completed call: same counters, same histogram.
            if series.announced && !reset_all && counters == series.last {
                continue;
            }
            histograms.clear();
            histograms.extend(first);
            let from = shared.partition_point(|(i, _)| *i < index);
            let more = shared[from..].iter().take_while(|(i, _)| *i == index);
            histograms.extend(more.map(|(_, h)| *h));
            let latency = buckets_of(&histograms);
            new_samples.clear();
            // Only a reset makes figures restart from zero (and a latency bucket can only
            // shrink through one). A time total may still read a few nanoseconds lower than
            // before without one: perfscope converts ticks with the clock ratio measured at
            // each snapshot, which keeps converging. Such a dip is no reset; `last` keeps the
            // highest reading, so it is neither exported twice nor taken back.
            let reset =
                reset_all || !latency_diff(&series.last_latency, &latency, &mut new_samples);
            let delta = if reset {
                new_samples.clear();
                new_samples.extend(latency.iter().map(|b| (b.value, b.count)));
                counters
            } else {
                counters.zip(&series.last, u64::saturating_sub)
            };
            series.last = if reset { counters } else { counters.zip(&series.last, u64::max) };
            series.last_latency = latency;
            if series.announced && delta == Counters::default() && new_samples.is_empty() {
                continue;
            }
            series.announced = true;
            let before = series.exported;
            series.exported = before.zip(&delta, u64::saturating_add);
            sink.apply(&Change {
                index,
                labels: &series.labels,
                before,
                after: series.exported,
                latency: &new_samples,
                seconds_per_tick,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One change as a sink sees it: function, totals before and after, new latency samples.
    type Seen = (String, Counters, Counters, Vec<(u64, u64)>);

    /// Records every change.
    #[derive(Default)]
    struct Capture {
        changes: Vec<Seen>,
    }

    impl Sink for Capture {
        fn apply(&mut self, c: &Change<'_>) {
            self.changes.push((c.labels.function.clone(), c.before, c.after, c.latency.to_vec()));
        }
    }

    fn calls(n: u64) -> Counters {
        Counters { calls: n, self_ns: n * 10, ..Counters::default() }
    }

    /// A reading whose histogram holds `count` samples of each `value` (below 128: exact).
    fn reading<'a>(function: &'a str, counters: Counters, latency: &[(u64, u64)]) -> Reading<'a> {
        let mut histogram = Histogram::new();
        for &(value, count) in latency {
            (0..count).for_each(|_| histogram.record(value));
        }
        let latency = Box::leak(Box::new(histogram));
        Reading { id: None, function, module: "m", counters, latency }
    }

    #[test]
    fn increments_are_differences_between_readings() {
        let (mut t, mut sink) = (Tracker::new(10), Capture::default());
        t.update([reading("f", calls(3), &[(5, 3)])], 0, 1.0, &mut sink);
        t.update([reading("f", calls(5), &[(5, 4), (9, 1)])], 0, 1.0, &mut sink);
        t.update([reading("f", calls(5), &[(5, 4), (9, 1)])], 0, 1.0, &mut sink);
        assert_eq!(
            sink.changes,
            vec![
                ("f".into(), calls(0), calls(3), vec![(5, 3)]),
                ("f".into(), calls(3), calls(5), vec![(5, 1), (9, 1)]),
            ]
        );
    }

    #[test]
    fn a_reset_never_makes_a_counter_go_down() {
        let (mut t, mut sink) = (Tracker::new(10), Capture::default());
        t.update([reading("f", calls(10), &[(5, 10)])], 0, 1.0, &mut sink);
        // reset, then 2 calls: fewer than before
        t.update([reading("f", calls(2), &[(7, 2)])], 1, 1.0, &mut sink);
        // reset, then 30 calls: more than before, but the reset count moved
        t.update([reading("f", calls(30), &[(7, 30)])], 2, 1.0, &mut sink);
        let last = sink.changes.last().unwrap();
        assert_eq!(last.2, calls(42));
        assert_eq!(last.3, vec![(7, 30)]);
        assert_eq!(sink.changes[1].3, vec![(7, 2)]);
    }

    #[test]
    fn a_time_total_reading_lower_without_a_reset_is_not_a_reset() {
        let (mut t, mut sink) = (Tracker::new(10), Capture::default());
        let timed = |calls, busy_ns| Counters { calls, busy_ns, ..Counters::default() };
        t.update([reading("f", timed(17, 1_000_000), &[(5, 17)])], 0, 1.0, &mut sink);
        // Same calls, the busy total converted a little lower: nothing to export.
        t.update([reading("f", timed(17, 999_990), &[(5, 17)])], 0, 1.0, &mut sink);
        assert_eq!(sink.changes.len(), 1, "{:?}", sink.changes);
        // Three more calls: only they are exported, and busy time grows from the highest total.
        t.update([reading("f", timed(20, 1_000_500), &[(5, 20)])], 0, 1.0, &mut sink);
        let last = sink.changes.last().unwrap();
        assert_eq!((last.1.calls, last.2.calls), (17, 20));
        assert_eq!((last.1.busy_ns, last.2.busy_ns), (1_000_000, 1_000_500));
        assert_eq!(last.3, vec![(5, 3)]);
    }

    #[test]
    fn a_function_absent_after_a_reset_restarts_from_zero() {
        let (mut t, mut sink) = (Tracker::new(10), Capture::default());
        t.update([reading("f", calls(10), &[])], 0, 1.0, &mut sink);
        t.update([], 1, 1.0, &mut sink); // reset, f not called since
        t.update([reading("f", calls(4), &[])], 1, 1.0, &mut sink);
        assert_eq!(sink.changes.last().unwrap().2, calls(14));
    }

    #[test]
    fn functions_past_the_cap_share_the_other_series() {
        let (mut t, mut sink) = (Tracker::new(2), Capture::default());
        let names = ["a", "b", "c", "d"];
        t.update(names.iter().map(|n| reading(n, calls(1), &[(3, 1)])), 0, 1.0, &mut sink);
        assert_eq!(t.series_count(), 3);
        let functions: Vec<&str> = sink.changes.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(functions, ["a", "b", OTHER]);
        assert_eq!(sink.changes[2].2, calls(2));
        assert_eq!(sink.changes[2].3, vec![(3, 2)]);
        // a new function later still goes to <other>; known ones keep their series
        t.update(
            ["a", "b", "c", "d", "e"].iter().map(|n| reading(n, calls(1), &[(3, 1)])),
            0,
            1.0,
            &mut sink,
        );
        assert_eq!(t.series_count(), 3);
        assert_eq!(sink.changes.last().unwrap().2, calls(3));
    }

    #[test]
    fn callsites_sharing_a_name_share_a_series_when_found_by_id() {
        let (mut t, mut sink) = (Tracker::new(10), Capture::default());
        let at = |id, n| Reading { id: Some(id), ..reading("f", calls(n), &[(5, n)]) };
        t.update([at(7, 1), at(9, 2), reading("g", calls(1), &[])], 0, 1.0, &mut sink);
        t.update([at(7, 2), at(9, 4), reading("g", calls(1), &[])], 0, 1.0, &mut sink);
        assert_eq!(t.series_count(), 2);
        let f: Vec<_> = sink.changes.iter().filter(|c| c.0 == "f").collect();
        assert_eq!(f.len(), 2);
        assert_eq!((f[1].1, f[1].2, f[1].3.clone()), (calls(3), calls(6), vec![(5, 3)]));
    }

    #[test]
    fn a_new_series_is_announced_even_without_calls() {
        let (mut t, mut sink) = (Tracker::new(2), Capture::default());
        t.update([reading("cancelled_only", Counters::default(), &[])], 0, 1.0, &mut sink);
        assert_eq!(sink.changes.len(), 1);
        t.update([reading("cancelled_only", Counters::default(), &[])], 0, 1.0, &mut sink);
        assert_eq!(sink.changes.len(), 1);
    }

    #[test]
    fn merged_buckets_add_up() {
        let b = |low, count| Bucket { low, value: low, count };
        assert_eq!(
            merge(&[b(1, 1), b(4, 2)], &[b(2, 5), b(4, 1), b(9, 1)]),
            vec![b(1, 1), b(2, 5), b(4, 3), b(9, 1)]
        );
    }

    /// One step of a random history: calls with a latency bucket, or a reset.
    #[derive(Debug, Clone)]
    enum Step {
        Calls { n: u64, bucket: u64 },
        Reset,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (1u64..50, 0u64..6).prop_map(|(n, bucket)| Step::Calls { n, bucket }),
            1 => Just(Step::Reset),
        ]
    }

    proptest! {
        /// Whatever the history of calls and resets, with a reading after every step, the
        /// exported totals equal everything that happened, and never go down.
        #[test]
        fn exported_totals_equal_all_calls(steps in prop::collection::vec(step(), 1..40)) {
            let (mut t, mut sink) = (Tracker::new(4), Capture::default());
            let mut live: Vec<u64> = vec![0; 6]; // per latency bucket, since the last reset
            let (mut resets, mut total_calls, mut total_samples) = (0u64, 0u64, 0u64);
            for s in steps {
                match s {
                    Step::Calls { n, bucket } => {
                        live[bucket as usize] += n;
                        total_calls += n;
                    }
                    Step::Reset => {
                        live.iter_mut().for_each(|c| *c = 0);
                        resets += 1;
                    }
                }
                let counts: u64 = live.iter().sum();
                let latency: Vec<(u64, u64)> = live
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(b, c)| (b as u64, *c))
                    .collect();
                let readings = (counts > 0).then(|| reading("f", calls(counts), &latency));
                t.update(readings, resets, 1.0, &mut sink);
            }
            let mut last = Counters::default();
            for (_, before, after, samples) in &sink.changes {
                prop_assert_eq!(*before, last);
                prop_assert!(!after.went_down_from(before));
                total_samples += samples.iter().map(|s| s.1).sum::<u64>();
                last = *after;
            }
            prop_assert_eq!(last.calls, total_calls);
            prop_assert_eq!(total_samples, total_calls);
        }
    }
}
