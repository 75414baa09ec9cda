"""Helpers for trace tests: a small OpenAI-compatible streaming server, and OTLP JSON from SDK spans."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = ["Paris", " is", " the", " capital", " of", " France", "."]


class FakeOpenAI:
    """OpenAI-compatible /v1/chat/completions on loopback: streams ANSWER with a slow first token."""

    def __init__(self, ttft: float = 0.15, gap: float = 0.01, tokens: list[str] | None = None):
        self.ttft, self.gap, self.tokens = ttft, gap, tokens or ANSWER
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                server.requests.append(body)
                model = body.get("model", "gpt-test")
                base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(server.tokens),
                         "total_tokens": prompt_tokens + len(server.tokens)}
                if not body.get("stream"):
                    time.sleep(server.ttft)
                    payload = json.dumps({**base, "object": "chat.completion", "usage": usage, "choices": [
                        {"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "".join(server.tokens)}}]}).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()

                def send(obj):
                    data = b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()

                time.sleep(server.ttft)  # like OpenAI: the first chunk (role) comes with the first token
                send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
                for i, tok in enumerate(server.tokens):
                    if i:
                        time.sleep(server.gap)
                    send({**base, "choices": [{"index": 0, "delta": {"content": tok}, "finish_reason": None}]})
                send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    send({**base, "choices": [], "usage": usage})
                send(b"[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def otlp_json(spans) -> bytes:
    """OTLP JSON for finished SDK spans: the stock proto encoding, with OTLP's hex ids and integer enums."""
    import base64

    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    doc = json_format.MessageToDict(encode_spans(spans), use_integers_for_enums=True)

    def fix(o):
        if isinstance(o, dict):
            return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") else fix(v))
                    for k, v in o.items()}
        return [fix(x) for x in o] if isinstance(o, list) else o

    return json.dumps(fix(doc)).encode()
