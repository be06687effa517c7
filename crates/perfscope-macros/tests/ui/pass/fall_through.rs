//! Bodies whose value is bound under the declared return type before the guard is finished:
//! inference, coercions, temporaries and diverging bodies behave as without `#[measure]`, with
//! no warning in the user's code.
#![deny(warnings)]

use std::panic::catch_unwind;
use std::sync::Mutex;

use perfscope::{FunctionStats, measure};

/// The closure's parameter type comes from the declared return type.
#[measure]
fn adder(k: i32) -> Box<dyn Fn(i32) -> i32> {
    Box::new(move |x| x + k)
}

/// Integer literals take the declared type; the array coerces to a slice.
#[measure]
fn bytes() -> &'static [u8] {
    &[1, 2, 255]
}

#[measure]
fn big() -> u64 {
    1 << 40
}

/// A temporary (the lock guard) in the tail expression.
#[measure]
fn locked_len(m: &Mutex<Vec<u8>>) -> usize {
    m.lock().unwrap().len()
}

/// `?` and an early `return` leave through the guard's drop; the tail through `finish`.
#[measure]
fn parse_or_zero(s: &str) -> Result<u32, std::num::ParseIntError> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: u32 = s.parse()?;
    Ok(n * 2)
}

/// Bodies that diverge: the code after them is unreachable, and no warning says so.
#[measure]
fn not_yet(flag: bool) -> u32 {
    if flag {
        return 1;
    }
    panic!("not yet")
}

#[measure]
#[allow(unreachable_code)] // the user's own allow, for the user's own unreachable code
fn user_unreachable() -> u32 {
    return 7;
    8
}

#[measure]
fn loops_until(n: u32) {
    let mut i = 0;
    loop {
        i += 1;
        if i == n {
            break;
        }
    }
}

#[measure]
fn diverges_unit(n: u32) {
    loop {
        if n > 0 {
            panic!("diverged");
        }
    }
}

/// Return types that reach the attribute through `macro_rules!` (`$t:ty`) or as a type macro.
macro_rules! measured_returning {
    ($name:ident, $t:ty, $body:block) => {
        #[measure]
        fn $name() -> $t $body
    };
}

macro_rules! iter_of {
    ($t:ty) => { impl Iterator<Item = $t> };
}

measured_returning!(never_via_macro, !, { panic!("via a macro") });
measured_returning!(opaque_via_macro, impl Iterator<Item = u8>, { 0..3u8 });
measured_returning!(plain_via_macro, u8, { 3 });

#[measure]
fn from_type_macro() -> iter_of!(u8) {
    0..3
}

/// Called from a destructor while a panic unwinds: it returns normally, so it did not panic.
#[measure]
fn cleanup() -> u32 {
    3
}

/// The same, leaving by an early `return`, by `?`, and from a drop-only expansion.
#[measure]
fn cleanup_early(early: bool) -> u32 {
    if early {
        return 1;
    }
    2
}

#[measure]
fn cleanup_try(input: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = input.parse()?;
    Ok(n)
}

#[measure]
fn cleanup_opaque() -> impl std::fmt::Debug {
    4
}

struct CleansUp;

impl Drop for CleansUp {
    fn drop(&mut self) {
        std::hint::black_box(cleanup());
        std::hint::black_box(cleanup_early(true));
        std::hint::black_box(cleanup_try("x").is_err());
        std::hint::black_box(cleanup_opaque());
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
    assert_eq!(adder(2)(3), 5);
    assert_eq!(bytes(), &[1, 2, 255]);
    assert_eq!(big(), 1 << 40);
    let m = Mutex::new(vec![1, 2]);
    assert_eq!(locked_len(&m), 2);
    assert_eq!(locked_len(&m), 2, "the lock was released");
    assert_eq!(parse_or_zero(""), Ok(0));
    assert_eq!(parse_or_zero("4"), Ok(8));
    assert!(parse_or_zero("x").is_err());
    assert_eq!(not_yet(true), 1);
    assert_eq!(user_unreachable(), 7);
    loops_until(3);
    assert_eq!(opaque_via_macro().count(), 3);
    assert_eq!(plain_via_macro(), 3);
    assert_eq!(from_type_macro().sum::<u8>(), 3);

    std::panic::set_hook(Box::new(|_| {}));
    assert!(catch_unwind(|| not_yet(false)).is_err());
    assert!(catch_unwind(|| diverges_unit(1)).is_err());
    assert!(catch_unwind(|| never_via_macro()).is_err());
    assert!(catch_unwind(|| {
        let _cleans_up = CleansUp;
        panic!("unwinding past a destructor that calls a measured fn");
    })
    .is_err());
    let _ = std::panic::take_hook();

    let once = ["adder", "bytes", "big", "user_unreachable", "loops_until", "opaque_via_macro"];
    for name in once.into_iter().chain(["plain_via_macro", "from_type_macro"]) {
        let f = stats(&format!("{{crate}}::{name}"));
        assert_eq!((f.calls, f.panics), (1, 0), "{name}");
    }
    assert_eq!(stats("{crate}::locked_len").calls, 2);
    let parse = stats("{crate}::parse_or_zero");
    assert_eq!((parse.calls, parse.panics), (3, 0));
    let not_yet = stats("{crate}::not_yet");
    assert_eq!((not_yet.calls, not_yet.panics), (2, 1));
    let diverges = stats("{crate}::diverges_unit");
    assert_eq!((diverges.calls, diverges.panics), (1, 1));
    let never = stats("{crate}::never_via_macro");
    assert_eq!((never.calls, never.panics), (1, 1));
    let cleanup = stats("{crate}::cleanup");
    assert_eq!((cleanup.calls, cleanup.panics), (1, 0), "a normal return during unwinding");
    for name in ["cleanup_early", "cleanup_try", "cleanup_opaque"] {
        let f = stats(&format!("{{crate}}::{name}"));
        assert_eq!((f.calls, f.panics), (1, 0), "{name}: a return during unwinding");
    }
}
