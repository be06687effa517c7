//! The server layer without axum: a plain hyper server on loopback serving a tower service
//! whose requests carry boxed bodies (`http-body-util`'s `BoxBody`), the route named by the
//! layer's template function. Request and response bytes exact, the handler's `#[measure]`
//! function under the route's frame. And hyper-util's client behind the client layer, its
//! connector counted: calls, bytes, connections opened and reused, the call under its caller.

mod support;

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use perfscope_instrument::http::{CountConnections, HttpClientLayer, HttpServerLayer, UrlTemplate};
use tower::{ServiceBuilder, service_fn};

type Boxed = BoxBody<Bytes, hyper::Error>;

#[perfscope::measure]
async fn reverse(body: Bytes) -> Bytes {
    body.iter().rev().copied().collect::<Vec<u8>>().into()
}

async fn handle(request: Request<Boxed>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Ok(Response::new(Full::new(reverse(body).await)))
}

#[test]
fn a_hyper_service_with_boxed_bodies_is_measured() {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    let runtime = runtime.worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.expect("a connection");
                let service = ServiceBuilder::new()
                    .map_request(|r: Request<hyper::body::Incoming>| r.map(BodyExt::boxed))
                    .layer(HttpServerLayer::new().with_route_template(|_, uri| {
                        uri.path().starts_with("/reverse/").then_some(Cow::Borrowed("/reverse/{n}"))
                    }))
                    .service(service_fn(handle));
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                tokio::spawn(connection);
            }
        });
        let client = reqwest::Client::new();
        let mut sent = 0;
        for n in 0..3 {
            let body = format!("{n}-abcdef").repeat(100 * (n + 1));
            sent += body.len();
            let response = client.post(format!("http://{address}/reverse/{n}")).body(body.clone());
            let answer = response.send().await.unwrap().text().await.unwrap();
            assert_eq!(answer, body.chars().rev().collect::<String>());
        }
        let snap = perfscope_core::snapshot();
        let of = |name: &str| {
            let labels = [("http_route", "/reverse/{n}"), ("http_request_method", "POST")];
            support::figure(&snap.figures, name, &labels)
        };
        assert_eq!(of("perfscope_http_server_request_body_size_bytes_total"), Some(sent as f64));
        assert_eq!(of("perfscope_http_server_response_body_size_bytes_total"), Some(sent as f64));
        let report = perfscope::report();
        let route = report.function("http::server::POST /reverse/{n}").unwrap();
        let reverse = report.function_by_suffix("::reverse").unwrap();
        assert_eq!(route.calls, 3);
        assert_eq!(
            route.children.iter().find(|e| e.name == reverse.name).map(|e| e.calls),
            Some(3)
        );
    });
}

#[perfscope::measure]
async fn call_reverse<S>(client: &mut S, url: &str, body: &str) -> String
where
    S: tower::Service<
            Request<Full<Bytes>>,
            Response = Response<perfscope_instrument::http::CountedBody<hyper::body::Incoming>>,
        >,
    S::Error: std::fmt::Debug,
{
    use tower::ServiceExt;
    let mut request =
        Request::post(url).body(Full::new(Bytes::from(body.to_string()))).expect("a request");
    request.extensions_mut().insert(UrlTemplate(Cow::Borrowed("/reverse/{n}")));
    let response = client.ready().await.expect("ready").call(request).await.expect("an answer");
    let bytes = response.into_body().collect().await.expect("a body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("text")
}

#[test]
fn hyper_util_client_calls_are_measured_and_their_connections_counted() {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    let runtime = runtime.worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let app = axum::Router::new().route(
            "/reverse/{n}",
            axum::routing::post(|body: Bytes| async move { reverse(body).await }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let connector = tower::Layer::layer(
            &CountConnections,
            hyper_util::client::legacy::connect::HttpConnector::new(),
        );
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build::<_, Full<Bytes>>(connector);
        let mut client = ServiceBuilder::new()
            .layer(HttpClientLayer::new().counting_connections())
            .service(client);
        let mut sent = 0;
        for n in 0..3 {
            let body = format!("{n}-xyz").repeat(50);
            sent += body.len();
            let url = format!("http://{address}/reverse/{n}");
            let answer = call_reverse(&mut client, &url, &body).await;
            assert_eq!(answer, body.chars().rev().collect::<String>());
            // The connection goes back to the pool from its own task once the body is read.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let host = address.to_string();
        let snap = perfscope_core::snapshot();
        let of = |name: &str, extra: &[(&str, &str)]| {
            let mut labels =
                vec![("server_address", host.as_str()), ("url_template", "/reverse/{n}")];
            labels.extend_from_slice(extra);
            support::figure(&snap.figures, name, &labels)
        };
        let answered =
            of("perfscope_http_client_requests_total", &[("http_response_status_class", "2xx")]);
        assert_eq!(answered, Some(3.0));
        assert_eq!(
            of("perfscope_http_client_request_body_size_bytes_total", &[]),
            Some(sent as f64)
        );
        assert_eq!(
            of("perfscope_http_client_response_body_size_bytes_total", &[]),
            Some(sent as f64)
        );
        let connections =
            |name| support::figure(&snap.figures, name, &[("server_address", host.as_str())]);
        assert_eq!(connections("perfscope_http_client_connections_opened_total"), Some(1.0));
        assert_eq!(connections("perfscope_http_client_connections_reused_total"), Some(2.0));
        let report = perfscope::report();
        let call = report.function(&format!("http::client::{host} POST /reverse/{{n}}")).unwrap();
        let caller = report.function_by_suffix("::call_reverse").unwrap();
        assert_eq!(caller.children.iter().find(|e| e.name == call.name).map(|e| e.calls), Some(3));
    });
}
