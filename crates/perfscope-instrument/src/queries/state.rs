//! The collector's counts behind its lock: per fingerprint (at most
//! [`MAX_FINGERPRINTS`], the rest under [`OTHER`]), the slow log and the events, and the
//! figures every snapshot reads from them (section `query`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use perfscope_core::caps::CapWarning;
use perfscope_core::figures::{Event, Figure, FigureSource, HistogramFigure};
use perfscope_core::histogram::Histogram;
use perfscope_core::names;
use perfscope_core::sync::lock;

use super::{
    Config, FingerprintStats, IndexUsage, LABEL_CHARS, MAX_FINGERPRINTS, MAX_INDEXES, OTHER,
    QueryRecord, SECTION, STATEMENT_CACHE, STATEMENT_CHARS, SlowQuery, events, fingerprint,
};
use fingerprint::Fingerprint;

pub(super) struct Inner {
    pub(super) config: Config,
    pub(super) state: Mutex<State>,
}

#[derive(Default)]
pub(super) struct State {
    /// Statement string → index into `fingerprints` (`None`: counted under `other`).
    pub(super) by_statement: HashMap<Box<str>, Option<usize>>,
    pub(super) by_hash: HashMap<u64, usize>,
    pub(super) fingerprints: Vec<Counts>,
    pub(super) other: Option<Counts>,
    pub(super) slow: Vec<SlowQuery>,
    /// Slow statements, as events (the most recent).
    pub(super) slow_events: Vec<Event>,
    /// Index hints, as events (the most recent; one per hint).
    pub(super) hint_events: Vec<Event>,
    /// The last index usage, and its never-used indexes as events.
    pub(super) indexes: Vec<IndexUsage>,
    pub(super) usage_events: Vec<Event>,
    /// Recommendations made so far, by kind (`index_hint`, `drop_unused_index`) and subject
    /// (a table, or `table.index`): [`names::RECOMMENDATIONS_TOTAL`], beside the monitor's.
    pub(super) recommendations: BTreeMap<(&'static str, String), u64>,
}

/// Most (kind, subject) series of [`names::RECOMMENDATIONS_TOTAL`] the collector keeps; the
/// rest count under subject [`OTHER`].
pub const MAX_RECOMMENDATION_SUBJECTS: usize = 256;

impl State {
    /// One more recommendation of `kind` about `subject`.
    pub(super) fn recommended(&mut self, kind: &'static str, subject: String) {
        let key = if self.recommendations.len() >= MAX_RECOMMENDATION_SUBJECTS
            && !self.recommendations.contains_key(&(kind, subject.clone()))
        {
            (kind, OTHER.to_string())
        } else {
            (kind, subject)
        };
        *self.recommendations.entry(key).or_default() += 1;
    }
}

pub(super) struct Counts {
    pub(super) label: String,
    pub(super) normalized: String,
    pub(super) example: String,
    pub(super) calls: u64,
    pub(super) errors: u64,
    pub(super) nanos: u64,
    pub(super) rows_returned: u64,
    pub(super) rows_affected: u64,
    pub(super) histogram: Histogram,
}

impl Counts {
    fn new(label: String, normalized: String, example: String) -> Counts {
        Counts {
            label,
            normalized,
            example,
            calls: 0,
            errors: 0,
            nanos: 0,
            rows_returned: 0,
            rows_affected: 0,
            histogram: Histogram::new(),
        }
    }

    pub(super) fn stats(&self) -> FingerprintStats {
        let q = |q| Duration::from_nanos(self.histogram.quantile(q).unwrap_or(0));
        FingerprintStats {
            label: self.label.clone(),
            normalized: self.normalized.clone(),
            example: self.example.clone(),
            calls: self.calls,
            errors: self.errors,
            total: Duration::from_nanos(self.nanos),
            p50: q(0.5),
            p99: q(0.99),
            rows_returned: self.rows_returned,
            rows_affected: self.rows_affected,
        }
    }
}

impl State {
    /// The counts of `statement`'s fingerprint (or [`OTHER`]'s), created if new.
    pub(super) fn counts_of(&mut self, statement: &str) -> &mut Counts {
        let slot = match self.by_statement.get(statement) {
            Some(slot) => *slot,
            None => {
                let slot = self.slot_of(statement);
                if self.by_statement.len() >= STATEMENT_CACHE {
                    self.by_statement.clear();
                }
                self.by_statement.insert(statement.into(), slot);
                slot
            }
        };
        match slot {
            Some(i) => &mut self.fingerprints[i],
            None => self
                .other
                .get_or_insert_with(|| Counts::new(OTHER.into(), String::new(), String::new())),
        }
    }

    fn slot_of(&mut self, statement: &str) -> Option<usize> {
        let fingerprint = Fingerprint::of(statement);
        if let Some(&i) = self.by_hash.get(&fingerprint.hash) {
            return Some(i);
        }
        if self.fingerprints.len() >= MAX_FINGERPRINTS {
            static CAP: CapWarning =
                CapWarning::new(SECTION, "perfscope_instrument::queries::MAX_FINGERPRINTS");
            CAP.reached(MAX_FINGERPRINTS, || {
                format!(
                    "More than {MAX_FINGERPRINTS} distinct statement fingerprints: later ones are \
                     counted under fingerprint=\"{OTHER}\". The cap is fixed; statements that \
                     build values into their text (not bound parameters) make a fingerprint each."
                )
            });
            return None;
        }
        let label = fingerprint.label(LABEL_CHARS);
        let example = fingerprint::truncate_chars(statement, STATEMENT_CHARS);
        self.fingerprints.push(Counts::new(label, fingerprint.normalized, example));
        self.by_hash.insert(fingerprint.hash, self.fingerprints.len() - 1);
        Some(self.fingerprints.len() - 1)
    }

    pub(super) fn slow(&mut self, config: &Config, fingerprint: String, query: &QueryRecord<'_>) {
        let event = events::slow(config, &fingerprint, query);
        let at_unix_ms = event.at_unix_ms;
        events::push_bounded(&mut self.slow_events, event);
        let statement = fingerprint::truncate_chars(query.statement, STATEMENT_CHARS);
        if config.slow_log_len == 0 {
            return;
        }
        let full = self.slow.len() >= config.slow_log_len;
        if full && self.slow.last().is_some_and(|s| s.elapsed >= query.elapsed) {
            return;
        }
        if full {
            self.slow.pop();
        }
        let at = self.slow.partition_point(|s| s.elapsed >= query.elapsed);
        self.slow.insert(
            at,
            SlowQuery {
                fingerprint,
                statement,
                elapsed: query.elapsed,
                rows_returned: query.rows_returned,
                rows_affected: query.rows_affected,
                at_unix_ms,
            },
        );
    }
}

impl FigureSource for Inner {
    fn read(&self, out: &mut Vec<Figure>) {
        let state = lock(&self.state);
        for counts in state.fingerprints.iter().chain(state.other.as_ref()) {
            let of = |name, value: f64| {
                Figure::of(name, value).with_label("fingerprint", counts.label.clone())
            };
            out.push(of(&names::QUERY_CALLS_TOTAL, counts.calls as f64));
            out.push(of(&names::QUERY_ERRORS_TOTAL, counts.errors as f64));
            out.push(of(&names::QUERY_DURATION_SECONDS_TOTAL, counts.nanos as f64 / 1e9));
            for (kind, rows) in
                [("returned", counts.rows_returned), ("affected", counts.rows_affected)]
            {
                out.push(of(&names::QUERY_ROWS_TOTAL, rows as f64).with_label("rows", kind));
            }
            if let Some(p99) = counts.histogram.quantile(0.99) {
                out.push(of(&names::QUERY_DURATION_P99_SECONDS, p99 as f64 / 1e9));
            }
        }
        index_figures(&state.indexes, out);
        for ((kind, subject), n) in &state.recommendations {
            let figure = Figure::of(&names::RECOMMENDATIONS_TOTAL, *n as f64);
            out.push(figure.with_label("kind", *kind).with_label("subject", subject.clone()));
        }
    }

    fn events(&self, out: &mut Vec<Event>) {
        let state = lock(&self.state);
        let all = state.slow_events.iter().chain(&state.hint_events).chain(&state.usage_events);
        out.extend(all.cloned());
    }

    fn histograms(&self, out: &mut Vec<HistogramFigure>) {
        let state = lock(&self.state);
        for counts in state.fingerprints.iter().chain(state.other.as_ref()) {
            let sum = counts.nanos as f64 / 1e9;
            let histogram =
                HistogramFigure::of(&names::QUERY_DURATION_SECONDS, counts.histogram.clone(), sum);
            out.push(histogram.with_label("fingerprint", counts.label.clone()));
        }
    }
}

/// One [`names::QUERY_INDEX_USED`] gauge per index, the first [`MAX_INDEXES`]; the rest as one
/// with `table` and `index` [`OTHER`], 1 only if every one of them is used.
fn index_figures(indexes: &[IndexUsage], out: &mut Vec<Figure>) {
    let gauge = |table: &str, index: &str, used: bool| {
        Figure::of(&names::QUERY_INDEX_USED, if used { 1.0 } else { 0.0 })
            .with_label("table", table.to_string())
            .with_label("index", index.to_string())
    };
    for usage in indexes.iter().take(MAX_INDEXES) {
        out.push(gauge(&usage.table, &usage.index, usage.used()));
    }
    if indexes.len() > MAX_INDEXES {
        static CAP: CapWarning =
            CapWarning::new(SECTION, "perfscope_instrument::queries::MAX_INDEXES");
        CAP.reached(MAX_INDEXES, || {
            format!(
                "More than {MAX_INDEXES} indexes on the tables the statements touch: the rest \
                 are one {} figure with table and index \"{OTHER}\" (1 only if all are used); \
                 IndexAdvice::indexes lists every one.",
                names::QUERY_INDEX_USED.name
            )
        });
        out.push(gauge(OTHER, OTHER, indexes[MAX_INDEXES..].iter().all(IndexUsage::used)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(i: usize, used: bool) -> IndexUsage {
        IndexUsage {
            table: "t".into(),
            index: format!("i{i:03}"),
            unique: false,
            used_by: if used { vec!["f".into()] } else { Vec::new() },
            scans: None,
            evidence: String::new(),
        }
    }

    #[test]
    fn index_figures_are_capped_and_the_rest_is_used_only_if_all_are() {
        let mut out = Vec::new();
        index_figures(&[index(0, true), index(1, false)], &mut out);
        let values: Vec<f64> = out.iter().map(|f| f.value).collect();
        assert_eq!(values, [1.0, 0.0]);
        let label = |f: &Figure, key: &str| {
            f.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
        };
        assert_eq!((label(&out[1], "table"), label(&out[1], "index")), ("t".into(), "i001".into()));

        let mut all: Vec<IndexUsage> = (0..MAX_INDEXES + 2).map(|i| index(i, true)).collect();
        let mut out = Vec::new();
        index_figures(&all, &mut out);
        assert_eq!(out.len(), MAX_INDEXES + 1);
        let last = out.last().unwrap();
        assert_eq!(
            (label(last, "table"), label(last, "index"), last.value),
            (OTHER.into(), OTHER.into(), 1.0)
        );
        all[MAX_INDEXES + 1] = index(MAX_INDEXES + 1, false);
        let mut out = Vec::new();
        index_figures(&all, &mut out);
        assert_eq!(out.last().map(|f| f.value), Some(0.0), "one past the cap is never used");
    }
}
