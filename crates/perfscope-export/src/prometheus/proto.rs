//! The Prometheus protobuf exposition (length-delimited `io.prometheus.client.MetricFamily`
//! messages) of gathered families, written straight into one `Vec<u8>`: byte for byte what
//! `prometheus::ProtobufEncoder` writes (fields in the order `rust-protobuf` writes them, only
//! those present), in one pass (a message's length is set after it is written) without its
//! per-message size cache, its unknown-field passes and its buffered writer. Messages carrying unknown fields (never made by a registry) are left to
//! the `prometheus` crate's encoder.

use prometheus::proto::{Bucket, Histogram, LabelPair, Metric, MetricFamily, Quantile, Summary};
use protobuf::SpecialFields;

/// The protobuf exposition of `families` appended to `out`. Like
/// `prometheus::ProtobufEncoder`, it stops at a family without samples or name (which
/// `gather` never returns) and returns `false`.
pub fn encode_protobuf_into(families: &[MetricFamily], out: &mut Vec<u8>) -> bool {
    encode_protobuf_with(families, out, |_, _| false)
}

/// [`encode_protobuf_into`], except that `own` may write a family itself, length included
/// (returning `true`).
pub(super) fn encode_protobuf_with(
    families: &[MetricFamily],
    out: &mut Vec<u8>,
    mut own: impl FnMut(&MetricFamily, &mut Vec<u8>) -> bool,
) -> bool {
    for mf in families {
        if mf.get_metric().is_empty() || mf.name().is_empty() {
            return false;
        }
        if own(mf, out) {
            continue;
        }
        if has_unknown_fields(mf) {
            use prometheus::Encoder as _;
            let encoder = prometheus::ProtobufEncoder::new();
            if encoder.encode(std::slice::from_ref(mf), out).is_err() {
                return false;
            }
            continue;
        }
        write_delimited(out, |out| write_family(out, mf));
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
pub(super) const VARINT: u64 = 0;
pub(super) const FIXED64: u64 = 1;
pub(super) const LEN: u64 = 2;

#[cfg(test)]
fn varint_len(v: u64) -> u64 {
    // 7 bits a byte; 0 still takes one.
    u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

pub(super) fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn tag(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, field << 3 | wire);
}

pub(super) fn write_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    tag(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn write_string(out: &mut Vec<u8>, field: u64, text: &Option<String>) {
    if let Some(text) = text {
        write_bytes(out, field, text.as_bytes());
    }
}

pub(super) fn write_double(out: &mut Vec<u8>, field: u64, v: Option<f64>) {
    if let Some(v) = v {
        tag(out, field, FIXED64);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub(super) fn write_uint(out: &mut Vec<u8>, field: u64, v: Option<u64>) {
    if let Some(v) = v {
        tag(out, field, VARINT);
        varint(out, v);
    }
}

/// Writes a length-delimited message: `body` writes it after a one-byte length, which is
/// then set, and widened (the body moved) in the rare case it is 128 bytes or more.
pub(super) fn write_delimited(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.push(0);
    body(out);
    let len = out.len() - at - 1;
    if len < 0x80 {
        out[at] = len as u8;
        return;
    }
    let mut prefix = Vec::with_capacity(10);
    varint(&mut prefix, len as u64);
    let extra = prefix.len() - 1;
    out.resize(out.len() + extra, 0);
    out.copy_within(at + 1..at + 1 + len, at + 1 + extra);
    out[at..at + prefix.len()].copy_from_slice(&prefix);
}

pub(super) fn write_message(out: &mut Vec<u8>, field: u64, body: impl FnOnce(&mut Vec<u8>)) {
    tag(out, field, LEN);
    write_delimited(out, body);
}

fn write_family(out: &mut Vec<u8>, mf: &MetricFamily) {
    write_string(out, 1, &mf.name);
    write_string(out, 2, &mf.help);
    if let Some(t) = mf.type_ {
        tag(out, 3, VARINT);
        // int32 enums are sign-extended to 64 bits.
        varint(out, t.value() as i64 as u64);
    }
    for m in &mf.metric {
        write_message(out, 4, |out| write_metric(out, m));
    }
}

pub(super) fn write_label(out: &mut Vec<u8>, l: &LabelPair) {
    write_string(out, 1, &l.name);
    write_string(out, 2, &l.value);
}

fn write_summary(out: &mut Vec<u8>, s: &Summary) {
    write_uint(out, 1, s.sample_count);
    write_double(out, 2, s.sample_sum);
    for q in &s.quantile {
        write_message(out, 3, |out| write_quantile(out, q));
    }
}

fn write_quantile(out: &mut Vec<u8>, q: &Quantile) {
    write_double(out, 1, q.quantile);
    write_double(out, 2, q.value);
}

fn write_histogram(out: &mut Vec<u8>, h: &Histogram) {
    write_uint(out, 1, h.sample_count);
    write_double(out, 2, h.sample_sum);
    for b in &h.bucket {
        write_message(out, 3, |out| write_bucket(out, b));
    }
}

fn write_bucket(out: &mut Vec<u8>, b: &Bucket) {
    write_uint(out, 1, b.cumulative_count);
    write_double(out, 2, b.upper_bound);
}

/// Fields in `rust-protobuf`'s order: the histogram (7) before the timestamp (6).
fn write_metric(out: &mut Vec<u8>, m: &Metric) {
    for l in &m.label {
        write_message(out, 1, |out| write_label(out, l));
    }
    if let Some(g) = m.gauge.as_ref() {
        write_message(out, 2, |out| write_double(out, 1, g.value));
    }
    if let Some(c) = m.counter.as_ref() {
        write_message(out, 3, |out| write_double(out, 1, c.value));
    }
    if let Some(s) = m.summary.as_ref() {
        write_message(out, 4, |out| write_summary(out, s));
    }
    if let Some(u) = m.untyped.as_ref() {
        write_message(out, 5, |out| write_double(out, 1, u.value));
    }
    if let Some(h) = m.histogram.as_ref() {
        write_message(out, 7, |out| write_histogram(out, h));
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
