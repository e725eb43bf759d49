#!/usr/bin/env bash
# Runs the throughput benchmark (bench/throughput.py): threadlens under each precision against
# Python transformers (fp32, bf16 autocast), ONNX Runtime (fp32, int8) and a Detoxify-sized
# model, on the same tweets and long news comments, same model files, same thread count.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
cargo build --release --locked
py=$(bench/setup-python)
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$py" bench/throughput.py "$@"
