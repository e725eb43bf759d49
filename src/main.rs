//! The `threadlens` binary: parse arguments, run, turn the outcome into an exit status.
//! Everything lives in the library; this file stays thin on purpose.

fn main() -> std::process::ExitCode {
    threadlens::cli::main()
}
