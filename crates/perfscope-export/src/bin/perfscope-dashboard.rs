//! Prints perfscope's Grafana dashboard (the JSON model) to stdout:
//!
//! ```text
//! cargo run -p perfscope-export --bin perfscope-dashboard > dashboards/perfscope.json
//! ```

use std::io::Write;

fn main() -> std::process::ExitCode {
    let json = perfscope_export::dashboard::dashboard_json();
    match std::io::stdout().lock().write_all(json.as_bytes()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("perfscope-dashboard: cannot write the dashboard: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
