//! HTML building blocks the page's sections share: escaping, header and numeric cells, a
//! section's sortable table. A leaf: the sections use it, it uses none of them.

use std::fmt::Write;

use std::time::Duration;

use crate::format::{human_duration, human_ns, percent};
use crate::report::FunctionStats;

/// `s` with the five HTML-significant characters replaced by entities; safe in text and in
/// quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A function's name escaped, with a line-break opportunity after each `::`, so that a
/// long path wraps in its cell instead of widening the table.
pub(crate) fn path(name: &str) -> String {
    escape(name).replace("::", "::<wbr>")
}

/// A header cell; `numeric` columns sort by their cells' `data-v`.
pub(crate) fn th(out: &mut String, label: &str, numeric: bool) {
    if numeric {
        let _ = write!(out, "<th class=\"num\" data-type=\"num\">{label}</th>");
    } else {
        let _ = write!(out, "<th data-type=\"text\">{label}</th>");
    }
}

/// A numeric cell showing `text`, sorting by `value`.
pub(crate) fn td_num(out: &mut String, value: impl std::fmt::Display, text: &str) {
    let _ = write!(out, "<td class=\"num\" data-v=\"{value}\">{}</td>", escape(text));
}

/// A numeric cell of a count the report may not have (`-`, sorting last).
pub(crate) fn td_count(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => td_num(out, n, &n.to_string()),
        None => td_num(out, "", "-"),
    }
}

/// A numeric cell of a duration the report may not have (sorting by seconds; `-` sorts last).
pub(crate) fn td_duration(out: &mut String, duration: Option<Duration>) {
    match duration {
        Some(d) => td_num(out, d.as_secs_f64(), &human_duration(d)),
        None => td_num(out, "", "-"),
    }
}

/// A numeric cell of a share, with a bar under the figure.
pub(crate) fn td_share(out: &mut String, share: Option<f64>) {
    match share.filter(|s| s.is_finite()) {
        Some(share) => {
            let width = (share.clamp(0.0, 1.0) * 100.0).round();
            let _ = write!(
                out,
                "<td class=\"num ps-share\" data-v=\"{share}\" style=\"--share:{width}%\">{}</td>",
                percent(Some(share))
            );
        }
        None => td_num(out, "", "-"),
    }
}

/// Mean and p99 cells of a frame, titled with its name and calls.
pub(crate) fn td_frame(out: &mut String, frame: Option<&FunctionStats>) {
    let Some(frame) = frame else {
        td_num(out, "", "-");
        td_num(out, "", "-");
        return;
    };
    let title = escape(&format!("frame {}: {} calls", frame.name, frame.calls));
    for ns in [frame.mean_ns, frame.p99_ns] {
        let _ = write!(
            out,
            "<td class=\"num\" data-v=\"{ns}\" title=\"{title}\">{}</td>",
            human_ns(ns)
        );
    }
}

/// Opens a section and its sortable table (headers may wrap: the tables are wide).
pub(crate) fn open_table(out: &mut String, title: &str, note: &str, id: &str) {
    let _ = write!(
        out,
        "<section>\n<h2>{title}</h2>\n<p class=\"ps-note\">{note}</p>\n<div class=\"ps-scroll\">\n\
         <table class=\"ps-sortable ps-wide\" id=\"{id}\">\n<thead><tr>"
    );
}

pub(crate) const CLOSE_TABLE: &str = "</tbody>\n</table>\n</div>\n";

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
