//! Fuzz target: arbitrary bytes read as format `Page`, threaded and written (see src/lib.rs);
//! the same bytes inside an HTML document go through the saved-page reader (html5ever, the
//! site extractors, the generic fallback), whatever their first byte.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use threadlens_fuzz::ingest::Format;
    threadlens_fuzz::check(Format::Page, data);
    if data.first() != Some(&b'<') {
        let mut html = b"<!DOCTYPE html><html><body>".to_vec();
        html.extend_from_slice(data);
        threadlens_fuzz::check(Format::Page, &html);
    }
});
