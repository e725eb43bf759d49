"""Drives a running `threadlens serve` with Google's own API client library
(google-api-python-client), exactly as Perspective's documentation shows, with only the
discovery URL changed. Prints one JSON line per call; tests/serve.rs runs it when the client is
installed (scripts/test installs it into ~/.cache/threadlens/perspective-client).

Usage: python bench/perspective_client.py PORT KEY"""
import json
import sys

from googleapiclient import discovery

port, key = sys.argv[1], sys.argv[2]
client = discovery.build(
    "commentanalyzer",
    "v1alpha1",
    developerKey=key,
    discoveryServiceUrl=f"http://127.0.0.1:{port}/$discovery/rest?version=v1alpha1",
    static_discovery=False,
)
analyze_request = {
    "comment": {"text": "friendly greetings from python"},
    "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
}
print(json.dumps(client.comments().analyze(body=analyze_request).execute()))
suggest_request = {
    "comment": {"text": "friendly greetings from python"},
    "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
    "clientToken": "py-1",
}
print(json.dumps(client.comments().suggestscore(body=suggest_request).execute()))
