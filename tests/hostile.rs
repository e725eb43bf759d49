//! Regression tests for the input defects that hostile testing found (issue 17: "nothing lost,
//! nothing invented"). Each test is named after its case and builds its own input; each failed
//! on the main branch before the fix. They go through the library (ingest, then the thread
//! builder), where the defects were, so every input comment can be accounted for: in the
//! forest exactly once, listed as a repeat of an identical record, or rejected with its place.

use threadlens::ingest::{read_bytes, Format, IngestOptions, Input, RejectKind};
use threadlens::thread::{self, Forest};

fn opts(format: Format) -> IngestOptions {
    IngestOptions {
        format,
        ..IngestOptions::default()
    }
}

fn read(name: &str, bytes: &[u8], format: Format) -> Input {
    read_bytes(name, bytes, &opts(format))
        .unwrap_or_else(|e| panic!("{name} should read, got the error: {e}"))
}

/// (id, parent id) of every node, in forest order.
fn edges(forest: &Forest) -> Vec<(String, Option<String>)> {
    forest
        .nodes
        .iter()
        .zip(&forest.comments)
        .map(|(n, c)| {
            (
                c.id.to_string(),
                n.parent.map(|p| forest.comments[p].id.to_string()),
            )
        })
        .collect()
}

fn reasons(input: &Input) -> Vec<String> {
    input.rejects.iter().map(|r| r.to_string()).collect()
}

// ---- 1. a CSV quote that never closes ---------------------------------------------------------

fn ids_and_rejects(input: &Input) -> (Vec<String>, Vec<(u64, String)>) {
    let ids = input.comments.iter().map(|c| c.id.to_string()).collect();
    let rejects = input
        .rejects
        .iter()
        .map(|r| (r.loc.line.unwrap_or(0), r.reason.clone()))
        .collect();
    (ids, rejects)
}

#[test]
fn csv_quote_that_never_closes_swallows_no_row_when_a_later_quote_closes_it() {
    // The runaway quote is closed by the opening quote of row 5; the merged record has the
    // header's three fields, so it used to be accepted whole: rows 3-5 vanished, 0 rejected.
    let csv = b"id,parent_id,text\n1,,fine\n2,1,\"oops no closing quote\n3,1,swallowed one\n4,1,swallowed two\n5,1,\"a quoted field\"\n6,1,after\n";
    let (ids, rejects) = ids_and_rejects(&read("q.csv", csv, Format::Auto));
    assert_eq!(ids, ["1", "3", "4", "5", "6"]);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, 3);
    assert!(rejects[0].1.contains("does not close"), "{rejects:?}");
}

#[test]
fn csv_quote_that_never_closes_with_a_wrong_field_count_locates_every_row() {
    let csv = b"id,parent_id,text\n1,,fine\n2,1,\"oops\n3,1,x\n4,1,\"q\",extra\n5,1,after\n";
    let (ids, rejects) = ids_and_rejects(&read("q.csv", csv, Format::Auto));
    assert_eq!(ids, ["1", "3", "5"]);
    let lines: Vec<u64> = rejects.iter().map(|r| r.0).collect();
    assert_eq!(lines, [3, 5], "{rejects:?}");
    assert_eq!(rejects[1].1, "has 4 fields, the header has 3");
}

#[test]
fn csv_quote_that_runs_to_the_end_of_the_file_names_its_own_line() {
    let csv = b"id,parent_id,text\n1,,fine\n2,1,\"oops\n3,1,x\n4,1,y\n";
    let (ids, rejects) = ids_and_rejects(&read("q.csv", csv, Format::Auto));
    assert_eq!(ids, ["1", "3", "4"]);
    assert_eq!(rejects.iter().map(|r| r.0).collect::<Vec<_>>(), [3]);
}

#[test]
fn csv_quoted_text_with_line_breaks_is_still_one_comment() {
    let csv = b"id,parent_id,text\nc1,,\"a comment\nwith, commas, on a line\nyes, no, maybe\"\nc2,c1,next\n";
    let input = read("m.csv", csv, Format::Auto);
    let (ids, rejects) = ids_and_rejects(&input);
    assert_eq!(ids, ["c1", "c2"]);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(
        input.comments[0].text,
        "a comment\nwith, commas, on a line\nyes, no, maybe"
    );
}

#[test]
fn csv_quoted_text_whose_last_line_looks_like_a_row_is_still_one_comment() {
    // As Python's csv module writes it: the field's last line has a comma and the same number
    // of fields as the header, and its first word is shaped like an id (7 letters, as
    // "cad3215" is 7 characters); the quote that ends it sits inside what would be a field.
    let csv = b"id,text\r\ncad3215,\"there is the HB Gary connection, he wrote about it.\n  \n revenge, a dish best served cold etc\"\r\ncad3216,next\r\n";
    let input = read("m.csv", csv, Format::Auto);
    let (ids, rejects) = ids_and_rejects(&input);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(ids, ["cad3215", "cad3216"]);
    assert!(input.comments[0].text.ends_with("served cold etc"));
}

// ---- 2. deep JSON --------------------------------------------------------------------------

/// A Reddit submission page whose comment chain is `depth` replies deep.
fn deep_reddit(depth: usize) -> String {
    let mut doc = String::from(
        r#"[{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"p","title":"T"}}]}},{"kind":"Listing","data":{"children":["#,
    );
    for i in 0..depth {
        let parent = if i == 0 {
            "t3_p".to_string()
        } else {
            format!("t1_c{}", i - 1)
        };
        doc.push_str(&format!(
            r#"{{"kind":"t1","data":{{"id":"c{i}","parent_id":"{parent}","link_id":"t3_p","body":"reply {i}","replies":{{"kind":"Listing","data":{{"children":["#
        ));
    }
    for _ in 0..depth {
        doc.push_str("]}}}}");
    }
    doc.push_str("]}}]");
    doc
}

/// An Algolia HN item whose `children` nest `depth` comments deep.
fn deep_algolia(depth: usize) -> String {
    let mut doc = String::from(r#"{"id":1,"type":"story","title":"S","children":["#);
    for i in 0..depth {
        let parent = i + 1;
        doc.push_str(&format!(
            r#"{{"id":{},"type":"comment","author":"a","parent_id":{parent},"story_id":1,"text":"t","children":["#,
            i + 2
        ));
    }
    for _ in 0..depth {
        doc.push_str("]}");
    }
    doc.push_str("]}");
    doc
}

#[test]
fn deep_json_reddit_chains_of_5000_and_100000_replies_are_read_whole() {
    for depth in [5_000, 100_000] {
        let input = read("deep.json", deep_reddit(depth).as_bytes(), Format::Reddit);
        assert!(input.rejects.is_empty(), "{:?}", &reasons(&input)[..1]);
        let forest = thread::build(input);
        assert_eq!(forest.nodes.len(), depth);
        assert_eq!(forest.integrity.max_depth as usize, depth - 1);
        let last = forest.comments.last().expect("comments");
        assert_eq!(last.text, format!("reply {}", depth - 1));
    }
}

#[test]
fn deep_json_algolia_children_of_5000_and_100000_levels_are_read_whole() {
    for depth in [5_000, 100_000] {
        let input = read(
            "deep.json",
            deep_algolia(depth).as_bytes(),
            Format::HackerNews,
        );
        assert!(input.rejects.is_empty(), "{:?}", &reasons(&input)[..1]);
        let forest = thread::build(input);
        assert_eq!(forest.nodes.len(), depth);
        assert_eq!(forest.integrity.max_depth as usize, depth - 1);
    }
}

/// Nesting far deeper than the bytes can hold comments for is refused before it is parsed
/// (each level read costs a few hundred bytes of memory): a whole document with an error, a
/// JSON line with a reject, and the other lines are read.
#[test]
fn deep_json_bombs_are_refused_for_their_size() {
    let bomb = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    for format in [
        Format::Reddit,
        Format::HackerNews,
        Format::YouTube,
        Format::Json,
    ] {
        let err =
            read_bytes("bomb.json", bomb(200_000).as_bytes(), &opts(format)).expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("nested 200000 levels deep in 400000 bytes"),
            "{msg}"
        );
    }
    let objects = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    let lines = format!(
        "{{\"id\": 1, \"text\": \"kept\"}}\n{objects}\n{{\"id\": 2, \"text\": \"kept\"}}\n"
    );
    let input = read("bomb.jsonl", lines.as_bytes(), Format::Json);
    assert_eq!(input.comments.len(), 2);
    assert_eq!(input.rejects.len(), 1);
    assert_eq!(input.rejects[0].loc.line, Some(2));
    assert!(
        input.rejects[0].reason.contains("6 bytes a level"),
        "{:?}",
        reasons(&input)
    );
}

// ---- 3. id 0 ---------------------------------------------------------------------------------

#[test]
fn csv_id_zero_is_a_real_parent_when_a_comment_has_it() {
    let csv =
        b"id,parent_id,text\n0,,the first comment\n1,0,a reply to comment 0\n2,,another root\n";
    let forest = thread::build(read("zero.csv", csv, Format::Auto));
    assert_eq!(
        edges(&forest),
        [
            ("0".to_string(), None),
            ("1".to_string(), Some("0".to_string())),
            ("2".to_string(), None),
        ]
    );
    assert!(forest.integrity.orphans.is_empty());
    // Without an id 0, `0` keeps its export meaning: no parent.
    let csv = b"id,parent_id,text\n5,0,root\n6,5,reply\n";
    let forest = thread::build(read("zero.csv", csv, Format::Auto));
    assert_eq!(edges(&forest)[0], ("5".to_string(), None));
    assert!(forest.integrity.orphans.is_empty());
}

#[test]
fn csv_parent_that_matches_no_id_is_an_orphan() {
    let csv = b"id,parent_id,text\n1,,root\n2,99,reply to a comment not in the file\n";
    let forest = thread::build(read("o.csv", csv, Format::Auto));
    let orphans: Vec<_> = forest
        .integrity
        .orphans
        .iter()
        .map(|o| (o.id.as_str(), o.parent_id.as_str()))
        .collect();
    assert_eq!(orphans, [("2", "99")]);
}

// ---- 4. empty ids in Disqus ------------------------------------------------------------------

#[test]
fn disqus_empty_and_blank_ids_are_rejected_and_invent_no_edge() {
    let doc = r#"<?xml version="1.0"?><disqus xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="t"><title>T</title></thread>
<post dsq:id=""><message>empty id</message><thread dsq:id="t"/></post>
<post dsq:id="  "><message>blank id</message><thread dsq:id="t"/></post>
<post dsq:id="a"><message>good</message><thread dsq:id="t"/></post>
<post dsq:id="b"><message>empty parent</message><thread dsq:id="t"/><parent dsq:id=""/></post>
</disqus>"#;
    let input = read("d.xml", doc.as_bytes(), Format::Disqus);
    let got = reasons(&input);
    assert_eq!(
        got,
        [
            "d.xml: line 3: <post> with an empty dsq:id",
            "d.xml: line 4: <post> with an empty dsq:id",
            "d.xml: line 6: post b: <parent> with an empty or missing dsq:id",
        ]
    );
    let forest = thread::build(input);
    assert_eq!(edges(&forest), [("a".to_string(), None)]);
    assert!(forest.integrity.duplicate_ids.is_empty());
}

// ---- 5. wrongly typed fields -----------------------------------------------------------------

#[test]
fn wrongly_typed_json_fields_are_located_rejects_not_empty_text() {
    let reddit = concat!(
        r#"{"id":"a","parent_id":"t3_p","body":"fine"}"#,
        "\n",
        r#"{"id":"b","parent_id":"t3_p","body":12345}"#,
        "\n",
        r#"{"id":"c","parent_id":"t3_p","body":{"x":1}}"#,
        "\n",
        r#"{"id":"d","parent_id":["t1_a"],"body":"array parent"}"#,
        "\n",
        "null\n",
    );
    let input = read("r.ndjson", reddit.as_bytes(), Format::Reddit);
    assert_eq!(input.comments.len(), 1);
    let got = reasons(&input);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got[0].contains("line 2") && got[0].contains("`body` is a number"),
        "{got:?}"
    );
    assert!(
        got[1].contains("line 3") && got[1].contains("`body` is an object"),
        "{got:?}"
    );
    assert!(
        got[2].contains("line 4") && got[2].contains("`parent_id` is an array"),
        "{got:?}"
    );
    assert!(
        got[3].contains("line 5") && got[3].contains("found null"),
        "{got:?}"
    );

    let hn = r#"[{"id":1,"type":"story","title":"S"},{"id":2,"parent":1,"text":12345},
        {"id":3,"parent":1,"text":"ok","children":[null]}]"#;
    let input = read("hn.json", hn.as_bytes(), Format::HackerNews);
    assert_eq!(input.comments.len(), 1);
    let got = reasons(&input);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].contains("item 2: `text` is a number"), "{got:?}");
    assert!(got[1].contains("found null"), "{got:?}");

    let yt = r#"{"kind":"youtube#comment","id":"y1","snippet":{"textOriginal":42}}"#;
    let input = read("y.json", yt.as_bytes(), Format::YouTube);
    assert!(input.comments.is_empty());
    assert!(reasons(&input)[0].contains("`textOriginal` is a number"));
}

// ---- 6. markup in Disqus messages ------------------------------------------------------------

#[test]
fn disqus_message_with_markup_children_keeps_all_its_text() {
    let doc = r#"<disqus xmlns:dsq="d"><post dsq:id="1"><message>before <b>markup</b> inside <i><b>nested</b></i> after</message></post></disqus>"#;
    let input = read("d.xml", doc.as_bytes(), Format::Disqus);
    assert_eq!(input.comments[0].text, "before markup inside nested after");
}

// ---- 7. an entity in a WXR post title --------------------------------------------------------

#[test]
fn wxr_entity_in_the_post_title_is_decoded_and_rejects_no_comment() {
    let doc = r#"<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<item><title>Caf&eacute; &amp; politics&nbsp;today</title><wp:post_id>7</wp:post_id>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>first</wp:comment_content></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_content>second</wp:comment_content><wp:comment_parent>1</wp:comment_parent></wp:comment>
</item></channel></rss>"#;
    let input = read("w.xml", doc.as_bytes(), Format::Wxr);
    assert!(input.rejects.is_empty(), "{:?}", reasons(&input));
    assert_eq!(input.comments.len(), 2);
    assert_eq!(
        input.articles[0].title.as_deref(),
        Some("Café & politics\u{a0}today")
    );
    // An entity no table knows (never expanded) damages only the element it is in: the title
    // keeps its raw text, the clean comments stay, the damaged one is rejected at its line.
    let doc = r#"<rss xmlns:wp="w"><channel><item><title>&custom;</title><wp:post_id>7</wp:post_id>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>clean</wp:comment_content></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_content>&bomb;</wp:comment_content></wp:comment>
</item></channel></rss>"#;
    let input = read("w.xml", doc.as_bytes(), Format::Wxr);
    assert_eq!(input.comments.len(), 1);
    assert_eq!(input.comments[0].id, "1");
    let got = reasons(&input);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("w.xml: line 3: <wp:comment>") && got[0].contains("bomb"),
        "{got:?}"
    );
}

// ---- 8. overlapping exports ------------------------------------------------------------------

#[test]
fn overlapping_exports_keep_each_identical_comment_once() {
    // Two exports of one thread (they name it), overlapping on comment 2.
    let a = b"thread_id,id,parent_id,author,text\nt,1,,ann,hello\nt,2,1,bob,you are wrong\n";
    let b = b"thread_id,id,parent_id,author,text\nt,2,1,bob,you are wrong\nt,3,1,cat,a different one\nt,1,,ann,an edited text\n";
    let mut input = read("a.csv", a, Format::Auto);
    let more = read("b.csv", b, Format::Auto);
    input.comments.extend(more.comments);
    let forest = thread::build(input);
    let ids: Vec<_> = forest.comments.iter().map(|c| c.id.as_str()).collect();
    // The repeat of 2 is kept once; 1 with another text is a genuine conflict, kept apart.
    assert_eq!(forest.nodes.len(), 4, "{ids:?}");
    let repeated: Vec<_> = forest
        .integrity
        .repeated_records
        .iter()
        .map(|r| (r.id.as_str(), r.loc.to_string(), r.first.to_string()))
        .collect();
    assert_eq!(
        repeated,
        [(
            "2",
            "b.csv: line 2".to_string(),
            "a.csv: line 3".to_string()
        )]
    );
    assert_eq!(forest.integrity.duplicate_ids.len(), 1);
    let authors = forest
        .comments
        .iter()
        .filter(|c| c.author.as_deref() == Some("bob"))
        .count();
    assert_eq!(authors, 1);
}

/// Issue 34 case 3: the same id, author and text in two threads of one file, or in two files
/// that name no thread, are two comments; each keeps its own replies, and no reply crosses
/// into another article.
#[test]
fn equal_records_in_other_threads_or_files_are_distinct_comments() {
    let one_file = b"thread_id,id,parent_id,author,text\nA,1,,,[deleted]\nA,2,1,x,reply in A\nB,1,,,[deleted]\nB,2,1,y,reply in B\n";
    let forest = thread::build(read("t.csv", one_file, Format::Auto));
    assert!(forest.integrity.repeated_records.is_empty());
    let article_of = |forest: &Forest, i: usize| forest.comments[i].thread_key.clone();
    let parents: Vec<_> = forest
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                forest.comments[i].text.clone(),
                n.parent.map(|p| article_of(&forest, p)),
                article_of(&forest, i),
            )
        })
        .collect();
    assert_eq!(forest.nodes.len(), 4, "{parents:?}");
    for (text, parent_article, article) in &parents {
        if let Some(pa) = parent_article {
            assert_eq!(pa, article, "{text} is attached across articles");
        }
    }
    assert_eq!(
        forest.nodes.iter().filter(|n| n.parent.is_some()).count(),
        2
    );

    let a = b"id,parent_id,author,text\n1,,Anonymous,First!\n2,1,bob,reply in a\n";
    let b = b"id,parent_id,author,text\n1,,Anonymous,First!\n2,1,cat,reply in b\n";
    let mut input = read("a.csv", a, Format::Auto);
    input
        .comments
        .extend(read("b.csv", b, Format::Auto).comments);
    let forest = thread::build(input);
    assert!(forest.integrity.repeated_records.is_empty());
    let files: Vec<(String, Option<String>)> = forest
        .nodes
        .iter()
        .zip(&forest.comments)
        .map(|(n, c)| {
            (
                c.loc.file.to_string(),
                n.parent.map(|p| forest.comments[p].loc.file.to_string()),
            )
        })
        .collect();
    assert_eq!(forest.nodes.len(), 4, "{files:?}");
    for (file, parent_file) in &files {
        if let Some(pf) = parent_file {
            assert_eq!(
                pf, file,
                "a reply is attached to the other file's comment 1"
            );
        }
    }
}

/// A parent id that exists only in another article is an orphan, not a link across articles.
#[test]
fn a_parent_in_another_article_is_an_orphan() {
    let csv =
        b"thread_id,id,parent_id,author,text\nA,1,,ann,in A\nB,2,1,bob,in B naming A's comment\n";
    let forest = thread::build(read("x.csv", csv, Format::Auto));
    assert!(forest.nodes.iter().all(|n| n.parent.is_none()));
    assert_eq!(forest.integrity.orphans.len(), 1);
}

// ---- 9. NUL bytes ----------------------------------------------------------------------------

#[test]
fn nul_characters_from_json_never_reach_the_outputs() {
    let doc = r#"{"id":"a\u0000b","parent_id":"t3_p","author":"x\u0000","body":"nul\u0000inside"}"#;
    let input = read("n.json", doc.as_bytes(), Format::Reddit);
    let c = &input.comments[0];
    assert_eq!(
        (c.id.as_str(), c.author.as_deref(), c.text.as_str()),
        ("ab", Some("x"), "nulinside")
    );
}

// ---- 14. empty outcomes ----------------------------------------------------------------------

#[test]
fn inputs_that_give_nothing_say_why_like_an_empty_file() {
    let cases: &[(&str, &[u8], Format, &str)] = &[
        ("h.csv", b"id,parent_id,text\n", Format::Auto, "header only"),
        ("d.json", br#"{"a": 1}"#, Format::Disqus, "read as disqus"),
        ("e.xml", b"<disqus></disqus>", Format::Auto, "<post>"),
    ];
    for (name, bytes, format, want) in cases {
        let input = read(name, bytes, *format);
        assert!(input.comments.is_empty(), "{name}");
        assert_eq!(input.rejects.len(), 1, "{name}: {:?}", reasons(&input));
        let r = &input.rejects[0];
        assert_eq!(r.kind, RejectKind::EmptyFile, "{name}");
        assert!(r.reason.contains(want), "{name}: {}", r.reason);
    }
}
