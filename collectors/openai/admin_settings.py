"""Settings the OpenAI and Anthropic collectors read the same way: the report window and retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from collectors.openai.admin_http import RetryPolicy
from scanner.errors import InputError

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ReportWindow:
    """The days whose usage and cost are read: from `start` (inclusive) to `end` (exclusive), UTC."""

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def report_window(family: str, settings: dict[str, Any], today: date) -> ReportWindow:
    """Build the window from `start`, `end` and `days`: by default the `days` whole days before today."""
    end_day = _date_setting(family, settings, "end") or today
    start_day = _date_setting(family, settings, "start") or end_day - timedelta(days=settings.get("days", DEFAULT_WINDOW_DAYS))
    if start_day >= end_day:
        raise InputError(
            f"sources.{family}: start {start_day.isoformat()} is not before end {end_day.isoformat()}; "
            "end is exclusive, so give a later end or an earlier start"
        )
    return ReportWindow(_midnight(start_day), _midnight(end_day))


def retry_policy(settings: dict[str, Any]) -> RetryPolicy:
    return RetryPolicy(max_wait_seconds=float(settings.get("max_retry_wait_seconds", RetryPolicy.max_wait_seconds)))


def _date_setting(family: str, settings: dict[str, Any], key: str) -> date | None:
    text = settings.get(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"sources.{family}.{key}: invalid date {text!r}; use YYYY-MM-DD") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)
