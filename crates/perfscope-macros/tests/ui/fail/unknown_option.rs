use perfscope::measure;

#[measure(label = "x")]
fn labelled() {}

#[measure(name = "x", skip = true)]
fn skipped() {}

#[measure(type = "x")]
fn keyword() {}

fn main() {
    labelled();
    skipped();
    keyword();
}
