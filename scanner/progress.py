"""Progress on a terminal while collectors run; silent in CI, in pipes and with --quiet."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from collectors.contract import Collector, ProgressCallback
from scanner.engine import CollectorProgress
from scanner.model import CollectorOutcome


def progress_wanted(enabled: bool) -> bool:
    """Show progress only to a person: stderr is a terminal and no CI system set `CI`."""
    return enabled and sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def terminal_progress(enabled: bool) -> Iterator[CollectorProgress]:
    """Yield engine callbacks that draw one rich progress bar per collector."""
    if not progress_wanted(enabled):
        yield CollectorProgress()
        return

    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )

    def started(collector: Collector) -> ProgressCallback:
        task = bars.add_task(collector.name, total=None)

        def update(scope: str, completed: int, total: int | None) -> None:
            bars.update(task, completed=completed, total=total, description=f"{collector.name} {scope}")

        return update

    def finished(collector: Collector, outcome: CollectorOutcome) -> None:
        bars.console.print(f"{collector.name}: {outcome.status.value}", markup=False, highlight=False)

    with bars:
        yield CollectorProgress(started=started, finished=finished)
