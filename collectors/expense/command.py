"""`shadowmap expenses FILE...`: list the AI charges in card and expense exports.

Exit status: 0 when every file was read (bad rows inside a file are reported, not fatal). 2 when
the command is used wrongly, the config is invalid or a file cannot be read at all. The output
still covers the files that could be read, and each unreadable file gets one line on stderr.
"""

from __future__ import annotations

import glob
import logging
import sys
from pathlib import Path

import click

from scanner.cli_options import EXIT_INPUT_ERROR, Settings, common_options

LOGGER = logging.getLogger("shadowmap.collector.expense")


@click.command("expenses")
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for a person, json for the complete result, csv for one line per AI charge.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Audit config (YAML): its policy.sanctioned_vendors marks charges, its sources.expense settings say how to read the files.",
)
@common_options
def expenses(files: tuple[Path, ...], output_format: str, config_path: Path | None, settings: Settings) -> None:
    """Find the AI charges in card and expense exports (CSV or XLSX).

    Reads American Express, Brex, Ramp, Expensify and SAP Concur exports and generic card CSVs,
    recognised by their header row, and prints every charge from an AI vendor with its kind
    (seat, api_credit or unknown) and confidence.
    """
    _run(files, output_format, config_path)


def _run(files: tuple[Path, ...], output_format: str, config_path: Path | None) -> None:
    from collectors.expense.attribution import unknown_sanctioned_names, unknown_sanctioned_warning  # noqa: PLC0415
    from collectors.expense.catalogue import load_catalogue  # noqa: PLC0415
    from collectors.expense.output import reading_counts, render_csv, render_text, stream_json  # noqa: PLC0415
    from collectors.expense.review import review_exports  # noqa: PLC0415
    from collectors.expense.settings import parse_settings  # noqa: PLC0415
    from scanner.config import load_config  # noqa: PLC0415

    config = load_config(config_path) if config_path else None
    settings = parse_settings(config.sources.get("expense") if config else None)
    base_dir = config.base_dir if config else Path.cwd()
    sanctioned = config.policy.sanctioned_vendors if config and config.policy.sanctioned_vendors else None
    for name in unknown_sanctioned_names(sanctioned or ()):
        LOGGER.warning("expense: %s", unknown_sanctioned_warning(name))

    exports = [(path, settings.for_path(path, base_dir), str(path)) for path in expand_arguments(files)]
    review = review_exports(exports, load_catalogue(), settings.burst)
    for reading in review.files:
        if not reading.error:
            LOGGER.info("expense: %s: %s layout, %s", reading.location, reading.layout_title, reading_counts(reading))

    unreadable = review.unreadable
    if len(unreadable) < len(review.files):
        if output_format == "json":
            for piece in stream_json(review, sanctioned):
                click.echo(piece, nl=False)
        else:
            render = {"csv": render_csv, "text": render_text}[output_format]
            click.echo(render(review, sanctioned), nl=False)
    for reading in unreadable:
        click.echo(f"shadowmap: error: {reading.location}: {reading.error}", err=True)
    if unreadable:
        sys.exit(EXIT_INPUT_ERROR)


def expand_arguments(files: tuple[Path, ...]) -> list[Path]:
    """Expand the arguments that are glob patterns (quoted on the command line, or from a shell
    that does not expand them) into the files they match, sorted, each file once. A pattern that
    matches no file and a path that does not exist are kept, so that reading them reports them
    as not found."""
    paths: list[Path] = []
    seen: set[Path] = set()
    for path in files:
        matches: list[Path] = [path]
        if glob.has_magic(str(path)) and not path.exists():
            matches = [Path(found) for found in sorted(glob.glob(str(path), recursive=True)) if Path(found).is_file()] or [path]
        for match in matches:
            if match.resolve() in seen:
                LOGGER.warning("expense: %s: named more than once; read once", match)
                continue
            seen.add(match.resolve())
            paths.append(match)
    return paths
