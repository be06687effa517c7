use perfscope::measure;

trait Store {
    #[measure]
    fn load(&self, key: u32) -> Option<u32>;
}

struct Memory;

impl Store for Memory {
    fn load(&self, key: u32) -> Option<u32> {
        Some(key)
    }
}

fn main() {
    let _ = Memory.load(1);
}
