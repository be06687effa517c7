//! Callsites made at run time for the benches that need many functions (`scale`, `session`):
//! what `count` `#[measure]`d functions would register.

use perfscope_core::{Callsite, CallsiteName, Kind};

/// `count` distinct sync callsites named `<prefix>::module<i / 50>::function<i>` (50 to a
/// module), leaked: they live as long as the process, as a function's `static` does.
pub fn callsites(prefix: &str, count: usize) -> Vec<&'static Callsite> {
    (0..count)
        .map(|i| {
            let module: &'static str = Box::leak(format!("{prefix}::module{}", i / 50).into());
            let name: &'static str = Box::leak(format!("{module}::function{i}").into());
            &*Box::leak(Box::new(Callsite::new(
                CallsiteName::Static(name),
                Kind::Sync,
                module,
                file!(),
                i as u32,
            )))
        })
        .collect()
}
