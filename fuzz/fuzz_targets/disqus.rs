//! Fuzz target: arbitrary bytes read as format `Disqus`, threaded and written (see src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadlens_fuzz::check(threadlens_fuzz::ingest::Format::Disqus, data);
});
