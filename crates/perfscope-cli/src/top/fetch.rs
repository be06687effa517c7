//! One window of the program's report: `GET <url>/debug/perfscope/report?seconds=N&format=json`.

use std::time::Duration;

use perfscope_report::Report;

use crate::error::CliError;

/// The endpoint's path (`perfscope_export::DEBUG_PATH`).
const PATH: &str = "/debug/perfscope/report";

/// Where the reports come from.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) url: String,
    interval: Duration,
    client: reqwest::blocking::Client,
}

impl Source {
    /// The program at `url` (`http://127.0.0.1:9464`), one window every `interval`.
    pub(crate) fn new(url: &str, interval: Duration) -> Result<Source, CliError> {
        let url = url.trim_end_matches('/').to_string();
        let bad = |reason: String| CliError::Live { url: url.clone(), reason };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(bad("expected an http:// address, e.g. http://127.0.0.1:9464".into()));
        }
        if interval.is_zero() || interval > Duration::from_secs(300) {
            return Err(bad("the interval must be 1 to 300 seconds".into()));
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(interval + Duration::from_secs(15))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Source { url, interval, client })
    }

    /// The report of the next interval (blocks for it).
    pub(crate) fn window(&self) -> Result<Report, CliError> {
        let bad = |reason: String| CliError::Live { url: self.url.clone(), reason };
        let address = format!("{}{PATH}?seconds={}&format=json", self.url, self.interval.as_secs());
        let response = self.client.get(&address).send().map_err(|e| bad(e.to_string()))?;
        let status = response.status();
        let body = response.text().map_err(|e| bad(e.to_string()))?;
        if !status.is_success() {
            let hint = if status.as_u16() == 404 {
                " (is the program serving it? perfscope_export::prometheus().with_debug_endpoint())"
            } else {
                ""
            };
            return Err(bad(format!("{status}: {}{hint}", body.trim())));
        }
        Report::from_json(&body).map_err(|e| bad(format!("not a report: {e}")))
    }
}
