//! `#[async_trait]` methods: the boxed future is measured, under the trait method's name.
#![deny(warnings)]

use async_trait::async_trait;
use perfscope::{FunctionKind, FunctionStats, measure};

#[async_trait]
trait Store {
    async fn load(&self, key: u32) -> Option<String>;
    async fn save(&mut self, key: u32, value: String) -> Result<(), String>;
    async fn parse(&self, raw: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>>;
    async fn stalls(&self);

    #[measure]
    async fn load_or_default(&self, key: u32) -> String {
        self.load(key).await.unwrap_or_default()
    }
}

struct Memory {
    values: Vec<(u32, String)>,
}

#[async_trait]
impl Store for Memory {
    #[measure]
    async fn load(&self, key: u32) -> Option<String> {
        tokio::task::yield_now().await;
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }

    #[measure]
    async fn save(&mut self, key: u32, value: String) -> Result<(), String> {
        if value.is_empty() {
            return Err("empty value".into());
        }
        self.values.push((key, value));
        Ok(())
    }

    #[measure(name = "store.parse")]
    async fn parse(&self, raw: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        Ok(raw.parse::<u32>()?)
    }

    #[measure]
    async fn stalls(&self) {
        futures::pending!();
    }
}

struct Local;

#[async_trait(?Send)]
trait LocalTask {
    async fn run(&self, data: std::rc::Rc<u32>) -> u32;
}

#[async_trait(?Send)]
impl LocalTask for Local {
    #[measure]
    async fn run(&self, data: std::rc::Rc<u32>) -> u32 {
        *data
    }
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
        let mut store = Memory { values: Vec::new() };
        assert!(store.save(1, "one".into()).await.is_ok());
        assert!(store.save(2, String::new()).await.is_err());
        assert_eq!(store.load(1).await.as_deref(), Some("one"));
        assert_eq!(store.load_or_default(2).await, "");
        assert_eq!(store.parse("7").await.ok(), Some(7));
        assert!(store.parse("x").await.is_err());
        let store: &dyn Store = &store;
        assert_eq!(store.load(1).await.as_deref(), Some("one"));
        assert_eq!(Local.run(std::rc::Rc::new(4)).await, 4);
    });
    let store = Memory { values: Vec::new() };
    assert!(futures::FutureExt::now_or_never(store.stalls()).is_none());

    let load = stats("<{crate}::Memory as {crate}::Store>::load");
    assert_eq!((load.calls, load.kind), (3, FunctionKind::Async));
    assert!(load.polls.expect("async") >= 6, "{load:?}");
    assert_eq!(stats("<{crate}::Memory as {crate}::Store>::save").calls, 2);
    assert_eq!(stats("store.parse").calls, 2);
    let stalls = stats("<{crate}::Memory as {crate}::Store>::stalls");
    assert_eq!((stalls.calls, stalls.cancelled), (0, 1));
    let default = stats("{crate}::Store::load_or_default");
    assert_eq!((default.calls, default.kind), (1, FunctionKind::Async));
    assert!(default.children.iter().any(|c| c.name == load.name && c.calls == 1));
    assert_eq!(stats("<{crate}::Local as {crate}::LocalTask>::run").calls, 1);
}
