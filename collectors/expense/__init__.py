"""Expense collectors: AI charges in card and expense exports (CSV and XLSX) of American Express,
Brex, Ramp, Expensify, SAP Concur and other card issuers, matched against the AI vendor catalogue
in rules/catalogues/ai_vendors.yaml.

Also brings the `shadowmap expenses` command. Both are imported only when used, so that the CLI
starts without reading the catalogue.
"""

from __future__ import annotations

from typing import Any

from collectors.contract import Collector
from scanner.config import AuditConfig


def build_collectors(config: AuditConfig) -> list[Collector]:
    """Build the expense collector when the config names export files under sources.expense.files."""
    settings = config.sources.get("expense") or {}
    if not settings.get("files"):
        return []
    from collectors.expense.collector import ExpenseCollector  # noqa: PLC0415 - imported only when configured

    return [ExpenseCollector(config)]


def __getattr__(name: str) -> Any:
    # COMMANDS is built on first access, when the CLI adds the family's commands.
    if name == "COMMANDS":
        from collectors.expense.command import expenses  # noqa: PLC0415

        return [expenses]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
