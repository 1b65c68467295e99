use std::process::ExitCode;

/// jemalloc, for Rust and (unprefixed) for SQLite's C code alike: see Cargo.toml.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    greenchip::cli::run().await
}
