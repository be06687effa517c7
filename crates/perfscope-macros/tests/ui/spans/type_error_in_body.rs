use perfscope::measure;

#[measure]
fn sync_wrong(x: u32) -> String {
    x
}

#[measure]
async fn async_wrong(x: u32) -> String {
    if x == 0 {
        return x;
    }
    String::new()
}

#[measure]
fn future_wrong(x: u32) -> impl std::future::Future<Output = String> {
    async move { x }
}

#[derive(Debug)]
struct MyError;

#[measure]
async fn missing_from(raw: &str) -> Result<u32, MyError> {
    let n = raw.parse::<u32>()?;
    Ok(n)
}

fn main() {
    let _ = sync_wrong(1);
    let _ = async_wrong(1);
    let _ = future_wrong(1);
    let _ = missing_from("1");
}
