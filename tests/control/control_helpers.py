"""Helpers for the control-loop tests: a JSON API client, a webhook receiver, a deterministic fraud workload."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "fraud-detector"


def call(url: str, method: str = "GET", body: dict | list | None = None, expect: int | None = 200) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    doc = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else {"_text": raw.decode()}
    if expect is not None:
        assert status == expect, (status, doc)
    doc["_status"] = status
    return doc


class WebhookReceiver:
    """A real HTTP server on loopback that keeps every JSON body POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class FraudTraffic:
    """Deterministic traffic: 38 legitimate and 2 fraudulent transactions a minute.

    Release v1 flags every 50th legitimate transaction (FPR 2%); v2 every 20th (FPR 5%), three
    points worse. Labels arrive one minute after the predictions.
    """

    FP_EVERY = {"v1": 50, "v2": 20}

    def __init__(self, url: str):
        self.url = url
        self.negatives = 0
        self.pending_labels: list[dict] = []
        self.n = 0

    def minute(self, t0_s: float, release: dict) -> None:
        version = release["model_version"]
        preds, labels = [], []
        for i in range(40):
            self.n += 1
            rid = f"req-{self.n}"
            fraud = i in (7, 27)
            if fraud:
                output = 1
            else:
                self.negatives += 1
                output = 1 if self.negatives % self.FP_EVERY[version] == 0 else 0
            ts = t0_s + i * 1.5
            preds.append({"request_id": rid, "model": MODEL, "model_version": version, "release": release["id"],
                          "timestamp": ts, "output": output, "scores": {"0": 0.3, "1": 0.7} if output else {"0": 0.9, "1": 0.1},
                          "latency_ms": 20.0 + (i % 10), "cost": 0.0004,
                          "segment": {"country": "US" if i % 2 else "GB"},
                          "inputs": {"amount": 10.0 + i, "country": "US" if i % 2 else "GB"}})
            labels.append({"request_id": rid, "label": 1 if fraud else 0, "timestamp": ts + 60})
        call(self.url + "/api/v1/predictions", "POST", preds)
        if self.pending_labels:
            call(self.url + "/api/v1/labels", "POST", self.pending_labels)
        self.pending_labels = labels
