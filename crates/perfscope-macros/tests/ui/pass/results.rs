//! `-> Result` with `?`, early returns and error conversions.
#![deny(warnings)]

use std::error::Error;
use std::num::ParseIntError;

use perfscope::{FunctionStats, measure};

#[derive(Debug)]
enum ConfigError {
    Parse(ParseIntError),
    Missing(&'static str),
}

impl From<ParseIntError> for ConfigError {
    fn from(e: ParseIntError) -> Self {
        ConfigError::Parse(e)
    }
}

#[measure]
fn port(raw: Option<&str>) -> Result<u16, ConfigError> {
    let raw = raw.ok_or(ConfigError::Missing("port"))?;
    let port = raw.trim().parse::<u16>()?;
    if port == 0 {
        return Err(ConfigError::Missing("non-zero port"));
    }
    Ok(port)
}

#[measure]
fn sum(raw: &str) -> Result<u64, Box<dyn Error>> {
    let mut total = 0;
    for part in raw.split(',') {
        total += part.parse::<u64>()?;
    }
    Ok(total)
}

#[measure]
fn first_even(items: &[u32]) -> Option<u32> {
    let first = *items.first()?;
    Some(if first % 2 == 0 { first } else { *items.get(1)? })
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
    assert_eq!(port(Some(" 80 ")).ok(), Some(80));
    assert!(matches!(port(None), Err(ConfigError::Missing("port"))));
    assert!(matches!(port(Some("x")), Err(ConfigError::Parse(_))));
    assert!(matches!(port(Some("0")), Err(ConfigError::Missing(_))));
    assert_eq!(sum("1,2").ok(), Some(3));
    assert!(sum("1,x").is_err());
    assert_eq!(first_even(&[2]), Some(2));
    assert_eq!(first_even(&[1]), None);
    assert_eq!(first_even(&[]), None);

    let port = stats("{crate}::port");
    assert_eq!((port.calls, port.panics), (4, 0));
    assert_eq!(stats("{crate}::sum").calls, 2);
    assert_eq!(stats("{crate}::first_even").calls, 3);
}
