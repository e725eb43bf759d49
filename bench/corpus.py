"""The benchmarks' corpus: the first N distinct news-site comments of Civil Comments (CC0),
whitespace collapsed. Shared by throughput.py, int8_probe.py and score_1m.sh."""
import csv

DEFAULT = "../shared/data/toxicity/civil-comments-toxic-spans/comments.csv"


def first_distinct_comments(path, n):
    texts, seen = [], set()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = " ".join(row["comment_text"].split())
            if t and t not in seen:
                seen.add(t)
                texts.append(t)
            if len(texts) == n:
                break
    return texts
