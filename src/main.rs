//! The `threadlens` binary: parse arguments, run, turn the outcome into an exit status.
//! Everything lives in the library; this file stays thin on purpose.

fn main() -> std::process::ExitCode {
    one_malloc_arena();
    write_errors_not_signals();
    threadlens::cli::main()
}

/// A write past the file-size limit (`ulimit -f`) fails with EFBIG, reported and cleaned up
/// like a full disk (the reports' temporary files removed, a feedback row cut back), instead
/// of SIGXFSZ killing the process half-way. Called before any thread exists.
fn write_errors_not_signals() {
    #[cfg(unix)]
    // SAFETY: setting one signal's disposition to "ignore" before any other thread runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// glibc gives every thread that allocates its own arena and rarely hands their free space
/// back; with the tokenizer thread and libtorch's workers that cost about 60 MB of peak memory
/// at a million comments, for no measurable speed. One arena, unless the user set
/// `MALLOC_ARENA_MAX` themselves. Called before any thread exists.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread is running yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
