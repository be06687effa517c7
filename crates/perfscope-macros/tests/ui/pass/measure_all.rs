//! `#[measure_all]` over `#[async_trait]` impls, in either order: the boxed futures are
//! measured per poll (async rows), every method once.
#![deny(warnings)]

use async_trait::async_trait;
use perfscope::{FunctionKind, measure_all};

#[async_trait]
trait Store {
    async fn load(&self, key: u32) -> u32;
    fn name(&self) -> &'static str;
}

struct Above;
struct Below;

#[measure_all]
#[async_trait]
impl Store for Above {
    async fn load(&self, key: u32) -> u32 {
        tokio::task::yield_now().await;
        key + 1
    }

    fn name(&self) -> &'static str {
        "above"
    }
}

#[async_trait]
#[measure_all]
impl Store for Below {
    async fn load(&self, key: u32) -> u32 {
        tokio::task::yield_now().await;
        key + 2
    }

    fn name(&self) -> &'static str {
        "below"
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(Above.load(1).await + Below.load(1).await, 5);
    assert_eq!((Above.name(), Below.name()), ("above", "below"));
    let report = perfscope::report();
    let find = |ty: &str, method: &str| {
        let found = report.functions.iter().find(|f| {
            f.name.contains(&format!("::{ty} as ")) && f.name.ends_with(&format!(">::{method}"))
        });
        found.unwrap_or_else(|| panic!("{ty}::{method}:\n{report}")).clone()
    };
    for ty in ["Above", "Below"] {
        let load = find(ty, "load");
        assert_eq!((load.kind, load.calls, load.polls), (FunctionKind::Async, 1, Some(2)), "{ty}");
        let name = find(ty, "name");
        assert_eq!((name.kind, name.calls), (FunctionKind::Sync, 1), "{ty}");
    }
}
