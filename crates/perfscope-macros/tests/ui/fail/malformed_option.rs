use perfscope::measure;

#[measure(name)]
fn no_value() {}

#[measure(name = 3)]
fn not_a_string() {}

#[measure(name = "")]
fn empty() {}

#[measure("x")]
fn positional() {}

fn main() {
    no_value();
    not_a_string();
    empty();
    positional();
}
