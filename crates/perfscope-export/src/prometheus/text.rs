//! The Prometheus text exposition (0.0.4) of gathered families, written straight into one
//! `String`: byte for byte what `prometheus::TextEncoder` writes, without its allocation per
//! sample (a formatted value, a bucket bound, a type name). A metric's labels are escaped once
//! and reused by all its samples (a histogram has one per bucket), integer values are written
//! with `itoa`, bucket bounds are formatted once per bucket position.

use std::fmt::Write as _;

use prometheus::proto::{LabelPair, Metric, MetricFamily, MetricType};

/// The text exposition of `families` (as `prometheus::Registry::gather` returns them),
/// appended to `out`. Like `prometheus::TextEncoder`, it stops at a family without samples or
/// name (which `gather` never returns) and returns `false`.
pub fn encode_text_into(families: &[MetricFamily], out: &mut String) -> bool {
    encode_text_with(families, out, |_, _| false)
}

/// [`encode_text_into`], except that `own` may write a family itself (returning `true`).
pub(super) fn encode_text_with(
    families: &[MetricFamily],
    out: &mut String,
    mut own: impl FnMut(&MetricFamily, &mut String) -> bool,
) -> bool {
    let mut labels = String::new();
    let mut bounds = BoundCache::default();
    for mf in families {
        let name = mf.name();
        if mf.get_metric().is_empty() || name.is_empty() {
            return false;
        }
        if own(mf, out) {
            continue;
        }
        let help = mf.help();
        if !help.is_empty() {
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            push_escaped(out, help, false);
            out.push('\n');
        }
        let kind = mf.get_field_type();
        out.push_str("# TYPE ");
        out.push_str(name);
        out.push(' ');
        out.push_str(match kind {
            MetricType::COUNTER => "counter",
            MetricType::GAUGE => "gauge",
            MetricType::SUMMARY => "summary",
            MetricType::UNTYPED => "untyped",
            MetricType::HISTOGRAM => "histogram",
        });
        out.push('\n');
        for m in mf.get_metric() {
            labels.clear();
            open_labels(&mut labels, m.get_label());
            let sample = Sample { name, labels: &labels, metric: m };
            match kind {
                MetricType::COUNTER => sample.write(out, "", None, m.get_counter().value()),
                MetricType::GAUGE => sample.write(out, "", None, m.get_gauge().value()),
                // The prometheus crate's encoder panics on untyped families; this one writes
                // them as the format says.
                MetricType::UNTYPED => sample.write(out, "", None, m.untyped.value()),
                MetricType::HISTOGRAM => {
                    let h = m.get_histogram();
                    let mut inf_seen = false;
                    for (i, b) in h.get_bucket().iter().enumerate() {
                        let bound = b.upper_bound();
                        let le = bounds.get(i, bound);
                        sample.write(out, "_bucket", Some(("le", le)), b.cumulative_count() as f64);
                        inf_seen |= bound.is_sign_positive() && bound.is_infinite();
                    }
                    let count = h.get_sample_count() as f64;
                    if !inf_seen {
                        sample.write(out, "_bucket", Some(("le", "+Inf")), count);
                    }
                    sample.write(out, "_sum", None, h.get_sample_sum());
                    sample.write(out, "_count", None, count);
                }
                MetricType::SUMMARY => {
                    let s = m.get_summary();
                    for q in s.get_quantile() {
                        let quantile = q.quantile().to_string();
                        sample.write(out, "", Some(("quantile", &quantile)), q.value());
                    }
                    sample.write(out, "_sum", None, s.sample_sum());
                    sample.write(out, "_count", None, s.sample_count() as f64);
                }
            }
        }
    }
    true
}

/// One metric's samples: its family's name and its labels, escaped, without the closing `}`
/// (empty without labels).
struct Sample<'a> {
    name: &'a str,
    labels: &'a str,
    metric: &'a Metric,
}

impl Sample<'_> {
    /// `name{labels,extra} value [timestamp]\n`.
    fn write(&self, out: &mut String, suffix: &str, extra: Option<(&str, &str)>, value: f64) {
        out.push_str(self.name);
        out.push_str(suffix);
        match (self.labels.is_empty(), extra) {
            (true, None) => {}
            (false, None) => {
                out.push_str(self.labels);
                out.push('}');
            }
            (empty, Some((name, value))) => {
                out.push_str(if empty { "{" } else { self.labels });
                if !empty {
                    out.push(',');
                }
                out.push_str(name);
                out.push_str("=\"");
                push_escaped(out, value, true);
                out.push_str("\"}");
            }
        }
        out.push(' ');
        push_value(out, value);
        let timestamp = self.metric.timestamp_ms();
        if timestamp != 0 {
            out.push(' ');
            out.push_str(itoa::Buffer::new().format(timestamp));
        }
        out.push('\n');
    }
}

/// `{name="value",...` for `pairs` (nothing for none).
fn open_labels(out: &mut String, pairs: &[LabelPair]) {
    let mut separator = '{';
    for pair in pairs {
        out.push(separator);
        out.push_str(pair.name());
        out.push_str("=\"");
        push_escaped(out, pair.value(), true);
        out.push('"');
        separator = ',';
    }
}

/// Bucket bounds as text, by bucket position: every histogram of a family (and usually of the
/// page) has the same bounds, so each is formatted once.
#[derive(Default)]
struct BoundCache(Vec<(u64, String)>);

impl BoundCache {
    fn get(&mut self, position: usize, bound: f64) -> &str {
        if position >= self.0.len() {
            self.0.resize_with(position + 1, || (f64::NAN.to_bits(), "NaN".into()));
        }
        let (bits, text) = &mut self.0[position];
        if *bits != bound.to_bits() {
            *bits = bound.to_bits();
            text.clear();
            let _ = write!(text, "{bound}");
        }
        text
    }
}

/// Largest magnitude below which every integral `f64` is an exact integer (2^53), so that
/// `itoa` writes the digits `Display` writes.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// `value` as `f64`'s `Display` writes it (`prometheus::TextEncoder` writes `to_string()`).
pub(super) fn push_value(out: &mut String, value: f64) {
    let integral = value.fract() == 0.0 && value.abs() < EXACT_INTEGERS;
    // -0.0 is displayed "-0": left to `Display`.
    if integral && !(value == 0.0 && value.is_sign_negative()) {
        out.push_str(itoa::Buffer::new().format(value as i64));
    } else {
        let _ = write!(out, "{value}");
    }
}

/// Appends `text` with `\` → `\\`, a newline → `\n` and, with `quote`, `"` → `\"`.
pub(super) fn push_escaped(out: &mut String, text: &str, quote: bool) {
    let special = |b: &u8| *b == b'\\' || *b == b'\n' || (quote && *b == b'"');
    if !text.as_bytes().iter().any(special) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_are_written_as_display_writes_them() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e-6,
            2.5e-6,
            1e21,
            1e15,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1.8446744073709552e19,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for value in values {
            let mut out = String::new();
            push_value(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_display_writes_it(bits in any::<u64>(), int in any::<i64>()) {
            for value in [f64::from_bits(bits), int as f64, (int >> 11) as f64] {
                let mut out = String::new();
                push_value(&mut out, value);
                prop_assert_eq!(out, value.to_string());
            }
        }

        #[test]
        fn escaping_matches_the_format(text in "[a-z\\\\\n\"é]{0,12}") {
            let mut quoted = String::new();
            push_escaped(&mut quoted, &text, true);
            let expected = text.replace('\\', "\\\\").replace('\n', "\\n").replace('"', "\\\"");
            prop_assert_eq!(&quoted, &expected);
            let mut help = String::new();
            push_escaped(&mut help, &text, false);
            prop_assert_eq!(help, text.replace('\\', "\\\\").replace('\n', "\\n"));
        }
    }
}
