"""The data model every collector, rule and report shares.

Money is `Decimal` with its currency and is never summed across currencies. Times are
timezone-aware UTC. Secrets never reach this model: collectors store only a redacted form and a
fingerprint.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


class Severity(enum.IntEnum):
    """The urgency of a finding, ordered so that `>=` compares urgency."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"invalid severity {text!r}: use one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class OutcomeStatus(str, enum.Enum):
    """Whether a collector saw everything it was asked to see."""

    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True)
class SourceRef:
    """The origin of a record: a file and its first row, or an API scope and call."""

    location: str
    row: int | None = None
    row_count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "row": self.row, "row_count": self.row_count}


@dataclass(frozen=True)
class Tags:
    """Tags or labels with keys normalised for matching, each original key kept beside it."""

    values: dict[str, str] = field(default_factory=dict)
    original_keys: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        return self.values.get(normalise_tag_key(key))

    def __bool__(self) -> bool:
        return bool(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(sorted(self.values.items())),
            "original_keys": dict(sorted(self.original_keys.items())),
        }

    @classmethod
    def from_mapping(cls, raw: dict[str, Any] | None) -> Tags:
        """Build tags from a provider's key/value map, dropping empty keys.

        When two original keys normalise to the same key, the first one in sorted order wins, so
        the result does not depend on the order the provider listed them in.
        """
        values: dict[str, str] = {}
        original_keys: dict[str, str] = {}
        for original in sorted(raw or {}):
            key = normalise_tag_key(original)
            if not key or key in values:
                continue
            value = raw[original]
            values[key] = "" if value is None else str(value).strip()
            original_keys[key] = original
        return cls(values, original_keys)


def decimal_text(value: Decimal) -> str:
    """Write `value` in positional notation with every digit it holds (`1E-7` becomes
    `0.0000001`), the form money takes in every output."""
    return format(value, "f")


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """Write a count with its noun in the singular or the plural, such as `1 scope` or `3 scopes`."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural or noun + 's'}"


def money_text(amount: Decimal, currency: str) -> str:
    """Write an amount for a sentence a person reads, such as `USD 2,068.74`: rounded half-up to
    the cent. Reports and evidence keep the exact amount."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{currency} {cents:,.2f}"


def normalise_tag_key(key: str) -> str:
    """Return the matching form of a tag key: `Cost Center`, `costCenter`, `user:cost_center`
    all become `cost-center`.

    AWS prefixes user-defined cost-allocation tags with `user:` in its billing exports, so that
    prefix is dropped; `aws:` system tags keep theirs.
    """
    text = key.strip()
    if text.lower().startswith("user:"):
        text = text[5:]

    words: list[str] = []
    current = ""
    for index, char in enumerate(text):
        if not char.isalnum() and char != ":":
            if current:
                words.append(current)
            current = ""
            continue
        starts_word = (
            char.isupper()
            and current
            and (current[-1].islower() or (index + 1 < len(text) and text[index + 1].islower()))
        )
        if starts_word:
            words.append(current)
            current = ""
        current += char
    if current:
        words.append(current)
    return "-".join(word.lower() for word in words)


@dataclass
class Asset:
    """One thing that can spend money on AI or grant access to it."""

    kind: str
    id: str
    provider: str
    scope: str
    name: str | None = None
    tags: Tags = field(default_factory=Tags)
    attributes: dict[str, Any] = field(default_factory=dict)
    source: SourceRef | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "provider": self.provider,
            "scope": self.scope,
            "name": self.name,
            "tags": self.tags.to_dict(),
            "attributes": self.attributes,
            "source": self.source.to_dict() if self.source else None,
        }


@dataclass
class SpendLine:
    """AI spend for one attribution key: one provider, account, resource, model, tag set and day.

    Billing collectors aggregate raw export rows into these groups before any Python object is
    made, so `source.row_count` is the number of export rows one line stands for.
    """

    amount: Decimal
    currency: str
    period_start: datetime
    period_end: datetime
    provider: str
    service: str
    account: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    model: str | None = None
    region: str | None = None
    category: str | None = None
    subcategory: str | None = None
    charge_category: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    tags: Tags = field(default_factory=Tags)
    source: SourceRef | None = None
    # False where the provider gives no way to tag the spend (OpenAI projects, Anthropic
    # workspaces, card charges), so rules about missing tags do not judge it.
    taggable: bool = True

    @property
    def key(self) -> str:
        """A stable identifier of the attribution key, used to name the line in the graph."""
        parts = [
            self.provider,
            self.account or "",
            self.service,
            self.resource_id or "",
            self.model or "",
            self.region or "",
            self.category or "",
            self.subcategory or "",
            self.charge_category or "",
            self.unit or "",
            self.currency,
            self.period_start.isoformat(),
            repr(sorted(self.tags.values.items())),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "amount": decimal_text(self.amount),
            "currency": self.currency,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "provider": self.provider,
            "service": self.service,
            "account": self.account,
            "resource_id": self.resource_id,
            "resource_name": self.resource_name,
            "model": self.model,
            "region": self.region,
            "category": self.category,
            "subcategory": self.subcategory,
            "charge_category": self.charge_category,
            "quantity": None if self.quantity is None else decimal_text(self.quantity),
            "unit": self.unit,
            "tags": self.tags.to_dict(),
            "taggable": self.taggable,
            "source": self.source.to_dict() if self.source else None,
        }


@dataclass(frozen=True)
class Location:
    """A place in a file, for findings in code or in an export."""

    path: str
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column}


@dataclass
class Suppression:
    """A user's decision to accept a finding for a while, with the reason."""

    reason: str
    expires: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "expires": self.expires}


@dataclass
class Finding:
    """A problem a rule found with one asset or spend line."""

    rule_id: str
    severity: Severity
    subject: str
    message: str
    remediation: str
    evidence: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    suppression: Suppression | None = None

    @property
    def fingerprint(self) -> str:
        """A hash of the rule and what it is about, stable across runs and independent of the
        message wording, so that baselines, suppressions and diffs survive rewording."""
        parts = [self.rule_id, self.subject]
        if self.location:
            parts.append(self.location.path)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "severity": self.severity.label,
            "subject": self.subject,
            "message": self.message,
            "remediation": self.remediation,
            "evidence": self.evidence,
            "location": self.location.to_dict() if self.location else None,
            "suppressed": self.suppression.to_dict() if self.suppression else None,
        }


@dataclass(frozen=True)
class ScopeGap:
    """A scope a collector was asked to see and could not, with the reason in one line."""

    scope: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"scope": self.scope, "reason": self.reason}


@dataclass(frozen=True)
class SkippedRow:
    """An input row a collector could not read and left out."""

    location: str
    row: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "row": self.row, "reason": self.reason}


@dataclass
class CollectorOutcome:
    """The result of one collector's run: what it saw, what it could not see, and why."""

    collector: str
    source: str
    status: OutcomeStatus = OutcomeStatus.OK
    scopes_seen: list[str] = field(default_factory=list)
    scopes_not_seen: list[ScopeGap] = field(default_factory=list)
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    skipped_row_count: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    asset_count: int = 0
    spend_line_count: int = 0

    def settle(self) -> None:
        """Set the status from what was seen: failed when nothing was, partial when something
        was missed or rows were skipped."""
        if self.errors and not self.scopes_seen:
            self.status = OutcomeStatus.FAILED
        elif self.scopes_not_seen and not self.scopes_seen:
            self.status = OutcomeStatus.FAILED
        elif self.scopes_not_seen or self.errors or self.skipped_row_count:
            self.status = OutcomeStatus.PARTIAL
        else:
            self.status = OutcomeStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "collector": self.collector,
            "source": self.source,
            "status": self.status.value,
            "scopes_seen": self.scopes_seen,
            "scopes_not_seen": [gap.to_dict() for gap in self.scopes_not_seen],
            "skipped_rows": [row.to_dict() for row in self.skipped_rows],
            "skipped_row_count": self.skipped_row_count,
            "errors": self.errors,
            "notes": self.notes,
            "asset_count": self.asset_count,
            "spend_line_count": self.spend_line_count,
        }


@dataclass
class CollectorResult:
    """Everything one collector returns: its outcome, assets and spend lines."""

    outcome: CollectorOutcome
    assets: list[Asset] = field(default_factory=list)
    spend_lines: list[SpendLine] = field(default_factory=list)


@dataclass
class Inventory:
    """The whole estate one audit run saw, which rules and the coverage graph work on."""

    assets: list[Asset] = field(default_factory=list)
    spend_lines: list[SpendLine] = field(default_factory=list)
    outcomes: list[CollectorOutcome] = field(default_factory=list)

    def add(self, result: CollectorResult) -> None:
        result.outcome.asset_count = len(result.assets)
        result.outcome.spend_line_count = len(result.spend_lines)
        self.assets.extend(result.assets)
        self.spend_lines.extend(result.spend_lines)
        self.outcomes.append(result.outcome)

    def assets_of_kind(self, kind: str) -> list[Asset]:
        return [asset for asset in self.assets if asset.kind == kind]

    @property
    def complete(self) -> bool:
        return all(outcome.status is OutcomeStatus.OK for outcome in self.outcomes)
