//! A scrape as the exporter renders it: the registry gathered with placeholders for
//! perfscope's 7 function families (other code's families as they are), then the encoders,
//! which write those 7 families straight from the exported series — exactly what the full
//! families would encode to (`tests` below compare both), without a `Metric` per series and
//! family built and freed at every scrape. A registry that renames or labels families (a
//! prefix, labels of its own) gets the full families, as `Registry::gather` makes them.

use perfscope_core::sync::lock;

use super::collector::{
    Sample, Series, State, gather_with_placeholders, placeholder_family, placeholders_intact,
    sample_of, seconds,
};
use super::proto::{self, VARINT};
use super::text;
use crate::families::{Family, FamilyKind};

/// The text exposition of `registry`, appended to `out`.
pub(super) fn render_text(registry: &prometheus::Registry, state: &State, out: &mut String) {
    let families = gather_with_placeholders(registry, state);
    if !placeholders_intact(&families) {
        text::encode_text_into(&registry.gather(), out);
        return;
    }
    let mut state = lock(state);
    // Series another scrape added since the gather are written too.
    state.1.sorted();
    let series = &state.1;
    text::encode_text_with(&families, out, |mf, out| {
        let Some(family) = placeholder_family(mf) else { return false };
        write_text(series, family, out);
        true
    });
}

/// The protobuf exposition of `registry`, appended to `out`.
pub(super) fn render_protobuf(registry: &prometheus::Registry, state: &State, out: &mut Vec<u8>) {
    let families = gather_with_placeholders(registry, state);
    if !placeholders_intact(&families) {
        proto::encode_protobuf_into(&registry.gather(), out);
        return;
    }
    let mut state = lock(state);
    state.1.sorted();
    let series = &state.1;
    proto::encode_protobuf_with(&families, out, |mf, out| {
        let Some(family) = placeholder_family(mf) else { return false };
        write_protobuf(series, family, out);
        true
    });
}

/// Cumulative bucket counts of one series (saturating, as the full families' are), and the
/// sample count (every bucket, `+Inf` included).
fn cumulative(buckets: &[u64], bounds: usize) -> (impl Iterator<Item = u64> + '_, u64) {
    let count = buckets.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let mut sum = 0u64;
    let cumulative = buckets[..bounds.min(buckets.len())].iter().map(move |c| {
        sum = sum.saturating_add(*c);
        sum
    });
    (cumulative, count)
}

/// Function family `family` in the text format (nothing without series, as `gather` prunes
/// an empty family).
fn write_text(series: &Series, family: &Family, out: &mut String) {
    if series.series.is_empty() {
        return;
    }
    let name = family.name;
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    text::push_escaped(out, family.help, false);
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push_str(match family.kind {
        FamilyKind::Counter => " counter\n",
        FamilyKind::Histogram => " histogram\n",
    });
    let sample = sample_of(name);
    for s in series.sorted.iter().map(|&i| &series.series[i]) {
        match sample {
            Sample::Counter(value) => {
                out.push_str(name);
                out.push_str(&s.text_labels);
                out.push_str("} ");
                text::push_value(out, value(&s.counters));
                out.push('\n');
            }
            Sample::Histogram => {
                let (buckets, count) = cumulative(&s.buckets, series.bounds.len());
                let bounds = series.bounds_text.iter().map(String::as_str);
                for (le, cumulative) in bounds.zip(buckets).chain([("+Inf", count)]) {
                    out.push_str(name);
                    out.push_str("_bucket");
                    out.push_str(&s.text_labels);
                    out.push_str(",le=\"");
                    out.push_str(le);
                    out.push_str("\"} ");
                    text::push_value(out, cumulative as f64);
                    out.push('\n');
                }
                for (suffix, value) in
                    [("_sum", seconds(s.counters.total_ns)), ("_count", count as f64)]
                {
                    out.push_str(name);
                    out.push_str(suffix);
                    out.push_str(&s.text_labels);
                    out.push_str("} ");
                    text::push_value(out, value);
                    out.push('\n');
                }
            }
        }
    }
}

/// Function family `family` as a length-delimited `MetricFamily` message (nothing without
/// series).
fn write_protobuf(series: &Series, family: &Family, out: &mut Vec<u8>) {
    if series.series.is_empty() {
        return;
    }
    let sample = sample_of(family.name);
    proto::write_delimited(out, |out| {
        proto::write_bytes(out, 1, family.name.as_bytes());
        proto::write_bytes(out, 2, family.help.as_bytes());
        proto::tag(out, 3, VARINT);
        proto::varint(
            out,
            match family.kind {
                FamilyKind::Counter => prometheus::proto::MetricType::COUNTER as u64,
                FamilyKind::Histogram => prometheus::proto::MetricType::HISTOGRAM as u64,
            },
        );
        for s in series.sorted.iter().map(|&i| &series.series[i]) {
            proto::write_message(out, 4, |out| {
                for l in &s.labels {
                    proto::write_message(out, 1, |out| proto::write_label(out, l));
                }
                match sample {
                    Sample::Counter(value) => proto::write_message(out, 3, |out| {
                        proto::write_double(out, 1, Some(value(&s.counters)));
                    }),
                    Sample::Histogram => proto::write_message(out, 7, |out| {
                        let (buckets, count) = cumulative(&s.buckets, series.bounds.len());
                        proto::write_uint(out, 1, Some(count));
                        proto::write_double(out, 2, Some(seconds(s.counters.total_ns)));
                        for (bound, cumulative) in series.bounds.iter().zip(buckets) {
                            proto::write_message(out, 3, |out| {
                                proto::write_uint(out, 1, Some(cumulative));
                                proto::write_double(out, 2, Some(*bound));
                            });
                        }
                    }),
                }
            });
        }
    });
}

/// The full families of `series` (what `gather` returns without placeholders), for tests.
#[cfg(test)]
fn full_families(series: &Series) -> Vec<prometheus::proto::MetricFamily> {
    use prometheus::proto::MetricFamily;
    crate::families::FAMILIES
        .iter()
        .map(|family| {
            let mut mf = MetricFamily::default();
            mf.set_name(family.name.into());
            mf.set_help(family.help.into());
            mf.set_field_type(match family.kind {
                FamilyKind::Counter => prometheus::proto::MetricType::COUNTER,
                FamilyKind::Histogram => prometheus::proto::MetricType::HISTOGRAM,
            });
            mf.set_metric(super::collector::metrics(series, sample_of(family.name)));
            mf
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::collector::Exported;
    use super::*;
    use crate::families::{FAMILIES, LATENCY_BUCKETS};
    use crate::tracker::Counters;
    use proptest::prelude::*;

    fn series(entries: &[(String, String, Counters, Vec<u64>)], bounds: &[f64]) -> Series {
        let mut series = Series::new(bounds);
        for (function, module, counters, buckets) in entries {
            let mut exported = Exported::new(function, module, bounds.len() + 1);
            exported.counters = *counters;
            for (to, from) in exported.buckets.iter_mut().zip(buckets) {
                *to = *from;
            }
            series.series.push(exported);
        }
        series.sorted();
        series
    }

    /// Both encodings of `series`, from the full families and straight from the series.
    fn both(series: &Series) -> ((String, String), (Vec<u8>, Vec<u8>)) {
        let full = full_families(series);
        let (mut text, mut direct_text) = (String::new(), String::new());
        text::encode_text_into(&full, &mut text);
        FAMILIES.iter().for_each(|f| write_text(series, f, &mut direct_text));
        let (mut bytes, mut direct_bytes) = (Vec::new(), Vec::new());
        proto::encode_protobuf_into(&full, &mut bytes);
        FAMILIES.iter().for_each(|f| write_protobuf(series, f, &mut direct_bytes));
        ((text, direct_text), (bytes, direct_bytes))
    }

    fn counters() -> impl Strategy<Value = Counters> {
        (any::<u64>(), any::<u64>(), any::<u64>(), 0u64..1 << 40, any::<u64>(), any::<u32>())
            .prop_map(|(calls, self_ns, busy_ns, total_ns, alloc_bytes, panics)| Counters {
                calls,
                panics: u64::from(panics),
                self_ns,
                busy_ns,
                alloc_bytes,
                allocations: calls / 3,
                total_ns,
            })
    }

    #[test]
    fn no_series_no_family() {
        let empty = series(&[], &LATENCY_BUCKETS);
        let ((text, direct), (bytes, direct_bytes)) = both(&empty);
        assert_eq!(direct, "");
        assert!(direct_bytes.is_empty());
        // The full families are empty; `gather` prunes them.
        assert!(full_families(&empty).iter().all(|f| f.get_metric().is_empty()));
        let _ = (text, bytes);
    }

    proptest! {
        #[test]
        fn series_encode_as_their_full_families_do(
            entries in prop::collection::vec(
                (
                    "[a-z:\\\\\"\n<>é]{0,10}",
                    "[a-z:\\\\\"\n]{0,6}",
                    counters(),
                    prop::collection::vec(prop_oneof![0u64..5, Just(u64::MAX / 2)], 0..24),
                ),
                1..8,
            ),
            custom in any::<bool>(),
        ) {
            // Distinct series, as the tracker makes them.
            let mut entries = entries;
            entries.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            entries.dedup_by(|a, b| (&a.0, &a.1) == (&b.0, &b.1));
            let bounds: &[f64] = if custom { &[0.001, 0.5, 3.0] } else { &LATENCY_BUCKETS };
            let ((text, direct), (bytes, direct_bytes)) = both(&series(&entries, bounds));
            prop_assert_eq!(direct, text);
            prop_assert_eq!(direct_bytes, bytes);
        }
    }
}
