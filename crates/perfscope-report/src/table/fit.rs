//! Fitting the table view to a terminal: a [`Grid`] (one of the view's tables) leaves out
//! columns and shortens its names step by step, in its own order of priority, until it is no
//! wider than the terminal; prose lines ([`Fit::prose`], [`Fit::list`]) wrap to the width.
//! Without a width (not a terminal, or `PERFSCOPE_TABLE=wide`) everything is as wide as its
//! content: the full table.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use textwrap::{Options, WordSeparator, core::Word};
use unicode_width::UnicodeWidthStr;

use crate::format::printable;

/// The narrowest a fitted name gets, in characters: past it, columns go instead.
pub(super) const MIN_NAME_CHARS: usize = 12;

/// One step that narrows a [`Grid`]: the first step is taken first.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// Leave the column with this header out (nothing when the grid has none).
    Drop(&'static str),
    /// Shorten the grid's name column as much as it takes to fit, to this many characters
    /// at the least.
    Names(usize),
}

/// How the name column is shortened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shorten {
    /// In the middle, keeping the first and the last `::` segments (functions).
    Path,
    /// At the end, with `…` (statements, cache and pool names).
    End,
}

/// One table of the view, before it is fitted.
#[derive(Debug)]
pub(super) struct Grid {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
    names: Option<(usize, Shorten)>,
    steps: Vec<Step>,
}

impl Grid {
    /// A table whose columns from `first_numeric` on are aligned right.
    pub(super) fn new(
        header: Vec<&'static str>,
        rows: Vec<Vec<String>>,
        first_numeric: usize,
    ) -> Grid {
        let right = (0..header.len()).map(|i| i >= first_numeric).collect();
        Grid { header, rows, right, names: None, steps: Vec::new() }
    }

    /// Aligns the column `header` left.
    pub(super) fn left(mut self, header: &str) -> Grid {
        if let Some(i) = self.header.iter().position(|h| *h == header) {
            self.right[i] = false;
        }
        self
    }

    /// The column `header` holds names, shortened as `how` by [`Step::Names`].
    pub(super) fn names(mut self, header: &str, how: Shorten) -> Grid {
        self.names = self.header.iter().position(|h| *h == header).map(|i| (i, how));
        self
    }

    /// How the grid narrows, first step first.
    pub(super) fn steps(mut self, steps: &[Step]) -> Grid {
        self.steps = steps.to_vec();
        self
    }

    /// The grid at full width, or narrowed step by step until it fits `width` columns (or
    /// the steps run out), with the headers of the columns it left out.
    pub(super) fn fit(&self, width: Option<usize>) -> (Table, Vec<&'static str>) {
        let Some(width) = width else {
            return (self.build(&vec![true; self.header.len()], usize::MAX, false), Vec::new());
        };
        let mut shown = vec![true; self.header.len()];
        let mut chars = usize::MAX;
        let mut steps = self.steps.iter();
        let table = loop {
            let table = self.build(&shown, chars, true);
            if table_width(&table) <= width {
                break table;
            }
            match steps.next() {
                Some(Step::Drop(header)) => {
                    if let Some(i) = self.header.iter().position(|h| h == header) {
                        shown[i] = false;
                    }
                }
                Some(Step::Names(min)) => {
                    // As short as it takes to fit, but no shorter than `min`.
                    let excess = table_width(&table) - width;
                    let longest = self.longest_name(chars);
                    chars = chars.min(longest.saturating_sub(excess).max(*min));
                }
                None => break table,
            }
        };
        let left_out = self.header.iter().zip(&shown).filter(|(_, s)| !**s).map(|(h, _)| *h);
        (table, left_out.collect())
    }

    /// The longest name as shown with names cut to `chars`, in characters.
    fn longest_name(&self, chars: usize) -> usize {
        let Some((column, how)) = self.names else {
            return 0;
        };
        let cells = self.rows.iter().filter_map(|row| row.get(column));
        cells.map(|name| shorten(&printable(name), chars, how).chars().count()).max().unwrap_or(0)
    }

    /// The table of the `shown` columns, names cut to `chars`; `escaped`: control characters
    /// written as escapes already, so that the table is measured as the terminal shows it.
    fn build(&self, shown: &[bool], chars: usize, escaped: bool) -> Table {
        let keep = |i: &usize| shown[*i];
        let columns: Vec<usize> = (0..self.header.len()).filter(keep).collect();
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(columns.iter().map(|&i| self.header[i]));
        for row in &self.rows {
            table.add_row(columns.iter().map(|&i| {
                let cell = row.get(i).map(String::as_str).unwrap_or_default();
                let cell = if escaped { printable(cell) } else { cell.into() };
                match self.names {
                    Some((column, how)) if column == i => shorten(&cell, chars, how),
                    _ => cell.into_owned(),
                }
            }));
        }
        for (at, &i) in columns.iter().enumerate() {
            if let Some(column) = table.column_mut(at) {
                let align = if self.right[i] { CellAlignment::Right } else { CellAlignment::Left };
                column.set_cell_alignment(align);
            }
        }
        table
    }
}

/// The widest line of `table`, in terminal columns.
fn table_width(table: &Table) -> usize {
    table.lines().map(|line| line.width()).max().unwrap_or(0)
}

/// `name` in at most `max` characters (`max` at least [`MIN_NAME_CHARS`] is best): as it is
/// when it fits; else, for a path, its first segment, `…` and as many of its last segments as
/// fit (`app::…::scan::rsi`), or `…` and the end of the name; for other text, its start and
/// `…`.
pub(super) fn shorten(name: &str, max: usize, how: Shorten) -> String {
    let chars = name.chars().count();
    if chars <= max {
        return name.to_string();
    }
    let max = max.max(2);
    if how == Shorten::End {
        return name.chars().take(max - 1).chain(['…']).collect();
    }
    let segments: Vec<&str> = name.split("::").collect();
    if let [first, rest @ ..] = segments.as_slice()
        && !rest.is_empty()
    {
        // `first::…` and the most last segments that fit after it; else `…` and those.
        for prefix in [format!("{first}::…"), "…".to_string()] {
            let budget = max.saturating_sub(prefix.chars().count());
            let tail = last_segments(rest, budget);
            if !tail.is_empty() {
                return prefix + &tail;
            }
        }
        // `…` and the last segment, whole.
        let last = rest[rest.len() - 1];
        if last.chars().count() < max {
            return format!("…{last}");
        }
    }
    let skip = chars - (max - 1);
    std::iter::once('…').chain(name.chars().skip(skip)).collect()
}

/// `::a::b`: the most of `segments`, from the last, that fit in `budget` characters.
fn last_segments(segments: &[&str], budget: usize) -> String {
    let mut tail = String::new();
    for segment in segments.iter().rev() {
        let longer = format!("::{segment}{tail}");
        if longer.chars().count() > budget {
            break;
        }
        tail = longer;
    }
    tail
}

/// The width the view is fitted to, and the lines it writes at that width.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fit {
    /// Terminal columns; `None`: every line as long as its content.
    pub(super) width: Option<usize>,
}

impl Fit {
    /// `text` wrapped at spaces to the width, lines after the first indented by `indent`.
    pub(super) fn prose(&self, text: &str, indent: &str) -> String {
        self.wrap(text, ("", indent), WordSeparator::AsciiSpace)
    }

    /// An item of a block: `text` after `first`, wrapped as [`Fit::prose`], lines after the
    /// first indented by `rest`.
    pub(super) fn item(&self, first: &str, text: &str, rest: &str) -> String {
        match self.width {
            None => format!("{first}{text}"),
            Some(_) => self.wrap(text, (first, rest), WordSeparator::AsciiSpace),
        }
    }

    /// A list whose items are separated by `, `: wrapped between items (an item too long
    /// for a line is broken), lines after the first indented by `indent`.
    pub(super) fn list(&self, text: &str, indent: &str) -> String {
        self.wrap(text, ("", indent), WordSeparator::Custom(list_items))
    }

    fn wrap(&self, text: &str, (first, rest): (&str, &str), words: WordSeparator) -> String {
        let Some(width) = self.width else {
            return text.to_string();
        };
        let options = Options::new(width.max(1))
            .initial_indent(first)
            .subsequent_indent(rest)
            .word_separator(words);
        textwrap::wrap(text, options).join("\n")
    }
}

/// The items of a `, `-separated list after its `name: `, as words for `textwrap`: each keeps
/// its comma; a closing `(...)` note is a word of its own, and an item breaks after a comma
/// of its own (between a series' labels) or a `::` before it breaks anywhere else.
fn list_items(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    let mut rest = line;
    Box::new(std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let end = (0..bytes.len())
            .find_map(|i| match (bytes[i], bytes.get(i + 1)) {
                (b',' | b':', Some(b' ')) | (b':', Some(b':')) => Some(i + 2),
                (b' ', Some(b'(')) => Some(i + 1),
                (b',', _) => Some(i + 1),
                _ => None,
            })
            .unwrap_or(rest.len());
        let (item, after) = rest.split_at(end);
        rest = after;
        Some(Word::from(item))
    }))
}

/// `text` with every line cut to `width` terminal columns (`…` marks a cut): what keeps a
/// line the steps could not narrow enough (a terminal a few columns wide) from wrapping.
pub(super) fn clip_lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.width() <= width {
            out.push_str(line);
            continue;
        }
        let mut used = 0;
        for c in line.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w + 1 > width {
                break;
            }
            out.push(c);
            used += w;
        }
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_first_and_last_segments() {
        let name = "market_scanner::indicators::momentum::relative_strength_index";
        assert_eq!(shorten(name, 80, Shorten::Path), name);
        assert_eq!(shorten(name, 50, Shorten::Path), "market_scanner::…::relative_strength_index");
        assert_eq!(shorten(name, 40, Shorten::Path), "…::momentum::relative_strength_index");
        assert_eq!(shorten(name, 30, Shorten::Path), "…::relative_strength_index");
        let short = "market_scanner::indicators::momentum::rsi";
        assert_eq!(shorten(short, 30, Shorten::Path), "market_scanner::…::rsi");
        assert_eq!(shorten(short, 33, Shorten::Path), "market_scanner::…::momentum::rsi");
        assert_eq!(shorten(name, 25, Shorten::Path), "…relative_strength_index");
        assert_eq!(shorten(name, 12, Shorten::Path), "…ength_index");
        assert_eq!(shorten("no_path_at_all_here", 12, Shorten::Path), "…at_all_here");
        assert_eq!(shorten("a_statement_text", 8, Shorten::End), "a_state…");
        for max in 2..70 {
            assert!(shorten(name, max, Shorten::Path).chars().count() <= max, "{max}");
        }
    }

    #[test]
    fn lists_wrap_between_items() {
        let fit = Fit { width: Some(24) };
        let text = "host: cpu 45.0%, load 1.20, memory 3.07 MiB";
        assert_eq!(fit.list(text, "  "), "host: cpu 45.0%,\n  load 1.20,\n  memory 3.07 MiB");
        let wide = Fit { width: None };
        assert_eq!(wide.list(text, "  "), text);
        let labelled = "alert: firing{alert=\"cpu_saturated\",severity=\"warning\"} 0 (+3 more)";
        assert_eq!(
            Fit { width: Some(36) }.list(labelled, "  "),
            // Not `…saturated",sev` / `erity=…`: the labels break after a comma.
            "alert: firing{alert=\"cpu_saturated\",\n  severity=\"warning\"} 0 (+3 more)"
        );
    }

    #[test]
    fn lines_are_clipped_to_the_width() {
        assert_eq!(clip_lines("abcdef\nab", 4), "abc…\nab");
        assert_eq!(clip_lines("日本語です", 5), "日本…");
    }
}
