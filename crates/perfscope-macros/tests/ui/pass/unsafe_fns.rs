//! `unsafe fn`: the body keeps its own `unsafe` blocks (edition 2024 lints them).
#![deny(warnings, unsafe_op_in_unsafe_fn)]

use perfscope::{FunctionStats, measure};

/// # Safety
/// `ptr` must be valid for reads.
#[measure]
unsafe fn read(ptr: *const u32) -> u32 {
    // SAFETY: the caller guarantees `ptr` is valid.
    unsafe { *ptr }
}

struct Buffer(Vec<u8>);

impl Buffer {
    /// # Safety
    /// `i` must be in bounds.
    #[measure]
    unsafe fn get_unchecked(&self, i: usize) -> u8 {
        // SAFETY: the caller guarantees `i` is in bounds.
        unsafe { *self.0.get_unchecked(i) }
    }
}

/// # Safety
/// `ptr` must be valid for reads.
#[measure]
unsafe extern "C" fn read_c(ptr: *const u32) -> u32 {
    // SAFETY: the caller guarantees `ptr` is valid.
    unsafe { *ptr }
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
    let x = 7;
    // SAFETY: `&x` is valid; index 1 is in bounds.
    unsafe {
        assert_eq!(read(&x), 7);
        assert_eq!(read_c(&x), 7);
        assert_eq!(Buffer(vec![1, 2]).get_unchecked(1), 2);
    }
    assert_eq!(stats("{crate}::read").calls, 1);
    assert_eq!(stats("{crate}::read_c").calls, 1);
    assert_eq!(stats("{crate}::Buffer::get_unchecked").calls, 1);
}
