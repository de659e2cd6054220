"""The visible parts of provider API keys: a known prefix and the last characters.

OpenAI lists each key with a `redacted_value` such as `sk-proj-...9f2c`; Anthropic with a
`partial_key_hint` such as `sk-ant-api03-R2D...igAA`. Keys found in code keep only their prefix
and last four characters. Matching the two needs exactly those parts, so a hint is stored as
the provider's known prefix plus its visible last characters, and printed through
`scanner.secrets.redact` like every other key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from scanner.secrets import MIN_HIDDEN_CHARACTERS, VISIBLE_SUFFIX, redact

# The provider hides the middle of a key behind an ellipsis or a run of asterisks.
_HIDDEN_PART = re.compile(r"\.{3,}|…|\*{2,}")


@dataclass(frozen=True)
class KeyHint:
    """The parts of a key its provider shows: the known prefix and the visible last characters."""

    prefix: str
    suffix: str

    @property
    def printable(self) -> str:
        # The provider has already hidden the middle of the key; a stand-in long enough to stay
        # hidden lets redact() print the visible parts in the same form as keys found in code.
        # A provider that shows fewer than four last characters gets `*` for the ones it hides.
        stand_in = "*" * (MIN_HIDDEN_CHARACTERS + VISIBLE_SUFFIX)
        return redact(self.prefix + stand_in + self.suffix, self.prefix)

    def to_attributes(self) -> dict[str, str]:
        return {"prefix": self.prefix, "suffix": self.suffix, "redacted": self.printable}


@lru_cache(maxsize=1)
def key_catalogue() -> dict[str, Any]:
    """Load the provider key catalogue, rules/catalogues/provider_keys.yaml."""
    text = resources.files("rules").joinpath("catalogues", "provider_keys.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def known_prefixes(provider: str) -> list[str]:
    """Return the key prefixes `provider` issues, longest first."""
    return sorted(key_catalogue()["prefixes"].get(provider, []), key=len, reverse=True)


def split_hint(provider: str, hint: str | None) -> KeyHint | None:
    """Split a provider's key hint into its known prefix and visible last characters.

    Returns None for a hint with no hidden part or no visible end, which nothing can be matched to.
    """
    if not isinstance(hint, str):
        return None
    parts = _HIDDEN_PART.split(hint.strip())
    if len(parts) != 2 or not parts[1]:
        return None
    head, tail = parts
    return KeyHint(prefix=_known_part(provider, head), suffix=tail[-4:])


def hint_attributes(provider: str, hint: str | None) -> dict[str, str]:
    """Return the `prefix`, `suffix` and `redacted` attributes of a key asset from its provider's
    hint, or no attributes for a hint that `split_hint` cannot split."""
    key_hint = split_hint(provider, hint)
    return key_hint.to_attributes() if key_hint else {}


def _known_part(provider: str, head: str) -> str:
    """Return the part of a hint's visible start that is a known prefix: the longest known prefix it
    starts with, or the whole start when it cuts a known prefix short (`sk-admin` of `sk-admin-`).
    Characters after the prefix are dropped, because keys found in code keep none of them."""
    started = next((known for known in known_prefixes(provider) if head.startswith(known)), "")
    if len(head) > len(started) and any(known.startswith(head) for known in known_prefixes(provider)):
        return head
    return started


def prefixes_agree(first: str, second: str) -> bool:
    """Return whether two known prefixes can belong to one key: equal, or one the start of the other
    (a hint that shows only `sk-` agrees with a project key's `sk-proj-`)."""
    return first.startswith(second) or second.startswith(first)


def suffixes_agree(first: str, second: str) -> bool:
    """Return whether two visible endings can belong to one key, compared over the characters both show."""
    shared = min(len(first), len(second))
    if shared < key_catalogue()["min_suffix_characters"]:
        return False
    return first[-shared:] == second[-shared:]
