"""Google Cloud label syntax: what a label key, a value and a label set may contain.

The limits and character classes are data in `rules/catalogues/gcp_vertex.yaml`. Characters are
judged by Unicode general category because Google allows international characters: `équipe` is
a valid key, `Team` is not (uppercase), nor is `2fa` (a key must start with a letter).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from collectors.gcp.catalogue import LabelSyntax, load_catalogue


def key_problem(key: str, syntax: LabelSyntax | None = None) -> str | None:
    """Why `key` cannot be a Google Cloud label key, or None when it can."""
    syntax = syntax or load_catalogue().labels
    if not key:
        return "a label key cannot be empty"
    if len(key) > syntax.max_key_length:
        return f"label key {key!r} is {len(key)} characters long, over the maximum of {syntax.max_key_length}"
    if unicodedata.category(key[0]) not in syntax.key_first_categories:
        return f"label key {key!r} must start with a lowercase letter"
    bad = _first_bad_character(key, syntax)
    if bad is not None:
        return f"label key {key!r} contains {bad!r}; use lowercase letters, digits, '_' and '-'"
    return None


def value_problem(value: str, syntax: LabelSyntax | None = None) -> str | None:
    """Why `value` cannot be a Google Cloud label value, or None when it can (empty is allowed)."""
    syntax = syntax or load_catalogue().labels
    if len(value) > syntax.max_value_length:
        return f"label value {value!r} is {len(value)} characters long, over the maximum of {syntax.max_value_length}"
    bad = _first_bad_character(value, syntax)
    if bad is not None:
        return f"label value {value!r} contains {bad!r}; use lowercase letters, digits, '_' and '-'"
    return None


def label_problems(labels: Mapping[str, str], partner_model: bool = False) -> list[str]:
    """Return every reason the label set `labels` would be rejected on a resource or a Vertex AI
    call. `partner_model` applies the lower label count of partner-model calls."""
    syntax = load_catalogue().labels
    problems = []
    limit = syntax.max_labels_partner_call if partner_model else syntax.max_labels
    if len(labels) > limit:
        problems.append(f"{len(labels)} labels, over the maximum of {limit}")
    for key, value in labels.items():
        problem = key_problem(key, syntax) or value_problem(value, syntax)
        if problem:
            problems.append(problem)
    return problems


def _first_bad_character(text: str, syntax: LabelSyntax) -> str | None:
    for character in text:
        if character in syntax.extra_characters:
            continue
        if unicodedata.category(character) not in syntax.character_categories:
            return character
    return None
