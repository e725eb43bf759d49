"""The benchmarks' corpora: the first N distinct texts of a labelled set, whitespace collapsed.
By default the news-site comments of Civil Comments (CC0). Shared by throughput.py,
int8_probe.py and score_1m.sh."""
import csv

DEFAULT = "../shared/data/toxicity/civil-comments-toxic-spans/comments.csv"


def first_distinct(path, n, column, delimiter=",", keep=lambda t: True):
    """The first `n` distinct non-empty texts of `column` that `keep` accepts."""
    texts, seen = [], set()
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=delimiter, quoting=quoting):
            t = " ".join((row.get(column) or "").split())
            if t and t not in seen and keep(t):
                seen.add(t)
                texts.append(t)
            if len(texts) == n:
                break
    return texts


def first_distinct_comments(path, n):
    return first_distinct(path, n, "comment_text")
