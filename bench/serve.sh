#!/usr/bin/env bash
# Loopback load benchmark of `threadlens serve` (bench/serve.py): concurrency 1, 8 and 32,
# requests/s, p50/p99, errors, peak RSS, batch sizes, and `threadlens score` on the same texts.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
cargo build --release --locked
python3 bench/serve.py "$@"
