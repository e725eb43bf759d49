//! Embeds libtorch's library directory as the binary's RUNPATH, so `threadlens` and
//! `cargo test` run without anyone exporting LD_LIBRARY_PATH; `$ORIGIN/../lib/threadlens`
//! comes first, so a binary that `scripts/install` put under a prefix uses the libtorch
//! installed beside it and runs for any user who can read the prefix. LIBTORCH comes from
//! .cargo/config.toml (pointing at the libtorch that scripts/setup unpacked from the PyPI
//! torch==2.4.0 wheel); the symlink is resolved so the binary keeps working from the cache.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        let lib = std::fs::canonicalize(&lib).unwrap_or(lib);
        println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../lib/threadlens");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
