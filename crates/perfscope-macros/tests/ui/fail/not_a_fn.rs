use perfscope::measure;

#[measure]
struct Config {
    verbose: bool,
}

#[measure]
enum Mode {
    Fast,
}

#[measure]
impl Config {}

fn main() {
    let _ = Config { verbose: true }.verbose;
    let _ = Mode::Fast;
}
