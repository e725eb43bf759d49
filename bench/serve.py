"""Loopback load on `threadlens serve` (issue 16): a fixed number of Coral-shaped
comments:analyze requests at concurrency 1, 8 and 32, against a server this script starts.
Reports requests/s, p50/p99 latency, errors, the server's peak RSS, and the batch sizes it
formed (from /metrics); then `threadlens score` on the same texts for comparison, and
Perspective's default quota of 1 request per second. Standard library only.

Usage: python3 bench/serve.py [--requests N] [--binary target/release/threadlens]"""
import argparse
import csv
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from corpus import DEFAULT, first_distinct_comments  # noqa: E402


def start(binary):
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--quiet"],
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, int(m.group(1))
    raise SystemExit("the server did not start")


def post(port, text):
    body = json.dumps({"comment": {"text": text}, "languages": ["en"], "doNotStore": True,
                       "requestedAttributes": {"TOXICITY": {}}})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    c.request("POST", "/v1alpha1/comments:analyze", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, time.perf_counter() - t0


def load(port, texts, concurrency):
    latencies, errors, lock, it = [], [0], threading.Lock(), iter(texts)

    def worker():
        while True:
            with lock:
                text = next(it, None)
            if text is None:
                return
            status, dt = post(port, text)
            with lock:
                latencies.append(dt)
                errors[0] += status != 200

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    q = lambda f: latencies[min(len(latencies) - 1, int(f * len(latencies)))]  # noqa: E731
    return len(texts) / wall, q(0.50), q(0.99), errors[0]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def batch_sizes(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    buckets = re.findall(r'threadlens_batch_size_bucket\{le="([^"]+)"\} (\d+)', text)
    out, prev = [], 0
    for le, n in buckets:
        n = int(n)
        if n > prev:
            out.append(f"<={le}: {n - prev}")
        prev = n
    return ", ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--binary", default="target/release/threadlens")
    ap.add_argument("--corpus", default=DEFAULT)
    a = ap.parse_args()
    texts = first_distinct_comments(a.corpus, a.requests)
    server, port = start(a.binary)
    try:
        post(port, "warm-up")
        print(f"{len(texts)} Civil Comments texts per run, loopback, {os.cpu_count()} cores")
        print("| concurrency | requests/s | p50 ms | p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        for conc in (1, 8, 32):
            rps, p50, p99, err = load(port, texts, conc)
            print(f"| {conc} | {rps:.1f} | {p50 * 1e3:.0f} | {p99 * 1e3:.0f} | {err} |")
        print(f"server peak RSS: {peak_rss_mib(server.pid):.0f} MiB")
        print(f"batch sizes formed: {batch_sizes(port)}")
    finally:
        server.terminate()
        server.wait()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            w.writerows([i, t] for i, t in enumerate(texts))
        t0 = time.perf_counter()
        subprocess.run([a.binary, "score", path, "-o", os.path.join(d, "s.csv"), "--quiet"], check=True)
        wall = time.perf_counter() - t0
    print(f"threadlens score, same texts, one process (start-up included): {len(texts) / wall:.1f} texts/s")
    print("Perspective API default quota: 1 request/s")


if __name__ == "__main__":
    main()
