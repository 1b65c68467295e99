use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    greenchip::cli::run().await
}
