//! Fuzz target: arbitrary bytes read as format `Auto`, threaded and written (see src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadlens_fuzz::check(threadlens_fuzz::ingest::Format::Auto, data);
});
