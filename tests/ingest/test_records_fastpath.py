"""The one-pass prediction validator never accepts what the careful one rejects, nor differs from it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.ingest import records as R

scalar = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=5))
maybe = lambda s: st.one_of(st.just(R._Reject), s)  # noqa: E731  (_Reject marks "field absent")

record = st.fixed_dictionaries({}, optional={
    "model": st.one_of(st.text(max_size=5), scalar),
    "request_id": st.one_of(st.text(max_size=5), scalar),
    "model_version": scalar,
    "timestamp": st.one_of(st.floats(1e9, 2e9), scalar),
    "inputs": st.one_of(st.dictionaries(st.text(max_size=3), scalar, max_size=3), scalar),
    "output": scalar,
    "scores": st.one_of(st.lists(st.floats(0, 1), max_size=3), st.lists(scalar, max_size=2), scalar),
    "latency_ms": scalar,
    "cost": scalar,
    "segment": st.one_of(st.dictionaries(st.text(max_size=3), st.one_of(scalar, st.lists(scalar, max_size=1)), max_size=2), scalar),
    "trace_id": scalar,
    "surprise": scalar,
})


@settings(max_examples=600, deadline=None)
@given(record)
def test_fast_path_agrees_with_careful_path(rec):
    """Whenever the fast path accepts a record, the careful path accepts it and builds the same row."""
    fast = R._prediction_fast(rec, "p", 1_700_000_000_000_000)
    try:
        careful = R._prediction(rec, "p", 1_700_000_000_000_000)
    except R._Reject:
        careful = None
    if fast is None:
        return
    assert careful is not None, f"fast path accepted a record the careful path rejects: {rec!r}"
    # request_id may be generated independently when absent
    if "request_id" in rec:
        assert fast == careful
    else:
        assert fast[:3] == careful[:3] and fast[4:] == careful[4:]


def test_plain_inputs_skip_redaction_but_secrets_and_long_strings_do_not():
    from watchkeeper.ingest.records import PLAIN_COLUMNS, validate
    from watchkeeper.security.pipeline import Privacy, redact_batch

    plain = [{"model": "m", "output": 1, "inputs": {"plan": "pro", "n": 3, "ok": True}, "segment": {"r": "eu"}}] * 3
    b = validate("predictions", plain, "p")
    assert b.notes[PLAIN_COLUMNS] == ("inputs", "segment")

    for bad in ({"pwd": "abc"}, {"email": "a@b.io"}, {"nested": {"x": 1}}, {"note": "hello"}):
        b = validate("predictions", plain + [{"model": "m", "output": 1, "inputs": bad}], "p")
        assert PLAIN_COLUMNS not in b.notes, bad
    b = validate("predictions", plain + [{"model": "m", "output": 1, "inputs": {"password": "abc", "e": "a@b.io"}}], "p")
    redact_batch(b, Privacy())
    assert "abc" not in b.columns["inputs"][3] and "a@b.io" not in b.columns["inputs"][3]
