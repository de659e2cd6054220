"""The Cohere collector: an outcome with a note and nothing else, because Cohere offers no API
that lists an organisation's keys, usage or cost."""

from __future__ import annotations

from collectors.contract import CollectContext, SourceKind
from scanner.config import AuditConfig
from scanner.model import CollectorOutcome, CollectorResult

NOTE = (
    "Cohere has no admin, usage or cost API, so its spend can only come from billing data "
    "(Cohere models billed through Amazon Bedrock or Azure appear in those billing exports) "
    "or from expense and card exports of direct Cohere accounts."
)


class CohereCollector:
    """Reports, without reading anything, where Cohere spend has to come from."""

    name = "cohere"
    source = SourceKind.NONE

    def __init__(self, config: AuditConfig):
        self.config = config

    def describe(self) -> str:
        return "Cohere, which has no admin API: nothing to read"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value, notes=[NOTE])
        context.logger.info("cohere: no admin API to read; its spend can only come from billing or expense data")
        return CollectorResult(outcome)
