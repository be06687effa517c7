//! Lists of values, whatever their length, as one token: an `IN` list (`IN (1, 2, 3)`, and
//! one of tuples, `IN ((1, 2), (3, 4))`) and a `VALUES` row of values become `(...)`, an
//! `ARRAY[...]` of values `[...]`; a multi-row `VALUES` keeps one of each run of identical
//! rows (`VALUES (...), (...)` and `VALUES (?, now()), (?, now())` are one row).
//!
//! Other parentheses keep their values (`f(?, ?)`, `= (?)`, `varchar(?)`): their count is
//! part of the statement's shape.

use super::lex::Norm;

/// What an opening parenthesis or bracket starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Context {
    /// An `IN` list, or an element of one.
    InList,
    /// A row of `VALUES`.
    Row,
    /// An `ARRAY[...]`, or an element of one.
    Array,
    Other,
}

/// An opening parenthesis or bracket not yet closed.
struct Opened {
    /// Its index in the output.
    at: usize,
    bracket: bool,
    context: Context,
}

/// `tokens` with their lists of values collapsed (see the module documentation).
pub(super) fn collapse(tokens: Vec<Norm>) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::with_capacity(tokens.len());
    let mut opened: Vec<Opened> = Vec::new();
    // The output range of the latest `VALUES` row, to drop the same row repeated after it.
    let mut last_row: Option<(usize, usize)> = None;
    for token in tokens {
        match token {
            Norm::Open | Norm::OpenBracket => {
                let bracket = token == Norm::OpenBracket;
                let context = context(&out, opened.last(), last_row, bracket);
                opened.push(Opened { at: out.len(), bracket, context });
                out.push(token);
            }
            Norm::Close | Norm::CloseBracket => {
                let bracket = token == Norm::CloseBracket;
                match opened.pop_if(|open| open.bracket == bracket) {
                    Some(open) => close(&mut out, &open, token, &mut last_row),
                    // Unbalanced: kept as written.
                    None => out.push(token),
                }
            }
            token => out.push(token),
        }
    }
    out
}

/// The context of a `(` (or `[`, `bracket`) about to be pushed after `out`.
fn context(
    out: &[Norm],
    enclosing: Option<&Opened>,
    last_row: Option<(usize, usize)>,
    bracket: bool,
) -> Context {
    let enclosing = enclosing.map(|open| open.context);
    let wanted = if bracket { Context::Array } else { Context::InList };
    match out.last() {
        Some(Norm::Keyword(k)) if !bracket && k == "IN" => Context::InList,
        Some(Norm::Keyword(k)) if !bracket && k == "VALUES" => Context::Row,
        Some(Norm::Keyword(k)) if bracket && k == "ARRAY" => Context::Array,
        // A tuple in an IN list, an array in an array.
        Some(Norm::Open | Norm::OpenBracket | Norm::Comma) if enclosing == Some(wanted) => wanted,
        // The next row of a multi-row VALUES.
        Some(Norm::Comma) if !bracket && last_row.is_some_and(|(_, end)| end + 1 == out.len()) => {
            Context::Row
        }
        _ => Context::Other,
    }
}

/// Closes `open` with `token` (`)` or `]`): a list of values in a list context becomes one
/// token, and a `VALUES` row like the one before it goes.
fn close(out: &mut Vec<Norm>, open: &Opened, token: Norm, last_row: &mut Option<(usize, usize)>) {
    if open.context != Context::Other && values(&out[open.at + 1..]) {
        out.truncate(open.at);
        out.push(if open.bracket { Norm::ArrayList } else { Norm::List });
    } else {
        out.push(token);
    }
    if open.context != Context::Row {
        return;
    }
    let row = (open.at, out.len());
    match *last_row {
        // `previous , row`: the comma right after the previous row.
        Some(previous)
            if previous.1 + 1 == row.0 && out[previous.0..previous.1] == out[row.0..row.1] =>
        {
            out.truncate(previous.1);
        }
        _ => *last_row = Some(row),
    }
}

/// Whether `tokens` are one or more values (or lists of them) separated by commas.
fn values(tokens: &[Norm]) -> bool {
    !tokens.is_empty()
        && tokens.len() % 2 == 1
        && tokens.iter().enumerate().all(|(i, t)| match i % 2 {
            0 => matches!(t, Norm::Value | Norm::List | Norm::ArrayList),
            _ => *t == Norm::Comma,
        })
}
