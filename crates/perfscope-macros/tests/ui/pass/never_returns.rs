//! Functions that never return, or unwind: the guard records the call on unwind.
#![deny(warnings)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use perfscope::{FunctionStats, measure};

#[measure]
fn fail(reason: &str) -> ! {
    panic!("{reason}")
}

#[measure]
fn checked(x: u32) -> u32 {
    if x == 0 {
        fail("zero");
    }
    x
}

#[measure]
fn spin_until(flag: &std::cell::Cell<u32>) -> ! {
    loop {
        flag.set(flag.get() + 1);
        if flag.get() == 3 {
            panic!("done spinning");
        }
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
    std::panic::set_hook(Box::new(|_| {}));
    assert!(catch_unwind(|| fail("boom")).is_err());
    assert!(catch_unwind(|| checked(0)).is_err());
    assert_eq!(checked(1), 1);
    let flag = std::cell::Cell::new(0);
    assert!(catch_unwind(AssertUnwindSafe(|| spin_until(&flag))).is_err());
    let _ = std::panic::take_hook();

    let fail = stats("{crate}::fail");
    assert_eq!((fail.calls, fail.panics), (2, 2));
    let checked = stats("{crate}::checked");
    assert_eq!((checked.calls, checked.panics), (2, 1));
    let spin = stats("{crate}::spin_until");
    assert_eq!((spin.calls, spin.panics), (1, 1));
}
