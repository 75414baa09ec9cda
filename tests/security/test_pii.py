"""PII and secret spans, checksums, and redaction."""

from __future__ import annotations

import pytest

from watchkeeper.security import find_pii, iban_valid, luhn_valid, redact, redact_value


def _types(text: str) -> dict[str, str]:
    return {text[s["start"]:s["end"]]: s["type"] for s in find_pii(text)}


def test_luhn_accepts_valid_and_rejects_altered_numbers():
    """Luhn accepts a valid test card and rejects it with one digit changed."""
    assert luhn_valid("4111 1111 1111 1111")
    assert not luhn_valid("4111 1111 1111 1112")
    assert not luhn_valid("1234")


def test_iban_mod97():
    """IBAN validation checks the mod-97 digits."""
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("not an iban")


def test_structured_identifiers_are_found():
    """Email, phone, card, IBAN, SSN and IPs are found with their types."""
    text = ("Mail bob.smith@example.com or call +1 (555) 123-4567. Card 4111-1111-1111-1111, "
            "IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, host 192.168.10.1 and 2001:db8::1.")
    found = _types(text)
    assert found["bob.smith@example.com"] == "email"
    assert found["4111-1111-1111-1111"] == "credit_card"
    assert found["DE89 3704 0044 0532 0130 00"] == "iban"
    assert found["123-45-6789"] == "ssn"
    assert found["192.168.10.1"] == "ip"
    assert found["2001:db8::1"] == "ip"
    assert "phone" in found.values()


def test_invalid_card_number_is_not_a_card():
    """A 16-digit number failing Luhn is not reported as a card."""
    assert "credit_card" not in _types("Order 4111 1111 1111 1112 shipped").values()


@pytest.mark.parametrize("secret,kind", [
    ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    ("ghp_" + "a" * 36, "github_token"),
    ("sk-proj-" + "Ab1" * 10, "openai_key"),
    ("xoxb-1234567890-abcdefghij", "slack_token"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijkl", "jwt"),
    ("Bearer abcdefghijklmnopqrstuvwx", "bearer_token"),
])
def test_secrets_are_found(secret, kind):
    """Well-known credential shapes are reported with their kind."""
    assert kind in _types(f"config: {secret} end").values()


def test_names_and_addresses_by_heuristics():
    """Names via a cue or given-name list, and number + street-type addresses, are found."""
    found = _types("My name is Karin Lindqvist and I live at 221 Baker Street, Apt. 4. Ask Jonas about it.")
    assert found.get("Karin Lindqvist") == "person"
    assert any(t == "address" and "Baker Street" in s for s, t in found.items())
    assert "person" in {t for s, t in found.items() if "Jonas" in s}


def test_european_street_address():
    """A street name with a language suffix followed by a number is an address."""
    assert "address" in _types("Send it to Lindenstraße 12, 10115 Berlin.").values()


def test_redact_mask_drop_hash():
    """Mask replaces with a type tag, drop removes, hash gives a stable keyed digest."""
    text = "contact alice@example.com now"
    assert redact(text) == "contact [EMAIL] now"
    assert redact(text, mode="drop") == "contact  now"
    h1 = redact(text, mode="hash", key=b"k1")
    assert h1.startswith("contact [EMAIL:") and "alice" not in h1
    assert redact(text, mode="hash", key=b"k1") == h1
    assert redact(text, mode="hash", key=b"k2") != h1


def test_redact_hash_needs_a_key_and_modes_are_checked():
    """Hash mode without a key, or an unknown mode, raises ValueError."""
    with pytest.raises(ValueError):
        redact("a@b.co", mode="hash")
    with pytest.raises(ValueError):
        redact("a@b.co", mode="blur")


def test_redact_value_walks_nested_structures():
    """Strings inside dicts and lists are redacted; secret-named keys are masked whole; other types pass."""
    obj = {"user": {"email": "a@example.com", "tags": ["call 555-123-4567", 7]}, "api_key": "abc", "n": 3}
    out = redact_value(obj)
    assert out["user"]["email"] == "[EMAIL]"
    assert "[PHONE]" in out["user"]["tags"][0]
    assert out["user"]["tags"][1] == 7
    assert out["api_key"] == "[SECRET]"
    assert out["n"] == 3
    assert obj["user"]["email"] == "a@example.com"  # input untouched


def test_text_without_pii_is_unchanged():
    """Redacting a text with nothing sensitive returns it unchanged."""
    text = "the weather is nice today"
    assert redact(text) == text
    assert find_pii(text) == []


def test_values_under_password_like_keys_are_masked_whole():
    out = redact_value({"pwd": "hunter2", "db_pwd": "x9", "password": "p", "passwd": "q", "pwdump": "keep"})
    assert out == {"pwd": "[SECRET]", "db_pwd": "[SECRET]", "password": "[SECRET]", "passwd": "[SECRET]",
                   "pwdump": "keep"}
