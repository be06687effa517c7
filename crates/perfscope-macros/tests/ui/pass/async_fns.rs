//! `async fn`, `-> impl Future` and `Box::pin(async move { .. })`: the future is measured
//! (polls, wall time, cancellation), not its creation.
#![deny(warnings)]

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;

use futures::FutureExt;
use perfscope::{FunctionKind, FunctionStats, measure};

#[derive(Debug, PartialEq)]
struct AppError(String);

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> Self {
        AppError(e.to_string())
    }
}

#[measure]
async fn plain() {}

#[measure]
async fn parse(input: &str) -> Result<u32, AppError> {
    if input.is_empty() {
        return Err(AppError("empty".into()));
    }
    let n: u32 = input.parse()?;
    tokio::task::yield_now().await;
    Ok(n)
}

#[measure]
async fn boxed_error(input: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(input.parse::<u32>()?)
}

#[measure]
async fn display(x: u32) -> impl Display {
    x * 2
}

#[measure]
async fn stalls() {
    futures::pending!();
}

#[measure]
fn ready_later(x: u32) -> impl Future<Output = Result<u32, AppError>> + Send {
    let doubled = x * 2;
    async move {
        let n: u32 = doubled.to_string().parse()?;
        Ok(n)
    }
}

#[measure]
fn boxed(x: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move { x + 1 })
}

struct Service {
    base: u32,
}

impl Service {
    #[measure]
    async fn call(&self, x: u32) -> u32 {
        tokio::task::yield_now().await;
        self.base + x
    }

    #[measure]
    async fn update(&mut self, x: u32) {
        self.base = x;
    }

    #[measure]
    async fn consume(self) -> u32 {
        self.base
    }

    #[measure]
    fn call_later(&self) -> impl Future<Output = u32> + '_ {
        async { self.base }
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

/// The report entry named `name`, where `{crate}` stands for this crate's name.
fn stats(name: &str) -> FunctionStats {
    let name = name.replace("{crate}", module_path!());
    let report = perfscope::report();
    let found = report.function(&name).cloned();
    found.unwrap_or_else(|| {
        let names: Vec<&str> = report.functions.iter().map(|f| f.name.as_str()).collect();
        panic!("no function named `{name}` in {names:?}")
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        plain().await;
        assert_eq!(assert_send(parse("12")).await, Ok(12));
        assert_eq!(parse("").await, Err(AppError("empty".into())));
        assert!(parse("x").await.is_err());
        assert!(boxed_error("x").await.is_err());
        assert_eq!(display(2).await.to_string(), "4");
        assert_eq!(assert_send(ready_later(2)).await, Ok(4));
        assert_eq!(boxed(1).await, 2);
        let mut service = Service { base: 1 };
        assert_eq!(assert_send(service.call(2)).await, 3);
        service.update(5).await;
        assert_eq!(service.call_later().await, 5);
        assert_eq!(service.consume().await, 5);
    });
    // Polled once, then dropped: cancelled.
    assert!(stalls().now_or_never().is_none());
    // Created, never polled: not a call at all.
    drop(plain());
    drop(ready_later(1));

    let plain = stats("{crate}::plain");
    assert_eq!((plain.calls, plain.kind), (1, FunctionKind::Async));
    let parse = stats("{crate}::parse");
    assert_eq!((parse.calls, parse.cancelled), (3, 0));
    assert!(parse.polls.expect("async") >= 4, "{parse:?}");
    assert_eq!(stats("{crate}::boxed_error").calls, 1);
    assert_eq!(stats("{crate}::display").calls, 1);
    let stalls = stats("{crate}::stalls");
    assert_eq!((stalls.cancelled, stalls.kind), (1, FunctionKind::Async));
    let ready_later = stats("{crate}::ready_later");
    assert_eq!((ready_later.calls, ready_later.kind), (1, FunctionKind::Async));
    let boxed = stats("{crate}::boxed");
    assert_eq!((boxed.calls, boxed.kind), (1, FunctionKind::Async));
    assert_eq!(stats("{crate}::Service::call").calls, 1);
    assert_eq!(stats("{crate}::Service::update").calls, 1);
    assert_eq!(stats("{crate}::Service::consume").calls, 1);
    let call_later = stats("{crate}::Service::call_later");
    assert_eq!((call_later.calls, call_later.kind), (1, FunctionKind::Async));
}
