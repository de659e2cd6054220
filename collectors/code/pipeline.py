"""The code scanning pipeline: read each file once, prefilter it, analyse the candidates.

Every file is read once as bytes. A literal prefilter (every analyser's literals, searched in the
lower-cased bytes) decides whether the file can hold anything at all; most files of a real tree
hold none and cost little more than the read. Only candidate files are decoded and handed to the
analysers whose literals they contain. Files are spread over a process pool on every core in
batches; small scans run in the calling process because starting workers would cost more than
the scan.

An analyser is any object with a `name`, its lower-case `literals` and `analyse(document)`
returning picklable occurrences, registered in `ANALYSERS`. It may also define
`accepts_path(path)`: then only files it accepts are searched for its literals, so the call
analysers cost nothing on data files. An analyser with no literals runs on every file it accepts
(manifests, Terraform, .env and MCP files are picked by name). AI keys
(collectors/code/keys.py), AI SDK calls in Python and JavaScript, and the AI inventory share the
walk, the read and the prefilter.

A file over `max_file_bytes` is reported and not analysed. An analyser that defines
`inspect_oversize` (the key analyser) still reads it in blocks of OVERSIZE_BLOCK_BYTES, so that
memory stays bounded, and returns occurrences of what it found there.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import posixpath
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Protocol

# Analyser name -> "module:class". Each class is built with the ScanOptions in every worker.
ANALYSERS: dict[str, str] = {
    "keys": "collectors.code.keys:KeyAnalyser",
    "python-calls": "collectors.code.python_calls:PythonCallAnalyser",
    "js-calls": "collectors.code.js_calls:JsCallAnalyser",
    "manifests": "collectors.code.manifests:ManifestAnalyser",
    "terraform": "collectors.code.terraform:TerraformAnalyser",
    "ai-config": "collectors.code.ai_config:AIConfigAnalyser",
}

# Every analyser, in the order they run on a file.
ALL_ANALYSERS = tuple(ANALYSERS)

# A NUL byte in the first block marks a binary file, as git and grep decide.
BINARY_SNIFF_BYTES = 8000

# Below these totals the scan runs in the calling process.
POOL_MIN_FILES = 200
POOL_MIN_BYTES = 8 * 1024 * 1024

# Batches keep inter-process traffic low while letting both workers finish together.
BATCH_MAX_FILES = 64
BATCH_MAX_BYTES = 4 * 1024 * 1024

MEBIBYTE = 1024 * 1024

# Files over max_file_bytes are read in blocks of this size when an analyser inspects them.
OVERSIZE_BLOCK_BYTES = MEBIBYTE


@dataclass(frozen=True)
class ScanOptions:
    """Limits and analysers of one scan; picklable, so every worker builds the same state."""

    max_file_bytes: int = 20 * MEBIBYTE
    max_line_length: int = 1_000_000
    analysers: tuple[str, ...] = ALL_ANALYSERS
    workers: int | None = None
    # Gateway host names (`policy.gateways`), so call analysers can tell gateway calls apart.
    gateways: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFile:
    """One file to scan: where it is shown (`path`, relative to its `scope`) and where its bytes
    come from (a filesystem `location`, or `content` already in memory).

    `added_lines`, when set, limits findings to those line numbers (a diff); `commit` names the
    commit the content comes from (a history scan); `repo_path`, when known, is the path relative
    to the repository, which finding subjects use.
    """

    scope: str
    path: str
    location: str | None = None
    content: bytes | None = None
    size: int = 0
    added_lines: frozenset[int] | None = None
    commit: str | None = None
    repo_path: str | None = None


@dataclass(frozen=True)
class Problem:
    """A file or path that was reported, with the reason in one line. `skipped` is True when the
    whole file or folder was left out, False when the file was read but part of it was not
    analysed (an over-long line, a file that does not parse)."""

    scope: str
    path: str
    reason: str
    skipped: bool = True

    @property
    def where(self) -> str:
        """The path as reports show it, led by the scope only when the path does not already
        name it (a file of a GitHub repository, say, is shown relative to the repository)."""
        if not self.path:
            return self.scope
        scope = posixpath.normpath(self.scope.replace("\\", "/")) if self.scope else "."
        if scope == "." or self.path == scope or self.path.startswith(scope.rstrip("/") + "/"):
            return self.path
        return f"{self.scope}: {self.path}"

    def describe(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ScanStats:
    files: int = 0
    bytes: int = 0
    binary_files: int = 0
    candidate_files: int = 0

    def add(self, other: ScanStats) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.binary_files += other.binary_files
        self.candidate_files += other.candidate_files


@dataclass
class ScanResult:
    occurrences: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)

    def extend(self, other: ScanResult) -> None:
        self.occurrences.extend(other.occurrences)
        self.problems.extend(other.problems)
        self.stats.add(other.stats)


@dataclass
class Document:
    """A decoded candidate file and the prefilter literals found in it. For ASCII text, offsets
    in `lowered` equal offsets in `text`."""

    source: SourceFile
    text: str
    hits: frozenset[str]
    lowered: bytes = b""  # the file's bytes, lower-cased, as the prefilter searched them
    problems: list[Problem] = field(default_factory=list)

    def report(self, reason: str) -> None:
        """Record that part of this file was not analysed; the rest of it still is."""
        self.problems.append(Problem(self.source.scope, self.source.path, reason, skipped=False))


class Analyser(Protocol):
    name: str
    literals: tuple[str, ...]

    def analyse(self, document: Document) -> list[Any]: ...


class OversizeInspector(Protocol):
    """An analyser that also looks at files too large to analyse, block by block, without
    holding them in memory (the key analyser searches them for key prefixes)."""

    def inspect_oversize(self, source: SourceFile, blocks: Iterable[bytes]) -> list[Any]: ...


def build_analysers(options: ScanOptions) -> list[Analyser]:
    analysers = []
    for name in options.analysers:
        module_name, class_name = ANALYSERS[name].split(":")
        analysers.append(getattr(importlib.import_module(module_name), class_name)(options))
    return analysers


class FileScanner:
    """Reads, prefilters and analyses files; one per process."""

    def __init__(self, options: ScanOptions):
        self.options = options
        self.analysers = build_analysers(options)
        self.by_path = [analyser for analyser in self.analysers if hasattr(analyser, "accepts_path")]
        self.literals = tuple(
            dict.fromkeys(literal.encode("utf-8") for analyser in self.analysers for literal in analyser.literals)
        )
        # The literals to search for each set of analysers that accept a file, built on first use.
        self._literal_sets: dict[tuple[int, ...], tuple[bytes, ...]] = {}

    def _selected(self, path: str) -> list[Analyser]:
        if not self.by_path:
            return self.analysers
        return [a for a in self.analysers if not hasattr(a, "accepts_path") or a.accepts_path(path)]

    def _literals_of(self, analysers: list[Analyser]) -> tuple[bytes, ...]:
        key = tuple(id(analyser) for analyser in analysers)
        literals = self._literal_sets.get(key)
        if literals is None:
            literals = tuple(dict.fromkeys(literal.encode("utf-8") for analyser in analysers for literal in analyser.literals))
            self._literal_sets[key] = literals
        return literals

    def scan(self, sources: Iterable[SourceFile]) -> ScanResult:
        result = ScanResult()
        for source in sources:
            self._scan_one(source, result)
        return result

    def _scan_one(self, source: SourceFile, result: ScanResult) -> None:
        data = self._read(source, result)
        if data is None:
            return
        result.stats.files += 1
        result.stats.bytes += len(data)

        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            result.stats.binary_files += 1
            return

        selected = self._selected(source.path)
        literals = self._literals_of(selected)
        lowered = data.lower() if literals else b""
        hits = frozenset(literal.decode("utf-8") for literal in literals if literal in lowered)
        running = [a for a in selected if not a.literals or hits.intersection(a.literals)]
        if not running:
            return
        result.stats.candidate_files += 1

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"not valid UTF-8 (byte {error.start}); skipped"
            result.problems.append(Problem(source.scope, source.path, reason))
            return
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # keeps columns: the byte-order mark takes one place

        document = Document(source, text, hits, lowered)
        for analyser in running:
            result.occurrences.extend(analyser.analyse(document))
        result.problems.extend(document.problems)

    def _read(self, source: SourceFile, result: ScanResult) -> bytes | None:
        limit = self.options.max_file_bytes
        if source.content is not None:
            content = source.content
            if len(content) > limit:
                self._skip_oversize(source, len(content), lambda: _slices(content), result)
                return None
            return content

        assert source.location is not None
        try:
            with open(source.location, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > limit:
                    self._skip_oversize(source, size, lambda: _blocks_of(handle), result)
                    return None
                return handle.read()
        except OSError as error:
            reason = f"cannot be read ({error.strerror or type(error).__name__}); skipped"
            result.problems.append(Problem(source.scope, source.path, reason))
            return None

    def _skip_oversize(self, source: SourceFile, size: int, open_blocks: Callable[[], Iterator[bytes]], result: ScanResult) -> None:
        """Report a file over max_file_bytes, and let the analysers that inspect such files read
        it block by block. A file that looks binary is not inspected."""
        result.problems.append(Problem(source.scope, source.path, too_large_reason(size, self.options.max_file_bytes)))
        inspectors = [analyser for analyser in self.analysers if hasattr(analyser, "inspect_oversize")]
        if not inspectors:
            return
        first = next(open_blocks(), b"")
        if b"\0" in first[:BINARY_SNIFF_BYTES]:
            return
        for inspector in inspectors:
            result.occurrences.extend(inspector.inspect_oversize(source, open_blocks()))


def _slices(content: bytes) -> Iterator[bytes]:
    for start in range(0, len(content), OVERSIZE_BLOCK_BYTES):
        yield content[start:start + OVERSIZE_BLOCK_BYTES]


def _blocks_of(handle: BinaryIO) -> Iterator[bytes]:
    handle.seek(0)
    while block := handle.read(OVERSIZE_BLOCK_BYTES):
        yield block


def too_large_reason(size: int, limit: int) -> str:
    """Return the problem text for a file over the size limit."""
    return (
        f"{size / MEBIBYTE:.1f} MiB is larger than the {limit / MEBIBYTE:.0f} MiB limit; skipped "
        "(raise sources.code.max_file_mb in the audit config to scan it)"
    )


# One FileScanner per worker process, built by the pool initializer.
_worker_scanner: FileScanner | None = None


def _init_worker(options: ScanOptions) -> None:
    global _worker_scanner
    _worker_scanner = FileScanner(options)


def _scan_batch(batch: list[SourceFile]) -> ScanResult:
    assert _worker_scanner is not None
    return _worker_scanner.scan(batch)


def batches(sources: Iterable[SourceFile]) -> Iterator[list[SourceFile]]:
    """Group sources into batches of bounded file count and byte size."""
    batch: list[SourceFile] = []
    batch_bytes = 0
    for source in sources:
        batch.append(source)
        batch_bytes += source.size or (len(source.content) if source.content is not None else 0)
        if len(batch) >= BATCH_MAX_FILES or batch_bytes >= BATCH_MAX_BYTES:
            yield batch
            batch, batch_bytes = [], 0
    if batch:
        yield batch


def scan_sources(sources: list[SourceFile], options: ScanOptions) -> ScanResult:
    """Scan `sources`, in a process pool when the scan is large enough to pay for one."""
    global _worker_scanner

    # Built here first: imports and compiled patterns are then inherited by forked workers.
    scanner = FileScanner(options)
    total_bytes = sum(source.size for source in sources)
    workers = options.workers or os.cpu_count() or 1
    if workers <= 1 or (len(sources) < POOL_MIN_FILES and total_bytes < POOL_MIN_BYTES):
        return scanner.scan(sources)

    context = _pool_context()
    pool_arguments: dict[str, Any] = {"max_workers": workers, "mp_context": context}
    if context.get_start_method() == "fork":
        _worker_scanner = scanner
    else:
        pool_arguments.update(initializer=_init_worker, initargs=(options,))

    result = ScanResult()
    with ProcessPoolExecutor(**pool_arguments) as pool:
        for batch_result in pool.map(_scan_batch, batches(sources)):
            result.extend(batch_result)
    return result


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe (no other thread could hold a lock the child would inherit), which
    starts workers in milliseconds; otherwise forkserver, whose server forks from one thread."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["collectors.code.pipeline", *(ANALYSERS[name].split(":")[0] for name in ANALYSERS)])
        return context
    return multiprocessing.get_context("spawn")
