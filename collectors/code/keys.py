"""The AI key analyser: finds the candidate lines of a prefiltered file and runs the
detect-secrets plugins and filters on them.

Content too large to scan (a file over max_file_bytes, a line over max_line_length) is still
searched for the literals of the key formats that need no context (`sk-proj-`, `hf_`, `AIza`...)
and for whole key shapes. A key hidden in it becomes an `UnscannedKeyHint` instead of passing
unseen.

A raw key never leaves this module: each occurrence carries only what `scanner.secrets` makes of
it (the redacted form and the keyed fingerprint) and the SHA-1 hash that the detect-secrets
baseline format uses to recognise a known secret.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.util.code_snippet import CodeSnippet

from collectors.code.filters import is_filtered_out, is_placeholder
from collectors.code.keyformats import KeyFormat, load_catalogue
from collectors.code.pipeline import MEBIBYTE, Document, ScanOptions, SourceFile
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


@dataclass(frozen=True)
class UnscannedKeyHint:
    """Key literals in content the analyser did not scan because of its size: a whole file over
    max_file_bytes, or lines over max_line_length. It never contains any part of a key.

    `lines` are the over-long lines that contain a literal, or for a whole file the line of the first
    key shape (else of the first literal). `literals` are the format literals found, lower case, as
    the prefilter searches them; `key_labels` name the formats whose whole key shape was found.
    """

    scope: str
    path: str
    whole_file: bool
    limit: str
    lines: tuple[int, ...]
    literals: tuple[str, ...]
    key_labels: tuple[str, ...]
    provider: str
    commit: str | None = None


# How far before and after a literal a key shape is looked for. The maximum distance from a key's
# start to its literal is 52 characters, for the Azure AI Services `JQQJ99` marker. The search ends
# SHAPE_REACH characters after the literal, so a longer run of key characters counts as key-shaped.
SHAPE_LEAD = 64
SHAPE_REACH = 1024

# Occurrences of one literal examined for a key shape in one block or line. A minified bundle can
# contain thousands of `hf_`, and the first key shape is all the report needs.
MAX_SHAPE_CHECKS = 1000


@dataclass
class _Markers:
    """The literals and key formats found in one stretch of bytes, each with the offset of its
    first occurrence."""

    literals: dict[str, int]
    shapes: dict[str, tuple[KeyFormat, int]]

    @property
    def first_offset(self) -> int | None:
        offsets = [offset for _, offset in self.shapes.values()] or list(self.literals.values())
        return min(offsets) if offsets else None


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

        # The formats whose literal alone marks a key (no context needed), by literal.
        self.marker_formats: dict[bytes, list[KeyFormat]] = {}
        for key_format in catalogue.formats:
            if key_format.context is None:
                for literal in key_format.literals:
                    self.marker_formats.setdefault(literal.encode("utf-8"), []).append(key_format)

    def analyse(self, document: Document) -> list[KeyOccurrence]:
        lines = LineIndex(document.text)
        candidates = self._candidate_lines(document, lines)

        occurrences: dict[tuple[int, int], KeyOccurrence] = {}
        too_long: list[int] = []
        for line_number, providers in sorted(candidates.items()):
            added = document.source.added_lines
            if added is not None and line_number not in added:
                continue
            line = lines.line(line_number)
            if len(line) > self.options.max_line_length:
                too_long.append(line_number)
                continue
            for occurrence in self._keys_on_line(document, lines, line_number, line, providers):
                occurrences.setdefault((occurrence.line, occurrence.column), occurrence)

        found: list[KeyOccurrence | UnscannedKeyHint] = list(occurrences.values())
        if too_long:
            document.report(_too_long_reason(too_long, self.options.max_line_length))
            hint = self._long_line_hint(document, lines, too_long)
            if hint is not None:
                found.append(hint)
        return found

    def inspect_oversize(self, source: SourceFile, blocks: Iterable[bytes]) -> list[UnscannedKeyHint]:
        """Search a file over max_file_bytes, block by block, for key literals and key shapes.
        Each block is searched with the last SHAPE_LEAD + SHAPE_REACH bytes of the one before, so
        that a key across a block boundary is seen whole."""
        literals: dict[str, None] = {}
        shapes: dict[str, KeyFormat] = {}
        first: tuple[bool, int] | None = None  # (no key shape, line), so a key shape sorts first
        carry = b""
        carry_line = 1
        for block in blocks:
            data = carry + block
            markers = self._markers(data)
            literals.update(dict.fromkeys(markers.literals))
            for format_id, (key_format, _) in markers.shapes.items():
                shapes.setdefault(format_id, key_format)
            offset = markers.first_offset
            if offset is not None:
                candidate = (not markers.shapes, carry_line + data.count(b"\n", 0, offset))
                first = candidate if first is None else min(first, candidate)

            keep = min(len(data), SHAPE_LEAD + SHAPE_REACH)
            carry_line += data.count(b"\n", 0, len(data) - keep)
            carry = data[len(data) - keep:]

        if not literals or first is None:
            return []
        limit = f"{self.options.max_file_bytes / MEBIBYTE:.0f} MiB"
        return [self._hint(source, True, limit, (first[1],), tuple(literals), list(shapes.values()))]

    def _long_line_hint(self, document: Document, lines: LineIndex, too_long: list[int]) -> UnscannedKeyHint | None:
        marked: list[int] = []
        literals: dict[str, None] = {}
        shapes: dict[str, KeyFormat] = {}
        for line_number in too_long:
            markers = self._markers(lines.line(line_number).encode("utf-8", "surrogateescape"))
            if not markers.literals:
                continue
            marked.append(line_number)
            literals.update(dict.fromkeys(markers.literals))
            for format_id, (key_format, _) in markers.shapes.items():
                shapes.setdefault(format_id, key_format)
        if not marked:
            return None
        limit = f"{self.options.max_line_length} characters"
        return self._hint(document.source, False, limit, tuple(marked), tuple(literals), list(shapes.values()))

    def _hint(
        self, source: SourceFile, whole_file: bool, limit: str, line_numbers: tuple[int, ...], literals: tuple[str, ...], shapes: list[KeyFormat]
    ) -> UnscannedKeyHint:
        providers = [key_format.provider for key_format in shapes] or [self.marker_formats[literal.encode("utf-8")][0].provider for literal in literals]
        return UnscannedKeyHint(
            scope=source.scope,
            path=source.path,
            whole_file=whole_file,
            limit=limit,
            lines=line_numbers,
            literals=literals,
            key_labels=tuple(dict.fromkeys(key_format.label for key_format in shapes)),
            provider=providers[0],
            commit=source.commit,
        )

    def _markers(self, data: bytes) -> _Markers:
        """Find the literals of the formats that need no context in `data` (case-insensitively,
        as the prefilter does) and the formats whose whole key shape appears around one of them.
        A key shape counts when it has the characters its format requires and is no placeholder;
        the detect-secrets filters and allow comments are not applied."""
        lowered = data.lower()
        # Latin-1 maps each byte to one character, so offsets in `text` are offsets in `data`.
        text: str | None = None
        markers = _Markers({}, {})
        for needle, formats in self.marker_formats.items():
            offset = lowered.find(needle)
            if offset == -1:
                continue
            markers.literals[needle.decode("utf-8")] = offset
            if text is None:
                text = data.decode("latin-1")
            for key_format in formats:
                shape_offset = self._first_key_shape(text, lowered, needle, offset, key_format)
                if shape_offset is not None:
                    markers.shapes[key_format.id] = (key_format, shape_offset)
        return markers

    def _first_key_shape(self, text: str, lowered: bytes, needle: bytes, offset: int, key_format: KeyFormat) -> int | None:
        plugin = self.plugins[key_format.provider]
        for _ in range(MAX_SHAPE_CHECKS):
            if offset == -1:
                return None
            # The search may start inside a token. The pattern's look-behind still reads the text
            # before `start`, so a key shape inside a longer token is not taken.
            start = max(0, offset - SHAPE_LEAD)
            for match in key_format.pattern.finditer(text, start, offset + len(needle) + SHAPE_REACH):
                if not match.start() <= offset < match.end():
                    continue
                secret = match.group(0)
                if key_format.has_required_characters(secret) and not is_placeholder(secret, plugin):
                    return match.start()
            offset = lowered.find(needle, offset + 1)
        return None

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


def _too_long_reason(line_numbers: list[int], limit: int) -> str:
    shown = ", ".join(map(str, line_numbers[:5])) + (f" and {len(line_numbers) - 5} more" if len(line_numbers) > 5 else "")
    if len(line_numbers) == 1:
        return (
            f"line {shown} is longer than {limit} characters and was not scanned for keys "
            "(raise sources.code.max_line_length in the audit config to scan it)"
        )
    return (
        f"lines {shown} are longer than {limit} characters and were not scanned for keys "
        "(raise sources.code.max_line_length in the audit config to scan them)"
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

