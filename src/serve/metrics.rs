//! The server's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): requests by
//! endpoint and status, a request latency histogram, the scoring queue's depth, and the sizes
//! of the encoder batches the micro-batcher formed. Atomics and one small mutex; no crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BOUNDS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Upper bounds of the batch-size buckets.
const BATCH_BOUNDS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// A cumulative histogram.
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, v: f64) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            if v <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((v * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let n = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {n}");
    }
}

pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Histogram,
    batch_size: Histogram,
    queue_depth: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            latency: Histogram::new(&LATENCY_BOUNDS),
            batch_size: Histogram::new(&BATCH_BOUNDS),
            queue_depth: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// One answered request.
    pub fn request(&self, endpoint: &'static str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((endpoint, status))
            .or_default() += 1;
        self.latency.observe(seconds);
    }

    pub fn batch(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    pub fn queued(&self, delta: i64) {
        self.queue_depth.fetch_add(delta, Ordering::Relaxed);
    }

    /// The text `GET /metrics` answers.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP threadlens_requests_total Requests answered, by endpoint and HTTP status.\n# TYPE threadlens_requests_total counter\n");
        for ((endpoint, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "threadlens_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        self.latency.write(
            &mut out,
            "threadlens_request_duration_seconds",
            "Time from a request's arrival to its answer.",
        );
        let _ = writeln!(
            out,
            "# HELP threadlens_queue_depth Comments waiting to be scored.\n# TYPE threadlens_queue_depth gauge\nthreadlens_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        );
        self.batch_size.write(
            &mut out,
            "threadlens_batch_size",
            "Comments per encoder call formed by the micro-batcher.",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("analyze", 200, 0.02);
        m.request("analyze", 200, 0.2);
        m.request("analyze", 400, 0.001);
        m.batch(3);
        m.queued(2);
        let t = m.render();
        assert!(t.contains("threadlens_requests_total{endpoint=\"analyze\",status=\"200\"} 2"));
        assert!(t.contains("threadlens_requests_total{endpoint=\"analyze\",status=\"400\"} 1"));
        assert!(t.contains("threadlens_request_duration_seconds_bucket{le=\"0.025\"} 2"));
        assert!(t.contains("threadlens_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(t.contains("threadlens_batch_size_bucket{le=\"2\"} 0"));
        assert!(t.contains("threadlens_batch_size_bucket{le=\"4\"} 1"));
        assert!(t.contains("threadlens_queue_depth 2"));
    }
}
