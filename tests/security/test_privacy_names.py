"""Server-side redaction: structured PII and secrets by default; names and addresses on request."""

from __future__ import annotations

import json

from watchkeeper.security.pii import find_pii
from watchkeeper.security.pipeline import Privacy


def test_default_policy_keeps_names_and_derived_text():
    """By default a name stays (it is often a feature value); emails, cards and keys never do."""
    text = "Call John Smith at john@example.com, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwx"
    out = Privacy().redact_text(text)
    assert "John Smith" in out
    assert "john@example.com" not in out and "4111" not in out and "sk-proj" not in out


def test_names_option_redacts_people_too():
    """With names=True person names are masked as well."""
    assert Privacy(names=True).redact_text("Call John Smith at john@example.com") == "[PERSON] at [EMAIL]"


def test_units_after_lower_case_titles_are_not_names():
    """'21 ms per token' has no person in it; 'Ms. Per Olsen' does."""
    assert find_pii("took 1262 ms after the first one (21.0 ms per token at the median)") == []
    assert [s["type"] for s in find_pii("Please ask Ms. Per Olsen")] == ["person"]


def test_privacy_api_accepts_names_flag(client):
    """PUT /privacy takes names: true/false and rejects other values with the field named."""
    r = client.put("/api/v1/projects/default/privacy", json={"names": True})
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/projects/default/privacy").json()["names"] is True
    r = client.put("/api/v1/projects/default/privacy", json={"names": "yes"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "names"
    client.put("/api/v1/projects/default/privacy", json={"names": False})
    body = [{"request_id": "n1", "model": "m", "output": "ok", "inputs": {"note": "from John Smith, john@example.com"}}]
    assert client.post("/api/v1/predictions", json=body).status_code == 200
    (row,) = client.get("/api/v1/predictions").json()["predictions"]
    assert row["inputs"]["note"] == "from John Smith, [EMAIL]"
    assert json.dumps(row).count("john@example.com") == 0
