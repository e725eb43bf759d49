//! `threadlens serve` tested as Coral Talk uses it: the real binary on a free loopback port,
//! requests shaped as Coral's server sends them (written from Perspective's public reference
//! and Coral's source, not captured), and the answers checked against Perspective's format and
//! against `threadlens score` on the same texts. HTTP on the client side is a few lines over
//! a TcpStream (one request per connection), so the test needs no client crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A running server, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    port: u16,
}

/// Sends requests to a server's port (Copy, so client threads can have one each).
#[derive(Clone, Copy)]
struct Client {
    port: u16,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_threadlens"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--quiet"])
            .args(extra);
        Server::spawn(cmd)
    }

    /// The server under `ulimit -f BLOCKS` (512-byte blocks): a disk that fills up.
    fn start_with_file_limit(blocks: u32, extra: &[&str]) -> Server {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -f {blocks}; exec \"$0\" serve --listen 127.0.0.1:0 --quiet \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_threadlens"))
            .args(extra)
            .env("THREADLENS_PRECISION", "fp32");
        Server::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("threadlens serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .expect("stderr is text");
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                break rest
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("a port");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, port }
    }

    fn client(&self) -> Client {
        Client { port: self.port }
    }

    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.client().request(method, path, body)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.client().post(path, body)
    }
}

impl Client {
    /// Sends one request; returns the status and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).ok();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("a status line");
        let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, decode_chunked(body))
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.request("POST", path, &body.to_string());
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        (status, value)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return; // already exited (and waited for)
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A body in chunked transfer encoding, decoded (a plain body is returned as it is).
fn decode_chunked(body: &str) -> String {
    let looks_chunked = body
        .split("\r\n")
        .next()
        .is_some_and(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_hexdigit()));
    if !looks_chunked {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

const ANALYZE: &str = "/v1alpha1/comments:analyze";
const SUGGEST: &str = "/v1alpha1/comments:suggestscore";

/// What Coral Talk's server posts (coralproject/talk, src/core/server/services/comments/
/// pipeline/phases/toxic.ts): TOXICITY only, doNotStore, languages ["en"].
fn coral_analyze(text: &str) -> Value {
    json!({
        "comment": {"text": text},
        "languages": ["en"],
        "doNotStore": true,
        "requestedAttributes": {"TOXICITY": {}}
    })
}

fn toxicity(v: &Value) -> f64 {
    v["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("no TOXICITY score in {v}"))
}

const TEXTS: [&str; 4] = [
    "Thank you for the thoughtful article, I learned a lot.",
    "You are a complete idiot and everyone here knows it.",
    "I disagree with the policy, but the reporting is fair.",
    "Shut up, moron.",
];

#[test]
fn coral_shaped_analyze_answers_like_perspective_with_the_scores_of_threadlens_score() {
    let server = Server::start(&[]);
    let mut served = Vec::new();
    for text in TEXTS {
        let (status, v) = server.post(ANALYZE, &coral_analyze(text));
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["attributeScores"]["TOXICITY"]["summaryScore"]["type"],
            "PROBABILITY"
        );
        assert_eq!(v["languages"], json!(["en"]));
        served.push(toxicity(&v));
    }
    // The same texts through `threadlens score`.
    let d = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from("id,text\n");
    for (i, t) in TEXTS.iter().enumerate() {
        csv.push_str(&format!("{i},\"{t}\"\n"));
    }
    std::fs::write(d.path().join("t.csv"), csv).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["score", "t.csv", "--quiet"])
        .current_dir(d.path())
        .output()
        .expect("score runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let col = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "toxicity")
        .expect("toxicity column");
    let scored: Vec<f64> = r
        .records()
        .map(|rec| rec.expect("row")[col].parse().expect("number"))
        .collect();
    for (i, (a, b)) in served.iter().zip(&scored).enumerate() {
        // score prints 4 decimals; batch composition moves the last digits (docs/reliability.md bound).
        assert!((a - b).abs() < 2e-3, "text {i}: served {a}, scored {b}");
    }
    assert!(served[1] > served[0] && served[3] > served[2], "{served:?}");
}

#[test]
fn all_attributes_spans_client_token_and_stance_toward_the_context() {
    let server = Server::start(&[]);
    let body = json!({
        "comment": {"text": "This cooperation is good news for both countries."},
        "context": {"entries": [{"text": "Russia and the US agree to cooperate on counter-terrorism", "type": "PLAIN_TEXT"}]},
        "requestedAttributes": {
            "TOXICITY": {}, "SEVERE_TOXICITY": {}, "IDENTITY_ATTACK": {}, "INSULT": {},
            "PROFANITY": {}, "THREAT": {}, "SEXUALLY_EXPLICIT": {},
            "THREADLENS_STANCE_FAVOR": {}, "THREADLENS_SENTIMENT_POSITIVE": {}
        },
        "spanAnnotations": true,
        "clientToken": "abc"
    });
    let (status, v) = server.post(ANALYZE, &body);
    assert_eq!(status, 200, "{v}");
    let scores = v["attributeScores"].as_object().expect("attributeScores");
    assert_eq!(scores.len(), 9, "{v}");
    for (name, s) in scores {
        let value = s["summaryScore"]["value"].as_f64().expect("value");
        assert!((0.0..=1.0).contains(&value), "{name}");
        assert_eq!(s["spanScores"][0]["begin"], 0, "{name}");
    }
    assert_eq!(v["clientToken"], "abc");
}

#[test]
fn bad_requests_and_keys_get_perspective_shaped_errors() {
    let server = Server::start(&["--api-key", "sekret"]);
    let ok = format!("{ANALYZE}?key=sekret");
    let cases: Vec<(String, String, u16, &str)> = vec![
        (ANALYZE.to_string(), coral_analyze("hi").to_string(), 403, "PERMISSION_DENIED"),
        (format!("{ANALYZE}?key=wrong"), coral_analyze("hi").to_string(), 403, "PERMISSION_DENIED"),
        (ok.clone(), "{not json".to_string(), 400, "INVALID_ARGUMENT"),
        (ok.clone(), json!({"requestedAttributes": {"TOXICITY": {}}}).to_string(), 400, "INVALID_ARGUMENT"),
        (ok.clone(), json!({"comment": {"text": "x"}, "requestedAttributes": {"HUMOR": {}}}).to_string(), 400, "INVALID_ARGUMENT"),
        (ok.clone(), json!({"comment": {"text": "x"}, "languages": ["fr"], "requestedAttributes": {"TOXICITY": {}}}).to_string(), 400, "INVALID_ARGUMENT"),
        (ok.clone(), json!({"comment": {"text": "x".repeat(20 * 1024 + 1)}, "requestedAttributes": {"TOXICITY": {}}}).to_string(), 400, "INVALID_ARGUMENT"),
        (ok.clone(), "x".repeat(2 << 20), 400, "INVALID_ARGUMENT"),
    ];
    for (path, body, code, status) in cases {
        let (got, text) = server.request("POST", &path, &body);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(
            (got, v["error"]["status"].as_str()),
            (code, Some(status)),
            "{path}: {text}"
        );
        assert_eq!(v["error"]["code"], code);
        assert!(!text.contains("sekret"), "the key is never echoed");
    }
    let (status, v) = server.post(&ok, &coral_analyze("hello"));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn suggestscore_decisions_become_a_labels_file_that_tune_reads() {
    let d = tempfile::tempdir().expect("tempdir");
    let fb = d.path().join("feedback.csv");
    let server = Server::start(&["--feedback", fb.to_str().expect("utf-8 path")]);
    // Coral sends suggestscore with the decision as TOXICITY 0 (approved) or 1 (rejected).
    for (i, text) in TEXTS.iter().enumerate() {
        let body = json!({
            "comment": {"text": text},
            "context": {"entries": [{"text": "the parent comment"}]},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": if i % 2 == 1 { 1 } else { 0 }}}},
            "languages": ["en"],
            "communityId": "Coral:test",
            "clientToken": format!("comment-{i}")
        });
        let (status, v) = server.post(SUGGEST, &body);
        assert_eq!(
            (status, v["clientToken"].as_str()),
            (200, Some(format!("comment-{i}").as_str()))
        );
    }
    // Recorded before the answer: readable now, while the server runs.
    let text = std::fs::read_to_string(&fb).expect("feedback file");
    assert_eq!(text.lines().count(), 5, "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["tune", "--labels"])
        .arg(&fb)
        .args(["-o", "t.toml", "--quiet"])
        .current_dir(d.path())
        .output()
        .expect("tune runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new(&d.path().join("t.toml")).is_file());
}

#[test]
fn health_metrics_and_concurrent_requests_are_batched() {
    let server = Server::start(&[]);
    let (status, body) = server.request("GET", "/healthz", "");
    assert_eq!((status, body.trim()), (200, "ok"));
    let client = server.client();
    let threads: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                client
                    .post(ANALYZE, &coral_analyze(&format!("comment number {i}")))
                    .0
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), 200);
    }
    let (status, text) = server.request("GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        text.contains("threadlens_requests_total{endpoint=\"analyze\",status=\"200\"} 16"),
        "{text}"
    );
    assert!(text.contains("threadlens_queue_depth 0"), "{text}");
    let batches: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("threadlens_batch_size_count "))
        .and_then(|n| n.trim().parse().ok())
        .expect("batch count");
    assert!(
        batches < 16,
        "concurrent requests share encoder calls: {batches} batches for 16"
    );
}

#[test]
fn sigterm_answers_the_requests_in_flight_then_exits_0() {
    // Requests wait up to 2 s in the batcher for company: they are in flight when the
    // signal arrives.
    let mut server = Server::start(&["--max-wait-ms", "2000", "--max-batch", "100"]);
    let client = server.client();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                client
                    .post(ANALYZE, &coral_analyze(&format!("in flight {i}")))
                    .0
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    for t in threads {
        assert_eq!(t.join().expect("thread"), 200);
    }
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_full_queue_answers_429_instead_of_growing() {
    let server = Server::start(&["--queue", "1", "--max-batch", "1", "--max-wait-ms", "0"]);
    let client = server.client();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(32));
    let threads: Vec<_> = (0..32)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let body = coral_analyze(&format!(
                    "a longer comment, number {i}, {}",
                    "words ".repeat(60)
                ));
                barrier.wait();
                client.post(ANALYZE, &body)
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, v)| v)
        .collect();
    assert!(
        !refused.is_empty(),
        "32 requests at once into a queue of 1: some must be refused"
    );
    assert!(refused
        .iter()
        .all(|v| v["error"]["status"] == "RESOURCE_EXHAUSTED"));
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 429));
    assert!(answers.iter().any(|(s, _)| *s == 200));
}

/// Google's own client library (google-api-python-client), used as Perspective's docs show
/// with only the discovery URL changed. `scripts/test` installs it into the cache; where it is
/// missing the test says so and skips.
#[test]
fn googles_python_client_works_against_the_local_server() {
    let cache = std::env::var_os("THREADLENS_CACHE").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/threadlens"),
        std::path::PathBuf::from,
    );
    let python = cache.join("perspective-client/bin/python");
    let has_client = Command::new(&python)
        .args(["-c", "import googleapiclient"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_client {
        eprintln!(
            "skipped: google-api-python-client is not installed in {} (scripts/test installs it)",
            python.display()
        );
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    let fb = d.path().join("fb.csv");
    let server = Server::start(&["--api-key", "k1", "--feedback", fb.to_str().expect("utf-8")]);
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/perspective_client.py"))
        .args([server.port.to_string(), "k1".to_string()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let v = toxicity(&lines[0]);
    assert!((0.0..=1.0).contains(&v), "{}", lines[0]);
    assert!(lines[0]["attributeScores"]["INSULT"]["summaryScore"]["value"].is_number());
    assert_eq!(lines[1]["clientToken"], "py-1");
    assert!(std::fs::read_to_string(&fb)
        .expect("feedback")
        .contains("py-1,"));
}

/// Whether the server has closed `s` (a read gives end of file or a reset) within `wait`.
fn closed_by_server(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).ok();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an error answer (408) before the close is fine
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// Issue 34 case 5: idle connections and a slowloris client (headers sent a few bytes at a
/// time, never finished) are closed after --header-timeout; at most --max-connections are held
/// at once; and normal requests are answered again as soon as the idle ones are gone.
#[test]
fn idle_and_slow_connections_are_closed_and_capped() {
    let server = Server::start(&["--max-connections", "4", "--header-timeout", "1"]);
    let mut idle: Vec<TcpStream> = (0..12)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).expect("connect"))
        .collect();
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    slow.write_all(b"POST /v1alpha1/comments:analyze HTTP/1.1\r\nHost: x\r\n")
        .expect("send part of a header");
    let start = std::time::Instant::now();
    for s in idle.iter_mut().chain(std::iter::once(&mut slow)) {
        assert!(
            closed_by_server(s, Duration::from_secs(5)),
            "a connection is still open after {:?}",
            start.elapsed()
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let (status, body) = server.request("GET", "/healthz", "");
    assert_eq!((status, body.trim()), (200, "ok"));
}

/// Issue 34 case 5: SIGTERM with a request whose body never finishes arriving exits after
/// --drain-timeout instead of waiting for ever.
#[test]
fn sigterm_with_a_half_sent_request_exits_within_the_drain_deadline() {
    let mut server = Server::start(&["--drain-timeout", "1", "--body-timeout", "60"]);
    let mut half = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    half.write_all(
        b"POST /v1alpha1/comments:analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"comm",
    )
    .expect("send half a request");
    std::thread::sleep(Duration::from_millis(300));
    let start = std::time::Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still running {:?} after SIGTERM",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    drop(half);
}

/// Issue 34 case 6: when the disk fills up (here a 1 KiB file-size limit), a decision that
/// cannot be written whole is cut back and answered 500; every decision answered 200 is in the
/// file exactly once, and the file stays one that tune reads without a rejected row.
#[test]
fn a_full_disk_answers_500_and_leaves_only_whole_rows() {
    let d = tempfile::tempdir().expect("tempdir");
    let fb = d.path().join("feedback.csv");
    let server =
        Server::start_with_file_limit(2, &["--feedback", fb.to_str().expect("utf-8 path")]);
    let mut answered = Vec::new();
    for i in 0..30 {
        let body = json!({
            "comment": {"text": format!("decision {i}: {}", "a fairly long comment text ".repeat(3))},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
            "clientToken": format!("c{i}")
        });
        let (status, _) = server.post(SUGGEST, &body);
        assert!(status == 200 || status == 500, "{status}");
        if status == 200 {
            answered.push(format!("c{i}"));
        }
    }
    assert!(
        !answered.is_empty() && answered.len() < 30,
        "the limit should be reached part way: {} answered 200",
        answered.len()
    );
    let sample = threadlens::tune::labels::read_labels(&fb).expect("tune reads the file");
    assert!(sample.rejected.is_empty(), "{:?}", sample.rejected);
    let ids: Vec<String> = sample.rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, answered);
    assert!(std::fs::read(&fb).expect("file").ends_with(b"\n"));
}
