//! The `katabox` command.

/// mimalloc: fast allocation from many threads, and cheap frees of memory
/// another thread allocated (a run's encoded bytes, built on the request
/// path, are freed by the history writer). Built with `no_thp`: mimalloc does not
/// ask for transparent huge pages, whose first touch zeroed 2 MiB at a time
/// (docs/performance.md, "Session 6").
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    katabox::cli::main()
}
