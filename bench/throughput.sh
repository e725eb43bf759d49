#!/usr/bin/env bash
# Runs the throughput benchmark (bench/throughput.py): threadlens vs Python transformers on the
# same 2,000 news comments, same model files, same thread count. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
cargo build --release --locked
py=$(bench/setup-python)
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$py" bench/throughput.py "$@"
