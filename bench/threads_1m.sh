#!/usr/bin/env bash
# Benchmark (not a timed test): build the reply forest of a 1M-comment CSV and report wall
# time and peak RSS. Generates the CSV once under /tmp (deterministic, ~95 MB):
# id, parent_id (30% roots, else an earlier comment up to 200 back), author, text, thread_id.
#
#   bench/threads_1m.sh                     # uses target/release/threadlens
#   THREADLENS=path/to/bin N=200000 bench/threads_1m.sh
set -euo pipefail

BIN=${THREADLENS:-target/release/threadlens}
N=${N:-1000000}
CSV=${CSV:-/tmp/threadlens-bench-${N}.csv}
OUT=${OUT:-/tmp/threadlens-bench-out.csv}

if [ ! -x "$BIN" ]; then
    echo "threads_1m: $BIN not found; build with: cargo build --release" >&2
    exit 2
fi
if [ ! -s "$CSV" ]; then
    echo "threads_1m: generating $N rows into $CSV" >&2
    awk -v n="$N" 'BEGIN {
        srand(42);
        print "id,parent_id,author,text,thread_id";
        for (i = 1; i <= n; i++) {
            parent = "";
            if (i > 1 && rand() >= 0.3) {
                back = int(rand() * 200) + 1;
                if (back >= i) back = i - 1;
                parent = i - back;
            }
            printf "%d,%s,user%d,\"comment %d: some words about the article, \"\"quoted\"\" and plain\",a%d\n",
                i, parent, int(rand() * 50000), i, int(i / 1000);
        }
    }' > "$CSV"
fi

TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
/usr/bin/time -v "$BIN" threads --quiet --as csv -o "$OUT" "$CSV" 2> "$TIMES" || {
    status=$?
    cat "$TIMES" >&2
    exit "$status"
}
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$TIMES")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TIMES")
user=$(sed -n 's/.*User time (seconds): //p' "$TIMES")
rows=$(($(wc -l < "$OUT") - 1))
echo "threads_1m: input $N comments ($(du -h "$CSV" | cut -f1)), output $rows rows"
echo "threads_1m: wall ${wall} (user ${user} s), peak RSS $((rss_kb / 1024)) MiB"
