//! The page's Network section: a sortable table of the HTTP routes served and one of the hosts
//! and URL templates called, with each host's connections opened and reused.

use std::fmt::Write;

use super::markup::{CLOSE_TABLE, escape, open_table, td_count, td_num, th};
use crate::format::{ABSENT, human_bytes, human_ns};
use crate::readers::network::{per_second, route_errors, target_errors};
use crate::report::Report;

fn td_latency(out: &mut String, ns: Option<u64>) {
    match ns {
        Some(ns) => td_num(out, ns, &human_ns(ns)),
        None => td_num(out, 0, ABSENT),
    }
}

fn td_rate(out: &mut String, report: &Report, requests: u64) {
    match per_second(report, requests) {
        Some(rate) => td_num(out, rate, &format!("{rate:.1}/s")),
        None => td_num(out, 0, ABSENT),
    }
}

fn td_bytes(out: &mut String, bytes: u64) {
    td_num(out, bytes, &human_bytes(bytes));
}

/// The Network section; nothing when the report has no `http` figures.
pub(super) fn network(report: &Report, out: &mut String) {
    let routes = report.http_routes();
    let targets = report.http_targets();
    if routes.is_empty() && targets.is_empty() {
        return;
    }
    open_table(
        out,
        "Network",
        "HTTP routes served and calls made, since they were instrumented. Latency is the \
         frames' (<code>http::server::&lt;METHOD&gt; &lt;route&gt;</code>, \
         <code>http::client::&lt;host&gt; &lt;METHOD&gt; &lt;template&gt;</code>); rates are over \
         the report's wall time. Errors include 5xx answers (and, for calls, 4xx), dropped \
         requests are those the client gave up on.",
        "ps-network",
    );
    th(out, "route", false);
    for label in ["requests", "rate", "p50", "p99", "errors", "dropped", "bytes in", "bytes out"] {
        th(out, label, true);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &routes {
        let _ = write!(out, "<tr><td class=\"name\">{}</td>", escape(&r.route));
        td_num(out, r.requests(), &r.requests().to_string());
        td_rate(out, report, r.requests());
        td_latency(out, r.p50_ns);
        td_latency(out, r.p99_ns);
        td_num(out, route_errors(r), &route_errors(r).to_string());
        td_num(out, r.dropped, &r.dropped.to_string());
        td_bytes(out, r.request_bytes);
        td_bytes(out, r.response_bytes);
        out.push_str("</tr>\n");
    }
    out.push_str(CLOSE_TABLE);
    if !targets.is_empty() {
        out.push_str(
            "<div class=\"ps-scroll\">\n<table class=\"ps-sortable ps-wide\" \
             id=\"ps-network-calls\">\n<thead><tr>",
        );
        th(out, "host", false);
        th(out, "template", false);
        for label in ["calls", "rate", "p50", "p99", "errors", "bytes out", "bytes in"] {
            th(out, label, true);
        }
        th(out, "connections opened", true);
        th(out, "reused", true);
        out.push_str("</tr></thead>\n<tbody>\n");
        let connections = report.http_connections();
        for t in &targets {
            let _ = write!(
                out,
                "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>",
                escape(&t.host),
                escape(&t.template)
            );
            td_num(out, t.requests(), &t.requests().to_string());
            td_rate(out, report, t.requests());
            td_latency(out, t.p50_ns);
            td_latency(out, t.p99_ns);
            td_num(out, target_errors(t), &target_errors(t).to_string());
            td_bytes(out, t.request_bytes);
            td_bytes(out, t.response_bytes);
            let host = connections.iter().find(|c| c.host == t.host);
            td_count(out, host.map(|c| c.opened));
            td_count(out, host.map(|c| c.reused));
            out.push_str("</tr>\n");
        }
        out.push_str(CLOSE_TABLE);
    }
    out.push_str("</section>\n");
}
