"""The AI key analyser: finds the candidate lines of a prefiltered file and runs the
detect-secrets plugins and filters on them.

A raw key never leaves this module: each occurrence carries only what `scanner.secrets` makes of
it (the redacted form and the keyed fingerprint) and the SHA-1 hash that the detect-secrets
baseline format uses to recognise a known secret.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterator

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.util.code_snippet import CodeSnippet

from collectors.code.filters import is_filtered_out
from collectors.code.keyformats import KeyFormat, load_catalogue
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.plugins import PLUGINS, AIKeyDetector, google_key_context
from scanner.secrets import fingerprint, redact


@dataclass(frozen=True)
class KeyOccurrence:
    """One AI key found at one place, described without the key itself."""

    scope: str
    path: str
    line: int
    column: int
    end_column: int
    provider: str
    key_type: str
    format_id: str
    label: str
    secret_type: str
    prefix: str
    redacted: str
    fingerprint: str
    hashed_secret: str
    ai_context: str | None = None
    commit: str | None = None

    @property
    def last4(self) -> str:
        return self.redacted.rsplit("…", 1)[1] if "…" in self.redacted else ""


class KeyAnalyser:
    """Runs the AI key plugins on the lines of a document that the prefilter points at."""

    name = "keys"

    def __init__(self, options: ScanOptions):
        self.options = options
        catalogue = load_catalogue()
        self.literal_groups = catalogue.prefilter_keys()
        self.literals = tuple(self.literal_groups)
        self.plugins: dict[str, AIKeyDetector] = {plugin.provider: plugin() for plugin in PLUGINS}

        # Each literal, found case-insensitively, and the formats it can start.
        self.literal_patterns = {literal: re.compile(re.escape(literal), re.IGNORECASE) for literal in catalogue.literals}
        self.formats_by_literal: dict[str, list[KeyFormat]] = {}
        for key_format in catalogue.formats:
            for literal in key_format.literals:
                self.formats_by_literal.setdefault(literal, []).append(key_format)

        windows = [f.context.window for f in catalogue.formats if f.context is not None]
        self.snippet_lines = max([catalogue.google.window, *windows])

    def analyse(self, document: Document) -> list[KeyOccurrence]:
        lines = LineIndex(document.text)
        candidates = self._candidate_lines(document, lines)

        occurrences: dict[tuple[int, int], KeyOccurrence] = {}
        too_long = 0
        for line_number, providers in sorted(candidates.items()):
            added = document.source.added_lines
            if added is not None and line_number not in added:
                continue
            line = lines.line(line_number)
            if len(line) > self.options.max_line_length:
                too_long += 1
                continue
            for occurrence in self._keys_on_line(document, lines, line_number, line, providers):
                occurrences.setdefault((occurrence.line, occurrence.column), occurrence)

        if too_long:
            document.report(
                f"{too_long} line(s) longer than {self.options.max_line_length} characters were not scanned "
                "(raise max_line_length in the code settings to scan them)"
            )
        return list(occurrences.values())

    def _candidate_lines(self, document: Document, lines: LineIndex) -> dict[int, set[str]]:
        """Map each line that may hold a key to the providers whose plugins should look at it."""
        candidates: dict[int, set[str]] = {}
        # In ASCII text a byte offset of the lower-cased bytes is a character offset of the text;
        # other text is searched case-insensitively with a regular expression.
        lowered = document.lowered or document.text.lower().encode("utf-8")
        same_offsets = document.text.isascii()
        literals = [literal for key in document.hits for literal in self.literal_groups.get(key, ())]
        for literal in literals:
            formats = self.formats_by_literal.get(literal)
            needle = literal.encode("utf-8")
            if not formats or needle not in lowered:
                continue
            reach = max((f.context.window for f in formats if f.context is not None), default=0)
            providers = {f.provider for f in formats}
            if same_offsets:
                offsets = _find_all(lowered, needle)
            else:
                offsets = (match.start() for match in self.literal_patterns[literal].finditer(document.text))
            for offset in offsets:
                centre = lines.number_at(offset)
                for line_number in range(max(1, centre - reach), min(lines.count, centre + reach) + 1):
                    candidates.setdefault(line_number, set()).update(providers)
        return candidates

    def _keys_on_line(
        self, document: Document, lines: LineIndex, line_number: int, line: str, providers: set[str]
    ) -> list[KeyOccurrence]:
        first = max(1, line_number - self.snippet_lines)
        nearby = [lines.line(number) for number in range(first, min(lines.count, line_number + self.snippet_lines) + 1)]
        target = line_number - first
        snippet = CodeSnippet(snippet=nearby, start_line=first - 1, target_index=target)

        found = []
        for provider in sorted(providers):
            plugin = self.plugins[provider]
            for match, key_format in plugin.find_keys(line, nearby, target):
                secret = match.group(0)
                if is_filtered_out(document.source.path, secret, plugin, line, snippet):
                    continue
                found.append(self._occurrence(document, line_number, match, key_format, plugin, nearby, target))
        return found

    @staticmethod
    def _occurrence(
        document: Document,
        line_number: int,
        match: re.Match[str],
        key_format: KeyFormat,
        plugin: AIKeyDetector,
        nearby: list[str],
        target: int,
    ) -> KeyOccurrence:
        secret = match.group(0)
        return KeyOccurrence(
            scope=document.source.scope,
            path=document.source.path,
            line=line_number,
            column=match.start() + 1,
            end_column=match.end() + 1,
            provider=key_format.provider,
            key_type=key_format.key_type,
            format_id=key_format.id,
            label=key_format.label,
            secret_type=plugin.secret_type,
            prefix=key_format.prefix if secret.startswith(key_format.prefix) else "",
            redacted=redact(secret, key_format.prefix),
            fingerprint=fingerprint(secret),
            hashed_secret=PotentialSecret.hash_secret(secret),
            ai_context=google_key_context(nearby, target) if key_format.provider == "google" else None,
            commit=document.source.commit,
        )


def _find_all(data: bytes, needle: bytes) -> Iterator[int]:
    offset = data.find(needle)
    while offset != -1:
        yield offset
        offset = data.find(needle, offset + 1)


class LineIndex:
    """Line numbers (1-based) of a text, and each line without its line break."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        self.starts.extend(match.end() for match in re.finditer("\n", text))
        if self.starts[-1] == len(text) and len(self.starts) > 1:
            self.starts.pop()

    @property
    def count(self) -> int:
        return len(self.starts)

    def number_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line(self, number: int) -> str:
        start = self.starts[number - 1]
        end = self.starts[number] if number < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

