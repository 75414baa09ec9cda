"""The compiled OTLP protobuf reader (ingest/_otlpwire.c) against the upb reader it stands in for.

Whatever it accepts must reach ``SpanBuilder`` exactly as upb's reading does (the same calls, the same
values and types, float bits included); whatever it is unsure of it declines, and upb reads the body.
It reads untrusted bytes in C, so it is also fed mutated and truncated bodies: it must answer None or
the right reading, never crash, and never accept a body upb refuses.
"""

from __future__ import annotations

import math
import random
import shutil
import struct
import sysconfig

import pytest
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from watchkeeper.ingest import otlp
from watchkeeper.ingest.spans import SpanBuilder, attribute_roles

native = pytest.mark.skipif(otlp._otlpwire is None, reason="compiled OTLP reader not built")
NOW = 1_750_000_000 * 10**9


def test_the_reader_is_built_wherever_a_c_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): OTLP protobuf takes the upb path")
    assert otlp._otlpwire is not None, "a C compiler is present but watchkeeper.ingest._otlpwire was not built"


class Recorder(SpanBuilder):
    """Records what a reader hands the builder, with every value's type and float bits."""

    def __init__(self):
        super().__init__("p", 0)
        self.calls: list = []
        self.passes = 0  # attribute passes made by the compiled reader, each checked against the Python one

    def resource(self, attrs):
        self.calls.append(("resource", _exact(attrs)))
        return None

    def add(self, resource, *args, roles=None):
        if len(args) == 15:  # the compiled reader's pass over the attributes (SpanBuilder.add's ``roles``)
            *args, roles = args
        if roles is not None:
            assert _exact(roles) == _exact(attribute_roles(args[8])), args[8]
            self.passes += 1
        self.calls.append(("add", _exact(list(args))))

    def reject_many(self, n, reason):
        self.calls.append(("reject", n, reason))


def _exact(v):
    """A comparable form that tells 1 from True from 1.0, -0.0 from 0.0 and keeps NaN equal to itself."""
    if isinstance(v, float):
        return ("f", struct.pack("<d", v) if not math.isnan(v) else "nan")
    if isinstance(v, dict):
        return ("d", [(k, _exact(x)) for k, x in v.items()])
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [_exact(x) for x in v])
    return (type(v).__name__, v)


def _upb(body: bytes) -> list | None:
    r = Recorder()
    try:
        otlp._decode_upb(body, r)
    except otlp.OtlpError:
        return None
    return r.calls


def _check(body: bytes) -> bool:
    """Compiled and upb readings agree (or the compiled reader declines); whether it accepted the body."""
    if otlp._otlpwire.decode(body) is None:
        return False
    mine = Recorder()
    otlp._decode_protobuf(body, mine)
    theirs = _upb(body)
    assert theirs is not None, f"accepted a body upb refuses: {body[:80]!r}"
    assert mine.calls == theirs
    assert mine.passes == sum(1 for c in mine.calls if c[0] == "add")
    return True


# -- generated requests ------------------------------------------------------------------------
def _value(rng: random.Random, v, depth: int = 0, max_depth: int = 3) -> None:
    """Sets AnyValue ``v`` to a random value of every OTLP type."""
    pick = rng.randrange(12 if depth < max_depth else 8)
    if pick == 0:
        v.string_value = rng.choice(["", "a", "gpt-4o", "héllo wörld ✓", "日本語", "x" * 300, "\x00nul", "🙂" * 3])
    elif pick == 1:
        v.bool_value = rng.random() < 0.5
    elif pick == 2:
        v.int_value = rng.choice([0, 1, -1, 2**63 - 1, -(2**63), rng.randint(-10**12, 10**12)])
    elif pick == 3:
        v.double_value = rng.choice([0.0, -0.0, 1.5, 1e308, -1e-308, 5e-324, math.inf, -math.inf, math.nan,
                                     rng.uniform(-1e6, 1e6)])
    elif pick == 4:
        v.bytes_value = rng.randbytes(rng.randrange(0, 9))
    elif pick == 5:
        pass  # an empty AnyValue: None
    elif pick in (6, 7):
        v.string_value = f"value-{rng.randrange(50)}"
    elif pick in (8, 9):
        arr = v.array_value
        arr.SetInParent()
        for _ in range(rng.randrange(0, 4)):
            _value(rng, arr.values.add(), depth + 1, max_depth)
    else:
        kvl = v.kvlist_value
        kvl.SetInParent()
        for _ in range(rng.randrange(0, 4)):
            kv = kvl.values.add(key=rng.choice(["k", "k", "nested.key", "ключ", ""]))
            _value(rng, kv.value, depth + 1, max_depth)


def _attrs(rng: random.Random, kvs, n: int) -> None:
    keys = ["service.name", "gen_ai.request.model", "openinference.span.kind", "input.value", "k", "k", "ümlaut",
            "retrieval.documents.0.document.content", "llm.token_count.prompt", "", "gen_ai.response.model",
            "llm.model_name", "llm.input_messages.0.message.content", "llm.output_messages.1.message.role",
            "gen_ai.prompt.0.content", "watchkeeper.output.label", "retrieval.documents.1.document.score",
            "reranker.output_documents.0.document.id", "watchkeeper.prompt_version", "session.id"]
    for _ in range(n):
        kv = kvs.add(key=rng.choice(keys) if rng.random() < 0.7 else f"attr.{rng.randrange(1000)}")
        if rng.random() < 0.05:
            continue  # no value at all
        _value(rng, kv.value)


def make_request(rng: random.Random) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    for _ in range(rng.randrange(1, 3)):
        rs = req.resource_spans.add()
        if rng.random() < 0.8:
            _attrs(rng, rs.resource.attributes, rng.randrange(0, 4))
        if rng.random() < 0.2:
            rs.schema_url = "https://opentelemetry.io/schemas/1.21.0"
        for _ in range(rng.randrange(1, 3)):
            ss = rs.scope_spans.add()
            if rng.random() < 0.7:
                ss.scope.name = rng.choice(["", "openinference.instrumentation.openai", "wk"])
                if rng.random() < 0.3:
                    ss.scope.version = "1.2.3"
            for _ in range(rng.randrange(0, 5)):
                sp = ss.spans.add(trace_id=rng.choice([rng.randbytes(16), b"", rng.randbytes(3)]),
                                  span_id=rng.choice([rng.randbytes(8), rng.randbytes(8), b""]),
                                  name=rng.choice(["chat gpt-4o", "", "retrieve ✓"]),
                                  kind=rng.choice([0, 1, 3, 5, 77]),
                                  start_time_unix_nano=NOW + rng.randrange(10**9),
                                  end_time_unix_nano=rng.choice([0, NOW + 2 * 10**9, 2**64 - 1]))
                if rng.random() < 0.5:
                    sp.parent_span_id = rng.randbytes(8)
                if rng.random() < 0.3:
                    sp.trace_state = "vendor=value"
                if rng.random() < 0.3:
                    sp.flags = rng.choice([0x100, 0x300, 2**32 - 1])
                if rng.random() < 0.5:
                    sp.status.code = rng.choice([0, 1, 2])
                    if rng.random() < 0.5:
                        sp.status.message = rng.choice(["", "boom", "fehlgeschlagen ✗"])
                if rng.random() < 0.2:
                    sp.dropped_attributes_count = 3
                _attrs(rng, sp.attributes, rng.randrange(0, 12))
                for _ in range(rng.choice([0, 0, 1, 3])):
                    ev = sp.events.add(time_unix_nano=NOW + rng.randrange(10**9), name=rng.choice(["exception", "",
                                                                                                  "gen_ai.first_token"]))
                    _attrs(rng, ev.attributes, rng.randrange(0, 3))
    return req


@native
def test_generated_requests_read_exactly_as_upb_reads_them():
    rng = random.Random(20261204)
    accepted = 0
    for _ in range(600):
        accepted += _check(make_request(rng).SerializeToString())
    assert accepted == 600  # nothing above is outside what the compiled reader takes


@native
def test_an_empty_body_and_empty_messages():
    assert otlp._otlpwire.decode(b"") == []
    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.add()
    assert _check(req.SerializeToString())  # a span of defaults: rejected by the builder, but read the same


@native
@pytest.mark.parametrize("build", [
    lambda sp: sp.links.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8),  # links: upb reads them
    lambda sp: setattr(sp, "trace_state", "a"),  # (valid: the reader takes it; the bytes are spoiled below)
], ids=["links", "bad-utf8-trace-state"])
def test_declines_what_upb_must_decide(build):
    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="s",
                                                               start_time_unix_nano=NOW)
    build(sp)
    body = req.SerializeToString()
    if sp.trace_state:
        body = body.replace(b"\x1a\x01a", b"\x1a\x01\xff")
        with pytest.raises(DecodeError):
            ExportTraceServiceRequest.FromString(body)
    assert otlp._otlpwire.decode(body) is None
    # and the full reader still answers as upb does: the span, or a 400 for the body
    r = Recorder()
    try:
        otlp._decode_protobuf(body, r)
    except otlp.OtlpError as exc:
        assert exc.status == 400 and _upb(body) is None
    else:
        assert r.calls == _upb(body)


def _field(number: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


@native
@pytest.mark.parametrize("spoiled", [
    _field(5, b"\xff") + _field(5, b"ok"),  # a span name given twice: the first one is not UTF-8
    _field(9, _field(1, b"\xc3") + _field(1, b"key")),  # an attribute key given twice, likewise
    _field(15, _field(2, b"\xed\xa0\x80") + _field(2, b"fine")),  # a status message (a surrogate)
], ids=["name", "key", "status-message"])
def test_a_string_field_given_twice_is_checked_both_times(spoiled):
    span = _field(1, b"\x01" * 16) + _field(2, b"\x02" * 8) + spoiled
    body = _field(1, _field(2, _field(2, span)))
    with pytest.raises(DecodeError):
        ExportTraceServiceRequest.FromString(body)
    assert otlp._otlpwire.decode(body) is None
    with pytest.raises(otlp.OtlpError) as err:
        otlp._decode_protobuf(body, Recorder())
    assert err.value.status == 400


@native
def test_nesting_past_the_limit_is_left_to_upb_which_rejects_the_span():
    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="deep",
                                                               start_time_unix_nano=NOW)
    v = sp.attributes.add(key="deep").value
    for _ in range(otlp.MAX_DEPTH + 2):
        v = v.array_value.values.add()
    v.string_value = "bottom"
    body = req.SerializeToString()
    assert otlp._otlpwire.decode(body) is None
    r = Recorder()
    otlp._decode_protobuf(body, r)
    assert r.calls[-1][0] == "reject" and "nested deeper" in r.calls[-1][2]


@native
def test_mutated_and_truncated_bodies_never_crash_nor_pass_what_upb_refuses():
    rng = random.Random(7)
    bodies = [make_request(rng).SerializeToString() for _ in range(40)]
    seen = {"accepted": 0, "declined": 0}
    for i in range(3000):
        body = bytearray(rng.choice(bodies))
        if not body:
            continue
        op = i % 4
        if op == 0:
            del body[rng.randrange(len(body)):]
        elif op == 1:
            for _ in range(rng.randrange(1, 4)):
                body[rng.randrange(len(body))] = rng.randrange(256)
        elif op == 2:
            pos = rng.randrange(len(body))
            body[pos:pos] = rng.randbytes(rng.randrange(1, 6))
        else:
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        seen["accepted" if _check(bytes(body)) else "declined"] += 1
    assert seen["accepted"] > 100 and seen["declined"] > 100, seen


@native
def test_the_sdk_exporters_encoding_is_taken_by_the_compiled_reader():
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bot", "deployment.environment": "prod"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("wk.test", "1.0")
    with tracer.start_as_current_span("agent", attributes={"openinference.span.kind": "AGENT", "tags": ["a", "b"]}):
        with tracer.start_as_current_span("chat gpt-4o") as sp:
            sp.set_attributes({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 12,
                               "gen_ai.request.temperature": 0.2, "stream": True})
            sp.add_event("gen_ai.first_token", {"index": 0})
            sp.record_exception(ValueError("bad ✗"))
    body = encode_spans(exporter.get_finished_spans()).SerializeToString()
    assert _check(body)
    b = SpanBuilder("p", 0)
    otlp.decode(body, otlp.PROTOBUF, b)
    cols = b.batch().columns
    assert b.rows == 2 and b.rejected == 0
    assert sorted(cols["kind"]) == ["agent", "llm"] and "gpt-4o" in cols["model"]
    assert set(cols["service"]) == {"bot"} and set(cols["scope"]) == {"wk.test"}


@native
def test_a_span_past_the_attribute_limit_leaves_the_pass_to_the_builder_which_clips_first():
    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="wide",
                                                               start_time_unix_nano=NOW)
    from watchkeeper.ingest.spans import MAX_ATTRIBUTES

    for i in range(MAX_ATTRIBUTES + 5):
        sp.attributes.add(key=f"a{i}").value.int_value = i
    sp.attributes.add(key="gen_ai.request.model").value.string_value = "past-the-limit"
    body = req.SerializeToString()
    (_, [(_, [span])]), = otlp._otlpwire.decode(body, otlp.g._ROLES, otlp.g.key_role, MAX_ATTRIBUTES)
    assert span[-1] is None and len(span[7]) == MAX_ATTRIBUTES + 6
    b = SpanBuilder("p", 0)
    otlp.decode(body, otlp.PROTOBUF, b)
    assert b.clipped == 1 and b.batch().columns["model"] == [None]  # the model attribute was past the limit
