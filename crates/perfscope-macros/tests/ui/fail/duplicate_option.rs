use perfscope::measure;

#[measure(name = "a", name = "b")]
fn twice() {}

fn main() {
    twice();
}
