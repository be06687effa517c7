//! Views of a [`Report`](crate::Report) for people and tools beyond the terminal table:
//! folded stacks ([`Report::folded`](crate::Report::folded)), flame graphs
//! ([`Report::flamegraph_svg`](crate::Report::flamegraph_svg), cargo feature `flamegraph`) and a
//! self-contained HTML page ([`Report::to_html`](crate::Report::to_html)).
//!
//! All of them are built from the report alone, so they work as well on a report read back with
//! [`Report::from_json`](crate::Report::from_json) as on a live one.

mod charts;
mod figures;
#[cfg(feature = "flamegraph")]
mod flamegraph;
mod folded;
mod heatmap;
mod html;
mod sections;

#[cfg(feature = "flamegraph")]
pub use flamegraph::FlameError;
