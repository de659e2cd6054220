"""Find FOCUS export files, detect their format, compression and text encoding, and transcode CSV
text in other encodings to UTF-8 before DuckDB reads it.

Known limit:
- The encoding is decided from the first 64 MiB of text. If a file is valid UTF-8 there but not
  further on, the later rows with invalid bytes are skipped, each named, rather than the file
  being read again as Windows-1252.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scanner.config import AuditConfig, FocusSource
from scanner.model import ScopeGap

ENCODING_SAMPLE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
MAX_HEADER_CHARS = 1024 * 1024

DELIMITER_CANDIDATES = (",", "\t", ";", "|")

NOT_TABULAR_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office document (such as XLS)"),
)


class ExportProblem(Exception):
    """A file that cannot be read as a FOCUS export; the message is the one-line reason."""


@dataclass(frozen=True)
class TextEncoding:
    """A text encoding a CSV export may use: its Python codec and the name notes give it."""

    codec: str
    label: str
    needs_transcoding: bool = True


UTF8 = TextEncoding("utf-8", "UTF-8", needs_transcoding=False)
UTF8_WITH_BOM = TextEncoding("utf-8-sig", "UTF-8 with a byte order mark", needs_transcoding=False)
UTF16_LE_WITH_BOM = TextEncoding("utf-16", "UTF-16 little-endian")
UTF16_BE_WITH_BOM = TextEncoding("utf-16", "UTF-16 big-endian")
UTF16_LE = TextEncoding("utf-16-le", "UTF-16 little-endian without a byte order mark")
UTF16_BE = TextEncoding("utf-16-be", "UTF-16 big-endian without a byte order mark")
WINDOWS_1252 = TextEncoding("cp1252", "Windows-1252")

# The UTF-32 little-endian mark starts with the UTF-16 little-endian one, so the UTF-32 marks
# (not supported) are checked first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, None),
    (codecs.BOM_UTF32_BE, None),
    (codecs.BOM_UTF8, UTF8_WITH_BOM),
    (codecs.BOM_UTF16_LE, UTF16_LE_WITH_BOM),
    (codecs.BOM_UTF16_BE, UTF16_BE_WITH_BOM),
)


@dataclass(frozen=True)
class ExportFile:
    """One export file as found on disk: its format, compression and text encoding."""

    path: Path
    format: str  # "csv" or "parquet"
    compressed: bool = False  # gzip
    encoding: TextEncoding = UTF8
    empty: bool = False


def expand_source(source: FocusSource, config: AuditConfig) -> tuple[list[Path], ScopeGap | None]:
    """Return the files a source names, or the gap when it names none."""
    path = config.resolve(source.path)
    if any(character in str(path) for character in "*?["):
        matches = sorted(Path(match) for match in glob.glob(str(path), recursive=True))
        files = [match for match in matches if match.is_file()]
        if not files:
            return [], ScopeGap(str(path), "no file matches this pattern; check the path in sources.billing.focus")
        return files, None

    if path.is_dir():
        reason = "is a folder; give a file, or a glob such as exports/*.parquet"
        return [], ScopeGap(str(path), reason)
    if not path.exists():
        return [], ScopeGap(str(path), "file not found; check the path in sources.billing.focus")
    return [path], None


def inspect_export(path: Path) -> ExportFile:
    """Detect a file's format, compression and encoding from its first bytes."""
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError as error:
        raise ExportProblem(f"cannot be opened ({error.strerror}); check the file and its permissions") from None

    if not head:
        # A billing export is never 0 bytes, even with no charges it has a header row: an
        # empty file is a failed or interrupted export.
        raise ExportProblem("is empty (0 bytes); export it again, since even a period with no charges has a header row")
    if head.startswith(b"PAR1"):
        return ExportFile(path, "parquet")
    if path.suffix.lower() == ".parquet":
        raise ExportProblem("is named .parquet but is not a Parquet file (no PAR1 header); check the export or rename the file")
    for signature, description in NOT_TABULAR_SIGNATURES:
        if head.startswith(signature):
            raise ExportProblem(
                f"is {description}, not a CSV or Parquet file; export the billing data in FOCUS "
                "format as CSV or Parquet"
            )

    compressed = head.startswith(b"\x1f\x8b")
    try:
        with open_binary(path, compressed) as stream:
            encoding = detect_encoding(stream)
            if encoding is None:
                return ExportFile(path, "csv", compressed=compressed, empty=True)
    except (OSError, EOFError, zlib.error) as error:
        if compressed:
            reason = f"is not a readable gzip file ({error}); check that the download is complete"
            raise ExportProblem(reason) from None
        raise ExportProblem(f"cannot be read ({error}); check the file and its permissions") from None
    return ExportFile(path, "csv", compressed=compressed, encoding=encoding)


def open_binary(path: Path, compressed: bool) -> IO[bytes]:
    if compressed:
        return gzip.open(path, "rb")
    return path.open("rb")


def detect_encoding(stream: IO[bytes]) -> TextEncoding | None:
    """Detect the encoding of CSV text from its byte order mark or its first bytes.

    Without a byte order mark the text is UTF-8 if its first ENCODING_SAMPLE_BYTES decode as
    UTF-8, otherwise Windows-1252, the code page Excel on Windows commonly saves CSV in. Return
    None for an empty stream.
    """
    first = stream.read(CHUNK_BYTES)
    if not first:
        return None
    for mark, encoding in BYTE_ORDER_MARKS:
        if first.startswith(mark):
            if encoding is None:
                raise ExportProblem("is UTF-32 text, which is not supported; save it as UTF-8 CSV")
            return encoding
    if b"\x00" in first:
        return _utf16_without_mark(first)

    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = first
    read = 0
    while chunk and read < ENCODING_SAMPLE_BYTES:
        pending = decoder.getstate()[0]
        if pending or not chunk.isascii():
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return _windows_1252_or_problem(chunk)
        read += len(chunk)
        chunk = stream.read(CHUNK_BYTES)
    return UTF8


def _utf16_without_mark(sample: bytes) -> TextEncoding:
    """Detect UTF-16 without a byte order mark, which differs from binary data in where its zero
    bytes sit.

    FOCUS headers are ASCII, and ASCII in UTF-16 has a zero byte in every other position.
    """
    head = sample[:4096]
    even_zeros = head[0::2].count(0)
    odd_zeros = head[1::2].count(0)
    pairs = len(head) // 2
    if pairs and odd_zeros >= 0.9 * pairs and even_zeros <= 0.1 * pairs:
        return UTF16_LE
    if pairs and even_zeros >= 0.9 * pairs and odd_zeros <= 0.1 * pairs:
        return UTF16_BE
    raise ExportProblem(
        "contains binary data, not CSV text or Parquet; export the billing data in FOCUS format "
        "as CSV or Parquet"
    )


def _windows_1252_or_problem(chunk: bytes) -> TextEncoding:
    try:
        chunk.decode(WINDOWS_1252.codec)
    except UnicodeDecodeError:
        raise ExportProblem(
            "is neither UTF-8, UTF-16 nor Windows-1252 text; save it as UTF-8 CSV"
        ) from None
    return WINDOWS_1252


def transcode_to_utf8(export: ExportFile, workdir: Path) -> Path:
    """Copy a CSV in another encoding to a temporary UTF-8 file, a chunk at a time.

    Line breaks are copied as they are, so lines keep their numbers.
    """
    handle, name = tempfile.mkstemp(prefix="focus-", suffix=".csv", dir=workdir)
    target = Path(name)
    try:
        with (
            open_binary(export.path, export.compressed) as raw,
            io.TextIOWrapper(raw, encoding=export.encoding.codec, errors="strict", newline="") as text,
            open(handle, "w", encoding="utf-8", newline="") as output,
        ):
            while chunk := text.read(CHUNK_BYTES):
                output.write(chunk)
    except UnicodeDecodeError as error:
        target.unlink(missing_ok=True)
        raise ExportProblem(
            f"is not valid {export.encoding.label} text ({error.reason}); save it as UTF-8 CSV"
        ) from None
    return target


def read_csv_header(path: Path, compressed: bool) -> tuple[list[str], str] | None:
    """Return the header's column names and the delimiter, or None for a file with no header.

    The delimiter is the candidate that occurs most often in the header: Excel writes tabs in
    its UTF-16 "Unicode text", and semicolons where the comma is the decimal separator.
    """
    with (
        open_binary(path, compressed) as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text,
    ):
        line = text.readline(MAX_HEADER_CHARS)
    if not line.strip():
        return None
    if not line.endswith(("\n", "\r")) and len(line) >= MAX_HEADER_CHARS:
        raise ExportProblem(
            f"has no line break in its first {MAX_HEADER_CHARS} characters, so it has no CSV header; "
            "export the billing data in FOCUS format as CSV or Parquet"
        )

    delimiter = max(DELIMITER_CANDIDATES, key=line.count)
    names = [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]
    return names, delimiter
