//! Report views on hand-built reports: folded stacks, flame graphs, HTML.

use perfscope::{CallEdge, FunctionKind, FunctionStats, Report};

/// A sync function with `self_ns` of its own and `busy_ns` inclusive, calling `children`
/// (`(name, edge busy_ns)`).
fn func(name: &str, self_ns: u64, busy_ns: u64, children: &[(&str, u64)]) -> FunctionStats {
    FunctionStats {
        name: name.into(),
        module: "tests".into(),
        file: "tests/views.rs".into(),
        line: 1,
        kind: FunctionKind::Sync,
        calls: 10,
        total_ns: busy_ns,
        self_ns,
        busy_ns,
        mean_ns: busy_ns / 10,
        p50_ns: busy_ns / 10,
        p90_ns: busy_ns / 10,
        p99_ns: busy_ns / 10,
        max_ns: busy_ns / 10,
        children: children
            .iter()
            .map(|&(name, busy_ns)| CallEdge {
                name: name.into(),
                calls: 10,
                busy_ns,
                alloc_bytes: 0,
            })
            .collect(),
        ..FunctionStats::default()
    }
}

fn report(functions: Vec<FunctionStats>) -> Report {
    Report { elapsed_ns: 1_000_000, functions, ..Report::default() }
}

/// main → parse → tokenize, main → log: a tree, so the folded stacks are exact.
fn tree() -> Report {
    report(vec![
        func("app::main", 10_000, 100_000, &[("app::parse", 60_000), ("app::log", 30_000)]),
        func("app::parse", 20_000, 60_000, &[("app::tokenize", 40_000)]),
        func("app::tokenize", 40_000, 40_000, &[]),
        func("app::log", 30_000, 30_000, &[]),
    ])
}

fn weights(folded: &str) -> u64 {
    folded
        .lines()
        .map(|line| {
            let (_, weight) = line.rsplit_once(' ').expect("a weight");
            weight.parse::<u64>().expect("an integer weight")
        })
        .sum()
}

fn self_sum(report: &Report) -> u64 {
    report.functions.iter().map(|f| f.self_ns).sum()
}

#[test]
fn folded_tree_is_exact() {
    assert_eq!(
        tree().folded(),
        "app::main 10000\n\
         app::main;app::log 30000\n\
         app::main;app::parse 20000\n\
         app::main;app::parse;app::tokenize 40000\n"
    );
}

#[test]
fn shared_callee_is_split_by_edge_time() {
    // c is called from a (30 µs) and b (10 µs); c calls d. c and d are split 3:1.
    let r = report(vec![
        func("main", 0, 100_000, &[("a", 50_000), ("b", 50_000)]),
        func("a", 20_000, 50_000, &[("c", 30_000)]),
        func("b", 40_000, 50_000, &[("c", 10_000)]),
        func("c", 20_000, 40_000, &[("d", 20_000)]),
        func("d", 20_000, 20_000, &[]),
    ]);
    assert_eq!(
        r.folded(),
        "main;a 20000\nmain;a;c 15000\nmain;a;c;d 15000\n\
         main;b 40000\nmain;b;c 5000\nmain;b;c;d 5000\n"
    );
    assert_eq!(weights(&r.folded()), self_sum(&r));
}

#[test]
fn self_recursion_terminates_and_keeps_the_sum() {
    // Outer call 100 µs inclusive (40 self), nested call 60 µs (all self).
    let r = report(vec![func("fib", 100_000, 160_000, &[("fib", 60_000)])]);
    assert_eq!(r.folded(), "fib 100000\n");
}

#[test]
fn mutual_recursion_folds_the_cycle_into_the_current_frame() {
    // main → a (20 self) → b (30 self) → a (50 self, nested)
    let r = report(vec![
        func("main", 0, 100_000, &[("a", 100_000)]),
        func("a", 70_000, 150_000, &[("b", 80_000)]),
        func("b", 30_000, 80_000, &[("a", 50_000)]),
    ]);
    // a reached from main carries 2/3 of a's figures; the nested a under b is folded into b.
    assert_eq!(r.folded(), "main;a 46667\nmain;a;b 53333\n");
    assert_eq!(weights(&r.folded()), 100_000);
}

#[test]
fn other_children_are_leaves_and_their_callees_become_roots() {
    let r = report(vec![
        func("p", 10_000, 100_000, &[("<other>", 50_000), ("c", 40_000)]),
        func("c", 40_000, 40_000, &[]),
        func("x", 50_000, 50_000, &[]),
    ]);
    assert_eq!(r.folded(), "p 10000\np;c 40000\nx 50000\n");
}

#[test]
fn edges_without_time_give_one_stack_per_function() {
    let r = report(vec![func("main", 10, 100, &[("f", 0)]), func("f", 90, 90, &[])]);
    assert_eq!(r.folded(), "f 90\nmain 10\n");
}

#[test]
fn names_cannot_break_lines_or_frames() {
    let r = report(vec![
        func("outer::<[u8; 4]>", 10, 100, &[("inner\nline 2", 90)]),
        func("inner\nline 2", 90, 90, &[]),
    ]);
    assert_eq!(r.folded(), "outer::<[u8； 4]> 10\nouter::<[u8； 4]>;inner line\u{a0}2 90\n");
}

#[test]
fn folded_bytes_uses_allocation_edges() {
    let mut main = func("main", 0, 100, &[("load", 90)]);
    main.alloc_bytes = 100;
    main.total_alloc_bytes = 4_196;
    main.children[0].alloc_bytes = 4_096;
    let mut load = func("load", 90, 90, &[]);
    load.alloc_bytes = 4_096;
    load.total_alloc_bytes = 4_096;
    let mut r = report(vec![main, load]);
    r.alloc_tracking = true;
    assert_eq!(r.folded_bytes(), "main 100\nmain;load 4096\n");
    assert_eq!(tree().folded_bytes(), "", "no allocation figures, no stacks");
}

#[test]
fn deep_chains_stop_at_the_depth_cap_and_keep_the_sum() {
    let n = 300;
    let functions = (0..n)
        .map(|i| {
            let name = format!("f{i:03}");
            let busy = (n - i) as u64 * 1_000;
            if i + 1 < n {
                let child = format!("f{:03}", i + 1);
                func(&name, 1_000, busy, &[(&child, busy - 1_000)])
            } else {
                func(&name, 1_000, busy, &[])
            }
        })
        .collect();
    let r = report(functions);
    let folded = r.folded();
    let deepest = folded.lines().map(|l| l.matches(';').count() + 1).max();
    assert_eq!(deepest, Some(128));
    assert_eq!(weights(&folded), self_sum(&r));
}

#[test]
fn dense_call_graphs_do_not_explode() {
    // 12 layers of 8 functions, each calling every function of the next layer: 8^12 paths.
    let (layers, width) = (12, 8);
    let mut functions = Vec::new();
    for layer in 0..layers {
        for i in 0..width {
            let name = format!("l{layer:02}_{i}");
            // Inclusive time: own 1 ms plus everything below, split evenly among callers.
            let below = (layers - 1 - layer) as u64 * 1_000_000;
            let busy = 1_000_000 + below;
            let children: Vec<(String, u64)> = if layer + 1 < layers {
                (0..width)
                    .map(|j| (format!("l{:02}_{j}", layer + 1), below / width as u64))
                    .collect()
            } else {
                Vec::new()
            };
            let refs: Vec<(&str, u64)> = children.iter().map(|(n, b)| (n.as_str(), *b)).collect();
            functions.push(func(&name, 1_000_000, busy, &refs));
        }
    }
    let r = report(functions);
    let started = std::time::Instant::now();
    let folded = r.folded();
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
    let (sum, expected) = (weights(&folded) as f64, self_sum(&r) as f64);
    assert!((sum - expected).abs() / expected < 0.01, "sum {sum} vs self {expected}");
}

#[test]
fn folded_output_is_deterministic_and_sorted() {
    let folded = tree().folded();
    let mut lines: Vec<&str> = folded.lines().collect();
    let unsorted = lines.clone();
    lines.sort_unstable();
    assert_eq!(lines, unsorted);
    assert_eq!(tree().folded(), folded);
}

/// The frames the folded stacks imply: one per distinct stack prefix.
#[cfg(feature = "flamegraph")]
fn frames_in(folded: &str) -> usize {
    let mut prefixes = std::collections::BTreeSet::new();
    for line in folded.lines() {
        let (stack, _) = line.rsplit_once(' ').expect("a weight");
        let frames: Vec<&str> = stack.split(';').collect();
        for depth in 1..=frames.len() {
            prefixes.insert(frames[..depth].join(";"));
        }
    }
    prefixes.len()
}

#[cfg(feature = "flamegraph")]
fn parse_svg(svg: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    roxmltree::Document::parse_with_options(svg, options).expect("the SVG is well-formed XML")
}

#[cfg(feature = "flamegraph")]
#[test]
fn flamegraph_has_one_group_per_frame_plus_all() {
    for r in [
        tree(),
        report(vec![
            func("main", 0, 100_000, &[("a", 50_000), ("b", 50_000)]),
            func("a", 20_000, 50_000, &[("c", 30_000)]),
            func("b", 40_000, 50_000, &[("c", 10_000)]),
            func("c", 20_000, 40_000, &[("d", 20_000)]),
            func("d", 20_000, 20_000, &[]),
        ]),
    ] {
        let svg = r.flamegraph_svg().expect("a flame graph");
        let doc = parse_svg(&svg);
        assert!(doc.root_element().has_tag_name("svg"));
        let groups = doc.descendants().filter(|n| n.has_tag_name("g")).count();
        // inferno adds one root frame, "all", under every stack.
        assert_eq!(groups, frames_in(&r.folded()) + 1, "{}", r.folded());
        let titles: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert!(titles.iter().any(|t| t.starts_with("all (")), "{titles:?}");
        assert!(titles.iter().any(|t| t.starts_with("app::tokenize (") || t.starts_with("d (")));
    }
}

#[cfg(feature = "flamegraph")]
#[test]
fn flamegraph_escapes_names() {
    let evil = "<script>alert(1)</script>&\"'";
    let r = report(vec![func("main", 10, 100, &[(evil, 90)]), func(evil, 90, 90, &[])]);
    let svg = r.flamegraph_svg().expect("a flame graph");
    assert!(!svg.contains("<script>alert"));
    let doc = parse_svg(&svg);
    let title = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .find(|t| t.starts_with("<script>"));
    assert!(title.is_some(), "the name survives as text");
}

#[cfg(feature = "flamegraph")]
#[test]
fn flamegraph_of_bytes_and_empty_reports() {
    assert!(matches!(report(Vec::new()).flamegraph_svg(), Err(perfscope::FlameError::Empty(_))));
    let err = tree().flamegraph_bytes_svg().expect_err("no bytes");
    assert!(err.to_string().contains("allocated bytes"), "{err}");

    let mut main = func("main", 0, 100, &[("load", 90)]);
    main.total_alloc_bytes = 4_096;
    main.children[0].alloc_bytes = 4_096;
    let mut load = func("load", 90, 90, &[]);
    load.alloc_bytes = 4_096;
    load.total_alloc_bytes = 4_096;
    let svg = report(vec![main, load]).flamegraph_bytes_svg().expect("bytes");
    let doc = parse_svg(&svg);
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("g")).count(), 3);
    assert!(svg.contains("bytes"));
}

mod html {
    use super::{func, report, tree};
    use scraper::{ElementRef, Html, Selector};

    fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
        let selector = Selector::parse(css).expect("a valid selector");
        doc.select(&selector).collect()
    }

    /// Every way a page could fetch something: elements that load, attributes that point
    /// elsewhere, CSS that imports.
    fn external_references(doc: &Html) -> Vec<String> {
        let mut found = Vec::new();
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let tag = el.name();
            if matches!(
                tag,
                "link"
                    | "img"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "audio"
                    | "video"
                    | "source"
                    | "image"
                    | "use"
                    | "base"
                    | "frame"
            ) {
                found.push(format!("<{tag}>"));
            }
            for (attr, value) in el.attrs() {
                let value = value.trim().to_ascii_lowercase();
                let pointer = matches!(
                    attr,
                    "src"
                        | "href"
                        | "xlink:href"
                        | "action"
                        | "data"
                        | "poster"
                        | "srcset"
                        | "formaction"
                        | "background"
                );
                if pointer
                    || (!attr.starts_with("xmlns")
                        && (value.contains("://") || value.starts_with("//")))
                {
                    found.push(format!("<{tag} {attr}={value}>"));
                }
            }
        }
        for style in select(doc, "style") {
            let css: String = style.text().collect::<String>().to_ascii_lowercase();
            if css.contains("url(") || css.contains("@import") {
                found.push("style with url()/@import".into());
            }
        }
        found
    }

    #[test]
    fn html_is_one_self_contained_page() {
        let html = tree().to_html();
        let doc = Html::parse_document(&html);
        assert_eq!(doc.errors, Vec::<std::borrow::Cow<'static, str>>::new(), "HTML parse errors");
        assert_eq!(external_references(&doc), Vec::<String>::new());
        assert_eq!(select(&doc, "#ps-hotspots tbody tr").len(), 4);
        assert_eq!(select(&doc, "#ps-edges tbody tr").len(), 3);
        assert_eq!(select(&doc, "#ps-hotspots thead th").len(), 11, "no alloc columns");
        #[cfg(feature = "flamegraph")]
        {
            let frames = select(&doc, "svg g").len();
            assert_eq!(frames, 5, "4 frames plus all, inline");
        }
    }

    #[test]
    fn html_shows_allocation_columns_when_tracking() {
        let mut r = tree();
        r.alloc_tracking = true;
        r.figures.push(perfscope::FigureStats {
            section: "process".into(),
            name: "perfscope_heap_in_use_bytes".into(),
            kind: perfscope::FigureKind::Gauge,
            unit: perfscope::FigureUnit::Bytes,
            help: String::new(),
            labels: Default::default(),
            value: 2048.0,
        });
        let doc = Html::parse_document(&r.to_html());
        let headers: Vec<String> =
            select(&doc, "#ps-hotspots thead th").iter().map(|th| th.text().collect()).collect();
        assert_eq!(headers.len(), 15, "{headers:?}");
        assert!(headers.iter().any(|h| h == "alloc total"));
        assert!(select(&doc, "dd").iter().any(|dd| dd.text().any(|t| t == "2.0 KiB")));
    }

    #[test]
    fn html_escapes_every_name() {
        let names = [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(2)>",
            "</table><iframe src=//evil>",
            "a & b's <c>",
        ];
        let mut functions = vec![func(
            "main",
            1_000,
            5_000,
            &names.iter().map(|n| (*n, 1_000)).collect::<Vec<_>>(),
        )];
        functions.extend(names.iter().map(|n| func(n, 1_000, 1_000, &[])));
        let mut r = report(functions);
        r.clock = "<b>tsc</b>".into();
        let doc = Html::parse_document(&r.to_html());

        assert_eq!(external_references(&doc), Vec::<String>::new());
        assert!(select(&doc, "b").is_empty(), "the clock is text, not markup");
        // Our sorting script, plus the flame graph's when it is inline.
        let scripts = select(&doc, "script").len();
        assert_eq!(scripts, if cfg!(feature = "flamegraph") { 2 } else { 1 });
        let handlers: Vec<String> = doc
            .tree
            .nodes()
            .filter_map(|n| n.value().as_element())
            .flat_map(|el| el.attrs().map(|(a, v)| format!("{a}={v}")))
            .filter(|a| a.starts_with("on"))
            .collect();
        let expected: Vec<String> =
            if cfg!(feature = "flamegraph") { vec!["onload=init(evt)".into()] } else { Vec::new() };
        assert_eq!(handlers, expected);
        let cells: Vec<String> =
            select(&doc, "#ps-hotspots td.name").iter().map(|td| td.text().collect()).collect();
        for name in names {
            assert!(cells.iter().any(|c| c == name), "{name} missing from {cells:?}");
        }
        assert_eq!(select(&doc, "#ps-hotspots tbody tr").len(), 5);
    }

    /// The cells of each `tbody` row of `table`: (text, `data-v`).
    fn rows(doc: &Html, table: &str) -> Vec<Vec<(String, Option<String>)>> {
        select(doc, &format!("#{table} tbody tr"))
            .iter()
            .map(|tr| {
                let td = Selector::parse("td").expect("a selector");
                tr.select(&td)
                    .map(|c| (c.text().collect(), c.value().attr("data-v").map(String::from)))
                    .collect()
            })
            .collect()
    }

    /// Three functions whose figures sort differently as numbers and as their text
    /// (`900 ns` > `12.4 µs` > `3.07 ms` as strings), in the report's order: by self time.
    fn varied() -> perfscope::Report {
        let mut slow = func("app::slow", 3_070_000, 4_000_000, &[("app::mid", 500_000)]);
        slow.calls = 7;
        slow.allocations = 3;
        slow.alloc_bytes = 3 * 1024 * 1024;
        slow.total_alloc_bytes = 5 * 1024 * 1024;
        slow.freed_bytes = 512;
        slow.panics = 2;
        let mut mid = func("app::mid", 12_400, 500_000, &[]);
        mid.kind = perfscope::FunctionKind::Async;
        mid.idle_ns = Some(1_500);
        mid.cancelled = 1;
        mid.calls = 1_000;
        mid.p99_ns = 999;
        mid.alloc_bytes = 100;
        let mut fast = func("app::fast", 900, 900, &[]);
        fast.kind = perfscope::FunctionKind::Span;
        fast.calls = 25;
        fast.max_ns = 2_000_000_000;
        let mut r = report(vec![slow, mid, fast]);
        r.elapsed_ns = 10_000_000;
        r.alloc_tracking = true;
        r
    }

    #[test]
    fn html_cells_show_each_figure_and_sort_by_its_value() {
        use perfscope::{human_bytes, human_ns};
        let r = varied();
        let doc = Html::parse_document(&r.to_html());
        let headers: Vec<(String, Option<String>)> = select(&doc, "#ps-hotspots thead th")
            .iter()
            .map(|th| (th.text().collect(), th.value().attr("data-type").map(String::from)))
            .collect();
        let labels: Vec<&str> = headers.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "function",
                "calls",
                "self",
                "self %",
                "total",
                "mean",
                "p50",
                "p90",
                "p99",
                "max",
                "allocs",
                "alloc self",
                "alloc total",
                "freed self",
                "notes"
            ]
        );
        for (label, kind) in &headers {
            let text = matches!(label.as_str(), "function" | "notes");
            assert_eq!(kind.as_deref(), Some(if text { "text" } else { "num" }), "{label}");
        }

        // Rows come in the report's order (by self time), each cell with its figure.
        let body = rows(&doc, "ps-hotspots");
        assert_eq!(body.len(), 3);
        for (row, f) in body.iter().zip(&r.functions) {
            assert_eq!(row[0], (f.name.clone(), None));
            let share = 100.0 * f.self_ns as f64 / r.elapsed_ns as f64;
            let expected: Vec<(String, String)> = vec![
                (f.calls.to_string(), f.calls.to_string()),
                (human_ns(f.self_ns), f.self_ns.to_string()),
                (format!("{share:.1}%"), format!("{share:.3}")),
                (human_ns(f.total_ns), f.total_ns.to_string()),
                (human_ns(f.mean_ns), f.mean_ns.to_string()),
                (human_ns(f.p50_ns), f.p50_ns.to_string()),
                (human_ns(f.p90_ns), f.p90_ns.to_string()),
                (human_ns(f.p99_ns), f.p99_ns.to_string()),
                (human_ns(f.max_ns), f.max_ns.to_string()),
                (f.allocations.to_string(), f.allocations.to_string()),
                (human_bytes(f.alloc_bytes), f.alloc_bytes.to_string()),
                (human_bytes(f.total_alloc_bytes), f.total_alloc_bytes.to_string()),
                (human_bytes(f.freed_bytes), f.freed_bytes.to_string()),
            ];
            let cells: Vec<(String, String)> =
                row[1..14].iter().map(|(t, v)| (t.clone(), v.clone().expect("data-v"))).collect();
            assert_eq!(cells, expected, "{}", f.name);
        }
        let notes: Vec<&str> = body.iter().map(|row| row[14].0.as_str()).collect();
        assert_eq!(notes, ["2 panics", "async, idle 1.5 µs; 1 cancelled", "span"]);
        assert_eq!(body[0][2].0, "3.07 ms");
        assert_eq!(body[0][3].0, "30.7%");

        // The page's script sorts numeric columns by `data-v` as numbers (descending first):
        // each column then orders the functions by that figure, not by its text.
        let names_sorted_by = |col: usize| {
            let mut keyed: Vec<(f64, &str)> = body
                .iter()
                .map(|row| {
                    (
                        row[col].1.as_deref().expect("data-v").parse().expect("a number"),
                        row[0].0.as_str(),
                    )
                })
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
            keyed.into_iter().map(|(_, name)| name).collect::<Vec<_>>()
        };
        assert_eq!(names_sorted_by(1), ["app::mid", "app::fast", "app::slow"], "calls");
        assert_eq!(names_sorted_by(2), ["app::slow", "app::mid", "app::fast"], "self");
        assert_eq!(names_sorted_by(8), ["app::slow", "app::mid", "app::fast"], "p99");
        assert_eq!(names_sorted_by(9), ["app::fast", "app::slow", "app::mid"], "max");
        assert_eq!(names_sorted_by(11), ["app::slow", "app::mid", "app::fast"], "alloc self");
        let texts: Vec<&str> = body.iter().map(|row| row[2].0.as_str()).collect();
        let mut by_text = texts.clone();
        by_text.sort_unstable();
        assert_ne!(by_text, texts, "the text alone would sort these otherwise");

        // Call edges: caller, callee, calls and the callee's time there.
        let edges = rows(&doc, "ps-edges");
        assert_eq!(edges.len(), 1);
        let edge: Vec<(&str, Option<&str>)> =
            edges[0].iter().map(|(t, v)| (t.as_str(), v.as_deref())).collect();
        assert_eq!(
            edge,
            [
                ("app::slow", None),
                ("app::mid", None),
                ("10", Some("10")),
                ("500.0 µs", Some("500000")),
                ("0 B", Some("0"))
            ]
        );
        // The summary's figures.
        let summary: Vec<String> =
            select(&doc, "dd").iter().map(|dd| dd.text().collect()).collect();
        for expected in ["3", "1032", "10.00 ms", "3.08 ms", "3.00 MiB"] {
            assert!(summary.iter().any(|s| s == expected), "{expected} not in {summary:?}");
        }
    }

    #[test]
    fn empty_report_still_renders() {
        let doc = Html::parse_document(&report(Vec::new()).to_html());
        assert!(select(&doc, "#ps-hotspots tbody tr").is_empty());
        assert!(select(&doc, "svg").is_empty());
        assert!(select(&doc, "p").iter().any(|p| {
            p.text().any(|t| t.contains("No flame graph") || t.contains("Not available"))
        }));
    }
}

mod live {
    use perfscope::measure;

    #[measure]
    fn live_outer() -> u64 {
        (0..20).map(live_inner).fold(0, u64::wrapping_add)
    }

    #[measure]
    fn live_inner(seed: u64) -> u64 {
        (0..2_000u64).fold(seed, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
    }

    /// End to end: a measured call tree comes out as nested folded stacks.
    #[test]
    fn a_measured_call_tree_folds_into_nested_stacks() {
        std::hint::black_box(live_outer());
        let report = perfscope::report();
        let outer = report.function_by_suffix("::live_outer").expect("measured");
        let inner = report.function_by_suffix("::live_inner").expect("measured");
        let folded = report.folded();
        let nested = format!("{};{} ", outer.name, inner.name);
        assert!(
            folded.lines().any(|l| l.ends_with(char::is_numeric) && l.contains(&nested)),
            "no `{nested}` stack in:\n{folded}"
        );
        assert!(
            !folded.lines().any(|l| l.starts_with(&format!("{} ", inner.name))),
            "all of live_inner's time is under live_outer:\n{folded}"
        );
    }
}

#[test]
fn absurd_figures_do_not_panic() {
    let max = u64::MAX;
    let mut functions = vec![
        func("a", max, max, &[("b", max), ("a", max), ("<other>", max)]),
        func("b", max, max, &[("a", max)]),
        func("", 0, 0, &[("", max)]),
    ];
    for f in &mut functions {
        f.calls = max;
        f.alloc_bytes = max;
        f.total_alloc_bytes = max;
    }
    let mut r = report(functions);
    r.alloc_tracking = true;
    r.elapsed_ns = max;
    // Every figure is explained by the cycle's edges: no root, nothing to fold, no panic.
    assert_eq!(r.folded(), "");
    // Edges carry no bytes: every function is its own root.
    assert_eq!(r.folded_bytes().lines().count(), 3, "{}", r.folded_bytes());
    assert!(r.to_html().contains("</html>"));
    r.functions[0].children.clear();
    assert_eq!(r.folded().lines().count(), 2, "{}", r.folded());
    #[cfg(feature = "flamegraph")]
    assert!(matches!(r.flamegraph_svg(), Err(perfscope::FlameError::TooLarge)));
}

/// Names reach the terminal: a name carrying escape sequences (from a program's span names or
/// a report file someone hands over) is shown escaped, never obeyed by the terminal.
#[test]
fn the_table_shows_control_characters_escaped() {
    let hostile = "app::\u{1b}]0;pwned\u{7}\u{1b}[2J\rcleared\ttab";
    let table = report(vec![func(hostile, 1_000, 1_000, &[])]).table(10).to_string();
    assert!(!table.chars().any(|c| c.is_control() && c != '\n'), "{table:?}");
    assert!(table.contains(r"app::\u{1b}]0;pwned\u{7}\u{1b}[2J\rcleared\ttab"), "{table}");
}
