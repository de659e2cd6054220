"""The one place a secret is turned into something printable: a redacted form and a keyed
fingerprint. Nothing else in shadowmap formats a secret.

The fingerprint is HMAC-SHA256 of the secret under a key, so it identifies the same secret across
runs and machines without being reversible. Organisations that compare fingerprints across tools
set their own key in SHADOWMAP_FINGERPRINT_KEY; the built-in key keeps fingerprints stable for
everyone else. API keys carry far more entropy than a dictionary attack could cover, which is why
a public default key is acceptable for them.
"""

from __future__ import annotations

import hashlib
import hmac
import os

FINGERPRINT_KEY_VARIABLE = "SHADOWMAP_FINGERPRINT_KEY"
_DEFAULT_FINGERPRINT_KEY = b"shadowmap-secret-fingerprint-v1"

# A secret must keep at least this many hidden characters after its prefix and last four are
# shown; a shorter one is masked completely.
MIN_HIDDEN_CHARACTERS = 8
VISIBLE_SUFFIX = 4


def redact(secret: str, prefix: str = "") -> str:
    """Return the printable form of `secret`: its known `prefix`, an ellipsis and its last four
    characters, such as `sk-proj-…x9Qa`. A secret too short to hide enough is masked whole."""
    if prefix and not secret.startswith(prefix):
        prefix = ""
    hidden = len(secret) - len(prefix) - VISIBLE_SUFFIX
    if hidden < MIN_HIDDEN_CHARACTERS:
        return f"{prefix}…" if prefix else "…"
    return f"{prefix}…{secret[-VISIBLE_SUFFIX:]}"


def fingerprint(secret: str) -> str:
    """Return the keyed, irreversible fingerprint of `secret` as 32 hex characters."""
    key = os.environ.get(FINGERPRINT_KEY_VARIABLE, "").encode("utf-8") or _DEFAULT_FINGERPRINT_KEY
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
