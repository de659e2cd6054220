"""The JSON result: the complete record of one audit run, and the loader that reads one back.

Every other report is rendered from this dict, so `shadowmap report` can render a stored run
again. Money is a decimal string in positional notation with every digit the `Decimal` held.
Times are ISO 8601 in UTC with a `Z` suffix. Object keys are written sorted, and each list's
order is stated in `result.schema.json`, which describes the whole shape.
"""

from __future__ import annotations

import enum
import functools
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from scanner.coverage import REASONS, Attribution, Coverage, CurrencyCoverage
from scanner.errors import InputError
from scanner.model import Finding, Severity, SpendLine

if TYPE_CHECKING:
    from rules.contract import RuleResult
    from scanner.engine import AuditRun

SCHEMA_VERSION = "1"
TOOL_NAME = "shadowmap"
SEVERITY_ORDER = [severity.label for severity in sorted(Severity, reverse=True)]

# A jsonschema message can quote a whole sub-document, so it is cut to keep the error one line.
MAX_ERROR_DETAIL = 200


def build_result(run: AuditRun) -> dict[str, Any]:
    """Build the JSON result of `run`: plain dicts, lists, strings, numbers, booleans and None."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": run.tool_version},
        "run": _run_section(run),
        "coverage": _coverage_section(run.coverage),
        "findings": _findings_section(run.findings),
        "rules": _rules_section(run.rule_results),
        "inventory": _inventory_section(run),
        "collectors": [_json_value(outcome.to_dict()) for outcome in run.inventory.outcomes],
    }


def dumps_result(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(run: AuditRun, path: Path) -> dict[str, Any]:
    """Write the JSON result of `run` to `path` and return it, for the other renderers."""
    result = build_result(run)
    Path(path).write_text(dumps_result(result), encoding="utf-8")
    return result


def decimal_text(value: Decimal) -> str:
    """Write `value` in positional notation with every digit it holds: `1E-7` becomes
    `0.0000001`, and `1.50` stays `1.50`."""
    if not value.is_finite():
        raise ValueError(f"cannot write the non-finite amount {value} to the JSON result")
    return format(value, "f")


def utc_text(moment: datetime) -> str:
    """Write `moment` as ISO 8601 in UTC to the second, such as `2025-03-01T12:00:00Z`."""
    if moment.tzinfo is None:
        # The model requires aware UTC times. Reading a naive one as local time would shift it
        # by the offset of whichever machine writes the report.
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _run_section(run: AuditRun) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "label": run.label,
        "started_at": utc_text(run.started_at),
        "finished_at": utc_text(run.finished_at),
        "organisation": run.config.organisation,
        "config_path": str(run.config.path) if run.config.path else None,
        "complete": run.inventory.complete,
    }


def _coverage_section(coverage: Coverage) -> dict[str, Any]:
    return {
        currency: _currency_block(coverage.currencies[currency])
        for currency in sorted(coverage.currencies)
    }


def _currency_block(figures: CurrencyCoverage) -> dict[str, Any]:
    """Take the core's figures for one currency, rewrite its money in positional notation and
    add the sentence of every reason code it uses."""
    block = figures.to_dict()
    for key in ("total", "attributed", "unattributed"):
        block[key] = _plain(block[key])

    block["period"] = {
        "start": utc_text(figures.period_start) if figures.period_start else None,
        "end": utc_text(figures.period_end) if figures.period_end else None,
    }
    block["by_reason"] = {code: _plain(amount) for code, amount in block["by_reason"].items()}
    block["by_owner"] = {owner: _plain(amount) for owner, amount in block["by_owner"].items()}
    for name in ("by_provider", "by_service", "by_model", "by_source"):
        block[name] = {key: _plain_breakdown(breakdown) for key, breakdown in block[name].items()}
    block["largest_unattributed"] = [
        {**source, "amount": _plain(source["amount"])} for source in block["largest_unattributed"]
    ]

    codes = set(block["by_reason"]) | {source["reason"] for source in block["largest_unattributed"]}
    block["reasons"] = {code: reason_sentence(code) for code in sorted(codes)}
    return block


def reason_sentence(code: str) -> str:
    return REASONS.get(code, f"No description is registered for the reason code {code!r}.")


def _plain(text: str) -> str:
    return decimal_text(Decimal(text))


def _plain_breakdown(breakdown: dict[str, Any]) -> dict[str, Any]:
    return {
        **breakdown,
        "total": _plain(breakdown["total"]),
        "attributed": _plain(breakdown["attributed"]),
        "unattributed": _plain(breakdown["unattributed"]),
    }


def _findings_section(findings: list[Finding]) -> dict[str, Any]:
    """List every finding, most severe first, and count the active (not suppressed) ones per
    severity. Suppressed findings stay in the list, marked, and are counted apart."""
    ordered = sorted(findings, key=lambda f: (-f.severity, f.rule_id, f.subject, f.fingerprint))
    items = [_json_value(finding.to_dict()) for finding in ordered]
    active = [item for item in items if item["suppressed"] is None]

    by_severity = dict.fromkeys(SEVERITY_ORDER, 0)
    for item in active:
        by_severity[item["severity"]] += 1

    summary = {
        "total": len(items),
        "active": len(active),
        "suppressed": len(items) - len(active),
        "by_severity": by_severity,
    }
    return {"summary": summary, "items": items}


def _rules_section(rule_results: list[RuleResult]) -> list[dict[str, Any]]:
    ordered = sorted(rule_results, key=lambda result: result.rule.id)
    return [
        {**result.rule.to_dict(), "status": result.status.value, "finding_count": len(result.findings)}
        for result in ordered
    ]


def _inventory_section(run: AuditRun) -> dict[str, Any]:
    if len(run.coverage.attributions) != len(run.inventory.spend_lines):
        raise ValueError(
            f"the coverage contains {len(run.coverage.attributions)} spend lines but the inventory "
            f"contains {len(run.inventory.spend_lines)}; build the coverage from the same inventory"
        )
    return {
        "assets": [_json_value(asset.to_dict()) for asset in run.inventory.assets],
        "spend_lines": [_spend_line(line, attribution) for line, attribution in run.coverage.attributions],
    }


def _spend_line(line: SpendLine, attribution: Attribution) -> dict[str, Any]:
    entry = _json_value(line.to_dict())
    entry["amount"] = decimal_text(line.amount)
    entry["quantity"] = None if line.quantity is None else decimal_text(line.quantity)
    entry["period_start"] = utc_text(line.period_start)
    entry["period_end"] = utc_text(line.period_end)
    entry["attribution"] = {
        "owner": attribution.owner,
        "via": attribution.via,
        "reason": attribution.reason,
    }
    return entry


def _json_value(value: Any) -> Any:
    """Convert free-form values (asset attributes, finding evidence) into JSON types.

    Raise TypeError for a type with no faithful JSON form rather than writing its repr.
    """
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json_value(item) for item in value), key=repr)
    raise TypeError(f"cannot write a value of type {type(value).__name__} to the JSON result")


@functools.cache
def load_schema() -> dict[str, Any]:
    text = resources.files("reports").joinpath("result.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_result(path: Path | str) -> dict[str, Any]:
    """Read a stored JSON result and check it against `result.schema.json`.

    Raise InputError with one line naming the file when it cannot be read, is not a shadowmap
    result, has another schema version or does not match the schema.
    """
    path = Path(path)
    document = _parse_json(_read_text(path), path)

    tool = document.get("tool") if isinstance(document, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != TOOL_NAME:
        raise InputError(
            f"{path}: not a shadowmap result (no tool.name {TOOL_NAME!r} at the top level); "
            "pass a result file written by `shadowmap scan`"
        )

    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{path}: shadowmap result schema version {version!r} is not supported; "
            f"this version of shadowmap reads version {SCHEMA_VERSION!r}"
        )

    _validate(document, path)
    return document


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: result file not found; pass an existing file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a shadowmap result (the file is not UTF-8 text)") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read the result file ({error.strerror or error})") from None


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: not a shadowmap result (invalid JSON at line {error.lineno} "
            f"column {error.colno}: {error.msg})"
        ) from None


def _validate(document: dict[str, Any], path: Path) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    raise InputError(f"{path}: invalid shadowmap result at {error.json_path}: {_describe(error)}")


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        detail = f"expected {error.validator_value}, got {type(error.instance).__name__}"
    elif error.validator == "required":
        detail = error.message.replace("is a required property", "is missing")
    elif error.validator == "pattern":
        detail = f"{error.instance!r} does not have the expected form"
    else:
        detail = error.message

    detail = " ".join(detail.split())
    if len(detail) > MAX_ERROR_DETAIL:
        detail = detail[: MAX_ERROR_DETAIL - 3] + "..."
    return detail
