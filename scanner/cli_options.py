"""Options every shadowmap command shares: how much to print, logging, and how an input error
ends a command (one line on stderr and exit status 2)."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import traceback
from typing import Any, Callable, Iterator

import click

from scanner.errors import InputError
from scanner.model import CollectorOutcome, Severity

EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3
# The status a shell reports for a process ended by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141
SEVERITY_NAMES = [severity.label for severity in Severity]


class Settings:
    """How much a command prints: --quiet, --verbose and --debug."""

    def __init__(self) -> None:
        self.quiet = False
        self.debug = False
        self.verbose = False


class LineFormatter(logging.Formatter):
    """Formats records as `shadowmap: warning: billing.focus: nov.csv: ...`; messages already
    start with the collector and scope."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"shadowmap: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(settings: Settings) -> None:
    """Send shadowmap's log records to stderr, one line each, at the level the options ask for."""
    level = logging.WARNING
    if settings.verbose:
        level = logging.INFO
    if settings.debug:
        level = logging.DEBUG
    if settings.quiet:
        level = logging.ERROR

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    logger = logging.getLogger("shadowmap")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --quiet, --verbose and --debug to a command and turn InputError into exit 2."""

    @click.option("--quiet", "-q", is_flag=True, help="Print only errors: no progress and no summary.")
    @click.option("--verbose", "-v", is_flag=True, help="Log one line per collector and scope.")
    @click.option("--debug", is_flag=True, help="Log everything and show tracebacks of errors.")
    @functools.wraps(command)
    def wrapper(*args: Any, quiet: bool, verbose: bool, debug: bool, **kwargs: Any) -> Any:
        settings = Settings()
        settings.quiet, settings.verbose, settings.debug = quiet, verbose, debug
        configure_logging(settings)
        try:
            return command(*args, settings=settings, **kwargs)
        except InputError as error:
            if debug:
                traceback.print_exc()
            click.echo(f"shadowmap: error: {error}", err=True)
            sys.exit(EXIT_INPUT_ERROR)

    return wrapper


class HeldWarnings(logging.Handler):
    """Holds warnings and errors during a run and passes lower levels straight through.

    `emit_held` prints the held records after the progress bars are gone. When no source at all
    was usable, the CLI prints the first problem as the error line and the other warnings
    before it, each once.
    """

    def __init__(self, target: logging.Handler):
        super().__init__()
        self.target = target
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # A record marked `live` (a retry in progress) is shown at once, so nobody waits in
        # silence while a collector backs off.
        if record.levelno >= logging.WARNING and not getattr(record, "live", False):
            self.records.append(record)
        else:
            self.target.handle(record)

    def emit_held(self, skip: str | None = None) -> None:
        """Print the held records, except those whose message contains `skip`."""
        for record in self.records:
            if skip is None or skip not in record.getMessage():
                self.target.handle(record)
        self.records.clear()


@contextlib.contextmanager
def held_warnings() -> Iterator[HeldWarnings]:
    logger = logging.getLogger("shadowmap")
    original = logger.handlers[:]
    held = HeldWarnings(original[0] if original else logging.lastResort)
    logger.handlers[:] = [held]
    try:
        yield held
    finally:
        logger.handlers[:] = original


def first_problem(outcomes: list[CollectorOutcome]) -> str:
    """Return the one line that explains the first problem of these outcomes, such as the first
    source of a run that no collector could use."""
    for outcome in outcomes:
        if outcome.errors:
            return outcome.errors[0]
        if outcome.scopes_not_seen:
            gap = outcome.scopes_not_seen[0]
            return f"{gap.scope}: {gap.reason}"
    for outcome in outcomes:
        if outcome.skipped_row_count:
            rows = "1 row" if outcome.skipped_row_count == 1 else f"{outcome.skipped_row_count} rows"
            example = outcome.skipped_rows[0] if outcome.skipped_rows else None
            first = f", first {example.location} row {example.row}: {example.reason}" if example else ""
            return f"{outcome.collector}: {rows} skipped{first}"
    return "no source was usable"
