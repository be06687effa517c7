//! Route templates are capped (alone in its test binary: the cap is the process's): a
//! template function that returns raw paths, the worst a user can give the layer, costs at
//! most `MAX_ROUTES` series; later paths share `http_route="<other>"` and the cap's warning is
//! published once.

mod support;

use std::borrow::Cow;

use perfscope_instrument::http::{HttpServerLayer, MAX_ROUTES};
use support::http::serve;

#[test]
fn raw_paths_past_the_cap_share_the_other_route() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    runtime.unwrap().block_on(async {
        let layer = HttpServerLayer::new()
            .with_route_template(|_, uri| Some(Cow::Owned(uri.path().to_string())));
        let app = axum::Router::new().fallback(|| async { "any" }).layer(layer);
        let base = format!("http://{}", serve(app).await);
        let client = reqwest::Client::new();
        let paths = MAX_ROUTES + 44;
        for n in 0..paths {
            let response = client.get(format!("{base}/raw/{n}")).send().await.unwrap();
            assert_eq!(response.text().await.unwrap(), "any");
        }
        let snap = perfscope_core::snapshot();
        let routes: Vec<(&str, f64)> = snap
            .figures
            .iter()
            .filter(|f| f.name == "perfscope_http_server_requests_total")
            .filter_map(|f| {
                let route = f.labels.iter().find(|(k, _)| k == "http_route")?;
                Some((route.1.as_str(), f.value))
            })
            .collect();
        assert_eq!(routes.len(), MAX_ROUTES + 1, "the cap's routes and <other>");
        let other = routes.iter().find(|(route, _)| *route == "<other>").map(|(_, n)| *n);
        assert_eq!(other, Some(44.0));
        let total: f64 = routes.iter().map(|(_, n)| n).sum();
        assert_eq!(total, paths as f64);
        let warning = snap
            .events
            .iter()
            .find(|e| e.subject == "perfscope_instrument::http::MAX_ROUTES")
            .expect("the cap's warning");
        assert_eq!(warning.value, Some(MAX_ROUTES as f64));
        let report = perfscope::report();
        assert_eq!(report.function("http::server::GET <other>").unwrap().calls, 44);
    });
}
