//! A strict reader of the Prometheus text exposition format (0.0.4), as a test oracle: it
//! refuses what Prometheus' own parser refuses (names outside the grammar, unknown escapes, a
//! sample before its `# TYPE`, a series twice) and gives every sample back with its label
//! values unescaped, so a test can check that a hostile name survives the trip unchanged.
//!
//! Shared by `tests/label_values.rs` and the fuzz target `labels` (`fuzz/`), which includes
//! this file by path.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`, `_sum` or `_count` for a histogram's lines).
    pub name: String,
    /// Label pairs in the order written, values unescaped.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads a whole exposition, or says which line is wrong and why.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut seen: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    let mut samples = Vec::new();
    for (i, line) in text.split_terminator('\n').enumerate() {
        let fail = |why: String| format!("line {}: {why}: {line:?}", i + 1);
        if let Some(comment) = line.strip_prefix('#') {
            comment_line(comment, &mut types).map_err(fail)?;
            continue;
        }
        let sample = sample_line(line).map_err(fail)?;
        if family_type(&sample.name, &types).is_none() {
            return Err(fail("a sample without a # TYPE line".into()));
        }
        let mut names: Vec<&str> = sample.labels.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(fail("a label name twice".into()));
        }
        let mut key_labels = sample.labels.clone();
        key_labels.sort();
        if !seen.insert((sample.name.clone(), key_labels)) {
            return Err(fail("the same series twice".into()));
        }
        samples.push(sample);
    }
    Ok(samples)
}

fn comment_line(comment: &str, types: &mut BTreeMap<String, String>) -> Result<(), String> {
    let Some(rest) = comment.strip_prefix(' ') else { return Ok(()) };
    if let Some(help) = rest.strip_prefix("HELP ") {
        let (name, text) = help.split_once(' ').unwrap_or((help, ""));
        check_metric_name(name)?;
        unescape(text, false)?;
    } else if let Some(kind) = rest.strip_prefix("TYPE ") {
        let Some((name, kind)) = kind.split_once(' ') else {
            return Err("a # TYPE line without a type".into());
        };
        check_metric_name(name)?;
        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
            return Err(format!("unknown type {kind:?}"));
        }
        if types.insert(name.into(), kind.into()).is_some() {
            return Err(format!("a second # TYPE for {name}"));
        }
    }
    Ok(())
}

/// The declared type of the family a sample line belongs to.
fn family_type<'a>(name: &str, types: &'a BTreeMap<String, String>) -> Option<&'a str> {
    if let Some(kind) = types.get(name) {
        return Some(kind);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let kind = types.get(name.strip_suffix(suffix)?)?;
        matches!(kind.as_str(), "histogram" | "summary").then_some(kind.as_str())
    })
}

fn sample_line(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..end];
    check_metric_name(name)?;
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("a label without '='")?;
            let label = &rest[..eq];
            check_label_name(label)?;
            rest = rest[eq + 1..].strip_prefix('"').ok_or("a label value without quotes")?;
            let close = closing_quote(rest).ok_or("an unterminated label value")?;
            labels.push((label.to_string(), unescape(&rest[..close], true)?));
            rest = &rest[close + 1..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err("labels not separated by ','".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value = value.split(' ').next().unwrap_or("");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse::<f64>().map_err(|e| format!("value {v:?}: {e}"))?,
    };
    Ok(Sample { name: name.to_string(), labels, value })
}

/// The byte index of the first `"` not escaped by a backslash.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// `\\`, `\n` and (in label values) `\"` are the only escapes; a raw `"` in a label value, or
/// a raw newline anywhere, cannot be there.
fn unescape(s: &str, label_value: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') if label_value => out.push('"'),
                other => return Err(format!("the escape \\{other:?}")),
            },
            '"' if label_value => return Err("an unescaped '\"' in a label value".into()),
            '\n' => return Err("a raw newline".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let ok = name.chars().enumerate().all(|(i, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
    });
    if name.is_empty() || !ok {
        return Err(format!("metric name {name:?}"));
    }
    Ok(())
}

fn check_label_name(name: &str) -> Result<(), String> {
    let ok = name
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
    if name.is_empty() || !ok || name.starts_with("__") {
        return Err(format!("label name {name:?}"));
    }
    Ok(())
}
