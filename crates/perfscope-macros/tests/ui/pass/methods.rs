//! Methods: every receiver, inherent and trait impls, trait default bodies.
#![deny(warnings)]

use std::rc::Rc;

use perfscope::{FunctionStats, measure};

struct Counter {
    n: u32,
}

impl Counter {
    #[measure]
    fn new() -> Self {
        Counter { n: 0 }
    }

    #[measure]
    fn get(&self) -> u32 {
        self.n
    }

    #[measure]
    fn bump(&mut self) -> &mut Self {
        self.n += 1;
        self
    }

    #[measure]
    fn into_inner(self) -> u32 {
        self.n
    }

    #[measure]
    fn boxed(self: Box<Self>) -> u32 {
        self.n
    }

    #[measure]
    fn shared(self: Rc<Self>) -> u32 {
        self.n
    }

    #[measure]
    fn borrow_field<'a>(&'a self, other: &'a u32) -> &'a u32 {
        if self.n > *other { &self.n } else { other }
    }
}

trait Describe {
    fn describe(&self) -> String;

    #[measure]
    fn shout(&self) -> String {
        self.describe().to_uppercase()
    }
}

impl Describe for Counter {
    #[measure]
    fn describe(&self) -> String {
        format!("counter at {}", self.n)
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
    let mut counter = Counter::new();
    counter.bump().bump();
    assert_eq!(counter.get(), 2);
    assert_eq!(*counter.borrow_field(&5), 5);
    assert_eq!(counter.shout(), "COUNTER AT 2");
    assert_eq!(Box::new(Counter::new()).boxed(), 0);
    assert_eq!(Rc::new(Counter::new()).shared(), 0);
    assert_eq!(counter.into_inner(), 2);

    assert_eq!(stats("{crate}::Counter::new").calls, 3);
    assert_eq!(stats("{crate}::Counter::get").calls, 1);
    assert_eq!(stats("{crate}::Counter::bump").calls, 2);
    assert_eq!(stats("{crate}::Counter::into_inner").calls, 1);
    assert_eq!(stats("{crate}::Counter::boxed").calls, 1);
    assert_eq!(stats("{crate}::Counter::shared").calls, 1);
    assert_eq!(stats("{crate}::Counter::borrow_field").calls, 1);
    let describe = stats("<{crate}::Counter as {crate}::Describe>::describe");
    assert_eq!(describe.calls, 1);
    // A default body is named after the trait.
    let shout = stats("{crate}::Describe::shout");
    assert_eq!(shout.calls, 1);
    assert!(shout.children.iter().any(|c| c.name == describe.name && c.calls == 1));
}
