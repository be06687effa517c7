//! With the `off` feature, `#[measure]` emits the function unchanged: nothing is recorded.
#![deny(warnings)]

use async_trait::async_trait;
use perfscope::measure;

#[measure]
fn sync_fn(x: u32) -> u32 {
    x + 1
}

#[measure(name = "named")]
async fn async_fn(x: u32) -> u32 {
    x + 2
}

#[async_trait]
trait Store {
    async fn load(&self) -> u32;
}

struct Memory;

#[async_trait]
impl Store for Memory {
    #[measure]
    async fn load(&self) -> u32 {
        3
    }
}

fn main() {
    assert_eq!(sync_fn(0), 1);
    assert_eq!(futures::executor::block_on(async_fn(0)), 2);
    assert_eq!(futures::executor::block_on(Memory.load()), 3);
    assert!(perfscope::report().functions.is_empty());
}
