"""Read Bedrock model invocation logs and count, per account, region and modelId, the calls and
tokens they record, so that system-profile and bare-model use is measured.

A record is the JSON object Bedrock writes for each call (`schemaType` "ModelInvocationLog", with
`accountId`, `region`, `modelId`, `operation`, `input.inputTokenCount`,
`output.outputTokenCount`). Bedrock delivers them to S3 as gzip files of JSON Lines under
`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`, and to CloudWatch Logs
as one event per record. Local files may be either form, or a `get-log-events` output.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from scanner.model import Asset, SourceRef

from collectors.aws import kinds
from collectors.aws.api import decompress
from collectors.aws.bedrock import iso_utc
from collectors.aws.catalogue import classify_model_id, short_model_id

LOG_SCHEMA = "ModelInvocationLog"


@dataclass
class ModelUsage:
    """Calls and tokens of one modelId in one account and region."""

    account: str
    region: str
    model_id: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    operations: dict[str, int] = field(default_factory=dict)
    identities: dict[str, int] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)


class UsageTally:
    """Model usage summed over any number of log records."""

    def __init__(self) -> None:
        self.usage: dict[tuple[str, str, str], ModelUsage] = {}
        self.records = 0
        self.skipped = 0

    def add(self, record: dict[str, Any], source: str) -> bool:
        """Count one record; return False (and count it as skipped) when it is not an invocation
        log record."""
        model_id = record.get("modelId")
        if record.get("schemaType", LOG_SCHEMA) != LOG_SCHEMA or not isinstance(model_id, str) or not model_id:
            self.skipped += 1
            return False

        key = (str(record.get("accountId") or ""), str(record.get("region") or ""), model_id)
        usage = self.usage.get(key)
        if usage is None:
            usage = self.usage[key] = ModelUsage(*key)

        usage.calls += 1
        input_block = record.get("input") or {}
        output_block = record.get("output") or {}
        usage.input_tokens += _count(input_block.get("inputTokenCount"))
        usage.cache_read_input_tokens += _count(input_block.get("cacheReadInputTokenCount"))
        usage.cache_write_input_tokens += _count(input_block.get("cacheWriteInputTokenCount"))
        usage.output_tokens += _count(output_block.get("outputTokenCount"))

        timestamp = _timestamp(record.get("timestamp"))
        if timestamp:
            usage.first_seen = min(filter(None, [usage.first_seen, timestamp]))
            usage.last_seen = max(filter(None, [usage.last_seen, timestamp]))
        operation = str(record.get("operation") or "unknown")
        usage.operations[operation] = usage.operations.get(operation, 0) + 1
        identity = (record.get("identity") or {}).get("arn")
        if identity:
            usage.identities[identity] = usage.identities.get(identity, 0) + 1
        usage.sources.add(source)
        self.records += 1
        return True

    def add_text(self, text: str, source: str) -> None:
        for record in parse_records(text):
            self.add(record, source)

    def merge(self, other: UsageTally) -> None:
        for key, usage in other.usage.items():
            mine = self.usage.get(key)
            if mine is None:
                self.usage[key] = usage
                continue
            mine.calls += usage.calls
            mine.input_tokens += usage.input_tokens
            mine.output_tokens += usage.output_tokens
            mine.cache_read_input_tokens += usage.cache_read_input_tokens
            mine.cache_write_input_tokens += usage.cache_write_input_tokens
            mine.first_seen = min(filter(None, [mine.first_seen, usage.first_seen]), default=None)
            mine.last_seen = max(filter(None, [mine.last_seen, usage.last_seen]), default=None)
            for name, count in usage.operations.items():
                mine.operations[name] = mine.operations.get(name, 0) + count
            for name, count in usage.identities.items():
                mine.identities[name] = mine.identities.get(name, 0) + count
            mine.sources |= usage.sources
        self.records += other.records
        self.skipped += other.skipped

    def assets(self, system_profile_ids: Iterable[str] = ()) -> list[Asset]:
        known = frozenset(system_profile_ids)
        return [usage_asset(usage, known) for _, usage in sorted(self.usage.items())]


def usage_asset(usage: ModelUsage, system_profile_ids: frozenset[str]) -> Asset:
    top_identities = sorted(usage.identities.items(), key=lambda item: (-item[1], item[0]))[:5]
    return Asset(
        kind=kinds.MODEL_USAGE,
        id=f"{usage.account}/{usage.region}/invocations/{usage.model_id}",
        provider="aws",
        scope=usage.account,
        name=short_model_id(usage.model_id),
        attributes={
            "account": usage.account,
            "region": usage.region,
            "model_id": usage.model_id,
            "model_kind": classify_model_id(usage.model_id, system_profile_ids),
            "calls": usage.calls,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "cache_write_input_tokens": usage.cache_write_input_tokens,
            "first_seen": usage.first_seen,
            "last_seen": usage.last_seen,
            "operations": dict(sorted(usage.operations.items())),
            "top_identities": [{"arn": arn, "calls": calls} for arn, calls in top_identities],
        },
        source=SourceRef(", ".join(sorted(usage.sources)), row_count=usage.calls),
    )


def parse_records(text: str) -> Iterator[dict[str, Any]]:
    """Yield the log records of a file's text: JSON Lines, one JSON record, a JSON list of
    records, or a CloudWatch `get-log-events` output whose event messages are records."""
    stripped = text.strip()
    if not stripped:
        return
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError:
        document = None

    if document is None:
        for line in stripped.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield {"schemaType": "unreadable"}
                continue
            yield from _records_in(record)
        return
    yield from _records_in(document)


def _records_in(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, list):
        for item in document:
            yield from _records_in(item)
    elif isinstance(document, dict) and isinstance(document.get("events"), list):
        for event in document["events"]:
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, str):
                try:
                    yield from _records_in(json.loads(message))
                except json.JSONDecodeError:
                    yield {"schemaType": "unreadable"}
    elif isinstance(document, dict):
        yield document


def read_files(patterns: Iterable[str]) -> tuple[UsageTally, list[str], list[str]]:
    """Tally every file the patterns match. Return the tally, the files read, and the patterns or
    files that could not be read, each with its reason."""
    tally = UsageTally()
    files_read: list[str] = []
    problems: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            problems.append(f"{pattern}: no file matches")
            continue
        for name in matches:
            path = Path(name)
            try:
                text = decompress(path.read_bytes()).decode("utf-8")
            except FileNotFoundError:
                problems.append(f"{path}: file not found")
                continue
            except (OSError, UnicodeDecodeError, EOFError) as error:
                problems.append(f"{path}: cannot read ({error})")
                continue
            tally.add_text(text, str(path))
            files_read.append(str(path))
    return tally, files_read, problems


def s3_log_prefix(key_prefix: str | None, account: str, region: str) -> str:
    base = f"{key_prefix.strip('/')}/" if key_prefix and key_prefix.strip("/") else ""
    return f"{base}AWSLogs/{account}/BedrockModelInvocationLogs/{region}/"


def is_record_object(key: str) -> bool:
    """Whether an S3 key contains log records. Large request and response bodies are stored apart
    under a `data/` folder and carry no usage."""
    return "/data/" not in key and (key.endswith(".json.gz") or key.endswith(".json"))


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _timestamp(value: Any) -> str | None:
    try:
        return iso_utc(value)
    except (TypeError, ValueError):
        return None
