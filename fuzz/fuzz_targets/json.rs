//! Fuzz target: arbitrary bytes read as format `Json` (JSON comment records of no particular
//! site), threaded and written (see src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadlens_fuzz::check(threadlens_fuzz::ingest::Format::Json, data);
});
