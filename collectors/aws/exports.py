"""Bedrock model invocation log files on disk, as a collector of their own: an auditor may hold
exported logs without any API access."""

from __future__ import annotations

from collectors.contract import CollectContext, SourceKind
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap

from collectors.aws.invocation_logs import read_files


class InvocationLogFilesCollector:
    name = "aws.invocation_logs"
    source = SourceKind.EXPORT

    def __init__(self, patterns: tuple[str, ...]):
        self.patterns = patterns

    def describe(self) -> str:
        return f"Bedrock model invocation logs from {len(self.patterns)} file pattern(s)"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        tally, files_read, problems = read_files(self.patterns)
        outcome.scopes_seen.extend(files_read)
        for problem in problems:
            location, _, reason = problem.partition(": ")
            outcome.scopes_not_seen.append(ScopeGap(location, reason))
            context.logger.warning("%s: %s: skipped, %s", self.name, location, reason)
        if tally.skipped:
            outcome.skipped_row_count = tally.skipped
            outcome.notes.append(f"{tally.skipped} records were not Bedrock invocation log records and were left out")

        assets = tally.assets()
        context.logger.info("%s: %d files, %d records, %d models", self.name, len(files_read), tally.records, len(assets))
        return CollectorResult(outcome, assets=assets)
