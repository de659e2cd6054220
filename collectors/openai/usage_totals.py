"""Usage over the report window, totalled per API key and per project or workspace.

Usage is not money: it shows which keys and models were in use, which the key-matching rules and
the reports read from the key and project assets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class UsageTotals:
    """Requests and tokens of one key, project or workspace, and the models and days they used.

    `requests` stays None when no report read counts requests (Anthropic's usage report counts tokens only).
    """

    requests: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    models: set[str] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)
    first_day: datetime | None = None
    last_day: datetime | None = None

    def add(self, report: str, day: datetime, model: str | None, requests: int | None, input_tokens: int, output_tokens: int) -> None:
        """Add one usage result; `requests` is None for reports that count no requests."""
        if requests is not None:
            self.requests = (self.requests or 0) + requests
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.reports.add(report)
        if model:
            self.models.add(model)
        if self.first_day is None or day < self.first_day:
            self.first_day = day
        if self.last_day is None or day > self.last_day:
            self.last_day = day

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "models": sorted(self.models),
            "reports": sorted(self.reports),
            "first_day": self.first_day.date().isoformat() if self.first_day else None,
            "last_day": self.last_day.date().isoformat() if self.last_day else None,
        }


def whole_number(value: Any) -> int:
    """Read a token or request count, counting anything that is not a whole number as zero."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    return 0
