//! Hostile strings as Prometheus labels: function (span) names and modules, and figure label
//! values (pool, cache and query names come from the program and its data), served by a real
//! exporter. The exposition must stay valid (read by the strict reader in `text_format`) and
//! every name must come back, unescaped, exactly as it went in.
//!
//! Shared by `tests/label_values.rs` and the fuzz target `labels` (`fuzz/`), which includes
//! this file by path. It resets perfscope's figures: callers run one check at a time.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use perfscope_core::figures::{self, Figure, FigureSource, FigureUnit};
use perfscope_core::{CallsiteInfo, Kind, OVERFLOW_ID, clock, register_dynamic, span};

use crate::text_format::{self, Sample};

/// The family of the figure label values.
pub const VALUES_FAMILY: &str = "hostile_label_values";
const CALLS_FAMILY: &str = "perfscope_function_calls_total";

/// A figure source serving one gauge per value, labelled `index` and `value`.
#[derive(Debug, Default)]
struct Values(Mutex<Vec<String>>);

impl FigureSource for Values {
    fn read(&self, out: &mut Vec<Figure>) {
        let values = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, value) in values.iter().enumerate() {
            let figure =
                Figure::gauge("hostile", VALUES_FAMILY, "Hostile values.", FigureUnit::Count, 1.0);
            out.push(figure.with_label("index", i.to_string()).with_label("value", value.clone()));
        }
    }
}

/// Serves `functions` (name, module: each called once as a span) and `values` (figure label
/// values) through a fresh Prometheus exporter and checks the exposition; returns it and its
/// samples. Panics, with the exposition, on any violation.
pub fn check(functions: &[(String, String)], values: &[String]) -> (String, Vec<Sample>) {
    static SPAN_IDS: AtomicU64 = AtomicU64::new(1);
    perfscope_core::reset();
    let mut called = Vec::new();
    for (name, module) in functions {
        let id = register_dynamic(CallsiteInfo {
            name: name.as_str().into(),
            module_path: module.as_str().into(),
            file: "".into(),
            line: 0,
            kind: Kind::Span,
        });
        let span_id = SPAN_IDS.fetch_add(1, Ordering::Relaxed);
        let created = clock::now();
        span::enter(id, span_id, true);
        span::exit(span_id);
        span::close(id, created);
        // Past perfscope's callsite table, names share the overflow row (a long fuzz run).
        if id != OVERFLOW_ID {
            called.push((name, module));
        }
    }
    let source = Arc::new(Values(Mutex::new(values.to_vec())));
    let _registration = figures::register(source);

    let address = "127.0.0.1:0".parse().expect("an address");
    let exporter = perfscope_export::prometheus().with_address(address).start();
    let exporter = exporter.expect("the exporter starts on a free port");
    let text = exporter.render();
    exporter.shutdown();

    let samples = match text_format::parse(&text) {
        Ok(samples) => samples,
        Err(e) => panic!("invalid exposition: {e}\n--- exposition ---\n{text}"),
    };
    for (name, module) in called {
        let found = samples.iter().any(|s| {
            s.name == CALLS_FAMILY
                && s.label("function") == Some(name.as_str())
                && s.label("module") == Some(module.as_str())
        });
        assert!(found, "function {name:?} of module {module:?} not served as it is:\n{text}");
    }
    for (i, value) in values.iter().enumerate() {
        let index = i.to_string();
        let found = samples.iter().any(|s| {
            s.name == VALUES_FAMILY
                && s.label("index") == Some(index.as_str())
                && s.label("value") == Some(value.as_str())
        });
        assert!(found, "label value {value:?} not served as it is:\n{text}");
    }
    (text, samples)
}
