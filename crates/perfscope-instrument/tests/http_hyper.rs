//! The server layer without axum: a plain hyper server on loopback serving a tower service
//! whose requests carry boxed bodies (`http-body-util`'s `BoxBody`), the route named by the
//! layer's template function. Request and response bytes exact, the handler's `#[measure]`
//! function under the route's frame.

mod support;

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use perfscope_instrument::http::HttpServerLayer;
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
