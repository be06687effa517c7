//! `#[measure_all]` takes no arguments.

struct Parser;

#[perfscope::measure_all(name = "parser")]
impl Parser {
    fn parse(&self) {}
}

fn main() {}
