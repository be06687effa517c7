//! Folded stacks (`a;b;c <weight>` lines, the input of `inferno` and `flamegraph.pl`), rebuilt
//! from the report's call edges.
//!
//! A report keeps per-function totals and per-edge totals (parent → child: calls, the child's
//! inclusive time and bytes when called from that parent), not whole call paths. The call tree
//! is rebuilt from them as follows:
//!
//! - **roots**: each function's inclusive figure that no incoming edge explains
//!   (`busy − Σ incoming edge busy`, at least 0) starts a stack of its own;
//! - **edges**: a child reached from a parent gets the share of its inclusive figure that flows
//!   along that edge (`edge.busy / child.busy`), times the share of the parent reached on the
//!   current path;
//! - **weights**: a frame's own weight is its share times its self figure (`self_ns`, or
//!   `alloc_bytes` for [`Report::folded_bytes`]).
//!
//! This is exact when every function has a single caller (a tree). A callee shared by several
//! callers is split between them in proportion to the edge totals, the same split on every path:
//! if `c` is called from `a` and `b` and calls `d`, the `a;c;d` and `b;c;d` stacks share `d`'s
//! time as `a;c` and `b;c` share `c`'s, even if in reality only the calls from `a` reached `d`.
//!
//! Guards: a function already on the current path (recursion, or a cycle through other
//! functions) is not walked again, and the share that would have flowed into it is added to the
//! current frame; so is everything past [`MAX_DEPTH`] frames or past [`MAX_FRAMES`] visited
//! frames. Contributions under one nanosecond (one byte) are dropped. `<other>` children (past
//! the per-thread edge table) and children missing from the report are leaves that are not
//! expanded: the functions behind them have no edge from this parent, so their time shows up
//! as root stacks instead. The sum of the weights is therefore Σ self of all functions, up to
//! the dropped crumbs and rounding.
//!
//! When edges carry no time (reports from before per-edge figures were recorded), every
//! function is its own root: one single-frame stack per function, weighted by its self figure.
//!
//! Names are sanitised for the format: `;` becomes `；` (U+FF1B), control characters become
//! spaces, surrounding whitespace is trimmed, and a trailing number (`step 2`) is glued to the
//! name with a no-break space so it cannot be read as a sample count.

use std::collections::BTreeMap;

use crate::report::{CallEdge, FunctionStats, Report};

/// Frames deeper than this are not walked: their share is added to the deepest frame.
pub(crate) const MAX_DEPTH: usize = 128;

/// Frames visited in one rebuild before the walk stops expanding (explosion guard for densely
/// shared call graphs).
pub(crate) const MAX_FRAMES: usize = 200_000;

/// The child name the engine uses for children past its per-thread edge table.
const OTHER: &str = "<other>";

/// What a folded stack is weighted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    /// Self time in nanoseconds; edges and roots use on-CPU (busy) time.
    SelfTime,
    /// Self allocated bytes; edges and roots use inclusive allocated bytes.
    AllocBytes,
}

impl Weight {
    /// A function's inclusive figure.
    fn inclusive(self, f: &FunctionStats) -> u64 {
        match self {
            Weight::SelfTime => f.busy_ns,
            Weight::AllocBytes => f.total_alloc_bytes,
        }
    }

    /// A function's self figure.
    fn own(self, f: &FunctionStats) -> u64 {
        match self {
            Weight::SelfTime => f.self_ns,
            Weight::AllocBytes => f.alloc_bytes,
        }
    }

    /// An edge's figure: the child's inclusive figure when called from the parent.
    fn edge(self, child: &CallEdge) -> u64 {
        match self {
            Weight::SelfTime => child.busy_ns,
            Weight::AllocBytes => child.alloc_bytes,
        }
    }
}

impl Report {
    /// Folded stacks weighted by self time in nanoseconds, one `a;b;c <ns>` line per stack,
    /// sorted, ready for `inferno-flamegraph` or `flamegraph.pl`.
    ///
    /// The stacks are rebuilt from per-edge totals, not recorded per path: exact for call
    /// trees, proportional for callees shared by several callers (see the module docs in
    /// `folded.rs`, or `docs/report-schema.md`). The weights add up to the sum of
    /// `self_ns` over all functions, up to rounding.
    ///
    /// ```
    /// use perfscope_report::{CallEdge, FunctionStats, Report};
    ///
    /// // Busy time is inclusive; self time excludes measured callees.
    /// let function = |name: &str, calls, busy_ns, self_ns, children| FunctionStats {
    ///     name: name.into(),
    ///     calls,
    ///     busy_ns,
    ///     self_ns,
    ///     children,
    ///     ..FunctionStats::default()
    /// };
    /// let edge = CallEdge { name: "app::checksum".into(), calls: 50, busy_ns: 180_000, alloc_bytes: 0 };
    /// let report = Report {
    ///     functions: vec![function("app::checksum", 50, 180_000, 180_000, vec![]), function("app::load", 1, 181_000, 1_000, vec![edge])],
    ///     ..Report::default()
    /// };
    /// assert_eq!(report.folded(), "app::load 1000\napp::load;app::checksum 180000\n");
    /// ```
    pub fn folded(&self) -> String {
        fold(self, Weight::SelfTime)
    }

    /// Folded stacks weighted by bytes allocated in each frame itself (`alloc_bytes`), rebuilt
    /// from the per-edge allocated bytes the same way as [`Report::folded`]. Empty when the
    /// report has no allocation figures (`alloc_tracking` off).
    pub fn folded_bytes(&self) -> String {
        fold(self, Weight::AllocBytes)
    }
}

/// Renders the folded stacks of `report` weighted by `weight`.
pub(crate) fn fold(report: &Report, weight: Weight) -> String {
    let graph = Graph::new(report, weight);
    let mut walk = Walk { graph: &graph, path: Vec::new(), frames: 0, stacks: BTreeMap::new() };
    for (name, node) in &graph.nodes {
        let reach = if node.inclusive == 0 {
            // No inclusive figure (inconsistent input): the node can only stand alone.
            1.0
        } else {
            let incoming = graph.incoming.get(name).copied().unwrap_or(0);
            node.inclusive.saturating_sub(incoming) as f64 / node.inclusive as f64
        };
        if reach > 0.0 {
            walk.visit(name, reach);
        }
    }
    let mut out = String::new();
    for (stack, weight) in walk.stacks {
        let weight = weight.round();
        if weight >= 1.0 {
            out.push_str(&stack);
            out.push(' ');
            out.push_str(&(weight as u64).to_string());
            out.push('\n');
        }
    }
    out
}

/// One function, merged by name.
#[derive(Debug, Default)]
struct Node {
    /// Inclusive figure: busy time or inclusive allocated bytes.
    inclusive: u64,
    /// Self figure: self time or self allocated bytes.
    own: u64,
    /// Children by name: the child's inclusive figure when called from here.
    edges: BTreeMap<String, u64>,
}

/// The call graph of a report, keyed by sanitised function name.
#[derive(Debug)]
struct Graph {
    nodes: BTreeMap<String, Node>,
    /// Per function: the sum of its incoming edges' figures.
    incoming: BTreeMap<String, u64>,
}

impl Graph {
    fn new(report: &Report, weight: Weight) -> Graph {
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for func in &report.functions {
            let node = nodes.entry(frame_name(&func.name)).or_default();
            node.inclusive = node.inclusive.saturating_add(weight.inclusive(func));
            node.own = node.own.saturating_add(weight.own(func));
            for child in &func.children {
                let figure = weight.edge(child);
                // `<other>` is a leaf whatever the report holds under that name.
                if child.name != OTHER && figure > 0 {
                    let edge = node.edges.entry(frame_name(&child.name)).or_default();
                    *edge = edge.saturating_add(figure);
                }
            }
        }
        let mut incoming: BTreeMap<String, u64> = BTreeMap::new();
        for node in nodes.values() {
            for (child, &figure) in &node.edges {
                let sum = incoming.entry(child.clone()).or_default();
                *sum = sum.saturating_add(figure);
            }
        }
        Graph { nodes, incoming }
    }
}

/// The state of one rebuild: the current path and the accumulated stacks.
struct Walk<'g> {
    graph: &'g Graph,
    path: Vec<&'g str>,
    frames: usize,
    stacks: BTreeMap<String, f64>,
}

impl<'g> Walk<'g> {
    /// Walks `name` reached with share `reach` of its calls, below the current path.
    fn visit(&mut self, name: &'g str, reach: f64) {
        let graph = self.graph;
        let Some(node) = graph.nodes.get(name) else {
            return;
        };
        self.path.push(name);
        self.frames += 1;
        let mut own = reach * node.own as f64;
        for (child_name, &edge) in &node.edges {
            let Some(child) = graph.nodes.get(child_name) else {
                continue; // not in the report: a leaf we cannot expand
            };
            if child.inclusive == 0 {
                continue;
            }
            let share = (edge as f64 / child.inclusive as f64).min(1.0);
            let child_reach = reach * share;
            // Everything below the child on this path adds up to this much.
            let flow = child_reach * child.inclusive as f64;
            if flow < 1.0 {
                continue;
            }
            let on_path = self.path.contains(&child_name.as_str());
            if on_path || self.path.len() >= MAX_DEPTH || self.frames >= MAX_FRAMES {
                own += flow;
            } else {
                self.visit(child_name, child_reach);
            }
        }
        if own > 0.0 {
            *self.stacks.entry(self.path.join(";")).or_default() += own;
        }
        self.path.pop();
    }
}

/// A function name made safe for one frame of a folded line.
pub(crate) fn frame_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            ';' => '；',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let mut cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        return "<unnamed>".into();
    }
    // `name 2` at the end of a line would read as `name` with a second sample column.
    if let Some(space) = cleaned.rfind(' ') {
        let tail = &cleaned[space + 1..];
        if tail.chars().all(|c| c.is_ascii_digit() || c == '.') {
            cleaned.replace_range(space..space + 1, "\u{a0}");
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::frame_name;

    #[test]
    fn frame_names_cannot_break_the_format() {
        assert_eq!(frame_name("a::b"), "a::b");
        assert_eq!(frame_name("f::<[u8; 4]>"), "f::<[u8； 4]>");
        assert_eq!(frame_name(" two\nlines\t"), "two lines");
        assert_eq!(frame_name("step 2"), "step\u{a0}2");
        assert_eq!(frame_name("<a::B as c::D>::f"), "<a::B as c::D>::f");
        assert_eq!(frame_name("  "), "<unnamed>");
    }
}
