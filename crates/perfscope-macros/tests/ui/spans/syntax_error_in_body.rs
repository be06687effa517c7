use perfscope::measure;

#[measure]
fn broken(x: u32) -> u32 {
    let y = x +;
    y
}

fn main() {
    let _ = broken(1);
}
