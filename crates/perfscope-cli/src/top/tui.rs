//! The terminal view: ratatui on crossterm, the reports fetched on a thread of their own (each
//! takes an interval), keys read meanwhile. The terminal is restored however the view ends.

use std::sync::mpsc;
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use perfscope_report::Report;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row as TableRow, Table};

use super::fetch::Source;
use super::view::{HEADER, SortKey, alerts_line, cells, rows, system_line};
use crate::Outcome;
use crate::cli::TopArgs;
use crate::error::CliError;

/// What the screen shows.
struct State {
    url: String,
    interval: u64,
    sort: SortKey,
    paused: bool,
    rows: usize,
    report: Option<Report>,
    error: Option<String>,
}

/// Runs the view until `q`, Esc or Ctrl-C.
pub(crate) fn run(source: Source, args: &TopArgs) -> Result<Outcome, CliError> {
    let (sender, reports) = mpsc::channel::<Result<Report, CliError>>();
    let url = source.url.clone();
    // The fetching thread ends when the view is gone (its send fails).
    std::thread::spawn(move || while sender.send(source.window()).is_ok() {});
    let mut state = State {
        url,
        interval: args.interval,
        sort: args.sort,
        paused: false,
        rows: args.rows,
        report: None,
        error: None,
    };
    let mut terminal = ratatui::init();
    let result = (|| -> std::io::Result<()> {
        loop {
            terminal.draw(|frame| draw(frame, &state))?;
            if event::poll(Duration::from_millis(100))?
                && let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
            {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    _ if ctrl_c => return Ok(()),
                    KeyCode::Char('p') => state.paused = !state.paused,
                    KeyCode::Char('s') => state.sort = state.sort.next(),
                    _ => {}
                }
            }
            while let Ok(next) = reports.try_recv() {
                if state.paused {
                    continue;
                }
                match next {
                    Ok(report) => {
                        state.report = Some(report);
                        state.error = None;
                    }
                    Err(error) => state.error = Some(crate::error::one_line(&error.to_string())),
                }
            }
        }
    })();
    ratatui::restore();
    result.map_err(|e| CliError::Live { url: state.url, reason: e.to_string() })?;
    Ok(Outcome::Success)
}

fn draw(frame: &mut ratatui::Frame<'_>, state: &State) {
    let [title, system, alerts, table, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let window = state.report.as_ref().map_or("waiting for the first window".to_string(), |r| {
        format!("the last {:.1} s", r.elapsed_ns as f64 / 1e9)
    });
    let paused = if state.paused { " [PAUSED]" } else { "" };
    let heading = format!(
        "perfscope top {} - {window}, every {} s, by {}{paused}",
        state.url,
        state.interval,
        state.sort.as_str()
    );
    frame
        .render_widget(Line::from(heading).style(Style::new().add_modifier(Modifier::BOLD)), title);
    let (system_text, alerts_text) = match (&state.report, &state.error) {
        (_, Some(error)) => (format!("error: {error}"), String::new()),
        (Some(report), None) => (system_line(report), alerts_line(report)),
        (None, None) => (String::new(), String::new()),
    };
    frame.render_widget(Paragraph::new(system_text), system);
    frame.render_widget(Paragraph::new(alerts_text), alerts);
    let shown = state.report.as_ref().map(|r| rows(r, state.sort, state.rows)).unwrap_or_default();
    let body: Vec<TableRow<'_>> = shown.iter().map(|r| TableRow::new(cells(r))).collect();
    let widths = [
        Constraint::Min(24),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(12),
    ];
    let header = TableRow::new(HEADER).style(Style::new().add_modifier(Modifier::BOLD));
    let table_widget =
        Table::new(body, widths).header(header).block(Block::bordered().title("hot functions"));
    frame.render_widget(table_widget, table);
    frame.render_widget(Line::from("s: sort   p: pause   q: quit"), keys);
}
