//! The client middleware on a real reqwest client calling a real axum server on loopback:
//! exact counts, body bytes exact against what was sent and read, connections opened vs
//! reused exact for a keep-alive sequence, a timeout, a refused connection and a 503 each
//! counted in their kind, and a call inside a `#[measure]` function is its child, its wait
//! not in the caller's self time.

mod support;

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use perfscope_core::figures::Figure;
use perfscope_instrument::http::RequestBuilderExt;
use reqwest_middleware::ClientWithMiddleware;
use support::figure;
use support::http::serve;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn client() -> ClientWithMiddleware {
    perfscope_instrument::http::client(reqwest::Client::builder()).expect("a client")
}

fn figures() -> Vec<Figure> {
    perfscope_core::snapshot().figures
}

fn of(name: &str, host: &str, template: &str, extra: &[(&str, &str)]) -> Option<f64> {
    let mut labels = vec![("server_address", host), ("url_template", template)];
    labels.extend_from_slice(extra);
    figure(&figures(), name, &labels)
}

fn app() -> Router {
    Router::new()
        .route("/echo", post(|body: String| async move { format!("{body}{body}{body}") }))
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
}

#[test]
fn keep_alive_sequence_exact_counts_bytes_and_connections() {
    runtime().block_on(async {
        let host = serve(app()).await.to_string();
        let client = client();
        let (mut sent, mut read) = (0, 0);
        for size in [10, 200, 3000, 1, 77] {
            let body = "q".repeat(size);
            sent += size;
            let call = client.post(format!("http://{host}/echo")).template("/echo").body(body);
            let response = call.send().await.unwrap();
            assert_eq!(response.url().path(), "/echo", "the response keeps its URL");
            read += response.bytes().await.unwrap().len();
            // hyper gives the connection back to the pool from its connection task once the
            // body is read; a call made before that starts a second connection (counted
            // opened: it joins the pool). A pause makes the sequence a keep-alive one.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(read, 3 * sent);
        let requests = of(
            "perfscope_http_client_requests_total",
            &host,
            "/echo",
            &[("http_request_method", "POST"), ("http_response_status_class", "2xx")],
        );
        assert_eq!(requests, Some(5.0));
        let bytes = |name| of(name, &host, "/echo", &[("http_request_method", "POST")]);
        assert_eq!(bytes("perfscope_http_client_request_body_size_bytes_total"), Some(sent as f64));
        assert_eq!(
            bytes("perfscope_http_client_response_body_size_bytes_total"),
            Some(read as f64)
        );
        assert_eq!(bytes("perfscope_http_client_active_requests"), Some(0.0));
        let connections = |name| figure(&figures(), name, &[("server_address", host.as_str())]);
        assert_eq!(connections("perfscope_http_client_connections_opened_total"), Some(1.0));
        assert_eq!(connections("perfscope_http_client_connections_reused_total"), Some(4.0));
        let report = perfscope::report();
        let frame = report.function(&format!("http::client::{host} POST /echo")).unwrap();
        assert_eq!(frame.calls, 5);
        // The report's typed views (its "network" section's rows).
        let targets = report.http_targets();
        let echo = targets.iter().find(|t| t.host == host && t.template == "/echo").unwrap();
        assert_eq!((echo.requests(), echo.request_bytes), (5, sent as u64));
        assert_eq!(echo.p50_ns, Some(frame.p50_ns));
        let connections = report.http_connections();
        let ours = connections.iter().find(|c| c.host == host).unwrap();
        assert_eq!((ours.opened, ours.reused), (1, 4));
        let table = report.table(50).to_string();
        assert!(table.contains(&format!("{host} opened 1, reused 4")), "{table}");
        assert!(report.to_html().contains("id=\"ps-network-calls\""));
    });
}

#[test]
fn a_timeout_a_refused_connection_and_a_503_each_count_in_their_kind() {
    runtime().block_on(async {
        let host = serve(app()).await.to_string();
        let client = perfscope_instrument::http::client(
            reqwest::Client::builder().timeout(Duration::from_millis(100)),
        )
        .unwrap();
        let slow = client.get(format!("http://{host}/slow")).template("/slow").send().await;
        assert!(slow.unwrap_err().is_timeout());
        let down = client.get(format!("http://{host}/status/503")).template("/status/{code}");
        assert_eq!(down.send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
        let refused_host = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string()
        };
        let refused =
            client.get(format!("http://{refused_host}/status/200")).template("/status/{code}");
        let refused = refused.send().await.unwrap_err();
        assert!(refused.is_connect(), "{refused:?}");

        let errors = |host: &str, template, kind| {
            of("perfscope_http_client_errors_total", host, template, &[("error_type", kind)])
        };
        assert_eq!(errors(&host, "/slow", "timeout"), Some(1.0));
        assert_eq!(errors(&host, "/slow", "connect"), Some(0.0));
        assert_eq!(errors(&host, "/status/{code}", "5xx"), Some(1.0));
        assert_eq!(errors(&host, "/status/{code}", "timeout"), Some(0.0));
        assert_eq!(errors(&refused_host, "/status/{code}", "connect"), Some(1.0));
        assert_eq!(errors(&refused_host, "/status/{code}", "timeout"), Some(0.0));
        let answered = of(
            "perfscope_http_client_requests_total",
            &host,
            "/status/{code}",
            &[("http_response_status_class", "5xx")],
        );
        assert_eq!(answered, Some(1.0));
        let connections = |host: &str, name| figure(&figures(), name, &[("server_address", host)]);
        let opened = "perfscope_http_client_connections_opened_total";
        assert_eq!(connections(&refused_host, opened), Some(0.0), "never connected");
    });
}

const SERVER_WORK: Duration = Duration::from_millis(30);

#[perfscope::measure]
async fn fetch_quote(client: &ClientWithMiddleware, url: &str) -> String {
    let response = client.get(url).template("/quotes/{symbol}").send().await;
    response.expect("an answer").text().await.expect("a body")
}

#[test]
fn a_call_is_a_child_of_its_caller_and_not_in_its_self_time() {
    runtime().block_on(async {
        let app = Router::new().route(
            "/quotes/{symbol}",
            get(|Path(s): Path<String>| async move {
                tokio::time::sleep(SERVER_WORK).await;
                format!("{s} 1.0")
            }),
        );
        let host = serve(app).await.to_string();
        let client = client();
        for _ in 0..4 {
            let quote = fetch_quote(&client, &format!("http://{host}/quotes/ACME")).await;
            assert_eq!(quote, "ACME 1.0");
        }
        let report = perfscope::report();
        let call =
            report.function(&format!("http::client::{host} GET /quotes/{{symbol}}")).unwrap();
        let caller = report.function_by_suffix("::fetch_quote").unwrap();
        assert_eq!((call.calls, caller.calls), (4, 4));
        let edge = caller.children.iter().find(|e| e.name == call.name);
        assert_eq!(edge.map(|e| e.calls), Some(4), "{:?}", caller.children);
        let waited = call.idle_ns.unwrap();
        assert!(waited >= 4 * SERVER_WORK.as_nanos() as u64, "the call waited {waited} ns");
        assert!(
            caller.self_ns < waited / 10,
            "caller self {} ns, waited {waited} ns",
            caller.self_ns
        );
        assert!(caller.total_ns >= call.total_ns);
    });
}

#[test]
fn concurrent_calls_open_connections_and_later_calls_reuse_them() {
    runtime().block_on(async {
        let app = Router::new().route(
            "/held",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                "held"
            }),
        );
        let host = serve(app).await.to_string();
        let client = client();
        let call = || client.get(format!("http://{host}/held")).template("/held").send();
        // Four at once: each connection is busy for 200 ms, so each call opens its own.
        let answers = futures::future::join_all((0..4).map(|_| call())).await;
        for answer in answers {
            assert_eq!(answer.unwrap().text().await.unwrap(), "held");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        for _ in 0..4 {
            assert_eq!(call().await.unwrap().text().await.unwrap(), "held");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let connections = |name| figure(&figures(), name, &[("server_address", host.as_str())]);
        assert_eq!(connections("perfscope_http_client_connections_opened_total"), Some(4.0));
        assert_eq!(connections("perfscope_http_client_connections_reused_total"), Some(4.0));
    });
}
