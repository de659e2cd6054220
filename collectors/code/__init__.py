"""Code: AI keys, AI SDK calls and the AI inventory of local working trees, git history and
GitHub organisations.

This package stays light because the CLI imports it at start-up: the collector, the scanner and
PyGithub are imported only when a collector is built or a command runs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from collectors.code.command import code
from collectors.contract import Collector
from scanner.config import AuditConfig
from scanner.model import CollectorOutcome

COMMANDS = [code]


def build_collectors(config: AuditConfig) -> list[Collector]:
    if "code" not in config.sources:
        return []
    from collectors.code.collector import CodeCollector
    from collectors.code.settings import code_settings

    return [CodeCollector(code_settings(config))]


def record_snapshot(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Record the GitHub organisations of `sources.code`: each repository list as the API
    returned it and each repository's tarball, in the layout `sources.code.snapshot` reads."""
    from collectors.code.github import ScopeUnavailable, list_live, record_listing
    from collectors.code.settings import code_settings
    from scanner.model import ScopeGap

    settings = code_settings(config)
    outcome = CollectorOutcome(collector="code", source="live")
    if not settings.organisations:
        outcome.errors.append("sources.code names no GitHub organisation; local paths need no snapshot")
        return outcome
    for organisation in settings.organisations:
        try:
            listing = list_live(organisation, logger)
        except ScopeUnavailable as gap:
            logger.warning("code: github %s: not recorded: %s", organisation.organization, gap)
            outcome.scopes_not_seen.append(ScopeGap(f"github:{organisation.organization}", str(gap)))
            continue
        for repository, problem in record_listing(listing, out_dir):
            if problem is None:
                outcome.scopes_seen.append(repository)
            else:
                logger.warning("code: %s: not recorded: %s", repository, problem)
                outcome.scopes_not_seen.append(ScopeGap(repository, problem))
    return outcome
