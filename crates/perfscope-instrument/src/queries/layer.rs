//! [`QueryLayer`]: what turns sqlx's statement events (and the failure events of
//! [`ERROR_TARGET`]) into [`QueryCollector`] counts.

use std::fmt;
use std::time::Duration;

use tracing_core::field::{Field, Visit};
use tracing_core::{Event as TracingEvent, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::{ERROR_TARGET, QueryCollector, QueryRecord, SQLX_TARGET, sqlite};

/// The layer counting sqlx's statement events; built by [`QueryCollector::layer`], which
/// wraps it in the filter enabling `sqlx::query` and [`ERROR_TARGET`].
#[derive(Debug)]
pub struct QueryLayer {
    collector: QueryCollector,
}

impl QueryLayer {
    pub(super) fn new(collector: QueryCollector) -> QueryLayer {
        QueryLayer { collector }
    }
}

impl<S: Subscriber> Layer<S> for QueryLayer {
    fn on_event(&self, event: &TracingEvent<'_>, _ctx: Context<'_, S>) {
        // With `perfscope/off` no statement is read (nor counted).
        if perfscope_core::OFF {
            return;
        }
        let target = event.metadata().target();
        let failed = target == ERROR_TARGET;
        if !failed && target != SQLX_TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let statement = fields.statement.trim();
        let statement = if statement.is_empty() { fields.summary.trim() } else { statement };
        if statement.is_empty() || statement.starts_with(sqlite::MARK) {
            return;
        }
        if failed {
            self.collector.record_error(statement);
            return;
        }
        let elapsed = fields
            .elapsed_secs
            .map_or(Duration::ZERO, |s| Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO));
        self.collector.record(&QueryRecord {
            statement,
            elapsed,
            rows_returned: fields.rows_returned,
            rows_affected: fields.rows_affected,
        });
    }
}

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    elapsed_secs: Option<f64>,
    rows_returned: u64,
    rows_affected: u64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = Some(value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `summary` and `db.statement` arrive as strings; a Debug-formatted one would be quoted.
        if matches!(field.name(), "summary" | "db.statement") {
            let text = format!("{value:?}");
            self.record_str(field, text.trim_matches('"'));
        }
    }
}
