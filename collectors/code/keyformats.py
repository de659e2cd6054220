"""The AI key formats of `rules/catalogues/ai_key_formats.yaml`, compiled for matching.

The catalogue is data so that a new key shape needs no code change; this module turns each entry
into a `KeyFormat` with its compiled pattern and answers the questions the key plugins ask: which
format a matched string belongs to, and whether a value is a placeholder.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources

import yaml

CATALOGUE = "ai_key_formats.yaml"

# Literals sharing this many leading characters are searched together by the prefilter.
PREFILTER_KEY_LENGTH = 3

# Characters that may continue a key: a match must not be preceded or followed by one, so that a
# key shape inside a longer token (a hash, a path segment) is not taken for a key.
TOKEN_CHARACTERS = "A-Za-z0-9_-"

# On the line of a context-only value, a name like one of these (or the provider keyword) must
# appear for the value to count as an assigned key.
ASSIGNMENT_WORDS = re.compile(r"key|token|secret|credential|auth|passw|bearer", re.IGNORECASE)


@dataclass(frozen=True)
class ContextRule:
    """Where a prefix-less format's keywords must appear for a value to count as its key.

    A keyword counts only as a whole word start and end in letters (`cohere` in COHERE_API_KEY or
    cohere.Client, never in NSCoherentFoo)."""

    keywords: tuple[str, ...]
    window: int

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(keyword) for keyword in self.keywords)
        return re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])", re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


# Character classes a format can require of a key's body, so that an identifier made of
# letters only (a 40-letter Cocoa name beside "cohere") is not taken for a generated key.
CHARACTER_CLASSES = {
    "lower": re.compile(r"[a-z]"),
    "upper": re.compile(r"[A-Z]"),
    "digit": re.compile(r"[0-9]"),
    "letter": re.compile(r"[A-Za-z]"),
}


@dataclass(frozen=True)
class KeyFormat:
    """One key shape: its provider, key type, printable prefix and compiled pattern."""

    id: str
    provider: str
    label: str
    key_type: str
    prefix: str
    pattern: re.Pattern[str]
    literals: tuple[str, ...]
    context: ContextRule | None
    sources: tuple[str, ...]
    requires: tuple[str, ...] = ()

    def body(self, secret: str) -> str:
        return secret[len(self.prefix):] if self.prefix and secret.startswith(self.prefix) else secret

    def has_required_characters(self, secret: str) -> bool:
        body = self.body(secret)
        return all(CHARACTER_CLASSES[name].search(body) for name in self.requires)


@dataclass(frozen=True)
class GoogleContext:
    """The words that tell a Firebase web key and a Gemini key apart, and how far to look."""

    window: int
    firebase_keywords: tuple[str, ...]
    ai_keywords: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    formats: tuple[KeyFormat, ...]
    google: GoogleContext
    placeholder_words: tuple[str, ...]
    min_body_entropy: float

    def by_id(self, format_id: str) -> KeyFormat:
        for key_format in self.formats:
            if key_format.id == format_id:
                return key_format
        raise KeyError(format_id)

    def of_provider(self, provider: str) -> tuple[KeyFormat, ...]:
        return tuple(f for f in self.formats if f.provider == provider)

    @property
    def literals(self) -> tuple[str, ...]:
        """Every literal of every format, lower case, without repeats, in catalogue order."""
        seen: dict[str, None] = {}
        for key_format in self.formats:
            for literal in key_format.literals:
                seen.setdefault(literal.lower(), None)
        return tuple(seen)

    def prefilter_keys(self) -> dict[str, tuple[str, ...]]:
        """The strings the prefilter searches, each with the literals it stands for.

        Every search is one pass over a file's bytes, so literals that share their first
        PREFILTER_KEY_LENGTH characters (the eight `sk-...` prefixes) are searched as that shared
        start, and the full literals are looked for only in the files that contain it.
        """
        groups: dict[str, list[str]] = {}
        for literal in self.literals:
            groups.setdefault(literal[:PREFILTER_KEY_LENGTH], []).append(literal)
        keys: dict[str, tuple[str, ...]] = {}
        for start, members in groups.items():
            if len(members) > 1:
                keys[start] = tuple(members)
            else:
                keys[members[0]] = (members[0],)
        return keys


def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![{TOKEN_CHARACTERS}])(?:{pattern})(?![{TOKEN_CHARACTERS}])")


def parse_catalogue(document: dict) -> Catalogue:
    """Build the catalogue from its YAML document, compiling every pattern."""
    formats = []
    for entry in document["formats"]:
        context = None
        if "context" in entry:
            context = ContextRule(
                keywords=tuple(word.lower() for word in entry["context"]["keywords"]),
                window=int(entry["context"]["window"]),
            )
        formats.append(
            KeyFormat(
                id=entry["id"],
                provider=entry["provider"],
                label=entry["label"],
                key_type=entry["key_type"],
                prefix=entry.get("prefix", ""),
                pattern=_bounded(entry["pattern"]),
                literals=tuple(literal.lower() for literal in entry["literals"]),
                context=context,
                sources=tuple(entry.get("sources", ())),
                requires=tuple(entry.get("requires", ())),
            )
        )

    google = document["google"]
    return Catalogue(
        formats=tuple(formats),
        google=GoogleContext(
            window=int(google["window"]),
            firebase_keywords=tuple(word.lower() for word in google["firebase_keywords"]),
            ai_keywords=tuple(word.lower() for word in google["ai_keywords"]),
        ),
        placeholder_words=tuple(word.lower() for word in document["placeholder_words"]),
        min_body_entropy=float(document["min_body_entropy"]),
    )


@functools.lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Load the catalogue shipped with the package, once per process."""
    text = resources.files("rules").joinpath("catalogues", CATALOGUE).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def shannon_entropy(text: str) -> float:
    """Bits per character of `text`, 0.0 for an empty string."""
    if not text:
        return 0.0
    counts = Counter(text)
    length = len(text)
    return -sum(count / length * math.log2(count / length) for count in counts.values())


def longest_run(text: str) -> int:
    """Return the length of the longest run of one repeated character."""
    longest = current = 0
    previous = ""
    for character in text:
        current = current + 1 if character == previous else 1
        previous = character
        longest = max(longest, current)
    return longest
