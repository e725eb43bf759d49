#!/usr/bin/env bash
# Streaming-memory benchmark (not a test): `threadlens score` on a 1,000,000-comment CSV,
# reporting wall time and peak RSS (/usr/bin/time -v). The texts cycle through the 2,000 real
# news comments of bench/throughput.py's corpus (Civil Comments, CC0), so the encoder runs on
# 2,000 distinct texts while every per-comment structure (forest, scores, output) is at full
# size. A 1M-distinct-text run is the throughput figure times 1M (about 2 hours here), so
# DISTINCT=1 makes every text distinct (" #<id>" appended) and stops the run after LIMIT
# seconds (default 100): by then the forest, the dedupe tables and the encoder are all at
# full size, and only the final per-comment score table (48 bytes a comment) is still to come.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
CSV=${CSV:-/tmp/threadlens-score-${N}.csv}
BIN=${THREADLENS:-target/release/threadlens}
if [ ! -s "$CSV" ]; then
  python3 - "$N" "$CSV" <<'PY'
import csv, sys, random
sys.path.insert(0, "bench")
from corpus import DEFAULT, first_distinct_comments
n, out = int(sys.argv[1]), sys.argv[2]
texts = first_distinct_comments(DEFAULT, 2000)
random.seed(42)
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "parent_id", "author", "text", "thread_id"])
    for i in range(1, n + 1):
        parent = "" if i == 1 or random.random() < 0.3 else max(1, i - random.randint(1, 200))
        w.writerow([i, parent, f"user{random.randint(1, 50000)}", texts[i % len(texts)], f"article{i // 5000}"])
PY
fi
if [ "${DISTINCT:-0}" = 1 ]; then
  DCSV=${CSV%.csv}-distinct.csv
  if [ ! -s "$DCSV" ]; then
    python3 - "$CSV" "$DCSV" <<'PY'
import csv, sys
r = csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))
w = csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8"))
w.writerow(next(r))
for row in r:
    row[3] = f"{row[3]} #{row[0]}"
    w.writerow(row)
PY
  fi
  ls -lh "$DCSV"
  LIMIT=${LIMIT:-100}
  /usr/bin/time -v timeout "$LIMIT" "$BIN" score "$DCSV" -o /tmp/threadlens-score-1m.out.csv --quiet --topic "comment moderation" 2> /tmp/threadlens-score-1m.time || true
  echo "(stopped after ${LIMIT} s by design)"
  grep -E "Elapsed|Maximum resident" /tmp/threadlens-score-1m.time
  exit 0
fi
ls -lh "$CSV"
/usr/bin/time -v "$BIN" score "$CSV" -o /tmp/threadlens-score-1m.out.csv --quiet --topic "comment moderation" 2> /tmp/threadlens-score-1m.time || { cat /tmp/threadlens-score-1m.time; exit 1; }
grep -E "Elapsed|Maximum resident" /tmp/threadlens-score-1m.time
wc -l /tmp/threadlens-score-1m.out.csv
