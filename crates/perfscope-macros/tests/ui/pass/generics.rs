//! Generics, lifetimes, `where` clauses, `impl Trait`: one callsite per function, shared by
//! all instantiations.
#![deny(warnings)]

use std::fmt::Display;

use perfscope::{FunctionStats, measure};

#[measure]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> T {
    let mut max = items[0];
    for &item in items {
        if item > max {
            max = item;
        }
    }
    max
}

#[measure]
fn join<'a, I>(parts: I, sep: &str) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    parts.into_iter().collect::<Vec<_>>().join(sep)
}

#[measure]
fn show(value: impl Display) -> impl Display {
    format!("<{value}>")
}

#[measure]
fn evens<'a>(items: &'a [u32]) -> impl Iterator<Item = &'a u32> + 'a {
    items.iter().filter(|x| *x % 2 == 0)
}

#[measure]
fn first_n<const N: usize>(items: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&items[..N]);
    out
}

#[measure]
fn dynamic(f: &dyn Fn(u32) -> u32, x: u32) -> Box<dyn Display> {
    Box::new(f(x))
}

struct Wrapper<T>(T);

impl<T> Wrapper<T>
where
    T: Clone + Default,
{
    #[measure]
    fn cloned(&self) -> T {
        self.0.clone()
    }

    #[measure]
    fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Wrapper<U> {
        Wrapper(f(self.0))
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
    assert_eq!(largest(&[1, 5, 2]), 5);
    assert_eq!(largest(&[1.5, 0.5]), 1.5);
    assert_eq!(largest(&['a', 'z']), 'z');
    assert_eq!(join(["a", "b"], "-"), "a-b");
    assert_eq!(show(1).to_string(), "<1>");
    assert_eq!(show("x").to_string(), "<x>");
    assert_eq!(evens(&[1, 2, 3, 4]).count(), 2);
    assert_eq!(first_n::<2>(&[1, 2, 3]), [1, 2]);
    assert_eq!(dynamic(&|x| x + 1, 1).to_string(), "2");
    let wrapper = Wrapper(String::from("w"));
    assert_eq!(wrapper.cloned(), "w");
    assert_eq!(Wrapper(3u8).cloned(), 3);
    assert_eq!(wrapper.map(|s| s.len()).0, 1);

    let report = perfscope::report();
    let largest_entries = report.functions.iter().filter(|f| f.name.ends_with("::largest"));
    assert_eq!(largest_entries.count(), 1, "one callsite for every instantiation");
    assert_eq!(stats("{crate}::largest").calls, 3);
    assert_eq!(stats("{crate}::join").calls, 1);
    assert_eq!(stats("{crate}::show").calls, 2);
    assert_eq!(stats("{crate}::evens").calls, 1);
    assert_eq!(stats("{crate}::first_n").calls, 1);
    assert_eq!(stats("{crate}::dynamic").calls, 1);
    let cloned = stats("{crate}::Wrapper<_>::cloned");
    assert_eq!(cloned.calls, 2);
    assert_eq!(stats("{crate}::Wrapper<_>::map").calls, 1);
}
