"""The compiled predictions decoder (ingest/_predjson.c) against the msgspec path it stands in for.

Whatever it accepts must come out exactly as ``fastpath.typed_predictions`` builds it (types, float
bits, JSON text byte for byte); whatever it is unsure of it declines. It reads untrusted bytes in C,
so it is also fed mutated and truncated bodies: it must answer None or the right columns, never crash.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import sysconfig

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.ingest import fastpath

RECEIVED = 1_700_000_000_000_000


def test_the_decoder_is_built_wherever_a_c_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): ingest runs on the msgspec path")
    assert fastpath._predjson is not None, "a C compiler is present but watchkeeper.ingest._predjson was not built"


native = pytest.mark.skipif(fastpath._predjson is None, reason="compiled decoder not built")


def _typed(values: list) -> list:
    return [(type(v), repr(v) if isinstance(v, float) else v) for v in values]


def _check(body: bytes) -> bool:
    """Native and typed agree on ``body`` (or native declines); whether native accepted it."""
    mine = fastpath.native_predictions(body, "p", RECEIVED)
    if mine is None:
        return False
    theirs = fastpath.typed_predictions(body, "p", RECEIVED)
    assert theirs is not None, body[:300]
    assert mine.rows == theirs.rows
    for name, column in theirs.columns.items():
        if name == "request_id":
            column = [v if len(v) != 32 else None for v in column]  # generated ids differ
            ours = [v if len(v) != 32 else None for v in mine.columns[name]]
            assert ours == column
            continue
        assert _typed(mine.columns[name]) == _typed(column), (name, body[:300])
    assert mine.notes == theirs.notes
    return True


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=9)
number = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-9, 9),
                   st.floats(allow_nan=False, allow_infinity=False), st.floats(0, 1), st.floats(1e8, 2e9),
                   st.decimals(places=3, allow_nan=False, allow_infinity=False, min_value=-10**6,
                               max_value=10**6).map(float),
                   st.decimals(places=17, allow_nan=False, allow_infinity=False, min_value=0, max_value=1).map(float))
scalar = st.one_of(st.none(), st.booleans(), number, ascii_text)
flat = st.dictionaries(st.one_of(ascii_text, st.sampled_from(["plan", "api_key", "tenure"])), scalar, max_size=5)
record = st.fixed_dictionaries({"model": st.one_of(ascii_text, st.sampled_from(["churn", "fraud"])),
                                "output": st.one_of(number, ascii_text)}, optional={
    "request_id": st.one_of(ascii_text, st.none()),
    "model_version": st.one_of(ascii_text, st.none()),
    "timestamp": st.one_of(st.floats(5e8, 8e9), st.integers(600_000_000, 8_000_000_000), st.none()),
    "inputs": st.one_of(flat, st.none()),
    "scores": st.one_of(st.lists(number, min_size=2, max_size=2), st.none()),
    "latency_ms": st.one_of(number, st.none()),
    "cost": st.one_of(number, st.none()),
    "segment": st.one_of(flat, st.none()),
    "trace_id": st.one_of(ascii_text, st.text(max_size=70), st.none()),
})


@native
@settings(max_examples=500, deadline=None)
@given(st.lists(record, min_size=1, max_size=5), st.sampled_from([None, 1, "compact"]))
def test_native_builds_the_typed_columns_or_declines(recs, indent):
    try:
        body = orjson.dumps(recs) if indent == "compact" else json.dumps(recs, indent=indent).encode()
    except TypeError:
        body = json.dumps(recs).encode()
    _check(body)


def _tabular(rng: random.Random, n: int) -> list[dict]:
    return [{"request_id": f"r{i}", "timestamp": 1.7e9 + rng.random() * 1e6, "model": f"m{i % 3}", "model_version": "2",
             "inputs": {"tenure": rng.randint(0, 99), "spend": round(rng.random() * 100, rng.randint(0, 4)),
                        "ratio": rng.random(), "plan": rng.choice("abc"), "flag": rng.random() < 0.5, "note": None},
             "output": rng.randint(0, 1), "scores": [round(rng.random(), 3), rng.random()],
             "latency_ms": rng.random() * 50, "segment": {"region": "eu"}, "cost": 0.0001} for i in range(n)]


@native
def test_common_batches_are_accepted_and_identical():
    rng = random.Random(11)
    for _ in range(20):
        recs = _tabular(rng, 200)
        assert _check(orjson.dumps(recs))
        assert _check(json.dumps(recs).encode())


@native
def test_floats_are_parsed_and_written_exactly():
    rng = random.Random(5)
    tokens = []
    for _ in range(20_000):
        k = rng.random()
        if k < 0.4:
            tokens.append(repr(rng.random() * 10 ** rng.randint(-3, 15)))
        elif k < 0.7:
            tokens.append(f"{rng.random() * 10 ** rng.randint(-4, 15):.{rng.randint(0, 21)}f}")
        else:  # 16 to 19 digits: the exactly checked division
            digits = str(rng.randint(10**15, 10**19 - 1))
            cut = rng.randint(1, len(digits) - 1)
            tokens.append(digits[:cut] + "." + digits[cut:])
    body = ("[" + ",".join('{"model":"m","output":1,"latency_ms":%s}' % t for t in tokens) + "]").encode()
    out = fastpath.native_predictions(body, "p", RECEIVED)
    assert out is not None
    assert [repr(v) for v in out.columns["latency_ms"]] == [repr(float(t)) for t in tokens]
    written = 0
    for t in tokens[:3000]:
        body = ('[{"model":"m","output":1,"inputs":{"x":%s},"scores":[1,%s]}]' % (t, t)).encode()
        out = fastpath.native_predictions(body, "p", RECEIVED)
        assert out is not None, t
        written += 1
        value = orjson.loads(t)
        assert out.columns["inputs"] == [orjson.dumps({"x": value}).decode()]
        assert out.columns["scores"] == [orjson.dumps([1, value]).decode()]
    assert written == 3000


@native
def test_feature_floats_of_every_magnitude_are_written_as_orjson_writes_them():
    rng = random.Random(8)
    values = [rng.random() * 10 ** rng.uniform(-320, 300) for _ in range(3000)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(62)))[0] for _ in range(2000)]
    values += [9.9e-05, 1e-05, 1.234e-06, 1.5e-10, 5e-324, 1e16, 1.7976931348623157e308, 1e-4, 1e-5 * (1 - 2**-52)]
    for v in values:
        for text in (repr(v), orjson.dumps(-v).decode()):
            body = ('[{"model":"m","output":1,"inputs":{"x":%s}}]' % text).encode()
            out = fastpath.native_predictions(body, "p", RECEIVED)
            assert out is not None, text
            assert out.columns["inputs"] == [orjson.dumps({"x": orjson.loads(text)}).decode()], text


@native
def test_mutated_and_truncated_bodies_never_crash_and_never_decode_wrong():
    rng = random.Random(3)
    alphabet = b'{}[],:"\\ 0123456789.eE-+truefalsn\x00\xff\xc3\xa9'
    accepted = 0
    for _ in range(3000):
        body = bytearray(orjson.dumps(_tabular(rng, rng.randint(1, 4))))
        for _ in range(rng.randint(1, 4)):
            if not body:
                break
            at = rng.randrange(len(body))
            op = rng.random()
            if op < 0.4:
                body[at] = rng.choice(alphabet)
            elif op < 0.7:
                del body[at:at + rng.randint(1, 6)]
            elif op < 0.9:
                body[at:at] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            else:
                body = body[:at]
        body = bytes(body)
        try:
            accepted += _check(body)
        except AssertionError:
            raise
        except Exception as exc:  # typed path rejected what native accepted: shown by _check's assert instead
            pytest.fail(f"{type(exc).__name__}: {exc} on {body[:200]!r}")
    assert accepted > 0


@native
@pytest.mark.parametrize("features", [
    b'{":":12345}',  # no string value at all, yet the typed path's pattern finds `":"` and 5 characters
    b'{":":true}',
    b'{"k":":"},"segment":{}},{"model":"m","output":1,"inputs":{}',  # `":"}` then `\n{}\n{}` in the joined text
])
def test_a_colon_string_is_declined_rather_than_called_plain(features):
    body = b'[{"model":"m","output":1,"inputs":' + features + b'}]'
    assert fastpath.typed_predictions(body, "p", RECEIVED).notes == {}
    assert not _check(body)


@native
def test_more_distinct_feature_keys_than_tracked_are_declined_not_called_unplain():
    recs = [{"model": "m", "output": 1, "inputs": {f"k{i}": 1}} for i in range(514)]
    body = orjson.dumps(recs)
    assert fastpath.typed_predictions(body, "p", RECEIVED).notes  # all keys safe, no long value: plain
    assert not _check(body)
    assert _check(orjson.dumps(recs[:512]))  # as many as are tracked: decoded, and plain


@native
def test_wide_feature_objects_are_decoded_and_a_repeated_key_declined():
    rng = random.Random(2)
    recs = [{"model": "m", "output": 1, "inputs": {f"f{j}": rng.random() for j in range(300)},
             "segment": {"f1": "eu"}} for _ in range(50)]
    assert _check(orjson.dumps(recs))  # 300 features a record, the same order each time
    shuffled = [{"model": "m", "output": 1, "inputs": dict(rng.sample(sorted(r["inputs"].items()), 300))} for r in recs]
    assert _check(orjson.dumps(shuffled))  # any order
    body = orjson.dumps(recs[:2]).replace(b'"f7":', b'"f3":', 1)  # f3 twice in one object
    assert fastpath.native_predictions(body, "p", RECEIVED) is None
