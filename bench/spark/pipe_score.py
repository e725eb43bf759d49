"""The scale-out recipe of docs/scale-out.md, run end to end (issue 18): `threadlens score -` through
Spark's RDD.pipe on a local master, partitioned by thread, checked row for row against one
`threadlens score` process on the same input, and timed against it.

Input: the dev and test conversations of ToxiChat (../shared/data/toxicity/toxichat-reddit,
CC BY-SA 4.0): real Reddit threads of two or three human turns, each answered by two bots,
so every thread is a small reply tree (a chain that forks at the end), 2,612 comments in 600
threads. Written as CSV with id, parent_id, thread_id and text.

Check: every partition's output starts with the scores header; the union of the partitions'
rows (headers dropped) has exactly the single process's ids; per row the structure columns
(thread_id, parent_id, depth), author, labels (sentiment, stance, reply stance), model and
text are equal, every probability is within the batch-composition bound (docs/reliability.md,
Reliability: 0.004 in bf16) and no toxicity flag at the default thresholds changes. Prints PASS or
FAIL with the counts and the largest difference; exits 1 on FAIL.

With `--out DIR` the input, the single process's scores and each partition's output
(part-NNNNN.csv) are kept there; when the binary has `threadlens merge`, the partitions are
also merged into analyze's reports (DIR/report) and checked against the reports merged from
the single process's scores.

Usage: bench/spark/run [--partitions 4] [--task-threads 1] [--precision auto] [--out DIR]
(bench/spark/run sets up Java and PySpark, builds the binary and calls this script)."""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOXICHAT = os.path.join(REPO, "..", "shared", "data", "toxicity", "toxichat-reddit",
                        "toxichat_turns_flat.csv")
BOUND = 0.004  # docs/reliability.md: in bf16 scores depend on batch composition by at most this
STRUCTURE = ["id", "thread_id", "parent_id", "depth", "author"]
LABELS = ["sentiment", "stance", "stance_source", "reply_stance"]
PROBS = ["sentiment_negative", "sentiment_neutral", "sentiment_positive", "toxicity", "insult",
         "threat", "obscene", "identity_attack", "severe_toxicity", "sexual_explicit",
         "stance_favor", "stance_against", "stance_none", "reply_agree", "reply_disagree",
         "reply_neutral"]
ATTRIBUTES = PROBS[3:10]


def write_input(path, splits):
    """ToxiChat's turns of `splits` as a threaded CSV: each human turn replies to the one
    before it, both bot turns to the last human turn; thread_id is the conversation."""
    with open(TOXICHAT, newline="", encoding="utf-8") as f:
        turns = [r for r in csv.DictReader(f) if r["split"] in splits]
    last_human = {}
    rows = []
    for r in turns:
        key = f"{r['split']}-{r['thread_idx']}"
        turn = int(r["turn_id"])
        human = r["source"] == "reddit_human"
        cid = f"{key}-{turn}" if human else f"{key}-{turn}-{r['source']}"
        parent = "" if turn == 1 else last_human[key]
        if human:
            last_human[key] = cid
        rows.append([cid, parent, key, r["text"]])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "parent_id", "thread_id", "text"])
        w.writerows(rows)
    return len(rows), len(last_human)


def default_thresholds(binary):
    """The default thresholds, from `analyze --help` (the one table of defaults)."""
    out = subprocess.run([binary, "analyze", "--help"], capture_output=True, text=True,
                         check=True).stdout
    line = out[out.index("Default thresholds:"):].split("\n\n")[0].replace("\n", " ")
    pairs = {}
    for item in line.split(":", 1)[1].strip().rstrip(".").split(","):
        name, value = item.strip().rsplit(" ", 1)
        pairs[name] = float(value)
    return pairs


def parse(text, what):
    """A scores CSV as (header, rows keyed by id); repeated ids are an error."""
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        sys.exit(f"{what}: no output at all (not even a header)")
    header, rows = records[0], {}
    for rec in records[1:]:
        row = dict(zip(header, rec))
        if row["id"] in rows:
            sys.exit(f"{what}: id {row['id']} twice")
        rows[row["id"]] = row
    return header, rows


def compare(single, spark, thresholds):
    """Row-for-row comparison; returns (problems, rows differing, largest difference)."""
    problems = []
    missing = sorted(set(single) - set(spark))
    extra = sorted(set(spark) - set(single))
    if missing:
        problems.append(f"{len(missing)} ids missing from the Spark output, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} ids only in the Spark output, e.g. {extra[:3]}")
    differ, worst, worst_at = 0, 0.0, None
    flags = 0
    for cid in sorted(set(single) & set(spark)):
        a, b = single[cid], spark[cid]
        for c in STRUCTURE + LABELS + ["model", "text"]:
            if a[c] != b[c]:
                problems.append(f"{cid}: {c} is {b[c]!r} in Spark, {a[c]!r} in one process")
        d = 0.0
        for c in PROBS:
            if (a[c] == "") != (b[c] == ""):
                problems.append(f"{cid}: {c} is empty in only one of the outputs")
            elif a[c]:
                x = abs(float(a[c]) - float(b[c]))
                if x > d:
                    d = x
                    if x > worst:
                        worst, worst_at = x, (cid, c)
        differ += d > 0
        for c in ATTRIBUTES:
            flags += (float(a[c]) >= thresholds[c]) != (float(b[c]) >= thresholds[c])
    if worst > BOUND:
        problems.append(f"largest score difference {worst:.4f} ({worst_at[0]} {worst_at[1]}) "
                        f"is over the bound {BOUND}")
    if flags:
        problems.append(f"{flags} toxicity flags at the default thresholds changed")
    return problems, differ, worst


def check_merge(binary, out, input_csv, parts_dir, single_scores, models):
    """Merges the partitions' scores into analyze's reports, and the single process's scores
    into another set, and compares the flags (only the score bound may separate them)."""
    env = dict(os.environ, THREADLENS_MODELS=models)
    help_ = subprocess.run([binary, "merge", "--help"], capture_output=True, env=env)
    if help_.returncode != 0:
        print("merge: this binary has no `threadlens merge`; skipped")
        return []
    reports = {}
    for name, scores in [("report", parts_dir), ("report-single", single_scores)]:
        t = time.monotonic()
        subprocess.run([binary, "merge", input_csv, "--scores", scores, "-o",
                        os.path.join(out, name), "--quiet"], check=True, env=env)
        took = time.monotonic() - t
        with open(os.path.join(out, name, "comments.csv"), newline="", encoding="utf-8") as f:
            reports[name] = {r["id"]: (r["flagged"], r["reasons"]) for r in csv.DictReader(f)}
        print(f"merge: {scores} -> {os.path.join(out, name)} in {took:.2f} s")
    a, b = reports["report"], reports["report-single"]
    changed = [i for i in a if a[i] != b.get(i)]
    print(f"merge: {len(a)} comments in comments.csv, {sum(v[0] == '1' for v in a.values())} "
          f"flagged; flags or reasons differing from the single process's: {len(changed)}")
    if len(a) != len(b) or changed:
        return [f"merged reports differ: {len(changed)} comments' flags or reasons"]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "threadlens"))
    ap.add_argument("--models", default=os.environ.get("THREADLENS_MODELS",
                                                       os.path.join(REPO, "models")))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--task-threads", type=int, default=1,
                    help="--threads of each piped threadlens (cores per Spark task)")
    ap.add_argument("--precision", default="auto", help="--precision of both runs")
    ap.add_argument("--splits", default="dev,test", help="ToxiChat splits to use")
    ap.add_argument("--out", help="keep the input, the scores and the partitions' outputs here")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="threadlens-spark-")
    try:
        run(a, work, os.path.abspath(a.out) if a.out else os.path.join(work, "out"))
    finally:
        shutil.rmtree(work)


def run(a, work, out):
    models = os.path.abspath(a.models)
    os.makedirs(out, exist_ok=True)
    # One copy of the binary for both runs: a rebuild meanwhile cannot mix two builds.
    binary = os.path.join(work, "threadlens")
    shutil.copy2(a.binary, binary)
    input_csv = os.path.join(out, "input.csv")
    n, threads = write_input(input_csv, set(a.splits.split(",")))
    print(f"input: {n} comments in {threads} threads (ToxiChat {a.splits}) -> {input_csv}")
    thresholds = default_thresholds(binary)
    base = f"{binary} score - --format csv --quiet --precision {a.precision}"
    env = {"THREADLENS_MODELS": models, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    # One process, reading the file on stdin as every Spark task does.
    t = time.monotonic()
    with open(input_csv, "rb") as f:
        single = subprocess.run(base.split(), stdin=f, capture_output=True, env=env)
    single_s = time.monotonic() - t
    if single.returncode != 0:
        sys.exit(f"single process failed ({single.returncode}): {single.stderr.decode()}")
    single_text = single.stdout.decode("utf-8")
    single_scores = os.path.join(out, "scores-single.csv")
    with open(single_scores, "w", encoding="utf-8", newline="") as f:
        f.write(single_text)
    header, single_rows = parse(single_text, "single process")
    print(f"single process: {len(single_rows)} rows in {single_s:.1f} s")

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    t = time.monotonic()
    spark = (SparkSession.builder.master(a.master).appName("threadlens-pipe")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(a.partitions))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    startup_s = time.monotonic() - t

    def partitioned():
        df = spark.read.csv(input_csv, header=True, multiLine=True, escape='"')
        return df, df.repartition(a.partitions, "thread_id")

    df, parts = partitioned()
    sizes = parts.rdd.glom().map(len).collect()
    if 0 in sizes:
        # threadlens exits 1 on an empty input, which fails the task (checkCode).
        sys.exit(f"an empty partition (sizes {sizes}): use fewer partitions")
    columns = df.columns

    def to_csv(rows):
        """One partition as a CSV stream that starts with the header."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r[c] is None else r[c] for c in columns])
            if buf.tell() > 1 << 16:
                yield buf.getvalue().rstrip("\n")
                buf.seek(0)
                buf.truncate()
        if buf.tell():
            yield buf.getvalue().rstrip("\n")

    command = f"{base} --threads {a.task_threads}"
    t = time.monotonic()
    df, parts = partitioned()
    outputs = (parts.rdd.mapPartitions(to_csv)
               .pipe(command, env=env, checkCode=True)
               .glom().collect())
    spark_s = time.monotonic() - t
    spark.stop()

    # Each partition's output is one scores CSV with its own header: check it, drop it.
    problems, spark_rows = [], {}
    parts_dir = os.path.join(out, "parts")
    os.makedirs(parts_dir, exist_ok=True)
    for k, lines in enumerate(outputs):
        text = "\n".join(lines) + "\n"
        with open(os.path.join(parts_dir, f"part-{k:05d}.csv"), "w", encoding="utf-8",
                  newline="") as f:
            f.write(text)
        h, rows = parse(text, f"partition {k}")
        if h != header:
            problems.append(f"partition {k} starts with {h[:3]}…, not the scores header")
        for cid in rows:
            if cid in spark_rows:
                problems.append(f"id {cid} in two partitions")
        spark_rows.update(rows)
    print(f"spark ({a.master}, --precision {a.precision}, {a.partitions} partitions of {sizes} comments, "
          f"--threads {a.task_threads} per task): {len(spark_rows)} rows in {spark_s:.1f} s "
          f"(+ {startup_s:.1f} s to start the session)")

    more, differ, worst = compare(single_rows, spark_rows, thresholds)
    problems += more
    problems += check_merge(binary, out, input_csv, parts_dir, single_scores, models)
    print()
    print("| run | rows | wall time |")
    print("|---|---:|---:|")
    print(f"| one `threadlens score` process | {len(single_rows):,} | {single_s:.1f} s |")
    print(f"| Spark `{a.master}`, {a.partitions} partitions, RDD.pipe | {len(spark_rows):,} "
          f"| {spark_s:.1f} s (+ {startup_s:.1f} s session start) |")
    print()
    if problems:
        for p in problems[:20]:
            print(f"  {p}")
        print(f"FAIL: {len(problems)} problems; {len(spark_rows)} Spark rows vs "
              f"{len(single_rows)} of one process; {differ} rows differ at 4 decimals, "
              f"largest score difference {worst:.4f} (bound {BOUND})")
        sys.exit(1)
    print(f"PASS: {len(spark_rows)} rows from {a.partitions} partitions = {len(single_rows)} "
          f"rows of one process; ids, thread_id/parent_id/depth, labels, model and text equal; "
          f"{differ} rows differ at 4 decimals, largest score difference {worst:.4f} "
          f"(bound {BOUND}); 0 flags changed at the default thresholds")


if __name__ == "__main__":
    main()
