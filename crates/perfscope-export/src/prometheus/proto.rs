//! The Prometheus protobuf exposition (length-delimited `io.prometheus.client.MetricFamily`
//! messages) of gathered families, written straight into one `Vec<u8>`: byte for byte what
//! `prometheus::ProtobufEncoder` writes (fields in the order `rust-protobuf` writes them, only
//! those present), without its per-message size cache, its unknown-field passes and its
//! buffered writer. Messages carrying unknown fields (never made by a registry) are left to
//! the `prometheus` crate's encoder.

use prometheus::proto::{Bucket, Histogram, LabelPair, Metric, MetricFamily, Quantile, Summary};
use protobuf::SpecialFields;

/// The protobuf exposition of `families` appended to `out`. Like
/// `prometheus::ProtobufEncoder`, it stops at a family without samples or name (which
/// `gather` never returns) and returns `false`.
pub fn encode_protobuf_into(families: &[MetricFamily], out: &mut Vec<u8>) -> bool {
    for mf in families {
        if mf.get_metric().is_empty() || mf.name().is_empty() {
            return false;
        }
        if has_unknown_fields(mf) {
            use prometheus::Encoder as _;
            let encoder = prometheus::ProtobufEncoder::new();
            if encoder.encode(std::slice::from_ref(mf), out).is_err() {
                return false;
            }
            continue;
        }
        let size = family_size(mf);
        varint(out, size);
        let start = out.len();
        write_family(out, mf);
        debug_assert_eq!(out.len() - start, size as usize, "{}", mf.name());
    }
    true
}

fn unknown(fields: &SpecialFields) -> bool {
    fields.unknown_fields().iter().next().is_some()
}

fn has_unknown_fields(mf: &MetricFamily) -> bool {
    unknown(&mf.special_fields)
        || mf.get_metric().iter().any(|m| {
            unknown(&m.special_fields)
                || m.label.iter().any(|l| unknown(&l.special_fields))
                || m.gauge.as_ref().is_some_and(|g| unknown(&g.special_fields))
                || m.counter.as_ref().is_some_and(|c| unknown(&c.special_fields))
                || m.untyped.as_ref().is_some_and(|u| unknown(&u.special_fields))
                || m.summary.as_ref().is_some_and(|s| {
                    unknown(&s.special_fields)
                        || s.quantile.iter().any(|q| unknown(&q.special_fields))
                })
                || m.histogram.as_ref().is_some_and(|h| {
                    unknown(&h.special_fields)
                        || h.bucket.iter().any(|b| unknown(&b.special_fields))
                })
        })
}

// Wire types.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;

fn varint_len(v: u64) -> u64 {
    // 7 bits a byte; 0 still takes one.
    u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, field << 3 | wire);
}

// Every field number here is below 16: a tag is one byte.
fn bytes_size(len: u64) -> u64 {
    1 + varint_len(len) + len
}
fn double_size(v: Option<f64>) -> u64 {
    if v.is_some() { 9 } else { 0 }
}
fn uint_size(v: Option<u64>) -> u64 {
    v.map_or(0, |v| 1 + varint_len(v))
}

fn write_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    tag(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}
fn write_double(out: &mut Vec<u8>, field: u64, v: Option<f64>) {
    if let Some(v) = v {
        tag(out, field, FIXED64);
        out.extend_from_slice(&v.to_le_bytes());
    }
}
fn write_uint(out: &mut Vec<u8>, field: u64, v: Option<u64>) {
    if let Some(v) = v {
        tag(out, field, VARINT);
        varint(out, v);
    }
}
fn write_message(out: &mut Vec<u8>, field: u64, size: u64) {
    tag(out, field, LEN);
    varint(out, size);
}

fn family_size(mf: &MetricFamily) -> u64 {
    string_size(&mf.name)
        + string_size(&mf.help)
        // int32 enums are sign-extended to 64 bits.
        + mf.type_.map_or(0, |t| 1 + varint_len(t.value() as i64 as u64))
        + mf.metric.iter().map(|m| bytes_size(metric_size(m))).sum::<u64>()
}

fn write_family(out: &mut Vec<u8>, mf: &MetricFamily) {
    if let Some(name) = &mf.name {
        write_bytes(out, 1, name.as_bytes());
    }
    if let Some(help) = &mf.help {
        write_bytes(out, 2, help.as_bytes());
    }
    if let Some(t) = mf.type_ {
        tag(out, 3, VARINT);
        varint(out, t.value() as i64 as u64);
    }
    for m in &mf.metric {
        write_message(out, 4, metric_size(m));
        write_metric(out, m);
    }
}

fn string_size(s: &Option<String>) -> u64 {
    s.as_ref().map_or(0, |s| bytes_size(s.len() as u64))
}

fn label_size(l: &LabelPair) -> u64 {
    string_size(&l.name) + string_size(&l.value)
}

fn summary_size(s: &Summary) -> u64 {
    uint_size(s.sample_count)
        + double_size(s.sample_sum)
        + s.quantile.iter().map(|q| bytes_size(quantile_size(q))).sum::<u64>()
}

fn quantile_size(q: &Quantile) -> u64 {
    double_size(q.quantile) + double_size(q.value)
}

fn histogram_size(h: &Histogram) -> u64 {
    uint_size(h.sample_count)
        + double_size(h.sample_sum)
        + h.bucket.iter().map(|b| bytes_size(bucket_size(b))).sum::<u64>()
}

fn bucket_size(b: &Bucket) -> u64 {
    uint_size(b.cumulative_count) + double_size(b.upper_bound)
}

fn metric_size(m: &Metric) -> u64 {
    m.label.iter().map(|l| bytes_size(label_size(l))).sum::<u64>()
        + m.gauge.as_ref().map_or(0, |g| bytes_size(double_size(g.value)))
        + m.counter.as_ref().map_or(0, |c| bytes_size(double_size(c.value)))
        + m.summary.as_ref().map_or(0, |s| bytes_size(summary_size(s)))
        + m.untyped.as_ref().map_or(0, |u| bytes_size(double_size(u.value)))
        + m.histogram.as_ref().map_or(0, |h| bytes_size(histogram_size(h)))
        + m.timestamp_ms.map_or(0, |t| 1 + varint_len(t as u64))
}

/// Fields in `rust-protobuf`'s order: the histogram (7) before the timestamp (6).
fn write_metric(out: &mut Vec<u8>, m: &Metric) {
    for l in &m.label {
        write_message(out, 1, label_size(l));
        if let Some(name) = &l.name {
            write_bytes(out, 1, name.as_bytes());
        }
        if let Some(value) = &l.value {
            write_bytes(out, 2, value.as_bytes());
        }
    }
    if let Some(g) = m.gauge.as_ref() {
        write_message(out, 2, double_size(g.value));
        write_double(out, 1, g.value);
    }
    if let Some(c) = m.counter.as_ref() {
        write_message(out, 3, double_size(c.value));
        write_double(out, 1, c.value);
    }
    if let Some(s) = m.summary.as_ref() {
        write_message(out, 4, summary_size(s));
        write_uint(out, 1, s.sample_count);
        write_double(out, 2, s.sample_sum);
        for q in &s.quantile {
            write_message(out, 3, quantile_size(q));
            write_double(out, 1, q.quantile);
            write_double(out, 2, q.value);
        }
    }
    if let Some(u) = m.untyped.as_ref() {
        write_message(out, 5, double_size(u.value));
        write_double(out, 1, u.value);
    }
    if let Some(h) = m.histogram.as_ref() {
        write_message(out, 7, histogram_size(h));
        write_uint(out, 1, h.sample_count);
        write_double(out, 2, h.sample_sum);
        for b in &h.bucket {
            write_message(out, 3, bucket_size(b));
            write_uint(out, 1, b.cumulative_count);
            write_double(out, 2, b.upper_bound);
        }
    }
    if let Some(t) = m.timestamp_ms {
        tag(out, 6, VARINT);
        varint(out, t as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX, 1 << 63] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out.len() as u64, varint_len(v), "{v}");
        }
    }
}
