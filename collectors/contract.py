"""The collector contract: what every source family implements and what the engine expects."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Callable, Protocol

from scanner.model import CollectorResult


class SourceKind(str, enum.Enum):
    """The kind of source a collector reads from."""

    LIVE = "live"  # the provider's API, read-only calls only
    SNAPSHOT = "snapshot"  # a folder of saved API responses, parsed exactly like live ones
    EXPORT = "export"  # a billing or expense export file
    NONE = "none"  # nothing to read: the collector only notes where a provider's spend must come from


ProgressCallback = Callable[[str, int, int | None], None]


def _ignore_progress(scope: str, completed: int, total: int | None) -> None:
    return None


@dataclass
class CollectContext:
    """The logger (named after the collector) and the progress callback the engine passes to a collector.

    `progress(scope, completed, total)` is called as scopes finish; `total` may be None when the
    collector cannot know it in advance.
    """

    logger: logging.Logger
    progress: ProgressCallback = field(default=_ignore_progress)


class Collector(Protocol):
    """A source of assets and spend lines.

    `collect` never raises for a problem confined to one scope (a file, an account, a region): it
    records the scope in `outcome.scopes_not_seen` with a one-line reason and goes on. It raises
    `scanner.errors.InputError` only when its whole input is unusable.
    """

    name: str
    source: SourceKind

    def describe(self) -> str:
        """Return one line naming what the collector reads, for logs and reports."""
        ...

    def collect(self, context: CollectContext) -> CollectorResult: ...
