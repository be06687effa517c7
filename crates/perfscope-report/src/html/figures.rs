//! The HTML page's "Figures" section: every figure of the report that is not a function (the
//! monitor's, pools', caches', queries'), one sortable table, by section.

use std::fmt::Write;

use crate::format::{figure_label, human_figure};
use crate::report::Report;

use super::markup::escape;

/// Appends the section; nothing when the report has no figures.
pub(super) fn figures(report: &Report, out: &mut String) {
    if report.figures.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Figures</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">Figures that are not functions, as the report's sources gave them \
         (the same names as on <code>/metrics</code>).</p>\n",
    );
    out.push_str("<div class=\"ps-scroll\">\n<table class=\"ps-sortable\" id=\"ps-figures\">\n");
    out.push_str(
        "<thead><tr><th data-type=\"text\">section</th><th data-type=\"text\">figure</th>\
         <th class=\"num\" data-type=\"num\">value</th><th data-type=\"text\">what it is</th></tr>\
         </thead>\n<tbody>\n",
    );
    for figure in &report.figures {
        // A value that is not a number sorts last (`data-v` empty), as in every table.
        let sort_by =
            if figure.value.is_finite() { figure.value.to_string() } else { String::new() };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"name\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td>{}</td></tr>",
            escape(&figure.section),
            escape(&figure_label(figure)),
            sort_by,
            escape(&human_figure(figure)),
            escape(&figure.help)
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}
