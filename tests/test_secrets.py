"""Redaction and fingerprints: the only printable forms of a secret."""

from __future__ import annotations

from scanner.secrets import FINGERPRINT_KEY_VARIABLE, fingerprint, redact

PROJECT_KEY = "sk-proj-" + "Q7b2Lm9XvR4tY8wZ1cN5dF3gH6jK0pA2sE4uI7oT9yB1nM3x" + "T3BlbkFJ" + "x9Qa"


def test_redact_keeps_prefix_and_last_four():
    assert redact(PROJECT_KEY, "sk-proj-") == "sk-proj-…x9Qa"


def test_redact_without_prefix():
    assert redact("0123456789abcdef0123456789abcdef") == "…cdef"


def test_redact_ignores_prefix_the_secret_lacks():
    assert redact("abcdefghijklmnopqrstuvwxyz", "sk-") == "…wxyz"


def test_short_secret_is_masked_whole():
    assert redact("sk-abc1234567", "sk-") == "sk-…"
    assert redact("short") == "…"


def test_fingerprint_is_stable_keyed_and_hides_secret(monkeypatch):
    monkeypatch.delenv(FINGERPRINT_KEY_VARIABLE, raising=False)
    default = fingerprint(PROJECT_KEY)
    assert default == fingerprint(PROJECT_KEY)
    assert len(default) == 32
    assert set(default) <= set("0123456789abcdef")

    monkeypatch.setenv(FINGERPRINT_KEY_VARIABLE, "org-secret-key")
    keyed = fingerprint(PROJECT_KEY)
    assert keyed != default
    assert fingerprint(PROJECT_KEY + "x") != keyed
