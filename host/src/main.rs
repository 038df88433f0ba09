//! The `katabox` command.

/// mimalloc: fast allocation from many threads, and cheap frees of memory
/// another thread allocated (run records built on the request path are
/// dropped by the history writer). docs/performance.md, "Run history".
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    katabox::cli::main()
}
