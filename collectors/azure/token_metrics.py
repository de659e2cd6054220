"""Token counts per deployment, caller and day, from Azure Monitor metrics responses.

Azure OpenAI emits ProcessedPromptTokens and GeneratedTokens with a ModelDeploymentName
dimension, but no dimension that names the caller. A gateway adds one: API Management's token
metric policy emits token counts with dimensions such as a subscription, an API or a request
header. Each `token_metrics` entry of the config names the metrics, the deployment dimension and
the caller dimension to read; the response is the one `GET {resource}/providers/Microsoft.Insights/
metrics` returns (and `az monitor metrics list` prints), live or saved to a file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# How many time series one metrics request may return; the API's default is 10, which would drop
# callers of a busy deployment.
MAX_TIME_SERIES = 1000


@dataclass(frozen=True)
class TokenMetricsSpec:
    """One configured source of token counts for one account's deployments."""

    account_id: str
    caller_dimension: str
    resource_id: str | None = None
    file: str | None = None
    namespace: str | None = None
    prompt_metric: str = "ProcessedPromptTokens"
    completion_metric: str = "GeneratedTokens"
    deployment_dimension: str = "ModelDeploymentName"
    callers: dict[str, str] = field(default_factory=dict)

    @property
    def metric_names(self) -> tuple[str, str]:
        return (self.prompt_metric, self.completion_metric)

    def query(self, start: date, end: date) -> dict[str, str]:
        """The query parameters of a live metrics request for days `start` up to `end`."""
        parameters = {
            "metricnames": ",".join(self.metric_names),
            "timespan": f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T00:00:00Z",
            "interval": "P1D",
            "aggregation": "Total",
            "$filter": f"{self.deployment_dimension} eq '*' and {self.caller_dimension} eq '*'",
            "top": str(MAX_TIME_SERIES),
        }
        if self.namespace:
            parameters["metricnamespace"] = self.namespace
        return parameters

    def owner_of(self, caller: str) -> str | None:
        """The owner a caller value stands for: the configured mapping when there is one,
        otherwise the value itself. An empty caller, or one the mapping lacks, has none."""
        if not caller:
            return None
        if self.callers:
            lowered = {key.lower(): value for key, value in self.callers.items()}
            return lowered.get(caller.lower())
        return caller


@dataclass
class TokenUsage:
    """Tokens (prompt plus completion) by deployment name, day and caller value."""

    by_deployment_day: dict[tuple[str, date], dict[str, Decimal]] = field(default_factory=dict)

    def callers(self, deployment: str, day: date) -> dict[str, Decimal]:
        return self.by_deployment_day.get((deployment.lower(), day), {})

    def deployments(self) -> set[str]:
        return {name for name, _ in self.by_deployment_day}


class MetricsUnreadable(Exception):
    """A metrics response without the shape Azure Monitor returns."""


def parse_metrics(response: Any, spec: TokenMetricsSpec) -> TokenUsage:
    """Sum the configured prompt and completion metrics per deployment, day and caller."""
    if not isinstance(response, dict) or not isinstance(response.get("value"), list):
        raise MetricsUnreadable("expected an Azure Monitor metrics response with a 'value' list")

    wanted = {name.lower() for name in spec.metric_names}
    totals: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for metric in response["value"]:
        name = metric.get("name") or {}
        metric_name = str(name.get("value") if isinstance(name, dict) else name).lower()
        if metric_name not in wanted:
            continue
        for series in metric.get("timeseries") or []:
            dimensions = _dimensions(series)
            deployment = dimensions.get(spec.deployment_dimension.lower(), "").lower()
            if not deployment:
                continue
            caller = dimensions.get(spec.caller_dimension.lower(), "")
            for point in series.get("data") or []:
                total = point.get("total")
                if total is None:
                    continue
                day = _day(point.get("timeStamp"))
                totals[(deployment, day)][caller] += Decimal(str(total))

    return TokenUsage({key: dict(value) for key, value in totals.items()})


def _dimensions(series: dict[str, Any]) -> dict[str, str]:
    found = {}
    for entry in series.get("metadatavalues") or []:
        name = entry.get("name") or {}
        key = str(name.get("value") if isinstance(name, dict) else name).lower()
        found[key] = str(entry.get("value") or "")
    return found


def _day(stamp: Any) -> date:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date()
    except ValueError:
        raise MetricsUnreadable(f"time stamp {stamp!r} is not an ISO 8601 time") from None
