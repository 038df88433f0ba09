//! The `katabox` command.

fn main() -> std::process::ExitCode {
    katabox::cli::main()
}
