//! Fuzz target: arbitrary bytes as the HTML body of a comment, in the two exports whose bodies go
//! through the HTML-to-text path (html2text on html5ever, after the depth and formatting caps of
//! `ingest/html/shallow.rs`): a Disqus `<message>` and a Hacker News item's `text`. Run it with
//! libFuzzer's memory cap (`-rss_limit_mb`, fuzz/README.md): issue 34's case 1 was a 79 KB body
//! that took 3.1 GB.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use threadlens_fuzz::ingest::Format;
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let cdata = body.replace("]]>", "]]]]><![CDATA[>");
    let disqus = format!(
        r#"<?xml version="1.0"?><disqus xmlns:dsq="http://disqus.com/disqus-internals"><thread dsq:id="t"><title>T</title></thread><post dsq:id="a"><message><![CDATA[{cdata}]]></message><thread dsq:id="t"/></post></disqus>"#
    );
    threadlens_fuzz::check(Format::Disqus, disqus.as_bytes());
    let text = serde_json::to_string(body).expect("a string serialises");
    let hn = format!(r#"{{"id":2,"type":"comment","by":"a","parent":1,"text":{text}}}"#);
    threadlens_fuzz::check(Format::HackerNews, hn.as_bytes());
});
