//! Plain functions: the guard measures each call.
#![deny(warnings)]

use perfscope::{FunctionKind, FunctionStats, measure};

/// Documented, attributed, with an inner attribute.
#[measure]
#[inline]
#[must_use]
pub fn free_fn(x: u32) -> u32 {
    #![allow(clippy::identity_op)]
    x + 0
}

#[measure]
fn unit() {}

#[measure]
fn patterns((a, b): (u32, u32), mut acc: u32, _: u8) -> u32 {
    acc += a * b;
    acc
}

#[measure]
fn early_return(x: u32) -> &'static str {
    if x == 0 {
        return "zero";
    }
    "other"
}

#[measure]
fn recursive(n: u32) -> u32 {
    if n == 0 { 0 } else { 1 + recursive(n - 1) }
}

#[measure]
fn outer() -> u32 {
    inner() + inner()
}

#[measure]
fn inner() -> u32 {
    1
}

#[measure]
fn with_items() -> u32 {
    const K: u32 = 2;
    fn helper() -> u32 {
        K
    }
    helper()
}

#[measure]
fn with_nested_measured() -> u32 {
    #[measure]
    fn nested_measured() -> u32 {
        5
    }
    nested_measured() + nested_measured()
}

#[measure(name = "custom name")]
fn named() {}

#[measure(name = "trailing comma",)]
fn named_trailing_comma() {}

mod nested {
    #[perfscope::measure]
    pub(crate) fn in_module() {}
}

#[measure]
extern "C" fn with_abi(x: u32) -> u32 {
    x * 2
}

#[measure]
fn returns_closure(k: u32) -> impl Fn(u32) -> u32 {
    move |x| x + k
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
    assert_eq!(free_fn(3), 3);
    unit();
    assert_eq!(patterns((2, 3), 1, 0), 7);
    assert_eq!(early_return(0), "zero");
    assert_eq!(early_return(1), "other");
    assert_eq!(recursive(3), 3);
    assert_eq!(outer(), 2);
    assert_eq!(with_items(), 2);
    assert_eq!(with_nested_measured(), 10);
    named();
    named_trailing_comma();
    nested::in_module();
    assert_eq!(with_abi(2), 4);
    assert_eq!(returns_closure(1)(1), 2);

    let free = stats("{crate}::free_fn");
    assert_eq!((free.calls, free.panics, free.kind), (1, 0, FunctionKind::Sync));
    assert!(free.file.ends_with("sync_fns.rs"), "{}", free.file);
    assert_eq!(free.module, module_path!());
    assert_eq!(stats("{crate}::unit").calls, 1);
    assert_eq!(stats("{crate}::patterns").calls, 1);
    assert_eq!(stats("{crate}::early_return").calls, 2);
    assert_eq!(stats("{crate}::recursive").calls, 4);
    let outer = stats("{crate}::outer");
    assert_eq!(outer.calls, 1);
    assert!(outer.children.iter().any(|c| c.name == format!("{}::inner", module_path!()) && c.calls == 2));
    assert_eq!(stats("{crate}::inner").calls, 2);
    assert_eq!(stats("{crate}::with_items").calls, 1);
    let nesting = stats("{crate}::with_nested_measured");
    assert_eq!(nesting.calls, 1);
    assert_eq!(stats("{crate}::with_nested_measured::nested_measured").calls, 2);
    assert_eq!(stats("custom name").name, "custom name");
    assert_eq!(stats("trailing comma").calls, 1);
    assert_eq!(stats("{crate}::nested::in_module").calls, 1);
    assert_eq!(stats("{crate}::with_abi").calls, 1);
    assert_eq!(stats("{crate}::returns_closure").calls, 1);
}
